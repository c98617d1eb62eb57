# Takeover detection from passive DNS, offline: which of Contoso's names
# point at a hosted resource that is gone, so that anyone could claim it?
# Nothing here needs a key or the network.
#
#   reconform apply -auto-approve examples/takeover
#   reconform report examples/takeover        # "Takeover risks" leads the report
#
# The README shows how to add what needs the network: RDAP for expired
# name-server and mail domains, live DNS and an HTTP probe to confirm.

engagement "contoso-takeover" {
  description  = "Dangling CNAMEs in Contoso's passive DNS (fictional, offline data)"
  passive_only = true
}

scope {
  domains = ["contoso.example"]
}

provider "file" "pdns" {
  path  = "data/pdns.ndjson"
  as_of = "2025-11-01"
}

# RDAP asks registries whether the name servers' and mail hosts' domains
# are still registered. The fictional .example domains have no registry,
# so offline this only warns; on real data it finds dangling_ns/mx.
provider "rdap" {}

query "hosts" {
  provider = provider.file.pdns
  op       = "subdomains"
  subjects = ["contoso.example"]
}

query "records" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = distinct(concat(["contoso.example"], [for f in query.hosts.findings : f.name]))
}

# Follow our CNAMEs to the targets' own records: a target with a current
# address is alive; one without is a takeover candidate.
pivot "targets" {
  from      = [query.records, pivot.targets]
  when      = finding.type == "CNAME"
  provider  = provider.file.pdns
  op        = "resolutions"
  subject   = finding.value
  max_depth = 3
}

query "registration" {
  provider = provider.rdap
  op       = "registration"
  subjects = distinct([for f in query.records.findings : registered_domain(f.value) if contains(["NS", "MX"], f.type)])
}
