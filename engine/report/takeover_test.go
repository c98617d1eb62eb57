package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/schema"
)

func takeoverInput() Input {
	f := func(name, typ, value string) Finding {
		x := schema.NewFinding(name, typ, value)
		x.Current = true
		x.Sources = []string{"file.pdns"}
		x.Query = "file.pdns resolutions " + name
		return Finding{Finding: x}
	}
	return Input{
		Engagement: "acme",
		Scope:      []string{"acme.example"},
		Findings: []Finding{
			f("old.acme.example", "CNAME", "acme-old.azurewebsites.net"),
			f("pages.acme.example", "CNAME", "acme.github.io"),
			f("acme.github.io", "A", "185.199.108.153"),
			f("acme.example", "NS", "ns2.lapsed-dns.com"),
			f("acme.example", "MX", "10 mx.gone-mail.com"),
			f("acme.example", "CAA", `0 issue "letsencrypt.org"`),
			f("www.acme.example", "A", "203.0.113.10"),
		},
		Facts: []schema.Fact{
			{Subject: "old.acme.example", Kind: "dangling_cname", Value: "acme-old.azurewebsites.net"},
			{Subject: "pages.acme.example", Kind: "http_fingerprint", Value: "github-pages"},
			{Subject: "lapsed-dns.com", Kind: "registration", Value: "expired"},
			{Subject: "gone-mail.com", Kind: "registration", Value: "unregistered"},
			{Subject: "www.acme.example", Kind: "cert_issuer", Value: "DigiCert Inc"},
		},
	}
}

// The section leads the report, confirmed risks first; a confirmed
// candidate appears once.
func TestMarkdownTakeoverRisks(t *testing.T) {
	in := takeoverInput()
	var plain []schema.Finding
	for _, f := range in.Findings {
		plain = append(plain, f.Finding)
	}
	in.Facts = append(in.Facts, analysis.Derive(plain, analysis.Options{Facts: in.Facts})...)
	var buf bytes.Buffer
	if err := Render(&buf, "md", in); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	risks, summary := strings.Index(md, "## Takeover risks"), strings.Index(md, "## Summary")
	if risks < 0 || summary < 0 || risks > summary {
		t.Fatalf("Takeover risks must come before the summary:\n%s", md)
	}
	section := md[risks:summary]
	order := []string{
		"| `old.acme.example` | **takeover confirmed** | `azure` |",
		"| `pages.acme.example` | **takeover confirmed** | `github-pages` |",
		"| `acme.example` | dangling NS | `ns2.lapsed-dns.com` | lapsed-dns.com is expired |",
		"| `acme.example` | dangling MX | `mx.gone-mail.com` | gone-mail.com is unregistered |",
	}
	last := -1
	for _, row := range order {
		i := strings.Index(section, row)
		if i < 0 || i < last {
			t.Fatalf("row %q missing or out of order in:\n%s", row, section)
		}
		last = i
	}
	if strings.Count(section, "old.acme.example`") != 1 {
		t.Errorf("old.acme.example listed more than once:\n%s", section)
	}
	if !strings.Contains(md, "## Certificates against CAA") || !strings.Contains(md, "| `www.acme.example` | DigiCert Inc |") {
		t.Errorf("no CAA violation for DigiCert under a Let's Encrypt-only CAA:\n%s", md)
	}
}

func TestMarkdownNoTakeoverSection(t *testing.T) {
	in := takeoverInput()
	in.Findings = in.Findings[6:]
	in.Facts = nil
	var buf bytes.Buffer
	if err := Render(&buf, "md", in); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Takeover risks") || strings.Contains(buf.String(), "against CAA") {
		t.Errorf("sections without risks:\n%s", buf.String())
	}
}
