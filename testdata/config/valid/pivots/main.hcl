engagement "pivots" {
  max_depth = 3
}

scope {
  domains = ["acme.example"]
  cidrs   = ["192.0.2.0/24"]
}

provider "file" "sonar" {
  path = "data/fdns.json.gz"
}

provider "hackertarget" "paid" {
  api_key = env("HACKERTARGET_API_KEY", "")
  budget  = 20
}

target "domain" "apex" {
  name = "acme.example."
}

query "seed" {
  description = "Where the apex points, per the Sonar FDNS sample"
  provider    = provider.file.sonar
  op          = "resolutions"
  subjects    = [target.domain.apex]
}

pivot "ips_to_names" {
  from     = [query.seed, pivot.names_to_ips]
  when     = contains(["A", "AAAA"], finding.type) && in_scope(finding.value)
  provider = [provider.file.sonar, provider.hackertarget.paid]
  op       = "reverse_ip"
  subject  = finding.value
  params   = { limit = "100" }
}

pivot "names_to_ips" {
  from     = [pivot.ips_to_names]
  when     = finding.type == "HOST" || endswith(finding.name, ".acme.example")
  provider = provider.file.sonar
  op       = "resolutions"
  subject  = finding.name
  rrtypes  = ["A"]
}

pivot "dig_ns" {
  description = "Other domains served by the same name servers"
  from        = [query.seed]
  when        = finding.type == "NS"
  provider    = provider.hackertarget.paid
  op          = "ns_reverse"
  subject     = trimsuffix(finding.value, ".")
  max_depth   = 1
}

query "after_pivot" {
  provider = provider.file.sonar
  op       = "subdomains"
  subjects = distinct([for f in pivot.ips_to_names.findings : f.name])
}
