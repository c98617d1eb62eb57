package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/internal/ansi"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/schema"
)

// progressView shows an apply as it runs. Event is called from the walk's
// goroutine, one event at a time; Close is called once after the walk.
type progressView interface {
	Event(e engine.Event)
	Close()
}

// newProgress picks the view: NDJSON events with -json, a live table on a
// terminal, else a plain line every few seconds.
func newProgress(env *Env, asJSON, noColor bool) progressView {
	switch {
	case asJSON:
		writeVersionEvent(env.Stdout)
		return &jsonProgress{w: env.Stdout}
	case env.Terminal:
		return newLiveProgress(env.Stdout, useColor(env, noColor), 200*time.Millisecond)
	default:
		return newLiveProgress(env.Stdout, false, 0)
	}
}

// writeVersionEvent starts an NDJSON stream (apply -json, run-all -json)
// with the line that says which format the rest is in, as Terraform's
// machine-readable UI starts with its version message (docs/json.md).
func writeVersionEvent(w io.Writer) {
	json.NewEncoder(w).Encode(struct {
		Type             string `json:"type"`
		FormatVersion    int    `json:"format_version"`
		ReconformVersion string `json:"reconform_version"`
	}{"version", jsonFormatVersion, version.Version})
}

// jsonProgress writes each event as one JSON line.
type jsonProgress struct {
	w   io.Writer
	enc *json.Encoder
}

func (p *jsonProgress) Event(e engine.Event) {
	if p.enc == nil {
		p.enc = json.NewEncoder(p.w)
	}
	_ = p.enc.Encode(e)
}

func (p *jsonProgress) Close() {}

// providerTally counts one provider's instances.
type providerTally struct {
	queued, running, done, failed, skipped, cached, requests int
}

// liveProgress tallies events per provider. On a terminal (interval > 0
// and redraw set) it redraws a table in place; otherwise it prints one
// plain line every plainEvery, plus warnings as they come.
type liveProgress struct {
	mu        sync.Mutex
	w         io.Writer
	redraw    bool
	color     bool
	start     time.Time
	tally     map[string]*providerTally
	state     map[string]engine.EventType // last event per unfinished instance
	findings  int
	lines     int // lines of the last drawn table
	stop      chan struct{}
	wg        sync.WaitGroup
	lastPlain string
}

// plainEvery is how often the plain view prints a line.
const plainEvery = 5 * time.Second

func newLiveProgress(w io.Writer, color bool, interval time.Duration) *liveProgress {
	p := &liveProgress{w: w, redraw: interval > 0, color: color, start: time.Now(), tally: map[string]*providerTally{}, state: map[string]engine.EventType{}, stop: make(chan struct{})}
	every := interval
	if !p.redraw {
		every = plainEvery
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.mu.Lock()
				p.draw(false)
				p.mu.Unlock()
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

func (p *liveProgress) Event(e engine.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Type {
	case engine.EventWarning:
		p.clear()
		fmt.Fprintf(p.w, "Warning: %s\n", e.Message)
		p.lines = 0
		return
	case engine.EventFinding:
		p.findings++
		return
	}
	in := e.Instance
	if in == nil {
		return
	}
	t := p.tally[in.Provider]
	if t == nil {
		t = &providerTally{}
		p.tally[in.Provider] = t
	}
	switch e.Type {
	case engine.EventInstanceQueued:
		t.queued++
		p.state[in.Key] = engine.EventInstanceQueued
	case engine.EventInstanceStarted:
		t.queued--
		t.running++
		p.state[in.Key] = engine.EventInstanceStarted
	case engine.EventInstanceFinished:
		// Skipped instances are never queued; cancelled ones may never
		// have started.
		switch p.state[in.Key] {
		case engine.EventInstanceStarted:
			t.running--
		case engine.EventInstanceQueued:
			t.queued--
		}
		delete(p.state, in.Key)
		t.requests += in.Requests
		switch in.Status {
		case schema.StatusOK:
			t.done++
		case schema.StatusCached:
			t.done++
			t.cached++
		case schema.StatusFailed:
			t.failed++
		default:
			t.skipped++
		}
	}
}

// clear erases the table drawn last on a terminal.
func (p *liveProgress) clear() {
	if !p.redraw || p.lines == 0 {
		return
	}
	fmt.Fprint(p.w, ansi.CursorUp(p.lines))
	for range p.lines {
		fmt.Fprint(p.w, ansi.ClearLine+"\n")
	}
	fmt.Fprint(p.w, ansi.CursorUp(p.lines))
	p.lines = 0
}

// draw shows the tallies: a table redrawn in place, or one plain line
// (skipped when nothing changed since the last one, unless final).
func (p *liveProgress) draw(final bool) {
	names := make([]string, 0, len(p.tally))
	for n := range p.tally {
		names = append(names, n)
	}
	sort.Strings(names)
	elapsed := time.Since(p.start).Seconds()
	if !p.redraw {
		var done, total, failed int
		var parts []string
		for _, n := range names {
			t := p.tally[n]
			done += t.done + t.failed + t.skipped
			total += t.done + t.failed + t.skipped + t.queued + t.running
			failed += t.failed
			if t.queued+t.running > 0 {
				parts = append(parts, fmt.Sprintf("%s %d waiting", n, t.queued+t.running))
			}
		}
		line := fmt.Sprintf("Progress: %d/%d queries done, %d failed, %d findings", done, total, failed, p.findings)
		if len(parts) > 0 {
			line += " (" + strings.Join(parts, ", ") + ")"
		}
		if line != p.lastPlain && !final {
			fmt.Fprintln(p.w, line)
			p.lastPlain = line
		}
		return
	}
	p.clear()
	var b strings.Builder
	fmt.Fprintf(&b, "  %-24s %6s %6s %7s %6s %8s\n", "PROVIDER", "DONE", "QUEUED", "RUNNING", "FAILED", "RATE")
	for _, n := range names {
		t := p.tally[n]
		rate := 0.0
		if elapsed > 0 {
			rate = float64(t.requests) / elapsed
		}
		failed := fmt.Sprint(t.failed)
		if t.failed > 0 {
			failed = ansi.Palette{On: p.color}.Paint(failed, ansi.Red)
		}
		fmt.Fprintf(&b, "  %-24s %6d %6d %7d %6s %6.1f/s\n", n, t.done, t.queued, t.running, failed, rate)
	}
	fmt.Fprintf(&b, "  %d findings, %s elapsed\n", p.findings, time.Since(p.start).Round(time.Second))
	out := b.String()
	fmt.Fprint(p.w, out)
	p.lines = strings.Count(out, "\n")
}

func (p *liveProgress) Close() {
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.redraw {
		p.draw(true)
	}
}
