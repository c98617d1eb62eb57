package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

var (
	stT0 = time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)
	stT1 = stT0.Add(40 * 24 * time.Hour)
)

const testAPIKey = "SECRET-api-key-0123456789"

var stQueries = map[string]schema.Query{
	"securitytrails": {Provider: "securitytrails", Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "acme.example"}},
	"dnsdb":          {Provider: "dnsdb", Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "mail.acme.example"}},
}

func stRec(provider, name, typ, value string, last time.Time) schema.Finding {
	f := schema.NewFinding(name, typ, value)
	f.FirstSeen, f.LastSeen, f.Count = last.Add(-24*time.Hour), last, 1
	f.Sources = []string{provider}
	f.Query = stQueries[provider].Key()
	return f
}

// stRun is what apply would produce from records per provider, with the
// providers in failed failing.
func stRun(at time.Time, records map[string][]schema.Finding, failed map[string]string) *schema.RunResult {
	r := &schema.RunResult{Engagement: "acme", ConfigHash: "cfghash", StartedAt: at.Add(-90 * time.Second), FinishedAt: at}
	for _, p := range []string{"dnsdb", "securitytrails"} {
		q := stQueries[p]
		in := schema.InstanceResult{Query: q, Key: q.Key(), Block: "query.history", Status: schema.StatusOK, Requests: 2}
		if reason, bad := failed[p]; bad {
			in.Status, in.Reason = schema.StatusFailed, reason
		} else {
			for _, f := range records[p] {
				in.FindingIDs = append(in.FindingIDs, f.ID())
				r.Findings = append(r.Findings, f)
			}
		}
		in.Findings = len(in.FindingIDs)
		r.Instances = append(r.Instances, in)
	}
	return r
}

// firstRun and secondRun: the world changes between them, and dnsdb is
// down in the second (its error echoes the key, which must never be kept).
func firstRun() *schema.RunResult {
	return stRun(stT0, map[string][]schema.Finding{
		"securitytrails": {
			stRec("securitytrails", "www.acme.example", "A", "198.51.100.7", stT0),
			stRec("securitytrails", "acme.example", "TXT", "v=spf1 include:_spf.google.com ~all", stT0),
			stRec("securitytrails", "old.acme.example", "CNAME", "legacy.host.example", stT0),
		},
		"dnsdb": {stRec("dnsdb", "mail.acme.example", "A", "203.0.113.25", stT0)},
	}, nil)
}

func secondRun() *schema.RunResult {
	return stRun(stT1, map[string][]schema.Finding{
		"securitytrails": {
			stRec("securitytrails", "www.acme.example", "A", "198.51.100.7", stT0),
			stRec("securitytrails", "www.acme.example", "A", "203.0.113.10", stT1),
			stRec("securitytrails", "acme.example", "TXT", "v=spf1 include:_spf.google.com -all", stT1),
			stRec("securitytrails", "new.acme.example", "A", "203.0.113.20", stT1),
		},
	}, map[string]string{"dnsdb": "HTTP 503 from https://api.dnsdb.example/?key=" + testAPIKey})
}

// pinFacts replaces engine/analysis for the length of a test: these tests
// are about the state, not about what the analysis concludes, and their
// golden files must not follow every analysis change.
func pinFacts(t *testing.T) {
	saved := deriveFacts
	t.Cleanup(func() { deriveFacts = saved })
	deriveFacts = func(fs []schema.Finding, _ analysis.Options) []schema.Fact {
		var out []schema.Fact
		for _, f := range fs {
			if f.Type == "TXT" && strings.HasPrefix(f.Value, "v=spf1 ") {
				words := strings.Fields(f.Value)
				out = append(out, schema.Fact{Subject: f.Name, Kind: "spf_all", Value: words[len(words)-1], Evidence: []string{f.ID()}})
			}
			if f.Type == "A" && f.Current {
				out = append(out, schema.Fact{Subject: f.Value, Kind: "hosts", Value: f.Name, Evidence: []string{f.ID()}})
			}
		}
		return out
	}
}

func testConfig(dir string) *schema.Config {
	return &schema.Config{
		Dir:        dir,
		Engagement: schema.Engagement{Name: "acme", State: "acme.rfstate"},
		Providers: map[string]*schema.ProviderBlock{
			"dnsdb": {Type: "dnsdb", Address: "dnsdb",
				Attrs:     map[string]cty.Value{"api_key": cty.StringVal(testAPIKey).Mark("sensitive"), "endpoint": cty.StringVal("https://api.dnsdb.example")},
				Sensitive: map[string]bool{"api_key": true}},
		},
	}
}

// commitRun runs one open/commit/close cycle as apply does.
func commitRun(t *testing.T, dir string, run *schema.RunResult, opts *stateOptions) (cliResult, *schema.Config) {
	t.Helper()
	pinFacts(t)
	var stdout, stderr bytes.Buffer
	env := &Env{Stdout: &stdout, Stderr: &stderr, WorkDir: dir}
	cfg := testConfig(dir)
	s, err := openState(context.Background(), env, cfg, opts)
	if err != nil {
		t.Fatalf("openState: %v", err)
	}
	defer s.Close()
	code := s.Commit(context.Background(), run, "")
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}, cfg
}

// twoRunDir is an engagement folder after the two runs.
func twoRunDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	commitRun(t, dir, firstRun(), &stateOptions{Lock: true})
	commitRun(t, dir, secondRun(), &stateOptions{Lock: true})
	return dir
}

func TestCommitTwoRuns(t *testing.T) {
	dir := t.TempDir()
	opts := &stateOptions{Lock: true, DetailedExitCode: true}
	r, _ := commitRun(t, dir, firstRun(), opts)
	if r.Code != exitDrift || !strings.Contains(r.Stdout, "First state of acme: 4 findings") {
		t.Fatalf("first run: code %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r, _ = commitRun(t, dir, secondRun(), opts)
	if r.Code != exitDrift {
		t.Fatalf("second run: code %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	checkGolden(t, "state/apply_drift.txt", r.Stdout)

	path := filepath.Join(dir, "acme.rfstate")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) || bytes.Contains(data, []byte(testAPIKey)) {
		t.Fatalf("state invalid or holds the key:\n%s", data)
	}
	st, err := state.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := state.Store{Path: path}.History()
	if err != nil || len(hist) != 1 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	first, err := state.Store{Path: path}.ReadHistory(hist[0])
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if st.Serial != 2 || first.Serial != 1 || first.Lineage != st.Lineage {
		t.Errorf("serials %d/%d, lineages %s/%s", first.Serial, st.Serial, first.Lineage, st.Lineage)
	}
	mail := st.FindingByID("mail.acme.example A 203.0.113.25")
	if mail == nil || !strings.HasPrefix(mail.Unverified, "query failed: HTTP 503") || !strings.Contains(mail.Unverified, "[redacted]") {
		t.Fatalf("the failed provider's finding: %+v", mail)
	}
	if st.FindingByID("old.acme.example CNAME legacy.host.example") != nil {
		t.Errorf("a finding its successful provider no longer reports was kept")
	}

	// The same run again: nothing changes, no new serial, exit 0.
	r, _ = commitRun(t, dir, secondRun(), opts)
	if r.Code != exitOK || !strings.Contains(r.Stdout, "State unchanged") || !strings.Contains(r.Stdout, "No changes") {
		t.Fatalf("re-run: code %d\n%s", r.Code, r.Stdout)
	}
	if again, _ := state.ReadFile(path); again.Serial != 2 {
		t.Errorf("serial moved to %d without a change", again.Serial)
	}
	// Without -detailed-exitcode drift exits 0; -json prints the drift document.
	r, _ = commitRun(t, t.TempDir(), firstRun(), &stateOptions{JSON: true})
	var event struct {
		Type  string
		Drift map[string]any
	}
	if r.Code != exitOK || strings.Count(r.Stdout, "\n") != 1 || json.Unmarshal([]byte(r.Stdout), &event) != nil ||
		event.Type != "drift" || event.Drift["has_drift"] != true {
		t.Fatalf("json: code %d\n%s", r.Code, r.Stdout)
	}
}

func TestOpenStateRefusesBadState(t *testing.T) {
	var good bytes.Buffer
	st := state.New("acme")
	st.Lineage, st.Serial = "x", 1
	state.Encode(&good, st)
	for name, content := range map[string]string{
		"corrupt": `{"format_version": 1, "findings": [`,
		"future":  strings.Replace(good.String(), `"format_version": 1`, `"format_version": 7`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "acme.rfstate")
			os.WriteFile(path, []byte(content), 0o644)
			env := &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, WorkDir: dir}
			_, err := openState(context.Background(), env, testConfig(dir), &stateOptions{Lock: true})
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("openState: %v", err)
			}
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Errorf("the state file changed")
			}
			// The lock was released: the next run is not blocked.
			if info, _ := (state.Store{Path: path}).ReadLock(); info != nil {
				t.Errorf("lock left behind: %+v", info)
			}
		})
	}
}

func TestSecondApplyIsRefusedByTheLock(t *testing.T) {
	dir := t.TempDir()
	env := &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, WorkDir: dir}
	first, err := openState(context.Background(), env, testConfig(dir), &stateOptions{Lock: true, Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = openState(context.Background(), env, testConfig(dir), &stateOptions{Lock: true, Operation: "apply"})
	var le *state.LockedError
	if !errors.As(err, &le) || le.Info.Operation != "apply" {
		t.Fatalf("second apply: %v", err)
	}
	// -lock=false reads without the lock (for plan on a busy state).
	if s, err := openState(context.Background(), env, testConfig(dir), &stateOptions{}); err != nil {
		t.Fatalf("-lock=false: %v", err)
	} else {
		s.Close()
	}
	first.Close()
	second, err := openState(context.Background(), env, testConfig(dir), &stateOptions{Lock: true})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	second.Close()
}

func TestPreviousFindingsByBlock(t *testing.T) {
	dir := twoRunDir(t)
	env := &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, WorkDir: dir}
	s, err := openState(context.Background(), env, testConfig(dir), &stateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	prev := s.PreviousFindings()
	if len(prev) != 1 || len(prev["query.history"]) != 5 {
		t.Fatalf("previous findings: %v", prev)
	}
	empty, _ := openState(context.Background(), env, testConfig(t.TempDir()), &stateOptions{})
	if empty.PreviousFindings() != nil {
		t.Errorf("no state, yet predictions")
	}
}
