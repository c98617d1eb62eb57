// Command benchhistory measures the history as changes (issue 15) against
// the full copies reconform 0.1 kept, in the same run: a generated state
// of N findings (default one million) re-run nightly with 1% drift (0.4%
// of the findings seen again later, 0.3% gone, 0.3% new, every instance
// verified again), committed through the local backend.
//
//	go run ./internal/benchhistory [-n 1000000] [-nights 34] [-drift 1]
//
// It reports, as medians: the history's growth per night as a percentage
// of the state file's size (the delta entries, and amortised over a whole
// chain with its snapshot), against the 0.1 approach's (a whole copy of
// the replaced state, measured as the file it kept); the commit's time
// against writing the state file alone; and the time to rebuild the
// oldest serial of the deepest chain (SnapshotEvery-1 deltas on a
// snapshot) against reading the 0.1 full copy of the same serial.
package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/schema"
)

func main() {
	n := flag.Int("n", 1_000_000, "findings in the state")
	nights := flag.Int("nights", state.SnapshotEvery+2, "nightly re-runs (past one chain: its snapshot and its deltas)")
	drift := flag.Float64("drift", 1, "percent of findings a night changes")
	rebuilds := flag.Int("rebuilds", 3, "repetitions of each timed read (medians are reported)")
	dir := flag.String("dir", "", "work folder (default: a temporary one, removed after)")
	flag.Parse()
	if err := run(*n, *nights, *drift, *rebuilds, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "benchhistory:", err)
		os.Exit(1)
	}
}

var t0 = time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)

const instances = 500

func finding(name string, i int) state.Finding {
	f := state.Finding{Finding: schema.NewFinding(name, "A", fmt.Sprintf("10.%d.%d.%d", i/62500%250, i/250%250, i%250)),
		Currency: state.Current, Block: "query.history",
		Instances: []string{fmt.Sprintf("securitytrails resolutions t%03d.acme.example", i%instances)}}
	f.Sources = []string{"securitytrails"}
	f.FirstSeen, f.LastSeen, f.Count = t0.Add(-365*24*time.Hour), t0, int64(i%97+1)
	f.Query = f.Instances[0]
	return f
}

// first is the state of the first night.
func first(n int) *state.State {
	s := state.New("bench")
	s.ConfigHash = "bench"
	s.Findings = make([]state.Finding, n)
	for i := range s.Findings {
		s.Findings[i] = finding(fmt.Sprintf("h%07d.t%03d.acme.example", i, i%instances), i)
	}
	for i := 0; i < instances; i++ {
		subj := fmt.Sprintf("t%03d.acme.example", i)
		s.Instances = append(s.Instances, schema.InstanceResult{Key: "securitytrails resolutions " + subj, Block: "query.history", Status: "ok",
			Requests: 3, Findings: n / instances, Query: schema.Query{Provider: "securitytrails", Op: "resolutions", Subject: schema.Subject{Kind: schema.SubjectDomain, Value: subj}}})
	}
	night(s, 0, 0, nil)
	return s
}

// night moves s on to night v: pct% of its findings drift, the run
// summary and every instance's verification time move.
func night(s *state.State, v int, pct float64, rng *rand.Rand) {
	at := t0.Add(time.Duration(v) * 24 * time.Hour)
	s.Run = state.RunSummary{StartedAt: at, FinishedAt: at.Add(47 * time.Minute),
		Instances: map[schema.InstanceStatus]int{"ok": instances}, Requests: map[string]int{"securitytrails": 3 * instances}, Findings: len(s.Findings)}
	for i := range s.Instances {
		s.Instances[i].VerifiedAt = at.Add(time.Duration(i) * time.Second)
	}
	if rng == nil {
		return
	}
	n := len(s.Findings)
	k := int(float64(n) * pct / 100)
	seen, gone, added := k*4/10, k*3/10, k-k*4/10-k*3/10
	for j := 0; j < seen; j++ {
		f := &s.Findings[rng.IntN(n)]
		f.LastSeen, f.Count = at, f.Count+1
	}
	drop := map[int]bool{}
	for len(drop) < gone {
		drop[rng.IntN(n)] = true
	}
	out := make([]state.Finding, 0, n-gone+added)
	for i := range s.Findings {
		if !drop[i] {
			out = append(out, s.Findings[i])
		}
	}
	for j := 0; j < added; j++ {
		// Unique names: a state never holds a finding twice.
		i := rng.IntN(1 << 30)
		f := finding(fmt.Sprintf("h%07d.n%03d.t%03d.acme.example", j, v, i%instances), i)
		f.FirstSeen, f.LastSeen = at, at
		out = append(out, f)
	}
	s.Findings = out
	state.SortFindings(s.Findings)
}

// clone copies s deeply enough that night can change the copy.
func clone(s *state.State) *state.State {
	c := *s
	c.Findings = append([]state.Finding(nil), s.Findings...)
	c.Instances = append([]schema.InstanceResult(nil), s.Instances...)
	return &c
}

func dirSize(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

func run(n, nights int, pct float64, reps int, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "benchhistory-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fmt.Printf("benchhistory: %d findings, %d nights, %.1f%% drift a night, SnapshotEvery %d, GOMAXPROCS %d\n",
		n, nights, pct, state.SnapshotEvery, runtime.GOMAXPROCS(0))
	st := state.Store{Path: filepath.Join(dir, "bench.rfstate")}
	// The 0.1 history: every replaced state file, whole (it hard-linked
	// the file it replaced; a copy takes the same room).
	old := filepath.Join(dir, "old-history")
	if err := os.MkdirAll(old, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(15, 15))
	cur := first(n)
	var prev *state.State
	var deltaPct, entryPct, oldPct, commitSec, plainSec []float64
	var chainBytes, chainState float64
	var chainEntries int
	for v := 0; v < nights; v++ {
		next := cur
		if prev != nil {
			next = clone(prev)
			night(next, v, pct, rng)
		}
		before := dirSize(st.HistoryDir())
		start := time.Now()
		if _, err := st.WriteWith(prev, next, state.WriteOptions{Now: t0.Add(time.Duration(v) * 24 * time.Hour)}); err != nil {
			return err
		}
		commit := time.Since(start)
		fi, err := os.Stat(st.Path)
		if err != nil {
			return err
		}
		size := float64(fi.Size())
		grew := float64(dirSize(st.HistoryDir()) - before)
		// Baseline in the same run: writing the state file alone.
		start = time.Now()
		if err := atomicfile.Write(filepath.Join(dir, "plain.rfstate"), atomicfile.Options{Perm: 0o644}, func(w io.Writer) error { return state.Encode(w, next) }); err != nil {
			return err
		}
		plain := time.Since(start)
		// What 0.1 kept for this night: the replaced file, whole.
		var oldGrew float64
		if prev != nil {
			oldGrew = float64(prevSize)
		}
		if err := os.Link(st.Path, filepath.Join(old, state.HistoryName(next.Serial, next.Lineage))); err != nil {
			return err
		}
		prevSize = fi.Size()
		hist, cur2, err := st.Log()
		if err != nil {
			return err
		}
		kind := "?"
		if cur2 >= 0 {
			kind = hist[cur2].Kind
		}
		fmt.Printf("night %2d: serial %d, %s entry %s (%.3f%% of the %s state), 0.1 copy %s; commit %s, state file alone %s\n",
			v, next.Serial, kind, mib(grew), 100*grew/size, mib(size), mib(oldGrew), commit.Round(time.Millisecond), plain.Round(time.Millisecond))
		if prev != nil {
			entryPct = append(entryPct, 100*grew/size)
			oldPct = append(oldPct, 100*oldGrew/size)
			if kind == state.HistoryDelta {
				deltaPct = append(deltaPct, 100*grew/size)
			}
			commitSec = append(commitSec, commit.Seconds())
			plainSec = append(plainSec, plain.Seconds())
		}
		if v < state.SnapshotEvery {
			chainBytes += grew
			chainState += size
			chainEntries++
		}
		prev = next
		cur = nil
	}
	hist, _, err := st.Log()
	if err != nil {
		return err
	}
	// The deepest entry of the first chain: SnapshotEvery-1 deltas.
	deep := hist[min(len(hist)-1, state.SnapshotEvery-1)]
	oldFile := filepath.Join(old, state.HistoryName(deep.Serial, deep.Lineage))
	var rebuildSec, readOldSec []float64
	for r := 0; r < reps; r++ {
		runtime.GC()
		start := time.Now()
		if _, err := st.ReadHistory(deep); err != nil {
			return err
		}
		rebuildSec = append(rebuildSec, time.Since(start).Seconds())
		runtime.GC()
		start = time.Now()
		if _, err := state.ReadFile(oldFile); err != nil {
			return err
		}
		readOldSec = append(readOldSec, time.Since(start).Seconds())
	}
	// Exact: the rebuilt text is the file 0.1 kept.
	var text bytes.Buffer
	if err := st.HistoryText(&text, deep); err != nil {
		return err
	}
	want, _ := os.ReadFile(oldFile)
	exact := sha256.Sum256(text.Bytes()) == sha256.Sum256(want)
	fmt.Println()
	fmt.Printf("history growth a night (median of %d nights): delta entry %.3f%% of the state, every entry %.3f%%; 0.1 full copy %.1f%%; ratio %.4f\n",
		len(entryPct), median(deltaPct), median(entryPct), median(oldPct), median(entryPct)/median(oldPct))
	fmt.Printf("history growth a night amortised over the first chain (%d entries, its snapshot included): %.3f%% of the state\n",
		chainEntries, 100*chainBytes/chainState)
	fmt.Printf("commit (median): %.2f s; the state file alone %.2f s; ratio %.2f\n", median(commitSec), median(plainSec), median(commitSec)/median(plainSec))
	fmt.Printf("rebuild serial %d (%s, %d deltas on a snapshot; median of %d): %.2f s; reading the 0.1 full copy %.2f s; ratio %.2f; byte-identical: %v\n",
		deep.Serial, deep.Kind, state.SnapshotEvery-1, reps, median(rebuildSec), median(readOldSec), median(rebuildSec)/median(readOldSec), exact)
	fmt.Printf("history on disk after %d nights: %s; 0.1 would keep %s\n", nights, mib(float64(dirSize(st.HistoryDir()))), mib(float64(dirSize(old))))
	if !exact {
		return fmt.Errorf("serial %d rebuilt differs from the state file it had", deep.Serial)
	}
	return nil
}

var prevSize int64
