engagement "acme" {
  max_depth = 2
}

variable "apex" { # ERROR: No value for required variable
  type = string
}

target "domain" "apex" {
  name = var.apex
}
