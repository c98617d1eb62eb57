engagement "acme" {
  description = "no max_depth here"
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

pivot "expand" { # ERROR: Unbounded pivot
  from     = [query.seed]
  provider = provider.file.sonar
  op       = "reverse_ip"
  subject  = finding.value
}
