package hackertarget_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reconform/reconform/internal/fakevendors"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/hackertarget"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

const key = "HT-CANARY-7f3a9c2e-SECRET"

var fixtures = os.DirFS("../../testdata/providers/hackertarget")

func f(name, rrtype, value string, current bool) schema.Finding {
	x := schema.NewFinding(name, rrtype, value)
	x.Sources = []string{"hackertarget"}
	x.Current = current
	return x
}

func subject(t *testing.T, s string) schema.Subject {
	t.Helper()
	sub, err := schema.ParseSubject(s)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name     string
		op       schema.Op
		subject  string
		rrtypes  []string
		noKey    bool
		fakeKey  string // the key the fake accepts; default key
		hook     fakevendors.Hook
		want     []schema.Finding
		warnings int
		wantKind providers.ErrorKind
		requests int // requests the fake should see
	}{
		{
			name: "hostsearch", op: schema.OpSubdomains, subject: "example.com", requests: 1,
			want: []schema.Finding{
				f("dev.example.com", "A", "203.0.113.20", false), f("dev.example.com", "HOST", "", false),
				f("example.com", "A", "203.0.113.10", false), f("example.com", "HOST", "", false),
				f("mail.example.com", "A", "198.51.100.25", false), f("mail.example.com", "HOST", "", false),
				f("vpn.example.com", "AAAA", "2001:db8::443", false), f("vpn.example.com", "HOST", "", false),
				f("www.example.com", "A", "203.0.113.10", false), f("www.example.com", "HOST", "", false),
			},
		},
		{
			name: "hostsearch CRLF, junk line and duplicates", op: schema.OpSubdomains, subject: "quirks.example.com", requests: 1,
			want:     []schema.Finding{f("shop.quirks.example.com", "A", "203.0.113.30", false), f("shop.quirks.example.com", "HOST", "", false)},
			warnings: 1,
		},
		{
			name: "hosts named like sentinels are data", op: schema.OpSubdomains, subject: "tricky.example.com", requests: 1,
			want: []schema.Finding{
				f("error.tricky.example.com", "A", "203.0.113.8", false), f("error.tricky.example.com", "HOST", "", false),
				f("no-records.tricky.example.com", "A", "203.0.113.9", false), f("no-records.tricky.example.com", "HOST", "", false),
			},
		},
		{
			name: "hostsearch without key", op: schema.OpSubdomains, subject: "example.com", noKey: true, requests: 1,
			want: nil, // checked below by count only
		},
		{
			name: "reverseiplookup", op: schema.OpReverseIP, subject: "203.0.113.10", requests: 1,
			want: []schema.Finding{
				f("example.com", "A", "203.0.113.10", false),
				f("shop.example.org", "A", "203.0.113.10", false),
				f("www.example.com", "A", "203.0.113.10", false),
			},
		},
		{
			name: "findshareddns", op: schema.OpNSReverse, subject: "ns1.example.net", requests: 1,
			want: []schema.Finding{
				f("example.com", "NS", "ns1.example.net", false),
				f("example.net", "NS", "ns1.example.net", false),
				f("example.org", "NS", "ns1.example.net", false),
			},
		},
		{
			name: "dnslookup filtered to MX and TXT", op: schema.OpResolutions, subject: "example.com", rrtypes: []string{"MX", "TXT"}, requests: 1,
			want: []schema.Finding{
				f("example.com", "MX", "mx1.example.com", true),
				f("example.com", "MX", "mx2.example.com", true),
				f("example.com", "TXT", "google-site-verification=abc123", true),
				f("example.com", "TXT", "v=spf1 include:_spf.example.net -all", true),
			},
		},
		{name: "hostsearch nothing found", op: schema.OpSubdomains, subject: "empty.example.com", requests: 1},
		{name: "No records sentence", op: schema.OpSubdomains, subject: "example.com", requests: 1, hook: fakevendors.Always(200, "No records\n")},
		{name: "error with a colon", op: schema.OpSubdomains, subject: "example.com", requests: 1, hook: fakevendors.Always(200, "Error: something went wrong\n"), wantKind: providers.KindBadInput},
		{name: "dnslookup nothing found", op: schema.OpResolutions, subject: "empty.example.com", requests: 1},
		{name: "reverseiplookup nothing found", op: schema.OpReverseIP, subject: "198.51.100.99", requests: 1},
		{name: "findshareddns nothing found", op: schema.OpNSReverse, subject: "ns9.example.net", requests: 1},
		{name: "reverse IPv6 is refused before any request", op: schema.OpReverseIP, subject: "2001:db8::1", wantKind: providers.KindUnsupported},
		{name: "mx_reverse unsupported", op: schema.OpMXReverse, subject: "mx1.example.com", wantKind: providers.KindUnsupported},
		{name: "bad key", op: schema.OpSubdomains, subject: "example.com", fakeKey: "another-key", wantKind: providers.KindAuth, requests: 1},
		{
			name: "quota exceeded is final", op: schema.OpSubdomains, subject: "example.com", requests: 1,
			hook: fakevendors.Status(-1, 200, nil, fakevendors.HTQuotaExceeded+"\n"), wantKind: providers.KindQuota,
		},
		{
			name: "quota exceeded with 429 is final", op: schema.OpSubdomains, subject: "example.com", requests: 1,
			hook: fakevendors.Status(-1, 429, nil, "API count exceeded - visit https://hackertarget.com/\n"), wantKind: providers.KindQuota,
		},
		{
			name: "search parameter error", op: schema.OpSubdomains, subject: "example.com", requests: 1,
			hook: fakevendors.Status(-1, 200, nil, fakevendors.HTBadParam+"\n"), wantKind: providers.KindBadInput,
		},
		{
			name: "key required", op: schema.OpSubdomains, subject: "example.com", requests: 1,
			hook: fakevendors.Status(-1, 200, nil, fakevendors.HTKeyRequired+"\n"), wantKind: providers.KindAuth,
		},
		{
			name: "429 with Retry-After then success", op: schema.OpReverseIP, subject: "203.0.113.10", requests: 2,
			hook: fakevendors.Status(1, 429, map[string]string{"Retry-After": "1"}, "Too Many Requests"),
			want: []schema.Finding{
				f("example.com", "A", "203.0.113.10", false),
				f("shop.example.org", "A", "203.0.113.10", false),
				f("www.example.com", "A", "203.0.113.10", false),
			},
		},
		{
			name: "5xx then success", op: schema.OpNSReverse, subject: "ns1.example.net", requests: 3,
			hook: fakevendors.Status(2, 502, nil, "Bad Gateway"),
			want: []schema.Finding{
				f("example.com", "NS", "ns1.example.net", false),
				f("example.net", "NS", "ns1.example.net", false),
				f("example.org", "NS", "ns1.example.net", false),
			},
		},
		{name: "5xx forever", op: schema.OpSubdomains, subject: "example.com", requests: 3, hook: fakevendors.Always(500, "oops"), wantKind: providers.KindTransient},
		{name: "HTML page with 200", op: schema.OpSubdomains, subject: "example.com", requests: 1, hook: fakevendors.Always(200, fakevendors.HTMLPage), wantKind: providers.KindMalformed},
		{name: "malformed body", op: schema.OpSubdomains, subject: "example.com", requests: 1, hook: fakevendors.Always(200, "\x00\x01garbage\n{json}\n"), wantKind: providers.KindMalformed},
		{
			name: "truncated body keeps whole lines", op: schema.OpSubdomains, subject: "example.com", requests: 1,
			hook: fakevendors.Always(200, "www.example.com,203.0.113.10\nmail.exa"), warnings: 1,
			want: []schema.Finding{f("www.example.com", "A", "203.0.113.10", false), f("www.example.com", "HOST", "", false)},
		},
		{
			name: "oversized body", op: schema.OpSubdomains, subject: "example.com", requests: 1,
			hook: fakevendors.Always(200, strings.Repeat("a.example.com,203.0.113.1\n", 50_000)), wantKind: providers.KindMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakevendors.HackerTarget{Fixtures: fixtures, Key: key}
			if tt.fakeKey != "" {
				fake.Key = tt.fakeKey
			}
			fake.Hook = tt.hook
			srv := fakevendors.Start(t, fake)
			attrs := map[string]string{"api_key": key}
			if tt.noKey {
				attrs = nil
			}
			cfg, gate := providertest.Config(t, "hackertarget", srv.URL, attrs)
			var logs bytes.Buffer
			cfg.Logger = fakevendors.LogTo(&logs)
			p, err := hackertarget.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			q := schema.Query{Provider: "hackertarget", Op: tt.op, Subject: subject(t, tt.subject), RRTypes: tt.rrtypes}
			ans, err := p.Query(context.Background(), q)
			fakevendors.NoSecret(t, key, err, ans, &logs)
			if got := len(fake.Requests()); got != tt.requests || gate.Count() != tt.requests {
				t.Errorf("fake saw %d requests, gate charged %d, want %d", got, gate.Count(), tt.requests)
			}
			for _, r := range fake.Requests() {
				if got := r.Query.Get("apikey"); (got == key) == tt.noKey {
					t.Errorf("apikey = %q (noKey %v)", got, tt.noKey)
				}
				if !strings.HasSuffix(r.Path, "/") {
					t.Errorf("path %q lacks the canonical trailing slash", r.Path)
				}
			}
			if tt.wantKind != "" {
				providertest.CheckFinalError(t, err, tt.wantKind)
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if tt.noKey {
				if len(ans.Findings) != 10 {
					t.Errorf("got %d findings without a key", len(ans.Findings))
				}
				return
			}
			if diff := cmp.Diff(tt.want, ans.Findings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if len(ans.Warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", ans.Warnings, tt.warnings)
			}
		})
	}
}

// The fake's daily counter: the second call of a one-call quota gets the
// exact quota line, and the provider does not retry it.
func TestDailyQuota(t *testing.T) {
	fake := &fakevendors.HackerTarget{Fixtures: fixtures, DailyQuota: 1}
	srv := fakevendors.Start(t, fake)
	cfg, gate := providertest.Config(t, "hackertarget", srv.URL, nil)
	p, err := hackertarget.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	q := schema.Query{Provider: "hackertarget", Op: schema.OpSubdomains, Subject: subject(t, "example.com")}
	if _, err := p.Query(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	_, err = p.Query(context.Background(), q)
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Kind != providers.KindQuota || !strings.Contains(err.Error(), "api_key") {
		t.Fatalf("err = %v, want a quota error naming api_key", err)
	}
	if gate.Count() != 2 {
		t.Errorf("gate charged %d requests, want 2", gate.Count())
	}
}

func TestCurrentRecords(t *testing.T) {
	srv := fakevendors.Start(t, &fakevendors.HackerTarget{Fixtures: fixtures})
	cfg, _ := providertest.Config(t, "hackertarget", srv.URL, nil)
	p, _ := hackertarget.New(context.Background(), cfg)
	ans, err := p.Query(context.Background(), schema.Query{Op: schema.OpResolutions, Subject: subject(t, "example.com")})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, f := range ans.Findings {
		types[f.Type]++
		if !f.Current {
			t.Errorf("%s not current", f.ID())
		}
	}
	if diff := cmp.Diff(map[string]int{"A": 1, "AAAA": 1, "MX": 2, "NS": 2, "TXT": 2, "SOA": 1}, types); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
}

func TestServerRequestShape(t *testing.T) {
	var got string
	srv := fakevendors.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.RequestURI()
		w.Write([]byte("No DNS A records found for example.com\n"))
	}))
	cfg, _ := providertest.Config(t, "hackertarget", srv.URL+"/", map[string]string{"api_key": "a b&c"})
	p, _ := hackertarget.New(context.Background(), cfg)
	if _, err := p.Query(context.Background(), schema.Query{Op: schema.OpSubdomains, Subject: subject(t, "example.com")}); err != nil {
		t.Fatal(err)
	}
	if want := "/hostsearch/?q=example.com&apikey=a+b%26c"; got != want {
		t.Errorf("request %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"example.com,203.0.113.10\nwww.example.com,203.0.113.10\n",
		"A : 203.0.113.10\r\nMX : 10 mx.example.com.\r\n",
		"No DNS A records found for example.com",
		"error check your search parameter",
		"\x00,,\n:::\n",
		"mail.example.com,203.0.113.25 2001:db8::25 x\nwww.example.com\n",
		"No PTR records found",
	} {
		for _, tool := range []string{"hostsearch", "reverseiplookup", "findshareddns", "dnslookup"} {
			f.Add(tool, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, tool string, body []byte) {
		findings, _, err := hackertarget.Parse(tool, "example.com", body)
		if err != nil && len(findings) > 0 {
			t.Fatal("findings with an error")
		}
		for _, x := range findings {
			if x.Name == "" || x.Type == "" {
				t.Fatalf("empty identity: %+v", x)
			}
		}
	})
}
