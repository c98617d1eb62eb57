package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/internal/scripted"
	"github.com/reconform/reconform/schema"
)

// BenchmarkWalk measures the walk's own overhead: 10,000 seed instances on
// a zero-latency scripted provider, one finding each, cache off.
func BenchmarkWalk(b *testing.B) {
	const n = 10000
	world := scripted.NewWorld()
	subjects := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("h%d.acme.example", i)
		world.Add(scripted.Rec(name, "A", fmt.Sprintf("203.0.%d.%d", i/256%256, i%256), day(-10), day(-1)))
		subjects[i] = `"` + name + `"`
	}
	f := newFixture(b, world)
	f.cfg.Providers["pdns"].CacheTTL = -1
	f.query("seed", []string{"pdns"}, schema.OpResolutions, "["+strings.Join(subjects, ",")+"]")
	plan := f.plan()
	opts := f.options()
	opts.Now = time.Now
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := Apply(context.Background(), f.cfg, plan, opts)
		if err != nil || len(r.Findings) != n {
			b.Fatalf("apply: %v, %d findings", err, len(r.Findings))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/instance")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkGateRate checks rate fidelity: a 50/s gate driven by 10 callers
// for 5 s. It reports the achieved rate as a share of the limit and the
// most requests seen in any one-second window.
func BenchmarkGateRate(b *testing.B) {
	const limit, secs = 50, 5
	for range b.N {
		g := newGate(schema.Rate{Count: limit, Per: time.Second}, 0)
		ctx, cancel := context.WithTimeout(context.Background(), secs*time.Second)
		times := make(chan time.Time, limit*secs*2)
		start := time.Now()
		done := make(chan struct{})
		for range 10 {
			go func() {
				defer func() { done <- struct{}{} }()
				for g.Wait(ctx) == nil {
					times <- time.Now()
				}
			}()
		}
		for range 10 {
			<-done
		}
		cancel()
		close(times)
		var ts []time.Time
		for t := range times {
			ts = append(ts, t)
		}
		elapsed := time.Since(start).Seconds()
		maxWindow := 0
		for i := range ts {
			j := i
			for j < len(ts) && ts[j].Sub(ts[i]) < time.Second {
				j++
			}
			maxWindow = max(maxWindow, j-i)
		}
		b.ReportMetric(float64(len(ts))/elapsed/limit*100, "%-of-limit")
		b.ReportMetric(float64(maxWindow), "max-per-1s-window")
	}
}

// BenchmarkWalkPivots measures a pivot-driven walk: one seed, a reverse
// lookup returning 10,000 in-scope names, and a pivot resolving each of
// them (10,002 instances, 20,000+ pivot evaluations).
func BenchmarkWalkPivots(b *testing.B) {
	const n = 10000
	world := scripted.NewWorld(scripted.Rec("acme.example", "A", "203.0.113.10", day(-10), day(-1)))
	for i := range n {
		world.Add(scripted.Rec(fmt.Sprintf("h%d.acme.example", i), "A", "203.0.113.10", day(-10), day(-1)))
	}
	f := newFixture(b, world)
	f.cfg.Providers["pdns"].CacheTTL = -1
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.pivot("ips", []string{"query.seed", "pivot.names"}, `finding.type == "A"`, []string{"pdns"}, schema.OpReverseIP, `finding.value`, 0)
	f.pivot("names", []string{"pivot.ips"}, `finding.type == "A"`, []string{"pdns"}, schema.OpResolutions, `finding.name`, 0)
	opts := f.options()
	opts.Now = time.Now
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := Apply(context.Background(), f.cfg, nil, opts)
		if err != nil || len(r.Instances) != n+2 {
			b.Fatalf("apply: %v, %d instances", err, len(r.Instances))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(n+2)), "ns/instance")
}

// BenchmarkMergeLargeAnswer measures the merge of one large answer (a
// reverse lookup of a /16 with 60,000 names), where every finding passes
// the record checks and the caps.
func BenchmarkMergeLargeAnswer(b *testing.B) {
	const n = 60000
	world := scripted.NewWorld()
	for i := range n {
		world.Add(scripted.Rec(fmt.Sprintf("h%d.acme.example", i), "A", fmt.Sprintf("203.0.%d.%d", i/256%256, i%256), day(-10), day(-1)))
	}
	f := newFixture(b, world)
	f.cfg.Providers["pdns"].CacheTTL = -1
	f.query("seed", []string{"pdns"}, schema.OpReverseIP, `["203.0.0.0/16"]`)
	plan := f.plan()
	opts := f.options()
	opts.Now = time.Now
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := Apply(context.Background(), f.cfg, plan, opts)
		if err != nil || len(r.Findings) != n {
			b.Fatalf("apply: %v, %d findings", err, len(r.Findings))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/finding")
	b.ReportMetric(0, "ns/op")
}
