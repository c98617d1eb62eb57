package dnsdb_test

import (
	"testing"

	"github.com/reconform/reconform/providers/dnsdb"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// TestLive asks the real service one question; it runs only with
// RECONFORM_LIVE=1 and the credentials below, never in CI.
func TestLive(t *testing.T) {
	providertest.Live(t, dnsdb.Registration(), schema.OpSubdomains, "example.com",
		providertest.Credential{Attr: "api_key", Env: "DNSDB_API_KEY"})
}
