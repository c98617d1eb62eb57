engagement "acme" {
  max_depth = 2
}

provider "file" "a" "b" { # ERROR: Extraneous label for provider
  path = "x"
}

target "apex" { # ERROR: Missing name for target
  name = "acme.example"
}

target "host" "www" { # ERROR: Unsupported target kind
  name = "www.acme.example"
}

query { # ERROR: Missing name for query
}
