// Command benchdiff measures `reconform diff OLD NEW` on two generated
// states of N findings (default one million; the new one a nightly re-run
// with 1% drift, every other finding seen again) against `sort` + `comm`
// over the same findings, one identity a line, shuffled, in the same run;
// and the memory of loading one state whole, as apply, show and report do.
//
//	go run ./internal/benchdiff [-n 1000000] [-runs 3] [-drift 1]
//
// It builds the reconform binary into a temporary folder and runs each
// measured command as a child process, alternating their order run by
// run; peak memory is the child's maximum resident set.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

func main() {
	if path := os.Getenv("BENCHDIFF_LOAD"); path != "" {
		os.Exit(loadChild(path))
	}
	if dir := os.Getenv("BENCHDIFF_GENERATE"); dir != "" {
		n, _ := strconv.Atoi(os.Getenv("BENCHDIFF_N"))
		drift, _ := strconv.ParseFloat(os.Getenv("BENCHDIFF_DRIFT"), 64)
		if err := generateFiles(dir, n, drift); err != nil {
			fmt.Fprintln(os.Stderr, "benchdiff:", err)
			os.Exit(1)
		}
		return
	}
	n := flag.Int("n", 1_000_000, "findings in each state")
	runs := flag.Int("runs", 3, "repetitions (medians are reported)")
	drift := flag.Float64("drift", 1, "percent of findings the re-run changes")
	keep := flag.Bool("keep", false, "keep the generated files")
	flag.Parse()
	if err := run(*n, *runs, *drift, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "benchdiff:", err)
		os.Exit(1)
	}
}

// measured is one child's wall time and peak resident set.
type measured struct {
	wall time.Duration
	rss  int64 // bytes
	out  string
}

func run(n, runs int, drift float64, keep bool) error {
	dir, err := os.MkdirTemp("", "benchdiff")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("files in", dir)
	}
	bin := filepath.Join(dir, "reconform")
	fmt.Println("building reconform ...")
	build := exec.Command("go", "build", "-o", bin, "./cmd/reconform")
	build.Dir = moduleRoot()
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}

	// A child generates the files: a child's peak resident set starts at
	// its parent's, so the parent stays small.
	fmt.Printf("generating two states of %d findings (%.1f%% drift) ...\n", n, drift)
	gen := exec.Command(os.Args[0])
	gen.Env = append(os.Environ(), "BENCHDIFF_GENERATE="+dir, "BENCHDIFF_N="+strconv.Itoa(n), "BENCHDIFF_DRIFT="+strconv.FormatFloat(drift, 'f', -1, 64))
	gen.Stderr = os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("generating: %w", err)
	}
	paths := map[string]string{"old": filepath.Join(dir, "old.rfstate"), "new": filepath.Join(dir, "new.rfstate")}
	fi, _ := os.Stat(paths["old"])
	lines, _ := os.Stat(filepath.Join(dir, "old.txt"))
	fmt.Printf("state file %.1f MiB, identity lines %.1f MiB\n", mib(fi.Size()), mib(lines.Size()))

	diff := func() (measured, error) {
		cmd := exec.Command(bin, "diff", "-no-color", paths["old"], paths["new"])
		cmd.Dir = dir
		return measure(cmd)
	}
	comm := func() (measured, error) {
		cmd := exec.Command("sh", "-c", "LC_ALL=C sort old.txt > old.sorted && LC_ALL=C sort new.txt > new.sorted && LC_ALL=C comm -3 old.sorted new.sorted | wc -l")
		cmd.Dir = dir
		return measure(cmd)
	}
	load := func() (measured, error) {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "BENCHDIFF_LOAD="+paths["new"])
		return measure(cmd)
	}
	var diffs, comms, loads []measured
	for i := range runs {
		steps := []func() error{
			func() error { m, err := diff(); diffs = append(diffs, m); return err },
			func() error { m, err := comm(); comms = append(comms, m); return err },
		}
		if i%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		m, err := load()
		if err != nil {
			return err
		}
		loads = append(loads, m)
		d, c, l := diffs[i], comms[i], loads[i]
		fmt.Printf("run %d: reconform diff %s (peak %.0f MiB), sort+comm %s (peak %.0f MiB): %.2fx; whole load %s\n",
			i+1, d.wall.Round(time.Millisecond), mib(d.rss), c.wall.Round(time.Millisecond), mib(c.rss),
			d.wall.Seconds()/c.wall.Seconds(), strings.TrimSpace(l.out))
	}
	if !strings.Contains(diffs[0].out, "Removed") && !strings.Contains(diffs[0].out, "removed") {
		return fmt.Errorf("reconform diff printed no drift:\n%.2000s", diffs[0].out)
	}
	fmt.Printf("\ncommon lines of sort+comm -3: %s", comms[0].out)
	dw, cw := median(diffs, wallOf), median(comms, wallOf)
	fmt.Printf("\nmedians of %d runs, %d findings a state:\n", runs, n)
	fmt.Printf("  reconform diff OLD NEW   %8s   peak %6.0f MiB   %5.0f bytes a finding (both states)\n",
		time.Duration(dw).Round(time.Millisecond), mib(int64(median(diffs, rssOf))), median(diffs, rssOf)/float64(2*n))
	fmt.Printf("  sort + comm              %8s   peak %6.0f MiB\n", time.Duration(cw).Round(time.Millisecond), mib(int64(median(comms, rssOf))))
	fmt.Printf("  ratio                    %.2fx sort+comm\n", dw/cw)
	fmt.Printf("  one state loaded whole   %8s   peak %6.0f MiB   %5.0f bytes a finding (peak), %s\n",
		time.Duration(median(loads, wallOf)).Round(time.Millisecond), mib(int64(median(loads, rssOf))), median(loads, rssOf)/float64(n), liveOf(loads))
	return nil
}

func wallOf(m measured) float64 { return float64(m.wall) }
func rssOf(m measured) float64  { return float64(m.rss) }

func median(ms []measured, f func(measured) float64) float64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// liveOf is the median of the load child's live heap per finding.
func liveOf(ms []measured) string {
	var v []float64
	for _, m := range ms {
		for _, f := range strings.Fields(m.out) {
			if s, ok := strings.CutPrefix(f, "live_per_finding="); ok {
				x, _ := strconv.ParseFloat(s, 64)
				v = append(v, x)
			}
		}
	}
	if len(v) == 0 {
		return "live heap unknown"
	}
	slices.Sort(v)
	return fmt.Sprintf("live heap %.0f bytes a finding", v[len(v)/2])
}

func measure(cmd *exec.Cmd) (measured, error) {
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		return measured{}, fmt.Errorf("%s: %w %s", strings.Join(cmd.Args, " "), err, msg)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024
	}
	return measured{wall: wall, rss: rss, out: string(out)}, nil
}

// loadChild reads one state whole and reports its live heap per finding.
func loadChild(path string) int {
	start := time.Now()
	s, err := state.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	took := time.Since(start)
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%s live_per_finding=%.0f\n", took.Round(time.Millisecond), float64(ms.HeapAlloc)/float64(len(s.Findings)))
	runtime.KeepAlive(s)
	return 0
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "."
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// generateFiles writes old.rfstate, new.rfstate and their identity lines.
func generateFiles(dir string, n int, drift float64) error {
	oldS, newS := generate(n, drift)
	for name, s := range map[string]*state.State{"old": oldS, "new": newS} {
		if err := writeState(filepath.Join(dir, name+".rfstate"), s); err != nil {
			return err
		}
		if err := writeLines(filepath.Join(dir, name+".txt"), s); err != nil {
			return err
		}
	}
	return nil
}

func writeState(path string, s *state.State) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := state.Encode(f, s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeLines writes the findings' identities one a line, shuffled, so
// that sort has the work it would have on a provider's dump.
func writeLines(path string, s *state.State) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, i := range rand.New(rand.NewPCG(7, 7)).Perm(len(s.Findings)) {
		w.WriteString(s.Findings[i].ID())
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// generate returns a state of n findings and a nightly re-run of it:
// every current finding seen again (a later last_seen, a higher count),
// and driftPct percent changed, in equal shares removed, moved to another
// value, added and gone historical. Types are mostly A, with AAAA,
// CNAME, TXT and MX as in an attack surface.
func generate(n int, driftPct float64) (old, new *state.State) {
	old, new = state.New("bench"), state.New("bench")
	for _, s := range []*state.State{old, new} {
		s.Lineage = "00000000-0000-4000-8000-000000000000"
	}
	old.Serial, new.Serial = 1, 2
	first := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	old.Run.FinishedAt, new.Run.FinishedAt = last, last.Add(24*time.Hour)
	sources := [][]string{{"provider.securitytrails"}, {"provider.circl"}, {"provider.dnsdb", "provider.securitytrails"}, {"provider.file.sonar"}}
	every := 0
	if driftPct > 0 {
		every = max(1, int(100/driftPct)) // one finding in every drifts
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		zone := fmt.Sprintf("zone%03d.acme.example", i%997)
		name := fmt.Sprintf("h%07d.%s", i, zone)
		typ, value := "A", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		switch i % 20 {
		case 1, 2:
			typ, value = "AAAA", fmt.Sprintf("2001:db8::%x:%x", i>>16, i&0xffff)
		case 3:
			typ, value = "CNAME", fmt.Sprintf("edge%03d.cdn.example", i%500)
		case 4:
			typ, value = "TXT", fmt.Sprintf("google-site-verification=%016x", rng.Uint64())
		case 5:
			if i%100 == 5 {
				typ, value = "MX", fmt.Sprintf("mx%d.mail.example", i%7)
			}
		}
		instance := "query.history[\"" + zone + "\"]"
		f := state.Finding{
			Finding: schema.Finding{Name: name, Type: typ, Value: value, FirstSeen: first, LastSeen: last,
				Count: int64(i%50 + 1), Sources: sources[i%len(sources)], Query: instance},
			Currency:  state.Current,
			Block:     "query.history",
			Blocks:    []string{"query.history"},
			Instances: []string{instance},
		}
		if i%9 == 0 {
			f.Currency = state.Historical
		}
		old.Findings = append(old.Findings, f)
		g := f
		if g.IsCurrent() {
			g.LastSeen = last.Add(24 * time.Hour)
			g.Count++
		}
		kind := -1 // the kinds of drift take turns
		if every > 0 && i%every == every/2 {
			kind = (i / every) % 4
		}
		switch kind {
		case 0: // removed
			continue
		case 1: // moved
			switch g.Type {
			case "A":
				g.Value = fmt.Sprintf("172.16.%d.%d", i>>8&255, i&255)
			case "AAAA":
				g.Value = fmt.Sprintf("2001:db8:ffff::%x", i&0xffff)
			default:
				g.Value = "moved-" + g.Value
			}
		case 2: // added
			new.Findings = append(new.Findings, g)
			g.Name = "new-" + g.Name
		case 3: // went historical (or current again)
			if g.IsCurrent() {
				g.Currency = state.Historical
			} else {
				g.Currency, g.LastSeen = state.Current, last.Add(24*time.Hour)
			}
		}
		new.Findings = append(new.Findings, g)
	}
	state.SortFindings(old.Findings)
	state.SortFindings(new.Findings)
	return old, new
}
