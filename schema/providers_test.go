package schema_test

import (
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

// testProviders mirrors the provider declarations of providers/* so the
// schema tests need no provider package (schema imports none, and its
// tests must not break while a provider is being written). The CLI tests
// check the same fixtures against the real registry.
func testProviders() map[string]schema.ProviderSchema {
	out := map[string]schema.ProviderSchema{}
	for _, s := range []schema.ProviderSchema{
		{
			Type:        "securitytrails",
			Description: "SecurityTrails API v1: current and historical DNS, subdomains, reverse IP/NS/MX search.",
			Attributes: []schema.ProviderAttribute{
				{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "SecurityTrails API key (APIKEY header)."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpResolutions: {RRTypes: []string{"A", "AAAA", "MX", "NS", "SOA", "TXT"}},
				schema.OpReverseIP:   {},
				schema.OpSubdomains:  {},
				schema.OpNSReverse:   {},
				schema.OpMXReverse:   {},
			},
			DefaultRate:     "1/s",
			DefaultBudget:   50,
			DefaultTimeout:  30 * time.Second,
			DefaultEndpoint: "https://api.securitytrails.com/v1",
			DefaultQuota:    []string{"50/month"},
		},
		{
			Type:        "virustotal",
			Description: "VirusTotal API v3: domain and IP resolutions, subdomains.",
			Attributes: []schema.ProviderAttribute{
				{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "VirusTotal API key (x-apikey header)."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpResolutions: {RRTypes: []string{"A", "AAAA"}},
				schema.OpReverseIP:   {},
				schema.OpSubdomains:  {},
			},
			DefaultRate:     "4/min",
			DefaultBudget:   500,
			DefaultTimeout:  30 * time.Second,
			DefaultEndpoint: "https://www.virustotal.com/api/v3",
			DefaultQuota:    []string{"500/day", "15500/month"},
		},
		{
			Type:        "circl",
			Description: "CIRCL Passive DNS (COF NDJSON, HTTP Basic auth, dribble paging).",
			Attributes: []schema.ProviderAttribute{
				{Name: "username", Type: cty.String, Required: true, Sensitive: false, Description: "CIRCL pDNS user name."},
				{Name: "password", Type: cty.String, Required: true, Sensitive: true, Description: "CIRCL pDNS password."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpResolutions: {},
				schema.OpReverseIP:   {},
			},
			DefaultRate:     "1/s",
			DefaultTimeout:  30 * time.Second,
			DefaultEndpoint: "https://www.circl.lu/pdns/query",
		},
		{
			Type:        "robtex",
			Description: "Robtex passive DNS (forward and reverse), free or pro API.",
			Attributes: []schema.ProviderAttribute{
				{Name: "api_key", Type: cty.String, Required: false, Sensitive: true, Description: "Robtex Pro API key (sent as ?key=); leave unset for the free API."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpResolutions: {},
				schema.OpReverseIP:   {},
			},
			DefaultRate:     "8/min",
			DefaultTimeout:  30 * time.Second,
			DefaultEndpoint: "https://freeapi.robtex.com",
		},
		{
			Type:        "hackertarget",
			Description: "HackerTarget: hostsearch, reverseiplookup, findshareddns, dnslookup.",
			Attributes: []schema.ProviderAttribute{
				{Name: "api_key", Type: cty.String, Required: false, Sensitive: true, Description: "HackerTarget membership key (sent as &apikey=); the free tier needs none."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpResolutions: {Current: true},
				schema.OpReverseIP:   {},
				schema.OpSubdomains:  {},
				schema.OpNSReverse:   {},
			},
			DefaultRate:     "1/s",
			DefaultBudget:   50,
			DefaultTimeout:  30 * time.Second,
			DefaultEndpoint: "https://api.hackertarget.com",
		},
		{
			Type:        "dnsdumpster",
			Description: "DNSDumpster JSON API: hosts and records of a domain.",
			Attributes: []schema.ProviderAttribute{
				{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "DNSDumpster API key (X-API-Key header)."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpSubdomains: {Current: true},
			},
			DefaultRate:     "30/min",
			DefaultTimeout:  30 * time.Second,
			DefaultEndpoint: "https://api.dnsdumpster.com",
		},
		{
			Type:        "dnsdb",
			Description: "Farsight/DomainTools DNSDB API v2 (SAF streaming): rrset and rdata lookups.",
			Attributes: []schema.ProviderAttribute{
				{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "DNSDB API key (X-API-Key header)."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpResolutions: {},
				schema.OpReverseIP:   {},
				schema.OpSubdomains:  {},
				schema.OpNSReverse:   {},
				schema.OpMXReverse:   {},
			},
			DefaultRate:     "1/s",
			DefaultTimeout:  30 * time.Second,
			DefaultEndpoint: "https://api.dnsdb.info/dnsdb/v2",
		},
		{
			Type:        "crtsh",
			Description: "crt.sh certificate transparency search: names from certificates.",
			Attributes:  []schema.ProviderAttribute{},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpSubdomains: {},
			},
			DefaultRate:     "1/s",
			DefaultTimeout:  30 * time.Second,
			DefaultEndpoint: "https://crt.sh",
		},
		{
			Type:        "dns",
			Description: "Live DNS through resolvers (active recon: only with passive_only = false).",
			Attributes: []schema.ProviderAttribute{
				{Name: "resolvers", Type: cty.List(cty.String), Required: false, Sensitive: false, Description: "Resolver addresses (host or host:port); default: the system's resolv.conf."},
				{Name: "retries", Type: cty.Number, Required: false, Sensitive: false, Description: "Retries per query after a timeout (default 2)."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpResolve: {Active: true, Current: true, RRTypes: []string{"A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "CAA"}},
			},
			DefaultRate:    "50/s",
			DefaultTimeout: 30 * time.Second,
		},
		{
			Type:        "file",
			Description: "Offline data files: COF NDJSON, Rapid7 Sonar FDNS NDJSON (plain or gzip), CSV.",
			Attributes: []schema.ProviderAttribute{
				{Name: "path", Type: cty.String, Required: true, Sensitive: false, Description: "Path of the data file, relative to the engagement folder."},
				{Name: "format", Type: cty.String, Required: false, Sensitive: false, Description: "cof, fdns or csv; detected from the content when unset."},
			},
			Ops: map[schema.Op]schema.OpTraits{
				schema.OpResolutions: {},
				schema.OpReverseIP:   {},
				schema.OpSubdomains:  {},
				schema.OpNSReverse:   {},
				schema.OpMXReverse:   {},
			},
			DefaultTimeout: 30 * time.Second,
		},
	} {
		out[s.Type] = s
	}
	return out
}

// fileCheckingProviders is testProviders with the file provider's path
// marked File, as the real one is: load reports a path that names no
// file. The fixture folders (testdata/config) hold the files they name;
// the inline configurations of the other tests name none.
func fileCheckingProviders() map[string]schema.ProviderSchema {
	out := testProviders()
	f := out["file"]
	attrs := append([]schema.ProviderAttribute(nil), f.Attributes...)
	for i := range attrs {
		if attrs[i].Name == "path" {
			attrs[i].File = true
		}
	}
	f.Attributes = attrs
	out["file"] = f
	return out
}
