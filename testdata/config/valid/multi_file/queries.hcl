target "domain" "apex" { name = var.apex }
target "domain" "corp" { name = upper(local.corp) }
target "ip" "mx" { address = local.net_first }
target "ip" "v6" { address = "2001:DB8::10" }
target "cidr" "office" { cidr = local.net_half }

query "subdomains" {
  provider = [provider.securitytrails, provider.virustotal, provider.hackertarget, provider.crtsh, provider.dnsdumpster]
  op       = "subdomains"
  subjects = local.seeds
}

query "history" {
  provider = [provider.securitytrails, provider.circl, provider.robtex, provider.dnsdb, provider.file.sonar]
  op       = "resolutions"
  subjects = concat([target.domain.apex], [for f in query.subdomains.findings : f.name])
  rrtypes  = ["a", "AAAA", "mx", "NS", "TXT"]
  params   = { limit = 500, include_subdomains = true }
}

query "neighbours" {
  provider = [provider.securitytrails, provider.virustotal, provider.file.cof]
  op       = "reverse_ip"
  subjects = distinct([for f in query.history.findings : f.value if contains(["A", "AAAA"], f.type) && f.current])
}

query "office_net" {
  provider = provider.dnsdb
  op       = "reverse_ip"
  subjects = [target.cidr.office, target.ip.mx, target.ip.v6]
}

query "mail" {
  provider = provider.securitytrails
  op       = "mx_reverse"
  subjects = [for f in query.history.findings : split(" ", f.value)[1] if f.type == "MX"]
}

query "nameservers" {
  provider = [provider.hackertarget, provider.dnsdb]
  op       = "ns_reverse"
  subjects = toset([for f in query.history.findings : f.value if f.type == "NS"])
}
