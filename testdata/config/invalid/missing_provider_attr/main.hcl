engagement "acme" {
  max_depth = 2
}

provider "securitytrails" { # ERROR: Missing required argument
  rate = "1/s"
}

provider "file" "sonar" { # ERROR: Missing required argument
  format = "fdns"
}
