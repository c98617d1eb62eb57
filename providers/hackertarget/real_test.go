package hackertarget_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/hackertarget"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// realDir holds real HackerTarget answers (see its SOURCES.md).
var realDir = filepath.Join("..", "..", "testdata", "real", "hackertarget")

// htHeaders: HackerTarget answers every tool, errors included, with 200
// and plain text.
var htHeaders = []string{"Content-Type", "text/plain; charset=UTF-8"}

func ht(name, rrtype, value string) schema.Finding {
	return schema.Finding{Name: name, Type: rrtype, Value: value, Sources: []string{"hackertarget"}}
}

func TestRealBodies(t *testing.T) {
	tests := []struct {
		name     string
		op       schema.Op
		subject  string
		path     string
		file     string
		status   int
		want     []schema.Finding
		warnings int
		kind     providers.ErrorKind
		msg      string
	}{
		{
			// 22 lines, 30 addresses: two lines list several, separated
			// by spaces.
			name: "hostsearch splunk.com", op: schema.OpSubdomains, subject: "splunk.com",
			path: "/hostsearch/?q=splunk.com", file: "hostsearch_splunk.com.txt",
			want: []schema.Finding{
				ht("crashplan.splunk.com", "A", "204.107.141.25"),
				ht("crashplan.splunk.com", "HOST", ""),
				ht("eg0.sv.splunk.com", "A", "206.51.38.108"),
				ht("eg0.sv.splunk.com", "HOST", ""),
				ht("exsso.splunk.com", "A", "204.107.141.24"),
				ht("exsso.splunk.com", "HOST", ""),
				ht("exsso.staging.splunk.com", "A", "204.107.141.26"),
				ht("exsso.staging.splunk.com", "HOST", ""),
				ht("host-240.splunk.com", "A", "204.107.141.240"),
				ht("host-240.splunk.com", "HOST", ""),
				ht("host-241.splunk.com", "A", "204.107.141.241"),
				ht("host-241.splunk.com", "HOST", ""),
				ht("host-242.splunk.com", "A", "204.107.141.242"),
				ht("host-242.splunk.com", "HOST", ""),
				ht("host-243.splunk.com", "A", "204.107.141.243"),
				ht("host-243.splunk.com", "HOST", ""),
				ht("host-244.splunk.com", "A", "204.107.141.244"),
				ht("host-244.splunk.com", "HOST", ""),
				ht("host-245.splunk.com", "A", "204.107.141.245"),
				ht("host-245.splunk.com", "HOST", ""),
				ht("host-246.splunk.com", "A", "204.107.141.246"),
				ht("host-246.splunk.com", "HOST", ""),
				ht("ip1.splunk.com", "A", "66.92.1.154"),
				ht("ip1.splunk.com", "HOST", ""),
				ht("jss.splunk.com", "A", "204.107.141.110"),
				ht("jss.splunk.com", "HOST", ""),
				ht("mail.splunk.com", "A", "204.107.141.23"),
				ht("mail.splunk.com", "A", "206.80.3.66"),
				ht("mail.splunk.com", "A", "206.80.3.67"),
				ht("mail.splunk.com", "A", "206.80.3.68"),
				ht("mail.splunk.com", "A", "206.80.3.69"),
				ht("mail.splunk.com", "A", "206.80.3.70"),
				ht("mail.splunk.com", "A", "66.92.1.49"),
				ht("mail.splunk.com", "HOST", ""),
				ht("merge.splunk.com", "A", "204.107.141.32"),
				ht("merge.splunk.com", "HOST", ""),
				ht("out.east.mail.splunk.com", "A", "199.193.200.35"),
				ht("out.east.mail.splunk.com", "A", "199.193.200.70"),
				ht("out.east.mail.splunk.com", "A", "199.193.200.71"),
				ht("out.east.mail.splunk.com", "HOST", ""),
				ht("out.west.mail.splunk.com", "A", "64.78.52.96"),
				ht("out.west.mail.splunk.com", "HOST", ""),
				ht("pfe111-ca-1.mail.splunk.com", "A", "64.78.52.101"),
				ht("pfe111-ca-1.mail.splunk.com", "HOST", ""),
				ht("pfe111-ca-2.mail.splunk.com", "A", "64.78.52.102"),
				ht("pfe111-ca-2.mail.splunk.com", "HOST", ""),
				ht("pfe111-va-3.mail.splunk.com", "A", "199.193.202.12"),
				ht("pfe111-va-3.mail.splunk.com", "HOST", ""),
				ht("splunkbot.splunk.com", "A", "23.21.104.28"),
				ht("splunkbot.splunk.com", "HOST", ""),
				ht("sv5vcse01.splunk.com", "A", "204.107.141.75"),
				ht("sv5vcse01.splunk.com", "HOST", ""),
			},
		},
		{
			name: "hostsearch lines without an address are host names", op: schema.OpSubdomains, subject: "blacklanternsecurity.com",
			path: "/hostsearch/?q=blacklanternsecurity.com", file: "hostsearch_blacklanternsecurity.com.txt",
			want: []schema.Finding{ht("asdf.blacklanternsecurity.com", "HOST", ""), ht("zzzz.blacklanternsecurity.com", "HOST", "")},
		},
		{
			name: "daily quota", op: schema.OpSubdomains, subject: "splunk.com",
			path: "/hostsearch/?q=splunk.com", file: "api_count_exceeded.txt",
			kind: providers.KindQuota, msg: "daily API quota",
		},
		{
			name: "daily quota with 429", op: schema.OpSubdomains, subject: "splunk.com",
			path: "/hostsearch/?q=splunk.com", file: "api_count_exceeded.txt", status: http.StatusTooManyRequests,
			kind: providers.KindQuota, msg: "daily API quota",
		},
		{
			name: "invalid key", op: schema.OpReverseIP, subject: "204.107.141.240",
			path: "/reverseiplookup/?q=204.107.141.240", file: "error_invalid_key.txt",
			kind: providers.KindAuth, msg: "rejected the key",
		},
		{
			name: "refused search parameter", op: schema.OpNSReverse, subject: "splunk.com",
			path: "/findshareddns/?q=splunk.com", file: "error_check_search_parameter.txt",
			kind: providers.KindBadInput, msg: "rejected the search parameter",
		},
		{
			name: "a nothing-found sentence", op: schema.OpReverseIP, subject: "204.107.141.240",
			path: "/reverseiplookup/?q=204.107.141.240", file: "no_ptr_records_found.txt",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replay := providertest.NewReplay(t, realDir, providertest.Exchange{Path: tt.path, File: tt.file, Status: tt.status, Header: htHeaders})
			cfg, gate := providertest.Config(t, "hackertarget", replay.URL, nil)
			p, _ := providertest.Build(t, hackertarget.New, cfg)
			ans, err := p.Query(context.Background(), providertest.Query("hackertarget", tt.op, tt.subject))
			replay.CheckRequests(t, gate, []string{"GET " + tt.path})
			if tt.kind != "" {
				providertest.CheckFinalError(t, err, tt.kind, tt.msg)
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if len(ans.Warnings) != tt.warnings || ans.Requests != 1 {
				t.Errorf("warnings %q, requests %d", ans.Warnings, ans.Requests)
			}
		})
	}
}

// TestWrongShapes: HackerTarget answers in text lines; a 200 that is empty
// or has no line of the tool's format is not "nothing found" (HackerTarget
// says so in a sentence).
func TestWrongShapes(t *testing.T) {
	for _, body := range []string{``, "\n", `{}`, `null`, `[]`, `{"subdomains":null}`, `{"message":"You have exceeded the allowed usage of your API key"}`} {
		t.Run(body, func(t *testing.T) {
			replay := providertest.NewReplay(t, realDir, providertest.Exchange{Path: "/hostsearch/?q=splunk.com", Body: body, Header: htHeaders})
			cfg, _ := providertest.Config(t, "hackertarget", replay.URL, nil)
			p, _ := providertest.Build(t, hackertarget.New, cfg)
			ans, err := p.Query(context.Background(), providertest.Query("hackertarget", schema.OpSubdomains, "splunk.com"))
			providertest.CheckFinalError(t, err, providers.KindMalformed)
			if len(ans.Findings) != 0 || len(replay.Requests()) != 1 {
				t.Errorf("findings %v, requests %d", ans.Findings, len(replay.Requests()))
			}
		})
	}
}

// TestHostsearchLines covers the line forms real answers use.
func TestHostsearchLines(t *testing.T) {
	for _, tt := range []struct {
		body string
		want []string // finding IDs
		warn bool
	}{
		{"www.example.com,203.0.113.10", []string{"www.example.com A 203.0.113.10", "www.example.com HOST "}, false},
		{"www.example.com", []string{"www.example.com HOST "}, false},
		{"www.example.com,", []string{"www.example.com HOST "}, false},
		{"mail.example.com,203.0.113.25 2001:db8::25", []string{"mail.example.com A 203.0.113.25", "mail.example.com AAAA 2001:db8::25", "mail.example.com HOST "}, false},
		{"www.example.com\nother.example.org,203.0.113.9", []string{"www.example.com HOST "}, true},
		{"www.example.com,not-an-ip", []string{"www.example.com HOST "}, true},
	} {
		fs, warnings, err := hackertarget.Parse("hostsearch", "example.com", []byte(tt.body))
		if err != nil {
			t.Errorf("%q: %v", tt.body, err)
			continue
		}
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.ID())
		}
		schemaSort(ids)
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.body, diff)
		}
		if (len(warnings) > 0) != tt.warn {
			t.Errorf("%q: warnings %q", tt.body, warnings)
		}
	}
}

func schemaSort(ids []string) {
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if strings.Compare(ids[j], ids[i]) < 0 {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
	}
}
