engagement "acme" {
  max_depth = 2
}
