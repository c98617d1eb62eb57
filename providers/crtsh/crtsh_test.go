package crtsh_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/fakevendors"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/crtsh"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

var fixtures = os.DirFS("../../testdata/providers/crtsh")

// now is the test clock: after every certificate in the fixture expired.
var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func host(name, first, last string, count int64) schema.Finding {
	f := schema.NewFinding(name, schema.TypeHost, "")
	f.FirstSeen, _ = time.Parse("2006-01-02T15:04:05", first)
	f.LastSeen, _ = time.Parse("2006-01-02T15:04:05", last)
	f.Count = count
	f.Sources = []string{"crtsh"}
	return f
}

// exampleHosts: the fixture's three rows with issuer 100001 and serial
// 04a1b2... (ids 9876543210 twice and 9876543199, a precertificate and its
// leaf) are one certificate.
var exampleHosts = []schema.Finding{
	host("dev.example.com", "2023-12-13T02:58:33", "2024-03-12T02:58:32", 1),
	host("example.com", "2024-06-01T09:00:00", "2024-08-30T09:00:00", 1),
	host("shop.example.com", "2024-07-15T08:00:00", "2024-10-13T08:00:00", 1),
	host("www.example.com", "2024-06-01T09:00:00", "2024-10-13T08:00:00", 2),
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name     string
		subject  string
		op       schema.Op
		hook     fakevendors.Hook
		exclude  bool
		clock    time.Time
		want     []schema.Finding
		wantKind providers.ErrorKind
		requests int
	}{
		{name: "names from certificates", subject: "example.com", requests: 1, want: exampleHosts},
		{
			name: "unexpired certificates reach now", subject: "example.com", requests: 1, clock: time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC),
			want: []schema.Finding{
				host("dev.example.com", "2023-12-13T02:58:33", "2024-03-12T02:58:32", 1),
				host("example.com", "2024-06-01T09:00:00", "2024-08-30T09:00:00", 1),
				host("shop.example.com", "2024-07-15T08:00:00", "2024-09-01T12:00:00", 1),
				host("www.example.com", "2024-06-01T09:00:00", "2024-09-01T12:00:00", 2),
			},
		},
		{name: "exclude=expired", subject: "example.com", exclude: true, requests: 1},
		{name: "sub-domain query keeps only its names", subject: "dev.example.com", requests: 1},
		{name: "nothing found is []", subject: "nothing.example.com", requests: 1},
		{name: "502 then success", subject: "example.com", requests: 3, hook: fakevendors.Status(2, 502, nil, "<html><body>502 Bad Gateway</body></html>"), want: exampleHosts},
		{name: "429 with Retry-After then success", subject: "example.com", requests: 2, hook: fakevendors.Status(1, 429, map[string]string{"Retry-After": "1"}, ""), want: exampleHosts},
		{name: "HTML page with 200 then success", subject: "example.com", requests: 2, hook: fakevendors.Status(1, 200, nil, fakevendors.HTMLPage), want: exampleHosts},
		{name: "HTML page with 200 forever", subject: "example.com", requests: 3, hook: fakevendors.Always(200, fakevendors.HTMLPage), wantKind: providers.KindTransient},
		{name: "503 forever", subject: "example.com", requests: 3, hook: fakevendors.Always(503, "Service Unavailable"), wantKind: providers.KindTransient},
		{name: "truncated JSON is retried", subject: "example.com", requests: 3, hook: fakevendors.Always(200, `[{"id":1,"name_value":"a.example.com"},{"id":2,"name_va`), wantKind: providers.KindTransient},
		{name: "malformed body", subject: "example.com", requests: 1, hook: fakevendors.Always(200, `{"error":"no"}`), wantKind: providers.KindMalformed},
		{name: "malformed array", subject: "example.com", requests: 1, hook: fakevendors.Always(200, `[1,2,]`), wantKind: providers.KindMalformed},
		{name: "NUL byte is not a truncation", subject: "example.com", requests: 1, hook: fakevendors.Always(200, "[{\"id\":1,\"name_value\":\"a\x00.example.com\"}]\n{"), wantKind: providers.KindMalformed},
		{name: "oversized body", subject: "example.com", requests: 1, hook: fakevendors.Always(200, "["+strings.Repeat(`{"id":1,"name_value":"a.example.com"},`, 40_000)+"{}]"), wantKind: providers.KindMalformed},
		{name: "reverse_ip unsupported", op: schema.OpReverseIP, subject: "203.0.113.1", wantKind: providers.KindUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakevendors.CrtSh{Fixtures: fixtures, Hook: tt.hook, Now: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)}
			srv := fakevendors.Start(t, fake)
			cfg, gate := providertest.Config(t, "crtsh", srv.URL, nil)
			if tt.exclude {
				cfg.Attrs["exclude_expired"] = cty.True
			}
			var logs bytes.Buffer
			cfg.Logger = fakevendors.LogTo(&logs)
			clock := now
			if !tt.clock.IsZero() {
				clock = tt.clock
			}
			p, err := crtsh.NewWithClock(context.Background(), cfg, func() time.Time { return clock })
			if err != nil {
				t.Fatal(err)
			}
			op := tt.op
			if op == "" {
				op = schema.OpSubdomains
			}
			sub, err := schema.ParseSubject(tt.subject)
			if err != nil {
				t.Fatal(err)
			}
			ans, err := p.Query(context.Background(), schema.Query{Provider: "crtsh", Op: op, Subject: sub})
			reqs := fake.Requests()
			if len(reqs) != tt.requests || gate.Count() != tt.requests {
				t.Errorf("fake saw %d requests, gate charged %d, want %d", len(reqs), gate.Count(), tt.requests)
			}
			for _, r := range reqs {
				if got := r.Query.Get("q"); got != "%."+tt.subject || r.Query.Get("output") != "json" {
					t.Errorf("query %v", r.Query)
				}
				if tt.exclude != (r.Query.Get("exclude") == "expired") {
					t.Errorf("exclude = %q", r.Query.Get("exclude"))
				}
			}
			if tt.wantKind != "" {
				providertest.CheckFinalError(t, err, tt.wantKind)
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			want := tt.want
			switch tt.name {
			case "exclude=expired":
				want = []schema.Finding{
					host("shop.example.com", "2024-07-15T08:00:00", "2024-10-13T08:00:00", 1),
					host("www.example.com", "2024-07-15T08:00:00", "2024-10-13T08:00:00", 1),
				}
			case "sub-domain query keeps only its names":
				want = nil
			}
			if diff := cmp.Diff(want, ans.Findings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestIsEscaped(t *testing.T) {
	fake := &fakevendors.CrtSh{Fixtures: fixtures}
	srv := fakevendors.Start(t, fake)
	cfg, _ := providertest.Config(t, "crtsh", srv.URL+"/", nil)
	p, _ := crtsh.New(context.Background(), cfg)
	sub, _ := schema.ParseSubject("example.com")
	if _, err := p.Query(context.Background(), schema.Query{Op: schema.OpSubdomains, Subject: sub}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests()[0]; got.Path != "/" {
		t.Errorf("path %q", got.Path)
	}
}

func FuzzParse(f *testing.F) {
	data, _ := os.ReadFile("../../testdata/providers/crtsh/example.com.json")
	f.Add(data)
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"id":"7","name_value":"*.A.example.com\nx@example.com\n203.0.113.1","not_before":"bad"}]`))
	for _, name := range []string{"pokerkg.dev.json", "identity_crt.sh_exclude_expired.json"} {
		if data, err := os.ReadFile(filepath.Join(realDir, name)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fs, _, err := crtsh.Parse("example.com", body, now)
		if err != nil && fs != nil {
			t.Fatal("findings with an error")
		}
		for _, x := range fs {
			if x.Name != "example.com" && !strings.HasSuffix(x.Name, ".example.com") {
				t.Fatalf("name outside the domain: %q", x.Name)
			}
			if x.LastSeen.After(now) {
				t.Fatalf("last_seen in the future: %v", x.LastSeen)
			}
		}
	})
}

// A certificate's wildcard identity names its parent (see the package
// doc): a certificate is no wildcard record. Names with a "*" elsewhere
// are no certificate names.
func TestWildcardIdentities(t *testing.T) {
	body := `[{"issuer_ca_id":1,"issuer_name":"CN=CA","serial_number":"01","id":1,"entry_timestamp":"2024-06-01T09:00:00",` +
		`"not_before":"2024-06-01T09:00:00","not_after":"2024-08-30T09:00:00",` +
		`"name_value":"*.Example.com.\n*.dev.example.com\n*.*.example.com\nwww.*.example.com\n*.com"}]`
	fake := &fakevendors.CrtSh{Fixtures: fixtures, Hook: fakevendors.Always(200, body)}
	srv := fakevendors.Start(t, fake)
	cfg, _ := providertest.Config(t, "crtsh", srv.URL, nil)
	p, err := crtsh.NewWithClock(context.Background(), cfg, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := schema.ParseSubject("example.com")
	ans, err := p.Query(context.Background(), schema.Query{Provider: "crtsh", Op: schema.OpSubdomains, Subject: sub})
	if err != nil {
		t.Fatal(err)
	}
	want := []schema.Finding{
		host("dev.example.com", "2024-06-01T09:00:00", "2024-08-30T09:00:00", 1),
		host("example.com", "2024-06-01T09:00:00", "2024-08-30T09:00:00", 1),
	}
	if diff := cmp.Diff(want, ans.Findings, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
