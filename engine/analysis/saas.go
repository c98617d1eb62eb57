package analysis

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/reconform/reconform/schema"
)

//go:embed saas.json
var saasJSON []byte

// SaaSService is one entry of the verification-token catalogue (saas.json).
type SaaSService struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	TXTPrefix   []string `json:"txt_prefix,omitempty"`
	TXTRegex    []string `json:"txt_regex,omitempty"`
	NameLabel   []string `json:"name_label,omitempty"`
	NamePrefix  []string `json:"name_prefix,omitempty"`

	regexps []*regexp.Regexp
}

var (
	saasOnce    sync.Once
	saasCatalog []SaaSService
	saasErr     error
)

// SaaSCatalog returns the built-in catalogue of verification tokens.
func SaaSCatalog() ([]SaaSService, error) {
	saasOnce.Do(func() { saasCatalog, saasErr = parseSaaSCatalog(saasJSON) })
	return saasCatalog, saasErr
}

func parseSaaSCatalog(data []byte) ([]SaaSService, error) {
	var doc struct {
		Services []SaaSService `json:"services"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("saas catalogue: %w", err)
	}
	seen := map[string]bool{}
	for i := range doc.Services {
		s := &doc.Services[i]
		if s.Name == "" || seen[s.Name] {
			return nil, fmt.Errorf("saas catalogue: entry %d has an empty or repeated name %q", i, s.Name)
		}
		seen[s.Name] = true
		if len(s.TXTPrefix)+len(s.TXTRegex)+len(s.NameLabel)+len(s.NamePrefix) == 0 {
			return nil, fmt.Errorf("saas catalogue: %s has nothing to match", s.Name)
		}
		for _, r := range s.TXTRegex {
			re, err := regexp.Compile("(?i)" + r)
			if err != nil {
				return nil, fmt.Errorf("saas catalogue: %s: %w", s.Name, err)
			}
			s.regexps = append(s.regexps, re)
		}
	}
	return doc.Services, nil
}

// MatchSaaS recognises a verification token: the TXT record txt at name.
// It returns the service and the subject the token speaks for (name, or
// name without its first label when the label is what identifies the
// service, as in _github-challenge-acme.acme.example).
func MatchSaaS(name, txt string) (service, subject string, ok bool) {
	catalog, err := SaaSCatalog()
	if err != nil {
		return "", "", false
	}
	label, rest, _ := strings.Cut(name, ".")
	for _, s := range catalog {
		for _, l := range s.NameLabel {
			if label == l && rest != "" {
				return s.Name, rest, true
			}
		}
		for _, p := range s.NamePrefix {
			if strings.HasPrefix(label, p) && rest != "" {
				return s.Name, rest, true
			}
		}
	}
	lower := strings.ToLower(strings.TrimSpace(txt))
	for _, s := range catalog {
		for _, p := range s.TXTPrefix {
			if strings.HasPrefix(lower, p) {
				return s.Name, name, true
			}
		}
		for _, re := range s.regexps {
			if re.MatchString(lower) {
				return s.Name, name, true
			}
		}
	}
	return "", "", false
}

func saasFacts(ix *index) []schema.Fact {
	type key struct{ subject, service string }
	current := map[key][]string{}
	past := map[key][]string{}
	for _, i := range ix.byType["TXT"] {
		f := ix.findings[i]
		service, subject, ok := MatchSaaS(f.Name, f.Value)
		if !ok {
			continue
		}
		k := key{subject, service}
		if ix.current[i] {
			current[k] = append(current[k], f.ID())
		} else {
			past[k] = append(past[k], f.ID())
		}
	}
	var facts []schema.Fact
	for k, ev := range current {
		facts = append(facts, schema.Fact{Subject: k.subject, Kind: "saas", Value: k.service, Evidence: ev})
	}
	for k, ev := range past {
		if _, ok := current[k]; !ok {
			facts = append(facts, schema.Fact{Subject: k.subject, Kind: "saas_past", Value: k.service, Evidence: ev})
		}
	}
	return facts
}
