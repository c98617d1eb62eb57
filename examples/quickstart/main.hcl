# Quickstart: the external DNS footprint of Northwind Traders, a fictional
# company, from two monthly snapshots of offline passive DNS data. Nothing
# here needs an API key or the network.
#
#   reconform apply -auto-approve examples/quickstart                 # March: builds the state
#   reconform apply -auto-approve -var snapshot=2 examples/quickstart # April: prints the drift

engagement "northwind" {
  description  = "Northwind Traders external footprint (fictional, offline data)"
  passive_only = true
  max_depth    = 2
}

variable "snapshot" {
  description = "Which monthly data snapshot to read: 1 (March 2025) or 2 (April 2025)."
  type        = number
  default     = 1
}

scope {
  domains = ["northwind.example", "northwind-corp.example"]
  cidrs   = ["203.0.113.0/24"] # Northwind's own address range
}

# The SOC's passive DNS history, in Passive DNS Common Output Format.
provider "file" "pdns" {
  path           = "data/pdns-${var.snapshot}.ndjson"
  current_window = "7d" # seen in the snapshot's last week: current
}

# A Rapid7 Sonar style forward DNS scan taken the same day (gzip NDJSON).
provider "file" "sonar" {
  path           = "data/sonar-fdns-${var.snapshot}.json.gz"
  current_window = "7d"
}

target "domain" "main" { name = "northwind.example" }
target "domain" "corp" { name = "northwind-corp.example" }

# shop.northwind.example sits on a shared web host. Seeds run even when out
# of scope, so we can list the neighbours; pivots never start from them.
target "ip" "shop_host" { address = "198.51.100.25" }

# Every record of the apex domains: A history, MX, NS, SPF, DMARC, tokens.
query "apex" {
  provider = [provider.file.pdns, provider.file.sonar]
  op       = "resolutions"
  subjects = [target.domain.main, target.domain.corp]
}

query "hosts" {
  provider = [provider.file.pdns, provider.file.sonar]
  op       = "subdomains"
  subjects = [target.domain.main, target.domain.corp]
}

query "host_records" {
  provider = [provider.file.pdns, provider.file.sonar]
  op       = "resolutions"
  subjects = [for f in query.hosts.findings : f.name]
}

# Name-server correlation: other domains served by Northwind's name servers.
query "ns_siblings" {
  provider = provider.file.pdns
  op       = "ns_reverse"
  subjects = distinct([for f in query.apex.findings : f.value if f.type == "NS"])
}

# Mail correlation: other domains whose MX is one of Northwind's hosts.
# Third-party MX hosts (Google, Microsoft) are out of scope and dropped.
query "mx_siblings" {
  provider = provider.file.pdns
  op       = "mx_reverse"
  subjects = distinct([for f in query.apex.findings : element(split(" ", f.value), 1) if f.type == "MX"])
}

query "shared_hosting" {
  provider = provider.file.sonar
  op       = "reverse_ip"
  subjects = [target.ip.shop_host]
}

# Reverse-IP on every in-scope address found: what else runs there?
pivot "neighbours" {
  from     = [query.apex, query.host_records]
  when     = contains(["A", "AAAA"], finding.type) && in_scope(finding.value)
  provider = provider.file.sonar
  op       = "reverse_ip"
  subject  = finding.value
}

# Resolve the in-scope names the pivots and correlations turn up.
pivot "expand" {
  from     = [pivot.neighbours, query.shared_hosting, query.ns_siblings, query.mx_siblings]
  when     = in_scope(finding.name)
  provider = provider.file.pdns
  op       = "resolutions"
  subject  = finding.name
}
