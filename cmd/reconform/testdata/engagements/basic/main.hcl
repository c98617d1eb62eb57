engagement "acme" {
  description = "plan and graph fixture"
  max_depth   = 2
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

provider "file" "sonar" {
  path = "data/pdns.ndjson"
}

provider "securitytrails" {
  api_key = env("SECURITYTRAILS_API_KEY", "not-a-real-key")
  rate    = "10/min"
  budget  = 3
}

target "domain" "apex" {
  name = var.apex
}

query "history" {
  provider = [provider.file.sonar, provider.securitytrails]
  op       = "resolutions"
  subjects = [target.domain.apex, "www.${var.apex}", "partner.example"]
  rrtypes  = ["A", "MX"]
}

query "again" {
  provider = provider.file.sonar
  op       = "resolutions"
  subjects = [target.domain.apex]
  rrtypes  = ["MX", "A"]
}

query "neighbours" {
  provider = provider.file.sonar
  op       = "reverse_ip"
  subjects = distinct([for f in query.history.findings : f.value if f.type == "A"])
}

pivot "expand" {
  from     = [query.history, pivot.expand]
  when     = finding.type == "A"
  provider = provider.file.sonar
  op       = "reverse_ip"
  subject  = finding.value
}
