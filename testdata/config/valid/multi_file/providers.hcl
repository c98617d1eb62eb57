provider "securitytrails" {
  api_key   = env("SECURITYTRAILS_API_KEY")
  rate      = "1/s"
  budget    = var.budgets.securitytrails
  timeout   = "45s"
  cache_ttl = "7d"
}

provider "virustotal" {
  api_key = env("VT_API_KEY")
  rate    = "4/min"
  budget  = var.budgets.virustotal
}

provider "circl" {
  username = "acme-team"
  password = env("CIRCL_PASSWORD")
}

provider "robtex" {
  rate   = var.limits.rate
  budget = var.limits.budget
}

provider "hackertarget" {
  rate = "2/min"
}

provider "dnsdumpster" {
  api_key = env("DNSDUMPSTER_API_KEY")
}

provider "dnsdb" {
  api_key            = var.dnsdb_key
  max_response_bytes = 33554432
}

provider "crtsh" {
  cache_ttl = "0s"
}

provider "file" "sonar" {
  path   = "data/fdns-sample.json.gz"
  format = "fdns"
}

provider "file" "cof" {
  path     = "data/export.ndjson"
  endpoint = "file:///not-used"
}
