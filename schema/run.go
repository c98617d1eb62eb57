package schema

import "time"

// RunResult is what one apply produced, before it is merged into state:
// every instance with how it ended, and the findings and facts it reported,
// deduplicated by identity.
type RunResult struct {
	Engagement  string           `json:"engagement"`
	ConfigHash  string           `json:"config_hash"`
	StartedAt   time.Time        `json:"started_at"`
	FinishedAt  time.Time        `json:"finished_at"`
	Interrupted bool             `json:"interrupted,omitempty"`
	Instances   []InstanceResult `json:"instances"`
	Findings    []Finding        `json:"findings"`
	// Facts reported directly by providers (e.g. live DNS: a name does not
	// resolve). Derived facts are added later by engine/analysis.
	Facts    []Fact   `json:"facts,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Targets are the -target addresses of a partial run (empty: the
	// whole engagement ran); Plan is the ID of the saved plan applied.
	Targets []string `json:"targets,omitempty"`
	Plan    string   `json:"plan,omitempty"`
}
