package pg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/pgtest"
	"github.com/reconform/reconform/schema"
)

func TestMain(m *testing.M) {
	if conn := os.Getenv("RECONFORM_PG_HELPER"); conn != "" {
		helper(conn)
		return
	}
	pgtest.Main(m)
}

var t0 = time.Date(2026, 11, 1, 2, 0, 0, 123456789, time.UTC)

// newBackend is an initialised backend for engagement eng.
func newBackend(t testing.TB, conn, eng string) *Backend {
	t.Helper()
	b, err := New(Config{ConnString: conn, Schema: "reconform", Engagement: eng, RescueDir: filepath.Join(t.TempDir(), "rescue")})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// richState holds what a state can: odd strings, times below the
// microsecond, instances with params, facts with evidence, warnings.
func richState(n int, drift int) *state.State {
	s := state.New("acme")
	s.ConfigHash = "abc123"
	s.Run = state.RunSummary{StartedAt: t0, FinishedAt: t0.Add(time.Second + 7), Instances: map[schema.InstanceStatus]int{"ok": 2, "failed": 1},
		Requests: map[string]int{"securitytrails": 3}, Findings: n, Warnings: []string{"w1", "a warning with \u00e9"},
		Targets: []string{"query.history"}, Plan: "plan-123"}
	s.Outputs = []state.Output{
		{Name: "hosts", Description: "every host", Type: []byte(`["list","string"]`), Value: []byte(`["a.acme.example", "b.acme.example"]`)},
		{Name: "obj", Type: []byte(`["object",{"z":"number","a":"string"}]`), Value: []byte(`{"z": 1, "a": "x"}`)},
		{Name: "key", Secret: true, Sensitive: true},
	}
	s.Checks = []state.CheckResult{
		{Name: "dmarc_enforced", Description: "DMARC is enforced", Severity: "error", Status: state.CheckFail, Messages: []string{"DMARC policy is none on: acme.example"}},
		{Name: "mx", Severity: "warning", Status: state.CheckPass},
		{Name: "odd", Severity: "warning", Status: state.CheckError, Diagnostics: []string{"main.hcl:3,5: Invalid; \u00e9"}},
	}
	for i := 0; i < n; i++ {
		value := "192.0.2." + strconv.Itoa(i%250)
		if i < drift {
			value = "198.51.100." + strconv.Itoa(i%250)
		}
		f := state.Finding{Finding: schema.NewFinding(fmt.Sprintf("h%06d.acme.example", i), "A", value), Currency: state.Current,
			Block: "query.history", Instances: []string{"securitytrails resolutions acme.example"}}
		f.Sources = []string{"securitytrails"}
		f.FirstSeen, f.LastSeen, f.Count = t0.Add(-time.Hour*24*30), t0.Add(time.Duration(i)), int64(i)
		if i%11 == 0 {
			f.Blocks = []string{"query.history", "module.web[\"a\"].query.hosts"}
		}
		if i%7 == 0 {
			f.Unverified, f.UnverifiedSince, f.Currency = "query failed: 503", t0.Add(time.Nanosecond*time.Duration(i)), state.Historical
		}
		s.Findings = append(s.Findings, f)
	}
	odd := []state.Finding{
		{Finding: schema.Finding{Name: "acme.example", Type: "TXT", Value: "nul\x00byte", Depth: 2, Active: true, Query: "dns resolve acme.example"}, Currency: state.Current},
		{Finding: schema.Finding{Name: "acme.example", Type: "TXT", Value: "bad \xff utf8 \xc3"}, Currency: state.Historical},
		{Finding: schema.Finding{Name: "acme.example", Type: "TXT", Value: "v=spf1 <tag> & \u2028 \"quoted\""}, Currency: state.Current},
		{Finding: schema.Finding{Name: "old.acme.example", Type: "A", Value: "192.0.2.9", FirstSeen: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), LastSeen: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}, Currency: state.Historical},
	}
	s.Findings = append(s.Findings, odd...)
	s.Instances = []schema.InstanceResult{
		{Key: "securitytrails resolutions acme.example", Block: "query.history", Status: "ok", Requests: 3, Findings: n, Truncated: true, VerifiedAt: time.Date(2025, 6, 2, 3, 4, 5, 123456789, time.UTC),
			Query: schema.Query{Provider: "securitytrails", Op: "resolutions", Subject: schema.Subject{Kind: "domain", Value: "acme.example"}, RRTypes: []string{"A", "MX"}, Params: map[string]string{"page": "2", "odd": "x\x00y"}}},
		{Key: "crtsh subdomains acme.example", Block: "query.hosts", Blocks: []string{"query.hosts", "pivot.more"}, Status: "failed", Reason: "HTTP 503 \xfe", Depth: 1,
			Query: schema.Query{Provider: "crtsh", Op: "subdomains", Subject: schema.Subject{Kind: "domain", Value: "acme.example"}, Params: map[string]string{}}},
	}
	s.Facts = []schema.Fact{
		{Subject: "acme.example", Kind: "mail_provider", Value: "google-workspace", Evidence: []string{"acme.example MX 1 aspmx.l.google.com"}},
		{Subject: "acme.example", Kind: "dmarc_policy", Value: "reject"},
		{Subject: "192.0.2.1", Kind: "shared_hosting", Value: strconv.Itoa(drift)},
	}
	return s
}

func encode(t testing.TB, s *state.State) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := state.Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// commitBoth commits the same state to b and to a local backend.
func commitBoth(t *testing.T, b backend.Backend, local *backend.Local, s func() *state.State) {
	t.Helper()
	ctx := context.Background()
	for _, be := range []backend.Backend{b, local} {
		sess, err := be.Open(ctx, backend.OpenOptions{Lock: true, Operation: "apply"})
		if err != nil {
			t.Fatal(err)
		}
		next := s()
		if prev := sess.Previous(); prev != nil {
			next.Lineage = prev.Lineage // the local and pg lineages must be the same to compare bytes
		}
		if _, err := sess.Commit(ctx, backend.Commit{State: next}); err != nil {
			t.Fatal(err)
		}
		sess.Close()
	}
}

func TestStateRoundTripsByteForByte(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, pgtest.Database(t), "acme")
	local := backend.NewLocal(filepath.Join(t.TempDir(), "acme.rfstate"), "")
	// The first commit makes a lineage each; give the local one pg's.
	sess, _ := b.Open(ctx, backend.OpenOptions{Lock: true})
	res, err := sess.Commit(ctx, backend.Commit{State: richState(40, 0)})
	if err != nil {
		t.Fatal(err)
	}
	sess.Close()
	first := richState(40, 0)
	first.Lineage, first.Serial = res.Lineage, 1
	lsess, _ := local.Open(ctx, backend.OpenOptions{Lock: true})
	if _, err := lsess.Commit(ctx, backend.Commit{State: first, Exact: true}); err != nil {
		t.Fatal(err)
	}
	lsess.Close()
	commitBoth(t, b, local, func() *state.State { return richState(45, 5) })

	got, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(local.Location())
	if g := encode(t, got); !bytes.Equal(g, want) {
		t.Fatalf("pg state differs from the local state file:\n%s", firstDiff(g, want))
	}
	hist, err := b.History(ctx)
	if err != nil || len(hist) != 1 || hist[0].Serial != 1 {
		t.Fatalf("history %+v %v", hist, err)
	}
	old, err := b.ReadHistory(ctx, hist[0])
	if err != nil {
		t.Fatal(err)
	}
	lhist, _ := local.History(ctx)
	var oldText bytes.Buffer
	if err := local.Store.HistoryText(&oldText, state.HistoryEntry{Path: lhist[0].Path, Kind: lhist[0].Kind}); err != nil {
		t.Fatal(err)
	}
	wantOld := oldText.Bytes()
	if g := encode(t, old); !bytes.Equal(g, wantOld) {
		t.Fatalf("pg history serial 1 differs from the local history file:\n%s", firstDiff(g, wantOld))
	}
	// The same content again: nothing is written, the serial stays.
	sess, _ = b.Open(ctx, backend.OpenOptions{Lock: true})
	again := richState(45, 5)
	if res, err := sess.Commit(ctx, backend.Commit{State: again}); err != nil || res.Written || res.Serial != 2 {
		t.Fatalf("unchanged commit: %+v %v", res, err)
	}
	sess.Close()
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  pg:    %q\n  local: %q", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(la), len(lb))
}

func rowCount(t testing.TB, conn, table string) int {
	t.Helper()
	c, err := pgx.Connect(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM reconform."+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCommitWritesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	commit := func(s *state.State) {
		sess, err := b.Open(ctx, backend.OpenOptions{Lock: true})
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if _, err := sess.Commit(ctx, backend.Commit{State: s}); err != nil {
			t.Fatal(err)
		}
	}
	commit(richState(2000, 0))
	before := rowCount(t, conn, "findings")
	commit(richState(2000, 20)) // 1% of the findings changed
	added, ended := rowCount(t, conn, "findings")-before, rowCount(t, conn, "finding_ends")
	if added != 20 || ended != 20 {
		t.Errorf("a 1%% drift added %d finding rows and ended %d, want 20 and 20", added, ended)
	}
	// The view shows the current findings of the engagement.
	c, _ := pgx.Connect(ctx, conn)
	defer c.Close(ctx)
	var n, moved int
	c.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE value LIKE '198.51.100.%') FROM reconform.current_findings WHERE engagement_name = 'acme'`).Scan(&n, &moved)
	if n != 2004 || moved != 20 {
		t.Errorf("current_findings: %d rows, %d moved; want 2004 and 20", n, moved)
	}
}

func TestLockIsSharedAndNamesItsHolder(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	a, b := newBackend(t, conn, "acme"), newBackend(t, conn, "acme")
	other := newBackend(t, conn, "other")
	s1, err := a.Open(ctx, backend.OpenOptions{Lock: true, Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Open(ctx, backend.OpenOptions{Lock: true, Operation: "apply"})
	var le *backend.LockedError
	if !errors.As(err, &le) || le.Info.ID != s1.Lock().ID || le.Info.Operation != "apply" || le.Info.Host == "" {
		t.Fatalf("second runner: %v", err)
	}
	if info, err := b.LockHolder(ctx); err != nil || info == nil || info.ID != s1.Lock().ID {
		t.Fatalf("holder %+v %v", info, err)
	}
	// Another engagement is not blocked.
	if s, err := other.Open(ctx, backend.OpenOptions{Lock: true}); err != nil {
		t.Fatalf("other engagement: %v", err)
	} else {
		s.Close()
	}
	// A waiter gets the lock when the holder lets go; a cancelled wait ends.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if _, err := b.Open(cctx, backend.OpenOptions{Lock: true, Timeout: time.Minute}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled wait: %v", err)
	}
	cancel()
	go func() {
		time.Sleep(200 * time.Millisecond)
		s1.Close()
	}()
	s2, err := b.Open(ctx, backend.OpenOptions{Lock: true, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("waiting runner: %v", err)
	}
	// force-unlock ends the holder's session.
	if err := a.ForceUnlock(ctx, "wrong"); err == nil {
		t.Error("force-unlock with a wrong ID")
	}
	if err := a.ForceUnlock(ctx, s2.Lock().ID); err != nil {
		t.Fatal(err)
	}
	if info, _ := a.LockHolder(ctx); info != nil {
		t.Errorf("still locked after force-unlock: %+v", info)
	}
	s2.Close()
}

func TestLockFalseRaceRefusesOneAndRescuesIt(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	first, _ := b.Open(ctx, backend.OpenOptions{Lock: true})
	first.Commit(ctx, backend.Commit{State: richState(10, 0)})
	first.Close()
	x, _ := b.Open(ctx, backend.OpenOptions{})
	y, _ := b.Open(ctx, backend.OpenOptions{})
	defer x.Close()
	defer y.Close()
	if _, err := x.Commit(ctx, backend.Commit{State: richState(10, 1)}); err != nil {
		t.Fatal(err)
	}
	_, err := y.Commit(ctx, backend.Commit{State: richState(10, 2)})
	var re *backend.RescueError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "changed since it was read") {
		t.Fatalf("second writer: %v", err)
	}
	if saved, err := state.ReadFile(re.Path); err != nil || saved.Serial != 2 {
		t.Fatalf("rescue file: %v", err)
	}
	if cur, _ := b.Read(ctx); cur.Serial != 2 || cur.Facts[0].Value != "1" {
		t.Errorf("the first writer's state was replaced: serial %d", cur.Serial)
	}
}

// helper runs in a child process: it holds the lock ("lock") or commits
// states in a loop ("commit") until killed.
func helper(conn string) {
	ctx := context.Background()
	b, err := New(Config{ConnString: conn, Schema: "reconform", Engagement: "acme"})
	if err != nil {
		os.Exit(3)
	}
	// Every commit but the smallest writes half its findings over a
	// second connection, so that kills land between its two commits too.
	parallelFindings = 2
	switch os.Getenv("RECONFORM_PG_HELPER_DO") {
	case "lock":
		s, err := b.Open(ctx, backend.OpenOptions{Lock: true, Operation: "apply"})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		_ = s
		time.Sleep(time.Minute)
	case "commit":
		for i := 1; ; i++ {
			s, err := b.Open(ctx, backend.OpenOptions{Lock: true, Timeout: time.Minute})
			if err != nil {
				os.Exit(3)
			}
			prev := s.Previous()
			serial := uint64(0)
			if prev != nil {
				serial = prev.Serial
			}
			// The content says which serial it was committed as.
			if _, err := s.Commit(ctx, backend.Commit{State: serialState(serial + 1)}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
			s.Close()
			if i == 1 {
				fmt.Println("ready")
			}
		}
	}
	os.Exit(0)
}

// serialState is a state whose findings tell the serial it was made for.
func serialState(serial uint64) *state.State {
	s := richState(3000, int(serial%3000))
	s.ConfigHash = strconv.FormatUint(serial, 10)
	return s
}

func startHelper(t *testing.T, conn, do string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RECONFORM_PG_HELPER="+conn, "RECONFORM_PG_HELPER_DO="+do)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 5)
	if _, err := io.ReadFull(out, line); err != nil || (string(line) != "locke" && string(line) != "ready") {
		cmd.Process.Kill()
		t.Fatalf("helper did not start: %q %v", line, err)
	}
	return cmd
}

func TestKilledRunnerNeverLeavesALockOrAMix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helper processes")
	}
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	holder := startHelper(t, conn, "lock")
	if _, err := b.Open(ctx, backend.OpenOptions{Lock: true}); !backend.IsLocked(err) {
		t.Fatalf("lock of a live holder: %v", err)
	}
	holder.Process.Signal(syscall.SIGKILL)
	holder.Wait()
	s, err := b.Open(ctx, backend.OpenOptions{Lock: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	s.Close()

	// Kill a committing runner at varied moments: every state read after
	// is whole, the one its serial says.
	for round := 0; round < 6; round++ {
		w := startHelper(t, conn, "commit")
		time.Sleep(time.Duration(30+round*71) * time.Millisecond)
		w.Process.Signal(syscall.SIGKILL)
		w.Wait()
		cur, err := b.Read(ctx)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		want := serialState(cur.Serial)
		want.Lineage, want.Serial = cur.Lineage, cur.Serial
		if !bytes.Equal(encode(t, cur), encode(t, want)) {
			t.Fatalf("round %d: serial %d does not hold the state committed as it", round, cur.Serial)
		}
	}
}

func TestDatabaseGoneAtCommitRescuesTheRun(t *testing.T) {
	c := pgtest.Server(t)
	if !c.Owned() {
		t.Skip("the server is not ours to stop")
	}
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	s, _ := b.Open(ctx, backend.OpenOptions{Lock: true})
	s.Commit(ctx, backend.Commit{State: richState(10, 0)})
	s.Close()
	s, err := b.Open(ctx, backend.OpenOptions{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Commit(ctx, backend.Commit{State: richState(10, 3)})
	s.Close()
	restartErr := c.Restart()
	var re *backend.RescueError
	if !errors.As(err, &re) {
		t.Fatalf("commit with the database gone: %v", err)
	}
	if restartErr != nil {
		t.Fatal(restartErr)
	}
	for _, secret := range []string{c.Password, "rfadmin", "127.0.0.1"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error names %q: %v", secret, err)
		}
	}
	saved, err := state.ReadFile(re.Path)
	if err != nil || saved.Serial != 2 {
		t.Fatalf("rescue file: %v %+v", err, saved)
	}
	// Pushed once the database is back.
	b2 := newBackend(t, conn, "acme")
	s, err = b2.Open(ctx, backend.OpenOptions{Lock: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.Commit(ctx, backend.Commit{State: saved, Exact: true}); err != nil || res.Serial != 2 {
		t.Fatalf("push: %+v %v", res, err)
	}
	s.Close()
}

func TestErrorsNeverCarryTheConnectionString(t *testing.T) {
	c := pgtest.Server(t)
	ctx := context.Background()
	conn := pgtest.Database(t)
	wrong := strings.Replace(conn, c.Password, "Wr0ngPassw0rd", 1)
	closed := strings.Replace(conn, ":"+strconv.Itoa(c.Port), ":1", 1)
	for name, cs := range map[string]string{"wrong password": wrong, "nothing listening": closed} {
		b, err := New(Config{ConnString: cs, Schema: "reconform", Engagement: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Open(ctx, backend.OpenOptions{Lock: true})
		b.Close()
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		for _, secret := range []string{"Wr0ngPassw0rd", c.Password, "rfadmin", cs} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q names %q", name, err, secret)
			}
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := New(Config{ConnString: "postgres://u:hunter22@[bad", Schema: "reconform", Engagement: "a"}); err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("bad conn_str: %v", err)
	}
}

// ledgerPart writes a row in the commit's transaction, or fails.
type ledgerPart struct{ fail bool }

func (p ledgerPart) PartName() string { return "test ledger" }
func (p ledgerPart) WritePG(ctx context.Context, tx pgx.Tx, c CommitRef) error {
	if p.fail {
		return errors.New("boom")
	}
	_, err := tx.Exec(ctx, `INSERT INTO `+c.Schema+`.test_ledger VALUES ($1, $2)`, c.EngagementID, int64(c.Serial))
	return err
}

func TestPartsShareTheCommit(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	cx, _ := pgx.Connect(ctx, conn)
	defer cx.Close(ctx)
	if _, err := cx.Exec(ctx, `CREATE TABLE reconform.test_ledger (engagement_id bigint, serial bigint)`); err != nil {
		t.Fatal(err)
	}
	commit := func(p backend.Part, drift int) error {
		s, _ := b.Open(ctx, backend.OpenOptions{Lock: true})
		defer s.Close()
		_, err := s.Commit(ctx, backend.Commit{State: richState(10, drift), Parts: []backend.Part{p}})
		return err
	}
	if err := commit(ledgerPart{}, 0); err != nil {
		t.Fatal(err)
	}
	if err := commit(ledgerPart{fail: true}, 1); err == nil {
		t.Fatal("a failing part did not fail the commit")
	}
	var n int
	cx.QueryRow(ctx, `SELECT count(*) FROM reconform.test_ledger`).Scan(&n)
	if cur, _ := b.Read(ctx); cur.Serial != 1 || n != 1 {
		t.Errorf("after a failed part: serial %d, %d ledger rows; want 1 and 1", cur.Serial, n)
	}
	if err := commit(backendPartOnly{}, 1); err == nil || !strings.Contains(err.Error(), "cannot store") {
		t.Errorf("a part the backend does not know: %v", err)
	}
}

type backendPartOnly struct{}

func (backendPartOnly) PartName() string { return "foreign ledger" }

func TestMigrationsAndCache(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	b, _ := New(Config{ConnString: conn, Schema: "reconform", Engagement: "acme"})
	defer b.Close()
	if _, err := b.Read(ctx); err == nil || !strings.Contains(err.Error(), "run reconform init") {
		t.Fatalf("uninitialised schema: %v", err)
	}
	r, err := b.Migrate(ctx)
	if err != nil || r.From != 0 || r.To != SchemaVersion() {
		t.Fatalf("first init: %+v %v", r, err)
	}
	if r, err := b.Migrate(ctx); err != nil || r.From != SchemaVersion() || r.To != SchemaVersion() {
		t.Fatalf("second init: %+v %v", r, err)
	}
	if st, err := b.Read(ctx); err != nil || st != nil {
		t.Fatalf("no state yet: %v %v", st, err)
	}
	c := b.Cache()
	if _, ok := c.Get(ctx, "k1"); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put(ctx, "k1", []byte("e1"), t0); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "k1", []byte("e2"), t0); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get(ctx, "k1"); !ok || string(got) != "e2" {
		t.Fatalf("get %q %v", got, ok)
	}
	cx, _ := pgx.Connect(ctx, conn)
	defer cx.Close(ctx)
	cx.Exec(ctx, `INSERT INTO reconform.schema_migrations VALUES (999, 'future')`)
	if _, err := b.Read(ctx); err == nil || !strings.Contains(err.Error(), "upgrade reconform") {
		t.Fatalf("newer schema: %v", err)
	}
}

// TestLeastPrivilegeRole runs the backend as the role docs/backend-pg.md
// shows: it owns its schema and nothing else.
func TestLeastPrivilegeRole(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Server(t)
	conn := pgtest.Database(t)
	cx, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer cx.Close(ctx)
	role := fmt.Sprintf("rf_runner_%d", os.Getpid())
	for _, sql := range []string{
		fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD 'runner-pw-1'`, role),
		fmt.Sprintf(`CREATE SCHEMA reconform AUTHORIZATION %s`, role),
		`REVOKE ALL ON SCHEMA public FROM PUBLIC`,
	} {
		if _, err := cx.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	rc := strings.Replace(conn, "rfadmin:"+c.Password, role+":runner-pw-1", 1)
	b := newBackend(t, rc, "acme")
	s, err := b.Open(ctx, backend.OpenOptions{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, backend.Commit{State: richState(5, 0)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := b.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.ForceUnlock(ctx, "x"); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("force-unlock: %v", err)
	}
	t.Cleanup(func() {
		cx2, _ := pgx.Connect(context.Background(), conn)
		cx2.Exec(context.Background(), "DROP SCHEMA reconform CASCADE")
		cx2.Close(context.Background())
	})
}

// TestEveryStateFieldIsStored fails when a state type gains a field: the
// pg backend must store it (rows.go, a migration) or the JSON it gives
// back would lose it. Update the lists once it does.
func TestEveryStateFieldIsStored(t *testing.T) {
	for typ, known := range map[reflect.Type][]string{
		reflect.TypeOf(state.State{}):      {"FormatVersion", "Serial", "Lineage", "Engagement", "ConfigHash", "Run", "Instances", "Findings", "Facts", "Outputs", "Checks", "disk"},
		reflect.TypeOf(state.RunSummary{}): {"StartedAt", "FinishedAt", "Interrupted", "Instances", "Requests", "Findings", "Warnings", "Targets", "Plan"},
		reflect.TypeOf(state.Finding{}):    {"Finding", "Instances", "Block", "Blocks", "Currency", "Unverified", "UnverifiedSince"},
		reflect.TypeOf(schema.Finding{}):   {"Name", "Type", "Value", "FirstSeen", "LastSeen", "Count", "Sources", "Current", "Active", "Query", "Depth"},
		// FindingIDs live during a run only; Truncated and VerifiedAt are
		// in the state file (and so in pg).
		reflect.TypeOf(schema.InstanceResult{}): {"Query", "Key", "Block", "Blocks", "Depth", "Active", "Status", "Reason", "Requests", "Findings", "FindingIDs", "Truncated", "VerifiedAt"},
		reflect.TypeOf(schema.Query{}):          {"Provider", "Op", "Subject", "RRTypes", "Params"},
		reflect.TypeOf(schema.Fact{}):           {"Subject", "Kind", "Value", "Evidence"},
		reflect.TypeOf(state.Output{}):          {"Name", "Description", "Sensitive", "Secret", "Value", "Type"},
		reflect.TypeOf(state.CheckResult{}):     {"Name", "Description", "Severity", "Status", "Messages", "Diagnostics"},
	} {
		var got []string
		for i := 0; i < typ.NumField(); i++ {
			got = append(got, typ.Field(i).Name)
		}
		sort.Strings(got)
		sort.Strings(known)
		if !slices.Equal(got, known) {
			t.Errorf("%s has fields %v; the pg backend stores %v", typ, got, known)
		}
	}
}

// TestParallelCommitPublishesAtomically commits states large enough to
// be written over two connections: they read back byte for byte as the
// local backend's, and the findings of a commit that wrote its second
// half and never published (its runner died between the two commits)
// are in no state and are gone after the next commit.
func TestParallelCommitPublishesAtomically(t *testing.T) {
	defer func(n int) { parallelFindings = n }(parallelFindings)
	parallelFindings = 100
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	local := backend.NewLocal(filepath.Join(t.TempDir(), "acme.rfstate"), "")
	same := func(when string) {
		t.Helper()
		got, err := b.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(local.Location())
		if g := encode(t, got); !bytes.Equal(g, want) {
			t.Fatalf("%s: pg state differs from the local state file:\n%s", when, firstDiff(g, want))
		}
	}
	// The first commit makes a lineage each; give the local one pg's.
	sess, err := b.Open(ctx, backend.OpenOptions{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sess.Commit(ctx, backend.Commit{State: richState(2000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	sess.Close()
	first := richState(2000, 0)
	first.Lineage, first.Serial = res.Lineage, 1
	lsess, _ := local.Open(ctx, backend.OpenOptions{Lock: true})
	if _, err := lsess.Commit(ctx, backend.Commit{State: first, Exact: true}); err != nil {
		t.Fatal(err)
	}
	lsess.Close()
	same("first commit")
	if n := rowCount(t, conn, "unpublished"); n != 0 {
		t.Errorf("%d unpublished rows after a commit", n)
	}

	// A commit whose second half was written and whose own transaction
	// never committed.
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var eng, rev int64
	if err := c.QueryRow(ctx, `SELECT id, rev FROM reconform.engagements WHERE name = 'acme'`).Scan(&eng, &rev); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO reconform.unpublished (engagement_id, rev) VALUES ($1, $2)`, eng, rev+1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO reconform.findings (id, engagement_id, rev, name, type, value, currency)
		SELECT ($2::bigint << 32) + g, $1, $2, 'orphan' || g || '.acme.example', 'A', '192.0.2.1', 'current' FROM generate_series(0, 999) g`, eng, rev+1); err != nil {
		t.Fatal(err)
	}
	same("with an unpublished commit's rows")
	var visible int
	c.QueryRow(ctx, `SELECT count(*) FROM reconform.current_findings WHERE name LIKE 'orphan%'`).Scan(&visible)
	if visible != 0 {
		t.Errorf("current_findings shows %d rows of a commit that never published", visible)
	}

	commitBoth(t, b, local, func() *state.State { return richState(2000, 500) })
	same("the next commit")
	var orphans int
	c.QueryRow(ctx, `SELECT count(*) FROM reconform.findings WHERE name LIKE 'orphan%'`).Scan(&orphans)
	if orphans != 0 || rowCount(t, conn, "unpublished") != 0 {
		t.Errorf("after the next commit: %d rows of the unpublished commit, %d unpublished rows", orphans, rowCount(t, conn, "unpublished"))
	}
	var n int
	c.QueryRow(ctx, `SELECT count(*) FROM reconform.current_findings WHERE engagement_name = 'acme'`).Scan(&n)
	if n != 2004 {
		t.Errorf("current_findings: %d rows, want 2004", n)
	}
}
