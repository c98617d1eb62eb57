package schema

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

// MaxNesting is how deep brackets, braces, parentheses and templates may
// nest in a file or a value we parse. HCL's parser and evaluator recurse
// once per level: 100,000 nested "[" exhaust the goroutine stack, which is
// a crash no recover() can catch. Real configurations nest a handful of
// levels; 200 leaves room for anything written by hand or generated.
const MaxNesting = 200

// ParseHCL parses a file in HCL native syntax, after checking that it nests
// no deeper than MaxNesting: every file of ours (configurations, variable
// files, files to format) is parsed through it.
func ParseHCL(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	tokens, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	if d := tokenNesting(tokens); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
}

// ParseHCLJSON parses a file in HCL's JSON syntax, bounded like ParseHCL.
func ParseHCLJSON(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if d := jsonNesting(src, filename); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	return hcljson.Parse(src, filename)
}

// ParseExpression parses an HCL expression given outside a file (a -var
// value, a variable from the environment, a saved plan's variable),
// bounded like ParseHCL.
func ParseExpression(src []byte, filename string) (hclsyntax.Expression, hcl.Diagnostics) {
	tokens, _ := hclsyntax.LexExpression(src, filename, hcl.InitialPos)
	if d := tokenNesting(tokens); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	return hclsyntax.ParseExpression(src, filename, hcl.InitialPos)
}

// tokenNesting finds the first opening token beyond MaxNesting. Lexing is
// a flat scan, so the check itself cannot run out of stack.
func tokenNesting(tokens hclsyntax.Tokens) *hcl.Diagnostic {
	depth := 0
	for _, tok := range tokens {
		switch tok.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			if depth > MaxNesting {
				return nestingDiag(tok.Range)
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			depth = max(depth-1, 0)
		}
	}
	return nil
}

// jsonNesting finds the first "[" or "{" beyond MaxNesting in JSON text,
// skipping strings.
func jsonNesting(src []byte, filename string) *hcl.Diagnostic {
	if off, ok := JSONTooDeep(src, MaxNesting); ok {
		pos := hcl.InitialPos
		for _, c := range src[:off] {
			pos.Byte++
			if c == '\n' {
				pos.Line, pos.Column = pos.Line+1, 1
			} else {
				pos.Column++
			}
		}
		end := pos
		end.Byte, end.Column = end.Byte+1, end.Column+1
		return nestingDiag(hcl.Range{Filename: filename, Start: pos, End: end})
	}
	return nil
}

// JSONTooDeep reports the offset of the first "[" or "{" of src that opens
// a level beyond limit, outside strings. It does not check that src is
// valid JSON; a JSON reader that recurses per level (encoding/json stops
// only at 10,000) runs after it.
func JSONTooDeep(src []byte, limit int) (int, bool) {
	depth, inString, escaped := 0, false, false
	for i, c := range src {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > limit {
				return i, true
			}
		case c == ']' || c == '}':
			depth = max(depth-1, 0)
		}
	}
	return 0, false
}

func nestingDiag(rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Too deeply nested",
		Detail:   fmt.Sprintf("Brackets, braces, parentheses and templates nest more than %d levels deep here; reconform reads at most %d. Flatten the value (a generated file may be damaged).", MaxNesting, MaxNesting),
		Subject:  rng.Ptr(),
	}
}
