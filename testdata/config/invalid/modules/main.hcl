engagement "mods" {
  max_depth = 2
}

variable "apexes" {
  type    = list(string)
  default = ["a.example", "b.example"]
}

provider "file" "pdns" {
  path = "pdns.ndjson"
}

module "listed" {
  source   = "./modules/fp"
  for_each = var.apexes # ERROR: Invalid for_each argument
  apex     = each.key
}

module "typo" { # ERROR: Missing required argument
  source = "./modules/fp"
  apexx  = "a.example" # ERROR: Unsupported argument
}

module "remote" {
  source = "github.com/acme/recon-modules" # ERROR: Invalid module source
}

module "both" {
  source   = "./modules/fp"
  for_each = toset(var.apexes)
  count    = 2 # ERROR: Invalid combination of "count" and "for_each"
  apex     = "a.example"
}

module "one" {
  source = "./modules/fp"
  apex   = "a.example"
}

module "missing" {
  source = "./modules/nowhere" # ERROR: Cannot read the module folder
}

query "q" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = [each.key] # ERROR: Reference to "each" in the wrong place
}

query "r" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = module.one.nope # ERROR: Unsupported attribute
}

query "s" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = module.one["x"].hosts # ERROR: Unexpected index
}

query "t" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = module.nobody.hosts # ERROR: Reference to undeclared module
}

locals {
  hosts = module.one.hosts # ERROR: Invalid reference
}

output "leak" {
  value = env("TOKEN") # ERROR: Output refers to sensitive values
}
