# Live DNS verification of a passive history, against an in-process
# authoritative server for testdata/dns/zone.db (the end-to-end test sets
# RECONFORM_VAR_resolver). Out-of-scope names appear on purpose: in the
# history (partner.other.example, excluded.acme.example), as literal
# subjects (outside.example, nowhere.example) and behind a CNAME the pivot
# follows (shop.saas.example). None of them may ever reach the server.

engagement "acme-live" {
  description  = "Which historical records still resolve?"
  passive_only = false
  max_depth    = 2
  state        = "acme.rfstate"
}

variable "resolver" {
  type = string
}

scope {
  domains = ["acme.example"]
  exclude = ["excluded.acme.example"]
}

provider "file" "history" {
  path  = "history.csv"
  as_of = "2023-06-01"
}

provider "dns" {
  resolvers = [var.resolver]
  timeout   = "2s"
  rate      = "200/s"
}

# Seeds: known at plan time, so the plan lists the active instance and
# the out-of-scope subject it refuses.
query "apex" {
  provider = provider.dns
  op       = "resolve"
  subjects = ["acme.example", "outside.example"]
  rrtypes  = ["NS", "SOA", "CAA"]
}

query "history" {
  provider = provider.file.history
  op       = "resolutions"
  subjects = ["acme.example", "www.acme.example", "old.acme.example", "dangling.acme.example", "external.acme.example", "excluded.acme.example", "partner.other.example"]
}

query "verify" {
  provider = provider.dns
  op       = "resolve"
  subjects = concat(["nowhere.example"], distinct([for f in query.history.findings : f.name]))
  rrtypes  = ["A", "AAAA", "CNAME", "MX", "TXT"]
}

pivot "cname_targets" {
  from     = [query.verify]
  when     = finding.type == "CNAME"
  provider = provider.dns
  op       = "resolve"
  subject  = finding.value
  rrtypes  = ["A"]
}
