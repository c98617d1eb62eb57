package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/reconform/reconform/engine/notify/ledger"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/internal/oslock"
)

// The local delivery ledger is one JSON file beside the state,
// .reconform/<state>.deliveries, replaced atomically under an OS lock on
// .reconform/<state>.deliveries.lock, so that concurrent runs (and
// reconform notify) never lose each other's updates.
//
// Events are added by the commit part, under the state's write lock and
// before the state's rename, marked uncommitted with the new serial. An
// uncommitted event counts once the state file has reached its serial
// (the rename happened); one of a higher serial is the leftover of a
// commit that never happened, and the next commit of that serial drops it.
// The first reader to see an event count marks it committed, so that it
// keeps counting whatever happens to the state later (a state removed and
// started again at serial 1).

// deliveriesFormat is the file's format_version.
const deliveriesFormat = 1

type deliveriesFile struct {
	FormatVersion int             `json:"format_version"`
	Events        []deliveryEvent `json:"events"`
}

type deliveryEvent struct {
	Committed  bool             `json:"committed"`
	Created    time.Time        `json:"created"`
	Deliveries []deliveryRecord `json:"deliveries"`
	ID         string           `json:"id"`
	Serial     uint64           `json:"serial"`
	// Body is dropped once every delivery is made: what was sent need
	// not be kept, only that it was.
	Body json.RawMessage `json:"body,omitempty"`
}

type deliveryRecord struct {
	Attempts     int       `json:"attempts,omitempty"`
	ClaimedBy    string    `json:"claimed_by,omitempty"`
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	DeliveredAt  time.Time `json:"delivered_at,omitzero"`
	LastAttempt  time.Time `json:"last_attempt,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	Notifier     string    `json:"notifier"`
}

// localLedger is the ledger of a local backend.
type localLedger struct {
	statePath string
	path      string
	now       func() time.Time
}

var _ DeliveryLedger = (*Local)(nil)

// DeliveriesPath is the local ledger's file.
func (l *Local) DeliveriesPath() string {
	return filepath.Join(l.Store.MetaDir(), filepath.Base(l.Store.Path)+".deliveries")
}

func (l *Local) ledger() *localLedger {
	return &localLedger{statePath: l.Store.Path, path: l.DeliveriesPath(), now: time.Now}
}

// Deliveries is the ledger file.
func (l *Local) Deliveries() ledger.Ledger { return l.ledger() }

// DeliveryPart records events in the ledger file within the commit.
func (l *Local) DeliveryPart(events []ledger.Event) Part {
	return &localDeliveryPart{l: l.ledger(), events: events}
}

type localDeliveryPart struct {
	l      *localLedger
	events []ledger.Event
}

func (p *localDeliveryPart) PartName() string { return "delivery ledger" }

// WriteLocal adds the events as uncommitted with the new serial, dropping
// the leftovers of commits of this serial or later that never happened
// (the state is at serial-1 under the write lock, so they cannot count).
func (p *localDeliveryPart) WriteLocal(_ string, serial uint64) error {
	return p.l.update(context.Background(), func(f *deliveriesFile) (bool, error) {
		kept := f.Events[:0]
		for _, e := range f.Events {
			if !e.Committed && e.Serial >= serial {
				continue
			}
			kept = append(kept, e)
		}
		f.Events = kept
		for _, e := range p.events {
			de := deliveryEvent{ID: e.ID, Serial: serial, Created: e.Created.UTC(), Body: json.RawMessage(e.Body)}
			for _, n := range e.Notifiers {
				de.Deliveries = append(de.Deliveries, deliveryRecord{Notifier: n})
			}
			f.Events = append(f.Events, de)
		}
		return true, nil
	})
}

// lockTimeout bounds the wait for another run's ledger update (a read,
// a rename).
const lockTimeout = time.Minute

// update runs fn on the file under its lock, writing it back atomically
// when fn reports a change.
func (l *localLedger) update(ctx context.Context, fn func(*deliveriesFile) (bool, error)) error {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return err
	}
	lf, err := os.OpenFile(l.path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening the delivery ledger's lock: %w", err)
	}
	defer lf.Close() // releases the lock
	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	if err := oslock.Wait(lctx, lf); err != nil {
		return fmt.Errorf("waiting for the delivery ledger %s: %w", l.path, err)
	}
	f, err := l.read()
	if err != nil {
		return err
	}
	changed, err := fn(f)
	if err != nil || !changed {
		return err
	}
	l.prune(f)
	return atomicfile.Write(l.path, atomicfile.Options{Perm: 0o644}, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	})
}

func (l *localLedger) read() (*deliveriesFile, error) {
	b, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &deliveriesFile{FormatVersion: deliveriesFormat}, nil
	}
	if err != nil {
		return nil, err
	}
	var f deliveriesFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("reading the delivery ledger %s: %w (pending notifications are in it: repair or move it, never delete it silently)", l.path, err)
	}
	if f.FormatVersion > deliveriesFormat {
		return nil, fmt.Errorf("the delivery ledger %s has format_version %d, newer than this reconform knows (%d)", l.path, f.FormatVersion, deliveriesFormat)
	}
	f.FormatVersion = deliveriesFormat
	return &f, nil
}

// prune drops the bodies of events delivered everywhere, and the records
// of those delivered longer than ledger.KeepDelivered ago.
func (l *localLedger) prune(f *deliveriesFile) {
	now := l.now()
	kept := f.Events[:0]
	for _, e := range f.Events {
		done, newest := len(e.Deliveries) > 0, time.Time{}
		for _, d := range e.Deliveries {
			if d.DeliveredAt.IsZero() {
				done = false
				break
			}
			if d.DeliveredAt.After(newest) {
				newest = d.DeliveredAt
			}
		}
		if done || len(e.Deliveries) == 0 {
			e.Body = nil
			if now.Sub(newest) > ledger.KeepDelivered || len(e.Deliveries) == 0 {
				continue
			}
		}
		kept = append(kept, e)
	}
	f.Events = kept
}

// serialLine finds the serial at the end of a canonical state file.
var serialLine = regexp.MustCompile(`"serial":\s*(\d+)\s*}\s*$`)

// stateSerial is the serial of the state file now, read from its tail
// (the canonical encoding writes serial last); a file in another layout
// is read whole. 0 when there is no state.
func (l *localLedger) stateSerial() (uint64, error) {
	f, err := os.Open(l.statePath)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	tail := make([]byte, min(st.Size(), 256))
	if _, err := f.ReadAt(tail, st.Size()-int64(len(tail))); err != nil && err != io.EOF {
		return 0, err
	}
	if m := serialLine.FindSubmatch(bytes.TrimSpace(tail)); m != nil {
		return strconv.ParseUint(string(m[1]), 10, 64)
	}
	s, err := state.ReadFile(l.statePath)
	if err != nil {
		return 0, err
	}
	return s.Serial, nil
}

// counting marks the uncommitted events the state has reached as
// committed and reports which events count.
func (l *localLedger) counting(f *deliveriesFile) (counts []bool, changed bool, err error) {
	serial, err := l.stateSerial()
	if err != nil {
		return nil, false, fmt.Errorf("reading the state's serial for the delivery ledger: %w", err)
	}
	counts = make([]bool, len(f.Events))
	for i := range f.Events {
		e := &f.Events[i]
		if !e.Committed && e.Serial <= serial && serial > 0 {
			e.Committed, changed = true, true
		}
		counts[i] = e.Committed
	}
	return counts, changed, nil
}

func (l *localLedger) Claim(ctx context.Context, holder string, notifiers []string, until time.Time) ([]ledger.Delivery, error) {
	want := map[string]bool{}
	for _, n := range notifiers {
		want[n] = true
	}
	var out []ledger.Delivery
	err := l.update(ctx, func(f *deliveriesFile) (bool, error) {
		out = nil
		counts, changed, err := l.counting(f)
		if err != nil {
			return false, err
		}
		now := l.now()
		for i := range f.Events {
			e := &f.Events[i]
			if !counts[i] {
				continue
			}
			for j := range e.Deliveries {
				d := &e.Deliveries[j]
				if !want[d.Notifier] || !d.DeliveredAt.IsZero() {
					continue
				}
				if d.ClaimedBy != "" && d.ClaimedBy != holder && d.ClaimedUntil.After(now) {
					continue // another run is sending it
				}
				d.ClaimedBy, d.ClaimedUntil = holder, until.UTC()
				changed = true
				out = append(out, toDelivery(e, d))
			}
		}
		return changed, nil
	})
	if err != nil {
		return nil, err
	}
	sortDeliveries(out)
	return out, nil
}

func (l *localLedger) Finish(ctx context.Context, holder string, outcomes []ledger.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	return l.update(ctx, func(f *deliveriesFile) (bool, error) {
		for _, o := range outcomes {
			for i := range f.Events {
				e := &f.Events[i]
				if e.ID != o.EventID {
					continue
				}
				for j := range e.Deliveries {
					d := &e.Deliveries[j]
					if d.Notifier != o.Notifier || !d.DeliveredAt.IsZero() {
						continue
					}
					finish(d, holder, o)
				}
			}
		}
		return true, nil
	})
}

// finish applies an outcome to a record: a delivery is recorded whoever
// holds the claim now (it was sent); a failure only by the claim's holder.
func finish(d *deliveryRecord, holder string, o ledger.Outcome) {
	mine := d.ClaimedBy == holder
	if !o.Delivered && !mine {
		return
	}
	d.Attempts += o.Attempts
	if o.Attempts > 0 {
		d.LastAttempt = o.At.UTC()
	}
	if o.Delivered {
		d.DeliveredAt, d.LastError = o.At.UTC(), ""
	} else if o.Err != "" {
		d.LastError = o.Err
	}
	if mine {
		d.ClaimedBy, d.ClaimedUntil = "", time.Time{}
	}
}

func (l *localLedger) List(ctx context.Context) ([]ledger.Delivery, error) {
	f, err := l.read()
	if err != nil {
		return nil, err
	}
	counts, _, err := l.counting(f)
	if err != nil {
		return nil, err
	}
	var out []ledger.Delivery
	for i := range f.Events {
		if !counts[i] {
			continue
		}
		for j := range f.Events[i].Deliveries {
			out = append(out, toDelivery(&f.Events[i], &f.Events[i].Deliveries[j]))
		}
	}
	sortDeliveries(out)
	return out, nil
}

func toDelivery(e *deliveryEvent, d *deliveryRecord) ledger.Delivery {
	var body []byte
	if len(e.Body) > 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, e.Body) == nil {
			body = buf.Bytes()
		} else {
			body = []byte(e.Body)
		}
	}
	return ledger.Delivery{EventID: e.ID, Notifier: d.Notifier, Serial: e.Serial, Created: e.Created, Body: body,
		Attempts: d.Attempts, LastError: d.LastError, LastAttempt: d.LastAttempt, Delivered: d.DeliveredAt,
		ClaimedBy: d.ClaimedBy, ClaimedUntil: d.ClaimedUntil}
}

func sortDeliveries(ds []ledger.Delivery) {
	sort.SliceStable(ds, func(i, j int) bool {
		if !ds[i].Created.Equal(ds[j].Created) {
			return ds[i].Created.Before(ds[j].Created)
		}
		if ds[i].Serial != ds[j].Serial {
			return ds[i].Serial < ds[j].Serial
		}
		return ds[i].Notifier < ds[j].Notifier
	})
}
