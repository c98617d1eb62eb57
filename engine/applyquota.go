package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/reconform/reconform/engine/quota"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// This file is the walk's side of vendor quotas (engine/quota): the
// ledger is consulted before a query starts and before each request (the
// gate), never after; what the walk adds is when to ask, in which order,
// and what a deferred query records.

// usageTimeout bounds a vendor usage request at the start of an apply.
const usageTimeout = 30 * time.Second

// quotaSetup prepares a provider's quota for the run: records the
// engagement's use of the key and, when the ledger's figures are older
// than a day and the vendor reports usage, reconciles them first (the
// vendor's figure wins when higher).
func (w *walk) quotaSetup(ctx context.Context, pr *providerRun) {
	m := pr.meter
	if err := m.Touch(ctx); err != nil {
		w.warn(fmt.Sprintf("%s: quota ledger: %v", pr.block.Address, err))
	}
	rep, ok := pr.impl.(providers.UsageReporter)
	if !ok {
		return
	}
	last, err := m.LastReconciled(ctx)
	if err != nil || w.opts.Now().Sub(last) < quota.ReconcileAge {
		return
	}
	uctx, cancel := context.WithTimeout(quota.Free(ctx), usageTimeout)
	defer cancel()
	usage, err := rep.Usage(uctx)
	if err != nil {
		w.warn(fmt.Sprintf("%s: could not read the key's usage from the vendor (%s); the quota ledger's own count is used", pr.block.Address, w.redact(err.Error())))
		return
	}
	recs, err := m.Reconcile(ctx, usage)
	if err != nil {
		w.warn(w.redact(err.Error()))
		return
	}
	for _, r := range recs {
		if r.Raised {
			w.warn(fmt.Sprintf("%s: the vendor counts %d requests of this key's %s quota, the ledger %d (used elsewhere with the key): the vendor's figure is kept", pr.block.Address, r.VendorUsed, r.Limit, r.Before))
		}
	}
}

// orderByStaleness reorders the queued instances of providers with a
// quota so that, if the quota runs out, the subjects verified longest ago
// (never verified first) are the ones that got verified. Other instances
// keep their places.
func (w *walk) orderByStaleness() {
	var at []int
	var metered []*instState
	for i, st := range w.queue {
		if pr := w.prov[st.Query.Provider]; pr != nil && pr.meter != nil {
			at = append(at, i)
			metered = append(metered, st)
		}
	}
	if len(metered) < 2 {
		return
	}
	sort.SliceStable(metered, func(i, j int) bool {
		return quota.Staler(w.opts.Verified[metered[i].Key], w.opts.Verified[metered[j].Key])
	})
	for k, i := range at {
		w.queue[i] = metered[k]
	}
}

// quotaSpent says why the provider's quota takes no more queries this
// run ("" when it does).
func (pr *providerRun) quotaSpent() string {
	if pr.meter == nil {
		return ""
	}
	until, why := pr.meter.SpentUntil()
	if until.IsZero() {
		return ""
	}
	return quota.DeferredReason(until, pr.block.Address+" "+why)
}

// beginQuota reserves a query's fewest requests before it starts: the
// slots travel in the returned context to the gate. done gives back what
// the query did not use; a query whose fewest requests do not fit is
// deferred (a non-empty reason).
func (w *walk) beginQuota(ctx context.Context, pr *providerRun, q schema.Query) (qctx context.Context, slots *quota.Slots, deferred string) {
	if pr.meter == nil {
		return ctx, nil, ""
	}
	fewest := w.opts.Registry[pr.block.Type].MinRequestsFor(q)
	s, err := pr.meter.Begin(ctx, fewest)
	var ex *quota.Exhausted
	switch {
	case errors.As(err, &ex):
		return ctx, nil, ex.Reason()
	case err != nil:
		// The ledger cannot be reached: nothing is sent that the quota
		// might not cover.
		return ctx, nil, quota.DeferredReason(time.Time{}, w.redact(err.Error()))
	}
	return quota.WithSlots(ctx, s), s, ""
}

// endQuota gives back a query's unused slots.
func (w *walk) endQuota(ctx context.Context, pr *providerRun, s *quota.Slots) {
	if s == nil {
		return
	}
	if err := s.End(context.WithoutCancel(ctx)); err != nil {
		w.log.Warn("could not give unused quota slots back to the ledger", "provider", pr.block.Address, "error", w.redact(err.Error()))
	}
}

// quotaRefused is the deferral reason of a query stopped mid-way because
// the quota had no slot for its next request ("" when it was not).
func quotaRefused(s *quota.Slots, err error) string {
	if s != nil {
		if ex := s.Refused(); ex != nil {
			return ex.Reason()
		}
	}
	var ex *quota.Exhausted
	if errors.As(err, &ex) {
		return ex.Reason()
	}
	return ""
}

// markQuotaSpent records a vendor's quota error in the ledger: the window
// it names (or the shortest we count) is spent, so neither this run nor
// the next asks before it ends. It returns what the warning says.
func (w *walk) markQuotaSpent(pr *providerRun, err *providers.Error, reason string) string {
	var period schema.QuotaPeriod
	if err != nil {
		period = err.QuotaPeriod
	}
	opens, merr := pr.meter.MarkSpent(context.Background(), period, reason)
	msg := fmt.Sprintf("%s: the vendor says the key's quota is spent; marked spent in the quota ledger until %s, the remaining queries are deferred", pr.block.Address, opens.UTC().Format(time.RFC3339))
	if merr != nil {
		msg += fmt.Sprintf(" (the ledger could not record it: %s)", w.redact(merr.Error()))
	}
	return msg
}

// verifiedAt is an instance's last verification: this run's start when
// it succeeded, else the one it had.
func (w *walk) verifiedAt(st *instState) time.Time {
	if st.status.Succeeded() {
		return w.start.UTC().Truncate(time.Second)
	}
	return w.opts.Verified[st.Key]
}

// VerifiedTimes are the last verification times of a previous state's
// instances, by key, for ApplyOptions.Verified and PlanOptions.Verified:
// their VerifiedAt, or for states written before it was recorded, the
// previous run's finish when the instance succeeded.
func VerifiedTimes(instances []schema.InstanceResult, finished time.Time) map[string]time.Time {
	out := make(map[string]time.Time, len(instances))
	for _, in := range instances {
		switch {
		case !in.VerifiedAt.IsZero():
			out[in.Key] = in.VerifiedAt
		case in.Status.Succeeded() && !finished.IsZero():
			out[in.Key] = finished.UTC().Truncate(time.Second)
		}
	}
	return out
}

// isDeferredReason reports whether a reason is a quota deferral.
func isDeferredReason(reason string) bool { return strings.HasPrefix(reason, quota.DeferredPrefix) }

// QuotaRefresh is what reconform quota -refresh found for one provider.
type QuotaRefresh struct {
	Address string
	// Reconciled are the windows the vendor reported (nil with Err, or
	// when the vendor has no usage endpoint: NoUsage).
	Reconciled []quota.Reconciled
	NoUsage    bool
	Err        error
}

// RefreshQuotas asks the vendors of cfg's metered providers that report
// usage for their keys' counts and reconciles the ledger with them (the
// vendor's figure wins when higher). Usage requests cost no quota.
func RefreshQuotas(ctx context.Context, cfg *schema.Config, registry map[string]providers.Registration, set *quota.Set, logger hclog.Logger) []QuotaRefresh {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	secrets := cfg.Secrets()
	var out []QuotaRefresh
	for _, m := range set.Meters() {
		pb := cfg.Providers[m.Address]
		reg := registry[pb.Type]
		r := QuotaRefresh{Address: m.Address}
		limits := limitsOf(pb, reg)
		impl, err := reg.New(ctx, providers.Config{
			Type: pb.Type, Name: pb.Name, Address: m.Address, Attrs: pb.Attrs, Dir: cfg.Dir,
			WorkDir: filepath.Join(cfg.Dir, ".reconform"), Endpoint: limits.Endpoint, Timeout: limits.Timeout,
			MaxBodyBytes: pb.MaxResponseBytes, UserAgent: version.UserAgent(), Retry: providers.DefaultRetryPolicy,
			Gate: newGate(limits.Rate, 0), Logger: logger.Named(m.Address), Secrets: secrets,
		})
		if err != nil {
			r.Err = errors.New(providers.Redact(err.Error(), secrets...))
			out = append(out, r)
			continue
		}
		rep, ok := impl.(providers.UsageReporter)
		if !ok {
			r.NoUsage = true
			out = append(out, r)
			continue
		}
		uctx, cancel := context.WithTimeout(quota.Free(ctx), usageTimeout)
		usage, err := rep.Usage(uctx)
		cancel()
		if err == nil {
			r.Reconciled, err = m.Reconcile(ctx, usage)
		}
		if err != nil {
			r.Err = errors.New(providers.Redact(err.Error(), secrets...))
		}
		out = append(out, r)
	}
	return out
}
