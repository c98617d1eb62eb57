// Command benchrate measures a rate limit where the vendor counts it: it
// starts itself again as a separate server process, which serves
// HackerTarget's hostsearch and logs the time each request arrives, and
// applies an engagement whose hackertarget provider has rate = "50/s"
// against it through the real engine (gate, shared HTTP client,
// retries), for about 10 s a run. For each run it reports the most
// requests the server saw in any sliding one-second window, stamped at
// its socket (the kernel's receive time, on Linux) and in its handler,
// and the throughput the server saw.
//
//	go run ./internal/benchrate [-runs 7] [-count 50] [-seconds 10] [-parallelism 10] [-stall-every 25 -stall 150ms] [-hogs 4] [-load 0]
//
// The server holds one response in -stall-every for -stall (a vendor
// that is slow now and then): the engine's workers bunch up behind the
// slow answers and come back together. -hogs goroutines spin in the
// client's process on threads of the lowest priority: the client's
// goroutines wait for them (a busy runner: other engagements, decoding),
// which delays a request between its grant and the wire by tens of
// milliseconds, while the server process is not slowed. The server runs
// at a higher priority (nice -10, when allowed) than anything else on
// the machine, as a vendor's own machine would: on a loaded machine a
// server process at the common priority stamps arrivals up to 300 ms
// late, in batches, which no client can prevent. -load starts that many
// spinning processes as well, which load the whole machine.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

func main() {
	serve := flag.Bool("serve", false, "run as the server process (started by the command itself)")
	spin := flag.Bool("spin", false, "run as a load process: spin until stdin closes")
	load := flag.Int("load", 0, "load processes spinning beside the client and the server")
	hogs := flag.Int("hogs", 4, "goroutines spinning in the client's process, at the lowest priority")
	runs := flag.Int("runs", 7, "runs")
	count := flag.Int("count", 50, "the rate limit: requests per second")
	secs := flag.Int("seconds", 10, "length of a run at the limit")
	par := flag.Int("parallelism", engine.DefaultParallelism, "engine parallelism")
	stallEvery := flag.Int("stall-every", 25, "the server holds one response in this many (0: never)")
	stall := flag.Duration("stall", 150*time.Millisecond, "how long a held response is held")
	flag.Parse()
	if *spin {
		spinner()
		return
	}
	if *serve {
		if err := server(*stallEvery, *stall); err != nil {
			fmt.Fprintln(os.Stderr, "benchrate server:", err)
			os.Exit(1)
		}
		return
	}
	for range *hogs {
		go func() {
			lowerThread()
			x := 0
			for {
				x++
			}
		}()
	}
	if err := run(*runs, *count, *secs, *par, *stallEvery, *stall, *hogs, *load); err != nil {
		fmt.Fprintln(os.Stderr, "benchrate:", err)
		os.Exit(1)
	}
}

// server serves until stdin closes (its parent exited): hostsearch
// answers on every path but /arrivals, which returns the arrival times
// logged since the last call (Unix nanoseconds, a line each) and resets
// the log.
func server(stallEvery int, stall time.Duration) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var (
		mu       sync.Mutex
		arrivals []string // "kernel app" Unix nanoseconds
		n        atomic.Int64
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/arrivals", func(w http.ResponseWriter, r *http.Request) {
		kernelArrival(r.Context())
		mu.Lock()
		got := arrivals
		arrivals = nil
		mu.Unlock()
		bw := bufio.NewWriter(w)
		for _, t := range got {
			bw.WriteString(t)
			bw.WriteByte('\n')
		}
		bw.Flush()
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Counted when the request arrives, as a vendor's limiter does:
		// at the socket (the kernel's receive time, where it is known)
		// and when the handler runs.
		app := time.Now().UnixNano()
		kernel, ok := kernelArrival(r.Context())
		if !ok {
			kernel = app
		}
		mu.Lock()
		arrivals = append(arrivals, strconv.FormatInt(kernel, 10)+" "+strconv.FormatInt(app, 10))
		mu.Unlock()
		if stallEvery > 0 && n.Add(1)%int64(stallEvery) == 0 {
			time.Sleep(stall)
		}
		q := r.URL.Query().Get("q")
		fmt.Fprintf(w, "www.%s,203.0.113.10\n", q)
	})
	fmt.Printf("http://%s nice %d\n", ln.Addr(), niceness())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	srv := &http.Server{Handler: mux, ConnContext: withConn}
	return srv.Serve(stampListener(ln))
}

// spinner keeps one core busy until its parent goes (stdin closes).
func spinner() {
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	x := 0
	for {
		x++
	}
}

func run(runs, count, secs, par, stallEvery int, stall time.Duration, hogs, load int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for range load {
		c := exec.Command(self, "-spin")
		in, err := c.StdinPipe()
		if err != nil {
			return err
		}
		if err := c.Start(); err != nil {
			return err
		}
		defer func() {
			in.Close()
			c.Wait()
		}()
	}
	cmd := serverCommand(self, "-serve", "-stall-every", strconv.Itoa(stallEvery), "-stall", stall.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close() // the server exits when its stdin closes
		cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("server did not start: %w", err)
	}
	base, nice, _ := strings.Cut(strings.TrimSpace(line), " ")
	n := count * secs
	fmt.Printf("benchrate: rate %d/s, %d requests a run (%d s at the limit), parallelism %d; server pid %d at %s (%s) holds 1 response in %d for %s; %d spinning goroutines in the client, %d load processes\n",
		count, n, secs, par, cmd.Process.Pid, base, nice, stallEvery, stall, hogs, load)
	var worst, worstApp int
	var rates []float64
	over, overApp := 0, 0
	for r := 1; r <= runs; r++ {
		times, app, err := once(base, count, n, par)
		if err != nil {
			return err
		}
		maxIn, maxApp, rate := maxWindow(times, time.Second), maxWindow(app, time.Second), throughput(times)
		fmt.Printf("run %d: %d requests arrived; most in any sliding 1 s window %d at the socket, %d in the handler (limit %d); throughput %.1f/s\n", r, len(times), maxIn, maxApp, count, rate)
		worst, worstApp = max(worst, maxIn), max(worstApp, maxApp)
		if maxIn > count {
			over++
		}
		if maxApp > count {
			overApp++
		}
		rates = append(rates, rate)
	}
	sort.Float64s(rates)
	fmt.Printf("\n%d runs: most in any 1 s window %d at the socket (runs over the limit of %d: %d), %d in the handler (runs over: %d); median throughput %.1f/s = %.2f of the limit\n",
		runs, worst, count, over, worstApp, overApp, rates[len(rates)/2], rates[len(rates)/2]/float64(count))
	return nil
}

// once applies an engagement of n hostsearch queries at count/s against
// the server and returns the arrival times the server logged, sorted: at
// its socket (the kernel's receive times; the handler's where unknown)
// and in its handler.
func once(base string, count, n, par int) (kernel, app []int64, err error) {
	dir, err := os.MkdirTemp("", "benchrate-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	subjects := make([]string, n)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("%q", fmt.Sprintf("h%05d.acme.example", i))
	}
	hcl := fmt.Sprintf(`engagement "bench" {
  passive_only = true
  max_depth    = 0
}

scope {
  domains = ["acme.example"]
}

provider "hackertarget" {
  endpoint  = %q
  rate      = "%d/s"
  budget    = %d
  quota     = []
  cache_ttl = "0s"
}

query "hosts" {
  provider = provider.hackertarget
  op       = "subdomains"
  subjects = [%s]
}
`, base, count, n*2, strings.Join(subjects, ", "))
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		return nil, nil, err
	}
	cfg, diags := schema.Load(dir, schema.LoadOptions{Providers: all.Schemas()})
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("engagement: %s", diags.Error())
	}
	ctx := context.Background()
	reg := all.Registrations()
	plan, diags := engine.MakePlan(ctx, cfg, engine.PlanOptions{Registry: reg, Now: time.Now(), Parallelism: par})
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("plan: %s", diags.Error())
	}
	res, err := engine.Apply(ctx, cfg, plan, engine.ApplyOptions{Registry: reg, Parallelism: par, CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		return nil, nil, err
	}
	if len(res.Findings) < n {
		return nil, nil, fmt.Errorf("the run found %d of %d names (%v)", len(res.Findings), n, res.Warnings)
	}
	resp, err := http.Get(base + "/arrivals")
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		k, a, _ := strings.Cut(sc.Text(), " ")
		kt, err1 := strconv.ParseInt(k, 10, 64)
		at, err2 := strconv.ParseInt(a, 10, 64)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("bad arrival line %q", sc.Text())
		}
		kernel, app = append(kernel, kt), append(app, at)
	}
	sort.Slice(kernel, func(i, j int) bool { return kernel[i] < kernel[j] })
	sort.Slice(app, func(i, j int) bool { return app[i] < app[j] })
	return kernel, app, sc.Err()
}

// maxWindow is the most times in any window [t, t+w).
func maxWindow(times []int64, w time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for j < len(times) && times[j]-times[i] < int64(w) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// throughput is requests per second between the first and last arrival.
func throughput(times []int64) float64 {
	if len(times) < 2 {
		return 0
	}
	return float64(len(times)-1) / (float64(times[len(times)-1]-times[0]) / 1e9)
}
