package schema

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Config is a loaded engagement: every block of every *.hcl file in one
// folder, decoded and checked. Expressions that depend on run results
// (query.<name>.findings, finding.*) are kept unevaluated and evaluated by
// the engine through EvalSubjects and EvalPivot.
type Config struct {
	Dir   string
	Files map[string]*hcl.File // by file name, for diagnostic snippets
	// Hash is a stable hash of the engagement's source files (names and
	// contents) plus the variable values in force; a saved plan records it.
	Hash string

	Engagement Engagement
	Variables  map[string]*Variable
	Locals     map[string]cty.Value
	Scope      Scope
	Providers  map[string]*ProviderBlock // by address: "securitytrails", "file.sonar"
	// Targets, Queries, Pivots and Outputs hold every instance of every
	// block of every module, by address (BlockAddr.String(),
	// OutputAddr.String()): "target.domain.apex", "query.history",
	// `module.footprint["acme.example"].query.history`.
	Targets map[string]*Target
	Queries map[string]*QueryBlock
	Pivots  map[string]*PivotBlock
	Outputs map[string]*OutputBlock
	// Checks are the check blocks, sorted by name; Notifiers the notify
	// blocks by address ("slack.secops"). Both are the root module's.
	Checks    []*CheckBlock
	Notifiers map[string]*NotifyBlock

	// Root is the root module; Modules every module instance by address
	// ("" for the root). A Config built by hand may leave them nil: the
	// root is then made from the maps above.
	Root    *Module
	Modules map[string]*Module

	// environ is the environment env() reads.
	environ   []string
	funcsOnce sync.Once
	funcs     map[string]function.Function
}

// Engagement is the engagement block.
type Engagement struct {
	Name        string
	Description string
	PassiveOnly bool // default true
	MaxDepth    int  // 0: unset
	// MaxFindings bounds the findings of one run, MaxFindingsPerQuery
	// those of one query instance (defaults DefaultMaxFindings and
	// DefaultMaxFindingsPerQuery; 0: no bound). Findings beyond them are
	// dropped with a warning; the run goes on.
	MaxFindings, MaxFindingsPerQuery int
	// State is the state file path, absolute or relative to Config.Dir;
	// default "reconform.rfstate".
	State string
	// CurrentWindow: a finding whose last_seen is within this of the run
	// is current (default 30 days). ForgetAfter: an unverified finding
	// older than this is dropped (0: never).
	CurrentWindow time.Duration
	ForgetAfter   time.Duration
	// Ignore rules hide known churn from drift and exit codes (not from
	// the state).
	Ignore []IgnoreRule
	// ASNTable is an optional iptoasn TSV file (path relative to
	// Config.Dir) for the analysis of IP ranges and hosting.
	ASNTable string
	// VerifyEvery is how often every subject should be verified
	// (verify_every = "7d"); plan says whether the providers' quotas
	// allow it. 0: unset.
	VerifyEvery time.Duration
	// HistoryKeep is how much of the state's history to keep
	// (history_keep); zero keeps everything.
	HistoryKeep HistoryKeep
	// Backend is the backend block: where runs keep the state, its
	// history, the lock and the response cache. Nil: local files.
	Backend   *BackendBlock
	DeclRange hcl.Range
}

// HistoryKeep is the history's retention: the Count newest past states,
// or those that were current within Age of now. The zero value keeps
// everything; the current state is always kept.
type HistoryKeep struct {
	Count int
	Age   time.Duration
}

// KeepsAll reports whether nothing is ever pruned.
func (k HistoryKeep) KeepsAll() bool { return k.Count <= 0 && k.Age <= 0 }

// String is the setting as the engagement writes it.
func (k HistoryKeep) String() string {
	switch {
	case k.Count > 0:
		return fmt.Sprintf("%d states", k.Count)
	case k.Age > 0:
		if k.Age%(24*time.Hour) == 0 {
			return fmt.Sprintf("%dd", k.Age/(24*time.Hour))
		}
		return k.Age.String()
	}
	return "everything"
}

// BackendBlock is backend "TYPE" { ... } inside the engagement block,
// Terraform's shape: backend "pg" { conn_str = env("RECONFORM_PG_CONN") }.
type BackendBlock struct {
	// Type is "local" or "pg".
	Type string
	// Attrs holds every argument evaluated, defaults filled in (pg:
	// conn_str from RECONFORM_PG_CONN when unset, schema_name
	// "reconform"). Sensitive names those that must never be printed or
	// stored (conn_str always).
	Attrs     map[string]cty.Value
	Sensitive map[string]bool
	DeclRange hcl.Range
}

// String returns the argument name as a Go string ("" when unset).
func (b *BackendBlock) String(name string) string {
	if b == nil {
		return ""
	}
	v, ok := b.Attrs[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// IgnoreRule matches findings to leave out of drift. Empty fields match
// anything; Name is a glob ("*.cdn.acme.example"); Value is a glob or,
// for A/AAAA, a CIDR.
type IgnoreRule struct {
	Name, Type, Value string
	Reason            string
	DeclRange         hcl.Range
}

// Variable is a variable block with its resolved value.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	Default     cty.Value
	Sensitive   bool
	Value       cty.Value
	DeclRange   hcl.Range
}

// Scope is the scope block: what may be queried and pivoted to.
type Scope struct {
	Domains   []string       // a domain covers its subdomains
	CIDRs     []netip.Prefix // IPs inside are in scope; a bare IP is a /32 or /128
	Exclude   []string       // names (and their subdomains), IPs or CIDRs taken out
	DeclRange hcl.Range
}

// ProviderBlock is one provider block.
type ProviderBlock struct {
	Type    string
	Name    string // "" for the default instance
	Address string // "type" or "type.name"
	// Attrs holds every attribute evaluated (sensitive ones included).
	// Sensitive lists the names that must never be printed or stored.
	Attrs     map[string]cty.Value
	Sensitive map[string]bool

	Endpoint         string
	Rate             Rate // zero: unlimited
	Budget           int  // 0: unlimited
	Timeout          time.Duration
	CacheTTL         time.Duration // -1: caching disabled
	MaxResponseBytes int64
	// Quota are the vendor's request quotas for the block's key, shared
	// with every other use of the key: the provider type's documented
	// free tier unless the block sets quota (quota = [] sets none).
	// QuotaReset is when their windows start (schema.ParseQuotaReset);
	// zero means calendar boundaries in UTC.
	Quota      []QuotaLimit
	QuotaReset time.Time
	DeclRange  hcl.Range
}

// Target is one instance of a target block: target "domain" "apex" {
// name = ... }, target "ip" "mx" { address = ... }, target "cidr" "net"
// { cidr = ... }.
type Target struct {
	Kind      SubjectKind
	Name      string
	Subject   Subject
	DeclRange hcl.Range
	// Addr is the instance's address; Module the module instance it is
	// in (nil: the root).
	Addr   BlockAddr
	Module *Module
}

// Address is the target's address: "target.domain.apex",
// `module.footprint["acme.example"].target.domain.apex`.
func (t *Target) Address() string {
	if t.Addr.Name == "" {
		return BlockAddr{Kind: KindTarget, Type: string(t.Kind), Name: t.Name}.String()
	}
	return t.Addr.String()
}

// QueryBlock is a query block.
type QueryBlock struct {
	Name        string
	Description string   // optional, for people reading the plan
	Providers   []string // provider addresses
	Op          Op
	// Subjects is the subjects expression, evaluated by EvalSubjects once
	// the blocks it references have findings.
	Subjects hcl.Expression
	RRTypes  []string          // upper-case, sorted
	Params   map[string]string // other settings passed to the provider
	// DependsOn are the block addresses ("query.history", "pivot.expand")
	// that Subjects references, directly or through module outputs.
	DependsOn []string
	DeclRange hcl.Range
	// Addr is the instance's address, Module its module instance (nil:
	// the root) and Each its each.key/each.value or count.index.
	Addr   BlockAddr
	Module *Module
	Each   Each
}

// Address is the query instance's address: "query.history",
// `module.footprint["acme.example"].query.history`.
func (q *QueryBlock) Address() string {
	if q.Addr.Name == "" {
		return KindQuery + "." + q.Name
	}
	return q.Addr.String()
}

// PivotBlock is a pivot block: a rule applied to each finding of the
// blocks in From (and, recursively, to its own findings).
type PivotBlock struct {
	Name        string
	Description string         // optional, for people reading the plan
	From        []string       // block addresses
	When        hcl.Expression // nil: always; refers to finding.*
	Providers   []string
	Op          Op
	Subject     hcl.Expression // refers to finding.*
	RRTypes     []string
	Params      map[string]string
	MaxDepth    int // 0: the engagement's max_depth
	DeclRange   hcl.Range
	Addr        BlockAddr
	Module      *Module
}

// Address is the pivot's address: "pivot.expand",
// `module.footprint["acme.example"].pivot.expand`.
func (p *PivotBlock) Address() string {
	if p.Addr.Name == "" {
		return KindPivot + "." + p.Name
	}
	return p.Addr.String()
}

// OutputBlock is one output block of one module instance.
type OutputBlock struct {
	Name        string
	Description string
	Value       hcl.Expression
	// Sensitive outputs are not printed after apply nor in the list of
	// reconform output.
	Sensitive bool
	// DependsOn are the blocks whose findings the value reads.
	DependsOn []string
	Addr      OutputAddr
	Module    *Module
	DeclRange hcl.Range
	// loadValue is the value as far as it is known at load time.
	loadValue cty.Value
}

// Address is the output's address: "hosts",
// `module.footprint["acme.example"].hosts`.
func (o *OutputBlock) Address() string { return o.Addr.String() }

// Rate is a request rate: Count requests per Per.
type Rate struct {
	Count int
	Per   time.Duration
}

// IsZero reports an unset (unlimited) rate.
func (r Rate) IsZero() bool { return r.Count == 0 || r.Per == 0 }

// PerSecond is the rate as requests per second (0 when unlimited).
func (r Rate) PerSecond() float64 {
	if r.IsZero() {
		return 0
	}
	return float64(r.Count) / r.Per.Seconds()
}
