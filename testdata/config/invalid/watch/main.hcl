engagement "watch" {}

provider "crtsh" {}

check "bad_severity" {
  severity = "fatal" # ERROR: Invalid severity
  assert {
    condition     = true
    error_message = "never"
  }
}

check "no_asserts" { # ERROR: Missing assert block
}

check "bad_refs" {
  assert {
    condition     = length(drift.adde) == 0 # ERROR: Unsupported attribute
    error_message = "x"
  }
  assert {
    condition     = length(findings) # ERROR: Invalid check condition
    error_message = "y"
  }
  assert {
    condition     = data.x # ERROR: Unknown reference
    error_message = "z"
  }
}

notify "pager" "x" { # ERROR: Unsupported notify type
}

notify "slack" "plain" {
  webhook_url = "http://hooks.example/services/T/B/SECRET" # ERROR: Webhook URL without TLS
  on          = ["drift", "always"] # ERROR: Invalid value for on
}

notify "webhook" "nourl" { # ERROR: Missing required argument
  changes = ["added", "moved"] # ERROR: Invalid value for changes
}

notify "email" "mail" {
  host     = "smtp.example"
  from     = "not an address" # ERROR: Invalid address
  to       = ["secops@acme.example"]
  security = "ssl" # ERROR: Invalid security
}
