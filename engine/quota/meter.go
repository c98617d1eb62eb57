package quota

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Set is the quotas of one engagement's provider blocks over a ledger.
type Set struct {
	Book       backend.QuotaBook
	Engagement string
	// Now is the clock (default time.Now).
	Now    func() time.Time
	meters map[string]*Meter
}

// Open derives the meters of cfg's provider blocks that have quotas. With
// create the ledger's salt is made if it has none (apply); without, a
// ledger never used gives meters that count nothing (plan, which writes
// nothing).
func Open(ctx context.Context, book backend.QuotaBook, cfg *schema.Config, registry map[string]providers.Registration, create bool) (*Set, error) {
	s := &Set{Book: book, Engagement: cfg.Engagement.Name, meters: map[string]*Meter{}}
	var salt []byte
	for _, addr := range sortedKeys(cfg.Providers) {
		pb := cfg.Providers[addr]
		reg, ok := registry[pb.Type]
		if !ok || len(pb.Quota) == 0 {
			continue
		}
		if salt == nil {
			var err error
			if salt, err = book.Salt(ctx, create); err != nil {
				return nil, fmt.Errorf("quota ledger: %w", err)
			}
		}
		m := &Meter{set: s, Address: addr, Type: pb.Type, Limits: pb.Quota, Anchor: pb.QuotaReset}
		if salt != nil {
			m.Key = backend.QuotaKey{ProviderType: pb.Type, KeyHash: KeyID(salt, pb.Type, AccountSecret(pb, reg))}
		} else {
			m.unused = true
		}
		s.meters[addr] = m
	}
	return s, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Meter is the quota of one provider block: nil when it has none.
func (s *Set) Meter(addr string) *Meter {
	if s == nil {
		return nil
	}
	return s.meters[addr]
}

// Meters are every block's meter, by address.
func (s *Set) Meters() []*Meter {
	if s == nil {
		return nil
	}
	out := make([]*Meter, 0, len(s.meters))
	for _, addr := range sortedKeys(s.meters) {
		out = append(out, s.meters[addr])
	}
	return out
}

func (s *Set) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Meter is one provider block's quotas over the ledger: what a run
// reserves through, and what plan and apply read.
type Meter struct {
	set     *Set
	Address string
	Type    string
	Key     backend.QuotaKey
	Limits  []schema.QuotaLimit
	Anchor  time.Time
	// unused: the ledger has never been used (no salt), so nothing of
	// the key is counted yet.
	unused bool

	mu sync.Mutex
	// spentUntil is set once this run learned the quota is spent (a
	// reservation of one slot refused, or the vendor's quota error):
	// nothing more is asked before then.
	spentUntil time.Time
	spentWhy   string
}

// Windows are the meter's windows now.
func (m *Meter) Windows() []backend.QuotaWindow {
	return Windows(m.Limits, m.Anchor, m.set.now())
}

// Counts reads the current windows' counts from the ledger.
func (m *Meter) Counts(ctx context.Context) ([]backend.QuotaCount, error) {
	ws := m.Windows()
	if m.unused {
		out := make([]backend.QuotaCount, len(ws))
		for i, w := range ws {
			out[i] = backend.QuotaCount{QuotaWindow: w}
		}
		return out, nil
	}
	return m.set.Book.Windows(ctx, m.Key, ws)
}

// Left is what the tightest window has left, and when the window that
// runs out first opens again (its end).
func Left(counts []backend.QuotaCount) (left int, opens time.Time) {
	left = -1
	for _, c := range counts {
		if l := c.Left(); left < 0 || l < left || l == left && c.End().After(opens) {
			left, opens = l, c.End()
		}
	}
	return max(left, 0), opens
}

// Touch records the engagement's use of the key.
func (m *Meter) Touch(ctx context.Context) error {
	q := make([]string, len(m.Limits))
	for i, l := range m.Limits {
		q[i] = l.String()
	}
	return m.set.Book.Touch(ctx, m.Key, backend.QuotaUse{Engagement: m.set.Engagement, At: m.set.now(), Quota: q, QuotaReset: m.Anchor})
}

// SpentUntil is when this run may ask again (zero: not spent), and why.
func (m *Meter) SpentUntil() (time.Time, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.spentUntil.IsZero() && !m.set.now().Before(m.spentUntil) {
		m.spentUntil, m.spentWhy = time.Time{}, ""
	}
	return m.spentUntil, m.spentWhy
}

func (m *Meter) noteSpent(until time.Time, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if until.After(m.spentUntil) {
		m.spentUntil, m.spentWhy = until, why
	}
}

// Exhausted says a request (or a query's fewest requests) does not fit
// in what the quota has left: the query is deferred until Opens.
type Exhausted struct {
	Provider string // address
	Opens    time.Time
	Detail   string // which quota and what is left, e.g. "500/day: 2 left, 6 needed"
}

func (e *Exhausted) Error() string { return e.Reason() }

// Is makes an Exhausted a providers.ErrQuotaExhausted.
func (e *Exhausted) Is(target error) bool { return target == providers.ErrQuotaExhausted }

// Reason is the reason a deferred query and its findings carry.
func (e *Exhausted) Reason() string {
	return DeferredReason(e.Opens, e.Provider+" "+e.Detail)
}

// DeferredPrefix starts the reason of every query deferred for a quota.
const DeferredPrefix = "deferred: quota"

// DeferredReason is the reason of a query deferred until opens.
func DeferredReason(opens time.Time, detail string) string {
	s := DeferredPrefix
	if !opens.IsZero() {
		s += "; the next window opens " + opens.UTC().Format(time.RFC3339)
	}
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s
}

// IsDeferred reports whether an instance reason is a quota deferral.
func IsDeferred(reason string) bool { return strings.HasPrefix(reason, DeferredPrefix) }

// ErrNoLedger is returned when the ledger cannot be reached: nothing is
// sent that the quota might not cover.
var ErrNoLedger = errors.New("the quota ledger cannot be reached")

// reservation is n slots reserved in windows.
type reservation struct {
	windows []backend.QuotaWindow
	n       int
}

// reserve takes n slots now, or says why not.
func (m *Meter) reserve(ctx context.Context, n int) (*reservation, error) {
	if until, why := m.SpentUntil(); !until.IsZero() {
		return nil, &Exhausted{Provider: m.Address, Opens: until, Detail: why}
	}
	ws := m.Windows()
	got, err := m.set.Book.Reserve(ctx, m.Key, ws, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", m.Address, ErrNoLedger, err)
	}
	if got == n {
		return &reservation{windows: ws, n: n}, nil
	}
	counts, err := m.set.Book.Windows(ctx, m.Key, ws)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", m.Address, ErrNoLedger, err)
	}
	ex := &Exhausted{Provider: m.Address}
	var parts []string
	for i, c := range counts {
		if c.Left() >= n {
			continue
		}
		if c.End().After(ex.Opens) {
			ex.Opens = c.End()
		}
		parts = append(parts, fmt.Sprintf("%s: %d left", m.Limits[i], c.Left()))
	}
	ex.Detail = strings.Join(parts, ", ")
	if n > 1 {
		ex.Detail += fmt.Sprintf(", %d needed", n)
	} else {
		// Not even one request fits: the rest of the run asks no more.
		m.noteSpent(ex.Opens, ex.Detail)
	}
	return nil, ex
}

// release gives back n slots of r.
func (m *Meter) release(ctx context.Context, r *reservation, n int) error {
	if n <= 0 {
		return nil
	}
	return m.set.Book.Release(ctx, m.Key, r.windows, n)
}

// MarkSpent records the vendor's quota error: the window of period (the
// shortest of the meter's windows when the vendor did not say which) is
// spent in the ledger, so no run asks before it ends. It returns the
// window's end.
func (m *Meter) MarkSpent(ctx context.Context, period schema.QuotaPeriod, why string) (time.Time, error) {
	ws := m.Windows()
	if len(ws) == 0 {
		return time.Time{}, nil
	}
	i := 0
	for j, l := range m.Limits {
		if l.Period == period {
			i = j
		}
	}
	if period == "" || m.Limits[i].Period != period {
		// The vendor did not say which window (or one we do not count):
		// the shortest we count, of at least a day (per-minute limits
		// are the rate's, and the rate already keeps them).
		i = 0
		for j, l := range m.Limits {
			if l.Period.Approx() >= 24*time.Hour {
				i = j
				break
			}
		}
	}
	w := ws[i]
	m.noteSpent(w.End(), fmt.Sprintf("%s: the vendor says it is spent", m.Limits[i]))
	if m.unused {
		return w.End(), nil
	}
	return w.End(), m.set.Book.MarkSpent(ctx, m.Key, w, m.set.now())
}

// Slots are one query's reservations: its fewest requests, reserved
// before it starts, then one more for each request beyond them. End
// gives back what was not used.
type Slots struct {
	m       *Meter
	mu      sync.Mutex
	held    []*reservation // oldest first
	left    int            // reserved and not used, in the newest reservations
	used    int
	refused *Exhausted
}

// Begin reserves a query's fewest requests: nil and an *Exhausted when
// they do not fit (the query is deferred).
func (m *Meter) Begin(ctx context.Context, fewest int) (*Slots, error) {
	s := &Slots{m: m}
	if fewest <= 0 {
		return s, nil
	}
	r, err := m.reserve(ctx, fewest)
	if err != nil {
		return nil, err
	}
	s.held, s.left = []*reservation{r}, fewest
	return s, nil
}

// Take charges one request to the reservations, reserving another slot
// when they are used up.
func (s *Slots) Take(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left > 0 {
		s.left--
		s.used++
		return nil
	}
	r, err := s.m.reserve(ctx, 1)
	if err != nil {
		var ex *Exhausted
		if errors.As(err, &ex) {
			s.refused = ex
		}
		return err
	}
	s.held = append(s.held, r)
	s.used++
	return nil
}

// Used is how many requests were charged.
func (s *Slots) Used() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Refused is the refusal that stopped the query mid-way, if any.
func (s *Slots) Refused() *Exhausted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// End gives back the slots reserved and not used.
func (s *Slots) End(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for i := len(s.held) - 1; i >= 0 && s.left > 0; i-- {
		n := min(s.left, s.held[i].n)
		if err := s.m.release(ctx, s.held[i], n); err != nil {
			errs = append(errs, err)
		}
		s.left -= n
	}
	s.left = 0
	return errors.Join(errs...)
}

// slotsKey carries a query's Slots in its context.
type slotsKey struct{}

// WithSlots returns ctx carrying s, for the gate.
func WithSlots(ctx context.Context, s *Slots) context.Context {
	return context.WithValue(ctx, slotsKey{}, s)
}

// SlotsOf is the Slots ctx carries, or nil.
func SlotsOf(ctx context.Context) *Slots {
	s, _ := ctx.Value(slotsKey{}).(*Slots)
	return s
}

// freeKey marks requests that no quota counts (the vendors' usage
// endpoints).
type freeKey struct{}

// Free returns ctx for requests that cost no quota.
func Free(ctx context.Context) context.Context { return context.WithValue(ctx, freeKey{}, true) }

// IsFree reports whether ctx's requests cost no quota.
func IsFree(ctx context.Context) bool { v, _ := ctx.Value(freeKey{}).(bool); return v }

// Take charges one request of m: to the query's Slots when ctx carries
// them, else straight to the ledger (a request outside any query).
func (m *Meter) Take(ctx context.Context) error {
	if IsFree(ctx) {
		return nil
	}
	if s := SlotsOf(ctx); s != nil && s.m == m {
		return s.Take(ctx)
	}
	_, err := m.reserve(ctx, 1)
	return err
}
