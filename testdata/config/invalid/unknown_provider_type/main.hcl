engagement "acme" {
  max_depth = 2
}

provider "securitytrail" { # ERROR: Unsupported provider type
  api_key = env("SECURITYTRAILS_API_KEY")
}

provider "shodan" "main" {} # ERROR: Unsupported provider type

query "history" {
  provider = provider.virustotall # ERROR: Reference to undeclared provider
  op       = "resolutions"
  subjects = ["acme.example"]
}
