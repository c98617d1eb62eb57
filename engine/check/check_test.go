package check_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/check"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

func loadConfig(t testing.TB) *schema.Config {
	t.Helper()
	cfg, diags := schema.Load("testdata/watch", schema.LoadOptions{Providers: all.Schemas(), DisplayDir: "."})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return cfg
}

func finding(name, typ, value string) state.Finding {
	return state.Finding{Finding: schema.Finding{Name: name, Type: typ, Value: value, LastSeen: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, Currency: state.Current}
}

func stateOf(serial uint64, fs []state.Finding, facts []schema.Fact) *state.State {
	s := state.New("acme")
	s.Serial, s.Lineage = serial, "lin"
	s.Findings, s.Facts = fs, facts
	s.Normalize()
	return s
}

func byName(rs []state.CheckResult) map[string]state.CheckResult {
	m := map[string]state.CheckResult{}
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}

func TestExampleChecks(t *testing.T) {
	cfg := loadConfig(t)
	good := []schema.Fact{
		{Subject: "acme.example", Kind: "dmarc_policy", Value: "reject"},
		{Subject: "acme.example", Kind: "mail_provider", Value: "google-workspace"},
	}
	prev := stateOf(1, []state.Finding{finding("www.acme.example", "A", "203.0.113.10")}, good)
	same := stateOf(2, []state.Finding{finding("www.acme.example", "A", "203.0.113.10"), finding("api.acme.example", "A", "203.0.113.11")}, good)

	res := byName(check.Evaluate(cfg, same, diff.Compare(prev, same, nil)))
	for _, name := range []string{"dmarc_enforced", "no_new_host_outside_cidrs", "mx_on_approved_provider", "no_takeover_candidates"} {
		if r := res[name]; r.Status != state.CheckPass || len(r.Messages) > 0 {
			t.Errorf("%s: %+v, want pass", name, r)
		}
	}

	bad := []schema.Fact{
		{Subject: "acme.example", Kind: "dmarc_policy", Value: "none"},
		{Subject: "shop.acme.example", Kind: "dmarc_policy", Value: "none"},
		{Subject: "acme.example", Kind: "mail_provider", Value: "microsoft-365"},
		{Subject: "old.acme.example", Kind: "takeover_candidate", Value: "github-pages"},
	}
	next := stateOf(3, []state.Finding{
		finding("www.acme.example", "A", "203.0.113.10"),
		finding("new.acme.example", "A", "198.51.100.7"),
		finding("v6.acme.example", "AAAA", "2001:db8::1"),
		finding("acme.example", "MX", "mx.outlook.example"),
	}, bad)
	res = byName(check.Evaluate(cfg, next, diff.Compare(prev, next, nil)))
	want := map[string]state.CheckResult{
		"dmarc_enforced": {Name: "dmarc_enforced", Description: "DMARC is not none", Severity: "error", Status: state.CheckFail,
			Messages: []string{"DMARC policy is none on: acme.example, shop.acme.example"}},
		"no_new_host_outside_cidrs": {Name: "no_new_host_outside_cidrs", Severity: "error", Status: state.CheckFail,
			Messages: []string{"New hosts outside 203.0.113.0/24: new.acme.example 198.51.100.7, v6.acme.example 2001:db8::1"}},
		"mx_on_approved_provider": {Name: "mx_on_approved_provider", Severity: "warning", Status: state.CheckFail,
			Messages: []string{"Mail of acme.example moved to microsoft-365"}},
		"no_takeover_candidates": {Name: "no_takeover_candidates", Severity: "error", Status: state.CheckFail,
			Messages: []string{"Takeover candidates: old.acme.example (github-pages)"}},
	}
	for name, w := range want {
		if d := cmp.Diff(w, res[name]); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	if !check.Failed(check.Evaluate(cfg, next, nil)) {
		t.Error("Failed: an error check failed")
	}
}

func TestErrorsAndSecrets(t *testing.T) {
	cfg := loadConfig(t)
	st := stateOf(1, []state.Finding{finding("acme.example", "MX", "mx.acme.example")}, nil)
	res := byName(check.Evaluate(cfg, st, diff.Compare(nil, st, nil)))
	b := res["broken"]
	if b.Status != state.CheckError || len(b.Diagnostics) != 1 || !strings.HasPrefix(b.Diagnostics[0], "main.hcl:63,") {
		t.Errorf("broken: %+v", b)
	}
	s := res["secret_message"]
	if s.Status != state.CheckFail || len(s.Messages) != 1 || strings.Contains(s.Messages[0], "tok-secret") || !strings.Contains(s.Messages[0], "derived from a secret") {
		t.Errorf("secret_message: %+v", s)
	}
	// Warnings alone never make Failed true.
	if check.Failed([]state.CheckResult{b, s}) {
		t.Error("warnings failed the run")
	}
	if p, f, e := check.Counts(check.Evaluate(cfg, st, nil)); p+f+e != 6 || e != 1 {
		t.Errorf("counts %d %d %d", p, f, e)
	}
}

func TestLongMessageIsBounded(t *testing.T) {
	cfg := loadConfig(t)
	var fs []state.Finding
	prev := stateOf(1, nil, nil)
	for i := 0; i < 2000; i++ {
		fs = append(fs, finding("h"+strings.Repeat("x", 10)+string(rune('a'+i%26))+time.Duration(i).String()+".acme.example", "A", "198.51.100.1"))
	}
	next := stateOf(2, fs, nil)
	r := byName(check.Evaluate(cfg, next, diff.Compare(prev, next, nil)))["no_new_host_outside_cidrs"]
	if r.Status != state.CheckFail || len(r.Messages[0]) > check.MaxMessage+40 || !strings.Contains(r.Messages[0], "more bytes)") {
		t.Errorf("message of %d bytes: %.100s…", len(r.Messages[0]), r.Messages[0])
	}
}
