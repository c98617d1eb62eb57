package analysis

import "github.com/reconform/reconform/schema"

// verifyFacts adds the live-DNS verification facts (still_resolves, see
// Verify) when the caller passes this run's instances.
func verifyFacts(findings []schema.Finding, opts Options) []schema.Fact {
	if len(opts.Instances) == 0 {
		return nil
	}
	return Verify(findings, opts.Instances)
}
