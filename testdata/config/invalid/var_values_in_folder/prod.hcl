apex = "acme.example" # ERROR: Unsupported argument
