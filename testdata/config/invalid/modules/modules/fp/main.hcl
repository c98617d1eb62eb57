variable "apex" {
  type = string
}

scope { # ERROR: Scope block in a module
  domains = [var.apex]
}

target "domain" "apex" {
  name = var.apex
}

query "hosts" {
  provider = provider.file.pdns
  op       = "subdomains"
  subjects = [target.domain.apex, count.index] # ERROR: Reference to "count" in the wrong place
}

pivot "p" {
  from     = [query.hosts]
  count    = 2 # ERROR: Unsupported argument
  provider = provider.file.nope # ERROR: Reference to undeclared provider
  op       = "resolutions"
  subject  = finding.name
}

output "hosts" {
  value = [for f in query.hosts.findings : f.name]
}
