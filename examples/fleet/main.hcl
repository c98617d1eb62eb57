# Fleet: one module watching the external DNS footprint of several apexes,
# from two monthly snapshots of offline passive DNS data. Nothing here
# needs an API key or the network.
#
#   reconform apply -auto-approve examples/fleet                 # March: builds the state
#   reconform apply -auto-approve -var snapshot=2 examples/fleet # April: drift per apex

engagement "fleet" {
  description  = "Three fictional companies watched with one module (offline data)"
  passive_only = true
  max_depth    = 1
}

variable "snapshot" {
  description = "Which monthly data snapshot to read: 1 (March 2025) or 2 (April 2025)."
  type        = number
  default     = 1
}

variable "apexes" {
  description = "The apexes to watch, each with hosts to check by hand."
  type = map(object({
    extra_hosts = optional(set(string), [])
  }))
  default = {
    "fabrikam.example" = { extra_hosts = ["legacy.fabrikam.example"] }
    "tailspin.example" = {}
    "wingtip.example"  = {}
  }
}

# The scope is the engagement's: it covers every apex the modules watch.
scope {
  domains = keys(var.apexes)
  cidrs   = ["203.0.113.0/24"]
}

# Providers live here and are passed to every module instance.
provider "file" "pdns" {
  path           = "data/pdns-${var.snapshot}.ndjson"
  current_window = "7d"
}

module "footprint" {
  source      = "./modules/footprint"
  for_each    = var.apexes
  apex        = each.key
  extra_hosts = each.value.extra_hosts
}

output "hosts" {
  description = "Host names found under each apex."
  value       = { for apex, m in module.footprint : apex => m.hosts }
}

output "mail" {
  description = "Each apex's mail provider, from the derived facts."
  value       = { for apex, m in module.footprint : apex => m.mail_provider }
}

output "shared_addresses" {
  description = "Current addresses that serve more than one apex."
  value = sort([
    for ip in distinct(flatten([for m in module.footprint : m.addresses])) : ip
    if length([for m in module.footprint : m if contains(m.addresses, ip)]) > 1
  ])
}
