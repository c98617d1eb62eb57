engagement "acme" {
  max_depth = 2
}

variable "apex" {
  default = "acme.example"
}

target "domain" "apex" {
  name = var.apex
}

provider "crtsh" {}

query "names" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = [target.domain.apex]
}
