package schema_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/reconform/reconform/schema"
)

// TestOddInputs loads configurations that are syntactically fine but
// semantically odd: each must give its error (or load) without a panic.
func TestOddInputs(t *testing.T) {
	const head = "engagement \"e\" {\n  max_depth = 2\n}\nprovider \"file\" \"f\" {\n  path = \"x\"\n}\n"
	tests := []struct {
		name, src string
		want      string // summary of the first error; "" for none
	}{
		{"null op", `query "q" {
  provider = provider.file.f
  op       = null
  subjects = ["a.example"]
}`, "Missing value for op"},
		{"null target name", `variable "v" {
  type    = string
  default = null
}
target "domain" "d" { name = var.v }`, "Missing value for name"},
		{"null subjects", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = null
}`, ""},
		{"null rrtypes and params", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = ["a.example"]
  rrtypes  = null
  params   = { a = null, b = 1 }
}`, ""},
		{"list param", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = ["a.example"]
  params   = { a = [1] }
}`, "Incorrect attribute value type"},
		{"params not a map", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = ["a.example"]
  params   = "limit=1"
}`, "Incorrect attribute value type"},
		{"bare provider root", `query "q" {
  provider = provider
  op       = "resolutions"
  subjects = ["a.example"]
}`, "Invalid provider reference"},
		{"provider by index", `query "q" {
  provider = provider.file["f"]
  op       = "resolutions"
  subjects = ["a.example"]
}`, ""},
		{"provider string", `query "q" {
  provider = "file.f"
  op       = "resolutions"
  subjects = ["a.example"]
}`, "Invalid provider reference"},
		{"empty provider list", `query "q" {
  provider = []
  op       = "resolutions"
  subjects = ["a.example"]
}`, "No provider given"},
		{"empty from", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = ["a.example"]
}
pivot "p" {
  from     = []
  provider = provider.file.f
  op       = "reverse_ip"
  subject  = finding.value
}`, "No blocks given"},
		{"from not a block", `pivot "p" {
  from     = [var.x]
  provider = provider.file.f
  op       = "reverse_ip"
  subject  = finding.value
}`, "Invalid block reference"},
		{"fractional depth", `pivot "p" {
  from      = [pivot.p]
  provider  = provider.file.f
  op        = "reverse_ip"
  subject   = finding.value
  max_depth = 1.5
}`, "Invalid value for max_depth"},
		{"subjects of numbers", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = [{ a = 1 }]
}`, "Invalid subjects"},
		{"var without name", `locals {
  x = var
}`, "Invalid reference"},
		{"finding outside pivot", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = [finding.value]
}`, "Invalid reference"},
		{"query in scope", `scope {
  domains = query.q.findings
}`, "Invalid reference"},
		{"local cycle", `locals {
  a = local.b
  b = local.a
}`, "Cycle between local values"},
		{"local and target cycle", `locals {
  name = target.domain.t.value
}
target "domain" "t" {
  name = local.name
}`, "Cycle between local values and targets"},
		{"target kind typo in reference", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = [target.domian.x]
}`, "Unknown target kind"},
		{"query attribute", `query "q" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = ["a.example"]
}
query "r" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = query.q.results
}`, "Unsupported attribute"},
		{"ignore matching all", `#own engagement
engagement "x" {
  ignore {
    reason = "noise"
  }
}`, "Ignore rule matches everything"},
		{"bad ignore glob", `#own engagement
engagement "x" {
  ignore {
    name = "[a"
  }
}`, "Invalid name pattern"},
		{"max_depth 0 is unset", `#own engagement
engagement "x" {
  max_depth = 0
}
provider "file" "f" {
  path = "x"
}
pivot "p" {
  from     = [pivot.p]
  provider = provider.file.f
  op       = "reverse_ip"
  subject  = finding.value
}`, "Unbounded pivot"},
		{"wildcard scope domain", `scope {
  domains = ["*.a.example", "A.Example."]
}`, ""},
		// A wildcard is a record's name, not a host to ask about.
		{"wildcard target", `target "domain" "w" {
  name = "*.acme.example"
}`, "Invalid domain name"},
		{"wildcard label not leftmost", `target "domain" "w" {
  name = "www.*.acme.example"
}`, "Invalid domain name"},
		{"endpoint not a URL", `provider "crtsh" {
  endpoint = "crt.sh"
}`, "Invalid endpoint"},
		{"endpoint with credentials", `provider "crtsh" {
  endpoint = "https://u:p@mirror.example"
}`, "Credentials in endpoint"},
		{"endpoint of a test server", `provider "crtsh" {
  endpoint = "http://127.0.0.1:8080/"
}`, ""},
		{"file endpoint is free-form", `provider "file" "g" {
  path     = "y"
  endpoint = "anything"
}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := head + tc.src
			if strings.HasPrefix(tc.src, "#own engagement") {
				src = tc.src
			}
			writeFile(t, dir, "main.hcl", src+"\n")
			_, diags := load(dir, schema.LoadOptions{})
			var first string
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					first = d.Summary
					break
				}
			}
			if first != tc.want {
				t.Errorf("first error %q, want %q; all: %v", first, tc.want, diags)
			}
		})
	}
}
