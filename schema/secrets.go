package schema

import (
	"sort"

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
func (c *Config) Secrets() []string {
	if c == nil {
		return nil
	}
	seen := map[string]bool{}
	add := func(v cty.Value) {
		if v == cty.NilVal {
			return
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() || v.IsNull() {
			return
		}
		if v.Type() == cty.String {
			if s := v.AsString(); len(s) >= minSecretLen {
				seen[s] = true
			}
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
