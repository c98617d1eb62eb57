// Package version holds reconform's version, shown by `reconform version`
// and sent in the User-Agent header.
package version

// Version is the release version; overridden at build time with
// -ldflags "-X github.com/reconform/reconform/internal/version.Version=...".
var Version = "0.1.0-dev"

// UserAgent is the User-Agent every HTTP provider sends.
func UserAgent() string { return "reconform/" + Version }
