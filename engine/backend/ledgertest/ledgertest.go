// Package ledgertest is the contract every backend's delivery ledger is
// tested against: events recorded in the commit and only with it,
// claims that exclude each other (also between concurrent runners) and
// lapse when their holder dies, outcomes that make a delivery final or
// keep it pending, nothing lost across a restart.
package ledgertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/notify/ledger"
	"github.com/reconform/reconform/engine/state"
)

// Open returns a backend of the engagement under test; each call is a
// new instance over the same storage (another process, a later run).
type Open func(t *testing.T) backend.Backend

func stateAt(finished time.Time) *state.State {
	s := state.New("acme")
	s.Run.StartedAt, s.Run.FinishedAt = finished.Add(-time.Minute), finished
	return s
}

var t0 = time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)

// commit writes a new state with the events in the same commit.
func commit(t *testing.T, b backend.Backend, at time.Time, events ...ledger.Event) backend.Committed {
	t.Helper()
	ctx := context.Background()
	sess, err := b.Open(ctx, backend.OpenOptions{Lock: true, Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	dl := b.(backend.DeliveryLedger)
	c, err := sess.Commit(ctx, backend.Commit{State: stateAt(at), Parts: []backend.Part{dl.DeliveryPart(events)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func event(id string, at time.Time, notifiers ...string) ledger.Event {
	return ledger.Event{ID: id, Created: at, Notifiers: notifiers, Body: []byte(fmt.Sprintf(`{"id":%q,"text":"é <b> & \"q\""}`, id))}
}

func ids(ds []ledger.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.EventID+"/"+d.Notifier)
	}
	return out
}

func same(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// Run runs the contract.
func Run(t *testing.T, open Open) {
	ctx := context.Background()
	far := t0.Add(24 * time.Hour * 365 * 10)

	t.Run("recorded with the commit, claimed once, delivered once", func(t *testing.T) {
		b := open(t)
		c := commit(t, b, t0, event("e1", t0, "slack.a", "webhook.b"))
		l := b.(backend.DeliveryLedger).Deliveries()
		got, err := l.Claim(ctx, "run-1", []string{"slack.a", "webhook.b"}, far)
		if err != nil {
			t.Fatal(err)
		}
		if !same(ids(got), []string{"e1/slack.a", "e1/webhook.b"}) || got[0].Serial != c.Serial || string(got[0].Body) != `{"id":"e1","text":"é <b> & \"q\""}` {
			t.Fatalf("claimed %v (serial %d, body %s)", ids(got), got[0].Serial, got[0].Body)
		}
		// Claimed: another runner gets nothing.
		if other, err := l.Claim(ctx, "run-2", []string{"slack.a", "webhook.b"}, far); err != nil || len(other) != 0 {
			t.Fatalf("a claimed delivery was claimed again: %v %v", ids(other), err)
		}
		err = l.Finish(ctx, "run-1", []ledger.Outcome{
			{EventID: "e1", Notifier: "slack.a", Delivered: true, At: t0, Attempts: 1},
			{EventID: "e1", Notifier: "webhook.b", Err: "the webhook answered 503", At: t0, Attempts: 3},
		})
		if err != nil {
			t.Fatal(err)
		}
		again, err := open(t).(backend.DeliveryLedger).Deliveries().Claim(ctx, "run-3", []string{"slack.a", "webhook.b"}, far)
		if err != nil {
			t.Fatal(err)
		}
		if !same(ids(again), []string{"e1/webhook.b"}) || again[0].Attempts != 3 || again[0].LastError != "the webhook answered 503" {
			t.Fatalf("after one delivered, one failed: %v %+v", ids(again), again)
		}
		list, err := l.List(ctx)
		if err != nil || len(list) != 2 || list[0].Delivered.IsZero() == list[1].Delivered.IsZero() {
			t.Fatalf("list %+v %v", list, err)
		}
	})

	t.Run("only the notifiers asked for", func(t *testing.T) {
		b := open(t)
		commit(t, b, t0, event("e1", t0, "slack.a", "email.c"))
		got, err := b.(backend.DeliveryLedger).Deliveries().Claim(ctx, "r", []string{"email.c"}, far)
		if err != nil || !same(ids(got), []string{"e1/email.c"}) {
			t.Fatalf("claimed %v %v", ids(got), err)
		}
	})

	t.Run("oldest first, across runs", func(t *testing.T) {
		b := open(t)
		commit(t, b, t0, event("e1", t0, "slack.a"))
		commit(t, b, t0.Add(time.Hour), event("e2", t0.Add(time.Hour), "slack.a"))
		commit(t, b, t0.Add(2*time.Hour)) // a run with nothing to notify
		c := commit(t, b, t0.Add(3*time.Hour), event("e3", t0.Add(3*time.Hour), "slack.a"))
		got, err := b.(backend.DeliveryLedger).Deliveries().Claim(ctx, "r", []string{"slack.a"}, far)
		if err != nil || !same(ids(got), []string{"e1/slack.a", "e2/slack.a", "e3/slack.a"}) || got[2].Serial != c.Serial {
			t.Fatalf("claimed %v %v", ids(got), err)
		}
	})

	t.Run("a claim of a dead run lapses", func(t *testing.T) {
		b := open(t)
		commit(t, b, t0, event("e1", t0, "slack.a"))
		l := b.(backend.DeliveryLedger).Deliveries()
		if got, err := l.Claim(ctx, "dead-run", []string{"slack.a"}, time.Now().Add(-time.Second)); err != nil || len(got) != 1 {
			t.Fatalf("claim %v %v", ids(got), err)
		}
		// The dead run never finishes; its claim has lapsed.
		got, err := open(t).(backend.DeliveryLedger).Deliveries().Claim(ctx, "next-run", []string{"slack.a"}, far)
		if err != nil || len(got) != 1 {
			t.Fatalf("the lapsed claim kept the delivery: %v %v", ids(got), err)
		}
		// The dead run's late failure does not undo the new claim...
		l.Finish(ctx, "dead-run", []ledger.Outcome{{EventID: "e1", Notifier: "slack.a", Err: "late", At: t0, Attempts: 1}})
		if other, _ := l.Claim(ctx, "third", []string{"slack.a"}, far); len(other) != 0 {
			t.Fatalf("a stale holder released another's claim: %v", ids(other))
		}
		// ...but a delivery it made counts: it was sent.
		l.Finish(ctx, "dead-run", []ledger.Outcome{{EventID: "e1", Notifier: "slack.a", Delivered: true, At: t0, Attempts: 1}})
		l.Finish(ctx, "next-run", []ledger.Outcome{{EventID: "e1", Notifier: "slack.a", Err: "x", At: t0}})
		if again, _ := l.Claim(ctx, "fourth", []string{"slack.a"}, far); len(again) != 0 {
			t.Fatalf("a delivered one is pending again: %v", ids(again))
		}
	})

	t.Run("concurrent runners claim each delivery once", func(t *testing.T) {
		b := open(t)
		var evs []ledger.Event
		for i := 0; i < 20; i++ {
			evs = append(evs, event(fmt.Sprintf("e%02d", i), t0.Add(time.Duration(i)*time.Second), "slack.a", "webhook.b"))
		}
		commit(t, b, t0, evs...)
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for r := 0; r < 6; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := open(t).(backend.DeliveryLedger).Deliveries()
				got, err := l.Claim(ctx, fmt.Sprintf("runner-%d", r), []string{"slack.a", "webhook.b"}, far)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, id := range ids(got) {
					seen[id]++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(seen) != 40 {
			t.Errorf("%d deliveries claimed, want 40", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s claimed %d times", id, n)
			}
		}
	})

	t.Run("a commit that fails records nothing", func(t *testing.T) {
		b := open(t)
		commit(t, b, t0)
		// A session whose state moved on under it (-lock=false) cannot
		// commit; its events must not appear.
		sess, err := b.Open(ctx, backend.OpenOptions{Lock: false})
		if err != nil {
			t.Fatal(err)
		}
		commit(t, open(t), t0.Add(time.Hour))
		dl := b.(backend.DeliveryLedger)
		_, err = sess.Commit(ctx, backend.Commit{State: stateAt(t0.Add(2 * time.Hour)), Parts: []backend.Part{dl.DeliveryPart([]ledger.Event{event("lost", t0, "slack.a")})}})
		sess.Close()
		if err == nil {
			t.Fatal("a stale commit succeeded")
		}
		got, err := dl.Deliveries().Claim(ctx, "r", []string{"slack.a"}, far)
		if err != nil || len(got) != 0 {
			t.Fatalf("a failed commit's event is pending: %v %v", ids(got), err)
		}
		// The next commit of that serial records its own, once.
		commit(t, b, t0.Add(3*time.Hour), event("real", t0, "slack.a"))
		got, err = dl.Deliveries().Claim(ctx, "r", []string{"slack.a"}, far)
		if err != nil || !same(ids(got), []string{"real/slack.a"}) {
			t.Fatalf("claimed %v %v", ids(got), err)
		}
	})
}
