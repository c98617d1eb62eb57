engagement "acme" {
  max_depth = 3
}

variable "apex" {
  type    = string
  default = "acme.example"
}

scope {
  domains = [var.apex]
  cidrs   = ["203.0.113.0/24"]
  exclude = ["cdn.acme.example"]
}

provider "pdns" {
  rate   = "100/s"
  budget = 50
}

provider "pdns" "mirror" {
  endpoint = "http://mirror.invalid"
}

target "domain" "apex" {
  name = var.apex
}

query "history" {
  provider = [provider.pdns, provider.pdns.mirror]
  op       = "resolutions"
  subjects = [target.domain.apex, "a.${var.apex}"]
}

query "neighbours" {
  provider = provider.pdns
  op       = "reverse_ip"
  subjects = distinct([for f in query.history.findings : f.value if f.type == "A"])
}

pivot "follow" {
  from     = [query.history, pivot.follow]
  when     = finding.type == "CNAME"
  provider = provider.pdns
  op       = "resolutions"
  subject  = finding.value
}
