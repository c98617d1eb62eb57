# Takeover and dangling-record detection, end to end (cmd/reconform's
# takeover test sets the variables): a passive history, RDAP for the
# registration of the name servers' and mail hosts' domains, and, since
# this engagement allows active recon, live DNS and an HTTP probe to
# confirm what the history suggests. The test serves the registry, the
# DNS (testdata/takeover/world.db) and the web on 127.0.0.1.

engagement "acme-takeover" {
  description  = "Which names can be taken over?"
  passive_only = false
  max_depth    = 2
  state        = "acme.rfstate"
}

variable "resolver" { type = string }
variable "web" { type = string }
variable "rdap" { type = string }

scope {
  domains = ["acme.example"]
}

provider "file" "history" {
  path  = "history.ndjson"
  as_of = "2025-11-01"
}

provider "rdap" {
  endpoint = var.rdap
}

provider "dns" {
  resolvers = [var.resolver]
  timeout   = "2s"
  rate      = "200/s"
}

provider "httpprobe" {
  endpoint = var.web
  timeout  = "2s"
  rate     = "200/s"
}

query "history" {
  provider = provider.file.history
  op       = "resolutions"
  subjects = ["acme.example", "www.acme.example", "old.acme.example", "app.acme.example", "pages.acme.example", "docs.acme.example", "help.acme.example", "static.acme.example", "promo.acme.example"]
}

# Reading a partner's records is passive; nothing follows from them.
query "partner_records" {
  provider = provider.file.history
  op       = "resolutions"
  subjects = ["shop.partner.example"]
}

# Where our CNAMEs lead: the targets' own records, passively. A
# resolutions query may follow our names' CNAMEs out of the scope, so that
# a target with addresses is known to be alive.
pivot "targets" {
  from      = [query.history, pivot.targets]
  when      = finding.type == "CNAME"
  provider  = provider.file.history
  op        = "resolutions"
  subject   = finding.value
  max_depth = 3
}

# Who registered the domains of the name servers and mail hosts? A registry
# op: these domains are not the target's, and need not be in scope.
query "registration" {
  provider = provider.rdap
  op       = "registration"
  subjects = distinct([for f in query.history.findings : registered_domain(f.value) if contains(["NS", "MX"], f.type)])
}

# Confirm live: does the CNAME chain end in NXDOMAIN, does the page say
# "unclaimed"? Out-of-scope names (shop.partner.example) are refused.
query "live" {
  provider = provider.dns
  op       = "resolve"
  subjects = distinct([for f in query.history.findings : f.name if f.type == "CNAME"])
  rrtypes  = ["A", "CNAME"]
}

query "probe" {
  provider = provider.httpprobe
  op       = "fingerprint"
  subjects = distinct([for f in query.history.findings : f.name if f.type == "CNAME"])
}

# A seed the plan can show refused before anything runs.
query "partner" {
  provider = provider.httpprobe
  op       = "fingerprint"
  subjects = ["shop.partner.example"]
}
