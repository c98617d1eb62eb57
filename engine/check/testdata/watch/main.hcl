engagement "acme" {}

variable "apex" {
  default = "acme.example"
}

variable "expected_cidrs" {
  type    = list(string)
  default = ["203.0.113.0/24"]
}

variable "token" {
  type      = string
  sensitive = true
  default   = "tok-secret-1234"
}

provider "crtsh" {}

query "names" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = [var.apex]
}

locals {
  mail_approved = "google-workspace"
}

check "dmarc_enforced" {
  description = "DMARC is not none"
  assert {
    condition     = alltrue([for f in facts : f.value != "none" if f.kind == "dmarc_policy"])
    error_message = "DMARC policy is none on: ${join(", ", sort([for f in facts : f.subject if f.kind == "dmarc_policy" && f.value == "none"]))}"
  }
}

check "no_new_host_outside_cidrs" {
  assert {
    condition     = length([for f in drift.added : f if contains(["A", "AAAA"], f.type) && !anytrue([for c in var.expected_cidrs : cidrcontains(c, f.value)])]) == 0
    error_message = "New hosts outside ${join(", ", var.expected_cidrs)}: ${join(", ", [for f in drift.added : "${f.name} ${f.value}" if contains(["A", "AAAA"], f.type) && !anytrue([for c in var.expected_cidrs : cidrcontains(c, f.value)])])}"
  }
}

check "mx_on_approved_provider" {
  severity = "warning"
  assert {
    condition     = alltrue([for f in facts : f.value == local.mail_approved if f.kind == "mail_provider" && f.subject == var.apex])
    error_message = "Mail of ${var.apex} moved to ${join(", ", [for f in facts : f.value if f.kind == "mail_provider" && f.subject == var.apex])}"
  }
}

check "no_takeover_candidates" {
  assert {
    condition     = length([for f in facts : f if f.kind == "takeover_candidate"]) == 0
    error_message = "Takeover candidates: ${join(", ", [for f in facts : "${f.subject} (${f.value})" if f.kind == "takeover_candidate"])}"
  }
}

check "broken" {
  severity = "warning"
  assert {
    condition     = tonumber(findings[0].value) > 0
    error_message = "unreachable"
  }
}

check "secret_message" {
  severity = "warning"
  assert {
    condition     = length(findings) == 0
    error_message = "token ${var.token}"
  }
}
