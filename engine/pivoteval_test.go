package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

// TestPivotEvaluatorMatchesSchema checks the engine's cached-context pivot
// evaluation against schema.Config.EvalPivot on the same rules and
// findings, errors included.
func TestPivotEvaluatorMatchesSchema(t *testing.T) {
	f := newFixture(t, nil)
	f.target(schema.SubjectDomain, "apex", "acme.example")
	rules := map[string][2]string{
		"value":        {`finding.type == "A"`, `finding.value`},
		"name":         {`finding.type == "A" && in_scope(finding.value)`, `finding.name`},
		"always":       {``, `finding.name`},
		"list":         {``, `[finding.value, finding.name]`},
		"blank first":  {``, `["", finding.name]`},
		"target":       {``, `target.domain.apex`},
		"lower":        {``, `lower(finding.name)`},
		"not bool":     {`finding.count`, `finding.name`},
		"bad subject":  {``, `finding.type`},
		"number":       {``, `finding.count`},
		"empty":        {``, `""`},
		"mx host part": {`finding.type == "MX"`, `split(" ", finding.value)[1]`},
	}
	findings := []schema.Finding{
		schema.NewFinding("acme.example", "A", "203.0.113.10"),
		schema.NewFinding("www.acme.example", "A", "198.51.100.7"),
		schema.NewFinding("acme.example", "MX", "10 mx.acme.example"),
		schema.NewFinding("dev.acme.example", "HOST", ""),
	}
	ev := newPivotEvaluator(f.cfg)
	type result struct {
		Subject  schema.Subject
		OK       bool
		Summarys []string
	}
	for name, r := range rules {
		p := f.pivot("p", []string{"query.x"}, r[0], []string{"pdns"}, schema.OpReverseIP, r[1], 0)
		for _, fd := range findings {
			s1, ok1, d1 := f.cfg.EvalPivot(p, fd)
			s2, ok2, d2 := ev.eval(p, fd)
			want := result{s1, ok1, nil}
			got := result{s2, ok2, nil}
			for _, d := range d1 {
				want.Summarys = append(want.Summarys, d.Summary+": "+d.Detail)
			}
			for _, d := range d2 {
				got.Summarys = append(got.Summarys, d.Summary+": "+d.Detail)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s on %s (-schema +engine):\n%s", name, fd.ID(), diff)
			}
		}
	}
}
