engagement "acme-2" { # ERROR: Duplicate engagement block
  max_depth = 3
}
