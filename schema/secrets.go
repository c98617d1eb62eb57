package schema

import (
	"net/url"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// minSecretLen is the shortest value treated as a secret to redact: shorter
// ones would shred ordinary text wherever their letters occur.
const minSecretLen = 4

// Secrets are the string values that must never be printed or stored: every
// sensitive provider attribute (including ones set from env() or a
// sensitive variable) and every sensitive variable, of the engagement and
// of its module instances. Longest first, so a
// secret containing another is replaced whole.
//
// A secret that is a URL (an endpoint or webhook from env()) is given with
// its parts too, since a server echoing our request repeats a part, not
// the URL we configured: its path, the path's segments that are tokens,
// its userinfo, password, query values and fragment (see urlParts).
func (c *Config) Secrets() []string {
	if c == nil {
		return nil
	}
	seen := map[string]bool{}
	words := c.publicWords()
	addString := func(s string) {
		if len(s) < minSecretLen {
			return
		}
		seen[s] = true
		for _, part := range urlParts(s, words) {
			if len(part) >= minSecretLen {
				seen[part] = true
			}
		}
	}
	add := func(v cty.Value) {
		if v == cty.NilVal {
			return
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() || v.IsNull() {
			return
		}
		if v.Type() == cty.String {
			addString(v.AsString())
		}
	}
	for _, p := range c.Providers {
		if p == nil {
			continue
		}
		for name, sensitive := range p.Sensitive {
			if sensitive {
				add(p.Attrs[name])
			}
		}
	}
	for _, v := range c.Variables {
		if v != nil && v.Sensitive {
			add(v.Value)
		}
	}
	if b := c.Engagement.Backend; b != nil {
		for name, sensitive := range b.Sensitive {
			if sensitive {
				add(b.Attrs[name])
			}
		}
		// The password alone, too: a driver's error may quote it without
		// the rest of the connection string.
		if pw := connPassword(b.String("conn_str")); pw != "" {
			add(cty.StringVal(pw))
		}
	}
	// A module's variable declared sensitive, or fed from a secret.
	for _, m := range c.Modules {
		for _, v := range m.Variables {
			if v != nil && v.Sensitive {
				add(v.Value)
			}
		}
	}
	c.notifySecrets(add)
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// publicWords are names every message may print, lower-case: the
// configured provider types and instance names. A path segment equal to
// one ("/securitytrails/v1") is no secret, and redacting it would blank
// the provider's name from its every error.
func (c *Config) publicWords() map[string]bool {
	words := map[string]bool{}
	for _, p := range c.Providers {
		if p != nil {
			words[strings.ToLower(p.Type)] = true
			if p.Name != "" {
				words[strings.ToLower(p.Name)] = true
			}
		}
	}
	return words
}

// urlParts are the parts of a URL-shaped secret that a server may echo on
// their own, as written and unescaped: the path (with and without its
// query), every path segment that is a token, the userinfo and its
// password, every query value and the fragment. Nothing for a value that
// is not a URL with a host. Scheme, host and port are left: they name the
// server, and errors about reaching it must say which.
func urlParts(s string, public map[string]bool) []string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	var parts []string
	both := func(raw string, unescape func(string) (string, error)) {
		parts = append(parts, raw)
		if v, err := unescape(raw); err == nil && v != raw {
			parts = append(parts, v)
		}
	}
	if u.User != nil {
		parts = append(parts, u.User.String(), u.User.Username())
		if pw, ok := u.User.Password(); ok {
			parts = append(parts, pw)
		}
	}
	if p := u.EscapedPath(); p != "" && p != "/" {
		both(p, url.PathUnescape)
		if u.RawQuery != "" {
			parts = append(parts, p+"?"+u.RawQuery)
		}
		for _, seg := range strings.Split(p, "/") {
			if isToken(seg, public) {
				both(seg, url.PathUnescape)
			}
		}
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		if _, v, ok := strings.Cut(pair, "="); ok && v != "" {
			both(v, url.QueryUnescape)
		}
	}
	if u.Fragment != "" {
		parts = append(parts, u.Fragment)
	}
	return parts
}

// isToken tells a path segment that may be a credential (it holds a digit,
// an upper-case letter or punctuation, or is a long run of letters) from
// the words API paths are made of ("api", "query", "hooks"), which are
// printed as they are.
func isToken(seg string, public map[string]bool) bool {
	if len(seg) < minSecretLen || public[strings.ToLower(seg)] {
		return false
	}
	if len(seg) >= 10 {
		return true
	}
	for _, r := range seg {
		if !(r >= 'a' && r <= 'z' || r == '-' || r == '_' || r == '.') {
			return true
		}
	}
	return false
}
