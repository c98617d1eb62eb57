engagement "minimal" {}

provider "crtsh" {}

query "names" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = ["acme.example"]
}
