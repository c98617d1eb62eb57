package takeover

import (
	"strings"
	"testing"
)

// patternSamples are texts each pattern of the catalogue must match: a
// pattern cannot be tested by construction as a suffix or substring can,
// so each one needs an example here (the test fails for one without).
var patternSamples = map[string][]string{
	`(^|\.)s3[.-]([a-z0-9-]+\.)?amazonaws\.com$`:      {"assets.s3.eu-west-1.amazonaws.com", "assets.s3-eu-west-1.amazonaws.com", "s3.amazonaws.com"},
	`(^|\.)s3-website[.-][a-z0-9-]+\.amazonaws\.com$`: {"www.acme.example.s3-website-us-east-1.amazonaws.com", "site.s3-website.eu-central-1.amazonaws.com"},
	`Site unavailable\.`:                              {"<h1>Site unavailable.</h1>"},
	`Tunnel .*\.ngrok\.io not found`:                  {"Tunnel acme-demo.ngrok.io not found"},
	`Do you want to register .*\.wordpress\.com\?`:    {"Do you want to register acmeblog.wordpress.com?"},
}

func TestCatalogueLoads(t *testing.T) {
	services, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	if len(services) < 50 {
		t.Fatalf("catalogue has %d services; expected the full list", len(services))
	}
}

// TestCatalogue checks the catalogue entry by entry: each loads, its
// suffixes are valid names owned by no other entry, a claimable service
// has a signature, the source is there, and detection works: a target
// under each suffix (or each pattern's samples) matches the entry, and a
// page showing each fingerprint matches it.
func TestCatalogue(t *testing.T) {
	services, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{}
	for _, s := range services {
		t.Run(s.Name, func(t *testing.T) {
			if err := check(s); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s.Source, "https://") {
				t.Errorf("source %q is not an https URL", s.Source)
			}
			if s.Status == Vulnerable && !s.NXDOMAIN && len(s.Fingerprint)+len(s.FingerprintPattern) == 0 {
				t.Errorf("vulnerable service without a fingerprint or nxdomain signature")
			}
			for _, suffix := range s.CNAME {
				if other, dup := owner[suffix]; dup {
					t.Errorf("cname suffix %q is also claimed by %s", suffix, other)
				}
				owner[suffix] = s.Name
				for _, target := range []string{suffix, "unclaimed-resource." + suffix, "A.Deep.Label." + strings.ToUpper(suffix) + "."} {
					if got := Match(target); got == nil || got.Name != s.Name {
						t.Errorf("Match(%q) = %v, want %s", target, name(got), s.Name)
					}
				}
				// A look-alike domain is not the service.
				if got := Match("not" + suffix); got != nil && got.Name == s.Name {
					t.Errorf("Match(%q) = %s: suffixes must match whole labels", "not"+suffix, s.Name)
				}
			}
			for _, p := range s.CNAMEPattern {
				samples := patternSamples[p]
				if len(samples) == 0 {
					t.Errorf("cname_pattern %q has no sample in patternSamples", p)
				}
				for _, target := range samples {
					if got := Match(target); got == nil || got.Name != s.Name {
						t.Errorf("Match(%q) = %v, want %s", target, name(got), s.Name)
					}
				}
			}
			for _, fp := range s.Fingerprint {
				page := "<html><body><p>" + fp + "</p></body></html>"
				if !contains(MatchBody([]byte(page)), s.Name) {
					t.Errorf("a page showing %q does not match %s", fp, s.Name)
				}
			}
			for _, p := range s.FingerprintPattern {
				samples := patternSamples[p]
				if len(samples) == 0 {
					t.Errorf("fingerprint_pattern %q has no sample in patternSamples", p)
				}
				for _, sample := range samples {
					if !contains(MatchBody([]byte(sample)), s.Name) {
						t.Errorf("a page showing %q does not match %s", sample, s.Name)
					}
				}
			}
			if s.Status == NotVulnerable && s.Claimable() {
				t.Errorf("not_vulnerable service reported claimable")
			}
		})
	}
}

// A served site, an empty page and a generic error page are nobody's
// unclaimed resource.
func TestMatchBodyHealthyPages(t *testing.T) {
	for _, page := range []string{
		"",
		"<!doctype html><html><head><title>ACME</title></head><body><h1>Welcome to ACME</h1></body></html>",
		"<html><body><h1>404 Not Found</h1><hr>nginx</body></html>",
		"<html><body>Internal Server Error</body></html>",
	} {
		if got := MatchBody([]byte(page)); len(got) != 0 {
			t.Errorf("MatchBody(%q) = %v, want none", page, got)
		}
	}
}

func TestMatchUnknownTargets(t *testing.T) {
	for _, target := range []string{"", ".", "www.acme.example", "github.io.acme.example", "cdn.example.net"} {
		if got := Match(target); got != nil {
			t.Errorf("Match(%q) = %s, want none", target, got.Name)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := map[string]struct{ json, want string }{
		"not json":         {`{`, "unexpected EOF"},
		"unknown field":    {`{"services":[{"name":"x","fingerprnt":["a"]}]}`, "unknown field"},
		"bad name":         {`{"services":[{"name":"X Y","title":"x","cname":["x.example"],"status":"vulnerable","fingerprint":["a"],"source":"https://x.example"}]}`, "name must be"},
		"bad status":       {`{"services":[{"name":"x","title":"x","cname":["x.example"],"status":"maybe","fingerprint":["a"],"source":"https://x.example"}]}`, "status"},
		"bad suffix":       {`{"services":[{"name":"x","title":"x","cname":["X..example"],"status":"vulnerable","fingerprint":["a"],"source":"https://x.example"}]}`, "cname suffix"},
		"suffix no dot":    {`{"services":[{"name":"x","title":"x","cname":["example"],"status":"vulnerable","fingerprint":["a"],"source":"https://x.example"}]}`, "cname suffix"},
		"no cname":         {`{"services":[{"name":"x","title":"x","status":"vulnerable","fingerprint":["a"],"source":"https://x.example"}]}`, "no cname"},
		"no signature":     {`{"services":[{"name":"x","title":"x","cname":["x.example"],"status":"vulnerable","source":"https://x.example"}]}`, "needs a signature"},
		"empty print":      {`{"services":[{"name":"x","title":"x","cname":["x.example"],"status":"vulnerable","fingerprint":[" "],"source":"https://x.example"}]}`, "empty fingerprint"},
		"empty pattern":    {`{"services":[{"name":"x","title":"x","cname":["x.example"],"status":"vulnerable","fingerprint_pattern":["a*"],"source":"https://x.example"}]}`, "matches an empty page"},
		"bad pattern":      {`{"services":[{"name":"x","title":"x","cname_pattern":["("],"status":"not_vulnerable","source":"https://x.example"}]}`, "cname_pattern"},
		"no source":        {`{"services":[{"name":"x","title":"x","cname":["x.example"],"status":"not_vulnerable"}]}`, "source"},
		"duplicate":        {`{"services":[{"name":"x","title":"x","cname":["x.example"],"status":"not_vulnerable","source":"https://x.example"},{"name":"x","title":"x","cname":["y.example"],"status":"not_vulnerable","source":"https://x.example"}]}`, "used twice"},
		"no title":         {`{"services":[{"name":"x","cname":["x.example"],"status":"not_vulnerable","source":"https://x.example"}]}`, "no title"},
		"source not a url": {`{"services":[{"name":"x","title":"x","cname":["x.example"],"status":"not_vulnerable","source":"issue 12"}]}`, "source"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse() error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("bucket.s3.eu-west-1.amazonaws.com", "<Code>NoSuchBucket</Code>")
	f.Add("acme.github.io.", "There isn't a GitHub Pages site here.")
	f.Fuzz(func(t *testing.T, target, body string) {
		if s := Match(target); s != nil && !s.MatchesTarget(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(target)), ".")) {
			t.Fatalf("Match(%q) = %s, which does not match it", target, s.Name)
		}
		for _, name := range MatchBody([]byte(body)) {
			if Lookup(name) == nil {
				t.Fatalf("MatchBody gave unknown service %q", name)
			}
		}
	})
}

func name(s *Service) string {
	if s == nil {
		return "<nil>"
	}
	return s.Name
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
