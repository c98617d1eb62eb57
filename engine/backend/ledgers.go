package backend

import (
	"context"
	"time"

	"github.com/reconform/reconform/engine/notify/ledger"
)

// This file is where the ledgers join the backend: the delivery ledger
// (issue 14, implemented by both backends) and the shape of the quota
// ledger of later work.

// Part is something written in the same commit as the state. The delivery
// ledger (issue 14) is the first: the notifications derived from a run's
// drift and check results are recorded as pending in the commit that
// writes that state, and delivered after it, so a crash between the two
// loses nothing and sends nothing twice.
//
// A backend stores the parts it knows how to: the local backend those
// that implement LocalPart, the pg backend those that implement
// pg.Part (engine/backend/pg), which are given the commit's own
// transaction. A commit with a part its backend cannot store fails before
// anything is written: a part is never dropped silently.
type Part interface {
	// PartName names the part in errors ("delivery ledger").
	PartName() string
}

// LocalPart is a Part the local backend can store. WriteLocal runs after
// the new state file is on disk and checked and before it is renamed into
// place, under the state's write lock; serial is the new state's. The
// rename is the commit, so a part must be written so that it counts only
// once the state reaches serial: e.g. a file named by the serial that
// readers ignore while the state's serial is lower (a crash before the
// rename leaves a file no one reads, and the next commit of that serial
// replaces it). An error stops the commit; the state is not replaced.
type LocalPart interface {
	Part
	WriteLocal(metaDir string, serial uint64) error
}

// QuotaLedger is the shape of issue 13's quota ledger: requests sent per
// provider type and key, per vendor window (a day, a month), shared by
// every engagement and run that uses the key. Unlike the parts above it
// is written during the walk, not at the commit: a request reserves its
// slot before it is sent, and an unused reservation is given back.
//
// Where it lives: the local backend in the user's state folder
// ($XDG_STATE_HOME/reconform, with an OS lock for concurrent runs on one
// machine), not beside one engagement; the pg backend in its schema, in
// a table keyed by (provider type, key hash, window start), shared by all
// engagements of the schema, with row locks for concurrent runners. The
// key is named by a hash that reveals nothing about it.
//
// The whole ledger is QuotaBook (quota.go): LocalQuotaLedger, and the pg
// backend's through QuotaBooks; engine/quota reserves through it.
type QuotaLedger interface {
	// Reserve takes n request slots in every window of key, or none:
	// granted is how many were given (0 when a window is spent).
	Reserve(ctx context.Context, key QuotaKey, windows []QuotaWindow, n int) (granted int, err error)
	// Release gives back slots reserved and not used.
	Release(ctx context.Context, key QuotaKey, windows []QuotaWindow, n int) error
}

// QuotaKey names one vendor key: the provider type and a hash of the key.
type QuotaKey struct {
	ProviderType string
	KeyHash      string
}

// QuotaWindow is one vendor window: its start and length, and the limit.
type QuotaWindow struct {
	Start  time.Time
	Length time.Duration
	Limit  int
}

// DeliveryLedger is issue 14's delivery ledger, in the backends that keep
// it (both do): the notifications of a run are recorded as pending by
// the part DeliveryPart returns, in the commit that writes the state they
// were derived from, and read, claimed and marked delivered afterwards
// through Deliveries. Found with a type assertion:
// dl, ok := b.(backend.DeliveryLedger).
//
// The local backend keeps it in a file beside the state
// (.reconform/<state>.deliveries, see deliveries.go); the pg backend in
// the notify_events and notify_deliveries tables, written in the commit's
// transaction (engine/backend/pg/deliveries.go).
type DeliveryLedger interface {
	// DeliveryPart is the commit part that records events as pending.
	DeliveryPart(events []ledger.Event) Part
	// Deliveries is the ledger as the delivery stage uses it.
	Deliveries() ledger.Ledger
}
