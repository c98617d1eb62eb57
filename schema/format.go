package schema

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical layout (hclwrite's: aligned equals
// signs, two-space indents, normalised spacing). A file with syntax errors
// is never formatted: the diagnostics are returned and the result is nil.
// Format is idempotent: formatting its output changes nothing.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	if _, diags := ParseHCL(src, filename); diags.HasErrors() {
		return nil, diags
	}
	out := hclwrite.Format(src)
	// hclwrite.Format reaches its fixed point in one pass for nearly all
	// input; a second pass covers the rare layouts that need two.
	if again := hclwrite.Format(out); string(again) != string(out) {
		out = again
	}
	return out, nil
}
