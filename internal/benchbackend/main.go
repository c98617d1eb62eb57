// Command benchbackend measures the pg backend against the local one in
// the same run: commit and read back a state of N findings (default one
// million) through each, and the write volume of a nightly re-run whose
// drift is 1% against that of a full rewrite.
//
//	go run ./internal/benchbackend [-n 1000000] [-runs 3]
//
// It starts a throwaway PostgreSQL cluster with PostgreSQL's durable
// defaults (fsync, full page writes) unless RECONFORM_BENCH_PG names a
// server (a superuser's connection string: it runs CHECKPOINT). Before
// each measured commit it forces a checkpoint, so the WAL figures include
// every full-page image a commit's first touch of a page costs: the worst
// case, as a nightly run after a quiet day meets it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/backend/pg"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/internal/pgtest"
	"github.com/reconform/reconform/schema"
)

func main() {
	n := flag.Int("n", 1_000_000, "findings in the state")
	runs := flag.Int("runs", 3, "repetitions (medians are reported)")
	drift := flag.Float64("drift", 1, "percent of findings a re-run changes")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*n, *runs, *drift); err != nil {
		fmt.Fprintln(os.Stderr, "benchbackend:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// makeState is a state of n findings; every findings whose index is a
// multiple of 100/driftPct has moved (another value, a later last_seen)
// in version v.
func makeState(n int, v int, driftPct float64) *state.State {
	t0 := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	s := state.New("bench")
	s.ConfigHash = "bench"
	s.Run = state.RunSummary{StartedAt: t0.Add(time.Duration(v) * 24 * time.Hour), FinishedAt: t0.Add(time.Duration(v)*24*time.Hour + time.Hour),
		Instances: map[schema.InstanceStatus]int{"ok": 500}, Requests: map[string]int{"securitytrails": 500}, Findings: n}
	every := 0
	if driftPct > 0 {
		every = int(100 / driftPct)
	}
	s.Findings = make([]state.Finding, n)
	for i := 0; i < n; i++ {
		moved := v > 0 && (driftPct >= 100 || every > 0 && i%every == 0)
		octet := i % 250
		last := t0
		if moved {
			octet = (octet + v) % 250
			last = t0.Add(time.Duration(v) * 24 * time.Hour)
		}
		f := state.Finding{Finding: schema.NewFinding(fmt.Sprintf("h%07d.t%03d.acme.example", i, i%500), "A", fmt.Sprintf("10.%d.%d.%d", i/62500%250, i/250%250, octet)),
			Currency: state.Current, Block: "query.history", Instances: []string{fmt.Sprintf("securitytrails resolutions t%03d.acme.example", i%500)}}
		f.Sources = []string{"securitytrails"}
		f.FirstSeen, f.LastSeen, f.Count = t0.Add(-365*24*time.Hour), last, int64(i%97+1)
		f.Query = f.Instances[0]
		s.Findings[i] = f
	}
	return s
}

type sample struct {
	localWrite, localRead, pgCommit, pgRead time.Duration
	// fileWrite is the state written as a file alone (encode, fsync,
	// rename), without the local backend's history entry.
	fileWrite time.Duration
	// CPU time of the whole-state commits: the bench process's (client)
	// and the throwaway server's processes' (server), which a loaded
	// machine does not inflate the way it does wall time.
	localCPU, pgClientCPU, pgServerCPU time.Duration
	localFileBytes                     int64
	walFull, walDrift, walRewrite      int64 // WAL bytes: first commit, drift re-run, a re-run where everything changed
	rowsFull, rowsDrift                int64 // bytes added to the tables
	pgDriftCommit, localDriftWrite     time.Duration
}

// serverDir is the throwaway cluster's folder ("" for a server given by
// RECONFORM_BENCH_PG, whose CPU time is not measured).
var serverDir string

func run(n, runs int, driftPct float64) error {
	ctx := context.Background()
	admin := os.Getenv("RECONFORM_BENCH_PG")
	if admin == "" {
		c, err := pgtest.Start(pgtest.Options{Durable: true, Settings: []string{"max_wal_size = '8GB'", "min_wal_size = '2GB'", "shared_buffers = '512MB'", "wal_buffers = '64MB'"}})
		if err != nil {
			return err
		}
		defer c.Stop()
		// Ctrl-C stops the throwaway cluster too.
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-sigs
			c.Stop()
			os.Exit(1)
		}()
		if err := c.Exec(ctx, "CREATE DATABASE bench"); err != nil {
			return err
		}
		admin = c.ConnString("bench")
		serverDir = c.Dir
	}
	fmt.Printf("benchbackend: %d findings, %d runs, %.0f%% drift, GOMAXPROCS %d\n", n, runs, driftPct, runtime.GOMAXPROCS(0))
	var samples []sample
	for r := 0; r < runs; r++ {
		s, err := once(ctx, admin, n, r, driftPct)
		if err != nil {
			return err
		}
		fmt.Printf("run %d: state file alone %s; local write %s read %s; pg commit %s read %s; WAL full %s, %.0f%%-drift %s, rewrite %s\n", r+1, s.fileWrite.Round(time.Millisecond),
			s.localWrite.Round(time.Millisecond), s.localRead.Round(time.Millisecond), s.pgCommit.Round(time.Millisecond), s.pgRead.Round(time.Millisecond),
			mib(s.walFull), driftPct, mib(s.walDrift), mib(s.walRewrite))
		fmt.Printf("run %d: CPU of the commit: local %s; pg client %s + server %s = %s\n", r+1, s.localCPU.Round(time.Millisecond),
			s.pgClientCPU.Round(time.Millisecond), s.pgServerCPU.Round(time.Millisecond), (s.pgClientCPU + s.pgServerCPU).Round(time.Millisecond))
		samples = append(samples, s)
	}
	med := func(get func(sample) float64) float64 {
		v := make([]float64, len(samples))
		for i, s := range samples {
			v[i] = get(s)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	sec := func(d time.Duration) float64 { return d.Seconds() }
	lw, lr := med(func(s sample) float64 { return sec(s.localWrite) }), med(func(s sample) float64 { return sec(s.localRead) })
	pc, pr := med(func(s sample) float64 { return sec(s.pgCommit) }), med(func(s sample) float64 { return sec(s.pgRead) })
	ldw, pdc := med(func(s sample) float64 { return sec(s.localDriftWrite) }), med(func(s sample) float64 { return sec(s.pgDriftCommit) })
	wf, wd, wr := med(func(s sample) float64 { return float64(s.walFull) }), med(func(s sample) float64 { return float64(s.walDrift) }), med(func(s sample) float64 { return float64(s.walRewrite) })
	rf, rd := med(func(s sample) float64 { return float64(s.rowsFull) }), med(func(s sample) float64 { return float64(s.rowsDrift) })
	lb := med(func(s sample) float64 { return float64(s.localFileBytes) })
	fmt.Printf("\nmedians of %d runs, %d findings:\n", runs, n)
	fmt.Printf("  commit: local %.2fs, pg %.2fs: pg/local %.2fx\n", lw, pc, pc/lw)
	fw := med(func(s sample) float64 { return sec(s.fileWrite) })
	fmt.Printf("  commit against the state file alone (no history entry): file %.2fs, pg %.2fs: pg/file %.2fx\n", fw, pc, pc/fw)
	lc, pcc, psc := med(func(s sample) float64 { return sec(s.localCPU) }), med(func(s sample) float64 { return sec(s.pgClientCPU) }), med(func(s sample) float64 { return sec(s.pgServerCPU) })
	pct := med(func(s sample) float64 { return sec(s.pgClientCPU + s.pgServerCPU) })
	fmt.Printf("  commit CPU: local %.2fs; pg client %.2fs + server %.2fs = %.2fs: pg/local %.2fx\n", lc, pcc, psc, pct, pct/lc)
	fmt.Printf("  read:   local %.2fs, pg %.2fs: pg/local %.2fx\n", lr, pr, pr/lr)
	fmt.Printf("  commit+read: local %.2fs, pg %.2fs: pg/local %.2fx\n", lw+lr, pc+pr, (pc+pr)/(lw+lr))
	fmt.Printf("  %.0f%%-drift re-run commit: local %.2fs, pg %.2fs: pg/local %.2fx\n", driftPct, ldw, pdc, pdc/ldw)
	fmt.Printf("  write volume, pg WAL: full state %s; a re-run where every finding changed %s; %.0f%%-drift re-run %s = %.2f%% of the rewrite, %.2f%% of the full state\n",
		mib(int64(wf)), mib(int64(wr)), driftPct, mib(int64(wd)), 100*wd/wr, 100*wd/wf)
	fmt.Printf("  write volume, pg table bytes added: full state %s; %.0f%%-drift re-run %s = %.2f%%\n", mib(int64(rf)), driftPct, mib(int64(rd)), 100*rd/rf)
	fmt.Printf("  write volume, local: every re-run rewrites the whole file, %s (100%%)\n", mib(int64(lb)))
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func once(ctx context.Context, admin string, n, r int, driftPct float64) (sample, error) {
	var s sample
	eng := "bench"
	schemaName := "bench" + strconv.Itoa(r) + "_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	dir, err := os.MkdirTemp("", "benchbackend-")
	if err != nil {
		return s, err
	}
	defer os.RemoveAll(dir)
	local := backend.NewLocal(filepath.Join(dir, "bench.rfstate"), "")
	b, err := pg.New(pg.Config{ConnString: admin, Schema: schemaName, Engagement: eng})
	if err != nil {
		return s, err
	}
	defer b.Close()
	if err := b.Init(ctx); err != nil {
		return s, err
	}
	mon, err := pgx.Connect(ctx, admin)
	if err != nil {
		return s, err
	}
	defer mon.Close(ctx)
	lsn := func() (int64, error) {
		var v int64
		err := mon.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&v)
		return v, err
	}
	tables := func() (int64, error) {
		var v int64
		err := mon.QueryRow(ctx, `SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'i', 't')`, schemaName).Scan(&v)
		return v, err
	}
	var lastClient, lastServer time.Duration // CPU of the last commit
	commit := func(be backend.Backend, st *state.State) (time.Duration, error) {
		runtime.GC()
		sess, err := be.Open(ctx, backend.OpenOptions{Lock: true, Operation: "bench"})
		if err != nil {
			return 0, err
		}
		defer sess.Close()
		c0, s0 := cpuNow()
		start := time.Now()
		_, err = sess.Commit(ctx, backend.Commit{State: st})
		took := time.Since(start)
		c1, s1 := cpuNow()
		lastClient, lastServer = c1-c0, s1-s0
		return took, err
	}
	read := func(be backend.Backend) (time.Duration, error) {
		runtime.GC()
		start := time.Now()
		st, err := be.Read(ctx)
		if err == nil && len(st.Findings) != n {
			err = fmt.Errorf("read %d findings, want %d", len(st.Findings), n)
		}
		return time.Since(start), err
	}
	measured := func(st *state.State) (time.Duration, int64, int64, error) {
		if _, err := mon.Exec(ctx, "CHECKPOINT"); err != nil {
			return 0, 0, 0, err
		}
		w0, err := lsn()
		if err != nil {
			return 0, 0, 0, err
		}
		t0, _ := tables()
		d, err := commit(b, st)
		if err != nil {
			return 0, 0, 0, err
		}
		w1, _ := lsn()
		t1, _ := tables()
		return d, w1 - w0, t1 - t0, nil
	}

	// First state: a full write through each.
	if s.localWrite, err = commit(local, makeState(n, 0, driftPct)); err != nil {
		return s, err
	}
	s.localCPU = lastClient
	if fi, err := os.Stat(local.Location()); err == nil {
		s.localFileBytes = fi.Size()
	}
	if s.localRead, err = read(local); err != nil {
		return s, err
	}
	{
		st := makeState(n, 0, driftPct)
		runtime.GC()
		start := time.Now()
		err := atomicfile.Write(filepath.Join(dir, "plain.rfstate"), atomicfile.Options{}, func(w io.Writer) error { return state.Encode(w, st) })
		s.fileWrite = time.Since(start)
		if err != nil {
			return s, err
		}
	}
	if s.pgCommit, s.walFull, s.rowsFull, err = measured(makeState(n, 0, driftPct)); err != nil {
		return s, err
	}
	s.pgClientCPU, s.pgServerCPU = lastClient, lastServer
	if s.pgRead, err = read(b); err != nil {
		return s, err
	}
	// A nightly re-run with drift.
	if s.localDriftWrite, err = commit(local, makeState(n, 1, driftPct)); err != nil {
		return s, err
	}
	if s.pgDriftCommit, s.walDrift, s.rowsDrift, err = measured(makeState(n, 1, driftPct)); err != nil {
		return s, err
	}
	// A re-run where every finding changed: what rewriting the state costs.
	if _, s.walRewrite, _, err = measured(makeState(n, 2, 100)); err != nil {
		return s, err
	}
	// The next run starts on an empty schema.
	mon.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{schemaName}.Sanitize()+` CASCADE`)
	return s, nil
}

// cpuNow is the CPU time used so far by this process and by the
// throwaway server (its postmaster, the children it reaped, and its live
// children: backends, WAL writer, checkpointer).
func cpuNow() (client, server time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if serverDir == "" {
		return client, 0
	}
	pidText, err := os.ReadFile(filepath.Join(serverDir, "data", "postmaster.pid"))
	if err != nil {
		return client, 0
	}
	first, _, _ := strings.Cut(string(pidText), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return client, 0
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Fields after the command, which is in parentheses.
		i := strings.LastIndexByte(string(data), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 15 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		ppid, _ := strconv.Atoi(f[1])
		ticks := func(k int) time.Duration { v, _ := strconv.ParseInt(f[k], 10, 64); return time.Duration(v) * tick }
		switch {
		case pid == pm: // utime, stime, cutime, cstime
			server += ticks(11) + ticks(12) + ticks(13) + ticks(14)
		case ppid == pm:
			server += ticks(11) + ticks(12)
		}
	}
	return client, server
}
