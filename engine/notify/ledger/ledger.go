// Package ledger is the shape of the delivery ledger: the notifications a
// run's commit records as pending, and what became of each delivery.
//
// An Event is one run's notifications, written in the same commit as the
// state it was derived from (the backend's commit part), so that a crash
// between the commit and the delivery loses nothing, and a crash before
// the commit records nothing. A Delivery is one event for one notifier:
// pending until it is delivered, claimed by the run sending it so that two
// runs never send it both. The backends store it (engine/backend: a file
// beside the state; engine/backend/pg: rows in the commit's transaction);
// engine/notify reads and updates it through Ledger.
//
// The ledger never reads an event's body, and nothing in it is a secret:
// bodies are built from the state, never from the notifiers' settings.
package ledger

import (
	"context"
	"time"
)

// Event is one run's notifications, as recorded in its commit.
type Event struct {
	// ID is unique (a UUID): receivers may use it to drop a repeat.
	ID string
	// Serial is the serial of the state committed with the event; the
	// backend sets it at the commit.
	Serial  uint64
	Created time.Time
	// Notifiers are the addresses ("slack.secops") the event is pending
	// for: one delivery each.
	Notifiers []string
	// Body is engine/notify's content of the event (JSON); opaque here.
	Body []byte
}

// Delivery is one event for one notifier.
type Delivery struct {
	EventID  string
	Notifier string
	Serial   uint64
	Created  time.Time
	Body     []byte
	// Attempts counts the tries so far; LastError is the last one's
	// error (redacted by the sender); LastAttempt when it was.
	Attempts    int
	LastError   string
	LastAttempt time.Time
	// Delivered is when the receiver took it; zero while pending.
	Delivered time.Time
	// ClaimedBy and ClaimedUntil: the run sending it now (List only).
	ClaimedBy    string
	ClaimedUntil time.Time
}

// Pending reports whether the delivery is still to be sent.
func (d *Delivery) Pending() bool { return d.Delivered.IsZero() }

// Outcome is what one attempt at a claimed delivery came to.
type Outcome struct {
	EventID  string
	Notifier string
	// Delivered is set when the receiver took it (or there was nothing
	// for this notifier in it after its filter): it is never sent again.
	Delivered bool
	// Err is why it was not, when it was not (redacted).
	Err string
	At  time.Time
	// Attempts is how many tries this outcome stands for.
	Attempts int
}

// Ledger is a backend's delivery ledger. Every method is safe for
// concurrent runs, in this process or others.
type Ledger interface {
	// Claim returns the pending deliveries of the given notifiers, oldest
	// first, and claims them for holder until until: a Claim by another
	// holder before then does not return them. A claim that was never
	// finished (the run crashed) lapses at until and the delivery is
	// pending again: it is sent late, never lost.
	Claim(ctx context.Context, holder string, notifiers []string, until time.Time) ([]Delivery, error)
	// Finish records the outcomes of deliveries holder claimed and
	// releases the claims; a delivered one is never returned again.
	Finish(ctx context.Context, holder string, outcomes []Outcome) error
	// List returns the pending deliveries and those delivered recently,
	// oldest first, without claiming anything (reconform notify status).
	List(ctx context.Context) ([]Delivery, error)
}

// KeepDelivered is how long delivered records are kept (for status and
// audit) before a ledger may prune them.
const KeepDelivered = 30 * 24 * time.Hour
