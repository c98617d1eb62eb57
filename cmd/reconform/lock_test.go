package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/pgtest"
)

// TestMain lets a test run this binary as the reconform command itself,
// for what only a real process shows (signals, pipes, kills).
func TestMain(m *testing.M) {
	if os.Getenv("RECONFORM_TEST_AS_CLI") == "1" {
		main()
		return
	}
	pgtest.Main(m)
}

// cliCommand is this test binary run as reconform in dir.
func cliCommand(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	// The quota ledger of a process run by a test is the test's, never
	// the user's (~/.local/state).
	cmd.Env = append(os.Environ(), "RECONFORM_TEST_AS_CLI=1", "XDG_STATE_HOME="+t.TempDir())
	return cmd
}

var unlockHint = regexp.MustCompile(`reconform force-unlock( -chdir=\S+)? (\S+)`)

// TestForceUnlockHintWorksFromTheUserFolder: the lock error printed for a
// run started from the parent folder names a command that works there.
func TestForceUnlockHintWorksFromTheUserFolder(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, dir, nil, "init", "qs"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	st := state.Store{Path: filepath.Join(dir, "qs", "qs.rfstate")}
	l, err := st.AcquireLock(context.Background(), "apply", "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	r := runCLI(t, dir, nil, "plan", "qs")
	m := unlockHint.FindStringSubmatch(r.Stderr)
	if r.Code != exitError || m == nil || m[1] != " -chdir=qs" || m[2] != l.Info.ID {
		t.Fatalf("plan under a lock: %d %q", r.Code, r.Stderr)
	}
	// The command as printed, plus -force (no terminal here), from the
	// same folder.
	args := append([]string{"force-unlock", "-force"}, strings.Fields(m[0])[2:]...)
	if r := runCLI(t, dir, nil, args...); r.Code != exitOK {
		t.Fatalf("%v: %d %s", args, r.Code, r.Stderr)
	}
	// A DIR argument works as well as -chdir.
	l2, _ := st.AcquireLock(context.Background(), "apply", "test", 0)
	defer l2.Unlock()
	if r := runCLI(t, dir, nil, "force-unlock", "-force", "qs", l2.Info.ID); r.Code != exitOK {
		t.Fatalf("force-unlock DIR ID: %d %s", r.Code, r.Stderr)
	}
}

// TestInterruptEndsTheLockWait: Ctrl-C during -lock-timeout stops the
// wait at once instead of running out the timeout.
func TestInterruptEndsTheLockWait(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, dir, nil, "init", "qs"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	l, err := state.Store{Path: filepath.Join(dir, "qs", "qs.rfstate")}.AcquireLock(context.Background(), "apply", "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	for _, verb := range [][]string{{"apply", "-auto-approve"}, {"plan"}, {"state", "rm", "-chdir=qs"}} {
		sigs := make(chan os.Signal, 1)
		var stdout, stderr strings.Builder
		env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, WorkDir: dir, Interrupts: sigs}
		args := append(append([]string{}, verb...), "-lock-timeout=10m")
		if verb[0] != "state" {
			args = append(args, "qs")
		} else {
			args = append(args, "x.qs.example A 192.0.2.1")
		}
		done := make(chan int)
		go func() { done <- run(context.Background(), env, args) }()
		time.Sleep(200 * time.Millisecond)
		sigs <- syscall.SIGINT
		select {
		case code := <-done:
			if code != exitInterrupted || !strings.Contains(stderr.String(), "interrupted while waiting for the state lock") {
				t.Errorf("%v: %d %q", verb, code, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: still waiting for the lock 10s after Ctrl-C", verb)
		}
	}
}

// bigEngagement writes an engagement whose plan prints far more than a
// pipe holds.
func bigEngagement(t *testing.T, dir string) {
	t.Helper()
	if r := runCLI(t, dir, nil, "init", "qs"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "target \"domain\" \"t%d\" { name = \"h%d.acme.example\" }\n", i, i)
	}
	b.WriteString("query \"many\" {\n  provider = provider.file.sample\n  op = \"resolutions\"\n  subjects = [")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "target.domain.t%d, ", i)
	}
	b.WriteString("]\n}\n")
	if err := os.WriteFile(filepath.Join(dir, "qs", "many.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSIGPIPEdAndKilledRunsLeaveNoLock: "reconform plan qs | head -3" and
// a SIGKILL during a run never block the next run.
func TestSIGPIPEdAndKilledRunsLeaveNoLock(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI as processes")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	bigEngagement(t, dir)
	sh := exec.Command("sh", "-c", `"$0" plan qs | head -3`, os.Args[0])
	sh.Dir = dir
	sh.Env = append(os.Environ(), "RECONFORM_TEST_AS_CLI=1")
	if out, err := sh.CombinedOutput(); err != nil || strings.Count(string(out), "\n") != 3 {
		t.Fatalf("plan | head -3: %v %q", err, out)
	}
	next := cliCommand(t, dir, "plan", "-no-color", "qs")
	if out, err := next.CombinedOutput(); err != nil {
		t.Fatalf("the run after a SIGPIPEd one: %v\n%s", err, out[:min(len(out), 2000)])
	}

	// SIGKILL while it holds the lock (in the middle of printing its plan
	// into a pipe nobody reads).
	killed := cliCommand(t, dir, "plan", "qs")
	out, _ := killed.StdoutPipe()
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	out.Read(buf) // it has started printing: the lock is taken
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()
	if r := runCLI(t, dir, nil, "plan", "-no-color", "qs"); r.Code != exitOK {
		t.Fatalf("the run after a SIGKILLed one: %d %s", r.Code, r.Stderr)
	}

	// SIGKILL during apply, once its walk has started (the JSON stream
	// has its first event after the version line): the next apply runs.
	for range 2 {
		killed = cliCommand(t, dir, "apply", "-auto-approve", "-json", "qs")
		out, _ = killed.StdoutPipe()
		if err := killed.Start(); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(out)
		r.ReadString('\n')
		r.ReadString('\n')
		killed.Process.Signal(syscall.SIGKILL)
		killed.Wait()
		if r := runCLI(t, dir, []string{"XDG_STATE_HOME=" + t.TempDir()}, "apply", "-auto-approve", "-no-color", "qs"); r.Code != exitOK {
			t.Fatalf("the apply after a SIGKILLed apply: %d %s", r.Code, r.Stderr)
		}
	}
}

// TestForceUnlockUnderGlobalChdir: with the global -chdir the lock error's
// command names it, and force-unlock works from any folder that names the
// engagement: -chdir before the verb, after it, or a DIR argument.
func TestForceUnlockUnderGlobalChdir(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, dir, nil, "init", "qs"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	os.Mkdir(filepath.Join(dir, "elsewhere"), 0o755)
	st := state.Store{Path: filepath.Join(dir, "qs", "qs.rfstate")}
	for _, unlock := range []func(id string) (string, []string){
		func(id string) (string, []string) { return dir, []string{"-chdir=qs", "force-unlock", "-force", id} },
		func(id string) (string, []string) {
			return filepath.Join(dir, "elsewhere"), []string{"-chdir=../qs", "force-unlock", "-force", id}
		},
		func(id string) (string, []string) {
			return filepath.Join(dir, "elsewhere"), []string{"force-unlock", "-force", "-chdir", "../qs", id}
		},
		func(id string) (string, []string) {
			return dir, []string{"-chdir=.", "force-unlock", "-force", "qs", id}
		},
	} {
		l, err := st.AcquireLock(context.Background(), "apply", "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, dir, nil, "-chdir=qs", "plan")
		if r.Code != exitError || !strings.Contains(r.Stderr, "reconform -chdir=qs force-unlock "+l.Info.ID) {
			t.Errorf("plan under a lock, -chdir=qs: %d %q", r.Code, r.Stderr)
		}
		from, args := unlock(l.Info.ID)
		if r := runCLI(t, from, nil, args...); r.Code != exitOK || !strings.Contains(r.Stdout, "is unlocked") {
			t.Errorf("%v: %d %s", args, r.Code, r.Stderr)
		}
		if r := runCLI(t, dir, nil, "-chdir=qs", "plan"); r.Code != exitOK {
			t.Errorf("plan after %v: %d %s", args, r.Code, r.Stderr)
		}
		l.Unlock()
	}
}
