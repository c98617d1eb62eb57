engagement "acme" {
  max_depth = 2
}

provider "file" "sonar" {
  path = "data/fdns.json.gz"
}

query "a" { # ERROR: Cycle between blocks
  provider = provider.file.sonar
  op       = "resolutions"
  subjects = [for f in query.b.findings : f.name]
}

query "b" {
  provider = provider.file.sonar
  op       = "reverse_ip"
  subjects = [for f in query.a.findings : f.value if f.type == "A"]
}

query "self" { # ERROR: Cycle between blocks
  provider = provider.file.sonar
  op       = "resolutions"
  subjects = concat(["acme.example"], query.self.findings[*].name)
}
