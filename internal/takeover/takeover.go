// Package takeover is the catalogue of services a dangling CNAME can be
// taken over on (takeover.json, shipped in the binary): which CNAME
// targets belong to each service, whether a deleted resource leaves the
// target NXDOMAIN, what the service serves for an unclaimed resource, and
// how exploitable that is (vulnerable, edge case, not vulnerable), with
// the public source of each verdict.
//
// Two parts of reconform read it, on either side of the provider
// boundary: engine/analysis matches CNAME targets to services
// (takeover_candidate, takeover_confirmed) and providers/httpprobe
// matches HTTP bodies to fingerprints (http_fingerprint). Being data both
// share, it lives below both rather than in either.
//
// To add a service, add an entry to takeover.json; TestCatalogue checks
// every entry (names, suffixes, patterns, fingerprints, sources) and a
// detection test per entry runs it through Match and MatchBody.
package takeover

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

//go:embed takeover.json
var catalogueJSON []byte

// Status is how exploitable a service's unclaimed resources are.
type Status string

const (
	// Vulnerable: anyone can claim the resource the CNAME names.
	Vulnerable Status = "vulnerable"
	// EdgeCase: claimable only under conditions (a plan, a region, a
	// verification step that can be skipped); see the source.
	EdgeCase Status = "edge_case"
	// NotVulnerable: the service verifies ownership of the name; listed so
	// that a CNAME to it is never reported as a candidate.
	NotVulnerable Status = "not_vulnerable"
)

// Service is one catalogue entry.
type Service struct {
	// Name identifies the service; it is the value of takeover_* facts.
	Name  string `json:"name"`
	Title string `json:"title"`
	// CNAME lists target suffixes: a target equal to or under one belongs
	// to the service. CNAMEPattern adds RE2 patterns for the rest.
	CNAME        []string `json:"cname"`
	CNAMEPattern []string `json:"cname_pattern,omitempty"`
	Status       Status   `json:"status"`
	// NXDOMAIN is set when deleting the resource removes the target name,
	// so a live NXDOMAIN for it is the service's signature.
	NXDOMAIN bool `json:"nxdomain,omitempty"`
	// Fingerprint are substrings of the HTTP body the service serves for
	// an unclaimed resource; FingerprintPattern are RE2 patterns.
	Fingerprint        []string `json:"fingerprint,omitempty"`
	FingerprintPattern []string `json:"fingerprint_pattern,omitempty"`
	// Source is the public discussion or documentation behind Status.
	Source string `json:"source"`

	cnameRes []*regexp.Regexp
	bodyRes  []*regexp.Regexp
}

// HasHTTPFingerprint reports whether an HTTP GET can recognise an
// unclaimed resource of the service.
func (s *Service) HasHTTPFingerprint() bool {
	return len(s.Fingerprint)+len(s.FingerprintPattern) > 0
}

// Claimable reports whether a dangling CNAME to the service is a takeover
// risk worth reporting (vulnerable or edge case).
func (s *Service) Claimable() bool { return s.Status == Vulnerable || s.Status == EdgeCase }

// MatchesTarget reports whether the CNAME target (normalised: lower-case,
// no trailing dot) belongs to the service.
func (s *Service) MatchesTarget(target string) bool {
	for _, suffix := range s.CNAME {
		if target == suffix || strings.HasSuffix(target, "."+suffix) {
			return true
		}
	}
	for _, re := range s.cnameRes {
		if re.MatchString(target) {
			return true
		}
	}
	return false
}

// MatchesBody reports whether an HTTP body is the service's page for an
// unclaimed resource.
func (s *Service) MatchesBody(body []byte) bool {
	for _, fp := range s.Fingerprint {
		if strings.Contains(string(body), fp) {
			return true
		}
	}
	for _, re := range s.bodyRes {
		if re.Match(body) {
			return true
		}
	}
	return false
}

var (
	once    sync.Once
	catalog []*Service
	loadErr error
)

// Catalogue returns the built-in catalogue, in file order.
func Catalogue() ([]*Service, error) {
	once.Do(func() { catalog, loadErr = Parse(catalogueJSON) })
	return catalog, loadErr
}

// Match returns the service a CNAME target belongs to, or nil. The first
// entry that matches wins; TestCatalogue checks that no target suffix is
// claimed twice.
func Match(target string) *Service {
	services, err := Catalogue()
	if err != nil {
		return nil
	}
	target = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(target)), ".")
	if target == "" {
		return nil
	}
	for _, s := range services {
		if s.MatchesTarget(target) {
			return s
		}
	}
	return nil
}

// Lookup returns the service named name, or nil.
func Lookup(name string) *Service {
	services, _ := Catalogue()
	for _, s := range services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// MatchBody returns the names of the services whose unclaimed-resource
// fingerprint the body shows, in catalogue order.
func MatchBody(body []byte) []string {
	services, _ := Catalogue()
	var out []string
	for _, s := range services {
		if s.MatchesBody(body) {
			out = append(out, s.Name)
		}
	}
	return out
}

// Parse reads a catalogue and checks every entry: a name (lower-case
// letters, digits and hyphens) used once, a known status, CNAME suffixes
// that are valid DNS names, patterns that compile, a signature (a
// fingerprint or nxdomain) for every claimable service, and an http(s)
// source.
func Parse(data []byte) ([]*Service, error) {
	var doc struct {
		Comment  string     `json:"comment"`
		Services []*Service `json:"services"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt field would silently drop a fingerprint
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("takeover catalogue: %w", err)
	}
	seen := map[string]bool{}
	for i, s := range doc.Services {
		if err := check(s); err != nil {
			return nil, fmt.Errorf("takeover catalogue: entry %d (%q): %w", i+1, s.Name, err)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("takeover catalogue: entry %d: the name %q is used twice", i+1, s.Name)
		}
		seen[s.Name] = true
	}
	return doc.Services, nil
}

func check(s *Service) error {
	if !validName(s.Name) {
		return fmt.Errorf("name must be lower-case letters, digits and hyphens")
	}
	if s.Title == "" {
		return fmt.Errorf("no title")
	}
	switch s.Status {
	case Vulnerable, EdgeCase, NotVulnerable:
	default:
		return fmt.Errorf("status %q is not vulnerable, edge_case or not_vulnerable", s.Status)
	}
	if len(s.CNAME)+len(s.CNAMEPattern) == 0 {
		return fmt.Errorf("no cname suffix or pattern")
	}
	for _, suffix := range s.CNAME {
		if err := validSuffix(suffix); err != nil {
			return err
		}
	}
	for _, p := range s.CNAMEPattern {
		re, err := regexp.Compile(p)
		if err != nil {
			return fmt.Errorf("cname_pattern: %w", err)
		}
		s.cnameRes = append(s.cnameRes, re)
	}
	for _, fp := range s.Fingerprint {
		if strings.TrimSpace(fp) == "" {
			return fmt.Errorf("an empty fingerprint would match every page")
		}
	}
	for _, p := range s.FingerprintPattern {
		re, err := regexp.Compile(p)
		if err != nil {
			return fmt.Errorf("fingerprint_pattern: %w", err)
		}
		if re.MatchString("") {
			return fmt.Errorf("fingerprint_pattern %q matches an empty page", p)
		}
		s.bodyRes = append(s.bodyRes, re)
	}
	if s.Claimable() && !s.NXDOMAIN && !s.HasHTTPFingerprint() {
		return fmt.Errorf("a %s service needs a signature: a fingerprint, or nxdomain = true", s.Status)
	}
	u, err := url.Parse(s.Source)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("source %q is not an http(s) URL", s.Source)
	}
	return nil
}

func validName(name string) bool {
	if name == "" || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// validSuffix checks a CNAME suffix: a lower-case DNS name with at least
// two labels of letters, digits and hyphens.
func validSuffix(s string) error {
	if s == "" || s != strings.ToLower(s) || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || !strings.Contains(s, ".") || len(s) > 253 {
		return fmt.Errorf("cname suffix %q is not a lower-case DNS name with a dot", s)
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("cname suffix %q has an empty, over-long or hyphen-edged label", s)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("cname suffix %q contains %q", s, r)
			}
		}
	}
	return nil
}
