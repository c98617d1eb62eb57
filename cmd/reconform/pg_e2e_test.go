package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/pgtest"
)

// pgEngagement makes a starter engagement in dir/name whose engagement
// block declares backend "pg" (the connection from RECONFORM_PG_CONN).
func pgEngagement(t *testing.T, dir, name string) {
	t.Helper()
	if r := runCLI(t, dir, nil, "init", name); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	addPGBackend(t, filepath.Join(dir, name))
}

func addPGBackend(t *testing.T, folder string) {
	t.Helper()
	p := filepath.Join(folder, "main.hcl")
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(src, []byte("{\n"))
	out := append(append(append([]byte{}, src[:i+2]...), "  backend \"pg\" {\n    schema_name = \"fleet\"\n  }\n"...), src[i+2:]...)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// noSecret fails when any output names the password or the connection.
func noSecret(t *testing.T, conn string, outs ...string) {
	t.Helper()
	c := pgtest.Server(t)
	for _, out := range outs {
		for _, s := range []string{conn, c.Password} {
			if s != "" && strings.Contains(out, s) {
				t.Fatalf("output names a secret:\n%s", out)
			}
		}
	}
}

func TestPGBackendEndToEnd(t *testing.T) {
	conn := pgtest.Database(t)
	environ := []string{"RECONFORM_PG_CONN=" + conn}
	dir := t.TempDir()
	pgEngagement(t, dir, "qs")
	cli := func(args ...string) cliResult {
		t.Helper()
		r := runCLI(t, dir, environ, args...)
		noSecret(t, conn, r.Stdout, r.Stderr)
		return r
	}
	if r := cli("apply", "-auto-approve", "qs"); r.Code != exitError || !strings.Contains(r.Stderr, "run reconform init") {
		t.Fatalf("apply before init: %d %s", r.Code, r.Stderr)
	}
	if r := cli("init", "qs"); r.Code != exitOK || !strings.Contains(r.Stdout, "schema created at version") {
		t.Fatalf("init: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := cli("init", "qs"); r.Code != exitOK || !strings.Contains(r.Stdout, "up to date") {
		t.Fatalf("init again: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := cli("apply", "-auto-approve", "qs"); r.Code != exitOK || !strings.Contains(r.Stdout, "pg schema fleet, engagement qs") {
		t.Fatalf("apply: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "qs", "qs.rfstate")); err == nil {
		t.Error("a local state file was written with the pg backend")
	}
	r := cli("apply", "-auto-approve", "qs")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "serial 2") {
		t.Fatalf("second apply: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	show, pull := cli("show", "-json", "qs"), cli("state", "pull", "qs")
	if show.Code != exitOK || pull.Code != exitOK || show.Stdout != pull.Stdout || !strings.Contains(pull.Stdout, `"serial": 2`) {
		t.Fatalf("show -json and state pull: %d %d\n%s", show.Code, pull.Code, pull.Stderr)
	}
	if r := cli("diff", "-no-color", "1", "2", "qs"); r.Code != exitOK {
		t.Fatalf("diff 1 2: %d %s", r.Code, r.Stderr)
	}
	if r := cli("show", "1", "qs"); r.Code != exitOK || !strings.Contains(r.Stdout, "Serial:     1") {
		t.Fatalf("show 1: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := cli("report", "-format=md", "qs"); r.Code != exitOK {
		t.Fatalf("report: %d %s", r.Code, r.Stderr)
	}
	if r := cli("state", "list", "qs"); r.Code != exitOK || !strings.Contains(r.Stdout, "www.") {
		t.Fatalf("state list: %d %s", r.Code, r.Stderr)
	}

	// push: the pulled state is already there; an older one is refused
	// unless -force; a newer one of the lineage is taken as it is.
	file := filepath.Join(dir, "pulled.rfstate")
	os.WriteFile(file, []byte(pull.Stdout), 0o644)
	if r := cli("state", "push", "-chdir=qs", file); r.Code != exitOK || !strings.Contains(r.Stdout, "nothing to push") {
		t.Fatalf("push of the same state: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	st, _ := state.ReadFile(file)
	st.Serial = 1
	st.Findings = st.Findings[1:]
	var buf bytes.Buffer
	state.Encode(&buf, st)
	os.WriteFile(file, buf.Bytes(), 0o644)
	if r := cli("state", "push", "-chdir=qs", file); r.Code != exitError || !strings.Contains(r.Stderr, "older") {
		t.Fatalf("push of an older serial: %d %s", r.Code, r.Stderr)
	}
	st.Serial = 9
	buf.Reset()
	state.Encode(&buf, st)
	os.WriteFile(file, buf.Bytes(), 0o644)
	if r := cli("state", "push", "-chdir=qs", file); r.Code != exitOK || !strings.Contains(r.Stdout, "serial 9") {
		t.Fatalf("push of a newer serial: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if got := cli("state", "pull", "qs"); got.Stdout != buf.String() {
		t.Fatalf("pull after push is not the pushed file")
	}
	st.Lineage = "00000000-0000-4000-8000-000000000000"
	buf.Reset()
	state.Encode(&buf, st)
	os.WriteFile(file, buf.Bytes(), 0o644)
	if r := cli("state", "push", "-chdir=qs", file); r.Code != exitError || !strings.Contains(r.Stderr, "lineage") {
		t.Fatalf("push of another lineage: %d %s", r.Code, r.Stderr)
	}
	if r := cli("state", "push", "-force", "-chdir=qs", file); r.Code != exitOK || !strings.Contains(r.Stdout, "serial 10") {
		t.Fatalf("push -force: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	// state rm goes through the backend too.
	if r := cli("state", "rm", "-chdir=qs", strings.TrimSpace(strings.SplitN(cli("state", "list", "qs").Stdout, "\n", 2)[0])); r.Code != exitOK {
		t.Fatalf("state rm: %d %s", r.Code, r.Stderr)
	}
	// A plan saved to a file holds no secret.
	plan := filepath.Join(dir, "p.rfplan")
	if r := cli("plan", "-out", plan, "qs"); r.Code != exitOK {
		t.Fatalf("plan -out: %d %s", r.Code, r.Stderr)
	}
	data, _ := os.ReadFile(plan)
	noSecret(t, conn, string(data))
	if r := cli("apply", plan); r.Code != exitOK {
		t.Fatalf("apply PLAN: %d %s", r.Code, r.Stderr)
	}
}

// TestMigrateStateFromLocal: a local state and its history move into pg;
// the state pg gives back is the local file, byte for byte.
func TestMigrateStateFromLocal(t *testing.T) {
	conn := pgtest.Database(t)
	environ := []string{"RECONFORM_PG_CONN=" + conn}
	dir := t.TempDir()
	if r := runCLI(t, dir, nil, "init", "qs"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	for i := 0; i < 3; i++ {
		if r := runCLI(t, dir, nil, "apply", "-auto-approve", "qs"); r.Code != exitOK {
			t.Fatal(r.Stderr)
		}
	}
	localState, _ := os.ReadFile(filepath.Join(dir, "qs", "qs.rfstate"))
	hist, _ := filepath.Glob(filepath.Join(dir, "qs", ".reconform", "history", "*.rfhist"))
	if len(hist) != 3 { // serials 1 and 2, and the current 3's entry
		t.Fatalf("local history: %v", hist)
	}
	firstLocal := runCLI(t, dir, nil, "show", "-json", "1", "qs").Stdout
	addPGBackend(t, filepath.Join(dir, "qs"))
	if r := runCLI(t, dir, environ, "init", "-migrate-state", "qs"); r.Code != exitOK || !strings.Contains(r.Stdout, "Migrated 3 states") {
		t.Fatalf("init -migrate-state: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := runCLI(t, dir, environ, "show", "-json", "qs"); r.Code != exitOK || r.Stdout != string(localState) {
		t.Fatalf("the migrated state differs from the local file: %d %s", r.Code, r.Stderr)
	}
	if r := runCLI(t, dir, environ, "show", "-json", "1", "qs"); r.Stdout != string(firstLocal) {
		t.Fatalf("migrated history serial 1 differs from the local history file: %s", r.Stderr)
	}
	// Again: nothing to do. Over another state: refused without -force-copy.
	if r := runCLI(t, dir, environ, "init", "-migrate-state", "qs"); r.Code != exitOK || !strings.Contains(r.Stdout, "nothing to migrate") {
		t.Fatalf("second migrate: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	os.RemoveAll(filepath.Join(dir, "qs", ".reconform"))
	os.Remove(filepath.Join(dir, "qs", "qs.rfstate"))
	// A new local state of another lineage.
	other := t.TempDir()
	runCLI(t, other, nil, "init", "qs")
	runCLI(t, other, nil, "apply", "-auto-approve", "qs")
	data, _ := os.ReadFile(filepath.Join(other, "qs", "qs.rfstate"))
	os.WriteFile(filepath.Join(dir, "qs", "qs.rfstate"), data, 0o644)
	if r := runCLI(t, dir, environ, "init", "-migrate-state", "qs"); r.Code != exitError || !strings.Contains(r.Stderr, "-force-copy") {
		t.Fatalf("migrate over another state: %d %s", r.Code, r.Stderr)
	}
}

// TestRunAllTwoProcessesApplyEachOnce runs run-all over a fleet from two
// processes at once, on the pg backend and on local files: every
// engagement is applied exactly once.
func TestRunAllTwoProcessesApplyEachOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI as processes")
	}
	conn := pgtest.Database(t)
	for _, withPG := range []bool{true, false} {
		t.Run(fmt.Sprintf("pg=%v", withPG), func(t *testing.T) {
			dir := t.TempDir()
			var dirs []string
			for i := 0; i < 8; i++ {
				name := fmt.Sprintf("e%d", i)
				if withPG {
					pgEngagement(t, dir, name)
				} else if r := runCLI(t, dir, nil, "init", name); r.Code != exitOK {
					t.Fatal(r.Stderr)
				}
				dirs = append(dirs, name)
			}
			environ := []string{"RECONFORM_PG_CONN=" + conn}
			if withPG {
				if r := runCLI(t, dir, environ, "init", "e0"); r.Code != exitOK {
					t.Fatal(r.Stderr)
				}
			}
			outs := make([]string, 2)
			codes := make([]int, 2)
			var wg sync.WaitGroup
			for p := 0; p < 2; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cmd := cliCommand(t, dir, append([]string{"run-all", "-parallelism=2"}, dirs...)...)
					cmd.Env = append(cmd.Env, "RECONFORM_PG_CONN="+conn)
					out, err := cmd.CombinedOutput()
					outs[p] = string(out)
					if ee, ok := err.(*exec.ExitError); ok {
						codes[p] = ee.ExitCode()
					}
				}()
			}
			wg.Wait()
			noSecret(t, conn, outs...)
			for p := range outs {
				if codes[p] != exitOK {
					t.Fatalf("process %d exited %d:\n%s", p, codes[p], outs[p])
				}
			}
			for _, d := range dirs {
				applied := 0
				for _, out := range outs {
					for _, line := range strings.Split(out, "\n") {
						if strings.HasPrefix(line, d+" ") && !strings.Contains(line, "skipped") {
							applied++
						}
					}
				}
				r := runCLI(t, dir, environ, "show", "-json", d)
				if applied != 1 || !strings.Contains(r.Stdout, `"serial": 1`+"\n") {
					t.Errorf("%s applied %d times (serial line present: %v)\n%s\n%s", d, applied, strings.Contains(r.Stdout, `"serial": 1`), outs[0], outs[1])
				}
			}
			t.Logf("process 1:\n%s", outs[0])
		})
	}
}

// TestRunAllLinesAndExitCodes: one line per engagement, a summary, and
// the aggregate exit code.
func TestRunAllLinesAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		if r := runCLI(t, dir, nil, "init", n); r.Code != exitOK {
			t.Fatal(r.Stderr)
		}
	}
	os.MkdirAll(filepath.Join(dir, "broken"), 0o755)
	os.WriteFile(filepath.Join(dir, "broken", "main.hcl"), []byte("engagement {\n"), 0o644)
	r := runCLI(t, dir, nil, "run-all", "-detailed-exitcode", "a", "b")
	if r.Code != exitDrift || !strings.Contains(r.Stdout, "a ") || !strings.Contains(r.Stdout, "first state") || !strings.Contains(r.Stdout, "run-all: 2 engagements") {
		t.Fatalf("first run-all: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	// Applied a moment ago: skipped as fresh, unless -fresh=0.
	if r := runCLI(t, dir, nil, "run-all", "a", "b"); r.Code != exitOK || strings.Count(r.Stdout, "skipped: applied") != 2 {
		t.Fatalf("second run-all: %d %s", r.Code, r.Stdout)
	}
	r = runCLI(t, dir, nil, "run-all", "-fresh=0", "-detailed-exitcode", "a", "b", "broken")
	if r.Code != exitError || strings.Count(r.Stdout, "(serial 2)") != 2 || !strings.Contains(r.Stdout, "broken") || !strings.Contains(r.Stdout, "failed: the engagement did not load") {
		t.Fatalf("run-all with a broken engagement: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	// A held lock: skipped.
	l, err := state.Store{Path: filepath.Join(dir, "a", "a.rfstate")}.AcquireLock(context.Background(), "apply", "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if r := runCLI(t, dir, nil, "run-all", "-fresh=0", "-json", "a"); r.Code != exitOK || !strings.Contains(r.Stdout, `"status":"skipped_locked"`) {
		t.Fatalf("locked: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
}
