engagement "acme" {
  pasive_only = true # ERROR: Unsupported argument
  max_depth   = 2
}

provider "securitytrails" {
  api_key = env("SECURITYTRAILS_API_KEY")
  rate_limit = "1/s" # ERROR: Unsupported argument
}

target "domain" "apex" {
  name = "acme.example"
}

query "history" { # ERROR: Missing required argument
  provider = provider.securitytrails
  op       = "resolutions"
  subject  = [target.domain.apex] # ERROR: Unsupported argument
}
