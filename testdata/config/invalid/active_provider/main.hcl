engagement "acme" {
  max_depth = 2
}

provider "dns" { # ERROR: Active provider in a passive engagement
  resolvers = ["127.0.0.1:53"]
}

query "live" {
  provider = provider.dns
  op       = "resolve"
  subjects = ["acme.example"]
}
