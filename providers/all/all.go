// Package all is the registry of every provider type reconform ships.
package all

import (
	"sort"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/circl"
	"github.com/reconform/reconform/providers/crtsh"
	"github.com/reconform/reconform/providers/dns"
	"github.com/reconform/reconform/providers/dnsdb"
	"github.com/reconform/reconform/providers/dnsdumpster"
	"github.com/reconform/reconform/providers/file"
	"github.com/reconform/reconform/providers/hackertarget"
	"github.com/reconform/reconform/providers/httpprobe"
	"github.com/reconform/reconform/providers/rdap"
	"github.com/reconform/reconform/providers/robtex"
	"github.com/reconform/reconform/providers/securitytrails"
	"github.com/reconform/reconform/providers/virustotal"
	"github.com/reconform/reconform/schema"
)

// Registrations returns a fresh registration for every provider type,
// keyed by type name.
func Registrations() map[string]providers.Registration {
	regs := []providers.Registration{
		securitytrails.Registration(),
		virustotal.Registration(),
		circl.Registration(),
		robtex.Registration(),
		hackertarget.Registration(),
		dnsdumpster.Registration(),
		dnsdb.Registration(),
		crtsh.Registration(),
		dns.Registration(),
		httpprobe.Registration(),
		file.Registration(),
		rdap.Registration(),
	}
	out := make(map[string]providers.Registration, len(regs))
	for _, r := range regs {
		out[r.Schema.Type] = r
	}
	return out
}

// Schemas returns every provider type's schema, keyed by type name, for
// the config loader.
func Schemas() map[string]schema.ProviderSchema {
	out := map[string]schema.ProviderSchema{}
	for name, r := range Registrations() {
		out[name] = r.Schema
	}
	return out
}

// Types lists the provider type names, sorted.
func Types() []string {
	var names []string
	for name := range Registrations() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
