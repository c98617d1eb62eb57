package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/quota"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "quota",
		Synopsis: "Show the vendors' quotas: every key's windows, used, left and resets",
		Usage: `Usage: reconform quota [options] [DIR]

  Shows the quota ledger: the requests sent per vendor key, shared by every
  engagement and run that uses the key. For each key (named by an
  identifier that reveals nothing of it): its windows (a day, a month...)
  with the requests used and left and when each resets, when its counts
  were last reconciled with the vendor, and which engagements used it.

  The ledger is the one the engagement in DIR (default: the current
  directory) uses: its pg backend's, shared by every runner, or the local
  one in $XDG_STATE_HOME/reconform (~/.local/state/reconform). Without an
  engagement in DIR, the local one. Keys of the engagement's providers are
  marked with the provider's address.

  With -refresh, the vendors that report a key's usage (SecurityTrails,
  VirusTotal) are asked for the engagement's keys' counts first; the
  vendor's figure wins when it is higher (the key was used elsewhere).
  apply does the same on its own when the ledger's figures are a day old.

Options:
  -refresh           Reconcile the engagement's keys with the vendors first.
  -json              Print the ledger as JSON.
  -no-color          No terminal colours.
  -var 'name=value'  Set a variable; repeatable.
  -var-file=FILE     Set variables from an HCL file; repeatable.`,
		Run:  runQuota,
		JSON: true,
	})
}

func runQuota(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["quota"])
	refresh := fs.Bool("refresh", false, "")
	asJSON := fs.Bool("json", false, "")
	noColor := fs.Bool("no-color", false, "")
	var vf varFlags
	vf.register(fs)
	dir, done, code := parseFolderArgs(env, fs, args)
	if done {
		return code
	}
	fail := func(f string, a ...any) int {
		fmt.Fprintf(env.Stderr, "Error: "+f+"\n", a...)
		return exitError
	}
	var cfg *schema.Config
	if hasEngagement(resolvePath(env, dir)) {
		c, ok := loadEngagement(env, dir, vf.Vars, vf.VarFiles, *noColor)
		if !ok {
			return exitError
		}
		cfg = c
	} else if *refresh {
		return fail("-refresh needs an engagement: there is none in %s (its keys are what is refreshed).", dir)
	}
	var book backend.QuotaBook
	where := ""
	if cfg != nil {
		b, err := openBackend(ctx, env, cfg)
		if err != nil {
			return fail("%v.", err)
		}
		defer b.Close()
		book, where = quotaBookOf(env, b)
	} else {
		book, where = quotaBookOf(env, nil)
	}
	if book == nil {
		return fail("there is no quota ledger: neither XDG_STATE_HOME nor HOME is set.")
	}
	now := time.Now()
	var set *quota.Set
	if cfg != nil {
		s, err := quota.Open(ctx, book, cfg, all.Registrations(), *refresh)
		if err != nil {
			return fail("%v.", err)
		}
		set = s
	}
	var refreshed []engine.QuotaRefresh
	if *refresh {
		refreshed = engine.RefreshQuotas(ctx, cfg, all.Registrations(), set, env.Logger)
		if ctx.Err() != nil {
			return exitInterrupted
		}
	}
	reps, err := book.Report(ctx)
	if err != nil {
		return fail("%v.", err)
	}
	view := quotaView(reps, set, now)
	view.Ledger = where
	for _, r := range refreshed {
		rv := quotaRefreshView{Provider: r.Address, NoUsage: r.NoUsage}
		if r.Err != nil {
			rv.Error = r.Err.Error()
		}
		for _, rc := range r.Reconciled {
			rv.Windows = append(rv.Windows, quotaReconciledView{Quota: rc.Limit, VendorUsed: rc.VendorUsed, VendorLimit: rc.VendorLimit, LedgerBefore: rc.Before, LedgerAfter: rc.After})
		}
		view.Refreshed = append(view.Refreshed, rv)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(view); err != nil {
			return fail("%v", err)
		}
	} else {
		renderQuota(env.Stdout, view, palette{on: useColor(env, *noColor)})
	}
	for _, r := range view.Refreshed {
		if r.Error != "" {
			return exitError
		}
	}
	return exitOK
}

// hasEngagement reports whether dir holds HCL files (an engagement).
func hasEngagement(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if len(files) > 0 {
		return true
	}
	files, _ = filepath.Glob(filepath.Join(dir, "*.hcl.json"))
	return len(files) > 0
}

// quotaBookOf is the quota ledger runs of backend b use: the backend's own
// (pg), else the local one in the user's state folder; nil when there is
// none (no HOME). where names it for people.
func quotaBookOf(env *Env, b backend.Backend) (backend.QuotaBook, string) {
	if qb, ok := b.(backend.QuotaBooks); ok {
		return qb.QuotaBook(), b.Location() + " (quota ledger)"
	}
	dir := backend.DefaultQuotaDir(env.Getenv)
	if dir == "" {
		return nil, ""
	}
	return &backend.LocalQuotaLedger{Dir: dir}, displayPath(env, dir)
}

// quotas opens the engagement's quotas over its ledger for a run: create
// makes the ledger's salt (apply); plan reads only. nil when the
// engagement meters no provider. A ledger that cannot be opened is a
// warning for plan and an error for apply (nothing would be counted).
func (s *stateSession) quotas(ctx context.Context, create bool) (*quota.Set, error) {
	metered := false
	for _, pb := range s.cfg.Providers {
		metered = metered || len(pb.Quota) > 0
	}
	if !metered {
		return nil, nil
	}
	book, _ := quotaBookOf(s.env, s.b)
	if book == nil {
		fmt.Fprintln(s.env.Stderr, "Warning: no quota ledger (neither XDG_STATE_HOME nor HOME is set): the vendors' quotas are not counted across runs.")
		return nil, nil
	}
	set, err := quota.Open(ctx, book, s.cfg, all.Registrations(), create)
	if err != nil && !create {
		fmt.Fprintf(s.env.Stderr, "Warning: %v; the plan shows no quotas.\n", err)
		return nil, nil
	}
	return set, err
}

// verified are the previous state's instances' verification times.
func (s *stateSession) verified() map[string]time.Time {
	if s.prev == nil {
		return nil
	}
	return engine.VerifiedTimes(s.prev.Instances, s.prev.Run.FinishedAt)
}

// The quota command's view, as -json prints it.
type quotaLedgerView struct {
	FormatVersion int                `json:"format_version"`
	Ledger        string             `json:"ledger"`
	Keys          []quotaKeyView     `json:"keys"`
	Refreshed     []quotaRefreshView `json:"refreshed,omitempty"`
}

type quotaKeyView struct {
	ProviderType string `json:"provider_type"`
	KeyID        string `json:"key_id"`
	// Providers are the engagement's provider blocks with this key.
	Providers      []string              `json:"providers,omitempty"`
	Quota          []string              `json:"quota"`
	QuotaReset     time.Time             `json:"quota_reset,omitzero"`
	Windows        []quotaWindowView     `json:"windows"`
	LastUsed       time.Time             `json:"last_used,omitzero"`
	LastReconciled time.Time             `json:"last_reconciled,omitzero"`
	Engagements    []quotaEngagementView `json:"engagements"`
}

type quotaWindowView struct {
	Quota        string    `json:"quota"`
	Period       string    `json:"period"`
	Start        time.Time `json:"start"`
	ResetsAt     time.Time `json:"resets_at"`
	Limit        int       `json:"limit"`
	Used         int       `json:"used"`
	Left         int       `json:"left"`
	Spent        time.Time `json:"spent_at,omitzero"`
	VendorUsed   *int      `json:"vendor_used,omitempty"`
	VendorLimit  *int      `json:"vendor_limit,omitempty"`
	ReconciledAt time.Time `json:"reconciled_at,omitzero"`
}

type quotaEngagementView struct {
	Name     string    `json:"name"`
	LastUsed time.Time `json:"last_used"`
}

type quotaRefreshView struct {
	Provider string                `json:"provider"`
	NoUsage  bool                  `json:"no_usage_endpoint,omitempty"`
	Windows  []quotaReconciledView `json:"windows,omitempty"`
	Error    string                `json:"error,omitempty"`
}

type quotaReconciledView struct {
	Quota        string `json:"quota"`
	VendorUsed   int    `json:"vendor_used"`
	VendorLimit  int    `json:"vendor_limit,omitempty"`
	LedgerBefore int    `json:"ledger_before"`
	LedgerAfter  int    `json:"ledger_after"`
}

// quotaView builds the listing: each key's current windows (from the
// quotas last configured for it), with what the ledger counts in them.
func quotaView(reps []backend.QuotaKeyReport, set *quota.Set, now time.Time) quotaLedgerView {
	mine := map[backend.QuotaKey][]string{}
	for _, m := range set.Meters() {
		mine[m.Key] = append(mine[m.Key], m.Address)
	}
	v := quotaLedgerView{FormatVersion: jsonFormatVersion, Keys: []quotaKeyView{}}
	for _, r := range reps {
		k := quotaKeyView{ProviderType: r.Key.ProviderType, KeyID: r.Key.KeyHash, Providers: mine[r.Key], Quota: r.Quota,
			QuotaReset: r.QuotaReset, LastUsed: r.LastUsed, LastReconciled: r.LastReconciled, Windows: []quotaWindowView{}, Engagements: []quotaEngagementView{}}
		if k.Quota == nil {
			k.Quota = []string{}
		}
		for _, e := range r.Engagements {
			k.Engagements = append(k.Engagements, quotaEngagementView{Name: e.Name, LastUsed: e.LastUsed})
		}
		limits, _ := schema.ParseQuotas(r.Quota)
		for _, l := range limits {
			w := quota.Window(l, r.QuotaReset, now)
			c := backend.QuotaCount{QuotaWindow: w}
			for _, have := range r.Windows {
				if have.Start.Equal(w.Start) && have.Length == w.Length {
					c = have
					c.Limit = w.Limit
					if !c.Spent.IsZero() {
						c.Used = max(c.Used, c.Limit)
					}
				}
			}
			wv := quotaWindowView{Quota: l.String(), Period: string(l.Period), Start: w.Start, ResetsAt: w.End(), Limit: l.Count,
				Used: c.Used, Left: c.Left(), Spent: c.Spent, ReconciledAt: c.Reconciled}
			if !c.Reconciled.IsZero() {
				vu, vl := c.VendorUsed, c.VendorLimit
				wv.VendorUsed, wv.VendorLimit = &vu, &vl
			}
			k.Windows = append(k.Windows, wv)
		}
		v.Keys = append(v.Keys, k)
	}
	sort.SliceStable(v.Keys, func(i, j int) bool { return len(v.Keys[i].Providers) > 0 && len(v.Keys[j].Providers) == 0 })
	return v
}

// utcText is a time for people: "2025-06-03 00:00 UTC", or "never".
func utcText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func renderQuota(w io.Writer, v quotaLedgerView, c palette) {
	fmt.Fprintf(w, "Quota ledger: %s\n", v.Ledger)
	for _, r := range v.Refreshed {
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "  %s %s: %s\n", c.red("refresh failed:"), r.Provider, r.Error)
		case r.NoUsage:
			fmt.Fprintf(w, "  refresh: %s: the vendor reports no usage; the ledger's own count stands\n", r.Provider)
		default:
			for _, rw := range r.Windows {
				verdict := "the ledger's count stands"
				if rw.LedgerAfter > rw.LedgerBefore {
					verdict = fmt.Sprintf("the ledger is raised from %d", rw.LedgerBefore)
				}
				fmt.Fprintf(w, "  refresh: %s %s: the vendor counts %d%s; %s\n", r.Provider, rw.Quota, rw.VendorUsed, ofLimit(rw.VendorLimit), verdict)
			}
		}
	}
	if len(v.Keys) == 0 {
		fmt.Fprintln(w, "\nNo key has been used yet.")
		return
	}
	for _, k := range v.Keys {
		head := fmt.Sprintf("%s key %s", k.ProviderType, k.KeyID)
		if len(k.Providers) > 0 {
			head += " (this engagement's " + strings.Join(k.Providers, ", ") + ")"
		}
		fmt.Fprintf(w, "\n%s\n", c.bold(head))
		if len(k.Windows) == 0 {
			fmt.Fprintln(w, "  no quota configured")
		} else {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  QUOTA\tUSED\tLEFT\tRESETS AT\tVENDOR SAYS")
			for _, wv := range k.Windows {
				left := fmt.Sprint(wv.Left)
				if !wv.Spent.IsZero() {
					left = "0 (spent: the vendor said so " + utcText(wv.Spent) + ")"
				}
				vendor := "-"
				if wv.VendorUsed != nil {
					vendor = fmt.Sprintf("%d%s at %s", *wv.VendorUsed, ofLimit(*wv.VendorLimit), utcText(wv.ReconciledAt))
				}
				fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\n", wv.Quota, wv.Used, left, utcText(wv.ResetsAt), vendor)
			}
			tw.Flush()
		}
		var names []string
		for _, e := range k.Engagements {
			names = append(names, fmt.Sprintf("%s (%s)", e.Name, utcText(e.LastUsed)))
		}
		if len(names) == 0 {
			names = []string{"none recorded"}
		}
		fmt.Fprintf(w, "  last reconciled: %s\n  used by: %s\n", utcText(k.LastReconciled), strings.Join(names, ", "))
	}
}

func ofLimit(limit int) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(" of %d", limit)
}

// renderPlanQuota prints the providers' quotas in a plan: each window's
// used and left (shared with every engagement using the key), what will
// be deferred, and verify_every's coverage.
func renderPlanQuota(w io.Writer, p *engine.Plan, c palette) {
	var metered []engine.ProviderPlan
	for _, pp := range p.Providers {
		if len(pp.Quota) > 0 {
			metered = append(metered, pp)
		}
	}
	if len(metered) == 0 {
		return
	}
	fmt.Fprintln(w, "Vendor quotas (per key, shared by every engagement and run using it):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROVIDER\tQUOTA\tUSED\tLEFT\tRESETS AT\tPLANNED\tDEFERRED")
	for _, pp := range metered {
		for i, q := range pp.Quota {
			name, planned, deferred := pp.Address, fmt.Sprint(pp.Requests+pp.Predicted), fmt.Sprint(pp.Deferred)
			if i > 0 {
				name, planned, deferred = "", "", ""
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\t%s\t%s\n", name, q.Quota, q.Used, q.Left, utcText(q.End), planned, deferred)
		}
	}
	tw.Flush()
	for _, pp := range metered {
		if pp.Deferred > 0 {
			fmt.Fprintf(w, "  %s %s: %d %s (at least %d requests) will be deferred until %s; the subjects verified longest ago run first.\n",
				c.yellow("deferred:"), pp.Address, pp.Deferred, plural(pp.Deferred, "query", "queries"), pp.DeferredRequests, utcText(pp.DeferredUntil))
		}
		if cv := pp.Coverage; cv != nil {
			mark := "verify_every:"
			if cv.Percent < 100 {
				mark = c.yellow(mark)
			}
			fmt.Fprintf(w, "  %s %s %s.\n", mark, pp.Address, cv.Text)
		}
	}
	fmt.Fprintln(w)
}

// printDeferred lists the queries a run deferred for a quota, by
// provider: how many, until when; the first few by name.
func printDeferred(w io.Writer, instances []schema.InstanceResult) {
	byProvider := map[string][]schema.InstanceResult{}
	var order []string
	for _, in := range instances {
		if in.Status != schema.StatusSkipped || !quota.IsDeferred(in.Reason) {
			continue
		}
		if byProvider[in.Query.Provider] == nil {
			order = append(order, in.Query.Provider)
		}
		byProvider[in.Query.Provider] = append(byProvider[in.Query.Provider], in)
	}
	if len(order) == 0 {
		return
	}
	sort.Strings(order)
	fmt.Fprintln(w, "\nDeferred for the vendors' quotas (their findings stay, unverified; the stalest subjects ran first):")
	for _, p := range order {
		ins := byProvider[p]
		fmt.Fprintf(w, "  - %s: %d %s: %s\n", p, len(ins), plural(len(ins), "query", "queries"), ins[0].Reason)
		for i, in := range ins {
			if i == 5 {
				fmt.Fprintf(w, "      ... and %d more\n", len(ins)-5)
				break
			}
			fmt.Fprintf(w, "      %s\n", in.Key)
		}
	}
}

// printQuotaLeft says after a run what each metered provider's quota has
// left, as the ledger counts it (every engagement using the key).
func printQuotaLeft(ctx context.Context, w io.Writer, set *quota.Set) {
	var parts []string
	for _, m := range set.Meters() {
		counts, err := m.Counts(ctx)
		if err != nil {
			continue
		}
		var ws []string
		for i, c := range counts {
			ws = append(ws, fmt.Sprintf("%d of %s (resets %s)", c.Left(), m.Limits[i], utcText(c.End())))
		}
		parts = append(parts, m.Address+" "+strings.Join(ws, ", "))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "Quota left: %s.\n\n", strings.Join(parts, "; "))
	}
}
