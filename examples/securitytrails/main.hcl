# SecurityTrails: history, subdomains and reverse searches for Fabrikam
# (a fictional company). Needs a key:
#
#   export SECURITYTRAILS_API_KEY=...
#   reconform plan examples/securitytrails     # shows the request count against the budget
#   reconform apply examples/securitytrails
#
# The free tier allows about 50 requests a month: keep the budget below
# what is left of your quota, and check the plan before applying.

engagement "fabrikam" {
  description    = "Fabrikam external footprint from SecurityTrails history"
  passive_only   = true
  max_depth      = 2
  state          = "fabrikam.rfstate"
  current_window = "30d"
}

variable "apex" {
  type    = string
  default = "fabrikam.example"
}

scope {
  domains = [var.apex, "fabrikam-cdn.example"]
  cidrs   = ["203.0.113.0/25"]
  exclude = ["status.fabrikam.example"] # hosted by a vendor; not ours to map
}

provider "securitytrails" {
  api_key   = env("SECURITYTRAILS_API_KEY") # sensitive: never in state, plans, caches or logs
  rate      = "1/s"                         # the API allows a few per second
  budget    = 40                            # requests per run, pages included
  timeout   = "30s"
  max_pages = 5     # history pages per record type
  cache_ttl = "24h" # a re-run within a day costs no quota
}

target "domain" "apex" { name = var.apex }

query "history" {
  provider = provider.securitytrails
  op       = "resolutions"
  subjects = [target.domain.apex]
  rrtypes  = ["A", "AAAA", "MX", "NS", "TXT"]
}

query "hosts" {
  provider = provider.securitytrails
  op       = "subdomains"
  subjects = [target.domain.apex]
}

# Domains sharing Fabrikam's own name servers (third-party NS hosts are out
# of scope and dropped at plan time).
query "ns_siblings" {
  provider = provider.securitytrails
  op       = "ns_reverse"
  subjects = distinct([for f in query.history.findings : f.value if f.type == "NS"])
}

# Domains using Fabrikam's own mail exchangers.
query "mx_siblings" {
  provider = provider.securitytrails
  op       = "mx_reverse"
  subjects = distinct([for f in query.history.findings : element(split(" ", f.value), 1) if f.type == "MX"])
}

# Who else is on Fabrikam's addresses, current and historical.
pivot "neighbours" {
  from     = [query.history]
  when     = finding.type == "A" && in_scope(finding.value)
  provider = provider.securitytrails
  op       = "reverse_ip"
  subject  = finding.value
}
