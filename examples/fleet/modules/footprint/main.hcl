# One apex's footprint: its records, its host names and theirs, hosts
# listed by hand, and the neighbours on its in-scope addresses. The
# providers, the scope and the engagement settings are the caller's.

variable "apex" {
  description = "The apex domain to watch."
  type        = string
}

variable "extra_hosts" {
  description = "Host names to resolve although no source lists them under the apex."
  type        = set(string)
  default     = []
}

target "domain" "apex" {
  name = var.apex
}

target "domain" "extra" {
  for_each = var.extra_hosts
  name     = each.key
}

query "apex" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = [target.domain.apex]
}

query "hosts" {
  provider = provider.file.pdns
  op       = "subdomains"
  subjects = [target.domain.apex]
}

query "host_records" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = concat([for f in query.hosts.findings : f.name], values(target.domain.extra))
}

# Reverse-IP on every in-scope address: a web host two apexes share is
# asked once, and what it serves belongs to both module instances.
pivot "neighbours" {
  from     = [query.apex, query.host_records]
  when     = finding.type == "A" && in_scope(finding.value)
  provider = provider.file.pdns
  op       = "reverse_ip"
  subject  = finding.value
}

output "hosts" {
  value = sort(distinct([for f in concat(query.hosts.findings, query.host_records.findings) : f.name if f.name != var.apex]))
}

output "addresses" {
  value = sort(distinct([
    for f in concat(query.apex.findings, query.host_records.findings) : f.value
    if f.type == "A" && f.current
  ]))
}

output "mail_provider" {
  value = join(", ", [for f in facts : f.value if f.subject == var.apex && f.kind == "mail_provider"])
}
