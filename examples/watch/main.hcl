# Watch: the quickstart's Northwind Traders, run as a nightly job would,
# with checks a security team cares about and a webhook that is told
# what changed, once. Offline: the data is the quickstart's two monthly
# snapshots, the receiver a small program on this machine (receiver/).
#
#   go run ./examples/watch/receiver &                                  # prints what it receives
#   reconform apply -auto-approve examples/watch                        # baseline: one summary message
#   reconform apply -auto-approve -var snapshot=2 examples/watch        # the changes; a check fails: exit 3

engagement "northwind-watch" {
  description  = "Northwind Traders, watched nightly (fictional, offline data)"
  passive_only = true
  max_depth    = 2
}

variable "snapshot" {
  description = "Which monthly data snapshot to read: 1 (March 2025) or 2 (April 2025)."
  type        = number
  default     = 1
}

variable "expected_cidrs" {
  description = "Where Northwind's hosts may live: a new host elsewhere fails a check."
  type        = list(string)
  default     = ["203.0.113.0/24", "2001:db8:4e57::/48"]
}

variable "approved_mail" {
  description = "The mail provider Northwind has approved."
  type        = string
  default     = "google-workspace"
}

scope {
  domains = ["northwind.example", "northwind-corp.example"]
  cidrs   = ["203.0.113.0/24"]
}

provider "file" "pdns" {
  path           = "../quickstart/data/pdns-${var.snapshot}.ndjson"
  current_window = "7d"
}

provider "file" "sonar" {
  path           = "../quickstart/data/sonar-fdns-${var.snapshot}.json.gz"
  current_window = "7d"
}

target "domain" "main" { name = "northwind.example" }
target "domain" "corp" { name = "northwind-corp.example" }

query "apex" {
  provider = [provider.file.pdns, provider.file.sonar]
  op       = "resolutions"
  subjects = [target.domain.main, target.domain.corp]
}

query "hosts" {
  provider = [provider.file.pdns, provider.file.sonar]
  op       = "subdomains"
  subjects = [target.domain.main, target.domain.corp]
}

query "host_records" {
  provider = [provider.file.pdns, provider.file.sonar]
  op       = "resolutions"
  subjects = [for f in query.hosts.findings : f.name]
}

# DMARC must not be "none" on any domain: a spoofed mail would be
# delivered. An error check: apply and check exit 3 when it fails.
check "dmarc_enforced" {
  description = "DMARC is quarantine or reject on every domain"
  assert {
    condition     = alltrue([for f in facts : f.value != "none" if f.kind == "dmarc_policy"])
    error_message = "DMARC policy is none on: ${join(", ", sort([for f in facts : f.subject if f.kind == "dmarc_policy" && f.value == "none"]))}"
  }
}

# A live host that appeared this run outside the expected ranges: shadow
# IT, or a hijacked record. (On the first run everything is new: the
# baseline is not judged.)
check "no_new_host_outside_cidrs" {
  description = "New A/AAAA records stay inside the expected ranges"
  assert {
    condition     = drift.first_run || length([for f in drift.added : f if f.current && contains(["A", "AAAA"], f.type) && !anytrue([for c in var.expected_cidrs : cidrcontains(c, f.value)])]) == 0
    error_message = "New hosts outside ${join(", ", var.expected_cidrs)}: ${join(", ", [for f in drift.added : "${f.name} (${f.value})" if f.current && contains(["A", "AAAA"], f.type) && !anytrue([for c in var.expected_cidrs : cidrcontains(c, f.value)])])}"
  }
}

# Mail must stay with the approved provider. A warning: reported and
# sent, the exit code stays.
check "mx_on_approved_provider" {
  description = "northwind.example's mail is on the approved provider"
  severity    = "warning"
  assert {
    condition     = alltrue([for f in facts : f.value == var.approved_mail if f.kind == "mail_provider" && f.subject == "northwind.example"])
    error_message = "Mail of northwind.example is on ${join(", ", [for f in facts : f.value if f.kind == "mail_provider" && f.subject == "northwind.example"])}, not ${var.approved_mail}"
  }
}

# A CNAME to a deprovisioned service resource can be claimed by anyone.
check "no_takeover_candidates" {
  description = "No subdomain takeover candidates"
  assert {
    condition     = length([for f in facts : f if f.kind == "takeover_candidate"]) == 0
    error_message = "Takeover candidates: ${join(", ", [for f in facts : "${f.subject} (${f.value})" if f.kind == "takeover_candidate"])}"
  }
}

# The receiver in receiver/ (go run ./examples/watch/receiver). Set
# WATCH_WEBHOOK_SECRET to the same value for both and every delivery is
# signed (X-Hub-Signature-256) and checked.
notify "webhook" "local" {
  url     = env("WATCH_WEBHOOK_URL", "http://127.0.0.1:8765/reconform")
  secret  = env("WATCH_WEBHOOK_SECRET")
  on      = ["drift", "check_failed", "check_passed", "run_failed"]
  retries = 2
  backoff = "1s"
  timeout = "5s"
}
