package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/schema"
)

var t0 = time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)

// merge is Merge with no derived facts: these tests are about merging,
// not about what engine/analysis concludes.
func merge(prev *State, run *schema.RunResult, opts MergeOptions) *State {
	opts.Derive = func([]schema.Finding, analysis.Options) []schema.Fact { return nil }
	return Merge(prev, run, opts)
}

func q(provider string, op schema.Op, subject string) schema.Query {
	s, err := schema.ParseSubject(subject)
	if err != nil {
		panic(err)
	}
	return schema.Query{Provider: provider, Op: op, Subject: s}
}

func inst(block string, query schema.Query, status schema.InstanceStatus, reason string, ids ...string) schema.InstanceResult {
	return schema.InstanceResult{Query: query, Key: query.Key(), Block: block, Status: status, Reason: reason,
		Requests: 1, Findings: len(ids), FindingIDs: ids}
}

func finding(name, typ, value string, last time.Time, source string, query schema.Query) schema.Finding {
	f := schema.NewFinding(name, typ, value)
	f.FirstSeen = last.Add(-48 * time.Hour)
	f.LastSeen = last
	f.Count = 3
	f.Sources = []string{source}
	f.Query = query.Key()
	return f
}

// twoProviderRun builds a run where securitytrails reports A/TXT records
// and crtsh reports a host, with the given statuses.
func twoProviderRun(at time.Time, stStatus, crtStatus schema.InstanceStatus, stFindings, crtFindings []schema.Finding) *schema.RunResult {
	stQ := q("securitytrails", schema.OpResolutions, "acme.example")
	crtQ := q("crtsh", schema.OpSubdomains, "acme.example")
	ids := func(fs []schema.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID())
		}
		return out
	}
	reason := func(s schema.InstanceStatus) string {
		switch s {
		case schema.StatusFailed:
			return "HTTP 503 from api.securitytrails.com"
		case schema.StatusSkipped:
			return "budget"
		}
		return ""
	}
	run := &schema.RunResult{
		Engagement: "acme", ConfigHash: "h1", StartedAt: at.Add(-time.Minute), FinishedAt: at,
		Instances: []schema.InstanceResult{
			inst("query.history", stQ, stStatus, reason(stStatus), ids(stFindings)...),
			inst("query.subs", crtQ, crtStatus, reason(crtStatus), ids(crtFindings)...),
		},
	}
	run.Findings = append(append(run.Findings, stFindings...), crtFindings...)
	return run
}

func stFinding(name, typ, value string, last time.Time) schema.Finding {
	return finding(name, typ, value, last, "securitytrails", q("securitytrails", schema.OpResolutions, "acme.example"))
}

func crtFinding(name string) schema.Finding {
	f := schema.NewFinding(name, schema.TypeHost, "")
	f.Sources = []string{"crtsh"}
	f.Query = q("crtsh", schema.OpSubdomains, "acme.example").Key()
	return f
}

func ids(s *State) []string {
	var out []string
	for _, f := range s.Findings {
		out = append(out, f.ID())
	}
	return out
}

func TestMergeProviderFailureRemovesNothing(t *testing.T) {
	run1 := twoProviderRun(t0, schema.StatusOK, schema.StatusOK,
		[]schema.Finding{stFinding("www.acme.example", "A", "198.51.100.7", t0), stFinding("acme.example", "TXT", "v=spf1 -all", t0)},
		[]schema.Finding{crtFinding("vpn.acme.example"), crtFinding("dev.acme.example")})
	s1 := merge(nil, run1, MergeOptions{})

	// Second run: securitytrails is down; crtsh works and no longer
	// reports dev.
	t1 := t0.Add(24 * time.Hour)
	run2 := twoProviderRun(t1, schema.StatusFailed, schema.StatusOK, nil, []schema.Finding{crtFinding("vpn.acme.example")})
	s2 := merge(s1, run2, MergeOptions{})

	want := []string{"acme.example TXT v=spf1 -all", "vpn.acme.example HOST ", "www.acme.example A 198.51.100.7"}
	if d := cmp.Diff(want, ids(s2)); d != "" {
		t.Fatalf("findings after a failed provider (-want +got):\n%s", d)
	}
	for _, f := range s2.Findings {
		if f.Sources[0] == "securitytrails" {
			if f.Unverified != "query failed: HTTP 503 from api.securitytrails.com" || !f.UnverifiedSince.Equal(t1) {
				t.Errorf("%s: unverified %q since %v", f.ID(), f.Unverified, f.UnverifiedSince)
			}
			if f.Currency != Current {
				t.Errorf("%s: an unverified finding kept its currency? %s", f.ID(), f.Currency)
			}
		} else if f.Unverified != "" {
			t.Errorf("%s: verified finding marked %q", f.ID(), f.Unverified)
		}
	}

	// Third run: the provider is back and reports only the new A record.
	t2 := t1.Add(24 * time.Hour)
	run3 := twoProviderRun(t2, schema.StatusOK, schema.StatusSkipped,
		[]schema.Finding{stFinding("www.acme.example", "A", "203.0.113.10", t2), stFinding("acme.example", "TXT", "v=spf1 -all", t2)}, nil)
	s3 := merge(s2, run3, MergeOptions{})
	want = []string{"acme.example TXT v=spf1 -all", "vpn.acme.example HOST ", "www.acme.example A 203.0.113.10"}
	if d := cmp.Diff(want, ids(s3)); d != "" {
		t.Fatalf("findings after recovery (-want +got):\n%s", d)
	}
	txt := s3.FindingByID("acme.example TXT v=spf1 -all")
	if txt.Unverified != "" || !txt.UnverifiedSince.IsZero() || !txt.LastSeen.Equal(t2) {
		t.Errorf("seen again: %+v", txt)
	}
	if v := s3.FindingByID("vpn.acme.example HOST "); v.Unverified != "skipped: budget" {
		t.Errorf("skipped instance: unverified %q", v.Unverified)
	}
}

func TestMergeNotPlannedAndForget(t *testing.T) {
	run1 := twoProviderRun(t0, schema.StatusOK, schema.StatusOK, nil, []schema.Finding{crtFinding("vpn.acme.example")})
	s1 := merge(nil, run1, MergeOptions{})
	empty := &schema.RunResult{Engagement: "acme", FinishedAt: t0.Add(time.Hour)}
	s2 := merge(s1, empty, MergeOptions{ForgetAfter: 48 * time.Hour})
	if got := s2.Findings[0].Unverified; got != "not planned in this run" {
		t.Fatalf("unverified = %q", got)
	}
	s3 := merge(s2, &schema.RunResult{FinishedAt: t0.Add(47 * time.Hour)}, MergeOptions{ForgetAfter: 48 * time.Hour})
	if len(s3.Findings) != 1 || !s3.Findings[0].UnverifiedSince.Equal(t0.Add(time.Hour)) {
		t.Fatalf("kept before forget_after: %+v", s3.Findings)
	}
	s4 := merge(s3, &schema.RunResult{FinishedAt: t0.Add(49 * time.Hour)}, MergeOptions{ForgetAfter: 48 * time.Hour})
	if len(s4.Findings) != 0 {
		t.Fatalf("not forgotten after forget_after: %+v", s4.Findings)
	}
}

func TestMergeSeenAgainUpdates(t *testing.T) {
	a := stFinding("www.acme.example", "A", "198.51.100.7", t0)
	s1 := merge(nil, twoProviderRun(t0, schema.StatusOK, schema.StatusOK, []schema.Finding{a}, nil), MergeOptions{})
	b := a
	b.LastSeen = t0.Add(10 * 24 * time.Hour)
	b.FirstSeen = t0.Add(-100 * 24 * time.Hour)
	b.Count = 9
	b.Sources = []string{"circl"}
	run := twoProviderRun(b.LastSeen, schema.StatusOK, schema.StatusOK, []schema.Finding{b}, nil)
	s2 := merge(s1, run, MergeOptions{})
	got := s2.Findings[0]
	if !got.LastSeen.Equal(b.LastSeen) || !got.FirstSeen.Equal(b.FirstSeen) || got.Count != 9 {
		t.Errorf("times/count not updated: %+v", got)
	}
	if d := cmp.Diff([]string{"circl", "securitytrails"}, got.Sources); d != "" {
		t.Errorf("sources: %s", d)
	}
	if got.Block != "query.history" || len(got.Instances) != 1 {
		t.Errorf("block/instances: %q %v", got.Block, got.Instances)
	}
}

func TestMergeCurrency(t *testing.T) {
	old := stFinding("old.acme.example", "A", "198.51.100.1", t0.Add(-60*24*time.Hour))
	recent := stFinding("new.acme.example", "A", "198.51.100.2", t0.Add(-2*24*time.Hour))
	live := stFinding("live.acme.example", "A", "198.51.100.3", t0.Add(-90*24*time.Hour))
	live.Current = true
	s := merge(nil, twoProviderRun(t0, schema.StatusOK, schema.StatusOK, []schema.Finding{old, recent, live}, []schema.Finding{crtFinding("h.acme.example")}), MergeOptions{})
	got := map[string]Currency{}
	for _, f := range s.Findings {
		got[f.Name] = f.Currency
	}
	want := map[string]Currency{"old.acme.example": Historical, "new.acme.example": Current, "live.acme.example": Current, "h.acme.example": Current}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("currency (-want +got):\n%s", d)
	}
	s = merge(nil, twoProviderRun(t0, schema.StatusOK, schema.StatusOK, []schema.Finding{old}, nil), MergeOptions{CurrentWindow: 90 * 24 * time.Hour})
	if s.Findings[0].Currency != Current {
		t.Errorf("current_window not applied")
	}
}

func TestMergeFactsSurviveUnverified(t *testing.T) {
	mx := stFinding("acme.example", "MX", "10 aspmx.l.google.com", t0)
	run1 := twoProviderRun(t0, schema.StatusOK, schema.StatusOK, []schema.Finding{mx}, nil)
	run1.Facts = []schema.Fact{{Subject: "acme.example", Kind: "mail_provider", Value: "google-workspace", Evidence: []string{mx.ID()}}}
	s1 := merge(nil, run1, MergeOptions{})
	run2 := twoProviderRun(t0.Add(time.Hour), schema.StatusFailed, schema.StatusOK, nil, nil)
	s2 := merge(s1, run2, MergeOptions{})
	if d := cmp.Diff(s1.Facts, s2.Facts); d != "" {
		t.Errorf("a provider failure changed the facts (-before +after):\n%s", d)
	}
	run3 := twoProviderRun(t0.Add(2*time.Hour), schema.StatusOK, schema.StatusOK, nil, nil)
	if s3 := merge(s2, run3, MergeOptions{}); len(s3.Facts) != 0 {
		t.Errorf("fact kept although its evidence is gone: %v", s3.Facts)
	}
}

func TestMergeRedactsSecrets(t *testing.T) {
	run := twoProviderRun(t0, schema.StatusFailed, schema.StatusOK, nil, nil)
	run.Instances[0].Reason = "401 for https://api.example/v1?apikey=S3CRETKEY123"
	run.Warnings = []string{"key S3CRETKEY123 rejected"}
	s := merge(nil, run, MergeOptions{Secrets: []string{"S3CRETKEY123", "ab"}})
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "S3CRETKEY123") || !strings.Contains(buf.String(), "apikey=[redacted]") {
		t.Errorf("secret not redacted:\n%s", buf.String())
	}
}

// sample is a state with one of everything.
func sample() *State {
	run := twoProviderRun(t0, schema.StatusOK, schema.StatusFailed,
		[]schema.Finding{stFinding("www.acme.example", "A", "198.51.100.7", t0), stFinding("acme.example", "TXT", `v=spf1 include:_spf.google.com <&> ~all`, t0)},
		nil)
	run.Facts = []schema.Fact{{Subject: "acme.example", Kind: "spf", Value: "softfail", Evidence: []string{"acme.example TXT v=spf1 include:_spf.google.com <&> ~all"}}}
	run.Warnings = []string{"crtsh: slow"}
	s := merge(nil, run, MergeOptions{})
	s.Lineage = "3f2c7a1e-0000-4000-8000-000000000001"
	s.Serial = 7
	return s
}

func TestEncodeIsCanonical(t *testing.T) {
	var a, b bytes.Buffer
	s := sample()
	if err := Encode(&a, s); err != nil {
		t.Fatal(err)
	}
	// Shuffle everything the encoder must sort.
	s2 := sample()
	s2.Findings[0], s2.Findings[1] = s2.Findings[1], s2.Findings[0]
	s2.Instances[0], s2.Instances[1] = s2.Instances[1], s2.Instances[0]
	if err := Encode(&b, s2); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatalf("same content, different bytes:\n%s\n---\n%s", a.String(), b.String())
	}
	if !strings.HasSuffix(a.String(), "}\n") || !strings.Contains(a.String(), "\n  \"facts\": [\n    {\n      \"evidence\"") {
		t.Errorf("layout:\n%s", a.String())
	}
	// Round trip: decode and encode again gives the same bytes.
	back, err := Decode(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	if err := Encode(&c, back); err != nil {
		t.Fatal(err)
	}
	if c.String() != a.String() {
		t.Fatalf("round trip changed the bytes:\n%s", cmp.Diff(a.String(), c.String()))
	}
	checkGoldenFile(t, "testdata/sample.rfstate", a.Bytes())
}

func checkGoldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 to create)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}

func TestWriteSerialLineageHistory(t *testing.T) {
	dir := t.TempDir()
	st := Store{Path: filepath.Join(dir, "acme.rfstate")}
	prev, err := st.Read()
	if err != nil || prev != nil {
		t.Fatalf("empty store: %v %v", prev, err)
	}
	s1 := sample()
	if w, err := st.Write(nil, s1); err != nil || !w {
		t.Fatal(w, err)
	}
	if s1.Serial != 1 || len(s1.Lineage) != 36 {
		t.Fatalf("first write: serial %d lineage %q", s1.Serial, s1.Lineage)
	}
	r1, err := st.Read()
	if err != nil {
		t.Fatal(err)
	}
	// Same content again: nothing written, serial unchanged.
	again := sample()
	if w, err := st.Write(r1, again); err != nil || w {
		t.Fatalf("identical write: written=%v err=%v", w, err)
	}
	if again.Serial != 1 {
		t.Errorf("serial moved without a change: %d", again.Serial)
	}
	// A change: serial 2, same lineage, serial 1 kept in history.
	s2 := sample()
	s2.Remove("www.acme.example A 198.51.100.7")
	if w, err := st.Write(r1, s2); err != nil || !w {
		t.Fatal(w, err)
	}
	if s2.Serial != 2 || s2.Lineage != r1.Lineage {
		t.Errorf("second write: serial %d lineage %q (was %q)", s2.Serial, s2.Lineage, r1.Lineage)
	}
	hist, err := st.History()
	if err != nil || len(hist) != 1 || hist[0].Serial != 1 || hist[0].LineagePrefix != r1.Lineage[:8] {
		t.Fatalf("history: %+v %v", hist, err)
	}
	old, err := ReadFile(hist[0].Path)
	if err != nil || len(old.Findings) != 2 {
		t.Fatalf("history file: %v %v", old, err)
	}
	// A first write never overwrites a state that appeared meanwhile.
	if _, err := st.Write(nil, sample()); err == nil {
		t.Errorf("first write over an existing state succeeded")
	}
}

func TestReadRefusesFutureAndCorrupt(t *testing.T) {
	var good bytes.Buffer
	if err := Encode(&good, sample()); err != nil {
		t.Fatal(err)
	}
	future := strings.Replace(good.String(), `"format_version": 1`, `"format_version": 2`, 1)
	// A newer format may not even parse as this one.
	futureShape := strings.Replace(future, `"findings": [`, `"findings": {"shards": 3}, "x": [`, 1)
	tests := map[string]struct {
		content string
		want    string
	}{
		"future":             {future, "state was written by a newer reconform"},
		"future, new layout": {futureShape, "format_version 2, this build reads format_version 1"},
		"truncated":          {good.String()[:len(good.String())/2], "is not a valid reconform state"},
		"not json":           {"hello", "is not a valid reconform state"},
		"no version":         {"{}", "no format_version"},
		"bad currency":       {strings.Replace(good.String(), `"currency": "current"`, `"currency": "maybe"`, 1), "currency must be"},
		"empty":              {"", "is not a valid reconform state"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "reconform.rfstate")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			info, _ := os.Stat(path)
			_, err := Store{Path: path}.Read()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want it to contain %q and the path", err, tc.want)
			}
			// Writing over it is not possible without a readable prev,
			// and nothing touched the file.
			got, _ := os.ReadFile(path)
			after, _ := os.Stat(path)
			if string(got) != tc.content || !after.ModTime().Equal(info.ModTime()) {
				t.Errorf("the file changed")
			}
		})
	}
	var ve *VersionError
	path := filepath.Join(t.TempDir(), "s")
	os.WriteFile(path, []byte(futureShape), 0o644)
	if _, err := ReadFile(path); !errors.As(err, &ve) || ve.FileVersion != 2 {
		t.Errorf("future layout: %v", err)
	}
}

func TestLockContention(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "reconform.rfstate")}
	ctx := context.Background()
	l1, err := st.AcquireLock(ctx, "apply", "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.AcquireLock(ctx, "apply", "test", 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Info.ID != l1.Info.ID || le.Info.Operation != "apply" {
		t.Fatalf("second lock: %v", err)
	}
	if !strings.Contains(err.Error(), "reconform force-unlock "+l1.Info.ID) {
		t.Errorf("error does not say how to unlock: %v", err)
	}
	// With a timeout, the second run gets the lock once the first lets go.
	go func() {
		time.Sleep(150 * time.Millisecond)
		l1.Unlock()
	}()
	l2, err := st.AcquireLock(ctx, "plan", "test", 5*time.Second)
	if err != nil {
		t.Fatalf("lock with timeout: %v", err)
	}
	// Force-unlock needs the right ID.
	if err := st.ForceUnlock("wrong"); err == nil {
		t.Errorf("force-unlock with a wrong ID succeeded")
	}
	if err := st.ForceUnlock(l2.Info.ID); err != nil {
		t.Fatal(err)
	}
	if info, _ := st.ReadLock(); info != nil {
		t.Errorf("still locked: %+v", info)
	}
	// Unlocking a lock that was force-unlocked and retaken leaves the new one.
	l3, _ := st.AcquireLock(ctx, "apply", "test", 0)
	if err := l2.Unlock(); err == nil {
		t.Errorf("stale holder removed someone else's lock")
	}
	l3.Unlock()
	// A cancelled wait stops.
	l4, _ := st.AcquireLock(ctx, "apply", "test", 0)
	defer l4.Unlock()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.AcquireLock(cctx, "apply", "test", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestLeftLockFileNeverBlocks(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "reconform.rfstate")}
	os.MkdirAll(st.MetaDir(), 0o755)
	// A process that is gone, as a killed run leaves it; and garbage.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no 'true' binary")
	}
	host, _ := os.Hostname()
	for name, content := range map[string]string{
		"killed run":    fmt.Sprintf(`{"id":"x","who":"x","operation":"apply","host":%q,"pid":%d,"os_lock":true}`, host, gone.Process.Pid),
		"older version": fmt.Sprintf(`{"id":"x","who":"x","operation":"apply","host":%q,"pid":%d}`, host, gone.Process.Pid),
		"garbage":       "{half a lock",
		"empty":         "",
	} {
		os.WriteFile(st.LockPath(), []byte(content), 0o644)
		l, err := st.AcquireLock(context.Background(), "apply", "test", 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if held, _ := st.LockHeld(); !held {
			t.Errorf("%s: lock taken but not held", name)
		}
		l.Unlock()
		if _, err := os.Stat(st.LockPath()); !os.IsNotExist(err) {
			t.Errorf("%s: lock file left after Unlock", name)
		}
	}
	// An older reconform's lock (no OS lock) whose process still runs here
	// is honoured.
	live := exec.Command("sleep", "30")
	if err := live.Start(); err != nil {
		t.Skip("no 'sleep' binary")
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	os.WriteFile(st.LockPath(), []byte(fmt.Sprintf(`{"id":"old-1","who":"x","operation":"apply","host":%q,"pid":%d}`, host, live.Process.Pid)), 0o644)
	_, err := st.AcquireLock(context.Background(), "apply", "test", 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Info.ID != "old-1" {
		t.Fatalf("older reconform's live lock: %v", err)
	}
}

// TestKilledHolderLosesTheLock kills a process that holds the lock (as
// SIGKILL or SIGPIPE would end it, with no chance to clean up): the next
// run takes the lock at once.
func TestKilledHolderLosesTheLock(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "reconform.rfstate")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RECONFORM_LOCK_HOLDER="+path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil {
		t.Fatalf("holder did not start: %v", err)
	}
	st := Store{Path: path}
	if _, err := st.AcquireLock(context.Background(), "apply", "test", 0); err == nil {
		t.Fatal("lock taken while the holder runs")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	l, err := st.AcquireLock(context.Background(), "apply", "test", 0)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Unlock()
}

// TestUnreadableLockHintRuns: the ID offered for a lock file that is not a
// lock record is one force-unlock accepts, and only for that content.
func TestUnreadableLockHintRuns(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "reconform.rfstate")}
	l, err := st.AcquireLock(context.Background(), "apply", "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	os.WriteFile(st.LockPath(), []byte("\x00garbage; rm -rf /"), 0o644)
	_, err = st.AcquireLock(context.Background(), "apply", "test", 0)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("not locked: %v", err)
	}
	id := le.Info.ID
	if !strings.HasPrefix(id, UnreadablePrefix) || !safeID(id) || !strings.Contains(err.Error(), "reconform force-unlock "+id) {
		t.Fatalf("hint for an unreadable lock: %q", err)
	}
	if err := st.ForceUnlock(UnreadablePrefix + "000000000000"); err == nil {
		t.Error("force-unlock of an unreadable lock with another content's ID succeeded")
	}
	if err := st.ForceUnlock(id); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeLockInfo(f *testing.F) {
	f.Add([]byte(`{"id":"0b6f2c1e-8d1a-4c55-9f0e-5d2c0f6b9a11","who":"a@b","operation":"apply","created":"2026-01-02T03:04:05Z","pid":12}`))
	f.Add([]byte(`{"id":"$(reboot)"}`))
	f.Add([]byte(`{"id":"-rf"}`))
	f.Add([]byte(`{"id":""}`))
	f.Add([]byte(`not json`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		info := DecodeLockInfo(data)
		if !safeID(info.ID) {
			t.Fatalf("ID %q cannot be pasted into a shell", info.ID)
		}
		if strings.HasPrefix(info.ID, UnreadablePrefix) && len(data) > 0 && DecodeLockInfo(data).ID != info.ID {
			t.Fatalf("unreadable ID is not stable")
		}
	})
}

// TestLockFalseNeverLosesAWrite races two writers from the same read, as
// two runs started with -lock=false: one write wins, the other is refused
// at its rename; never both "succeed" with the same serial.
func TestLockFalseNeverLosesAWrite(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "reconform.rfstate")}
	if _, err := st.Write(nil, bigState(2000, 0)); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 20; round++ {
		a, _ := st.Read()
		b, _ := st.Read()
		errs := make(chan error, 2)
		for i, prev := range []*State{a, b} {
			go func() {
				_, err := st.Write(prev, bigState(2000, round*2+i))
				errs <- err
			}()
		}
		e1, e2 := <-errs, <-errs
		if (e1 == nil) == (e2 == nil) {
			t.Fatalf("round %d: both or neither write succeeded: %v / %v", round, e1, e2)
		}
		for _, err := range []error{e1, e2} {
			if err != nil && !strings.Contains(err.Error(), "changed since it was read") {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if got, _ := st.Read(); got.Serial != uint64(round+1) {
			t.Fatalf("round %d: serial %d", round, got.Serial)
		}
	}
}

// bigState is a state of n findings.
func bigState(n int, serial int) *State {
	s := New("acme")
	s.Lineage = "00000000-0000-4000-8000-000000000000"
	for i := 0; i < n; i++ {
		f := Finding{Finding: schema.NewFinding(fmt.Sprintf("h%07d.acme.example", i), "A", fmt.Sprintf("10.%d.%d.%d", serial%250, i/250%250, i%250)), Currency: Current,
			Instances: []string{"securitytrails resolutions acme.example"}, Block: "query.history"}
		f.Sources = []string{"securitytrails"}
		f.LastSeen = t0
		s.Findings = append(s.Findings, f)
	}
	return s
}

// TestMain lets the kill test re-execute this binary as a writer.
func TestMain(m *testing.M) {
	if path := os.Getenv("RECONFORM_LOCK_HOLDER"); path != "" {
		if _, err := (Store{Path: path}).AcquireLock(context.Background(), "apply", "test", 0); err != nil {
			os.Exit(3)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	if path := os.Getenv("RECONFORM_STATE_WRITER"); path != "" {
		st := Store{Path: path}
		for i := 0; ; i++ {
			prev, err := st.Read()
			if err != nil {
				fmt.Fprintln(os.Stderr, "writer read:", err)
				os.Exit(3)
			}
			if _, err := st.Write(prev, bigState(8000, i)); err != nil {
				fmt.Fprintln(os.Stderr, "writer:", err)
				os.Exit(3)
			}
			if i == 0 {
				fmt.Println("ready")
			}
		}
	}
	os.Exit(m.Run())
}

func TestKilledWriterLeavesReadableState(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "reconform.rfstate")
	// Kill the writer at varying moments: half the rounds the moment its
	// temp file appears (in the middle of a write, before the rename),
	// the others after a delay.
	midWrite := 0
	for round := 0; round < 6; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "RECONFORM_STATE_WRITER="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		if _, err := out.Read(buf); err != nil {
			t.Fatalf("writer did not start: %v %s", err, stderr.String())
		}
		if round%2 == 0 {
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if tmps, _ := filepath.Glob(filepath.Join(dir, ".reconform.rfstate.tmp-*")); len(tmps) > 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
		} else {
			time.Sleep(time.Duration(50+round*97) * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if tmps, _ := filepath.Glob(filepath.Join(dir, ".reconform.rfstate.tmp-*")); len(tmps) > 0 {
			midWrite++
			// The next write removes a dead writer's leftovers once they
			// are old enough to be nobody's.
			old := time.Now().Add(-2 * atomicfile.StaleAge)
			for _, tmp := range tmps {
				os.Chtimes(tmp, old, old)
			}
			st := Store{Path: path}
			prev, _ := st.Read()
			if _, err := st.Write(prev, bigState(10, 99)); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".reconform.rfstate.tmp-*")); len(left) > 0 {
				t.Fatalf("round %d: %d temporary files of a killed writer left after the next write", round, len(left))
			}
			prev, _ = st.Read()
			if _, err := st.Write(prev, bigState(8000, 98)); err != nil {
				t.Fatal(err)
			}
		}
		s, err := ReadFile(path)
		if err != nil {
			t.Fatalf("round %d: state unreadable after SIGKILL: %v", round, err)
		}
		if len(s.Findings) != 8000 || s.Serial == 0 {
			t.Fatalf("round %d: state has %d findings, serial %d", round, len(s.Findings), s.Serial)
		}
	}
	if midWrite == 0 {
		t.Errorf("no kill landed in the middle of a write")
	}
	t.Logf("%d of 6 kills in the middle of a write", midWrite)
	// Temp files of killed writers are the only leftovers; every history
	// file is a whole state.
	hist, _ := Store{Path: path}.History()
	for _, h := range hist[max(0, len(hist)-3):] {
		if _, err := ReadFile(h.Path); err != nil {
			t.Errorf("history %s: %v", h.Path, err)
		}
	}
}

func FuzzReadState(f *testing.F) {
	var good bytes.Buffer
	Encode(&good, sample())
	f.Add(good.Bytes())
	f.Add([]byte(`{"format_version": 1}`))
	f.Add([]byte(`{"format_version": 2, "findings": {}}`))
	f.Add([]byte(`{"format_version": 1, "findings": [{"name":"a","type":"A","value":"1","currency":"current"},{"name":"a","type":"A","value":"1","currency":"current"}]}`))
	f.Add([]byte(`{"format_version": 1, "findings": null, "x": [[[{}]]]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"format_version": 1, "outputs": [{"name": "o", "type": ["map", "string"], "value": {"k": "v\u00e9", "n": [1e3, -0.5, true, null]}}], "findings": [{"name":"a","type":"A","value":"1","currency":"current","blocks":["query.x","module.m[\"k\"].query.y"]}], "run": {"plan": "p", "targets": ["query.x"]}}`))
	f.Add([]byte(`{"findings":[{"value":"a\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t","name":"n","type":"TXT","currency":"historical","count":-0,"first_seen":null}],"format_version":1e0}`))
	f.Add([]byte(`{"format_version": 1, "run": {"instances": {"ok": 2}, "requests": null, "started_at": "2026-01-02T03:04:05.123456789+02:00"}, "instances": [{"query": {"params": {"a": "b"}, "subject": {"kind": "ip", "value": "1.2.3.4"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(bytes.NewReader(data))
		if !json.Valid(data) {
			if err == nil {
				t.Fatalf("accepted invalid JSON: %q", data)
			}
			return
		}
		if err != nil {
			return
		}
		for i := range s.Findings {
			got, err := appendFinding(nil, &s.Findings[i])
			if err != nil {
				t.Fatal(err)
			}
			if want := reflectFinding(t, &s.Findings[i]); string(got) != want {
				t.Fatalf("appendFinding differs from encoding/json:\n%s", cmp.Diff(want, string(got)))
			}
		}
		var one, two bytes.Buffer
		if err := Encode(&one, s); err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := Decode(bytes.NewReader(one.Bytes()))
		if err != nil {
			t.Fatalf("re-read of our own output: %v\n%s", err, one.String())
		}
		if err := Encode(&two, back); err != nil {
			t.Fatal(err)
		}
		if one.String() != two.String() {
			t.Fatalf("not stable:\n%s", cmp.Diff(one.String(), two.String()))
		}
	})
}

func TestDecodeAcceptsAnyValidLayout(t *testing.T) {
	// Keys in any order, compact, nulls, escapes, unknown keys.
	in := `{"serial":3,"unknown":{"a":[1,2.5e-3,true,null]},"findings":[{"value":"caf\u00e9 \"x\"","type":"TXT","name":"a.example","currency":"current","sources":["b","a"],"last_seen":"2026-01-02T03:04:05Z"},{"name":"0.example","type":"A","value":"1.2.3.4","currency":"historical","instances":null}],"format_version":1,"lineage":"L","facts":null,"run":null}`
	s, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.Serial != 3 || s.Lineage != "L" || len(s.Findings) != 2 || s.Findings[0].Name != "0.example" {
		t.Fatalf("decoded %+v", s)
	}
	txt := s.Findings[1]
	if txt.Value != `café "x"` || !txt.Current || !txt.LastSeen.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("finding %+v", txt)
	}
	for _, bad := range []string{
		`{"format_version":1,"findings":[{"name":"a","type":"A","value":"1","currency":"current"},{"name":"a","type":"A","value":"1","currency":"current"}]}`,
		`{"format_version":1,"serial":-1}`,
		`{"format_version":1,"serial":1.5}`,
		`{"format_version":1,"findings":[{"last_seen":"yesterday","currency":"current"}]}`,
		`{"format_version":1} x`,
		`{"format_version":1,"format_version":1}`,
		`{"format_version":01}`,
		strings.Repeat("[", 100),
	} {
		if _, err := Decode(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestWriteRefusesAStateChangedSinceRead(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "reconform.rfstate")}
	if _, err := st.Write(nil, sample()); err != nil {
		t.Fatal(err)
	}
	mine, _ := st.Read()
	theirs, _ := st.Read()
	s2 := sample()
	s2.Remove("www.acme.example A 198.51.100.7")
	if _, err := st.Write(theirs, s2); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(mine, sample()); err == nil || !strings.Contains(err.Error(), "changed since it was read") {
		t.Fatalf("stale write: %v", err)
	}
	if got, _ := st.Read(); got.Serial != 2 {
		t.Errorf("the other run's state was replaced: serial %d", got.Serial)
	}
}

// reflectFinding is the generic encoding appendFinding must reproduce.
func reflectFinding(t *testing.T, f *Finding) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	if err := enc.Encode(toFindingJSON(f)); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestAppendFindingMatchesEncodingJSON(t *testing.T) {
	zone := time.FixedZone("x", 5*3600+1800)
	tricky := []Finding{
		{Finding: schema.Finding{Name: "a.example", Type: "A", Value: "192.0.2.1"}, Currency: Current},
		{Finding: schema.Finding{Name: "b.example", Type: "TXT", Value: "q\"b\\s/<>&\b\f\n\r\t\x01\x1f\x7f é \u2028\u2029 \xff\xfe 😀",
			FirstSeen: time.Date(2020, 1, 2, 3, 4, 5, 600, zone), LastSeen: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Count: -3,
			Sources: []string{"a", "b\"c"}, Active: true, Query: "q", Depth: 4},
			Instances: []string{"k1"}, Block: "pivot.x", Currency: Historical, Unverified: "why\n", UnverifiedSince: time.Date(2026, 2, 3, 4, 5, 6, 123456789, time.UTC)},
		{Finding: schema.Finding{Name: "", Type: "", Value: "", Sources: []string{}}, Instances: []string{}},
	}
	for i := range tricky {
		got, err := appendFinding(nil, &tricky[i])
		if err != nil {
			t.Fatal(err)
		}
		if want := "{" + strings.TrimPrefix(reflectFinding(t, &tricky[i]), "{"); string(got) != want {
			t.Errorf("finding %d:\n%s", i, cmp.Diff(want, string(got)))
		}
	}
	bad := Finding{Finding: schema.Finding{LastSeen: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if _, err := appendFinding(nil, &bad); err == nil {
		t.Errorf("year 10000 encoded")
	}
}

// A finding current only because a current-records source reported it
// stays current when that source fails in the next run, even though a
// historical source still reports it with an old last_seen: a failed
// provider must not look like the record going historical.
func TestMergeFailedCurrentSourceKeepsCurrency(t *testing.T) {
	stQ := q("securitytrails", schema.OpResolutions, "acme.example")
	vtQ := q("virustotal", schema.OpResolutions, "acme.example")
	old := t0.Add(-400 * 24 * time.Hour)
	run := func(at time.Time, stStatus schema.InstanceStatus) *schema.RunResult {
		live := finding("acme.example", "A", "192.0.2.77", old, "securitytrails", stQ)
		live.Current = true
		hist := finding("acme.example", "A", "192.0.2.77", old, "virustotal", vtQ)
		r := &schema.RunResult{Engagement: "acme", ConfigHash: "h1", StartedAt: at.Add(-time.Minute), FinishedAt: at}
		if stStatus == schema.StatusOK {
			r.Instances = append(r.Instances, inst("query.apex", stQ, stStatus, "", live.ID()))
			r.Findings = append(r.Findings, live)
		} else {
			r.Instances = append(r.Instances, inst("query.apex", stQ, stStatus, "HTTP 503"))
		}
		r.Instances = append(r.Instances, inst("query.apex", vtQ, schema.StatusOK, "", hist.ID()))
		r.Findings = append(r.Findings, hist)
		return r
	}
	s1 := merge(nil, run(t0, schema.StatusOK), MergeOptions{})
	if c := s1.Findings[0].Currency; c != Current {
		t.Fatalf("first run: %s, want current", c)
	}
	s2 := merge(s1, run(t0.Add(24*time.Hour), schema.StatusFailed), MergeOptions{})
	if c := s2.Findings[0].Currency; c != Current {
		t.Errorf("current source failed: %s, want current (unchanged)", c)
	}
	// The source answers again and no longer reports it current: now it
	// went historical.
	r3 := run(t0.Add(48*time.Hour), schema.StatusOK)
	r3.Findings[0].Current = false
	s3 := merge(s2, r3, MergeOptions{})
	if c := s3.Findings[0].Currency; c != Historical {
		t.Errorf("current source answered without it: %s, want historical", c)
	}
}

func TestChecksRoundTrip(t *testing.T) {
	s := sample()
	s.Checks = []CheckResult{
		{Name: "mx_approved", Severity: "error", Status: CheckPass},
		{Name: "dmarc_enforced", Description: "DMARC enforced", Severity: "error", Status: CheckFail, Messages: []string{"DMARC is none on acme.example"}},
		{Name: "broken", Severity: "warning", Status: CheckError, Diagnostics: []string{"main.hcl:3,5-9: Invalid function argument; bad"}},
	}
	var a bytes.Buffer
	if err := Encode(&a, s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.String(), "{\n  \"checks\": [\n    {\n      \"diagnostics\"") {
		t.Errorf("checks are the first key, sorted by name:\n%s", a.String()[:200])
	}
	back, err := Decode(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Checks, back.Checks); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if c := back.CheckByName("dmarc_enforced"); c == nil || !c.Failed() || back.CheckByName("mx_approved").Failed() {
		t.Errorf("CheckByName/Failed: %+v", c)
	}
	// A state without checks has no checks key.
	var b bytes.Buffer
	if err := Encode(&b, sample()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\"checks\"") {
		t.Error("a state without checks writes a checks key")
	}
}

// A registry's answer has no finding for evidence: when the next run's
// RDAP query fails, the fact stays (and what analysis derives from it
// with it), and when it succeeds, its new answer replaces the old.
func TestMergeKeepsEvidencelessFactsOfFailedQueries(t *testing.T) {
	ns := stFinding("acme.example", "NS", "ns1.lapsed-dns.com", t0)
	rdapQ := q("rdap", schema.OpRegistration, "lapsed-dns.com")
	run := func(at time.Time, status schema.InstanceStatus, facts ...schema.Fact) *schema.RunResult {
		r := twoProviderRun(at, schema.StatusOK, schema.StatusOK, []schema.Finding{ns}, nil)
		r.Instances = append(r.Instances, inst("pivot.registration", rdapQ, status, ""))
		r.Facts = facts
		return r
	}
	gone := schema.Fact{Subject: "lapsed-dns.com", Kind: "registration", Value: "unregistered"}
	var seen []analysis.Options
	opts := MergeOptions{Derive: func(fs []schema.Finding, o analysis.Options) []schema.Fact {
		seen = append(seen, o)
		return analysis.Derive(fs, o)
	}}
	s1 := Merge(nil, run(t0, schema.StatusOK, gone), opts)
	s2 := Merge(s1, run(t0.Add(time.Hour), schema.StatusFailed), opts)
	for _, s := range []*State{s1, s2} {
		if !hasFact(s.Facts, "lapsed-dns.com registration unregistered") || !hasFact(s.Facts, "acme.example dangling_ns ns1.lapsed-dns.com") {
			t.Errorf("serial %d facts %v: want the registration and the dangling_ns", s.Serial, s.Facts)
		}
	}
	if len(seen) != 2 || len(seen[1].Facts) != 1 {
		t.Errorf("Derive saw reported facts %v on the failed run, want the kept registration", seen)
	}
	renewed := schema.Fact{Subject: "lapsed-dns.com", Kind: "registration", Value: "registered"}
	s3 := Merge(s2, run(t0.Add(2*time.Hour), schema.StatusOK, renewed), opts)
	if hasFact(s3.Facts, "lapsed-dns.com registration unregistered") || hasFact(s3.Facts, "acme.example dangling_ns ns1.lapsed-dns.com") || !hasFact(s3.Facts, "lapsed-dns.com registration registered") {
		t.Errorf("after renewal: %v", s3.Facts)
	}
	// A successful query that says nothing more drops the old answer.
	s4 := Merge(s2, run(t0.Add(3*time.Hour), schema.StatusOK), opts)
	if hasFact(s4.Facts, "lapsed-dns.com registration unregistered") {
		t.Errorf("an answer no longer given was kept: %v", s4.Facts)
	}
}

func hasFact(facts []schema.Fact, id string) bool {
	for _, f := range facts {
		if f.ID() == id {
			return true
		}
	}
	return false
}

// TestFormatVersionAsString: a state whose format_version is the string
// "1" or "1.0" (the scheme some JSON outputs used before docs/json.md)
// reads as version 1 and is written back as the number.
func TestFormatVersionAsString(t *testing.T) {
	var good bytes.Buffer
	if err := Encode(&good, sample()); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{`"1"`, `"1.0"`} {
		text := strings.Replace(good.String(), `"format_version": 1`, `"format_version": `+v, 1)
		s, err := Decode(strings.NewReader(text))
		if err != nil || s.FormatVersion != 1 {
			t.Fatalf("%s: %v", v, err)
		}
		var again bytes.Buffer
		if err := Encode(&again, s); err != nil || again.String() != good.String() {
			t.Errorf("%s: written back differently (%v)", v, err)
		}
	}
	for _, v := range []string{`"1.5"`, `"one"`} {
		text := strings.Replace(good.String(), `"format_version": 1`, `"format_version": `+v, 1)
		if _, err := Decode(strings.NewReader(text)); err == nil {
			t.Errorf("%s: read", v)
		}
	}
	future := strings.Replace(good.String(), `"format_version": 1`, `"format_version": "2.0"`, 1)
	var ve *VersionError
	if _, err := Decode(strings.NewReader(future)); !errors.As(err, &ve) || ve.FileVersion != 2 {
		t.Errorf(`"2.0": %v`, err)
	}
}
