engagement "watch" {}

variable "expected_cidrs" {
  type    = list(string)
  default = ["203.0.113.0/24", "2001:db8::/32"]
}

provider "crtsh" {}

query "names" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = ["acme.example"]
}

check "dmarc_enforced" {
  description = "DMARC on the apex is quarantine or reject"
  assert {
    condition     = !anytrue([for f in facts : f.value == "none" if f.kind == "dmarc_policy"])
    error_message = "DMARC is not enforced on ${join(", ", [for f in facts : f.subject if f.kind == "dmarc_policy" && f.value == "none"])}"
  }
}

check "hosts_in_expected_ranges" {
  severity = "warning"
  assert {
    condition = length([for f in drift.added : f if contains(["A", "AAAA"], f.type) && !anytrue([for c in var.expected_cidrs : cidrcontains(c, f.value)])]) == 0
    error_message = "New hosts outside the expected ranges: ${join(", ", [for f in drift.added : "${f.name} (${f.value})" if contains(["A", "AAAA"], f.type) && !anytrue([for c in var.expected_cidrs : cidrcontains(c, f.value)])])}"
  }
  assert {
    condition     = length(findings) > 0
    error_message = "The state has no findings."
  }
}

notify "slack" "secops" {
  webhook_url = env("SLACK_WEBHOOK_URL")
  on          = ["drift", "check_failed"]
  names       = ["*.acme.example"]
  types       = ["A", "MX"]
  max_items   = 5
}

notify "teams" "soc" {
  webhook_url = env("TEAMS_WEBHOOK_URL")
  report_url  = "https://ci.example/acme/{serial}"
}

notify "webhook" "siem" {
  url     = "http://127.0.0.1:9000/hook"
  secret  = env("WEBHOOK_SECRET")
  headers = { Authorization = env("SIEM_TOKEN") }
  changes = ["added", "facts_changed"]
}

notify "email" "team" {
  host     = "smtp.example"
  username = "reconform"
  password = env("SMTP_PASSWORD")
  from     = "Recon <reconform@acme.example>"
  to       = ["secops@acme.example"]
  checks   = ["dmarc_enforced"]
  severity = "error"
}
