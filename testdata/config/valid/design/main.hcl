engagement "acme" {
  description  = "ACME external footprint, quarterly"
  passive_only = true            # default; false allows active providers (dns)
  max_depth    = 3               # pivot depth bound for the whole engagement
  state        = "acme.rfstate"  # default: reconform.rfstate beside the config
}

variable "apex" {
  type    = string
  default = "acme.example"
}

scope {
  domains = [var.apex, "acme-corp.example"]   # a domain covers its subdomains
  cidrs   = ["203.0.113.0/24"]
  exclude = ["cdn.acme.example"]
}

provider "securitytrails" {
  api_key = env("SECURITYTRAILS_API_KEY")   # sensitive: never in state, plan, cache key or log
  rate    = "1/s"                           # or "4/min"; default per provider
  budget  = 200                             # at most this many requests per run
  # endpoint = "http://127.0.0.1:8080"      # override, for mirrors and tests
}

provider "file" "sonar" {                   # a second label names another instance
  path   = "data/fdns-sample.json.gz"       # COF NDJSON, Rapid7 FDNS NDJSON(.gz), CSV
}

target "domain" "apex" { name = var.apex }
target "ip" "mx" { address = "203.0.113.10" }

query "history" {
  provider = [provider.securitytrails, provider.file.sonar]
  op       = "resolutions"
  subjects = [target.domain.apex]
  rrtypes  = ["A", "AAAA", "MX", "NS", "TXT"]
}

query "neighbours" {                        # known after apply: depends on query.history
  provider = provider.securitytrails
  op       = "reverse_ip"
  subjects = distinct([for f in query.history.findings : f.value if f.type == "A"])
}

pivot "expand" {                            # recursive rule, to a fixpoint or max_depth
  from      = [query.history, query.neighbours]
  when      = finding.type == "A" && in_scope(finding.value)
  provider  = provider.file.sonar
  op        = "reverse_ip"
  subject   = finding.value
  max_depth = 2
}
