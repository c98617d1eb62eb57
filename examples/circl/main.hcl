# CIRCL Passive DNS for Woodgrove Bank (a fictional company). Access is
# granted by CIRCL to vetted organisations (HTTP Basic credentials):
#
#   export CIRCL_USERNAME=... CIRCL_PASSWORD=...
#   reconform apply examples/circl
#
# CIRCL answers names and single IPs (not CIDR blocks); reverse-IP pivots
# below stay on Woodgrove's own addresses.

engagement "woodgrove" {
  description  = "Woodgrove Bank history from CIRCL Passive DNS"
  passive_only = true
  max_depth    = 3
}

scope {
  domains = ["woodgrove.example", "woodgrovebank.example"]
  cidrs   = ["192.0.2.0/24"]
}

provider "circl" {
  username  = env("CIRCL_USERNAME")
  password  = env("CIRCL_PASSWORD") # sensitive
  rate      = "1/s"
  budget    = 100
  timeout   = "60s"
  page_size = 100 # records per page (dribble paging)
  max_pages = 10
}

target "domain" "bank" { name = "woodgrove.example" }
target "domain" "brand" { name = "woodgrovebank.example" }
target "domain" "www" { name = "www.woodgrove.example" }

query "history" {
  provider = provider.circl
  op       = "resolutions"
  subjects = [target.domain.bank, target.domain.brand, target.domain.www]
}

# Every in-scope address ever seen: what else pointed there? Then the
# in-scope names found there, and so on to max_depth.
pivot "reverse" {
  from     = [query.history, pivot.forward]
  when     = contains(["A", "AAAA"], finding.type) && in_scope(finding.value)
  provider = provider.circl
  op       = "reverse_ip"
  subject  = finding.value
}

pivot "forward" {
  from     = [pivot.reverse]
  when     = in_scope(finding.name)
  provider = provider.circl
  op       = "resolutions"
  subject  = finding.name
}
