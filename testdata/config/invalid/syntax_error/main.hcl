engagement "acme" {
  max_depth = 2
}

query "broken" {
  op = "resolutions"
  subjects = ["a.example" "b.example"] # ERROR: Missing item separator
}
