engagement "acme" {
  max_depth      = 2
  current_window = "a month" # ERROR: Invalid duration
}

scope {
  domains = ["acme.example", "not a domain"] # ERROR: Invalid domain name
  cidrs   = ["203.0.113.0/24", "10.0.0.0/33"] # ERROR: Invalid CIDR
  exclude = ["cdn.acme.example", "bad_host!"] # ERROR: Invalid exclusion
}

provider "securitytrails" {
  api_key = env("SECURITYTRAILS_API_KEY")
  rate    = "5 per second" # ERROR: Invalid rate
  timeout = "soon" # ERROR: Invalid duration
}

target "domain" "bad" {
  name = "acme..example" # ERROR: Invalid domain name
}

target "ip" "bad" {
  address = "300.1.2.3" # ERROR: Invalid IP address
}

target "ip" "zoned" {
  address = "fe80::1%eth0" # ERROR: Invalid IP address
}

target "cidr" "bad" {
  cidr = "203.0.113.0/40" # ERROR: Invalid CIDR
}

query "history" {
  provider = provider.securitytrails
  op       = "resolutions"
  subjects = ["acme.example", "-bad-.example"] # ERROR: Invalid subject
  rrtypes  = ["A", "AAA"] # ERROR: Unknown record type
}
