engagement "acme" {}

variable "apex" { # ERROR: No value for required variable
  type = string
}
