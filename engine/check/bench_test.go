package check_test

import (
	"fmt"
	"testing"

	"github.com/reconform/reconform/engine/check"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

// benchStates are two states of n findings, 1% of them new.
func benchStates(n int) (*state.State, *state.State) {
	var a, b []state.Finding
	for i := 0; i < n; i++ {
		f := finding(fmt.Sprintf("h%06d.acme.example", i), "A", fmt.Sprintf("203.0.%d.%d", i/250%250, i%250))
		b = append(b, f)
		if i%100 != 0 {
			a = append(a, f)
		}
	}
	facts := []schema.Fact{{Subject: "acme.example", Kind: "dmarc_policy", Value: "reject"}, {Subject: "acme.example", Kind: "mail_provider", Value: "google-workspace"}}
	return stateOf(1, a, facts), stateOf(2, b, facts)
}

// BenchmarkEvaluate is examples/watch's four checks (facts and drift)
// over a state of 50,000 findings and its drift; BenchmarkEvaluateFindings
// this package's checks, two of which read every finding; and
// BenchmarkCompareBaseline the drift itself, which every run computes
// anyway: the checks' cost is read as a ratio of it.
func BenchmarkEvaluate(b *testing.B) {
	cfg, diags := schema.Load("../../examples/watch", schema.LoadOptions{Providers: all.Schemas(), DisplayDir: "."})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	benchEvaluate(b, cfg)
}

func BenchmarkEvaluateFindings(b *testing.B) { benchEvaluate(b, loadConfig(b)) }

func benchEvaluate(b *testing.B, cfg *schema.Config) {
	prev, next := benchStates(50000)
	d := diff.Compare(prev, next, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		check.Evaluate(cfg, next, d)
	}
}

func BenchmarkCompareBaseline(b *testing.B) {
	prev, next := benchStates(50000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		diff.Compare(prev, next, nil)
	}
}
