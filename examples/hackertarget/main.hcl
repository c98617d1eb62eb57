# HackerTarget for Litware (a fictional company): host search, current DNS,
# reverse IP and shared name servers. The free tier needs no key and allows
# 50 requests a day; a membership key (HACKERTARGET_API_KEY) raises that.
#
#   reconform apply examples/hackertarget

engagement "litware" {
  description  = "Litware hosts and neighbours from HackerTarget"
  passive_only = true
  max_depth    = 1
}

variable "daily_budget" {
  description = "Requests this run may spend (free tier: 50 a day)."
  type        = number
  default     = 25
}

scope {
  domains = ["litware.example"]
  cidrs   = ["198.51.100.128/25"]
}

provider "hackertarget" {
  api_key = env("HACKERTARGET_API_KEY", "")
  rate    = "1/s"
  budget  = var.daily_budget
  timeout = "20s"
}

target "domain" "apex" { name = "litware.example" }

query "hosts" {
  provider = provider.hackertarget
  op       = "subdomains"
  subjects = [target.domain.apex]
}

query "records" {
  provider = provider.hackertarget
  op       = "resolutions"
  subjects = [target.domain.apex]
  rrtypes  = ["A", "MX", "NS", "TXT"]
}

query "ns_siblings" {
  provider = provider.hackertarget
  op       = "ns_reverse"
  subjects = distinct([for f in query.records.findings : f.value if f.type == "NS"])
}

pivot "neighbours" {
  from     = [query.hosts, query.records]
  when     = finding.type == "A" && in_scope(finding.value)
  provider = provider.hackertarget
  op       = "reverse_ip"
  subject  = finding.value
}
