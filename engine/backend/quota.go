package backend

import (
	"context"
	"time"
)

// QuotaBook is the quota ledger as a run and the quota command use it:
// the reservations of QuotaLedger (ledgers.go), and what reconciliation
// with the vendors, their quota errors and the listing need. A window is
// identified by its start and length (a day, a 31-day month); the limit
// a caller gives is its own configuration's, so engagements that share a
// key count against one figure of used requests.
//
// Implementations: LocalQuotaLedger (files in the user's state folder)
// and the pg backend's (rows in its schema, engine/backend/pg/quota.go),
// which a backend offers through QuotaBooks.
type QuotaBook interface {
	QuotaLedger
	// Salt is the ledger's random salt for key identifiers
	// (engine/quota.KeyID). With create it is made on first use and kept
	// for good; without, nil means the ledger was never used.
	Salt(ctx context.Context, create bool) ([]byte, error)
	// Windows reads the key's count in each window now; a window never
	// used counts zero.
	Windows(ctx context.Context, key QuotaKey, windows []QuotaWindow) ([]QuotaCount, error)
	// MarkSpent records that the vendor said the window's quota is spent
	// (a quota error): its count is raised to its limit, so no run tries
	// again before the window ends.
	MarkSpent(ctx context.Context, key QuotaKey, w QuotaWindow, at time.Time) error
	// Reconcile records the vendor's own figures for the window (its
	// usage endpoint): the count is raised to vendorUsed when that is
	// higher (requests made elsewhere with the key), never lowered.
	Reconcile(ctx context.Context, key QuotaKey, w QuotaWindow, vendorUsed, vendorLimit int, at time.Time) error
	// Touch records that an engagement uses the key, with the quotas it
	// configured for it (for the listing, which has no configuration).
	Touch(ctx context.Context, key QuotaKey, use QuotaUse) error
	// Report lists every key of the ledger with its recent windows.
	Report(ctx context.Context) ([]QuotaKeyReport, error)
}

// QuotaBooks is a backend that keeps its own quota ledger (pg: shared by
// every runner of its schema). The local backend has none: its runs use
// LocalQuotaLedger in the user's state folder.
type QuotaBooks interface {
	QuotaBook() QuotaBook
}

// QuotaCount is a window as the ledger counts it.
type QuotaCount struct {
	QuotaWindow
	// Used is the requests counted in the window: reserved by runs and
	// not given back, raised to the vendor's figure when that was higher.
	Used int
	// Spent is when a vendor's quota error marked the window spent.
	Spent time.Time
	// VendorUsed and VendorLimit are the vendor's figures when last
	// reconciled (Reconciled; zero: never).
	VendorUsed, VendorLimit int
	Reconciled              time.Time
}

// Left is what the window has left under its limit.
func (c QuotaCount) Left() int { return max(c.Limit-c.Used, 0) }

// End is when the window ends and the next one opens.
func (w QuotaWindow) End() time.Time { return w.Start.Add(w.Length) }

// QuotaUse is one engagement's use of a key.
type QuotaUse struct {
	Engagement string
	At         time.Time
	// Quota is the engagement's quota for the key as written ("500/day"),
	// QuotaReset its quota_reset anchor (zero: calendar windows).
	Quota      []string
	QuotaReset time.Time
}

// QuotaKeyReport is one key of the ledger.
type QuotaKeyReport struct {
	Key QuotaKey
	// Quota and QuotaReset are the quotas last configured for the key.
	Quota      []string
	QuotaReset time.Time
	// LastUsed is the latest Touch; LastReconciled the latest Reconcile.
	LastUsed, LastReconciled time.Time
	Engagements              []QuotaEngagement
	// Windows are the windows the ledger holds, oldest first.
	Windows []QuotaCount
}

// QuotaEngagement is an engagement that used a key, and when it last did.
type QuotaEngagement struct {
	Name     string
	LastUsed time.Time
}
