# The second declaration is the mistake: the first one's missing default is
# not reported again.
engagement "acme" {}

variable "apex" {
  type = string
}

target "domain" "apex" {
  name = var.apex
}
