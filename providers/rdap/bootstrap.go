package rdap

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// shippedBootstrap is IANA's RDAP bootstrap registry for domain names
// (https://data.iana.org/rdap/dns.json, RFC 9224) as of the release. To
// refresh the copy in the source tree, download that URL over this file;
// users refresh theirs with the provider's bootstrap attribute.
//
//go:embed dns.json
var shippedBootstrap []byte

// Bootstrap maps domain-name suffixes (TLDs, as IANA lists them) to the
// base URLs of the RDAP services that answer for them.
type Bootstrap struct {
	// Publication is when IANA published the file.
	Publication time.Time
	services    map[string][]string // lower-case label suffix -> base URLs ending in "/"
}

// ParseBootstrap reads an RFC 9224 bootstrap file:
//
//	{"version": "1.0", "publication": "...", "services": [[["tld", ...], ["https://base/", ...]], ...]}
func ParseBootstrap(data []byte) (*Bootstrap, error) {
	var doc struct {
		Version     string              `json:"version"`
		Publication string              `json:"publication"`
		Services    [][]json.RawMessage `json:"services"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not an RDAP bootstrap file: %w", err)
	}
	if doc.Version != "1.0" {
		return nil, fmt.Errorf("RDAP bootstrap file has version %q; only 1.0 is known", doc.Version)
	}
	b := &Bootstrap{services: map[string][]string{}}
	if doc.Publication != "" {
		t, err := time.Parse(time.RFC3339, doc.Publication)
		if err != nil {
			return nil, fmt.Errorf("RDAP bootstrap file: publication %q is not an RFC 3339 time", doc.Publication)
		}
		b.Publication = t.UTC()
	}
	for i, svc := range doc.Services {
		if len(svc) != 2 {
			return nil, fmt.Errorf("RDAP bootstrap file: service %d is not a pair of lists", i+1)
		}
		var entries, urls []string
		if json.Unmarshal(svc[0], &entries) != nil || json.Unmarshal(svc[1], &urls) != nil {
			return nil, fmt.Errorf("RDAP bootstrap file: service %d is not a pair of lists of strings", i+1)
		}
		var bases []string
		for _, raw := range urls {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("RDAP bootstrap file: service %d has an invalid URL %q", i+1, raw)
			}
			base := strings.TrimRight(raw, "/") + "/"
			// RFC 9224 section 3: prefer https when a service offers both.
			if u.Scheme == "https" {
				bases = append([]string{base}, bases...)
			} else {
				bases = append(bases, base)
			}
		}
		if len(bases) == 0 {
			continue
		}
		for _, e := range entries {
			e = strings.Trim(strings.ToLower(strings.TrimSpace(e)), ".")
			if e != "" {
				b.services[e] = bases
			}
		}
	}
	if len(b.services) == 0 {
		return nil, fmt.Errorf("RDAP bootstrap file lists no services")
	}
	return b, nil
}

// Lookup returns the base URLs of the RDAP service for domain: the
// longest matching suffix of whole labels (RFC 9224 section 4), nil when
// the registry has none.
func (b *Bootstrap) Lookup(domain string) []string {
	labels := strings.Split(strings.Trim(strings.ToLower(domain), "."), ".")
	for i := range labels {
		if bases, ok := b.services[strings.Join(labels[i:], ".")]; ok {
			return bases
		}
	}
	return nil
}

// Len is the number of suffixes the bootstrap knows.
func (b *Bootstrap) Len() int { return len(b.services) }

var (
	shippedOnce sync.Once
	shipped     *Bootstrap
	shippedErr  error
)

// ShippedBootstrap is the bootstrap registry built into the binary
// (TestShippedBootstrap keeps it readable).
func ShippedBootstrap() (*Bootstrap, error) {
	shippedOnce.Do(func() { shipped, shippedErr = ParseBootstrap(shippedBootstrap) })
	return shipped, shippedErr
}
