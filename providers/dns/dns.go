// Package dns is the live DNS provider: it asks resolvers for the records
// a name has now (op resolve). It is active recon — the queries reach the
// target's name servers through the resolvers — so the engagement must say
// passive_only = false, and the engine only sends it in-scope subjects.
//
// For each name it asks A, AAAA, CNAME, MX, NS, TXT, SOA and CAA (or the
// query's rrtypes), in that order; an NXDOMAIN ends the name early (RFC
// 8020: nothing exists at or below it). For an IP it asks PTR at the
// reverse name and reports "203.0.113.10 PTR host.example", as passive
// sources do. Each question goes over UDP with EDNS0 (a 1232-byte buffer),
// again over TCP when the answer comes back truncated, again without EDNS0
// when a server answers FORMERR to it; tcp = true asks over TCP only.
//
// When TXT is asked of a name not starting with "_", TXT at _dmarc.<name>
// is asked too, so DMARC policies are seen for every domain and subdomain
// verified (leave TXT out of rrtypes to skip it). It is asked at every
// name, not only apexes: subdomains may publish their own policy, and
// telling an apex apart would need a public suffix list.
//
// Resolvers are the resolvers attribute, else the endpoint, else the
// nameservers of /etc/resolv.conf; see ParseResolver for the forms.
//
// Each question is tried on every resolver in turn, for 1 + retries
// rounds: a timeout or a network error moves on to the next resolver, and
// so do SERVFAIL and REFUSED (a resolver that said so is not asked that
// question again). Only when no resolver answers is the query an error
// (*providers.Error, KindTransient, retryable by the engine), except when
// every resolver said REFUSED: that is a policy (typically an
// authoritative server asked about a zone it does not serve), KindBadInput
// and not retried.
//
// Absence is a result, not an error. Answer.Facts carries one dns_status
// fact per queried name:
//
//	nxdomain  the name does not exist (no findings)
//	nodata    the name exists but has none of the asked types
//	noerror   the name has records of the asked types
//
// and a dangling_cname fact (Value: the missing target) when the name is a
// CNAME chain ending in a name that does not exist, a classic takeover
// candidate. Evidence lists the name's own findings (dns_status noerror)
// or the chain's CNAME records (dangling_cname).
//
// With wildcard_check = true, a dns_wildcard fact marks a name that only
// a wildcard record answers (wildcard.go).
//
// Findings follow CNAME chains: "www CNAME web" and "web A 203.0.113.20"
// are reported under their own owner names. Values are normalised by
// schema.NewFinding:
//
//	A, AAAA  canonical IP
//	CNAME, NS, DNAME, PTR  target name
//	MX       the exchange host, without the preference ("." for a null MX),
//	         as schema.MXHost makes it
//	TXT      the character-strings joined, unescaped
//	SOA      "mname rname serial refresh retry expire minimum", names
//	         without trailing dots (the serial moves with every zone edit)
//	CAA      `flag tag "value"`, e.g. `0 issue "letsencrypt.org"`
//
// Every finding is Current and Active, sourced from the provider instance,
// with FirstSeen = LastSeen = the time the query started.
//
// Referrals (a resolver that is an authoritative server for a parent zone
// answering with a delegation) are not answers: they fail the query with a
// message saying so, except that an NS question at the delegation point is
// answered by the referral's NS records.
package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	mdns "github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// DefaultRRTypes are the types asked when a query names none, in the
// order they are asked (A first: an NXDOMAIN there ends the name early).
var DefaultRRTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "CAA"}

// ReverseRRTypes are the types asked of an IP subject: its reverse name's
// PTR records.
var ReverseRRTypes = []string{"PTR"}

// Schema declares the dns provider type.
var Schema = schema.ProviderSchema{
	Type:        "dns",
	Description: "Live DNS through resolvers (active recon: only with passive_only = false).",
	Attributes: []schema.ProviderAttribute{
		{Name: "resolvers", Type: cty.List(cty.String), Description: "Resolver addresses: host, host:port, IPv6 or [IPv6]:port, optionally tcp:// for TCP only. Default: endpoint if set, else the nameservers of /etc/resolv.conf."},
		{Name: "retries", Type: cty.Number, Description: "Extra rounds over the resolvers after a timeout (0 to 10).", Default: cty.NumberIntVal(defaultRetries)},
		{Name: "wildcard_check", Type: cty.Bool, Description: "Ask A for a random name under each subject, and mark names that only a wildcard record answers with a dns_wildcard fact.", Default: cty.False},
		{Name: "tcp", Type: cty.Bool, Description: "Query over TCP only (false: UDP, and TCP when an answer is truncated).", Default: cty.False},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolve: {Active: true, Current: true, RRTypes: append(append([]string(nil), DefaultRRTypes...), ReverseRRTypes...)},
	},
	DefaultRate:    "50/s",
	DefaultTimeout: 5 * time.Second,
	// Live answers are never cached: a cached answer would not be live,
	// and the engine does not cache active ops anyway.
	DefaultCacheTTL: -1,
}

const (
	defaultRetries = 2
	maxRetries     = 10
	// ednsBufferSize is the DNS Flag Day 2020 recommendation: large enough
	// for most answers, small enough to avoid IP fragmentation.
	ednsBufferSize = 1232
	// maxChain bounds how many CNAME hops are followed in one answer.
	maxChain = 16
)

// resolvConf is the file read for default resolvers (a variable for tests).
var resolvConf = "/etc/resolv.conf"

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured dns instance.
type Provider struct {
	cfg       providers.Config
	resolvers []string
	rounds    int
	tcp       bool
	wildcard  bool
	timeout   time.Duration
	now       func() time.Time
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config. It reads resolv.conf when
// neither resolvers nor endpoint is set; it sends nothing.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	p := &Provider{cfg: cfg, tcp: cfg.Bool("tcp", false), wildcard: cfg.Bool("wildcard_check", false), timeout: cfg.Timeout, now: time.Now}
	if p.timeout <= 0 {
		p.timeout = Schema.DefaultTimeout
	}
	if p.cfg.Logger == nil {
		p.cfg.Logger = hclog.NewNullLogger()
	}
	retries := cfg.Int("retries", defaultRetries)
	if retries < 0 || retries > maxRetries {
		return nil, fmt.Errorf("provider %q: retries = %d: give a number from 0 to %d", cfg.Address, retries, maxRetries)
	}
	p.rounds = int(retries) + 1

	raw, err := resolverList(cfg)
	if err != nil {
		return nil, err
	}
	for _, r := range raw {
		addr, err := ParseResolver(r)
		if err != nil {
			return nil, fmt.Errorf("provider %q: resolvers: %w", cfg.Address, err)
		}
		p.resolvers = append(p.resolvers, addr)
	}
	if len(p.resolvers) == 0 {
		sys, err := systemResolvers(resolvConf)
		if err != nil {
			return nil, fmt.Errorf("provider %q: no resolvers set and the system's could not be read (%v); set resolvers = [\"192.0.2.53\"]", cfg.Address, err)
		}
		p.resolvers = sys
	}
	return p, nil
}

// resolverList returns the configured resolver addresses: the resolvers
// attribute, else the endpoint, else none.
func resolverList(cfg providers.Config) ([]string, error) {
	v, ok := cfg.Attrs["resolvers"]
	if !ok || v.IsNull() {
		if cfg.Endpoint != "" {
			return []string{cfg.Endpoint}, nil
		}
		return nil, nil
	}
	if !v.IsKnown() || !(v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType()) {
		return nil, fmt.Errorf("provider %q: resolvers must be a list of addresses", cfg.Address)
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || !e.IsKnown() || e.Type() != cty.String {
			return nil, fmt.Errorf("provider %q: resolvers must be a list of addresses", cfg.Address)
		}
		out = append(out, e.AsString())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("provider %q: resolvers is empty; remove it to use the system's resolvers", cfg.Address)
	}
	return out, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Resolvers returns the resolver addresses the instance asks, in order.
func (p *Provider) Resolvers() []string { return append([]string(nil), p.resolvers...) }

// Query resolves q.Subject now, for each asked record type.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	if q.Op != schema.OpResolve {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "the dns provider answers op resolve, not %s", q.Op)
	}
	if ok, why := p.cfg.Allows(q.Subject); !ok {
		return providers.Answer{}, refusal(p.cfg.Address, q.Subject.Value, why)
	}
	var name string
	var offered []string
	r := &run{p: p, now: p.now().UTC()}
	switch q.Subject.Kind {
	case schema.SubjectDomain:
		name, offered = schema.NormalizeName(q.Subject.Value), DefaultRRTypes
		if schema.IsWildcard(name) {
			// The engine never asks (engine.WildcardReason); a wildcard
			// name is no host, and its _dmarc and wildcard probes would
			// be no names at all.
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindBadInput, "%s is the name of a wildcard record, not a host to resolve", name)
		}
	case schema.SubjectIP:
		arpa, err := mdns.ReverseAddr(q.Subject.Value)
		if err != nil {
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindBadInput, "%s is not an IP address", q.Subject.Value)
		}
		name, offered = schema.NormalizeName(arpa), ReverseRRTypes
		r.reverse = q.Subject.Value
	default:
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported,
			"resolve asks about one name or IP, not the %s %s (that would be a sweep)", q.Subject.Kind, q.Subject.Value)
	}
	var types []string
	for _, t := range offered {
		if q.WantsType(t) {
			types = append(types, t)
		}
	}
	for _, t := range q.RRTypes {
		if !contains(offered, t) {
			r.ans.Warnings = append(r.ans.Warnings, fmt.Sprintf("%s: record type %s is not asked of a %s subject", q.Subject.Value, t, q.Subject.Kind))
		}
	}
	if len(types) == 0 {
		return r.ans, nil
	}

	status := "nodata"
	for _, t := range types {
		res, err := r.resolve(ctx, name, t)
		if err != nil {
			return providers.Answer{Requests: r.ans.Requests}, err
		}
		if res.nxdomain && !r.found(name) && !r.found(r.reverse) {
			status = "nxdomain"
			break // RFC 8020: nothing exists at or below the name
		}
	}
	if status != "nxdomain" && contains(types, "TXT") && !strings.HasPrefix(name, "_") {
		dmarc := "_dmarc." + name
		if schema.ValidateDomain(dmarc) == nil && p.allows(dmarc) {
			if _, err := r.resolve(ctx, dmarc, "TXT"); err != nil {
				return providers.Answer{Requests: r.ans.Requests}, err
			}
		}
	}
	if p.wildcard && r.reverse == "" && status != "nxdomain" && contains(types, "A") && !strings.HasPrefix(name, "_") {
		if err := r.checkWildcard(ctx, name); err != nil {
			return providers.Answer{Requests: r.ans.Requests}, err
		}
	}
	subject := name
	if r.reverse != "" {
		subject = r.reverse
	}
	if r.found(subject) {
		status = "noerror"
	}
	r.ans.Findings = providers.MergeFindings(r.ans.Findings)
	// Evidence lets a later run whose query fails keep the fact while the
	// records behind it are unverified, instead of reporting it gone.
	var evidence []string
	for _, f := range r.ans.Findings {
		if f.Name == subject {
			evidence = append(evidence, f.ID())
		}
	}
	r.ans.Facts = append(r.ans.Facts, schema.Fact{Subject: subject, Kind: "dns_status", Value: status, Evidence: evidence})
	r.ans.Facts = dedupeFacts(r.ans.Facts)
	return r.ans, nil
}

// run is the state of one Query: the answer being built.
type run struct {
	p *Provider
	// now is when the query started: the first and last seen time of
	// every finding of the answer.
	now time.Time
	// reverse is the IP of a reverse lookup: its PTR records are reported
	// under the IP (as passive sources do), not the in-addr.arpa name.
	reverse string
	ans     providers.Answer
	owners  map[string]bool // names with at least one finding
}

func (r *run) found(name string) bool { return r.owners[name] }

// result is what one question established.
type result struct {
	nxdomain bool // the name (or the end of its CNAME chain) does not exist
}

// resolve asks one question and adds its records to the answer.
func (r *run) resolve(ctx context.Context, name, rrtype string) (result, error) {
	qtype := mdns.StringToType[rrtype]
	resp, err := r.p.exchange(ctx, name, qtype, &r.ans.Requests)
	if err != nil {
		return result{}, err
	}
	records, chainEnd := answerRecords(resp, name, qtype)
	if len(records) == 0 && resp.Rcode == mdns.RcodeSuccess {
		if ns := referral(resp, name); len(ns) > 0 {
			cut := mdns.CanonicalName(ns[0].Header().Name)
			if qtype != mdns.TypeNS || cut != mdns.CanonicalName(name) {
				hint := ""
				if cut == mdns.CanonicalName(name) {
					// The parent's server knows the delegation itself.
					hint = `, or ask only rrtypes = ["NS"] for the delegation's name servers`
				}
				return result{}, &providers.Error{Provider: r.p.cfg.Address, Kind: providers.KindBadInput,
					Msg: fmt.Sprintf("%s %s: the resolver answered with a referral to %s instead of an answer (%s is delegated to another zone); set resolvers to a recursive resolver or to that zone's own authoritative server%s",
						name, rrtype, schema.NormalizeName(ns[0].(*mdns.NS).Ns), schema.NormalizeName(cut), hint)}
			}
			records = ns
		}
	}
	var chain []string // IDs of the CNAME/DNAME findings of this answer
	for _, rr := range records {
		f, ok := finding(rr)
		if !ok {
			continue
		}
		if f.Type == "CNAME" || f.Type == "DNAME" {
			chain = append(chain, f.ID())
		}
		if r.reverse != "" {
			if f.Type != "PTR" {
				continue // RFC 2317 CNAMEs between reverse names: plumbing
			}
			f.Name = r.reverse
		}
		f.Current, f.Active = true, true
		f.Sources = []string{r.p.cfg.Address}
		f.FirstSeen, f.LastSeen = r.now, r.now
		r.ans.Findings = append(r.ans.Findings, f)
		if r.owners == nil {
			r.owners = map[string]bool{}
		}
		r.owners[f.Name] = true
	}
	res := result{nxdomain: resp.Rcode == mdns.RcodeNameError}
	if res.nxdomain && chainEnd != name && r.reverse == "" {
		r.ans.Facts = append(r.ans.Facts, schema.Fact{Subject: name, Kind: "dangling_cname", Value: chainEnd, Evidence: chain})
	}
	return res, nil
}

// answerRecords returns the answer's records that answer (name, qtype):
// the CNAME chain from name (and any DNAME that synthesised it) and the
// records of qtype owned by a name on the chain. chainEnd is the last name
// of the chain, normalised.
func answerRecords(resp *mdns.Msg, name string, qtype uint16) (records []mdns.RR, chainEnd string) {
	chain := []string{mdns.CanonicalName(name)}
	onChain := map[string]bool{chain[0]: true}
	for len(chain) <= maxChain {
		cur := chain[len(chain)-1]
		next := ""
		for _, rr := range resp.Answer {
			if c, ok := rr.(*mdns.CNAME); ok && mdns.CanonicalName(c.Hdr.Name) == cur {
				next = mdns.CanonicalName(c.Target)
				break
			}
		}
		if next == "" || onChain[next] || qtype == mdns.TypeCNAME {
			break
		}
		chain = append(chain, next)
		onChain[next] = true
	}
	for _, rr := range resp.Answer {
		owner := mdns.CanonicalName(rr.Header().Name)
		switch rr.Header().Rrtype {
		case qtype, mdns.TypeCNAME:
			if onChain[owner] {
				records = append(records, rr)
			}
		case mdns.TypeDNAME:
			for _, n := range chain {
				if n != owner && mdns.IsSubDomain(owner, n) {
					records = append(records, rr)
					break
				}
			}
		}
	}
	return records, schema.NormalizeName(chain[len(chain)-1])
}

// referral returns the NS records of a delegation answer: no answer, not
// authoritative, NS records and no SOA in the authority section.
func referral(resp *mdns.Msg, name string) []mdns.RR {
	if len(resp.Answer) > 0 || resp.Authoritative {
		return nil
	}
	var ns []mdns.RR
	for _, rr := range resp.Ns {
		switch rr := rr.(type) {
		case *mdns.SOA:
			return nil
		case *mdns.NS:
			if mdns.IsSubDomain(rr.Hdr.Name, mdns.Fqdn(name)) {
				ns = append(ns, rr)
			}
		}
	}
	return ns
}

// finding turns one record into a normalised finding.
func finding(rr mdns.RR) (schema.Finding, bool) {
	owner := rr.Header().Name
	var t, v string
	switch rr := rr.(type) {
	case *mdns.A:
		t, v = "A", rr.A.String()
	case *mdns.AAAA:
		t, v = "AAAA", rr.AAAA.String()
	case *mdns.CNAME:
		t, v = "CNAME", rr.Target
	case *mdns.DNAME:
		t, v = "DNAME", rr.Target
	case *mdns.NS:
		t, v = "NS", rr.Ns
	case *mdns.PTR:
		t, v = "PTR", rr.Ptr
	case *mdns.MX:
		t, v = "MX", strconv.Itoa(int(rr.Preference))+" "+rr.Mx
	case *mdns.TXT:
		// Presentation form ("a" "b", escaped as miekg/dns keeps them);
		// NormalizeValue joins and unescapes the character-strings.
		t, v = "TXT", `"`+strings.Join(rr.Txt, `" "`)+`"`
	case *mdns.SOA:
		t, v = "SOA", strings.Join([]string{schema.NormalizeName(rr.Ns), schema.NormalizeName(rr.Mbox),
			strconv.FormatUint(uint64(rr.Serial), 10), strconv.FormatUint(uint64(rr.Refresh), 10),
			strconv.FormatUint(uint64(rr.Retry), 10), strconv.FormatUint(uint64(rr.Expire), 10),
			strconv.FormatUint(uint64(rr.Minttl), 10)}, " ")
	case *mdns.CAA:
		t, v = "CAA", strings.TrimPrefix(rr.String(), rr.Hdr.String())
	default:
		return schema.Finding{}, false
	}
	f := schema.NewFinding(owner, t, v)
	if f.Name == "" || (f.Value == "" && t != "TXT") {
		return schema.Finding{}, false
	}
	return f, true
}

// dedupeFacts sorts facts and drops repeated identities (a dangling chain
// is seen once per asked type).
func dedupeFacts(facts []schema.Fact) []schema.Fact {
	schema.SortFacts(facts)
	out := facts[:0]
	for _, f := range facts {
		if len(out) == 0 || out[len(out)-1].ID() != f.ID() {
			out = append(out, f)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// errTimeout is a question no resolver answered within the timeout.
var errTimeout = errors.New("timed out")

// errRcode is a response code that is not an answer.
type errRcode struct {
	rcode  int
	server string
}

func (e errRcode) Error() string {
	return fmt.Sprintf("%s from %s", mdns.RcodeToString[e.rcode], e.server)
}

// allows reports whether the scope lets us ask about name, logging the
// lookups it keeps us from (an excluded _dmarc name, a probe).
func (p *Provider) allows(name string) bool {
	ok, why := p.cfg.Allows(questionSubject(name))
	if !ok {
		p.cfg.Logger.Debug("not asked: out of scope", "name", name, "why", why)
	}
	return ok
}

// questionSubject is the subject a question is about, for the scope: the
// IP of a reverse name (ptr of 20.113.0.203.in-addr.arpa is about
// 203.0.113.20), else the name.
func questionSubject(name string) schema.Subject {
	name = schema.NormalizeName(name)
	if a, ok := reverseAddr(name); ok {
		return schema.Subject{Kind: schema.SubjectIP, Value: a.String()}
	}
	return schema.Subject{Kind: schema.SubjectDomain, Value: name}
}

// reverseAddr is the address a complete reverse name stands for.
func reverseAddr(name string) (netip.Addr, bool) {
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		labels := strings.Split(rest, ".")
		if len(labels) != 4 {
			return netip.Addr{}, false
		}
		slices.Reverse(labels)
		a, err := netip.ParseAddr(strings.Join(labels, "."))
		return a, err == nil
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		nibbles := strings.Split(rest, ".")
		if len(nibbles) != 32 {
			return netip.Addr{}, false
		}
		slices.Reverse(nibbles)
		var b strings.Builder
		for i, n := range nibbles {
			if len(n) != 1 {
				return netip.Addr{}, false
			}
			if i > 0 && i%4 == 0 {
				b.WriteByte(':')
			}
			b.WriteString(n)
		}
		a, err := netip.ParseAddr(b.String())
		return a, err == nil
	}
	return netip.Addr{}, false
}

// scopeError is a question the scope does not allow; send refuses it.
type scopeError struct{ name, why string }

func (e scopeError) Error() string { return e.name + " is out of scope (" + e.why + ")" }

// refusal is the error of a question refused as out of scope: not sent,
// and not worth asking again.
func refusal(provider, name, why string) *providers.Error {
	return &providers.Error{Provider: provider, Kind: providers.KindBadInput,
		Msg: fmt.Sprintf("refused: %s is out of scope (%s); active lookups only run on in-scope subjects, so nothing was sent", name, why)}
}

// exchange asks (name, qtype) until a resolver answers NOERROR or
// NXDOMAIN, counting every packet sent in *sent.
func (p *Provider) exchange(ctx context.Context, name string, qtype uint16, sent *int) (*mdns.Msg, error) {
	var lastErr error
	done := make([]bool, len(p.resolvers)) // answered SERVFAIL/REFUSED/...: not asked again
	attempts, refused := 0, 0
	var outOfScope scopeError
	for round := 0; round < p.rounds; round++ {
		for i, server := range p.resolvers {
			if done[i] {
				continue
			}
			attempts++
			resp, err := p.ask(ctx, server, name, qtype, sent)
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case errors.Is(err, providers.ErrBudgetExhausted):
				return nil, err
			case errors.As(err, &outOfScope):
				return nil, refusal(p.cfg.Address, outOfScope.name, outOfScope.why)
			default:
				p.cfg.Logger.Debug("no answer", "name", name, "type", mdns.TypeToString[qtype], "resolver", server, "error", err)
				lastErr = err
				continue
			}
			if resp.Rcode == mdns.RcodeSuccess || resp.Rcode == mdns.RcodeNameError {
				return resp, nil
			}
			p.cfg.Logger.Debug("resolver refused the question", "name", name, "type", mdns.TypeToString[qtype], "resolver", server, "rcode", mdns.RcodeToString[resp.Rcode])
			done[i] = true
			lastErr = errRcode{rcode: resp.Rcode, server: server}
			if resp.Rcode == mdns.RcodeRefused {
				refused++
			}
		}
	}
	qs := name + " " + mdns.TypeToString[qtype]
	if refused == len(p.resolvers) {
		// REFUSED is a policy, not a failure: asking again gives the same
		// answer, so the engine must not retry it.
		return nil, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindBadInput,
			Msg: fmt.Sprintf("%s: REFUSED by %s: an authoritative server that does not serve this name's zone, or a resolver that does not answer us; set resolvers to one that serves it",
				qs, strings.Join(p.resolvers, ", "))}
	}
	var rc errRcode
	if errors.As(lastErr, &rc) {
		switch rc.rcode {
		case mdns.RcodeServerFailure, mdns.RcodeRefused:
			return nil, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindTransient, Retryable: true,
				Msg: fmt.Sprintf("%s: no resolver answered", qs), Err: lastErr}
		default:
			return nil, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindBadInput,
				Msg: fmt.Sprintf("%s: the resolver rejected the question", qs), Err: lastErr}
		}
	}
	if errors.Is(lastErr, errTimeout) {
		return nil, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindTransient, Retryable: true,
			Msg: fmt.Sprintf("%s: timed out: no answer from %s within %s (%d %s)", qs, strings.Join(p.resolvers, ", "), p.timeout, attempts, plural(attempts, "attempt", "attempts"))}
	}
	return nil, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindTransient, Retryable: true,
		Msg: fmt.Sprintf("%s: no answer from %s in %d %s of %s", qs, strings.Join(p.resolvers, ", "), attempts, plural(attempts, "attempt", "attempts"), p.timeout), Err: lastErr}
}

// ask sends one question to one resolver: UDP with EDNS0 (or TCP when tcp
// = true), again over TCP when the UDP answer is truncated, and again
// without EDNS0 when the server does not understand it (FORMERR).
func (p *Provider) ask(ctx context.Context, server, name string, qtype uint16, sent *int) (*mdns.Msg, error) {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	m.SetEdns0(ednsBufferSize, false)
	network, server := splitResolver(server)
	if p.tcp {
		network = "tcp"
	}
	resp, err := p.send(ctx, network, server, m, sent)
	if err == nil && resp.Rcode == mdns.RcodeFormatError {
		m.Extra = nil
		resp, err = p.send(ctx, network, server, m, sent)
	}
	if resp != nil && resp.Truncated && network == "udp" {
		p.cfg.Logger.Debug("answer truncated, retrying over TCP", "name", name, "type", mdns.TypeToString[qtype], "resolver", server)
		resp, err = p.send(ctx, "tcp", server, m, sent)
	}
	if err != nil {
		return nil, err
	}
	if len(resp.Question) > 0 {
		q := resp.Question[0]
		if len(resp.Question) != 1 || q.Qtype != qtype || mdns.CanonicalName(q.Name) != mdns.CanonicalName(name) {
			return nil, fmt.Errorf("%s answered another question (%s %s)", server, q.Name, mdns.TypeToString[q.Qtype])
		}
	}
	return resp, nil
}

// send sends m once over network, after the scope and the gate allow it,
// within the per-query timeout; cancelling ctx closes the connection at
// once. Every packet the provider sends passes here, so the scope check
// here holds for all of them, whatever asked.
func (p *Provider) send(ctx context.Context, network, server string, m *mdns.Msg, sent *int) (*mdns.Msg, error) {
	for _, q := range m.Question {
		subj := questionSubject(q.Name)
		if ok, why := p.cfg.Allows(subj); !ok {
			return nil, scopeError{name: subj.Value, why: why}
		}
	}
	if err := p.cfg.Gate.Wait(ctx); err != nil {
		return nil, err
	}
	*sent++
	qctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	c := &mdns.Client{Net: network, Timeout: p.timeout, UDPSize: ednsBufferSize}
	conn, err := c.DialContext(qctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(qctx, func() { conn.Close() })
	defer stop()
	m.Id = mdns.Id()
	resp, _, err := c.ExchangeWithConnContext(qctx, m, conn)
	if err != nil && resp != nil && resp.Truncated {
		// A truncated answer may not unpack completely; its TC bit is
		// all the caller needs.
		return resp, nil
	}
	if err != nil {
		// The deadline may close the socket before the read times out;
		// either way the resolver was silent, and the message says so
		// rather than "use of closed network connection".
		var ne net.Error
		if ctx.Err() == nil && (errors.Is(qctx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()) {
			return nil, errTimeout
		}
		return nil, err
	}
	return resp, nil
}
