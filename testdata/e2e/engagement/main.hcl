# Every passive provider reconform ships, pointed at local fake servers
# through endpoint variables (set by the end-to-end test with
# RECONFORM_VAR_<name>), with keys from the environment. Two extra
# instances always fail: one is refused (403), one is down (500).

engagement "e2e" {
  description  = "Every passive provider against local fakes"
  passive_only = true
  max_depth    = 1
  state        = "e2e.rfstate"
}

variable "securitytrails_endpoint" { type = string }
variable "virustotal_endpoint" { type = string }
variable "circl_endpoint" { type = string }
variable "robtex_endpoint" { type = string }
variable "hackertarget_endpoint" { type = string }
variable "dnsdumpster_endpoint" { type = string }
variable "dnsdb_endpoint" { type = string }
variable "crtsh_endpoint" { type = string }
variable "denied_endpoint" { type = string }
variable "down_endpoint" { type = string }

scope {
  domains = ["example.com", "example.org", "example.net"]
  cidrs   = ["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24", "2001:db8::/32"]
}

provider "securitytrails" {
  api_key  = env("SECURITYTRAILS_API_KEY")
  endpoint = var.securitytrails_endpoint
  rate     = "50/s"
}

provider "securitytrails" "denied" {
  api_key  = env("SECURITYTRAILS_DENIED_API_KEY")
  endpoint = var.denied_endpoint
  rate     = "50/s"
}

provider "virustotal" {
  api_key  = env("VIRUSTOTAL_API_KEY")
  endpoint = var.virustotal_endpoint
  rate     = "50/s"
}

provider "circl" {
  username = env("CIRCL_USERNAME")
  password = env("CIRCL_PASSWORD")
  endpoint = var.circl_endpoint
  rate     = "50/s"
}

provider "robtex" {
  api_key  = env("ROBTEX_API_KEY")
  endpoint = var.robtex_endpoint
  rate     = "50/s"
}

provider "hackertarget" {
  api_key  = env("HACKERTARGET_API_KEY")
  endpoint = var.hackertarget_endpoint
  rate     = "50/s"
}

provider "hackertarget" "down" {
  api_key  = env("HACKERTARGET_API_KEY")
  endpoint = var.down_endpoint
  rate     = "50/s"
}

provider "dnsdumpster" {
  api_key  = env("DNSDUMPSTER_API_KEY")
  endpoint = var.dnsdumpster_endpoint
  rate     = "50/s"
}

provider "dnsdb" {
  api_key  = env("DNSDB_API_KEY")
  endpoint = var.dnsdb_endpoint
  rate     = "50/s"
}

provider "crtsh" {
  endpoint = var.crtsh_endpoint
  rate     = "50/s"
}

target "domain" "apex" { name = "example.com" }
target "ip" "web" { address = "203.0.113.10" }
target "domain" "ns" { name = "ns1.example.net" }
target "domain" "mx" { name = "mx1.example.com" }

query "resolutions" {
  provider = [provider.securitytrails, provider.virustotal, provider.circl, provider.robtex, provider.hackertarget, provider.dnsdb]
  op       = "resolutions"
  subjects = [target.domain.apex]
}

query "subdomains" {
  provider = [provider.securitytrails, provider.virustotal, provider.hackertarget, provider.dnsdumpster, provider.dnsdb, provider.crtsh]
  op       = "subdomains"
  subjects = [target.domain.apex]
}

query "reverse_ip" {
  provider = [provider.securitytrails, provider.virustotal, provider.circl, provider.robtex, provider.hackertarget, provider.dnsdb]
  op       = "reverse_ip"
  subjects = [target.ip.web]
}

query "ns_reverse" {
  provider = [provider.securitytrails, provider.robtex, provider.hackertarget, provider.dnsdb]
  op       = "ns_reverse"
  subjects = [target.domain.ns]
}

query "mx_reverse" {
  provider = [provider.securitytrails, provider.dnsdb]
  op       = "mx_reverse"
  subjects = [target.domain.mx]
}

query "failing" {
  provider = [provider.securitytrails.denied, provider.hackertarget.down]
  op       = "subdomains"
  subjects = [target.domain.apex]
}
