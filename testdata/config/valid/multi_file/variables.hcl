variable "apex" {
  type        = string
  default     = "acme.example"
  description = "The organisation's main domain."
}

variable "extra_domains" {
  type    = list(string)
  default = ["acme-corp.example", "acme.test"]

  validation {
    condition     = alltrue([for d in var.extra_domains : length(split(".", d)) > 1])
    error_message = "Each extra domain must be a fully qualified name."
  }
}

variable "budgets" {
  type = object({
    securitytrails = number
    virustotal     = number
  })
  default = {
    securitytrails = 100
    virustotal     = 400
  }
}

variable "limits" {
  type = object({
    rate   = optional(string, "1/s")
    budget = optional(number, 50)
  })
  default = {}
}

variable "dnsdb_key" {
  type      = string
  default   = ""
  sensitive = true
}

locals {
  corp        = "acme-corp.example"
  all_domains = distinct(concat([var.apex], var.extra_domains))
  mail_hosts  = [for d in local.all_domains : format("mail.%s", d)]
  net_first   = cidrhost("203.0.113.0/24", 10)
  net_half    = cidrsubnet("203.0.113.0/24", 1, 1)
  seeds       = [target.domain.apex, target.domain.corp]
}
