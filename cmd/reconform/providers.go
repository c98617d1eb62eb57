package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "providers",
		Synopsis: "List provider types, their operations, settings and defaults",
		Usage: `Usage: reconform providers [-json] [TYPE...]

  Lists every provider type reconform ships (or only the TYPEs named):
  what it is, whether it is passive or active, the operations it answers
  (with the record types they return, and whether answers are current
  records), the attributes its provider block accepts (type, required,
  sensitive, default) and its free-tier defaults for endpoint, rate,
  budget, timeout and cache_ttl.

  Passive providers never touch the target. Active ones (live DNS) run only
  in engagements with passive_only = false.

Options:
  -json  Print a JSON document instead of text.`,
		Run:  runProviders,
		JSON: true,
	})
}

func runProviders(_ context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["providers"])
	asJSON := fs.Bool("json", false, "")
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	schemas := all.Schemas()
	var list []schema.ProviderSchema
	if len(positional) == 0 {
		for _, name := range all.Types() {
			list = append(list, schemas[name])
		}
	}
	for _, name := range positional {
		s, ok := schemas[name]
		if !ok {
			fmt.Fprintf(env.Stderr, "Error: unknown provider type %q; known types: %s.\n", name, strings.Join(all.Types(), ", "))
			return exitError
		}
		list = append(list, s)
	}
	if *asJSON {
		if err := writeProvidersJSON(env.Stdout, list); err != nil {
			fmt.Fprintln(env.Stderr, "Error:", err)
			return exitError
		}
		return exitOK
	}
	writeProvidersText(env.Stdout, list)
	return exitOK
}

// providerInfo is the JSON form of one provider type.
type providerInfo struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Active      bool            `json:"active"`
	Ops         []opInfo        `json:"ops"`
	Attributes  []attributeInfo `json:"attributes"`
	Defaults    defaultsInfo    `json:"defaults"`
}

type opInfo struct {
	Op      schema.Op `json:"op"`
	Active  bool      `json:"active"`
	Current bool      `json:"current"`
	// Registry ops ask a registry about the subject, which need not be in scope.
	Registry bool     `json:"registry,omitempty"`
	RRTypes  []string `json:"rrtypes,omitempty"`
}

type attributeInfo struct {
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Required    bool            `json:"required"`
	Sensitive   bool            `json:"sensitive"`
	Common      bool            `json:"common"`
	Default     json.RawMessage `json:"default,omitempty"`
	Description string          `json:"description"`
}

type defaultsInfo struct {
	Endpoint         string `json:"endpoint"`
	Rate             string `json:"rate"`   // "" means unlimited
	Budget           int    `json:"budget"` // 0 means unlimited
	Timeout          string `json:"timeout"`
	CacheTTL         string `json:"cache_ttl"`
	MaxResponseBytes int64  `json:"max_response_bytes"`
	// Quota are the vendor's documented free-tier quotas per key.
	Quota []string `json:"quota"`
}

func describeProvider(s schema.ProviderSchema) providerInfo {
	info := providerInfo{Type: s.Type, Description: s.Description, Active: s.IsActive(), Ops: []opInfo{}}
	for _, op := range orderedOps(s) {
		t := s.Ops[op]
		info.Ops = append(info.Ops, opInfo{Op: op, Active: t.Active, Current: t.Current, Registry: t.Registry, RRTypes: t.RRTypes})
	}
	for _, a := range schema.CommonProviderAttributes {
		info.Attributes = append(info.Attributes, describeAttribute(a, true))
	}
	for _, a := range s.Attributes {
		info.Attributes = append(info.Attributes, describeAttribute(a, false))
	}
	info.Defaults = defaultsOf(s)
	return info
}

// orderedOps lists a provider's ops in the language's order, then any
// others alphabetically.
func orderedOps(s schema.ProviderSchema) []schema.Op {
	var out []schema.Op
	known := map[schema.Op]bool{}
	for _, op := range schema.AllOps {
		known[op] = true
		if _, ok := s.Ops[op]; ok {
			out = append(out, op)
		}
	}
	var extra []schema.Op
	for op := range s.Ops {
		if !known[op] {
			extra = append(extra, op)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	return append(out, extra...)
}

func describeAttribute(a schema.ProviderAttribute, common bool) attributeInfo {
	info := attributeInfo{Name: a.Name, Required: a.Required, Sensitive: a.Sensitive, Common: common, Description: a.Description, Type: "any"}
	if a.Type != cty.NilType {
		info.Type = a.Type.FriendlyName()
	}
	if a.Default != cty.NilVal && a.Default.IsWhollyKnown() && !a.Default.IsNull() {
		if b, err := ctyjson.Marshal(a.Default, a.Default.Type()); err == nil {
			info.Default = b
		}
	}
	return info
}

func defaultsOf(s schema.ProviderSchema) defaultsInfo {
	timeout := s.DefaultTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ttl := s.DefaultCacheTTL
	switch {
	case ttl == 0:
		ttl = engine.DefaultCacheTTL
	case ttl < 0:
		ttl = 0 // never cached, as cache_ttl = "0s" says
	}
	return defaultsInfo{
		Endpoint:         s.DefaultEndpoint,
		Rate:             s.DefaultRate,
		Budget:           s.DefaultBudget,
		Timeout:          shortDuration(timeout),
		CacheTTL:         shortDuration(ttl),
		MaxResponseBytes: providers.DefaultMaxBodyBytes,
		Quota:            append([]string{}, s.DefaultQuota...),
	}
}

// shortDuration prints 24h rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func writeProvidersJSON(w io.Writer, list []schema.ProviderSchema) error {
	doc := struct {
		FormatVersion int             `json:"format_version"`
		Providers     []providerInfo  `json:"providers"`
		Common        []attributeInfo `json:"common_attributes"`
	}{FormatVersion: jsonFormatVersion, Providers: []providerInfo{}}
	for _, s := range list {
		doc.Providers = append(doc.Providers, describeProvider(s))
	}
	for _, a := range schema.CommonProviderAttributes {
		doc.Common = append(doc.Common, describeAttribute(a, true))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func writeProvidersText(w io.Writer, list []schema.ProviderSchema) {
	for i, s := range list {
		if i > 0 {
			fmt.Fprintln(w)
		}
		info := describeProvider(s)
		kind := "passive"
		if info.Active {
			kind = "active: runs only with passive_only = false"
		}
		fmt.Fprintf(w, "%s (%s)\n", info.Type, kind)
		if info.Description != "" {
			fmt.Fprintf(w, "  %s\n", info.Description)
		}

		fmt.Fprintln(w, "  Operations:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, op := range info.Ops {
			traits := []string{"passive"}
			if op.Active {
				traits[0] = "active"
			}
			if op.Current {
				traits = append(traits, "current records")
			}
			if op.Registry {
				traits = append(traits, "asks the registry, so subjects from findings need not be in scope")
			}
			if len(op.RRTypes) > 0 {
				traits = append(traits, "rrtypes "+strings.Join(op.RRTypes, ", "))
			}
			fmt.Fprintf(tw, "    %s\t%s\n", op.Op, strings.Join(traits, "; "))
		}
		tw.Flush()

		d := info.Defaults
		fmt.Fprintln(w, "  Defaults:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "    endpoint\t%s\n", orText(d.Endpoint, "(none)"))
		fmt.Fprintf(tw, "    rate\t%s\n", orText(d.Rate, "unlimited"))
		budget := "unlimited"
		if d.Budget > 0 {
			budget = fmt.Sprintf("%d requests per run", d.Budget)
		}
		fmt.Fprintf(tw, "    budget\t%s\n", budget)
		fmt.Fprintf(tw, "    timeout\t%s per request\n", d.Timeout)
		if d.CacheTTL == "0s" {
			fmt.Fprintf(tw, "    cache_ttl\t0s (answers are not cached)\n")
		} else {
			fmt.Fprintf(tw, "    cache_ttl\t%s\n", d.CacheTTL)
		}
		fmt.Fprintf(tw, "    max_response_bytes\t%d (%d MiB)\n", d.MaxResponseBytes, d.MaxResponseBytes>>20)
		if len(d.Quota) > 0 {
			fmt.Fprintf(tw, "    quota\t%s per key, across runs (the vendor's free tier)\n", strings.Join(d.Quota, ", "))
		} else {
			fmt.Fprintf(tw, "    quota\tnone documented\n")
		}
		tw.Flush()

		var own []attributeInfo
		for _, a := range info.Attributes {
			if !a.Common {
				own = append(own, a)
			}
		}
		if len(own) > 0 {
			fmt.Fprintln(w, "  Attributes:")
			writeAttributes(w, "    ", own)
		}
		writeExample(w, info, own)
	}
	if len(list) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Every provider block also accepts (defaults above):")
	var common []attributeInfo
	for _, a := range schema.CommonProviderAttributes {
		common = append(common, describeAttribute(a, true))
	}
	writeAttributes(w, "  ", common)
}

func writeAttributes(w io.Writer, indent string, attrs []attributeInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range attrs {
		flags := []string{"optional"}
		if a.Required {
			flags[0] = "required"
		}
		if a.Sensitive {
			flags = append(flags, "sensitive")
		}
		if a.Default != nil {
			flags = append(flags, "default "+string(a.Default))
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\n", indent, a.Name, a.Type, strings.Join(flags, ", "), a.Description)
	}
	tw.Flush()
}

// writeExample prints the smallest provider block that works: the
// required attributes, secrets read from the environment.
func writeExample(w io.Writer, info providerInfo, own []attributeInfo) {
	fmt.Fprintln(w, "  Example:")
	width := 0
	for _, a := range own {
		if a.Required {
			width = max(width, len(a.Name))
		}
	}
	if width == 0 {
		fmt.Fprintf(w, "    provider %q {}\n", info.Type)
		return
	}
	fmt.Fprintf(w, "    provider %q {\n", info.Type)
	for _, a := range own {
		if !a.Required {
			continue
		}
		val := `"..."`
		switch {
		case a.Sensitive || a.Type == "string" && strings.Contains(a.Description, "env("):
			val = fmt.Sprintf(`env("%s_%s")`, strings.ToUpper(info.Type), strings.ToUpper(a.Name))
		case a.Type == "number":
			val = "0"
		case a.Type == "bool":
			val = "true"
		}
		fmt.Fprintf(w, "      %-*s = %s\n", width, a.Name, val)
	}
	fmt.Fprintln(w, "    }")
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
