# Robtex passive DNS for A. Datum Corporation (a fictional company). The
# free API needs no key; set ROBTEX_API_KEY to use the Pro API instead.
#
#   reconform apply examples/robtex
#
# The free API rate-limits hard: keep the rate low and the budget small.

engagement "adatum" {
  description  = "A. Datum forward and reverse passive DNS from Robtex"
  passive_only = true
  max_depth    = 2
}

scope {
  domains = ["adatum.example"]
  cidrs   = ["203.0.113.128/25"]
}

provider "robtex" {
  api_key = env("ROBTEX_API_KEY", "") # empty: the free API
  rate    = "8/min"
  budget  = 40
  timeout = "30s"
}

target "domain" "apex" { name = "adatum.example" }
target "domain" "www" { name = "www.adatum.example" }

query "forward" {
  provider = provider.robtex
  op       = "resolutions"
  subjects = [target.domain.apex, target.domain.www]
}

# Domains served by A. Datum's own name servers.
query "ns_siblings" {
  provider = provider.robtex
  op       = "ns_reverse"
  subjects = distinct([for f in query.forward.findings : f.value if f.type == "NS"])
}

pivot "reverse" {
  from     = [query.forward]
  when     = finding.type == "A" && in_scope(finding.value)
  provider = provider.robtex
  op       = "reverse_ip"
  subject  = finding.value
}
