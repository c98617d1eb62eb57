package report

import (
	"bytes"
	"encoding/json"
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

// Markdown, HTML and JSON show the same risks from one model: each once,
// confirmed first, with the catalogue's status and source or the
// domain's registration; a dangling CNAME that is a takeover's chain is
// that takeover, one that is not is a risk of its own; the CAA
// violations are in the attention area too.
func TestRisksInEveryFormat(t *testing.T) {
	in := takeoverInput()
	in.Findings = append(in.Findings, Finding{Finding: schema.Finding{Name: "legacy.acme.example", Type: "CNAME", Value: "app.lapsed-dns.com", Current: true}})
	in.Facts = append(in.Facts, schema.Fact{Subject: "legacy.acme.example", Kind: "dangling_cname", Value: "app.lapsed-dns.com",
		Evidence: []string{"legacy.acme.example CNAME app.lapsed-dns.com"}})
	var plain []schema.Finding
	for _, f := range in.Findings {
		plain = append(plain, f.Finding)
	}
	in.Facts = append(in.Facts, analysis.Derive(plain, analysis.Options{Facts: in.Facts})...)
	render := func(format string) string {
		var buf bytes.Buffer
		if err := Render(&buf, format, in); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}

	want := []Risk{
		{Subject: "old.acme.example", Kind: "takeover_confirmed", What: "takeover confirmed", Target: "azure", Confirmed: true},
		{Subject: "pages.acme.example", Kind: "takeover_confirmed", What: "takeover confirmed", Target: "github-pages", Confirmed: true},
		{Subject: "legacy.acme.example", Kind: "dangling_cname", What: "dangling CNAME", Target: "app.lapsed-dns.com", Detail: "lapsed-dns.com is expired"},
		{Subject: "acme.example", Kind: "dangling_ns", What: "dangling NS", Target: "ns2.lapsed-dns.com", Detail: "lapsed-dns.com is expired"},
		{Subject: "acme.example", Kind: "dangling_mx", What: "dangling MX", Target: "mx.gone-mail.com", Detail: "gone-mail.com is unregistered"},
	}
	var doc struct {
		Risks []Risk         `json:"takeover_risks"`
		CAA   []CAAViolation `json:"caa_violations"`
	}
	if err := json.Unmarshal([]byte(render("json")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Risks) != len(want) {
		t.Fatalf("JSON takeover_risks %+v, want %d rows", doc.Risks, len(want))
	}
	for i, r := range doc.Risks {
		w := want[i]
		if r.Subject != w.Subject || r.Kind != w.Kind || r.What != w.What || r.Target != w.Target || r.Confirmed != w.Confirmed ||
			(w.Detail != "" && r.Detail != w.Detail) || len(r.Evidence) == 0 {
			t.Errorf("takeover_risks[%d] = %+v, want %+v", i, r, w)
		}
		if r.Kind == "takeover_confirmed" && (r.Source == "" || !strings.Contains(r.Detail, ", vulnerable") && !strings.Contains(r.Detail, ", edge case")) {
			t.Errorf("takeover_risks[%d] = %+v: no catalogue status or source", i, r)
		}
	}
	if len(doc.CAA) != 1 || doc.CAA[0].Subject != "www.acme.example" || doc.CAA[0].Issuer != "DigiCert Inc" || len(doc.CAA[0].Evidence) == 0 {
		t.Errorf("JSON caa_violations %+v", doc.CAA)
	}

	md := render("md")
	md = md[:strings.Index(md, "## Summary")]
	page := render("html")
	attention := page[strings.Index(page, `<section id="attention">`):strings.Index(page, `<section id="drift">`)]
	row := map[string]func(r Risk) string{
		"md": func(r Risk) string {
			if r.Confirmed {
				return "| `" + r.Subject + "` | **" + r.What + "** | `" + r.Target + "` |"
			}
			return "| `" + r.Subject + "` | " + r.What + " | `" + r.Target + "` |"
		},
		"html": func(r Risk) string {
			return "<td><code>" + r.Subject + "</code></td><td><span class=\"badge " + map[bool]string{true: "b-error", false: "b-warning"}[r.Confirmed] +
				"\">" + r.What + "</span></td><td><code class=\"wrapv\">" + r.Target + "</code>"
		},
	}
	for name, out := range map[string]string{"md": md, "html": attention} {
		if n := strings.Count(out, "Takeover risks"); n != 1 {
			t.Errorf("%s: %d Takeover risks sections", name, n)
		}
		if n := strings.Count(out, "Certificates against CAA"); n != 1 {
			t.Errorf("%s: %d CAA sections", name, n)
		}
		last := -1
		for _, w := range want {
			i := strings.Index(out, row[name](w))
			if i < 0 || i < last {
				t.Errorf("%s: risk %s %s %s missing or out of order", name, w.Subject, w.What, w.Target)
			}
			last = i
		}
		rowStart := map[string]string{"md": "| `old.acme.example` |", "html": "<td><code>old.acme.example</code></td>"}[name]
		if n := strings.Count(out, rowStart); n != 1 {
			t.Errorf("%s: old.acme.example has %d rows, want one", name, n)
		}
	}
	if !strings.Contains(attention, "lapsed-dns.com is expired") || !strings.Contains(attention, "source: https://") {
		t.Errorf("the HTML risks lack the registration or the catalogue's source:\n%s", attention)
	}
	if risks, caa, checks := strings.Index(attention, "t-risks"), strings.Index(attention, "t-caa"), strings.Index(attention, "Worth a look"); risks < 0 || caa < risks || checks < caa {
		t.Errorf("the attention area does not lead with the takeover risks, then CAA:\n%s", attention)
	}
}
