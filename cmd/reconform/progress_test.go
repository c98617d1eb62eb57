package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/schema"
)

func progressEvents() []engine.Event {
	in := func(key, prov string, status schema.InstanceStatus, reqs int) *engine.InstanceEvent {
		return &engine.InstanceEvent{Key: key, Provider: prov, Status: status, Requests: reqs}
	}
	return []engine.Event{
		{Type: engine.EventInstanceQueued, Instance: in("a", "pdns", "", 0)},
		{Type: engine.EventInstanceQueued, Instance: in("b", "pdns", "", 0)},
		{Type: engine.EventInstanceQueued, Instance: in("c", "file.x", "", 0)},
		{Type: engine.EventInstanceStarted, Instance: in("a", "pdns", "", 0)},
		{Type: engine.EventInstanceFinished, Instance: in("a", "pdns", schema.StatusOK, 2)},
		{Type: engine.EventFinding, Finding: &schema.Finding{Name: "a.example", Type: "A", Value: "192.0.2.1"}},
		{Type: engine.EventInstanceFinished, Instance: in("s", "pdns", schema.StatusSkipped, 0)},
		{Type: engine.EventInstanceStarted, Instance: in("c", "file.x", "", 0)},
		{Type: engine.EventWarning, Message: "file.x: line 3 skipped"},
		{Type: engine.EventInstanceFinished, Instance: in("c", "file.x", schema.StatusFailed, 1)},
	}
}

func TestLiveProgressTallies(t *testing.T) {
	var buf bytes.Buffer
	p := newLiveProgress(&buf, false, 0)
	for _, e := range progressEvents() {
		p.Event(e)
	}
	p.Close()
	got := map[string]providerTally{}
	for name, tl := range p.tally {
		got[name] = *tl
	}
	want := map[string]providerTally{
		"pdns":   {queued: 1, done: 1, skipped: 1, requests: 2},
		"file.x": {failed: 1, requests: 1},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(providerTally{})); diff != "" {
		t.Errorf("tallies (-want +got):\n%s", diff)
	}
	if p.findings != 1 {
		t.Errorf("findings = %d", p.findings)
	}
	if !strings.Contains(buf.String(), "Warning: file.x: line 3 skipped\n") {
		t.Errorf("plain output %q lacks the warning", buf.String())
	}
	// The plain line, as the ticker would print it.
	buf.Reset()
	p.draw(false)
	if want := "Progress: 3/4 queries done, 1 failed, 1 findings (pdns 1 waiting)\n"; buf.String() != want {
		t.Errorf("plain line %q, want %q", buf.String(), want)
	}
}

func TestLiveProgressRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	p := newLiveProgress(&buf, true, 1<<40) // the ticker never fires
	for _, e := range progressEvents() {
		p.Event(e)
	}
	p.mu.Lock()
	p.draw(false)
	p.draw(false)
	p.mu.Unlock()
	p.Close()
	out := buf.String()
	if !strings.Contains(out, "\x1b[4A") || !strings.Contains(out, "PROVIDER") || !strings.Contains(out, "file.x") {
		t.Errorf("terminal output lacks a redrawn table: %q", out)
	}
}

func TestJSONProgress(t *testing.T) {
	var buf bytes.Buffer
	p := &jsonProgress{w: &buf}
	for _, e := range progressEvents() {
		p.Event(e)
	}
	p.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(progressEvents()) {
		t.Fatalf("%d lines for %d events", len(lines), len(progressEvents()))
	}
	for _, l := range lines {
		var e engine.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Type == "" {
			t.Errorf("line %q: %v", l, err)
		}
	}
}
