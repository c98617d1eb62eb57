package dns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	mdns "github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/dns/dnstest"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// The test zones the in-process servers (and NSD) serve.
const (
	zoneFile  = "../../testdata/dns/zone.db"
	reverseV4 = "../../testdata/dns/reverse-v4.db"
	reverseV6 = "../../testdata/dns/reverse-v6.db"
)

var allZones = []string{zoneFile, reverseV4, reverseV6}

var testNow = time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC)

// newProvider builds a dns provider asking resolvers, with a counting gate.
func newProvider(t *testing.T, resolvers []string, attrs map[string]cty.Value, timeout time.Duration) (*Provider, *providertest.Gate) {
	t.Helper()
	cfg, gate := providertest.Config(t, "dns", "", nil)
	vals := make([]cty.Value, len(resolvers))
	for i, r := range resolvers {
		vals[i] = cty.StringVal(r)
	}
	cfg.Attrs["resolvers"] = cty.ListVal(vals)
	for k, v := range attrs {
		cfg.Attrs[k] = v
	}
	cfg.Timeout = timeout
	pr, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := pr.(*Provider)
	p.now = func() time.Time { return testNow }
	return p, gate
}

func resolveQuery(name string, types ...string) schema.Query {
	s, err := schema.ParseSubject(name)
	if err != nil {
		panic(err)
	}
	return schema.Query{Provider: "dns", Op: schema.OpResolve, Subject: s, RRTypes: types}
}

func ids(fs []schema.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID())
	}
	return out
}

func facts(fs []schema.Fact) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID())
	}
	return out
}

func TestResolveZone(t *testing.T) {
	srv := dnstest.Start(t, allZones...)
	testResolveZone(t, srv.Addr, srv)
}

// testResolveZone runs the zone table against the server at addr; srv,
// when not nil, is that server and checks the questions it received.
func testResolveZone(t *testing.T, addr string, srv *dnstest.Server) {
	bigTXT := strings.Repeat(strings.Repeat("0123456789", 22), 7)
	var bigA []string
	for i := 1; i <= 120; i++ {
		bigA = append(bigA, fmt.Sprintf("big.acme.example A 198.51.100.%d", i))
	}
	sort.Strings(bigA)
	tests := []struct {
		name      string
		query     schema.Query
		findings  []string // IDs, sorted by name, type, value
		facts     []string
		transport string // when set, the last question must have used it
	}{
		{
			name:  "apex, every type, with DMARC",
			query: resolveQuery("acme.example"),
			findings: []string{
				"_dmarc.acme.example TXT v=DMARC1; p=reject; rua=mailto:dmarc@acme.example",
				"acme.example A 203.0.113.10",
				"acme.example AAAA 2001:db8::10",
				`acme.example CAA 0 issue "letsencrypt.org"`,
				`acme.example CAA 128 iodef "mailto:security@acme.example"`,
				"acme.example MX mx1.acme.example",
				"acme.example MX mx2.acme.example",
				"acme.example NS ns1.acme.example",
				"acme.example NS ns2.acme.example",
				"acme.example SOA ns1.acme.example hostmaster.acme.example 2024010101 7200 3600 1209600 300",
				"acme.example TXT google-site-verification=abc123",
				"acme.example TXT v=spf1 include:_spf.google.com -all",
			},
			facts: []string{"acme.example dns_status noerror"},
		},
		{
			name:  "two-hop CNAME chain, records under their owners",
			query: resolveQuery("chain.acme.example", "A", "AAAA"),
			findings: []string{
				"chain.acme.example CNAME www.acme.example",
				"web.acme.example A 203.0.113.20",
				"web.acme.example AAAA 2001:db8::20",
				"www.acme.example CNAME web.acme.example",
			},
			facts: []string{"chain.acme.example dns_status noerror"},
		},
		{
			name:     "CNAME question is not chased",
			query:    resolveQuery("chain.acme.example", "CNAME"),
			findings: []string{"chain.acme.example CNAME www.acme.example"},
			facts:    []string{"chain.acme.example dns_status noerror"},
		},
		{
			name:     "dangling CNAME",
			query:    resolveQuery("dangling.acme.example", "A", "AAAA"),
			findings: []string{"dangling.acme.example CNAME gone.acme.example"},
			facts:    []string{"dangling.acme.example dangling_cname gone.acme.example", "dangling.acme.example dns_status noerror"},
		},
		{
			name:     "CNAME leaving the zone",
			query:    resolveQuery("external.acme.example", "A"),
			findings: []string{"external.acme.example CNAME shop.saas.example"},
			facts:    []string{"external.acme.example dns_status noerror"},
		},
		{
			name:     "TXT character-strings joined",
			query:    resolveQuery("split.acme.example", "TXT"),
			findings: []string{"split.acme.example TXT v=spf1 ip4:203.0.113.0/24 include:_spf.acme.example -all"},
			facts:    []string{"split.acme.example dns_status noerror"},
		},
		{
			// \233 alone is not UTF-8: it stays escaped (JSON would make it U+FFFD).
			name:     "TXT escapes undone",
			query:    resolveQuery("quoted.acme.example", "TXT"),
			findings: []string{"quoted.acme.example TXT say \"hi\" back\\slash \\233"},
			facts:    []string{"quoted.acme.example dns_status noerror"},
		},
		{
			name:     "null MX",
			query:    resolveQuery("nomail.acme.example", "MX"),
			findings: []string{"nomail.acme.example MX ."},
			facts:    []string{"nomail.acme.example dns_status noerror"},
		},
		{
			name:  "NODATA",
			query: resolveQuery("mailonly.acme.example", "A", "AAAA"),
			facts: []string{"mailonly.acme.example dns_status nodata"},
		},
		{
			name:  "empty non-terminal is NODATA",
			query: resolveQuery("b.acme.example"),
			facts: []string{"b.acme.example dns_status nodata"},
		},
		{
			name:  "NXDOMAIN is a result",
			query: resolveQuery("gone.acme.example"),
			facts: []string{"gone.acme.example dns_status nxdomain"},
		},
		{
			name:      "truncated UDP answer retried over TCP",
			query:     resolveQuery("big.acme.example", "A"),
			findings:  bigA,
			facts:     []string{"big.acme.example dns_status noerror"},
			transport: "big.acme.example A tcp",
		},
		{
			name:      "big TXT over TCP",
			query:     resolveQuery("bigtxt.acme.example", "TXT"),
			findings:  []string{"bigtxt.acme.example TXT " + bigTXT},
			facts:     []string{"bigtxt.acme.example dns_status noerror"},
			transport: "_dmarc.bigtxt.acme.example TXT udp",
		},
		{
			name:     "NS at a delegation point from the referral",
			query:    resolveQuery("sub.acme.example", "NS"),
			findings: []string{"sub.acme.example NS ns.other.example"},
			facts:    []string{"sub.acme.example dns_status noerror"},
		},
		{
			name:     "PTR of an IPv4 address, under the IP",
			query:    resolveQuery("203.0.113.20"),
			findings: []string{"203.0.113.20 PTR web.acme.example", "203.0.113.20 PTR www.acme.example"},
			facts:    []string{"203.0.113.20 dns_status noerror"},
		},
		{
			name:     "PTR behind an RFC 2317 CNAME",
			query:    resolveQuery("203.0.113.25", "PTR"),
			findings: []string{"203.0.113.25 PTR mx1.acme.example"},
			facts:    []string{"203.0.113.25 dns_status noerror"},
		},
		{
			name:     "PTR of an IPv6 address",
			query:    resolveQuery("2001:db8::10"),
			findings: []string{"2001:db8::10 PTR acme.example"},
			facts:    []string{"2001:db8::10 dns_status noerror"},
		},
		{
			name:  "no PTR",
			query: resolveQuery("203.0.113.99"),
			facts: []string{"203.0.113.99 dns_status nxdomain"},
		},
		{
			name:  "FORMERR to EDNS0 retried without it",
			query: resolveQuery("noedns.acme.example", "A"),
			facts: []string{"noedns.acme.example dns_status nxdomain"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, gate := newProvider(t, []string{addr}, nil, 5*time.Second)
			var before int
			if srv != nil {
				before = len(srv.Queries())
			}
			ans, err := p.Query(context.Background(), tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.findings, ids(ans.Findings)); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.facts, facts(ans.Facts)); d != "" {
				t.Errorf("facts (-want +got):\n%s", d)
			}
			for _, f := range ans.Findings {
				if !f.Current || !f.Active || !f.FirstSeen.Equal(testNow) || !f.LastSeen.Equal(testNow) || !cmp.Equal(f.Sources, []string{"dns"}) {
					t.Errorf("finding %s: current %v active %v seen %v..%v sources %v", f.ID(), f.Current, f.Active, f.FirstSeen, f.LastSeen, f.Sources)
				}
			}
			if srv == nil {
				if ans.Requests != gate.Count() {
					t.Errorf("requests %d, gate %d", ans.Requests, gate.Count())
				}
				return
			}
			sent := srv.Queries()[before:]
			if ans.Requests != len(sent) || gate.Count() != len(sent) {
				t.Errorf("requests %d, gate %d, server saw %d: %v", ans.Requests, gate.Count(), len(sent), sent)
			}
			if tc.transport != "" && sent[len(sent)-1] != tc.transport {
				t.Errorf("last question %q, want %q (all: %v)", sent[len(sent)-1], tc.transport, sent)
			}
		})
	}
}

func TestResolveQuestions(t *testing.T) {
	srv := dnstest.Start(t, zoneFile)
	tests := []struct {
		name  string
		query schema.Query
		attrs map[string]cty.Value
		want  []string
	}{
		{
			name:  "every type in order, then DMARC",
			query: resolveQuery("acme.example"),
			want: []string{"acme.example A udp", "acme.example AAAA udp", "acme.example CNAME udp", "acme.example MX udp",
				"acme.example NS udp", "acme.example TXT udp", "acme.example SOA udp", "acme.example CAA udp", "_dmarc.acme.example TXT udp"},
		},
		{
			name:  "NXDOMAIN ends the name after one question",
			query: resolveQuery("gone.acme.example"),
			want:  []string{"gone.acme.example A udp"},
		},
		{
			name:  "no DMARC without TXT",
			query: resolveQuery("acme.example", "MX"),
			want:  []string{"acme.example MX udp"},
		},
		{
			name:  "no DMARC under an underscore name",
			query: resolveQuery("_dmarc.acme.example", "TXT"),
			want:  []string{"_dmarc.acme.example TXT udp"},
		},
		{
			name:  "tcp = true",
			query: resolveQuery("acme.example", "A", "MX"),
			attrs: map[string]cty.Value{"tcp": cty.True},
			want:  []string{"acme.example A tcp", "acme.example MX tcp"},
		},
		{
			name:  "truncation: UDP then TCP",
			query: resolveQuery("big.acme.example", "A"),
			want:  []string{"big.acme.example A udp", "big.acme.example A tcp"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newProvider(t, []string{srv.Addr}, tc.attrs, 5*time.Second)
			before := len(srv.Queries())
			if _, err := p.Query(context.Background(), tc.query); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, srv.Queries()[before:]); d != "" {
				t.Errorf("questions (-want +got):\n%s", d)
			}
		})
	}
}

func TestTCPResolver(t *testing.T) {
	srv := dnstest.Start(t, allZones...)
	p, _ := newProvider(t, []string{"tcp://" + srv.Addr}, nil, 5*time.Second)
	if _, err := p.Query(context.Background(), resolveQuery("acme.example", "A")); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"acme.example A tcp"}, srv.Queries()); d != "" {
		t.Errorf("questions (-want +got):\n%s", d)
	}
}

func TestResolveErrors(t *testing.T) {
	srv := dnstest.Start(t, zoneFile)
	srv2 := dnstest.Start(t, zoneFile)
	drop := dnstest.StartDrop(t)
	tests := []struct {
		name      string
		resolvers []string
		retries   int64
		query     schema.Query
		kind      providers.ErrorKind
		retryable bool
		msg       string
		// questions each server must have received for the subject
		srv, srv2, drop int
	}{
		{name: "SERVFAIL from the only resolver", resolvers: []string{srv.Addr}, query: resolveQuery("servfail.acme.example", "A"),
			kind: providers.KindTransient, retryable: true, msg: "SERVFAIL", srv: 1},
		// REFUSED from every resolver is a policy: not retried (an
		// authoritative server asked about a zone it does not serve).
		{name: "REFUSED", resolvers: []string{srv.Addr}, retries: 2, query: resolveQuery("refused.acme.example", "A"),
			kind: providers.KindBadInput, msg: "REFUSED by " + srv.Addr + ": an authoritative server that does not serve", srv: 1},
		{name: "REFUSED by every resolver", resolvers: []string{srv.Addr, srv2.Addr}, retries: 1, query: resolveQuery("refused.acme.example", "A"),
			kind: providers.KindBadInput, msg: "REFUSED", srv: 1, srv2: 1},
		{name: "SERVFAIL asks each resolver once", resolvers: []string{srv.Addr, srv2.Addr}, retries: 2, query: resolveQuery("servfail.acme.example", "A"),
			kind: providers.KindTransient, retryable: true, msg: "SERVFAIL", srv: 1, srv2: 1},
		{name: "a resolver that never answers", resolvers: []string{drop.Addr}, retries: 1, query: resolveQuery("acme.example", "A"),
			kind: providers.KindTransient, retryable: true, msg: "timed out: no answer from " + drop.Addr + " within 100ms (2 attempts)", drop: 2},
		// The deadline closes the socket; the error must still say timeout,
		// not "use of closed network connection" (found against a silent
		// UDP port in acceptance testing).
		{name: "a timeout says so", resolvers: []string{drop.Addr}, query: resolveQuery("acme.example", "A"),
			kind: providers.KindTransient, retryable: true, msg: "acme.example A: timed out: no answer from " + drop.Addr + " within 100ms (1 attempt)", drop: 1},
		{name: "referral is not an answer", resolvers: []string{srv.Addr}, query: resolveQuery("host.sub.acme.example", "A"),
			kind: providers.KindBadInput, msg: "referral to ns.other.example instead of an answer (sub.acme.example is delegated to another zone)", srv: 1},
		{name: "referral at the delegation point says how to get its NS", resolvers: []string{srv.Addr}, query: resolveQuery("sub.acme.example", "A", "NS"),
			kind: providers.KindBadInput, msg: `or ask only rrtypes = ["NS"] for the delegation's name servers`, srv: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			counts := func() [3]int {
				n := tc.query.Subject.Value
				return [3]int{srv.Count(n), srv2.Count(n), drop.Count()}
			}
			before := counts()
			p, gate := newProvider(t, tc.resolvers, map[string]cty.Value{"retries": cty.NumberIntVal(tc.retries)}, 100*time.Millisecond)
			ans, err := p.Query(context.Background(), tc.query)
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want *providers.Error", err, err)
			}
			if pe.Kind != tc.kind || pe.Retryable != tc.retryable || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q kind %s retryable %v; want kind %s retryable %v containing %q", err, pe.Kind, pe.Retryable, tc.kind, tc.retryable, tc.msg)
			}
			after := counts()
			got := [3]int{after[0] - before[0], after[1] - before[1], after[2] - before[2]}
			if want := [3]int{tc.srv, tc.srv2, tc.drop}; got != want {
				t.Errorf("questions per server %v, want %v", got, want)
			}
			if ans.Requests != gate.Count() || gate.Count() != tc.srv+tc.srv2+tc.drop {
				t.Errorf("requests %d, gate %d, want %d", ans.Requests, gate.Count(), tc.srv+tc.srv2+tc.drop)
			}
		})
	}
}

func TestSecondResolverAnswersAfterTimeout(t *testing.T) {
	srv := dnstest.Start(t, zoneFile)
	drop := dnstest.StartDrop(t)
	p, gate := newProvider(t, []string{drop.Addr, srv.Addr}, map[string]cty.Value{"retries": cty.NumberIntVal(0)}, 100*time.Millisecond)
	ans, err := p.Query(context.Background(), resolveQuery("acme.example", "A", "MX"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme.example A 203.0.113.10", "acme.example MX mx1.acme.example", "acme.example MX mx2.acme.example"}
	if d := cmp.Diff(want, ids(ans.Findings)); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if drop.Count() != 2 || srv.Count("acme.example") != 2 || gate.Count() != 4 || ans.Requests != 4 {
		t.Errorf("dropped %d, answered %d, gate %d, requests %d; want 2, 2, 4, 4", drop.Count(), srv.Count("acme.example"), gate.Count(), ans.Requests)
	}
}

func TestCancel(t *testing.T) {
	drop := dnstest.StartDrop(t)
	p, _ := newProvider(t, []string{drop.Addr}, nil, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Query(ctx, resolveQuery("acme.example"))
		errc <- err
	}()
	for drop.Count() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Query did not return after cancellation")
	}
	if drop.Count() != 1 {
		t.Errorf("%d questions sent, want 1", drop.Count())
	}
}

func TestTypesThatDoNotApply(t *testing.T) {
	srv := dnstest.Start(t, allZones...)
	p, gate := newProvider(t, []string{srv.Addr}, nil, time.Second)
	for _, q := range []schema.Query{resolveQuery("acme.example", "PTR"), resolveQuery("203.0.113.10", "A", "MX")} {
		ans, err := p.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.Findings) != 0 || len(ans.Facts) != 0 || len(ans.Warnings) == 0 {
			t.Errorf("%s: %+v, want only warnings", q.Key(), ans)
		}
	}
	if gate.Count() != 0 {
		t.Errorf("%d questions sent for types that do not apply", gate.Count())
	}
}

func TestBudget(t *testing.T) {
	srv := dnstest.Start(t, zoneFile)
	p, gate := newProvider(t, []string{srv.Addr}, nil, 5*time.Second)
	gate.Budget = 3
	before := len(srv.Queries())
	_, err := p.Query(context.Background(), resolveQuery("acme.example"))
	if !errors.Is(err, providers.ErrBudgetExhausted) {
		t.Fatalf("error %v, want ErrBudgetExhausted", err)
	}
	if n := len(srv.Queries()) - before; n != 3 {
		t.Errorf("server saw %d questions, want 3", n)
	}
}

func TestUnsupported(t *testing.T) {
	srv := dnstest.Start(t, zoneFile)
	p, gate := newProvider(t, []string{srv.Addr}, nil, time.Second)
	cidr, _ := schema.ParseSubject("203.0.113.0/24")
	for _, q := range []schema.Query{
		{Provider: "dns", Op: schema.OpResolutions, Subject: resolveQuery("acme.example").Subject},
		{Provider: "dns", Op: schema.OpResolve, Subject: cidr},
	} {
		_, err := p.Query(context.Background(), q)
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindUnsupported {
			t.Errorf("%s: error %v, want KindUnsupported", q.Key(), err)
		}
	}
	if gate.Count() != 0 || len(srv.Queries()) != 0 {
		t.Errorf("sent %d questions for unsupported queries", gate.Count())
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("search corp.example\nnameserver 192.0.2.1\nnameserver 2001:db8::1\noptions ndots:2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.conf")
	if err := os.WriteFile(empty, []byte("search corp.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	list := func(s ...string) cty.Value {
		var v []cty.Value
		for _, x := range s {
			v = append(v, cty.StringVal(x))
		}
		if len(v) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		return cty.ListVal(v)
	}
	tests := []struct {
		name       string
		attrs      map[string]cty.Value
		endpoint   string
		resolvConf string
		want       []string
		err        string
	}{
		{name: "resolvers", attrs: map[string]cty.Value{"resolvers": list("192.0.2.53", "[2001:db8::53]:5353", "dns.example")},
			want: []string{"192.0.2.53:53", "[2001:db8::53]:5353", "dns.example:53"}},
		{name: "endpoint when no resolvers", endpoint: "127.0.0.1:5300", want: []string{"127.0.0.1:5300"}},
		{name: "resolvers win over endpoint", endpoint: "127.0.0.1:5300", attrs: map[string]cty.Value{"resolvers": list("192.0.2.53")}, want: []string{"192.0.2.53:53"}},
		{name: "system resolv.conf", resolvConf: conf, want: []string{"192.0.2.1:53", "[2001:db8::1]:53"}},
		{name: "missing resolv.conf", resolvConf: filepath.Join(dir, "nope"), err: "set resolvers"},
		{name: "resolv.conf without nameserver", resolvConf: empty, err: "names no nameserver"},
		{name: "bad resolver", attrs: map[string]cty.Value{"resolvers": list("https://dns.example/dns-query")}, err: "not supported"},
		{name: "schemes", attrs: map[string]cty.Value{"resolvers": list("udp://192.0.2.53", "tcp://192.0.2.54:5353")}, want: []string{"192.0.2.53:53", "tcp://192.0.2.54:5353"}},
		{name: "empty resolvers", attrs: map[string]cty.Value{"resolvers": list()}, err: "resolvers is empty"},
		{name: "retries too many", attrs: map[string]cty.Value{"resolvers": list("192.0.2.53"), "retries": cty.NumberIntVal(11)}, err: "retries = 11"},
		{name: "negative retries", attrs: map[string]cty.Value{"resolvers": list("192.0.2.53"), "retries": cty.NumberIntVal(-1)}, err: "retries = -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.resolvConf != "" {
				old := resolvConf
				resolvConf = tc.resolvConf
				t.Cleanup(func() { resolvConf = old })
			}
			cfg, _ := providertest.Config(t, "dns", tc.endpoint, nil)
			for k, v := range tc.attrs {
				cfg.Attrs[k] = v
			}
			p, err := New(context.Background(), cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, p.(*Provider).Resolvers()); d != "" {
				t.Errorf("resolvers (-want +got):\n%s", d)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	traits := Schema.Ops[schema.OpResolve]
	if !traits.Active || !traits.Current || !Schema.IsActive() {
		t.Errorf("resolve must be active and current: %+v", traits)
	}
	if Schema.DefaultTimeout > 10*time.Second {
		t.Errorf("default timeout %s is too long for one DNS question", Schema.DefaultTimeout)
	}
}

// FuzzAnswer reads arbitrary DNS responses the way Query does: whatever a
// server sends, reading it must not panic, and every finding it yields is
// normalised and owned by a name on the question's chain or below a DNAME.
func FuzzAnswer(f *testing.F) {
	seed := func(name string, qtype uint16, rrs ...string) {
		m := new(mdns.Msg)
		m.SetQuestion(name, qtype)
		m.Response = true
		for _, s := range rrs {
			rr, err := mdns.NewRR(s)
			if err != nil {
				f.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed("www.acme.example.", mdns.TypeA, "www.acme.example. 300 IN CNAME web.acme.example.", "web.acme.example. 300 IN A 203.0.113.20")
	seed("loop.acme.example.", mdns.TypeA, "loop.acme.example. 300 IN CNAME loop.acme.example.")
	seed("acme.example.", mdns.TypeTXT, `acme.example. 300 IN TXT "a\"b" "c\255"`)
	seed("acme.example.", mdns.TypeCAA, `acme.example. 300 IN CAA 0 issue "ca.example; x=\"y\""`)
	seed("acme.example.", mdns.TypeSOA, "acme.example. 300 IN SOA ns1.acme.example. h.acme.example. 1 2 3 4 5")
	seed("a.b.acme.example.", mdns.TypeA, "acme.example. 300 IN DNAME other.example.", "a.b.acme.example. 300 IN CNAME a.b.other.example.", "a.b.other.example. 300 IN A 192.0.2.1")
	seed("nomail.acme.example.", mdns.TypeMX, "nomail.acme.example. 300 IN MX 0 .")
	f.Fuzz(func(t *testing.T, data []byte) {
		m := new(mdns.Msg)
		if err := m.Unpack(data); err != nil || len(m.Question) == 0 {
			return
		}
		q := m.Question[0]
		name := schema.NormalizeName(q.Name)
		records, _ := answerRecords(m, name, q.Qtype)
		referral(m, name)
		for _, rr := range records {
			fd, ok := finding(rr)
			if !ok {
				continue
			}
			if fd.Name != schema.NormalizeName(fd.Name) || fd.Type == "" {
				t.Fatalf("finding %q not normalised", fd.ID())
			}
			// TXT is unescaped once by design.
			idempotent := fd.Type != "TXT"
			if again := schema.NewFinding(fd.Name, fd.Type, fd.Value); idempotent && again.ID() != fd.ID() {
				t.Fatalf("finding %q normalises again to %q", fd.ID(), again.ID())
			}
		}
	})
}

func TestFactEvidence(t *testing.T) {
	srv := dnstest.Start(t, allZones...)
	p, _ := newProvider(t, []string{srv.Addr}, nil, 5*time.Second)
	tests := []struct {
		query schema.Query
		want  []schema.Fact
	}{
		{resolveQuery("dangling.acme.example", "A", "AAAA"), []schema.Fact{
			{Subject: "dangling.acme.example", Kind: "dangling_cname", Value: "gone.acme.example", Evidence: []string{"dangling.acme.example CNAME gone.acme.example"}},
			{Subject: "dangling.acme.example", Kind: "dns_status", Value: "noerror", Evidence: []string{"dangling.acme.example CNAME gone.acme.example"}},
		}},
		{resolveQuery("web.acme.example", "A", "AAAA"), []schema.Fact{
			{Subject: "web.acme.example", Kind: "dns_status", Value: "noerror", Evidence: []string{"web.acme.example A 203.0.113.20", "web.acme.example AAAA 2001:db8::20"}},
		}},
		{resolveQuery("gone.acme.example"), []schema.Fact{{Subject: "gone.acme.example", Kind: "dns_status", Value: "nxdomain"}}},
	}
	for _, tc := range tests {
		ans, err := p.Query(context.Background(), tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, ans.Facts); d != "" {
			t.Errorf("%s facts (-want +got):\n%s", tc.query.Key(), d)
		}
	}
}

func TestWildcard(t *testing.T) {
	srv := dnstest.Start(t, allZones...)
	testWildcard(t, srv.Addr, srv)
}

// testWildcard checks wildcard_check against the server at addr (srv, when
// not nil, is that server and counts the probes).
func testWildcard(t *testing.T, addr string, srv *dnstest.Server) {
	p, _ := newProvider(t, []string{addr}, map[string]cty.Value{"wildcard_check": cty.True}, 5*time.Second)
	tests := []struct {
		name     string
		wildcard bool
	}{
		{"anything.wild.acme.example", true},
		{"deeper.anything.wild.acme.example", true},
		{"same.wild.acme.example", false}, // a real node, though with the wildcard's address
		{"own.wild.acme.example", false},
		{"www.acme.example", false},
		{"acme.example", false},
	}
	for _, tc := range tests {
		ans, err := p.Query(context.Background(), resolveQuery(tc.name, "A"))
		if err != nil {
			t.Fatal(err)
		}
		var got bool
		for _, f := range ans.Facts {
			if f.Kind == "dns_wildcard" {
				got = f.Subject == tc.name && f.Value == "true" && len(f.Evidence) > 0
			}
		}
		if got != tc.wildcard {
			t.Errorf("%s: dns_wildcard %v, want %v (facts %v)", tc.name, got, tc.wildcard, ans.Facts)
		}
	}
	if srv == nil {
		return
	}
	// One probe per name, under the name: inside the scope.
	var probes []string
	for _, q := range srv.Queries() {
		if strings.HasPrefix(q, "rf-") {
			probes = append(probes, q[strings.IndexByte(q, '.')+1:])
		}
	}
	var want []string
	for _, tc := range tests {
		want = append(want, tc.name+" A udp")
	}
	if d := cmp.Diff(want, probes); d != "" {
		t.Errorf("probes (-want +got):\n%s", d)
	}

	// Off by default: no probe.
	before := len(srv.Queries())
	p2, _ := newProvider(t, []string{addr}, nil, 5*time.Second)
	ans, err := p2.Query(context.Background(), resolveQuery("anything.wild.acme.example", "A"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Queries()) - before; n != 1 || len(ans.Facts) != 1 {
		t.Errorf("without wildcard_check: %d questions, facts %v", n, ans.Facts)
	}
}

// A wildcard name is no host to resolve: the engine never asks
// (engine.WildcardReason), and asked directly the provider refuses
// without a question.
func TestWildcardSubjectRefused(t *testing.T) {
	srv := dnstest.Start(t, allZones...)
	p, _ := newProvider(t, []string{srv.Addr}, map[string]cty.Value{"wildcard_check": cty.True}, 5*time.Second)
	before := len(srv.Queries())
	_, err := p.Query(context.Background(), resolveQuery("*.wild.acme.example", "A", "TXT"))
	providertest.CheckFinalError(t, err, providers.KindBadInput)
	if n := len(srv.Queries()) - before; n != 0 {
		t.Errorf("%d questions sent", n)
	}
}
