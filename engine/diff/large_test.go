package diff

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// The large-state measurement of issue 4: load and diff two generated
// states of N findings each, against sort + comm over the same findings
// one per line, and the peak memory of the load+diff process.
//
//	RECONFORM_LARGE=1000000 go test ./engine/diff -run TestLargeStates -v -timeout 30m
//
// It is skipped unless RECONFORM_LARGE is set.

// largeState generates a state of n findings; variant 1 changes about 1%
// of them (moves, removals, additions, currency flips).
func largeState(n, variant int) *state.State {
	s := state.New("bench")
	s.Lineage = "00000000-0000-4000-8000-000000000000"
	s.Serial = uint64(variant + 1)
	rng := rand.New(rand.NewPCG(1, uint64(variant)))
	last := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sources := []string{"securitytrails", "circl", "dnsdb", "file.sonar"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("h%07d.zone%03d.acme.example", i, i%997)
		value := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		cur := state.Current
		if variant == 1 {
			switch r := rng.IntN(400); {
			case r == 0:
				continue // removed
			case r == 1:
				value = fmt.Sprintf("172.16.%d.%d", i>>8&255, i&255) // moved
			case r == 2:
				cur = state.Historical
			case r == 3:
				name = "new-" + name // added
			}
		}
		f := state.Finding{
			Finding:   schema.Finding{Name: name, Type: "A", Value: value, FirstSeen: last.Add(-90 * 24 * time.Hour), LastSeen: last, Count: int64(i%50 + 1)},
			Currency:  cur,
			Block:     "query.history",
			Instances: []string{"securitytrails resolutions zone" + strconv.Itoa(i%997) + ".acme.example"},
		}
		f.Sources = []string{sources[i%len(sources)]}
		f.Query = f.Instances[0]
		s.Findings = append(s.Findings, f)
	}
	state.SortFindings(s.Findings)
	return s
}

func writeState(t *testing.T, path string, s *state.State) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := state.Encode(f, s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func writeLines(t *testing.T, path string, s *state.State) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	// Shuffled, so sort has real work, as it would on a provider's dump.
	idx := rand.New(rand.NewPCG(7, 7)).Perm(len(s.Findings))
	for _, i := range idx {
		w.WriteString(s.Findings[i].ID())
		w.WriteByte('\n')
	}
	w.Flush()
	f.Close()
}

func TestMain(m *testing.M) {
	if a, b := os.Getenv("RECONFORM_LARGE_OLD"), os.Getenv("RECONFORM_LARGE_NEW"); a != "" {
		os.Exit(loadAndDiff(a, b))
	}
	os.Exit(m.Run())
}

// loadAndDiff is the measured child: it prints timings and its peak RSS.
func loadAndDiff(oldPath, newPath string) int {
	start := time.Now()
	// The two states load concurrently, as reconform diff loads them.
	var old, new *state.State
	var oldErr, newErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		old, oldErr = state.ReadFile(oldPath)
	}()
	new, newErr = state.ReadFile(newPath)
	<-done
	if err := errors.Join(oldErr, newErr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	loaded := time.Now()
	r := Compare(old, new, nil)
	compared := time.Now()
	fmt.Printf("load=%s diff=%s added=%d removed=%d changed=%d historical=%d hwm_kb=%s\n",
		loaded.Sub(start).Round(time.Millisecond), compared.Sub(loaded).Round(time.Millisecond),
		len(r.Added), len(r.Removed), len(r.Changed), len(r.WentHistorical), peakKB())
	runtime.KeepAlive(old)
	runtime.KeepAlive(new)
	return 0
}

func peakKB() string {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSuffix(strings.TrimSpace(v), " kB")
		}
	}
	return "?"
}

func TestLargeStates(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RECONFORM_LARGE"))
	if n <= 0 {
		t.Skip("set RECONFORM_LARGE=<findings> to measure")
	}
	dir := t.TempDir()
	oldS, newS := largeState(n, 0), largeState(n, 1)
	oldPath, newPath := filepath.Join(dir, "old.rfstate"), filepath.Join(dir, "new.rfstate")
	writeState(t, oldPath, oldS)
	writeState(t, newPath, newS)
	writeLines(t, filepath.Join(dir, "old.txt"), oldS)
	writeLines(t, filepath.Join(dir, "new.txt"), newS)
	oldS, newS = nil, nil
	runtime.GC()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RECONFORM_LARGE_OLD="+oldPath, "RECONFORM_LARGE_NEW="+newPath)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	total := time.Since(start)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("reconform load+diff (wall %s, cpu %s): %s", total.Round(time.Millisecond),
		(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Round(time.Millisecond), strings.TrimSpace(string(out)))

	script := `LC_ALL=C sort old.txt > old.sorted && LC_ALL=C sort new.txt > new.sorted && LC_ALL=C comm -3 old.sorted new.sorted | wc -l`
	sc := exec.Command("sh", "-c", script)
	sc.Dir = dir
	start = time.Now()
	cout, err := sc.CombinedOutput()
	if err != nil {
		t.Fatalf("sort+comm: %v %s", err, cout)
	}
	t.Logf("sort+comm (wall %s, cpu %s): %s lines differ", time.Since(start).Round(time.Millisecond),
		(sc.ProcessState.UserTime() + sc.ProcessState.SystemTime()).Round(time.Millisecond), strings.TrimSpace(string(cout)))
	for _, name := range []string{"old.rfstate", "old.txt"} {
		fi, _ := os.Stat(filepath.Join(dir, name))
		t.Logf("%s: %d bytes", name, fi.Size())
	}
}
