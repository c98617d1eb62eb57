engagement "acme" {}

variable "apex" { # ERROR: Invalid value for variable
  type    = string
  default = "ACME.example"

  validation {
    condition     = var.apex == lower(var.apex)
    error_message = "Write the apex domain in lower case."
  }
}

variable "tiers" {
  type    = list(string)
  default = ["gold"]

  validation {
    condition     = length(var.tiers) # ERROR: Invalid validation condition
    error_message = "Needs tiers."
  }

  validation {
    condition     = contains(var.tiers, local.x) # ERROR: Invalid reference
    error_message = "Locals cannot be used here."
  }

  validation { # ERROR: Missing required argument
    condition = true
  }
}
