# VirusTotal: passive DNS resolutions and subdomains for Tailspin Toys (a
# fictional company). Needs a key:
#
#   export VIRUSTOTAL_API_KEY=...
#   reconform apply examples/virustotal
#
# The public API allows 4 requests a minute and 500 a day; the rate below
# keeps to it, and the budget stops a run long before the daily quota.

engagement "tailspin" {
  description  = "Tailspin Toys hosts and resolutions from VirusTotal"
  passive_only = true
  max_depth    = 2
}

scope {
  domains = ["tailspin.example"]
  cidrs   = ["198.51.100.0/26", "2001:db8:7a11::/48"]
}

provider "virustotal" {
  api_key   = env("VIRUSTOTAL_API_KEY")
  rate      = "4/min" # public API limit
  budget    = 60      # per run; the daily quota is 500
  timeout   = "45s"
  max_pages = 3 # 40 objects per page
}

target "domain" "apex" { name = "tailspin.example" }

query "hosts" {
  provider = provider.virustotal
  op       = "subdomains"
  subjects = [target.domain.apex]
}

query "resolutions" {
  provider = provider.virustotal
  op       = "resolutions"
  subjects = concat([target.domain.apex.value], [for f in query.hosts.findings : f.name])
  rrtypes  = ["A", "AAAA"]
}

# Names seen on Tailspin's own addresses (VirusTotal's IP resolutions).
pivot "on_our_ips" {
  from     = [query.resolutions]
  when     = contains(["A", "AAAA"], finding.type) && in_scope(finding.value)
  provider = provider.virustotal
  op       = "reverse_ip"
  subject  = finding.value
}
