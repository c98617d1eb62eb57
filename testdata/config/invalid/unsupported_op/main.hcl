engagement "acme" {
  max_depth = 2
}

provider "crtsh" {}

provider "securitytrails" {
  api_key = env("SECURITYTRAILS_API_KEY")
}

query "history" {
  provider = provider.crtsh
  op       = "resolutions" # ERROR: Operation not supported by provider
  subjects = ["acme.example"]
}

query "typo" {
  provider = provider.securitytrails
  op       = "reverse-ip" # ERROR: Unsupported operation
  subjects = ["203.0.113.10"]
}
