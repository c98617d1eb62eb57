engagement "acme-live" {
  description  = "Live DNS check of the in-scope names (active recon, authorised)"
  passive_only = false
  max_depth    = 1
}

variable "names" {
  type = list(string)
  default = [
    "acme.example",
    "www.acme.example",
    "mail.acme.example",
  ]
}

scope {
  domains = ["acme.example"]
}

provider "dns" {
  resolvers = ["127.0.0.1:5353", "[::1]:5353"]
  retries   = 3
  rate      = "20/s"
}

provider "crtsh" {}

query "names" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = ["acme.example"]
}

query "live" {
  provider = provider.dns
  op       = "resolve"
  subjects = concat(var.names, [for f in query.names.findings : f.name if in_scope(f.name)])
  rrtypes  = ["A", "AAAA", "CNAME", "MX", "TXT", "CAA"]
}
