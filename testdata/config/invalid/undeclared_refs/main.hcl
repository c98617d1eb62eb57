engagement "acme" {
  max_depth = 2
}

variable "apex" {
  default = "acme.example"
}

locals {
  names = [var.apx] # ERROR: Reference to undeclared input variable
}

target "domain" "apex" {
  name = local.apex # ERROR: Reference to undeclared local value
}

provider "file" "sonar" {
  path = "data/fdns.json.gz"
}

query "history" {
  provider = provider.file.sonnar # ERROR: Reference to undeclared provider
  op       = "resolutions"
  subjects = [target.domain.apx] # ERROR: Reference to undeclared target
}

query "neighbours" {
  provider = provider.file.sonar
  op       = "reverse_ip"
  subjects = query.histroy.findings[*].value # ERROR: Reference to undeclared query block
}

pivot "expand" {
  from     = [query.neighbours, pivot.grow] # ERROR: Reference to undeclared pivot block
  provider = provider.file.sonar
  op       = "reverse_ip"
  subject  = finding.value
}

query "weird" {
  provider = provider.file.sonar
  op       = "resolutions"
  subjects = [data.apex] # ERROR: Unknown reference
}

query "default_instance" {
  provider = provider.file # ERROR: Reference to undeclared provider
  op       = "resolutions"
  subjects = ["acme.example"]
}
