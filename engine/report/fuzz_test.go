package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"testing"

	"github.com/reconform/reconform/schema"
)

// FuzzRenormalize feeds Renormalize the records of hand-written or foreign
// states (outside input: any name, type and value): it must not panic, it
// must be idempotent (a renormalised finding is left alone), and a report
// over the result must render in every format, with CSV, JSON and XML
// outputs that parse.
func FuzzRenormalize(f *testing.F) {
	for _, seed := range [][3]string{
		{"Odd.Example.", "mx", "10 ODD-example.mail.protection.outlook.com."},
		{"odd.example", "TXT", `"v=spf1 include:spf.protection.outlook.com " "?all"`},
		{"_dmarc.odd.example", "txt", `"v=DMARC1; p=quarantine"`},
		{"WWW.hand.example", "A", "192.0.2.7"},
		{"v6.example", "AAAA", "2001:DB8::0:1"},
		{"*.wild.example", "CNAME", "Target.Example."},
		{"parked.example", "MX", "0 ."},
		{"a.example", "TXT", "=HYPERLINK(\"http://evil.example\")"},
		{"", "", ""},
		{"x\x00y", "A", "\xff"},
		{"a..b", "NS", "\"unterminated"},
		{"a.example", "TXT", `"\" 0"`},
		{"a.example", "TXT", `" spaces "`},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, name, typ, value string) {
		fd := schema.Finding{Name: name, Type: typ, Value: value, Current: true}
		Renormalize(&fd)
		once := fd
		if Renormalize(&fd) {
			t.Errorf("Renormalize is not idempotent: %q %q %q became %q %q %q, then %q %q %q",
				name, typ, value, once.Name, once.Type, once.Value, fd.Name, fd.Type, fd.Value)
		}
		in := Input{Engagement: "fuzz", Findings: []Finding{
			{Finding: schema.Finding{Name: name, Type: typ, Value: value, Current: true}},
			{Finding: schema.Finding{Name: "www.fuzz.example", Type: "A", Value: "192.0.2.1", Current: true}},
		}}
		for _, format := range Formats {
			var buf bytes.Buffer
			if err := Render(&buf, format, in); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			switch format {
			case "csv":
				if _, err := csv.NewReader(&buf).ReadAll(); err != nil {
					t.Errorf("the CSV export does not parse: %v", err)
				}
			case "json", "stix", "misp":
				if !json.Valid(buf.Bytes()) {
					t.Errorf("the %s export is not JSON", format)
				}
			case "graphml":
				dec := xml.NewDecoder(&buf)
				for {
					if _, err := dec.Token(); err == io.EOF {
						break
					} else if err != nil {
						t.Fatalf("the GraphML export is not XML: %v", err)
					}
				}
			}
		}
	})
}
