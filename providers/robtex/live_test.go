package robtex

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// TestLive asks the real service one question. It runs only when
// RECONFORM_LIVE=1 (ROBTEX_API_KEY selects the Pro API), never in CI.
func TestLive(t *testing.T) {
	secret := os.Getenv("ROBTEX_API_KEY")
	if os.Getenv("RECONFORM_LIVE") != "1" {
		t.Skip("live check: set RECONFORM_LIVE=1 (and ROBTEX_API_KEY for the Pro API)")
	}
	attrs := map[string]string{}
	if secret != "" {
		attrs["api_key"] = secret
	}
	cfg, gate := providertest.Config(t, "robtex", Schema.DefaultEndpoint, attrs)
	cfg.Timeout = 30 * time.Second
	logs := providertest.CaptureLog(&cfg)
	p, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := p.Query(context.Background(), query(schema.OpResolutions, "example.com"))
	providertest.CheckNoSecret(t, secret, err, ans, logs.String())
	if err != nil {
		t.Fatalf("live query: %v", err)
	}
	if len(ans.Findings) == 0 {
		t.Errorf("live query found nothing for example.com (%d requests)", gate.Count())
	}
	t.Logf("%d findings in %d requests; warnings %q", len(ans.Findings), gate.Count(), ans.Warnings)
}
