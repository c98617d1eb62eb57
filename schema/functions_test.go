package schema_test

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

func TestFunctions(t *testing.T) {
	cfg, diags := load(filepath.Join(configTestdata, "valid", "design"), schema.LoadOptions{
		Environ: []string{"TOKEN=t0k", "EMPTY="},
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tests := []struct {
		expr string
		want cty.Value
		err  bool
	}{
		{expr: `lower("ACME.Example")`, want: cty.StringVal("acme.example")},
		{expr: `format("mail.%s", var.apex)`, want: cty.StringVal("mail.acme.example")},
		{expr: `join(",", formatlist("%s.acme.example", ["a", "b"]))`, want: cty.StringVal("a.acme.example,b.acme.example")},
		{expr: `length(distinct(flatten([["a"], ["a", "b"]])))`, want: cty.NumberIntVal(2)},
		{expr: `contains(keys(merge({a = 1}, {b = 2})), "b")`, want: cty.True},
		{expr: `element(split(".", "www.acme.example"), 0)`, want: cty.StringVal("www")},
		{expr: `replace(trimsuffix("acme.example.", "."), "acme", "corp")`, want: cty.StringVal("corp.example")},
		{expr: `regex("^([a-z]+)\\.", "www.acme.example")`, want: cty.TupleVal([]cty.Value{cty.StringVal("www")})},
		{expr: `length(regexall("[0-9]", "a1b2"))`, want: cty.NumberIntVal(2)},
		{expr: `tostring(tonumber("42"))`, want: cty.StringVal("42")},
		{expr: `jsondecode(jsonencode({a = "b"})).a`, want: cty.StringVal("b")},
		{expr: `coalesce("", "x")`, want: cty.StringVal("x")},
		{expr: `max(1, 5, 3) + abs(-2)`, want: cty.NumberIntVal(7)},
		{expr: `length(setunion(toset(["a"]), toset(["b"])))`, want: cty.NumberIntVal(2)},
		{expr: `startswith("www.acme.example", "www.") && endswith("www.acme.example", ".example")`, want: cty.True},
		{expr: `substr(trimspace("  acme "), 0, 2)`, want: cty.StringVal("ac")},
		{expr: `cidrhost("203.0.113.0/24", 10)`, want: cty.StringVal("203.0.113.10")},
		{expr: `cidrhost("203.0.113.0/24", -1)`, want: cty.StringVal("203.0.113.255")},
		{expr: `cidrhost("2001:db8::/64", 17)`, want: cty.StringVal("2001:db8::11")},
		{expr: `cidrhost("203.0.113.0/30", 4)`, err: true},
		{expr: `cidrsubnet("10.0.0.0/8", 8, 2)`, want: cty.StringVal("10.2.0.0/16")},
		{expr: `cidrsubnet("2001:db8::/32", 16, 255)`, want: cty.StringVal("2001:db8:ff::/48")},
		{expr: `cidrsubnet("10.0.0.0/30", 4, 0)`, err: true},
		{expr: `cidrcontains("203.0.113.0/24", "203.0.113.77")`, want: cty.True},
		{expr: `cidrcontains("203.0.113.0/24", "198.51.100.1")`, want: cty.False},
		{expr: `cidrcontains("203.0.113.0/24", "203.0.113.128/25")`, want: cty.True},
		{expr: `cidrcontains("203.0.113.128/25", "203.0.113.0/24")`, want: cty.False},
		{expr: `cidrcontains("2001:db8::/32", "2001:db8::10")`, want: cty.True},
		{expr: `cidrcontains("203.0.113.0/24", "2001:db8::10")`, want: cty.False},
		{expr: `cidrcontains("203.0.113.0/24", "mx.acme.example")`, want: cty.False},
		{expr: `cidrcontains("not a cidr", "203.0.113.1")`, err: true},
		{expr: `env("TOKEN")`, want: cty.StringVal("t0k")},
		{expr: `env("UNSET")`, want: cty.StringVal("")},
		{expr: `env("UNSET", "fallback")`, want: cty.StringVal("fallback")},
		{expr: `env("EMPTY", "fallback")`, want: cty.StringVal("")},
		{expr: `in_scope("www.acme.example")`, want: cty.True},
		{expr: `in_scope("cdn.acme.example")`, want: cty.False},
		{expr: `in_scope("203.0.113.7")`, want: cty.True},
		{expr: `in_scope("192.0.2.1")`, want: cty.False},
		{expr: `in_scope("not a subject")`, want: cty.False},
		{expr: `registered_domain("ns-1234.awsdns-12.org")`, want: cty.StringVal("awsdns-12.org")},
		{expr: `registered_domain("NS1.Expired-DNS.co.uk.")`, want: cty.StringVal("expired-dns.co.uk")},
		{expr: `registered_domain("10 mx1.mail.acme.example")`, want: cty.StringVal("acme.example")},
		{expr: `registered_domain("0 5 5060 sip.acme.example")`, want: cty.StringVal("acme.example")},
		{expr: `registered_domain("acme.github.io")`, want: cty.StringVal("acme.github.io")},
		{expr: `registered_domain("co.uk")`, want: cty.StringVal("")},
		{expr: `registered_domain("0 .")`, want: cty.StringVal("")},
		{expr: `registered_domain("203.0.113.7")`, want: cty.StringVal("")},
		{expr: `registered_domain("")`, want: cty.StringVal("")},
		{expr: `can(tonumber("x"))`, want: cty.False},
		{expr: `alltrue([true, 1 == 1]) && !alltrue([true, false]) && alltrue([])`, want: cty.True},
		{expr: `anytrue([false, true]) || anytrue([])`, want: cty.True},
		{expr: `sum([1, 2, 3.5])`, want: cty.NumberFloatVal(6.5)},
		{expr: `try(tonumber("x"), 0)`, want: cty.NumberIntVal(0)},
	}
	ctx := cfg.EvalContext(nil)
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tc.expr), "test.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, diags := expr.Value(ctx)
			if tc.err {
				if !diags.HasErrors() {
					t.Errorf("want an error, got %#v", got)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, marks := got.UnmarkDeep()
			if !got.RawEquals(tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			if _, isEnv := marks[schema.SensitiveMark]; isEnv != (len(tc.expr) > 4 && tc.expr[:4] == "env(") {
				t.Errorf("sensitive mark: %v", marks)
			}
		})
	}
}
