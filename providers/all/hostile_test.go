package all_test

import (
	"testing"

	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/providers/providertest"
)

// TestHostileServers runs the hostile-server kit against every registered
// HTTP provider: redirects elsewhere, servers echoing the request in their
// errors, huge and slow bodies. A provider added to the registry is
// covered without a line here.
func TestHostileServers(t *testing.T) {
	regs := all.Registrations()
	n := 0
	for _, typ := range all.Types() {
		reg := regs[typ]
		if !providertest.IsHTTP(reg) {
			continue
		}
		n++
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			providertest.RunHostile(t, reg, providertest.HostileOptions{})
		})
	}
	if n < 8 {
		t.Errorf("only %d HTTP providers registered", n)
	}
}
