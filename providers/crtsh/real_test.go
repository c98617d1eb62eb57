package crtsh_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/crtsh"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// realDir holds real crt.sh answers (see its SOURCES.md).
var realDir = filepath.Join("..", "..", "testdata", "real", "crtsh")

// crtshHeaders are the headers crt.sh sent with JSON (ninoseki/mihari's
// cassette).
var crtshHeaders = []string{"Content-Type", "application/json", "Server", "nginx", "X-Frame-Options", "SAMEORIGIN"}

// TestRealBodies replays real crt.sh answers. The expected counts are the
// distinct (issuer, serial) pairs naming each host, worked out from the
// bodies: crt.sh lists a precertificate and its leaf as two rows.
func TestRealBodies(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02T15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	h := func(name, first, last string, count int64) schema.Finding {
		return schema.Finding{Name: name, Type: "HOST", FirstSeen: at(first), LastSeen: at(last), Count: count, Sources: []string{"crtsh"}}
	}
	tests := []struct {
		name, domain, file string
		clock              string // the time of the query: last_seen is capped there
		want               []schema.Finding
	}{
		{
			// 55 rows: 27 precertificate/leaf pairs and one certificate
			// listed once; the Cloudflare certificate's CN
			// sni.cloudflaressl.com is outside the domain.
			name: "pokerkg.dev, rows with serial numbers", domain: "pokerkg.dev", file: "pokerkg.dev.json", clock: "2021-02-04T00:00:00",
			want: []schema.Finding{
				h("api.pokerkg.dev", "2020-01-10T09:30:50", "2021-02-04T00:00:00", 7),
				h("bo.pokerkg.dev", "2020-02-10T14:03:00", "2021-02-04T00:00:00", 6),
				h("poker.pokerkg.dev", "2019-12-27T06:00:36", "2021-02-04T00:00:00", 7),
				h("pokerkg.dev", "2021-02-03T00:00:00", "2021-02-04T00:00:00", 1),
				h("ws.pokerkg.dev", "2019-12-27T06:01:17", "2021-02-04T00:00:00", 7),
			},
		},
		{
			// 54 rows, 27 pairs; certificates of the subdomains all expired
			// by the query (their last not_after 2021-03-14).
			name: "pokerkg.com, expired and live certificates", domain: "pokerkg.com", file: "pokerkg.com.json", clock: "2021-08-05T00:00:00",
			want: []schema.Finding{
				h("admin8sh2bote1sg.pokerkg.com", "2020-02-17T14:09:23", "2021-03-14T23:28:29", 6),
				h("api.pokerkg.com", "2020-02-17T13:50:33", "2021-03-14T23:29:32", 7),
				h("game.pokerkg.com", "2020-02-17T12:49:26", "2021-03-14T23:28:03", 7),
				h("pokerkg.com", "2021-02-03T18:30:01", "2021-08-05T00:00:00", 4),
				h("ws.pokerkg.com", "2020-02-17T14:10:23", "2021-03-14T23:31:50", 6),
			},
		},
		{
			// The 2020 output has no serial_number: 12 rows are 6
			// certificates, each pair with the same issuer, validity and
			// names.
			name: "crt.sh, rows without serial numbers", domain: "crt.sh", file: "identity_crt.sh_exclude_expired.json", clock: "2020-01-12T23:59:20",
			want: []schema.Finding{
				h("crt.sh", "2018-10-01T00:00:00", "2020-01-12T23:59:20", 6),
				h("www.crt.sh", "2019-07-31T00:00:00", "2020-01-12T23:59:20", 2),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/?q=%25." + tt.domain + "&output=json"
			replay := providertest.NewReplay(t, realDir, providertest.Exchange{Path: path, File: tt.file, Header: crtshHeaders})
			cfg, gate := providertest.Config(t, "crtsh", replay.URL, nil)
			p, err := crtsh.NewWithClock(context.Background(), cfg, func() time.Time { return at(tt.clock) })
			if err != nil {
				t.Fatal(err)
			}
			ans, err := p.Query(context.Background(), providertest.Query("crtsh", schema.OpSubdomains, tt.domain))
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			replay.CheckRequests(t, gate, []string{"GET " + path})
			if ans.Requests != 1 {
				t.Errorf("answer counts %d requests, want 1", ans.Requests)
			}
			providertest.CheckWarnings(t, ans.Warnings, "")
		})
	}
}

// TestWrongShapes: crt.sh answers a JSON array of certificate rows; a 200
// that is no array, or whose rows are not certificate entries, is not
// "no certificates". [] is crt.sh's real empty answer.
func TestWrongShapes(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		kind       providers.ErrorKind
		msg        string
		findings   int
		warning    string
	}{
		{name: "real empty answer", body: `[]`},
		{name: "empty object", body: `{}`, kind: providers.KindMalformed, msg: "not a JSON array"},
		{name: "null", body: `null`, kind: providers.KindMalformed, msg: "not a JSON array"},
		{name: "message object", body: `{"message":"You have exceeded the allowed usage of your API key"}`, kind: providers.KindMalformed, msg: "exceeded the allowed usage"},
		{name: "rows that are not certificates", body: `[{}, null, 7]`, kind: providers.KindMalformed, msg: "none of its 3 rows is a certificate entry"},
		{name: "rows without names", body: `[{"id": 1, "issuer_ca_id": 16418}]`, kind: providers.KindMalformed, msg: "none of its 1 rows"},
		{
			name: "one broken row among real ones is skipped", findings: 1, warning: "row 2 is not a certificate entry",
			body: `[{"issuer_ca_id":16418,"name_value":"www.example.com","id":3,"not_before":"2020-01-01T00:00:00","not_after":"2020-04-01T00:00:00","serial_number":"03"}, {}]`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := "/?q=%25.example.com&output=json"
			replay := providertest.NewReplay(t, realDir, providertest.Exchange{Path: path, Body: tt.body, Header: crtshHeaders})
			cfg, _ := providertest.Config(t, "crtsh", replay.URL, nil)
			p, err := crtsh.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			ans, err := p.Query(context.Background(), providertest.Query("crtsh", schema.OpSubdomains, "example.com"))
			if tt.kind != "" {
				providertest.CheckFinalError(t, err, tt.kind, tt.msg)
				replay.CheckRequests(t, nil, []string{"GET " + path})
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if len(ans.Findings) != tt.findings {
				t.Errorf("%d findings, want %d", len(ans.Findings), tt.findings)
			}
			providertest.CheckWarnings(t, ans.Warnings, tt.warning)
		})
	}
}
