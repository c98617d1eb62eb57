package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

// testSchemas exercise every rendering path without depending on the
// shipped providers' current wording.
var testSchemas = []schema.ProviderSchema{
	{
		Type:        "pdnsvendor",
		Description: "A passive DNS vendor.",
		Attributes: []schema.ProviderAttribute{
			{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "The key."},
			{Name: "max_pages", Type: cty.Number, Default: cty.NumberIntVal(10), Description: "Page cap."},
			{Name: "verbose", Type: cty.Bool, Default: cty.False, Description: "Chatty."},
		},
		Ops: map[schema.Op]schema.OpTraits{
			schema.OpSubdomains:  {},
			schema.OpResolutions: {RRTypes: []string{"A", "AAAA"}},
		},
		DefaultRate: "4/min", DefaultBudget: 500, DefaultTimeout: 20 * time.Second,
		DefaultEndpoint: "https://pdns.example/api",
	},
	{
		Type:        "livedns",
		Description: "Live DNS.",
		Ops: map[schema.Op]schema.OpTraits{
			schema.OpResolve: {Active: true, Current: true, RRTypes: []string{"A"}},
		},
		DefaultCacheTTL: 90 * time.Minute,
	},
	{
		Type:        "offline",
		Description: "Files.",
		Attributes: []schema.ProviderAttribute{
			{Name: "path", Type: cty.String, Required: true, Description: "Data file."},
		},
		Ops:             map[schema.Op]schema.OpTraits{schema.OpReverseIP: {}},
		DefaultCacheTTL: -1,
	},
}

func TestProvidersRender(t *testing.T) {
	var text bytes.Buffer
	writeProvidersText(&text, testSchemas)
	checkGolden(t, "providers_render.txt", text.String())
	var js bytes.Buffer
	if err := writeProvidersJSON(&js, testSchemas); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "providers_render.json", js.String())
}

// TestProvidersCommand runs the verb on the provider types this file's
// owners maintain, so that the golden files change only with them.
func TestProvidersCommand(t *testing.T) {
	types := []string{"securitytrails", "virustotal", "circl", "robtex"}
	r := runCLI(t, t.TempDir(), nil, append([]string{"providers"}, types...)...)
	if r.Code != exitOK || r.Stderr != "" {
		t.Fatalf("code %d, stderr %q", r.Code, r.Stderr)
	}
	checkGolden(t, "providers_passive_dns.txt", r.Stdout)
	r = runCLI(t, t.TempDir(), nil, append([]string{"providers", "-json"}, types...)...)
	if r.Code != exitOK || r.Stderr != "" {
		t.Fatalf("-json: code %d, stderr %q", r.Code, r.Stderr)
	}
	checkGolden(t, "providers_passive_dns.json", r.Stdout)
}

func TestProvidersListsEveryType(t *testing.T) {
	r := runCLI(t, t.TempDir(), nil, "providers", "-json")
	if r.Code != exitOK {
		t.Fatalf("code %d, stderr %q", r.Code, r.Stderr)
	}
	var doc struct {
		Providers []struct {
			Type       string `json:"type"`
			Active     bool   `json:"active"`
			Ops        []struct{ Op string }
			Attributes []struct {
				Name   string
				Common bool
			}
		}
		Common []struct{ Name string } `json:"common_attributes"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.Stdout)
	}
	var got []string
	for _, p := range doc.Providers {
		got = append(got, p.Type)
		if len(p.Ops) == 0 {
			t.Errorf("%s lists no ops", p.Type)
		}
		common := 0
		for _, a := range p.Attributes {
			if a.Common {
				common++
			}
		}
		if common != len(schema.CommonProviderAttributes) {
			t.Errorf("%s lists %d common attributes, want %d", p.Type, common, len(schema.CommonProviderAttributes))
		}
		if p.Type == "dns" && !p.Active {
			t.Error("dns is not marked active")
		}
	}
	if strings.Join(got, ",") != strings.Join(all.Types(), ",") {
		t.Errorf("types %v, want %v", got, all.Types())
	}

	r = runCLI(t, t.TempDir(), nil, "providers")
	for _, typ := range all.Types() {
		if !strings.Contains(r.Stdout, "\n"+typ+" (") && !strings.HasPrefix(r.Stdout, typ+" (") {
			t.Errorf("text listing lacks %s", typ)
		}
	}
	if !strings.Contains(r.Stdout, "dns (active: runs only with passive_only = false)") {
		t.Error("text listing does not say dns is active")
	}

	r = runCLI(t, t.TempDir(), nil, "providers", "nosuch")
	if r.Code != exitError || !strings.Contains(r.Stderr, `unknown provider type "nosuch"`) {
		t.Errorf("unknown type: code %d, stderr %q", r.Code, r.Stderr)
	}
}
