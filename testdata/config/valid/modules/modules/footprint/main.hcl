variable "apex" {
  type = string
}

variable "owner" {
  type    = string
  default = "unknown"
}

target "domain" "apex" {
  name = var.apex
}

query "records" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = [target.domain.apex]
}

query "hosts" {
  provider = provider.file.pdns
  op       = "subdomains"
  subjects = [target.domain.apex]
}

pivot "expand" {
  from     = [query.records]
  when     = finding.type == "A" && in_scope(finding.value)
  provider = provider.file.pdns
  op       = "reverse_ip"
  subject  = finding.value
}

module "mail" {
  source = "../mail"
  apex   = var.apex
}

output "hosts" {
  value = [for f in query.hosts.findings : f.name]
}

output "mail_hosts" {
  value = module.mail.hosts
}

output "owner" {
  value = var.owner
}
