package providers

import "strings"

// RequireKey returns the credential attribute attr with surrounding space
// trimmed, or an auth error naming the environment variable env to set it
// from when it is empty.
func RequireKey(cfg Config, attr, env string) (string, error) {
	v := strings.TrimSpace(cfg.String(attr))
	if v == "" {
		return "", Errorf(cfg.Address, KindAuth, `provider %q: %s is empty; set it, e.g. %s = env(%q)`, cfg.Address, attr, attr, env)
	}
	return v, nil
}

// AtLeastOne returns the number attribute attr (def when unset), or a
// bad-input error when it is below 1.
func AtLeastOne(cfg Config, attr string, def int64) (int, error) {
	n := cfg.Int(attr, def)
	if n < 1 {
		return 0, Errorf(cfg.Address, KindBadInput, "provider %q: %s must be at least 1", cfg.Address, attr)
	}
	return int(n), nil
}
