// Command benchzone measures the file provider on a generated TLD zone in
// CZDS's shape (internal/zonegen, gzip): zcat as the baseline, a cold
// index build, miekg/dns's ZoneParser reading the same zone (what the
// hand-written tokenizer saves), and ns_reverse queries on the built
// index: a name server of median popularity, one of the top ten, and the
// most used (whose answer max_results caps). Each build phase runs in its
// own process so its peak memory (VmHWM) is its own; rounds run every
// phase in turn, so that a change in the machine's load hits zcat and the
// build alike, and ratios are per round.
//
//	go run ./internal/benchzone -records 10000000 -runs 3
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/reconform/reconform/internal/isal"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/zonegen"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/file"
	"github.com/reconform/reconform/schema"
)

const tld = "example"

type phaseResult struct {
	Seconds float64 `json:"seconds"`
	CPU     float64 `json:"cpu_seconds,omitempty"`
	PeakMiB float64 `json:"peak_mib"`
	Lines   int64   `json:"lines,omitempty"`
	Records int     `json:"records,omitempty"`
	Runs    int     `json:"runs,omitempty"`        // sorted runs the build made (segments, or merged past 32)
	Bytes   int64   `json:"index_bytes,omitempty"` // size of the index file
	// ns_reverse answers on the built index: milliseconds (median of
	// queryRepeats) and findings, by name server.
	QueryMs  map[string]float64 `json:"query_ms,omitempty"`
	QueryCPU map[string]float64 `json:"query_cpu_ms,omitempty"` // CPU time per query, mean over the repeats
	Findings map[string]int     `json:"findings,omitempty"`
}

// queried are the name servers the build phase asks ns_reverse about, by
// popularity rank (zonegen's provider i is the i-th most used).
var queried = map[string]int{"median (rank 5000)": 5000, "top ten (rank 9)": 9, "most used (rank 0)": 0}

const queryRepeats = 21

var keep = flag.Bool("keep", false, "with -dir: reuse the data file generated there by an earlier run")

var memory = flag.String("memory", "", "the file provider's index_memory (default: its default)")

func main() {
	records := flag.Int("records", 10_000_000, "records of the zone to generate")
	runs := flag.Int("runs", 3, "rounds of every phase; medians are reported")
	dir := flag.String("dir", "", "work directory (default: a new temp dir, removed after)")
	zoneParser := flag.Bool("zoneparser", true, "also time miekg/dns's ZoneParser on the zone")
	phase := flag.String("phase", "", "internal: run one phase in this process")
	data := flag.String("file", "", "internal: the zone file")
	flag.Parse()

	if *phase != "" {
		if prof := os.Getenv("BENCHZONE_CPUPROFILE"); prof != "" {
			if f, err := os.Create(prof + "." + *phase); err == nil {
				pprof.StartCPUProfile(f)
			}
		}
		res, err := runPhase(*phase, *data)
		pprof.StopCPUProfile()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		res.PeakMiB = peakMiB()
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	if err := run(*records, *runs, *dir, *zoneParser); err != nil {
		fmt.Fprintln(os.Stderr, "benchzone:", err)
		os.Exit(1)
	}
}

func run(records, runs int, dir string, withZoneParser bool) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "reconform-benchzone-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	data := filepath.Join(dir, tld+".zone.gz")
	start := time.Now()
	if _, err := os.Stat(data); err == nil && *keep {
		fmt.Println("reusing", data)
	} else if err := zonegen.WriteFile(data, zonegen.Options{TLD: tld, Records: records, Seed: 1}, true); err != nil {
		return fmt.Errorf("generating: %w", err)
	}
	st, _ := os.Stat(data)
	fmt.Printf("generated a zone of about %d records, %.1f MiB gzip, in %s\n", records, float64(st.Size())/(1<<20), time.Since(start).Round(time.Millisecond))
	fmt.Println("gzip decoder of the index build:", isal.Decoder())

	self, err := os.Executable()
	if err != nil {
		return err
	}
	sub := func(phase string) (phaseResult, error) {
		cmd := exec.Command(self, "-phase", phase, "-file", data, "-memory", *memory)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return phaseResult{}, fmt.Errorf("phase %s: %w", phase, err)
		}
		var r phaseResult
		if err := json.Unmarshal(out, &r); err != nil {
			return r, err
		}
		if r.CPU == 0 {
			r.CPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		}
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
	type phaseDef struct {
		name string
		run  func() (phaseResult, error)
	}
	phases := []phaseDef{
		{"zcat FILE > /dev/null", zcat},
		{"cold index build", func() (phaseResult, error) { return sub("build") }},
	}
	if withZoneParser {
		phases = append(phases, phaseDef{"miekg/dns ZoneParser only", func() (phaseResult, error) { return sub("zoneparser") }})
	}
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
		ratios = append(ratios, results[1][round].Seconds/results[0][round].Seconds)
		line := fmt.Sprintf("round %d: zcat %.2fs, cold index %.2fs (%.2fx; cpu %.2fs vs %.2fs)", round+1,
			results[0][round].Seconds, results[1][round].Seconds, ratios[round], results[1][round].CPU, results[0][round].CPU)
		if withZoneParser {
			line += fmt.Sprintf(", ZoneParser %.2fs", results[2][round].Seconds)
		}
		fmt.Println(line)
	}
	fmt.Println()
	median := make([]phaseResult, len(phases))
	for i, ph := range phases {
		all := slices.Clone(results[i])
		slices.SortFunc(all, func(a, b phaseResult) int { return cmp.Compare(a.Seconds, b.Seconds) })
		median[i] = all[len(all)/2]
		var times []string
		for _, r := range results[i] {
			times = append(times, strconv.FormatFloat(r.Seconds, 'f', 2, 64))
		}
		m := median[i]
		extra := ""
		if m.CPU > 0 {
			extra = fmt.Sprintf("  cpu %.2fs", m.CPU)
		}
		if m.PeakMiB > 0 {
			extra += fmt.Sprintf("  peak %.0f MiB", m.PeakMiB)
		}
		if m.Records > 0 {
			extra += fmt.Sprintf("  (%d lines, %d records)", m.Lines, m.Records)
		}
		fmt.Printf("%-28s median %6.2fs  runs [%s]%s\n", ph.name, m.Seconds, strings.Join(times, " "), extra)
	}
	slices.Sort(ratios)
	z := median[0].Seconds
	fmt.Printf("\ncold index / zcat per round: median %.2fx, best %.2fx; cpu time / zcat's %.2fx; load average at the end %s\n", ratios[len(ratios)/2], ratios[0], median[1].CPU/median[0].CPU, loadAverage())
	b := median[1]
	fmt.Printf("index: %.1f MiB, %.1f bytes a record (%d records, %d runs), peak RSS %.0f MiB\n", float64(b.Bytes)/(1<<20), float64(b.Bytes)/float64(max(b.Records, 1)), b.Records, b.Runs, b.PeakMiB)
	if withZoneParser {
		fmt.Printf("ZoneParser alone / zcat: %.2fx (it parses only; the index build tokenizes, normalises and indexes)\n", median[2].Seconds/z)
	}
	fmt.Println("ns_reverse on the built index (median of", queryRepeats, "queries in each build; median over builds):")
	for _, k := range sortedKeys(queried) {
		var ms, cpu []float64
		for _, r := range results[1] {
			ms, cpu = append(ms, r.QueryMs[k]), append(cpu, r.QueryCPU[k])
		}
		slices.Sort(ms)
		slices.Sort(cpu)
		fmt.Printf("  %-20s %8.3f ms (cpu %.3f ms)  %6d findings\n", k, ms[len(ms)/2], cpu[len(cpu)/2], results[1][0].Findings[k])
	}
	fmt.Println("(the index build runs on two cores and zcat on one: when other processes take a core, the ratio rises)")
	return nil
}

func sortedKeys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b string) int { return m[b] - m[a] })
	return ks
}

// runPhase runs one measured phase in this process.
func runPhase(phase, data string) (phaseResult, error) {
	start := time.Now()
	switch phase {
	case "zoneparser":
		f, err := os.Open(data)
		if err != nil {
			return phaseResult{}, err
		}
		defer f.Close()
		zr, err := kgzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return phaseResult{}, err
		}
		zp := dns.NewZoneParser(bufio.NewReaderSize(zr, 1<<20), "", data)
		n := 0
		for _, ok := zp.Next(); ok; _, ok = zp.Next() {
			n++
		}
		if err := zp.Err(); err != nil {
			return phaseResult{}, err
		}
		return phaseResult{Seconds: time.Since(start).Seconds(), Records: n}, nil
	case "build":
	default:
		return phaseResult{}, fmt.Errorf("unknown phase %q", phase)
	}
	cfg := providers.Config{
		Type: "file", Address: "file",
		Attrs: map[string]cty.Value{"path": cty.StringVal(data), "persist_index": cty.BoolVal(false)},
	}
	if *memory != "" {
		cfg.Attrs["index_memory"] = cty.StringVal(*memory)
	}
	p, err := file.New(context.Background(), cfg)
	if err != nil {
		return phaseResult{}, err
	}
	nsQuery := func(host string) schema.Query {
		return schema.Query{Provider: "file", Op: schema.OpNSReverse, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: host}}
	}
	// The first query builds the index.
	if _, err := p.Query(context.Background(), nsQuery("a.nic."+tld)); err != nil {
		return phaseResult{}, err
	}
	pprof.StopCPUProfile() // a profile is of the build, not the queries
	res := phaseResult{Seconds: time.Since(start).Seconds(), CPU: cpuSeconds(), QueryMs: map[string]float64{}, QueryCPU: map[string]float64{}, Findings: map[string]int{}}
	st := p.(*file.Provider).Stats()
	res.Lines, res.Records, res.Runs, res.Bytes = st.Lines, st.Records, st.Runs, st.IndexBytes
	if prof := os.Getenv("BENCHZONE_QUERYPROFILE"); prof != "" {
		if f, err := os.Create(prof); err == nil {
			pprof.StartCPUProfile(f) // stopped when the phase returns
		}
	}
	for k, rank := range queried {
		host := zonegen.Provider(rank)
		var ms []float64
		cpu0 := cpuSeconds()
		for i := 0; i < queryRepeats; i++ {
			t0 := time.Now()
			ans, err := p.Query(context.Background(), nsQuery(host))
			if err != nil {
				return res, err
			}
			ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
			res.Findings[k] = len(ans.Findings)
		}
		res.QueryCPU[k] = (cpuSeconds() - cpu0) * 1000 / queryRepeats
		slices.Sort(ms)
		res.QueryMs[k] = ms[len(ms)/2]
	}
	return res, nil
}

// cpuSeconds is the user and system time of this process so far: the
// build's, before the queries run.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
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
