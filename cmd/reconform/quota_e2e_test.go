package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/fakevendors"
	"github.com/reconform/reconform/internal/pgtest"
)

const quotaKey = "canary-vt-quota-5e1d0c7a93"

// quotaWorld is a VirusTotal fake that counts every request it receives
// and refuses past quota (QuotaExceededError), as the vendor would.
type quotaWorld struct {
	vt       *fakevendors.VirusTotal
	endpoint string
}

func startQuotaWorld(t *testing.T, quota int) quotaWorld {
	t.Helper()
	vt := &fakevendors.VirusTotal{Fixtures: os.DirFS(filepath.Join("..", "..", "testdata", "providers", "virustotal")), Key: quotaKey, Quota: quota}
	srv := fakevendors.Start(t, vt)
	return quotaWorld{vt: vt, endpoint: srv.URL + "/api/v3"}
}

// dataRequests are the requests the world counted against the quota
// (its usage endpoint costs nothing).
func (w quotaWorld) dataRequests() []string {
	var out []string
	for _, r := range w.vt.Requests() {
		if !strings.HasSuffix(r.Path, "/overall_quotas") {
			out = append(out, r.Path)
		}
	}
	return out
}

// quotaEngagement writes an engagement of VirusTotal resolutions over
// subjects in dir/name, with quota and an optional backend block.
func quotaEngagement(t *testing.T, dir, name string, quota string, subjects []string, extra string) string {
	t.Helper()
	folder := filepath.Join(dir, name)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	var targets, refs []string
	for i, s := range subjects {
		targets = append(targets, fmt.Sprintf("target \"domain\" \"t%d\" { name = %q }", i, s))
		refs = append(refs, fmt.Sprintf("target.domain.t%d", i))
	}
	src := fmt.Sprintf(`engagement %q {
  verify_every = "1d"
%s}

variable "vt_endpoint" { type = string }

scope {
  domains = %s
}

provider "virustotal" {
  api_key  = env("VT_KEY")
  endpoint = var.vt_endpoint
  rate     = "100/s"
  quota    = [%q]
}

%s

query "res" {
  provider = provider.virustotal
  op       = "resolutions"
  subjects = [%s]
}
`, name, extra, jsonList(subjects), quota, strings.Join(targets, "\n"), strings.Join(refs, ", "))
	if err := os.WriteFile(filepath.Join(folder, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return folder
}

func jsonList(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

// ranSubjects are the subjects of the state's instances that succeeded in
// its run, and those deferred.
func ranSubjects(t *testing.T, path string) (ran, deferred []string) {
	t.Helper()
	st, err := state.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range st.Instances {
		switch {
		case in.Status.Succeeded():
			ran = append(ran, in.Query.Subject.Value)
		case strings.HasPrefix(in.Reason, "deferred: quota"):
			deferred = append(deferred, in.Query.Subject.Value)
		}
	}
	sort.Strings(ran)
	sort.Strings(deferred)
	return ran, deferred
}

var nextWindow = regexp.MustCompile(`deferred: quota; the next window opens \d{4}-\d\d-\d\dT00:00:00Z`)

// TestQuotaSharedByTwoEngagements: two engagements share one VirusTotal
// key against a world that counts every request. Across runs the world
// never receives more than the quota; the second run verifies the
// subjects never verified first; the second engagement defers what the
// first spent, and plan and apply say so; the ledger lives in the user's
// state folder and outlives the process.
func TestQuotaSharedByTwoEngagements(t *testing.T) {
	world := startQuotaWorld(t, 6)
	dir := t.TempDir()
	xdg := filepath.Join(dir, "xdg")
	environ := []string{"VT_KEY=" + quotaKey, "RECONFORM_VAR_vt_endpoint=" + world.endpoint, "XDG_STATE_HOME=" + xdg}
	subjects := []string{"example.com", "f1.example", "f2.example", "f3.example", "f4.example", "f5.example", "f6.example", "f7.example"}
	a := quotaEngagement(t, dir, "a", "4/day", subjects, "")
	cli := func(args ...string) cliResult {
		t.Helper()
		r := runCLI(t, dir, environ, args...)
		for _, out := range []string{r.Stdout, r.Stderr} {
			if strings.Contains(out, quotaKey) {
				t.Fatalf("the key leaked:\n%s", out)
			}
		}
		return r
	}

	// Plan: 8 queries, the quota has 4 left: 4 deferred, and verify_every
	// cannot be kept.
	r := cli("plan", "a")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Vendor quotas (per key, shared by every engagement and run using it):") ||
		!regexp.MustCompile(`virustotal\s+4/day\s+0\s+4\s+\S+ 00:00 UTC\s+8\s+4`).MatchString(r.Stdout) ||
		!strings.Contains(r.Stdout, "deferred: virustotal: 4 queries (at least 4 requests) will be deferred") ||
		!strings.Contains(r.Stdout, "verify_every: virustotal needs 8 requests a day, the quota gives 4: 50% of subjects per day.") {
		t.Fatalf("plan a:\n%s\n%s", r.Stdout, r.Stderr)
	}
	if len(world.dataRequests()) != 0 {
		t.Fatal("plan sent a request")
	}

	// Run 1: the first 4 (never verified, in plan order) run.
	r = cli("apply", "-auto-approve", "-parallelism=1", "a")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Deferred for the vendors' quotas") || !nextWindow.MatchString(r.Stdout) ||
		!strings.Contains(r.Stdout, "Quota left: virustotal 0 of 4/day") {
		t.Fatalf("apply a (1): %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	statePath := filepath.Join(a, "reconform.rfstate")
	ran, deferred := ranSubjects(t, statePath)
	if fmt.Sprint(ran) != "[example.com f1.example f2.example f3.example]" || len(deferred) != 4 {
		t.Fatalf("run 1 ran %v, deferred %v", ran, deferred)
	}
	if got := len(world.dataRequests()); got != 4 {
		t.Fatalf("run 1 sent %d requests", got)
	}

	// Run 2, a quota of 6 now (same key, same day), -refresh (a drift
	// check asks the vendors, not the cache): 2 left, and they go to
	// subjects never verified, not to those run 1 verified.
	quotaEngagement(t, dir, "a", "6/day", subjects, "")
	r = cli("apply", "-auto-approve", "-refresh", "-parallelism=1", "a")
	if r.Code != exitOK {
		t.Fatalf("apply a (2): %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	ran, deferred = ranSubjects(t, statePath)
	if fmt.Sprint(ran) != "[f4.example f5.example]" || len(deferred) != 6 {
		t.Fatalf("run 2 ran %v, deferred %v\n%s", ran, deferred, r.Stdout)
	}
	// example.com's findings (verified by run 1) stay, unverified, saying why.
	st, err := state.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, f := range st.Findings {
		if f.Name == "example.com" {
			found++
			if !nextWindow.MatchString(f.Unverified) {
				t.Errorf("finding %s %s %s unverified %q", f.Name, f.Type, f.Value, f.Unverified)
			}
		}
	}
	if found == 0 {
		t.Fatal("example.com's findings are gone")
	}

	// Engagement b shares the key, in a process of its own: the day is
	// spent, it defers everything and sends nothing.
	b := quotaEngagement(t, dir, "b", "6/day", []string{"example.com", "g1.example", "g2.example"}, "")
	r = cli("plan", "b")
	if !regexp.MustCompile(`virustotal\s+6/day\s+6\s+0\s+`).MatchString(r.Stdout) || !strings.Contains(r.Stdout, "3 queries (at least 3 requests) will be deferred") {
		t.Fatalf("plan b:\n%s", r.Stdout)
	}
	cmd := cliCommand(t, dir, "apply", "-auto-approve", "b")
	cmd.Env = append(cmd.Env, environ...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "virustotal: 3 queries: deferred: quota") {
		t.Fatalf("apply b (a process): %v\n%s", err, out)
	}
	if _, deferred := ranSubjects(t, filepath.Join(b, "reconform.rfstate")); len(deferred) != 3 {
		t.Fatalf("b deferred %v", deferred)
	}
	if got := len(world.dataRequests()); got != 6 || world.vt.Counted() > 6 {
		t.Fatalf("the world received %d requests (counted %d) for a quota of 6", got, world.vt.Counted())
	}

	// The ledger: one key, used 6 of 6, both engagements; no secret in it.
	r = cli("quota", "-json", "a")
	var view quotaLedgerView
	if err := json.Unmarshal([]byte(r.Stdout), &view); err != nil || r.Code != exitOK {
		t.Fatalf("quota -json: %v\n%s\n%s", err, r.Stdout, r.Stderr)
	}
	if len(view.Keys) != 1 {
		t.Fatalf("keys %+v", view.Keys)
	}
	k := view.Keys[0]
	if k.ProviderType != "virustotal" || len(k.Windows) != 1 || k.Windows[0].Used != 6 || k.Windows[0].Left != 0 || fmt.Sprint(k.Providers) != "[virustotal]" ||
		len(k.Engagements) != 2 || k.Engagements[0].Name != "a" || k.Engagements[1].Name != "b" || k.LastReconciled.IsZero() {
		t.Fatalf("key %+v", k)
	}
	r = cli("quota")
	if !strings.Contains(r.Stdout, "virustotal key "+k.KeyID) || !strings.Contains(r.Stdout, "used by: a (") {
		t.Fatalf("quota:\n%s", r.Stdout)
	}
	checkFilesHoldNone(t, xdg, []string{quotaKey}, nil)
	checkFilesHoldNone(t, dir, []string{quotaKey}, nil)
}

// TestQuotaReconciledWithTheVendor: requests made elsewhere with the key
// count: apply reconciles first (the vendor's figure wins), and
// quota -refresh shows what the vendor says.
func TestQuotaReconciledWithTheVendor(t *testing.T) {
	world := startQuotaWorld(t, 5)
	world.vt.SpendElsewhere(3)
	dir := t.TempDir()
	environ := []string{"VT_KEY=" + quotaKey, "RECONFORM_VAR_vt_endpoint=" + world.endpoint, "XDG_STATE_HOME=" + filepath.Join(dir, "xdg")}
	quotaEngagement(t, dir, "c", "5/day", []string{"f1.example", "f2.example", "f3.example", "f4.example"}, "")
	r := runCLI(t, dir, environ, "apply", "-auto-approve", "-parallelism=1", "c")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "the vendor counts 3 requests of this key's 5/day quota, the ledger 0") {
		t.Fatalf("apply: %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if got := len(world.dataRequests()); got != 2 || world.vt.Counted() != 5 {
		t.Fatalf("sent %d (vendor counts %d)", got, world.vt.Counted())
	}
	world.vt.SpendElsewhere(0)
	r = runCLI(t, dir, environ, "quota", "-refresh", "c")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "refresh: virustotal 5/day: the vendor counts 5 of 5; the ledger's count stands") ||
		!regexp.MustCompile(`5/day\s+5\s+0\s+\S+ 00:00 UTC\s+5 of 5 at `).MatchString(r.Stdout) {
		t.Fatalf("quota -refresh: %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := runCLI(t, t.TempDir(), environ, "quota", "-refresh"); r.Code != exitError || !strings.Contains(r.Stderr, "-refresh needs an engagement") {
		t.Fatalf("refresh without an engagement: %+v", r)
	}
}

// TestQuotaTwoProcessesAtOnce: two runs of two engagements sharing a key,
// started at once on one machine: together they send exactly the quota.
func TestQuotaTwoProcessesAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI as processes")
	}
	runTogether(t, "", func(t *testing.T, dir string) []string {
		return []string{"XDG_STATE_HOME=" + filepath.Join(dir, "xdg")}
	})
}

// TestQuotaSharedThroughPG: two runners sharing the pg backend (two
// processes, their local ledgers apart) share its quota ledger: together
// they never exceed the quota, and the ledger is the database's.
func TestQuotaSharedThroughPG(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI as processes")
	}
	conn := pgtest.Database(t)
	var xdgs []string
	runTogether(t, "  backend \"pg\" {\n    schema_name = \"fleet\"\n  }\n", func(t *testing.T, dir string) []string {
		xdg := t.TempDir()
		xdgs = append(xdgs, xdg)
		return []string{"XDG_STATE_HOME=" + xdg, "RECONFORM_PG_CONN=" + conn}
	})
	for _, xdg := range xdgs {
		if _, err := os.Stat(filepath.Join(xdg, "reconform", "quota-ledger.json")); err == nil {
			t.Errorf("a pg runner counted in its local ledger %s", xdg)
		}
	}
}

// runTogether applies two engagements sharing a key (quota 5, 6 subjects
// each) in two processes at once; env gives each process its environment.
func runTogether(t *testing.T, backendBlock string, env func(t *testing.T, dir string) []string) {
	world := startQuotaWorld(t, 5)
	dir := t.TempDir()
	base := []string{"VT_KEY=" + quotaKey, "RECONFORM_VAR_vt_endpoint=" + world.endpoint}
	var envs [][]string
	for p, name := range []string{"d1", "d2"} {
		var subjects []string
		for i := 0; i < 6; i++ {
			subjects = append(subjects, fmt.Sprintf("h%d-%d.example", p, i))
		}
		quotaEngagement(t, dir, name, "5/day", subjects, backendBlock)
		e := append(append([]string{}, base...), env(t, dir)...)
		envs = append(envs, e)
		if backendBlock != "" {
			if r := runCLI(t, dir, e, "init", name); r.Code != exitOK {
				t.Fatalf("init %s: %s", name, r.Stderr)
			}
		}
	}
	// One shared local ledger unless each process has its own env.
	if backendBlock == "" {
		envs[1] = envs[0]
	}
	outs := make([]string, 2)
	var wg sync.WaitGroup
	for p, name := range []string{"d1", "d2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := cliCommand(t, dir, "apply", "-auto-approve", "-parallelism=3", name)
			cmd.Env = append(cmd.Env, envs[p]...)
			out, err := cmd.CombinedOutput()
			if _, ok := err.(*exec.ExitError); err != nil && !ok {
				t.Error(err)
			}
			outs[p] = string(out)
		}()
	}
	wg.Wait()
	if got := len(world.dataRequests()); got != 5 || world.vt.Counted() != 5 {
		t.Fatalf("the world received %d requests for a quota of 5:\n%s\n%s", got, outs[0], outs[1])
	}
	deferred := 0
	for _, out := range outs {
		if strings.Contains(out, "QuotaExceededError") {
			t.Errorf("a run went past the quota:\n%s", out)
		}
		deferred += strings.Count(out, "deferred: quota; the next window opens")
	}
	if deferred == 0 {
		t.Errorf("no run says it deferred:\n%s\n%s", outs[0], outs[1])
	}
	r := runCLI(t, dir, envs[0], "quota", "-json", "d1")
	var view quotaLedgerView
	if err := json.Unmarshal([]byte(r.Stdout), &view); err != nil || len(view.Keys) != 1 || view.Keys[0].Windows[0].Used != 5 || len(view.Keys[0].Engagements) != 2 {
		t.Fatalf("ledger: %v\n%s\n%s", err, r.Stdout, r.Stderr)
	}
	if backendBlock != "" && !strings.Contains(view.Ledger, "pg schema fleet") {
		t.Errorf("ledger %q", view.Ledger)
	}
}
