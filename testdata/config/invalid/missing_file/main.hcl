# File providers whose path names no file: reported by validate and plan at
# the path, not at apply by every query.
engagement "acme" {}

variable "snapshot" {
  type    = number
  default = 1
}

provider "file" "typo" {
  path = "data/fdns-2.jsn.gz" # ERROR: No such file
}

provider "file" "computed" {
  path = "data/fdns-${var.snapshot}.json.gz" # ERROR: No such file
}

provider "file" "folder" {
  path = "data" # ERROR: Not a data file
}

provider "file" "there" {
  path = "data/fdns-${var.snapshot + 1}.json.gz"
}

target "domain" "apex" { name = "acme.example" }

query "q" {
  provider = [provider.file.typo, provider.file.computed, provider.file.folder, provider.file.there]
  op       = "resolutions"
  subjects = [target.domain.apex]
}
