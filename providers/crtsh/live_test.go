package crtsh_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/reconform/reconform/providers/crtsh"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// TestLive asks the real service; it runs only with RECONFORM_LIVE=1 (and
// a key where the service needs one), never in CI.
func TestLive(t *testing.T) {
	if os.Getenv("RECONFORM_LIVE") != "1" {
		t.Skip("set RECONFORM_LIVE=1 to query the real service")
	}
	attrs := map[string]string{}
	if env := ""; env != "" {
		attrs["api_key"] = os.Getenv(env)
		if attrs["api_key"] == "" && false {
			t.Skipf("set %s", env)
		}
	}
	cfg, _ := providertest.Config(t, "crtsh", crtsh.Schema.DefaultEndpoint, attrs)
	cfg.Timeout = time.Minute
	p, err := crtsh.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := schema.ParseSubject("example.com")
	ans, err := p.Query(context.Background(), schema.Query{Provider: "crtsh", Op: schema.OpSubdomains, Subject: sub})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d findings, %d requests, warnings %q", len(ans.Findings), ans.Requests, ans.Warnings)
}
