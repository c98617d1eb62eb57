engagement "acme" {
  max_depth = "two" # ERROR: Incorrect attribute value type
}

variable "limit" {
  type    = number
  default = "many" # ERROR: Invalid default value for variable
}

variable "names" {
  type    = list(strin) # ERROR: Invalid type specification
  default = []
}

variable "derived" {
  default = var.limit # ERROR: Variables not allowed
}
