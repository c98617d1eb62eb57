package schema

import (
	"time"

	"github.com/zclconf/go-cty/cty"
)

// ProviderSchema declares a provider type to the language: its config
// attributes, which are sensitive, which ops it answers and whether each is
// active. The providers package owns the table; schema only reads it, so the
// loader can check a config without importing any provider.
type ProviderSchema struct {
	Type        string
	Description string
	// Attributes of the provider block beyond the common ones
	// (CommonProviderAttributes), e.g. api_key or path.
	Attributes []ProviderAttribute
	// Ops maps each op the provider answers to its traits.
	Ops map[Op]OpTraits

	// Free-tier defaults, used when the block does not set them.
	DefaultRate     string        // "4/min", "1/s"; "" means unlimited
	DefaultBudget   int           // requests per run; 0 means unlimited
	DefaultTimeout  time.Duration // per request
	DefaultCacheTTL time.Duration // 0 means the engine default (24h)
	DefaultEndpoint string
	// DefaultQuota are the vendor's documented free-tier quotas per key
	// ("500/day", "15500/month"; schema.ParseQuota), counted across runs
	// in the quota ledger; the provider's doc comment names the source.
	// Nil: the vendor documents none.
	DefaultQuota []string
	// QuotaAccount names the attributes that identify the account a
	// quota belongs to (their values, hashed, key the ledger); nil: the
	// sensitive attributes. A provider without any (a free API counted
	// per address) has one account per ledger.
	QuotaAccount []string
}

// QuotaAccountAttributes are the attributes whose values identify the
// account the provider's quota belongs to.
func (p ProviderSchema) QuotaAccountAttributes() []string {
	if p.QuotaAccount != nil {
		return p.QuotaAccount
	}
	var out []string
	for _, a := range p.Attributes {
		if a.Sensitive {
			out = append(out, a.Name)
		}
	}
	return out
}

// OpTraits describes how a provider answers one op.
type OpTraits struct {
	// Active ops touch the target's infrastructure (live DNS).
	Active bool
	// Current is set when the answer is current records, not history, so
	// its findings are current by definition.
	Current bool
	// RRTypes the op can return or filter on; empty means any.
	RRTypes []string
	// Registry ops ask a registry about the subject (RDAP), neither the
	// target's infrastructure nor a source of its DNS records. A subject
	// taken from findings need not be in scope (a name server's domain
	// belongs to its operator, not to the target), and the answers are
	// facts only, so nothing pivots on them.
	Registry bool
}

// ProviderAttribute is one provider-specific config attribute.
type ProviderAttribute struct {
	Name        string
	Type        cty.Type
	Required    bool
	Sensitive   bool
	Description string
	// Default is shown by `reconform providers`; cty.NilVal for none.
	Default cty.Value
	// File: the value is the path of a file the provider reads,
	// relative to the engagement folder. Load reports one that does not
	// exist (or is not a regular file) at the attribute, once its value
	// is known, rather than every query failing at apply.
	File bool
}

// CommonProviderAttributes are accepted by every provider block.
var CommonProviderAttributes = []ProviderAttribute{
	{Name: "endpoint", Type: cty.String, Description: "Base URL (or address) of the service, for mirrors and tests."},
	{Name: "rate", Type: cty.String, Description: `Request rate, "N/s", "N/min", "N/h" or "N/day".`},
	{Name: "budget", Type: cty.Number, Description: "At most this many requests per run."},
	{Name: "timeout", Type: cty.String, Description: `Per-request timeout, a Go duration such as "30s".`},
	{Name: "cache_ttl", Type: cty.String, Description: `How long cached responses are reused, e.g. "24h"; "0s" disables the cache.`},
	{Name: "max_response_bytes", Type: cty.Number, Description: "Largest response body accepted, in bytes."},
	{Name: "quota", Type: cty.List(cty.String), Description: `The vendor's quotas for this key, counted across runs and engagements: e.g. ["500/day", "15500/month"]; [] for none. Default: the vendor's free tier.`},
	{Name: "quota_reset", Type: cty.String, Description: `When the quota's windows start, if not at 00:00 UTC on the 1st: a day of the month ("17"), a date or time ("2025-03-17T08:00:00Z"), or a time of day ("08:00").`},
}

// Answers reports whether the provider answers op.
func (p ProviderSchema) Answers(op Op) bool { _, ok := p.Ops[op]; return ok }

// IsActive reports whether any op of the provider is active.
func (p ProviderSchema) IsActive() bool {
	for _, t := range p.Ops {
		if t.Active {
			return true
		}
	}
	return false
}

// InstanceStatus is how a query instance ended in a run.
type InstanceStatus string

const (
	StatusPending   InstanceStatus = "pending"
	StatusOK        InstanceStatus = "ok"
	StatusCached    InstanceStatus = "cached" // answered from the response cache; counts as ok
	StatusFailed    InstanceStatus = "failed"
	StatusCancelled InstanceStatus = "cancelled"
	StatusSkipped   InstanceStatus = "skipped" // see Reason: budget, scope, depth, plan
)

// Succeeded reports whether the instance's answer is complete and can be
// trusted to say what is absent.
func (s InstanceStatus) Succeeded() bool { return s == StatusOK || s == StatusCached }

// InstanceResult is one query instance as it ended in a run.
type InstanceResult struct {
	Query Query  `json:"query"`
	Key   string `json:"key"`
	Block string `json:"block"` // "query.history" or "pivot.expand"
	// Blocks are every block that asked for the instance, Block first;
	// an instance several blocks ask for runs once and serves them all.
	Blocks   []string       `json:"blocks,omitempty"`
	Depth    int            `json:"depth"`
	Active   bool           `json:"active,omitempty"`
	Status   InstanceStatus `json:"status"`
	Reason   string         `json:"reason,omitempty"` // why skipped/failed, never a secret
	Requests int            `json:"requests,omitempty"`
	Findings int            `json:"findings"`
	// Truncated is set when findings of the instance were dropped for
	// max_findings_per_query or max_findings (Reason says which): it
	// succeeded, but did not report everything it found, so what it does
	// not report is not gone.
	Truncated bool `json:"truncated,omitempty"`
	// VerifiedAt is when the instance last succeeded, in this run or an
	// earlier one (zero: never). When a quota cannot cover a run, the
	// instances verified longest ago go first (engine/quota).
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// FindingIDs are the identities this instance reported.
	FindingIDs []string `json:"-"`
}
