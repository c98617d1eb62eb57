package crtsh

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

func TestIssuerOrganisation(t *testing.T) {
	for dn, want := range map[string]string{
		"C=US, O=Let's Encrypt, CN=R3":                                        "Let's Encrypt",
		`C=US, O="thawte, Inc.", CN=thawte SSL CA - G2`:                       "thawte, Inc.",
		"C=US, O=DigiCert Inc, OU=www.digicert.com, CN=DigiCert SHA2 High CA": "DigiCert Inc",
		"CN=Self Signed Root":                                                 "Self Signed Root",
		`C=GB, O=Evil\, "Ltd"` + "\x1b[31m, CN=x":                             `Evil, "Ltd" [31m`,
		"":     "",
		"C=US": "",
	} {
		if got := IssuerOrganisation(dn); got != want {
			t.Errorf("IssuerOrganisation(%q) = %q, want %q", dn, got, want)
		}
	}
}

// The issuers of a real crt.sh answer (crt.sh's 2019 format): read on
// 2018-06-01, DigiCert, thawte and Symantec certificates are valid; read
// in 2026 all have expired.
func TestIssuerFactsRealBody(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "real", "crtsh", "issuers", "example.com-2019.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev := []string{"example.com HOST "}
	got := IssuerFacts("example.com", body, time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC))
	want := []schema.Fact{
		{Subject: "example.com", Kind: KindIssuer, Value: "DigiCert Inc", Evidence: ev},
		{Subject: "example.com", Kind: KindIssuer, Value: "Symantec Corporation", Evidence: ev},
		{Subject: "example.com", Kind: KindIssuer, Value: "thawte, Inc.", Evidence: ev},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("2018 (-want +got):\n%s", diff)
	}
	got = IssuerFacts("example.com", body, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, f := range got {
		if f.Kind != KindIssuerPast {
			t.Errorf("2026: %v, want every issuer past", f)
		}
	}
	if len(got) != 3 {
		t.Errorf("2026: %d facts, want 3", len(got))
	}
}

// The provider reports issuer facts with its findings.
func TestQueryReportsIssuers(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "providers", "crtsh", "example.com.json"))
	if err != nil {
		t.Fatal(err)
	}
	url := providertest.Serve(t, providertest.Respond(200, string(body)))
	cfg, _ := providertest.Config(t, "crtsh", url, nil)
	p, err := NewWithClock(context.Background(), cfg, func() time.Time { return time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	ans, err := p.Query(context.Background(), providertest.Query("crtsh", schema.OpSubdomains, "example.com"))
	if err != nil {
		t.Fatal(err)
	}
	issuers := map[string]bool{}
	for _, f := range ans.Facts {
		if f.Kind == KindIssuer || f.Kind == KindIssuerPast {
			issuers[f.Subject+" "+f.Kind+" "+f.Value] = true
		}
	}
	if !issuers["www.example.com cert_issuer Example CA"] {
		t.Errorf("issuer facts %v: want www.example.com issued by Example CA", issuers)
	}
	for k := range issuers {
		if k == "" {
			t.Error("empty fact")
		}
	}
}
