provider "crtsh" {} # ERROR: Missing engagement block

query "names" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = ["acme.example"]
}
