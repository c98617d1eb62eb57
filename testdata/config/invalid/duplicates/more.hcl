variable "apex" { # ERROR: Duplicate variable
  default = "acme.example"
}

target "domain" "apex" { # ERROR: Duplicate target
  name = "acme.example"
}

provider "crtsh" {} # ERROR: Duplicate provider configuration

query "names" { # ERROR: Duplicate query block
  provider = provider.crtsh
  op       = "subdomains"
  subjects = ["acme.example"]
}

locals {
  a = 1
}

locals {
  a = 2 # ERROR: Duplicate local value
}
