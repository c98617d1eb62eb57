engagement "acme" {
  max_depth = 2
}

scope {
  domains = ["acme.example"]
}

provider "file" "sonar" {
  path = "data/fdns.json.gz"
}

query "seed" {
  provider = provider.file.sonar
  op       = "resolutions"
  subjects = ["acme.example"]
}

pivot "expand" {
  from     = [query.seed]
  when     = finding.typ == "A" # ERROR: Unsupported attribute
  provider = provider.file.sonar
  op       = "reverse_ip"
  subject  = finding.value
}

pivot "count" {
  from     = [query.seed]
  when     = finding.sources # ERROR: Invalid pivot condition
  provider = provider.file.sonar
  op       = "reverse_ip"
  subject  = lowercase(finding.value) # ERROR: Call to unknown function
}
