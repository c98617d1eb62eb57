# One mistake, one error: what refers to a broken block is not reported again.
engagement "acme" {}

variable "apex" { # ERROR: No value for required variable
  type = string
}

target "domain" "bad" {
  name = "bad..example" # ERROR: Invalid domain name
}

target "domain" "apex" {
  name = var.apex
}

provider "crtsh" {}

scope {
  domains = [var.apex, target.domain.bad]
}

query "names" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = [target.domain.bad, target.domain.apex, format("www.%s", var.apex)]
}
