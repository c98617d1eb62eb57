package quota

import (
	"context"
	"fmt"
	"time"

	"github.com/reconform/reconform/providers"
)

// ReconcileAge is how old the ledger's figures of a key may be before an
// apply asks the vendor again (when the vendor has a usage endpoint).
const ReconcileAge = 24 * time.Hour

// LastReconciled is when the meter's current windows were last
// reconciled with the vendor (zero: never).
func (m *Meter) LastReconciled(ctx context.Context) (time.Time, error) {
	counts, err := m.Counts(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var last time.Time
	for _, c := range counts {
		if c.Reconciled.After(last) {
			last = c.Reconciled
		}
	}
	return last, nil
}

// Reconciled is what a reconciliation found for one window.
type Reconciled struct {
	Limit       string // the configured quota, "500/day"
	VendorUsed  int
	VendorLimit int
	// Raised is set when the vendor counted more than the ledger did.
	Raised bool
	// Before is the ledger's count before, After after.
	Before, After int
}

// Reconcile records the vendor's figures for the meter's current windows
// of the same period: the ledger's count is raised to the vendor's when
// that is higher, never lowered. Figures for windows the meter does not
// count are ignored.
func (m *Meter) Reconcile(ctx context.Context, usage []providers.VendorUsage) ([]Reconciled, error) {
	ws := m.Windows()
	before, err := m.Counts(ctx)
	if err != nil {
		return nil, err
	}
	var out []Reconciled
	for _, u := range usage {
		for i, l := range m.Limits {
			if l.Period != u.Period {
				continue
			}
			if err := m.set.Book.Reconcile(ctx, m.Key, ws[i], u.Used, u.Limit, m.set.now()); err != nil {
				return out, fmt.Errorf("%s: recording the vendor's usage: %w", m.Address, err)
			}
			r := Reconciled{Limit: l.String(), VendorUsed: u.Used, VendorLimit: u.Limit, Before: before[i].Used, After: max(before[i].Used, u.Used)}
			r.Raised = r.After > r.Before
			out = append(out, r)
		}
	}
	return out, nil
}
