package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

// A wildcard record in a dump (*.acme.example, as DNSDB, CIRCL and Sonar
// export them) is a record of the wildcard name: the apex's resolutions
// do not hold it, the apex's subdomains list the wildcard name, and the
// reverse lookup of its address names the wildcard.
func TestWildcardRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wild.ndjson")
	lines := []string{
		`{"rrname":"acme.example.","rrtype":"A","rdata":"192.0.2.1","time_first":1700000000,"time_last":1700086400,"count":3}`,
		`{"rrname":"*.acme.example.","rrtype":"A","rdata":"198.51.100.7","time_first":1700000000,"time_last":1700086400,"count":5}`,
		`{"rrname":"*.Acme.Example.","rrtype":"MX","rdata":"10 mx.acme.example.","time_first":1700000000,"time_last":1700086400,"count":1}`,
		`{"rrname":"www.acme.example.","rrtype":"CNAME","rdata":"*.cdn.example.","time_first":1700000000,"time_last":1700086400,"count":1}`,
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newTestProvider(t, path, nil)
	ids := func(fs []schema.Finding) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID())
		}
		return strings.Join(out, "; ")
	}
	for _, tc := range []struct {
		op      schema.Op
		subject string
		want    string
	}{
		{schema.OpResolutions, "acme.example", "acme.example A 192.0.2.1"},
		{schema.OpSubdomains, "acme.example", "*.acme.example HOST ; mx.acme.example HOST ; www.acme.example HOST "},
		{schema.OpReverseIP, "198.51.100.7", "*.acme.example A 198.51.100.7"},
		{schema.OpMXReverse, "mx.acme.example", "*.acme.example MX mx.acme.example"},
	} {
		if got := ids(query(t, p, tc.op, tc.subject).Findings); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.op, tc.subject, got, tc.want)
		}
	}
	ans := query(t, p, schema.OpResolutions, "www.acme.example")
	if got := ids(ans.Findings); got != "www.acme.example CNAME *.cdn.example" {
		t.Errorf("www: %s", got)
	}
	for _, f := range ans.Findings {
		if why := schema.CheckRecord(f); why != "" {
			t.Errorf("%s refused: %s", f.ID(), why)
		}
	}
}

// A zone file's wildcard owner ("*", relative to the origin) is the
// wildcard name, not the origin.
func TestZoneWildcardOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.zone")
	zone := "$ORIGIN acme.example.\n$TTL 300\n" +
		"@ IN SOA ns1 hostmaster 2024060101 7200 3600 1209600 300\n" +
		"@ IN A 192.0.2.1\n" +
		"* IN A 198.51.100.7\n" +
		"*.dev IN CNAME edge.cdn.example.\n"
	if err := os.WriteFile(path, []byte(zone), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newTestProvider(t, path, map[string]cty.Value{"format": cty.StringVal(FormatZone)})
	var got []string
	for _, subject := range []string{"198.51.100.7"} {
		for _, f := range query(t, p, schema.OpReverseIP, subject).Findings {
			got = append(got, f.ID())
		}
	}
	for _, f := range query(t, p, schema.OpSubdomains, "acme.example").Findings {
		got = append(got, f.ID())
	}
	want := "*.acme.example A 198.51.100.7; *.acme.example HOST ; *.dev.acme.example HOST "
	if strings.Join(got, "; ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "; "), want)
	}
}
