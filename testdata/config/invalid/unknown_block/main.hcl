engagement "acme" {
  max_depth = 2
}

resource "aws_instance" "web" { # ERROR: Unsupported block type
}

quey "history" { # ERROR: Unsupported block type
  op = "resolutions"
}

engagement_name = "acme" # ERROR: Unsupported argument
