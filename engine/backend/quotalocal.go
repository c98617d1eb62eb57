package backend

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/internal/oslock"
)

// LocalQuotaLedger is the quota ledger of every engagement on one machine
// that does not use a shared backend, kept in the user's state folder
// (DefaultQuotaDir: $XDG_STATE_HOME/reconform, else
// ~/.local/state/reconform), not beside an engagement, since the vendors
// count per key, whichever engagement spends it.
//
// Files, in Dir:
//
//	quota-ledger.json   the windows and keys (no secret: keys are named
//	                    by engine/quota.KeyID), replaced atomically
//	quota-ledger.lock   held with an OS lock (flock) for every change,
//	                    released by the OS when a holder dies
//	quota-salt          the ledger's random salt for key identifiers,
//	                    readable by the user only
//
// Every operation takes the lock, reads the file, changes it and
// replaces it (temporary file, fsync, rename) before the lock is
// released, so concurrent runs on the machine never count past a limit
// together, and a run killed at any moment leaves the file before or
// after its change. A reservation a crashed run did not give back stays
// counted: the ledger errs on the side of sending less.
type LocalQuotaLedger struct {
	Dir string
}

var _ QuotaBook = (*LocalQuotaLedger)(nil)

// DefaultQuotaDir is where the local quota ledger lives: getenv's
// XDG_STATE_HOME/reconform, else HOME/.local/state/reconform; "" when
// neither is set.
func DefaultQuotaDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "reconform")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "reconform")
	}
	return ""
}

const (
	quotaLedgerFile = "quota-ledger.json"
	quotaLockFile   = "quota-ledger.lock"
	quotaSaltFile   = "quota-salt"
	// quotaKeepWindows is how long ended windows are kept for the
	// listing: a little over a year of monthly windows.
	quotaKeepWindows = 400 * 24 * time.Hour
)

// localQuotaFile is the ledger file's content.
type localQuotaFile struct {
	FormatVersion int              `json:"format_version"`
	Keys          []*localQuotaKey `json:"keys"`
}

type localQuotaKey struct {
	ProviderType   string               `json:"provider_type"`
	KeyHash        string               `json:"key_id"`
	Quota          []string             `json:"quota,omitempty"`
	QuotaReset     time.Time            `json:"quota_reset,omitzero"`
	LastUsed       time.Time            `json:"last_used,omitzero"`
	LastReconciled time.Time            `json:"last_reconciled,omitzero"`
	Engagements    map[string]time.Time `json:"engagements,omitempty"`
	Windows        []*localQuotaWindow  `json:"windows,omitempty"`
}

type localQuotaWindow struct {
	Start   time.Time `json:"start"`
	Seconds int64     `json:"seconds"`
	Limit   int       `json:"limit"`
	// Used is what runs reserved and did not give back; Extra what the
	// vendor counted beyond it (reconciliation, a quota error).
	Used        int       `json:"used"`
	Extra       int       `json:"extra,omitempty"`
	Spent       time.Time `json:"spent,omitzero"`
	VendorUsed  int       `json:"vendor_used,omitempty"`
	VendorLimit int       `json:"vendor_limit,omitempty"`
	Reconciled  time.Time `json:"reconciled,omitzero"`
}

const localQuotaFormat = 1

// used is the window's count: what runs reserved and what the vendor
// counted beyond it; a window the vendor said is spent counts its limit
// at least, until it ends.
func (w *localQuotaWindow) used() int {
	n := w.Used + w.Extra
	if !w.Spent.IsZero() {
		n = max(n, w.Limit)
	}
	return n
}

func (w *localQuotaWindow) count() QuotaCount {
	return QuotaCount{
		QuotaWindow: QuotaWindow{Start: w.Start, Length: time.Duration(w.Seconds) * time.Second, Limit: w.Limit},
		Used:        w.used(), Spent: w.Spent, VendorUsed: w.VendorUsed, VendorLimit: w.VendorLimit, Reconciled: w.Reconciled,
	}
}

// update runs change on the ledger under its lock and writes the result
// when change reports a change.
func (l *LocalQuotaLedger) update(ctx context.Context, change func(*localQuotaFile) (bool, error)) error {
	if l.Dir == "" {
		return errors.New("the quota ledger has no folder: set XDG_STATE_HOME or HOME")
	}
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return fmt.Errorf("quota ledger: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(l.Dir, quotaLockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("quota ledger: %w", err)
	}
	defer lf.Close() // releases the lock
	if err := oslock.Wait(ctx, lf); err != nil {
		return fmt.Errorf("quota ledger: waiting for its lock: %w", err)
	}
	f, err := l.read()
	if err != nil {
		return err
	}
	changed, err := change(f)
	if err != nil || !changed {
		return err
	}
	l.prune(f)
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(l.Dir, quotaLedgerFile), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("quota ledger: %w", err)
	}
	return nil
}

// read reads the ledger file (an empty ledger when there is none).
func (l *LocalQuotaLedger) read() (*localQuotaFile, error) {
	path := filepath.Join(l.Dir, quotaLedgerFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &localQuotaFile{FormatVersion: localQuotaFormat}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("quota ledger: %w", err)
	}
	var f localQuotaFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("the quota ledger %s is damaged (%v); move it away to start counting again", path, err)
	}
	if f.FormatVersion > localQuotaFormat {
		return nil, fmt.Errorf("the quota ledger %s has format %d, newer than this reconform knows (%d): upgrade reconform", path, f.FormatVersion, localQuotaFormat)
	}
	f.FormatVersion = localQuotaFormat
	return &f, nil
}

// prune drops windows that ended long before the key's newest one (by
// the windows' own times, not the clock: a ledger written with a test's
// clock, or after a clock jump, keeps what it needs).
func (l *LocalQuotaLedger) prune(f *localQuotaFile) {
	for _, k := range f.Keys {
		var newest time.Time
		for _, w := range k.Windows {
			if end := w.Start.Add(time.Duration(w.Seconds) * time.Second); end.After(newest) {
				newest = end
			}
		}
		cut := newest.Add(-quotaKeepWindows)
		kept := k.Windows[:0]
		for _, w := range k.Windows {
			if w.Start.Add(time.Duration(w.Seconds) * time.Second).After(cut) {
				kept = append(kept, w)
			}
		}
		k.Windows = kept
	}
}

func (f *localQuotaFile) key(k QuotaKey, create bool) *localQuotaKey {
	for _, have := range f.Keys {
		if have.ProviderType == k.ProviderType && have.KeyHash == k.KeyHash {
			return have
		}
	}
	if !create {
		return nil
	}
	nk := &localQuotaKey{ProviderType: k.ProviderType, KeyHash: k.KeyHash}
	f.Keys = append(f.Keys, nk)
	return nk
}

func (k *localQuotaKey) window(w QuotaWindow, create bool) *localQuotaWindow {
	secs := int64(w.Length / time.Second)
	for _, have := range k.Windows {
		if have.Start.Equal(w.Start) && have.Seconds == secs {
			if w.Limit > 0 {
				have.Limit = w.Limit
			}
			return have
		}
	}
	if !create {
		return nil
	}
	nw := &localQuotaWindow{Start: w.Start.UTC(), Seconds: secs, Limit: w.Limit}
	k.Windows = append(k.Windows, nw)
	sort.Slice(k.Windows, func(i, j int) bool {
		if !k.Windows[i].Start.Equal(k.Windows[j].Start) {
			return k.Windows[i].Start.Before(k.Windows[j].Start)
		}
		return k.Windows[i].Seconds < k.Windows[j].Seconds
	})
	return nw
}

// Reserve takes n slots in every window, or none.
func (l *LocalQuotaLedger) Reserve(ctx context.Context, key QuotaKey, windows []QuotaWindow, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	granted := 0
	err := l.update(ctx, func(f *localQuotaFile) (bool, error) {
		k := f.key(key, true)
		ws := make([]*localQuotaWindow, len(windows))
		for i, w := range windows {
			ws[i] = k.window(w, true)
			if ws[i].used()+n > w.Limit {
				return false, nil
			}
		}
		for _, w := range ws {
			w.Used += n
		}
		granted = n
		return true, nil
	})
	return granted, err
}

// Release gives back n slots reserved and not used.
func (l *LocalQuotaLedger) Release(ctx context.Context, key QuotaKey, windows []QuotaWindow, n int) error {
	if n <= 0 {
		return nil
	}
	return l.update(ctx, func(f *localQuotaFile) (bool, error) {
		k := f.key(key, false)
		if k == nil {
			return false, nil
		}
		changed := false
		for _, w := range windows {
			if lw := k.window(QuotaWindow{Start: w.Start, Length: w.Length}, false); lw != nil {
				lw.Used = max(lw.Used-n, 0)
				changed = true
			}
		}
		return changed, nil
	})
}

// Salt reads or makes the ledger's salt.
func (l *LocalQuotaLedger) Salt(ctx context.Context, create bool) ([]byte, error) {
	path := filepath.Join(l.Dir, quotaSaltFile)
	if l.Dir != "" {
		if salt, err := os.ReadFile(path); err == nil && len(salt) >= 16 {
			return salt, nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("quota ledger: %w", err)
		}
	}
	if !create {
		return nil, nil
	}
	var salt []byte
	err := l.update(ctx, func(*localQuotaFile) (bool, error) {
		// Under the lock: a salt another run made meanwhile wins.
		if have, err := os.ReadFile(path); err == nil && len(have) >= 16 {
			salt = have
			return false, nil
		}
		salt = make([]byte, 32)
		rand.Read(salt)
		return false, atomicfile.WriteFile(path, salt, 0o600)
	})
	return salt, err
}

// Windows reads the key's windows.
func (l *LocalQuotaLedger) Windows(ctx context.Context, key QuotaKey, windows []QuotaWindow) ([]QuotaCount, error) {
	if l.Dir == "" {
		return nil, errors.New("the quota ledger has no folder: set XDG_STATE_HOME or HOME")
	}
	f, err := l.read()
	if err != nil {
		return nil, err
	}
	out := make([]QuotaCount, len(windows))
	k := f.key(key, false)
	for i, w := range windows {
		out[i] = QuotaCount{QuotaWindow: w}
		if k == nil {
			continue
		}
		if lw := k.window(QuotaWindow{Start: w.Start, Length: w.Length}, false); lw != nil {
			lw.Limit = w.Limit // the caller's limit, not the last writer's
			out[i] = lw.count()
		}
	}
	return out, nil
}

// MarkSpent raises the window's count to its limit.
func (l *LocalQuotaLedger) MarkSpent(ctx context.Context, key QuotaKey, w QuotaWindow, at time.Time) error {
	return l.update(ctx, func(f *localQuotaFile) (bool, error) {
		lw := f.key(key, true).window(w, true)
		lw.Spent = at.UTC()
		return true, nil
	})
}

// Reconcile raises the window's count to the vendor's figure.
func (l *LocalQuotaLedger) Reconcile(ctx context.Context, key QuotaKey, w QuotaWindow, vendorUsed, vendorLimit int, at time.Time) error {
	return l.update(ctx, func(f *localQuotaFile) (bool, error) {
		k := f.key(key, true)
		lw := k.window(w, true)
		lw.Extra = max(lw.Extra, vendorUsed-lw.Used)
		lw.VendorUsed, lw.VendorLimit, lw.Reconciled = vendorUsed, vendorLimit, at.UTC()
		if at.After(k.LastReconciled) {
			k.LastReconciled = at.UTC()
		}
		return true, nil
	})
}

// Touch records the engagement's use of the key.
func (l *LocalQuotaLedger) Touch(ctx context.Context, key QuotaKey, use QuotaUse) error {
	return l.update(ctx, func(f *localQuotaFile) (bool, error) {
		k := f.key(key, true)
		k.Quota, k.QuotaReset = use.Quota, use.QuotaReset.UTC()
		at := use.At.UTC()
		if at.After(k.LastUsed) {
			k.LastUsed = at
		}
		if k.Engagements == nil {
			k.Engagements = map[string]time.Time{}
		}
		if at.After(k.Engagements[use.Engagement]) {
			k.Engagements[use.Engagement] = at
		}
		return true, nil
	})
}

// Report lists every key.
func (l *LocalQuotaLedger) Report(context.Context) ([]QuotaKeyReport, error) {
	if l.Dir == "" {
		return nil, nil
	}
	f, err := l.read()
	if err != nil {
		return nil, err
	}
	out := make([]QuotaKeyReport, 0, len(f.Keys))
	for _, k := range f.Keys {
		r := QuotaKeyReport{
			Key:   QuotaKey{ProviderType: k.ProviderType, KeyHash: k.KeyHash},
			Quota: k.Quota, QuotaReset: k.QuotaReset, LastUsed: k.LastUsed, LastReconciled: k.LastReconciled,
		}
		for name, at := range k.Engagements {
			r.Engagements = append(r.Engagements, QuotaEngagement{Name: name, LastUsed: at})
		}
		sort.Slice(r.Engagements, func(i, j int) bool { return r.Engagements[i].Name < r.Engagements[j].Name })
		for _, w := range k.Windows {
			r.Windows = append(r.Windows, w.count())
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key.ProviderType != out[j].Key.ProviderType {
			return out[i].Key.ProviderType < out[j].Key.ProviderType
		}
		return out[i].Key.KeyHash < out[j].Key.KeyHash
	})
	return out, nil
}
