engagement "slow" {}

variable "endpoint" {
  type = string
}

scope {
  domains = ["acme.example"]
}

provider "hackertarget" {
  endpoint = var.endpoint
  rate     = "100/s"
}

query "hosts" {
  provider = provider.hackertarget
  op       = "subdomains"
  subjects = ["acme.example", "b.acme.example", "c.acme.example"]
}
