variable "apex" { # ERROR: Duplicate variable
  default = "acme.example"
}
