package dnsdumpster_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/fakevendors"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/dnsdumpster"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

const key = "DD-CANARY-5e8a21-SECRET"

var fixtures = os.DirFS("../../testdata/providers/dnsdumpster")

func f(name, rrtype, value string) schema.Finding {
	x := schema.NewFinding(name, rrtype, value)
	x.Sources = []string{"dnsdumpster"}
	x.Current = true
	return x
}

var page1 = []schema.Finding{
	f("example.com", "MX", "mx1.example.com"),
	f("example.com", "MX", "mx2.example.com"),
	f("example.com", "NS", "ns1.example.net"),
	f("example.com", "TXT", "MS=ms12345678"),
	f("example.com", "TXT", "v=spf1 include:_spf.example.net -all"),
	f("mail.example.com", "A", "198.51.100.25"),
	f("mail.example.com", "AAAA", "2001:db8::25"),
	f("mail.example.com", "HOST", ""),
	f("mx1.example.com", "A", "198.51.100.25"),
	f("ns1.example.net", "A", "198.51.100.53"),
	f("status.example.com", "A", "192.0.2.80"),
	f("status.example.com", "HOST", ""),
	f("www.example.com", "A", "203.0.113.10"),
	f("www.example.com", "HOST", ""),
}

var allPages = func() []schema.Finding {
	out := append([]schema.Finding{f("dev.example.com", "A", "203.0.113.20"), f("dev.example.com", "HOST", "")}, page1...)
	schema.SortFindings(out)
	return out
}()

func TestQuery(t *testing.T) {
	tests := []struct {
		name     string
		subject  string
		op       schema.Op
		rrtypes  []string
		fake     *fakevendors.DNSDumpster
		maxPages int64
		want     []schema.Finding
		warnings int
		wantKind providers.ErrorKind
		requests int
		errHas   string
	}{
		{name: "two pages until total_a_recs", subject: "example.com", requests: 2, want: allPages},
		{name: "max_pages reached is partial", subject: "example.com", maxPages: 1, requests: 1, want: page1, warnings: 1},
		{
			name: "rrtypes filter keeps hosts", subject: "example.com", rrtypes: []string{"NS"}, requests: 2,
			want: []schema.Finding{
				f("dev.example.com", "HOST", ""), f("example.com", "NS", "ns1.example.net"), f("mail.example.com", "HOST", ""),
				f("status.example.com", "HOST", ""), f("www.example.com", "HOST", ""),
			},
		},
		{name: "nothing found", subject: "empty.example.com", requests: 1},
		{name: "bad key", subject: "example.com", fake: &fakevendors.DNSDumpster{Key: "other"}, requests: 1, wantKind: providers.KindAuth, errHas: "DNSDUMPSTER_API_KEY"},
		{name: "429 forever", subject: "example.com", fake: &fakevendors.DNSDumpster{Limit: -1}, requests: 3, wantKind: providers.KindRateLimited},
		{
			name: "429 with Retry-After then success", subject: "example.com", requests: 3, want: allPages,
			fake: &fakevendors.DNSDumpster{Hook: fakevendors.Status(1, 429, map[string]string{"Retry-After": "1"}, `{"error":"Rate limit exceeded"}`)},
		},
		{
			name: "429 on page 2 then success", subject: "example.com", requests: 3, want: allPages,
			fake: &fakevendors.DNSDumpster{Hook: func(n int, w http.ResponseWriter, r *http.Request) bool {
				return n == 2 && fakevendors.Always(429, `{"error":"Rate limit exceeded"}`)(n, w, r)
			}},
		},
		{name: "5xx then success", subject: "example.com", requests: 4, want: allPages, fake: &fakevendors.DNSDumpster{Hook: fakevendors.Status(2, 500, nil, "Internal Server Error")}},
		{name: "page 2 refused keeps page 1", subject: "example.com", requests: 2, want: page1, warnings: 1, fake: &fakevendors.DNSDumpster{Hook: func(n int, w http.ResponseWriter, r *http.Request) bool {
			return n == 2 && fakevendors.Always(403, `{"error":"Paging requires a Plus plan"}`)(n, w, r)
		}}},
		{name: "quota in a 200 body", subject: "example.com", requests: 1, wantKind: providers.KindQuota, fake: &fakevendors.DNSDumpster{Hook: fakevendors.Always(200, `{"error":"Daily quota exceeded"}`)}},
		{name: "HTML page with 200", subject: "example.com", requests: 1, wantKind: providers.KindMalformed, fake: &fakevendors.DNSDumpster{Hook: fakevendors.Always(200, fakevendors.HTMLPage)}},
		{name: "truncated body", subject: "example.com", requests: 1, wantKind: providers.KindMalformed, fake: &fakevendors.DNSDumpster{Hook: fakevendors.Always(200, `{"a":[{"host":"www.example.com","ips":[{"ip":"203.0`)}},
		{name: "malformed body", subject: "example.com", requests: 1, wantKind: providers.KindMalformed, fake: &fakevendors.DNSDumpster{Hook: fakevendors.Always(200, `{"a":"nope"}`)}},
		{name: "oversized body", subject: "example.com", requests: 1, wantKind: providers.KindMalformed, fake: &fakevendors.DNSDumpster{Hook: fakevendors.Always(200, `{"txt":["`+strings.Repeat("x", 2<<20)+`"]}`)}},
		{name: "reverse_ip unsupported", op: schema.OpReverseIP, subject: "203.0.113.1", wantKind: providers.KindUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := tt.fake
			if fake == nil {
				fake = &fakevendors.DNSDumpster{}
			}
			fake.Fixtures = fixtures
			if fake.Key == "" {
				fake.Key = key
			}
			if fake.Limit < 0 {
				fake.Limit = 0
				fake.Hook = fakevendors.Always(429, `{"error":"Rate limit exceeded"}`)
			}
			srv := fakevendors.Start(t, fake)
			cfg, gate := providertest.Config(t, "dnsdumpster", srv.URL, map[string]string{"api_key": key})
			if tt.maxPages > 0 {
				cfg.Attrs["max_pages"] = cty.NumberIntVal(tt.maxPages)
			}
			var logs bytes.Buffer
			cfg.Logger = fakevendors.LogTo(&logs)
			p, err := dnsdumpster.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			op := tt.op
			if op == "" {
				op = schema.OpSubdomains
			}
			sub, _ := schema.ParseSubject(tt.subject)
			ans, err := p.Query(context.Background(), schema.Query{Provider: "dnsdumpster", Op: op, Subject: sub, RRTypes: tt.rrtypes})
			fakevendors.NoSecret(t, key, err, ans, &logs)
			reqs := fake.Requests()
			if len(reqs) != tt.requests || gate.Count() != tt.requests {
				t.Errorf("fake saw %d requests, gate charged %d, want %d", len(reqs), gate.Count(), tt.requests)
			}
			for i, r := range reqs {
				if r.Path != "/domain/"+tt.subject {
					t.Errorf("request %d path %q", i, r.Path)
				}
			}
			if tt.wantKind != "" {
				providertest.CheckFinalError(t, err, tt.wantKind, tt.errHas)
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
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

func TestPages(t *testing.T) {
	fake := &fakevendors.DNSDumpster{Fixtures: fixtures, Key: key}
	srv := fakevendors.Start(t, fake)
	cfg, _ := providertest.Config(t, "dnsdumpster", srv.URL, map[string]string{"api_key": key})
	p, _ := dnsdumpster.New(context.Background(), cfg)
	sub, _ := schema.ParseSubject("example.com")
	if _, err := p.Query(context.Background(), schema.Query{Op: schema.OpSubdomains, Subject: sub}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range fake.Requests() {
		got = append(got, r.Query.Encode()+" key="+r.Header.Get("X-API-Key"))
	}
	if diff := cmp.Diff([]string{" key=" + key, "page=2 key=" + key}, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestMissingKey(t *testing.T) {
	cfg, _ := providertest.Config(t, "dnsdumpster", "http://127.0.0.1:1", nil)
	if _, err := dnsdumpster.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `api_key is empty; set it, e.g. api_key = env("DNSDUMPSTER_API_KEY")`) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"example.com.json", "example.com.page2.json"} {
		data, _ := os.ReadFile("../../testdata/providers/dnsdumpster/" + name)
		f.Add(data)
	}
	f.Add([]byte(`{"mx":[{"host":"10"}],"ns":[{"host":""}],"txt":[""],"total_a_recs":"x"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := dnsdumpster.Parse(body)
		if err != nil {
			return
		}
		for _, x := range r.Findings("example.com") {
			if x.Name == "" || x.Type == "" {
				t.Fatalf("empty identity %+v", x)
			}
		}
	})
}
