// Command benchhttp measures how many connections the shared HTTP client
// (providers.HTTPClient) opens: it sends N requests (default 10,000) from
// as many goroutines as the parallelism to an httptest server that counts
// the connections it accepts (http.Server.ConnState), for each
// parallelism given, through the client as it was (Go's transport with 8
// idle connections per host) and as it is, in the same run. The server
// answers after a latency, and each goroutine spends a random time of up
// to -think between requests (what a worker does between requests:
// decode, merge, wait for the rate limit), so connections go idle
// together as they do in a run.
//
//	go run ./internal/benchhttp [-requests 10000] [-parallelism 10,32] [-runs 3] [-latency 2ms] [-think 2ms]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reconform/reconform/providers"
)

func main() {
	requests := flag.Int("requests", 10000, "requests per measurement")
	par := flag.String("parallelism", "10,32", "comma-separated parallelisms")
	runs := flag.Int("runs", 3, "repetitions (medians are reported)")
	flag.DurationVar(&latency, "latency", 2*time.Millisecond, "the server's time to answer")
	flag.DurationVar(&think, "think", 2*time.Millisecond, "the longest pause of a goroutine between requests")
	flag.Parse()
	var ps []int
	for _, f := range strings.Split(*par, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 {
			fmt.Fprintf(os.Stderr, "benchhttp: bad parallelism %q\n", f)
			os.Exit(2)
		}
		ps = append(ps, p)
	}
	if err := run(*requests, ps, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "benchhttp:", err)
		os.Exit(1)
	}
}

var latency, think time.Duration

// result is one measurement: connections the server accepted and the
// wall time of the requests.
type result struct {
	conns int64
	took  time.Duration
}

func run(requests int, ps []int, runs int) error {
	var conns atomic.Int64
	body := []byte(`{"records":[` + strings.Repeat(`{"type":"A","value":"192.0.2.1"},`, 30) + `{}]}`)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	fmt.Printf("benchhttp: %d requests per measurement, %d runs, server latency %s, think time up to %s\n", requests, runs, latency, think)
	for _, p := range ps {
		var before, after []result
		for r := 0; r < runs; r++ {
			b, err := measure(&conns, requests, p, oldClient(), srv.URL)
			if err != nil {
				return err
			}
			a, err := measure(&conns, requests, p, newClient(p), srv.URL)
			if err != nil {
				return err
			}
			fmt.Printf("parallelism %d run %d: before %d connections in %s; after %d connections in %s\n", p, r+1, b.conns, b.took.Round(time.Millisecond), a.conns, a.took.Round(time.Millisecond))
			before, after = append(before, b), append(after, a)
		}
		bc, ac := median(before, func(r result) float64 { return float64(r.conns) }), median(after, func(r result) float64 { return float64(r.conns) })
		bt, at := median(before, func(r result) float64 { return r.took.Seconds() }), median(after, func(r result) float64 { return r.took.Seconds() })
		per := float64(10000) / float64(requests)
		fmt.Printf("parallelism %d, medians: new connections per 10k requests: before %.0f, after %.0f (limit %d); time %.3fs -> %.3fs (%.2fx)\n",
			p, bc*per, ac*per, p, bt, at, at/bt)
	}
	return nil
}

// getter is one client under test.
type getter func(ctx context.Context, url string) error

// oldClient is the shared client's transport as it was before idle
// connections followed the parallelism: Go's default transport with 8
// idle connections per host, each body read to its end.
func oldClient() getter {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	c := &http.Client{Transport: t}
	return func(ctx context.Context, url string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(io.LimitReader(resp.Body, providers.DefaultMaxBodyBytes+1))
		return err
	}
}

func newClient(p int) getter {
	c := providers.NewHTTPClient(providers.Config{Address: "bench", Parallelism: p}, providers.HTTPOptions{})
	return func(ctx context.Context, url string) error {
		_, err := c.Get(ctx, url, nil)
		return err
	}
}

func measure(conns *atomic.Int64, requests, p int, get getter, base string) (result, error) {
	c0 := conns.Load()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	start := time.Now()
	for range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(requests); i = next.Add(1) {
				if err := get(context.Background(), base+"/v1/q"+strconv.FormatInt(i, 10)); err != nil {
					once.Do(func() { first = err })
					return
				}
				if think > 0 {
					time.Sleep(rand.N(think))
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	// Each client's connections stay open; they are not counted again.
	return result{conns: conns.Load() - c0, took: took}, first
}

func median(rs []result, get func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = get(r)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}
