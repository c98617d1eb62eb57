package main

import (
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

// Values are printed for people the way Terraform's console and output
// print them: HCL-like, one element a line for collections.
const (
	shownSensitive = "(sensitive value)"
	shownUnknown   = "(known after apply)"
)

// formatValue renders v for people; indent is the current indentation.
func formatValue(v cty.Value, indent string) string {
	if v.HasMark(schema.SensitiveMark) {
		return shownSensitive
	}
	if !v.IsKnown() {
		return shownUnknown
	}
	if v.IsNull() {
		return "null"
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return formatString(v.AsString(), indent)
	case ty == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case ty == cty.Bool:
		return strconv.FormatBool(v.True())
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		if v.LengthInt() == 0 {
			if ty.IsSetType() {
				return "toset([])"
			}
			return "[]"
		}
		var b strings.Builder
		open, closing := "[", "]"
		if ty.IsSetType() {
			open, closing = "toset([", "])"
		}
		b.WriteString(open + "\n")
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			b.WriteString(indent + "  " + formatValue(e, indent+"  ") + ",\n")
		}
		b.WriteString(indent + closing)
		return b.String()
	case ty.IsMapType() || ty.IsObjectType():
		if v.LengthInt() == 0 {
			return "{}"
		}
		type kv struct {
			k string
			v cty.Value
		}
		var items []kv
		width := 0
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			key := k.AsString()
			if !hclIdentifier(key) {
				key = strconv.Quote(key)
			}
			items = append(items, kv{key, e})
			width = max(width, len(key))
		}
		sort.SliceStable(items, func(i, j int) bool { return items[i].k < items[j].k })
		var b strings.Builder
		b.WriteString("{\n")
		for _, it := range items {
			b.WriteString(indent + "  " + it.k + strings.Repeat(" ", width-len(it.k)) + " = " + formatValue(it.v, indent+"  ") + "\n")
		}
		b.WriteString(indent + "}")
		return b.String()
	}
	return ty.FriendlyName()
}

// formatString quotes a string; one of several lines is a heredoc.
func formatString(s, indent string) string {
	if strings.Contains(s, "\n") && !strings.Contains(s, "\nEOT") && strings.HasSuffix(s, "\n") {
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		var b strings.Builder
		b.WriteString("<<EOT\n")
		for _, l := range lines {
			b.WriteString(indent + l + "\n")
		}
		b.WriteString(indent + "EOT")
		return b.String()
	}
	return strconv.Quote(s)
}

// hclIdentifier reports whether s can be written as an object key
// without quotes.
func hclIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r == '-' || r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
