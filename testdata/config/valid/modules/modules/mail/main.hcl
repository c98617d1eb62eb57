variable "apex" {
  type = string
}

query "mx" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = [var.apex]
  rrtypes  = ["MX"]
}

output "hosts" {
  value = distinct([for f in query.mx.findings : element(split(" ", f.value), 1) if f.type == "MX"])
}
