// Package scripted is a real providers.Provider over a fixed in-memory
// world of DNS records, for tests of the engine and the CLI. It answers
// every op from the records, passes the Gate before every request like a
// real provider, and can be scripted to fail, stall or count concurrency.
package scripted

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// World is the records every provider built over it sees, plus the
// behaviour scripted per query. It is safe for concurrent use.
type World struct {
	mu      sync.Mutex
	records []schema.Finding
	// byName and byValue index records, so big worlds answer fast.
	byName, byValue map[string][]int
	// errs are queued errors per "op subject", returned before answering.
	errs  map[string][]error
	calls map[string]int
	// hold, when set, makes every query wait until it is closed or the
	// query's context ends.
	hold chan struct{}
	// Pages is how many requests (Gate waits) one answer costs; default 1.
	Pages int

	inFlight, maxInFlight atomic.Int64
	started               chan string
}

// NewWorld builds a world holding records.
func NewWorld(records ...schema.Finding) *World {
	w := &World{errs: map[string][]error{}, calls: map[string]int{}, byName: map[string][]int{}, byValue: map[string][]int{}}
	w.Add(records...)
	return w
}

// Add adds records.
func (w *World) Add(records ...schema.Finding) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range records {
		i := len(w.records)
		w.records = append(w.records, r)
		w.byName[r.Name] = append(w.byName[r.Name], i)
		v := r.Value
		if r.Type == "MX" {
			if _, host, ok := strings.Cut(v, " "); ok {
				v = host
			}
		}
		w.byValue[v] = append(w.byValue[v], i)
	}
}

// FailNext makes the next len(errs) queries for (op, subject) return errs
// in order, before the world answers normally.
func (w *World) FailNext(op schema.Op, subject string, errs ...error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := string(op) + " " + subject
	w.errs[k] = append(w.errs[k], errs...)
}

// Hold makes every query block until Release is called or its context
// ends. Started reports each query as it begins waiting.
func (w *World) Hold() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hold = make(chan struct{})
	w.started = make(chan string, 1024)
}

// Release lets held queries answer.
func (w *World) Release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hold != nil {
		close(w.hold)
		w.hold = nil
	}
}

// Started delivers the "op subject" of each held query as it starts.
func (w *World) Started() <-chan string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.started
}

// Calls is how many times (op, subject) was queried, attempts included.
func (w *World) Calls(op schema.Op, subject string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[string(op)+" "+subject]
}

// TotalCalls is the number of queries answered or failed.
func (w *World) TotalCalls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.calls {
		n += c
	}
	return n
}

// MaxInFlight is the largest number of queries that ran at once.
func (w *World) MaxInFlight() int { return int(w.maxInFlight.Load()) }

// Ops are the traits a scripted provider type declares by default: every
// passive op, and resolve as an active, current op.
func Ops() map[schema.Op]schema.OpTraits {
	return map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {},
		schema.OpMXReverse:   {},
		schema.OpResolve:     {Active: true, Current: true},
	}
}

// Registration registers a provider type named typ over world, answering
// ops (nil: Ops()).
func Registration(typ string, world *World, ops map[schema.Op]schema.OpTraits) providers.Registration {
	if ops == nil {
		ops = Ops()
	}
	s := schema.ProviderSchema{Type: typ, Description: "Scripted in-memory provider for tests.", Ops: ops}
	return providers.Registration{Schema: s, New: func(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
		return &Provider{cfg: cfg, world: world, schema: s}, nil
	}}
}

// Provider is one configured instance over a World.
type Provider struct {
	cfg    providers.Config
	world  *World
	schema schema.ProviderSchema
}

var _ providers.Provider = (*Provider)(nil)

// Schema is the type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return p.schema }

// Query answers from the world's records.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	w := p.world
	n := w.inFlight.Add(1)
	defer w.inFlight.Add(-1)
	for {
		m := w.maxInFlight.Load()
		if n <= m || w.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	k := string(q.Op) + " " + q.Subject.Value
	w.mu.Lock()
	w.calls[k]++
	var err error
	if queued := w.errs[k]; len(queued) > 0 {
		err, w.errs[k] = queued[0], queued[1:]
	}
	hold, started := w.hold, w.started
	pages := w.Pages
	w.mu.Unlock()
	if pages <= 0 {
		pages = 1
	}

	if hold != nil {
		select {
		case started <- k:
		default:
		}
		select {
		case <-hold:
		case <-ctx.Done():
			return providers.Answer{}, ctx.Err()
		}
	}
	for range pages {
		if p.cfg.Gate != nil {
			if gerr := p.cfg.Gate.Wait(ctx); gerr != nil {
				if gerr == providers.ErrBudgetExhausted {
					return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindBudget, Msg: "request budget for this run is spent"}
				}
				return providers.Answer{}, gerr
			}
		}
	}
	if err != nil {
		return providers.Answer{}, err
	}
	return providers.Answer{Findings: w.answer(q), Requests: pages}, nil
}

// answer selects the records an op returns for a subject.
func (w *World) answer(q schema.Query) []schema.Finding {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []schema.Finding
	subj := q.Subject.Value
	var prefix netip.Prefix
	if q.Subject.Kind == schema.SubjectCIDR {
		prefix, _ = netip.ParsePrefix(subj)
	}
	candidates := w.byName[subj]
	switch {
	case q.Op == schema.OpSubdomains, prefix.IsValid():
		candidates = nil
		for i := range w.records {
			candidates = append(candidates, i)
		}
	case q.Op != schema.OpResolutions && q.Op != schema.OpResolve:
		candidates = w.byValue[subj]
	}
	for _, i := range candidates {
		r := w.records[i]
		var ok bool
		switch q.Op {
		case schema.OpResolutions, schema.OpResolve:
			ok = r.Name == subj && q.WantsType(r.Type)
		case schema.OpReverseIP:
			if r.Type == "A" || r.Type == "AAAA" {
				if prefix.IsValid() {
					a, err := netip.ParseAddr(r.Value)
					ok = err == nil && prefix.Contains(a)
				} else {
					ok = r.Value == subj
				}
			}
		case schema.OpSubdomains:
			if strings.HasSuffix(r.Name, "."+subj) {
				out = append(out, schema.Finding{Name: r.Name, Type: schema.TypeHost})
			}
			continue
		case schema.OpNSReverse:
			ok = r.Type == "NS" && r.Value == subj
		case schema.OpMXReverse:
			ok = r.Type == "MX" && (r.Value == subj || strings.HasSuffix(r.Value, " "+subj))
		}
		if ok {
			f := r
			f.Sources = nil
			out = append(out, f)
		}
	}
	return out
}

// Rec is a shorthand for a normalised record seen over a window.
func Rec(name, rrtype, value string, first, last time.Time) schema.Finding {
	f := schema.NewFinding(name, rrtype, value)
	f.FirstSeen, f.LastSeen, f.Count = first, last, 1
	return f
}
