// Command benchfile measures the file provider on a generated Rapid7
// Sonar FDNS gzip dump: zcat as the baseline, Go's gzip decoder alone, a
// cold index build, a build that also persists the index, and the reuse of
// the persisted index in a later process. Each phase runs in its own
// process so its peak memory (VmHWM) is its own.
//
//	go run ./internal/benchfile -lines 10000000 -runs 3
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/reconform/reconform/internal/isal"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/fdnsgen"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/file"
	"github.com/reconform/reconform/schema"
)

type phaseResult struct {
	Seconds float64 `json:"seconds"`
	CPU     float64 `json:"cpu_seconds,omitempty"` // user+system time of the process
	PeakMiB float64 `json:"peak_mib"`
	Lines   int64   `json:"lines,omitempty"`
	Records int     `json:"records,omitempty"`
	Strings int     `json:"strings,omitempty"`
	Runs    int     `json:"runs,omitempty"`        // sorted runs the build made (segments, or merged past 32)
	Bytes   int64   `json:"index_bytes,omitempty"` // size of the index file
}

var keep = flag.Bool("keep", false, "with -dir: reuse the data file generated there by an earlier run")

var memory = flag.String("memory", "", "the file provider's index_memory (default: its default)")

func main() {
	lines := flag.Int("lines", 10_000_000, "lines of FDNS to generate")
	runs := flag.Int("runs", 3, "runs of each phase; the median is reported")
	dir := flag.String("dir", "", "work directory (default: a new temp dir, removed after)")
	phase := flag.String("phase", "", "internal: run one phase in this process")
	data := flag.String("file", "", "internal: the data file")
	work := flag.String("workdir", "", "internal: the .reconform folder")
	flag.Parse()

	if *phase != "" {
		if prof := os.Getenv("BENCHFILE_CPUPROFILE"); prof != "" {
			f, err := os.Create(prof + "." + *phase)
			if err == nil {
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
		}
		res, err := runPhase(*phase, *data, *work)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StopCPUProfile()
		res.PeakMiB = peakMiB()
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	if err := run(*lines, *runs, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "benchfile:", err)
		os.Exit(1)
	}
}

func run(lines, runs int, dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "reconform-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	data := filepath.Join(dir, "fdns_any.json.gz")
	start := time.Now()
	if _, err := os.Stat(data); err == nil && *keep {
		fmt.Println("reusing", data)
	} else if err := fdnsgen.WriteFile(data, fdnsgen.Options{Lines: lines, Seed: 1}, true); err != nil {
		return fmt.Errorf("generating: %w", err)
	}
	st, _ := os.Stat(data)
	fmt.Printf("generated %d lines, %.1f MiB gzip, in %s\n", lines, float64(st.Size())/(1<<20), time.Since(start).Round(time.Millisecond))
	fmt.Println("gzip decoder of the index build:", isal.Decoder())

	self, err := os.Executable()
	if err != nil {
		return err
	}
	work := filepath.Join(dir, ".reconform")
	sub := func(phase string) (phaseResult, error) {
		cmd := exec.Command(self, "-phase", phase, "-file", data, "-workdir", work, "-memory", *memory)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return phaseResult{}, fmt.Errorf("phase %s: %w", phase, err)
		}
		var r phaseResult
		if err := json.Unmarshal(out, &r); err != nil {
			return r, err
		}
		r.CPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		return r, nil
	}
	zcat := func() (phaseResult, error) {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return phaseResult{}, err
		}
		defer devnull.Close()
		cmd := exec.Command("zcat", data)
		cmd.Stdout = devnull
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return phaseResult{}, fmt.Errorf("zcat: %w", err)
		}
		return phaseResult{Seconds: time.Since(start).Seconds(), CPU: (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()}, nil
	}
	phases := []struct {
		name string
		run  func() (phaseResult, error)
	}{
		{"zcat FILE > /dev/null", zcat},
		{"Go compress/gzip decode", func() (phaseResult, error) { return sub("gunzip") }},
		{"klauspost gzip decode", func() (phaseResult, error) { return sub("kgunzip") }},
		{"cold index build", func() (phaseResult, error) { return sub("build") }},
		{"build + persist index", func() (phaseResult, error) {
			os.RemoveAll(work)
			return sub("persist")
		}},
		{"reuse persisted index", func() (phaseResult, error) { return sub("reuse") }},
	}
	if isal.Available() { // last, so that the others keep their indexes
		phases = append(phases, struct {
			name string
			run  func() (phaseResult, error)
		}{"ISA-L gzip decode", func() (phaseResult, error) { return sub("isalgunzip") }})
	}
	// Rounds run every phase in turn, so that a change in the machine's
	// load hits zcat and the index build alike; ratios are per round.
	results := make([][]phaseResult, len(phases))
	var ratios []float64
	for round := 0; round < runs; round++ {
		for i, ph := range phases {
			r, err := ph.run()
			if err != nil {
				return fmt.Errorf("%s: %w", ph.name, err)
			}
			results[i] = append(results[i], r)
		}
		ratios = append(ratios, results[3][round].Seconds/results[0][round].Seconds)
		fmt.Printf("round %d: zcat %.2fs, cold index %.2fs (%.2fx; cpu %.1fs vs %.1fs), reuse %.2fs\n", round+1, results[0][round].Seconds, results[3][round].Seconds, ratios[round], results[3][round].CPU, results[0][round].CPU, results[5][round].Seconds)
	}
	fmt.Println()
	median := make([]phaseResult, len(phases))
	for i, ph := range phases {
		all := slices.Clone(results[i])
		slices.SortFunc(all, func(a, b phaseResult) int { return cmpFloat(a.Seconds, b.Seconds) })
		m := all[len(all)/2]
		median[i] = m
		var times []string
		for _, r := range results[i] {
			times = append(times, strconv.FormatFloat(r.Seconds, 'f', 2, 64))
		}
		extra := ""
		if m.CPU > 0 {
			extra = fmt.Sprintf("  cpu %.2fs", m.CPU)
		}
		if m.PeakMiB > 0 {
			extra += fmt.Sprintf("  peak %.0f MiB", m.PeakMiB)
		}
		if m.Records > 0 {
			extra += fmt.Sprintf("  (%d lines, %d records, %d strings", m.Lines, m.Records, m.Strings)
			if m.Runs > 0 {
				extra += fmt.Sprintf(", %d runs", m.Runs)
			}
			extra += ")"
		}
		fmt.Printf("%-28s median %6.2fs  runs [%s]%s\n", ph.name, m.Seconds, strings.Join(times, " "), extra)
	}
	slices.Sort(ratios)
	reuse := median[5]
	var idxSize int64
	filepath.Walk(work, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			idxSize += info.Size()
		}
		return nil
	})
	z := median[0].Seconds
	isalRatio := ""
	if len(median) > 6 {
		isalRatio = fmt.Sprintf("ISA-L gzip %.2fx, ", median[6].Seconds/z)
	}
	fmt.Printf("\nratios to zcat (medians): Go gzip %.2fx, klauspost gzip %.2fx, %scold index %.2fx, build+persist %.2fx\n",
		median[1].Seconds/z, median[2].Seconds/z, isalRatio, median[3].Seconds/z, median[4].Seconds/z)
	fmt.Printf("cold index / zcat per round: median %.2fx, best %.2fx; reuse %.3fs; index file %.1f MiB, %.1f bytes a line\n", ratios[len(ratios)/2], ratios[0], reuse.Seconds, float64(idxSize)/(1<<20), float64(idxSize)/float64(lines))
	fmt.Printf("peak RSS (medians): cold index %.0f MiB, build+persist %.0f MiB, reuse %.0f MiB\n", median[3].PeakMiB, median[4].PeakMiB, median[5].PeakMiB)
	cpu := median[3].CPU / median[0].CPU
	fmt.Printf("cpu time / zcat's: cold index %.2fx; load average at the end %s\n", cpu, loadAverage())
	fmt.Println("(the index build runs on two cores and zcat on one: when other processes take a core, the ratio rises)")
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// runPhase runs one measured phase in this process.
func runPhase(phase, data, work string) (phaseResult, error) {
	start := time.Now()
	if phase == "gunzip" || phase == "kgunzip" || phase == "isalgunzip" {
		f, err := os.Open(data)
		if err != nil {
			return phaseResult{}, err
		}
		defer f.Close()
		var zr io.Reader
		switch phase {
		case "gunzip":
			zr, err = gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		case "isalgunzip":
			zr, err = isal.NewReader(f)
		default:
			zr, err = kgzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		}
		if err != nil {
			return phaseResult{}, err
		}
		// 1 MiB reads, as the index build's (io.Discard would read 8 KiB
		// at a time, a cgo call each for ISA-L)
		buf := make([]byte, 1<<20)
		for {
			_, err := zr.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				return phaseResult{}, err
			}
		}
		return phaseResult{Seconds: time.Since(start).Seconds()}, nil
	}
	persist := phase == "persist" || phase == "reuse"
	cfg := providers.Config{
		Type: "file", Address: "file", WorkDir: work,
		Attrs: map[string]cty.Value{"path": cty.StringVal(data), "persist_index": cty.BoolVal(persist)},
	}
	if *memory != "" {
		cfg.Attrs["index_memory"] = cty.StringVal(*memory)
	}
	p, err := file.New(context.Background(), cfg)
	if err != nil {
		return phaseResult{}, err
	}
	q := schema.Query{Provider: "file", Op: schema.OpSubdomains, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "acme-0.com"}}
	if _, err := p.Query(context.Background(), q); err != nil {
		return phaseResult{}, err
	}
	res := phaseResult{Seconds: time.Since(start).Seconds()}
	st := p.(*file.Provider).Stats()
	res.Lines, res.Records, res.Strings, res.Runs, res.Bytes = st.Lines, st.Records, st.Strings, st.Runs, st.IndexBytes
	if phase == "reuse" && !st.Reused {
		return res, fmt.Errorf("the persisted index was not reused")
	}
	return res, nil
}

// peakMiB is this process's peak resident set (VmHWM).
func peakMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// loadAverage is the one-minute load average, for the report.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
