package circl_test

import (
	"testing"

	"github.com/reconform/reconform/providers/circl"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// TestLive asks the real service one question; it runs only with
// RECONFORM_LIVE=1 and the credentials below, never in CI.
func TestLive(t *testing.T) {
	providertest.Live(t, circl.Registration(), schema.OpResolutions, "circl.lu",
		providertest.Credential{Attr: "username", Env: "CIRCL_USERNAME", Public: true},
		providertest.Credential{Attr: "password", Env: "CIRCL_PASSWORD"})
}
