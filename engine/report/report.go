// Package report renders an engagement's state as a report a person reads
// (Markdown, a self-contained HTML page with an SVG timeline), as exports
// other tools read (JSON, CSV, COF NDJSON), and as a relationship graph
// (Graphviz DOT, Mermaid). Every renderer is deterministic: the same input
// gives the same bytes, so reports live in git and golden files.
package report

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// Input is everything a report shows.
type Input struct {
	Engagement  string
	GeneratedAt time.Time
	// Serial and Lineage identify the state reported on; RunFinished is
	// when its last run ended.
	Serial      uint64
	Lineage     string
	RunFinished time.Time
	Findings    []Finding
	// Facts are the state's derived facts; when empty, the report derives
	// them from the findings.
	Facts     []schema.Fact
	Instances []schema.InstanceResult
	// Drift since the previous state; nil when there is none.
	Drift *diff.Result
	// Scope lists the engagement's domains. The timeline, profile and
	// graph show names under them; without a scope, names found only by
	// reverse lookups (neighbours) are left out of those sections.
	Scope []string
	// Checks are the results of the engagement's check blocks on this
	// state; the failed ones lead the reports.
	Checks []CheckResult
}

// Finding is a finding as a report shows it.
type Finding struct {
	schema.Finding
	// Unverified is why the last run could not confirm it ("" when it did).
	Unverified string
}

// FromState builds the input for a state.
func FromState(s *state.State) Input {
	in := Input{
		Engagement:  s.Engagement,
		Serial:      s.Serial,
		Lineage:     s.Lineage,
		RunFinished: s.Run.FinishedAt,
		Facts:       s.Facts,
		Instances:   s.Instances,
	}
	for i := range s.Findings {
		f := s.Findings[i].Finding
		f.Current = s.Findings[i].IsCurrent()
		in.Findings = append(in.Findings, Finding{Finding: f, Unverified: s.Findings[i].Unverified})
	}
	for _, c := range s.Checks {
		// A check that could not be evaluated shows its diagnostic.
		msgs := append(append([]string(nil), c.Messages...), c.Diagnostics...)
		in.Checks = append(in.Checks, CheckResult{Name: c.Name, Severity: c.Severity, Status: string(c.Status), Messages: msgs})
	}
	return in
}

// Formats are the formats Render knows.
var Formats = []string{"md", "html", "json", "csv", "cof", "dot", "mermaid", "graphml", "stix", "misp"}

// Render writes the report in format to w.
func Render(w io.Writer, format string, in Input) error {
	m := build(in)
	switch format {
	case "md", "markdown":
		return m.markdown(w)
	case "html":
		return m.html(w)
	case "json":
		return m.json(w)
	case "csv":
		return m.csv(w)
	case "cof":
		return m.cof(w)
	case "dot":
		return m.dot(w)
	case "mermaid":
		return m.mermaid(w)
	case "graphml":
		return m.graphml(w)
	case "stix":
		return m.stix(w)
	case "misp":
		return m.misp(w)
	}
	return fmt.Errorf("unknown report format %q; use one of %s", format, strings.Join(Formats, ", "))
}

// model is the input with everything the renderers share worked out.
type model struct {
	in       Input
	findings []Finding // sorted by identity
	facts    []schema.Fact
	shown    map[string]bool // names the profile, timeline and graph show
	// shownParents are the shown names and every domain above them.
	shownParents map[string]bool
	hostsOnly    []string // shown names known without any record
	timeline     []analysis.NameTimeline
	profiles     []Profile
	saas         []SaaSRow
	hosted       []HostedRow
	ranges       []RangeRow
	byAS         []ASRow
	shared       []SharedRow
	related      []RelatedRow
	gone         []string // findings live DNS no longer answers
	verified     int      // findings live DNS judged
	warnings     []string
	attention    attention
	summary      Summary
}

// Profile is a domain's technology profile.
type Profile struct {
	Domain        string   `json:"domain"`
	Mail          []string `json:"mail,omitempty"`
	MailPast      []string `json:"mail_past,omitempty"`
	MX            []string `json:"mx,omitempty"`
	DNS           []string `json:"dns,omitempty"`
	DNSPast       []string `json:"dns_past,omitempty"`
	NS            []string `json:"ns,omitempty"`
	SPF           string   `json:"spf,omitempty"`
	SPFLookups    string   `json:"spf_lookups,omitempty"`
	SPFError      string   `json:"spf_error,omitempty"`
	SPFRedirect   string   `json:"spf_redirect,omitempty"`
	SPFIncludes   []string `json:"spf_includes,omitempty"`
	Senders       []string `json:"mail_senders,omitempty"`
	DMARC         string   `json:"dmarc,omitempty"`
	DMARCSub      string   `json:"dmarc_subdomains,omitempty"`
	DMARCPct      string   `json:"dmarc_pct,omitempty"`
	DMARCFrom     string   `json:"dmarc_from,omitempty"` // the organisational domain whose sp applies
	DMARCReports  []string `json:"dmarc_rua,omitempty"`
	DMARCVendors  []string `json:"dmarc_vendors,omitempty"`
	SaaS          []string `json:"saas,omitempty"`
	SaaSPast      []string `json:"saas_past,omitempty"`
	Verdicts      []string `json:"verdicts,omitempty"`
	SPFPermissive bool     `json:"spf_permissive,omitempty"`
}

// SaaSRow is one service whose verification token a name carries.
type SaaSRow struct {
	Subject string `json:"subject"`
	Service string `json:"service"`
	Current bool   `json:"current"`
	Token   string `json:"token"`
	// Record is the TXT record's name when it is not the subject: a token
	// in the name (_github-challenge-ORG.example) names the account.
	Record string `json:"record,omitempty"`
}

// HostedRow is a name served by a hosted service through a CNAME.
type HostedRow struct {
	Name    string `json:"name"`
	Service string `json:"service"`
	Target  string `json:"target"`
	Current bool   `json:"current"`
}

// RangeRow is one /24 or /48 with the addresses seen in it.
type RangeRow struct {
	Prefix string   `json:"prefix"`
	IPs    []string `json:"ips"`
	ASNs   []string `json:"asns,omitempty"`
}

// ASRow is one autonomous system (from the iptoasn table) with the
// ranges and addresses seen in it.
type ASRow struct {
	AS     string   `json:"as"` // "AS64500 EXAMPLE-ORG"
	Ranges []string `json:"ranges"`
	IPs    int      `json:"ips"`
}

// SharedRow is an IP hosting several registered domains.
type SharedRow struct {
	IP      string   `json:"ip"`
	Domains int      `json:"registered_domains"`
	Others  int      `json:"other_domains"` // registered domains none of our names is under
	Shared  bool     `json:"shared_hosting"`
	Ours    []string `json:"in_scope_names,omitempty"`
	Sample  []string `json:"neighbours,omitempty"`
}

// RelatedRow is a name server or mail server of the target that other
// domains use too: name-server and MX correlation.
type RelatedRow struct {
	Server  string   `json:"server"`
	Type    string   `json:"type"` // NS or MX
	Ours    []string `json:"in_scope_domains"`
	Others  []string `json:"other_domains"`
	Current bool     `json:"current"`
}

// Summary counts what the state holds.
type Summary struct {
	Findings   int            `json:"findings"`
	Current    int            `json:"current"`
	Historical int            `json:"historical"`
	Unverified int            `json:"unverified"`
	Names      int            `json:"names"`
	IPs        int            `json:"ips"`
	Ranges     int            `json:"ranges"`
	Moves      int            `json:"moves"`
	Facts      int            `json:"facts"`
	Instances  map[string]int `json:"instances"`
}

// Renormalize brings a finding of a state written by hand or by another
// tool (upper case, trailing dots, quoted TXT) to the form reconform's
// providers give, and reports whether it changed: facts derived from the
// raw values are then wrong.
func Renormalize(f *schema.Finding) bool {
	n := schema.NewFinding(f.Name, f.Type, f.Value)
	if n.Name == f.Name && n.Type == f.Type && n.Value == f.Value {
		return false
	}
	f.Name, f.Type, f.Value = n.Name, n.Type, n.Value
	return true
}

func build(in Input) *model {
	m := &model{in: in}
	m.findings = append([]Finding(nil), in.Findings...)
	// A state written by hand or by another tool may hold names with
	// upper case or a trailing dot and TXT in presentation format: the
	// report reads them as reconform's providers would have written them.
	renormalised := false
	for i := range m.findings {
		if Renormalize(&m.findings[i].Finding) {
			renormalised = true
		}
	}
	sort.Slice(m.findings, func(i, j int) bool { return lessFinding(&m.findings[i].Finding, &m.findings[j].Finding) })
	plain := make([]schema.Finding, len(m.findings))
	for i := range m.findings {
		plain[i] = m.findings[i].Finding
	}
	m.facts = append([]schema.Fact(nil), in.Facts...)
	if renormalised || len(m.facts) == 0 {
		// Facts derived from raw values are wrong, and a state without
		// facts has none derived yet: derive them (once), keeping those a
		// provider reported.
		var kept []schema.Fact
		for _, f := range m.facts {
			if !analysis.IsDerivedKind(f.Kind) {
				kept = append(kept, f)
			}
		}
		m.facts = append(kept, analysis.Derive(plain, analysis.Options{Scope: in.Scope, Facts: kept})...)
	}
	schema.SortFacts(m.facts)
	m.shown = shownNames(m.findings, in.Scope)
	withRecords := map[string]bool{}
	for _, tl := range analysis.Timeline(plain) {
		withRecords[tl.Name] = true
		if m.shown[tl.Name] {
			m.timeline = append(m.timeline, tl)
		}
	}
	for _, f := range m.findings {
		if f.Type == schema.TypeHost && m.shown[f.Name] && !withRecords[f.Name] {
			m.hostsOnly = append(m.hostsOnly, f.Name)
		}
	}
	m.buildProfiles()
	m.buildSaaS()
	m.buildHosted()
	m.buildRanges()
	m.buildShared()
	m.buildRelated()
	m.buildVerified()
	m.buildSummary()
	return m
}

func lessFinding(a, b *schema.Finding) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.Value < b.Value
}

// shownNames picks the names the narrative sections show: those under
// the scope, or without one, every name some forward query found.
func shownNames(fs []Finding, scope []string) map[string]bool {
	shown := map[string]bool{}
	if len(scope) > 0 {
		for _, f := range fs {
			for _, d := range scope {
				if analysis.UnderDomain(f.Name, schema.NormalizeName(d)) {
					shown[f.Name] = true
				}
			}
		}
		return shown
	}
	anyQuery := false
	for _, f := range fs {
		anyQuery = anyQuery || f.Query != ""
	}
	if !anyQuery {
		// A state that does not say which query found what (written by
		// hand or another tool): the target is the registered domains
		// with records of their own beyond addresses (NS, MX, TXT, ...);
		// reverse-IP neighbours come with addresses only.
		ours := map[string]bool{}
		for _, f := range fs {
			switch f.Type {
			case "A", "AAAA", "PTR", schema.TypeHost:
			default:
				ours[analysis.RegisteredDomain(f.Name)] = true
			}
		}
		for _, f := range fs {
			if len(ours) == 0 || ours[analysis.RegisteredDomain(f.Name)] {
				shown[f.Name] = true
			}
		}
		return shown
	}
	for _, f := range fs {
		if !isReverse(f.Query) {
			shown[f.Name] = true
		}
	}
	return shown
}

// isReverse reports whether a query key ("provider op subject ...") is of
// a reverse lookup, whose answers are neighbours rather than the target.
func isReverse(key string) bool {
	fields := strings.Fields(key)
	if len(fields) < 2 {
		return false
	}
	switch schema.Op(fields[1]) {
	case schema.OpReverseIP, schema.OpNSReverse, schema.OpMXReverse:
		return true
	}
	return false
}

func (m *model) factsOf(kind string) []schema.Fact {
	var out []schema.Fact
	for _, f := range m.facts {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

func (m *model) buildProfiles() {
	byDomain := map[string]*Profile{}
	get := func(d string) *Profile {
		p := byDomain[d]
		if p == nil {
			p = &Profile{Domain: d}
			byDomain[d] = p
		}
		return p
	}
	for _, f := range m.facts {
		if strings.HasPrefix(f.Subject, "_") && f.Kind != "mail_provider" && f.Kind != "dns_provider" {
			continue
		}
		switch f.Kind {
		case "mail_provider":
			get(f.Subject).Mail = append(get(f.Subject).Mail, f.Value)
		case "mail_provider_past":
			get(f.Subject).MailPast = append(get(f.Subject).MailPast, f.Value)
		case "dns_provider":
			get(f.Subject).DNS = append(get(f.Subject).DNS, f.Value)
		case "dns_provider_past":
			get(f.Subject).DNSPast = append(get(f.Subject).DNSPast, f.Value)
		case "spf_all":
			get(f.Subject).SPF = f.Value
		case "spf_redirect":
			p := get(f.Subject)
			p.SPFRedirect = f.Value
			if p.SPF == "" {
				p.SPF = "redirect=" + f.Value
			}
		case "spf_permissive":
			get(f.Subject).SPFPermissive = true
		case "spf_error":
			get(f.Subject).SPFError = f.Value
		case "spf_lookups":
			get(f.Subject).SPFLookups = f.Value
		case "spf_include":
			get(f.Subject).SPFIncludes = append(get(f.Subject).SPFIncludes, f.Value)
		case "mail_sender":
			get(f.Subject).Senders = append(get(f.Subject).Senders, f.Value)
		case "dmarc_policy":
			get(f.Subject).DMARC = f.Value
		case "dmarc_subdomain_policy":
			get(f.Subject).DMARCSub = f.Value
		case "dmarc_pct":
			get(f.Subject).DMARCPct = f.Value
		case "dmarc_rua":
			get(f.Subject).DMARCReports = append(get(f.Subject).DMARCReports, f.Value)
		case "dmarc_vendor":
			get(f.Subject).DMARCVendors = append(get(f.Subject).DMARCVendors, f.Value)
		case "saas":
			get(f.Subject).SaaS = append(get(f.Subject).SaaS, f.Value)
		case "saas_past":
			get(f.Subject).SaaSPast = append(get(f.Subject).SaaSPast, f.Value)
		}
	}
	for _, f := range m.findings {
		if f.Current && (f.Type == "MX" || f.Type == "NS") {
			if p, ok := byDomain[f.Name]; ok {
				if f.Type == "MX" {
					p.MX = append(p.MX, f.Value)
				} else {
					p.NS = append(p.NS, f.Value)
				}
			}
		}
	}
	var names []string
	for d := range byDomain {
		if m.shown[d] || m.shownUnder(d) {
			names = append(names, d)
		}
	}
	sort.Strings(names)
	for _, d := range names {
		p := byDomain[d]
		// A subdomain without a record of its own gets its organisational
		// domain's subdomain policy (RFC 7489 6.6.3).
		if org := analysis.RegisteredDomain(d); p.DMARC == "" && org != d {
			if parent := byDomain[org]; parent != nil && parent.DMARCSub != "" {
				p.DMARC, p.DMARCSub, p.DMARCPct, p.DMARCFrom = parent.DMARCSub, parent.DMARCSub, parent.DMARCPct, org
			}
		}
		p.Verdicts = verdicts(p)
		m.warnings = append(m.warnings, p.Verdicts...)
		m.profiles = append(m.profiles, *p)
	}
	for _, f := range m.factsOf("spf_error") {
		m.warnings = append(m.warnings, fmt.Sprintf("%s: SPF record is broken: %s", f.Subject, f.Value))
	}
	for _, f := range m.factsOf("dmarc_error") {
		m.warnings = append(m.warnings, fmt.Sprintf("%s: DMARC record has problems: %s", strings.TrimPrefix(f.Subject, "_dmarc."), f.Value))
	}
	for _, f := range m.factsOf("shared_hosting_ip") {
		n := ""
		for _, g := range m.factsOf("shared_hosting") {
			if g.Subject == f.Subject {
				n = g.Value
			}
		}
		m.warnings = append(m.warnings, fmt.Sprintf("%s is shared hosting: %s registered domains seen on it", f.Subject, n))
	}
	sort.Strings(m.warnings)
	m.buildAttention(append([]string(nil), m.warnings...))
	m.warnings = append(m.warnings, m.attention.Weakenings...)
	sort.Strings(m.warnings)
}

// shownUnder reports whether some shown name is d or under it (a domain
// known from _dmarc records only).
func (m *model) shownUnder(d string) bool {
	if m.shownParents == nil {
		m.shownParents = map[string]bool{}
		for n := range m.shown {
			for p := n; p != ""; {
				m.shownParents[p] = true
				_, rest, ok := strings.Cut(p, ".")
				if !ok {
					break
				}
				p = rest
			}
		}
	}
	return m.shownParents[d]
}

// verdicts are the profile's problems, one sentence each.
func verdicts(p *Profile) []string {
	var out []string
	say := func(format string, args ...any) { out = append(out, p.Domain+": "+fmt.Sprintf(format, args...)) }
	switch {
	case p.SPF == "missing":
		say("receives mail but publishes no SPF record")
	case p.SPFPermissive:
		say("SPF %s lets any host send as the domain", p.SPF)
	}
	if n, err := strconv.Atoi(p.SPFLookups); err == nil && n > 10 {
		say("SPF needs %d DNS lookups, over the limit of 10 (permerror)", n)
	}
	switch p.DMARC {
	case "missing":
		say("receives mail but publishes no DMARC record")
	case "none":
		say("DMARC p=none: spoofed mail is only reported, not stopped")
	case "invalid":
		say("DMARC record is invalid: receivers apply no policy")
	}
	if (p.DMARC == "reject" || p.DMARC == "quarantine") && p.DMARCSub == "none" {
		say("DMARC sp=none leaves subdomains open to spoofing")
	}
	if p.DMARCPct != "" && p.DMARCPct != "100" && p.DMARC != "none" {
		say("DMARC applies to %s%% of failing mail only", p.DMARCPct)
	}
	return out
}

func (m *model) buildSaaS() {
	for _, f := range m.findings {
		if f.Type != "TXT" {
			continue
		}
		service, subject, ok := analysis.MatchSaaS(f.Name, f.Value)
		if !ok || !m.shown[f.Name] && !m.shown[subject] {
			continue
		}
		row := SaaSRow{Subject: subject, Service: service, Current: f.Current, Token: f.Value}
		if f.Name != subject {
			row.Record = f.Name
		}
		m.saas = append(m.saas, row)
	}
	sort.SliceStable(m.saas, func(i, j int) bool {
		a, b := m.saas[i], m.saas[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Token < b.Token
	})
}

func (m *model) buildHosted() {
	for _, f := range m.findings {
		if f.Type != "CNAME" || !m.shown[f.Name] {
			continue
		}
		if service := analysis.ClassifyCNAME(f.Value); service != "" {
			m.hosted = append(m.hosted, HostedRow{Name: f.Name, Service: service, Target: f.Value, Current: f.Current})
		}
	}
}

// addresses returns every IP that is the value of an A or AAAA finding.
func (m *model) addresses() []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, f := range m.findings {
		if f.Type != "A" && f.Type != "AAAA" {
			continue
		}
		a, err := netip.ParseAddr(f.Value)
		if err != nil || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

func (m *model) buildRanges() {
	asn := map[string]string{}
	for _, f := range m.factsOf("asn") {
		asn[f.Subject] = f.Value
	}
	byPrefix := map[netip.Prefix]*RangeRow{}
	var order []netip.Prefix
	for _, a := range m.addresses() {
		p := analysis.RangeOf(a)
		r := byPrefix[p]
		if r == nil {
			r = &RangeRow{Prefix: p.String()}
			byPrefix[p] = r
			order = append(order, p)
		}
		r.IPs = append(r.IPs, a.String())
		if v, ok := asn[a.String()]; ok && !contains(r.ASNs, v) {
			r.ASNs = append(r.ASNs, v)
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].Addr() != order[j].Addr() {
			return order[i].Addr().Less(order[j].Addr())
		}
		return order[i].Bits() < order[j].Bits()
	})
	byAS := map[string]*ASRow{}
	for _, p := range order {
		sort.Strings(byPrefix[p].ASNs)
		m.ranges = append(m.ranges, *byPrefix[p])
		for _, ip := range byPrefix[p].IPs {
			v, ok := asn[ip]
			if !ok {
				continue
			}
			r := byAS[v]
			if r == nil {
				r = &ASRow{AS: v}
				byAS[v] = r
			}
			r.IPs++
			if !contains(r.Ranges, p.String()) {
				r.Ranges = append(r.Ranges, p.String())
			}
		}
	}
	for _, r := range byAS {
		m.byAS = append(m.byAS, *r)
	}
	sort.Slice(m.byAS, func(i, j int) bool {
		if m.byAS[i].IPs != m.byAS[j].IPs {
			return m.byAS[i].IPs > m.byAS[j].IPs
		}
		return m.byAS[i].AS < m.byAS[j].AS
	})
}

func (m *model) buildShared() {
	flagged := map[string]bool{}
	for _, f := range m.factsOf("shared_hosting_ip") {
		flagged[f.Subject] = true
	}
	hosted := map[string][]Finding{}
	for _, f := range m.findings {
		if f.Type == "A" || f.Type == "AAAA" {
			hosted[f.Value] = append(hosted[f.Value], f)
		}
	}
	for _, f := range m.factsOf("shared_hosting") {
		n, _ := strconv.Atoi(f.Value)
		row := SharedRow{IP: f.Subject, Domains: n, Shared: flagged[f.Subject]}
		ours, others := map[string]bool{}, map[string]bool{}
		for _, h := range hosted[f.Subject] {
			if m.shown[h.Name] {
				row.Ours = append(row.Ours, h.Name)
				ours[analysis.RegisteredDomain(h.Name)] = true
			}
		}
		for _, h := range hosted[f.Subject] {
			if d := analysis.RegisteredDomain(h.Name); !m.shown[h.Name] && !ours[d] && !others[d] {
				others[d] = true
				row.Sample = append(row.Sample, d)
			}
		}
		row.Others = len(others)
		sort.Strings(row.Sample)
		row.Sample = row.Sample[:min(len(row.Sample), 10)]
		m.shared = append(m.shared, row)
	}
	sort.SliceStable(m.shared, func(i, j int) bool {
		if m.shared[i].Domains != m.shared[j].Domains {
			return m.shared[i].Domains > m.shared[j].Domains
		}
		return m.shared[i].IP < m.shared[j].IP
	})
}

// buildRelated groups the NS and MX records by server: servers of shown
// domains that other domains use as well.
func (m *model) buildRelated() {
	type key struct{ server, typ string }
	ours := map[key]map[string]bool{}
	others := map[key]map[string]bool{}
	current := map[key]bool{}
	for _, f := range m.findings {
		if f.Type != "NS" && f.Type != "MX" {
			continue
		}
		server := f.Value
		if f.Type == "MX" {
			fields := strings.Fields(f.Value)
			if len(fields) == 0 {
				continue
			}
			server = fields[len(fields)-1]
		}
		k := key{server, f.Type}
		side := others
		if m.shown[f.Name] {
			side = ours
			current[k] = current[k] || f.Current
		}
		if side[k] == nil {
			side[k] = map[string]bool{}
		}
		side[k][f.Name] = true
	}
	for k, names := range ours {
		if len(others[k]) == 0 {
			continue
		}
		m.related = append(m.related, RelatedRow{Server: k.server, Type: k.typ, Ours: sortedKeys(names), Others: sortedKeys(others[k]), Current: current[k]})
	}
	sort.Slice(m.related, func(i, j int) bool {
		if m.related[i].Type != m.related[j].Type {
			return m.related[i].Type > m.related[j].Type // NS before MX
		}
		return m.related[i].Server < m.related[j].Server
	})
}

// buildVerified collects the live DNS verdicts (still_resolves facts).
func (m *model) buildVerified() {
	for _, f := range m.factsOf(analysis.KindStillResolves) {
		name, _, _ := strings.Cut(f.Subject, " ")
		if !m.shown[name] {
			continue
		}
		m.verified++
		if f.Value == "no" {
			m.gone = append(m.gone, f.Subject)
		}
	}
	sort.Strings(m.gone)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (m *model) buildSummary() {
	s := Summary{Findings: len(m.findings), Facts: len(m.facts), Ranges: len(m.ranges), Instances: map[string]int{}}
	names := map[string]bool{}
	for _, f := range m.findings {
		names[f.Name] = true
		if f.Current {
			s.Current++
		} else {
			s.Historical++
		}
		if f.Unverified != "" {
			s.Unverified++
		}
	}
	s.Names = len(names)
	s.IPs = len(m.addresses())
	for _, tl := range m.timeline {
		s.Moves += len(analysis.GroupMoves(tl.Moves))
	}
	for _, in := range m.in.Instances {
		s.Instances[string(in.Status)]++
	}
	m.summary = s
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// day formats a time as a date, "unknown" when zero.
func day(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02")
}

// stamp formats a time to the minute, "unknown" when zero.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
