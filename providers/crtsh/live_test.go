package crtsh_test

import (
	"testing"

	"github.com/reconform/reconform/providers/crtsh"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// TestLive asks the real service one question; it runs only with
// RECONFORM_LIVE=1 and the credentials below, never in CI.
func TestLive(t *testing.T) {
	providertest.Live(t, crtsh.Registration(), schema.OpSubdomains, "example.com")
}
