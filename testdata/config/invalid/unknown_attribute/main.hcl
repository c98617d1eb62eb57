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

query "history" {
  provider = provider.securitytrails
  op       = "resolutions"
  subject  = [target.domain.apex] # ERROR: Unsupported argument
}

# A typo'd required argument is one mistake: no "Missing required argument".
provider "virustotal" {
  api_kye = env("VIRUSTOTAL_API_KEY") # ERROR: Unsupported argument
}
