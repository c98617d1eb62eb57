engagement "acme" {
  max_depth = 2
}

scope {
  domains = ["acme.example"]
  cidrs   = ["203.0.113.0/24"]
}

provider "file" "sonar" {
  path = "data/pdns.ndjson"
}

query "history" {
  provider = provider.file.sonar
  op       = "resolutions"
  subjects = ["acme.example"]
}

pivot "expand" {
  from     = [query.history, pivot.expand]
  when     = finding.type == "A"
  provider = provider.file.sonar
  op       = "reverse_ip"
  subject  = finding.value
}
