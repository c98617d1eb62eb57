# ACME: the quarterly external footprint, split over several files the way
# a team keeps it in version control.
engagement "acme-quarterly" {
  description    = "ACME external footprint, quarterly review"
  passive_only   = true
  max_depth      = 2
  state          = "state/acme.rfstate"
  current_window = "14d"
  forget_after   = "52w"
  asn_table      = "data/ip2asn-v4.tsv"

  ignore {
    name   = "*.cdn.acme.example"
    reason = "CDN edge churn"
  }

  ignore {
    type   = "A"
    value  = "198.51.100.0/24"
    reason = "Load balancer pool rotates nightly"
  }
}

scope {
  domains = concat([var.apex], var.extra_domains, [local.corp])
  cidrs   = ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]
  exclude = ["cdn.acme.example", "203.0.113.128/25"]
}
