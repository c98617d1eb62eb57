# Modules: for_each and count, nested modules, a providers map, a module
# with no instances, for_each on queries and targets, outputs. Its data
# make it runnable: cmd/reconform's plan goldens and module tests use it.
engagement "fleet" {
  max_depth = 2
}

variable "apexes" {
  type = map(object({ owner = string }))
  default = {
    "acme.example"   = { owner = "red team" }
    "globex.example" = { owner = "blue team" }
  }
}

scope {
  domains = concat(keys(var.apexes), ["initech.example"])
  cidrs   = ["203.0.113.0/24"]
}

provider "file" "pdns" {
  path = "data/pdns.ndjson"
}

provider "file" "archive" {
  path = "data/archive.ndjson"
}

module "footprint" {
  source   = "./modules/footprint"
  for_each = var.apexes
  apex     = each.key
  owner    = each.value.owner
}

module "archive" {
  source    = "./modules/footprint"
  count     = 1
  apex      = "initech.example"
  owner     = "archive #${count.index}"
  providers = { file.pdns = provider.file.archive }
}

module "retired" {
  source   = "./modules/footprint"
  for_each = {}
  apex     = each.key
  owner    = "nobody"
}

target "ip" "office" {
  count   = 2
  address = "203.0.113.${10 + count.index}"
}

query "mail_records" {
  for_each = toset(keys(var.apexes))
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = module.footprint[each.key].mail_hosts
}

query "office" {
  provider = provider.file.pdns
  op       = "reverse_ip"
  subjects = target.ip.office
}

output "hosts" {
  description = "Host names by apex."
  value       = { for apex, m in module.footprint : apex => m.hosts }
}

output "owners" {
  value = [for m in module.footprint : m.owner]
}
