package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/notify/ledger"
	"github.com/reconform/reconform/engine/notify/notifytest"
	"github.com/reconform/reconform/engine/notify/webhook"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// flaky is a webhook receiver that can be down: it answers 503 while
// down, and records what it took (by delivery ID) while up.
type flaky struct {
	mu    sync.Mutex
	down  bool
	tries int
	took  map[string][]byte
	srv   *httptest.Server
}

func newFlaky(t *testing.T) *flaky {
	f := &flaky{took: map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.tries++
		if f.down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		id := r.Header.Get(webhook.DeliveryHeader)
		if _, dup := f.took[id]; dup {
			t.Errorf("delivery %s received twice", id)
		}
		f.took[id] = b
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *flaky) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

// run commits next over the backend with its notifications recorded, as
// apply does, and delivers unless skip (a crash after the commit).
func run(t *testing.T, b *backend.Local, n *schema.NotifyBlock, next *state.State, skip bool) []notify.Result {
	t.Helper()
	ctx := context.Background()
	sess, err := b.Open(ctx, backend.OpenOptions{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	prev := sess.Previous()
	if prev != nil {
		next.Lineage, next.Serial = prev.Lineage, prev.Serial+1
	}
	var d *diff.Result
	if prev != nil {
		d = diff.Compare(prev, next, nil)
	}
	c, err := notify.NewContent(notify.Run{Prev: prev, Next: next, Drift: d})
	if err != nil {
		t.Fatal(err)
	}
	var parts []backend.Part
	if c != nil {
		ev, err := c.Event([]*schema.NotifyBlock{n})
		if err != nil {
			t.Fatal(err)
		}
		if ev != nil {
			parts = append(parts, b.DeliveryPart([]ledger.Event{*ev}))
		}
	}
	if _, err := sess.Commit(ctx, backend.Commit{State: next, Parts: parts}); err != nil {
		t.Fatal(err)
	}
	if skip {
		return nil
	}
	ch, err := webhook.New(n, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	del := &notify.Deliverer{Ledger: b.Deliveries(), Notifiers: map[string]*schema.NotifyBlock{n.Address: n},
		Channels: map[string]notify.Channel{n.Address: ch}, Holder: "test-run",
		Sleep: func(context.Context, time.Duration) error { return nil }}
	res, err := del.Deliver(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReceiverDownThenUpGetsEverythingOnce(t *testing.T) {
	rcv := newFlaky(t)
	n := notifytest.Notifier("webhook", map[string]string{"url": rcv.srv.URL})
	b := backend.NewLocal(filepath.Join(t.TempDir(), "reconform.rfstate"), "")
	first, second := notifytest.States(0)
	_, third := notifytest.States(3)

	res := run(t, b, n, first, false) // baseline, delivered
	if len(res) != 1 || res[0].Delivered != 1 || len(rcv.took) != 1 {
		t.Fatalf("baseline: %+v, %d taken", res, len(rcv.took))
	}
	rcv.set(true)
	res = run(t, b, n, second, false) // down: kept
	if res[0].Pending != 1 || res[0].Attempts != n.Retries || res[0].Err == nil {
		t.Fatalf("down: %+v", res)
	}
	res = run(t, b, n, third, false) // still down: both kept, in order
	if res[0].Pending != 2 || res[0].Attempts != n.Retries {
		t.Fatalf("still down: %+v", res)
	}
	rcv.set(false)
	third2 := *third
	third2.Run.FinishedAt = third.Run.FinishedAt.Add(time.Hour)
	res = run(t, b, n, &third2, false) // up, and nothing new: what was missed
	if res[0].Delivered != 2 || res[0].Pending != 0 || res[0].Messages != 2 {
		t.Fatalf("recovered: %+v", res)
	}
	res = run(t, b, n, &third2, false)
	if len(res) != 0 {
		t.Fatalf("sent again: %+v", res)
	}
	// Every change arrived once: the three hosts of the third run, the
	// move of the second, each in one delivery.
	added := map[string]int{}
	for _, body := range rcv.took {
		d, err := notify.ParseDrift(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range d.Findings.Added {
			added[f.Line()]++
		}
		for _, c := range d.Findings.Changed {
			added[c.New.Line()]++
		}
	}
	for _, want := range []string{"new.acme.example A 203.0.113.20", "host000.acme.example A 203.0.113.30", "host002.acme.example A 203.0.113.32", "www.acme.example A 203.0.113.10"} {
		if added[want] != 1 {
			t.Errorf("%s arrived %d times", want, added[want])
		}
	}
	if len(rcv.took) != 3 {
		t.Errorf("%d deliveries taken, want 3 (baseline and two runs)", len(rcv.took))
	}
}

func TestCrashBetweenCommitAndDelivery(t *testing.T) {
	rcv := newFlaky(t)
	n := notifytest.Notifier("webhook", map[string]string{"url": rcv.srv.URL})
	dir := t.TempDir()
	first, second := notifytest.States(0)
	run(t, backend.NewLocal(filepath.Join(dir, "reconform.rfstate"), ""), n, first, false)
	// The run commits and dies before delivering.
	run(t, backend.NewLocal(filepath.Join(dir, "reconform.rfstate"), ""), n, second, true)
	if len(rcv.took) != 1 {
		t.Fatalf("sent before delivery: %d", len(rcv.took))
	}
	// The next run (another process: a new backend over the same files)
	// sends it, once.
	again := *second
	again.Run.FinishedAt = again.Run.FinishedAt.Add(time.Hour)
	res := run(t, backend.NewLocal(filepath.Join(dir, "reconform.rfstate"), ""), n, &again, false)
	if len(res) != 1 || res[0].Delivered != 1 || len(rcv.took) != 2 {
		t.Fatalf("after the crash: %+v, %d taken", res, len(rcv.took))
	}
	for _, body := range rcv.took {
		var note struct{ Notification webhook.Notification }
		json.Unmarshal(body, &note)
		if note.Notification.Serial == 3 {
			t.Error("the run after the crash had nothing to send, yet sent")
		}
	}
}
