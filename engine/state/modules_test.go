package state

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

var tm = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// A finding two module instances report is one finding with both blocks;
// an instance shared by two blocks attributes its findings to each.
func TestMergeFindingSharedByModuleInstances(t *testing.T) {
	a, b := `module.fp["a.example"].pivot.n`, `module.fp["b.example"].pivot.n`
	rq := q("pdns", schema.OpReverseIP, "203.0.113.50")
	in := inst(a, rq, schema.StatusOK, "", "www.a.example A 203.0.113.50")
	in.Blocks = []string{a, b}
	run := &schema.RunResult{Engagement: "e", FinishedAt: tm, Instances: []schema.InstanceResult{in},
		Findings: []schema.Finding{finding("www.a.example", "A", "203.0.113.50", tm, "pdns", rq)}}
	st := merge(nil, run, MergeOptions{})
	if len(st.Findings) != 1 || !cmp.Equal(st.Findings[0].Blocks, []string{a, b}) || st.Findings[0].Block != a {
		t.Fatalf("findings: %+v", st.Findings)
	}
	by := st.FindingsByBlock()
	if len(by[a]) != 1 || len(by[b]) != 1 {
		t.Errorf("FindingsByBlock: %v", by)
	}
	// The blocks survive the file; a finding of one block writes none.
	var buf bytes.Buffer
	if err := Encode(&buf, st); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(back.Findings[0].Blocks, []string{a, b}) || !cmp.Equal(back.Instances[0].Blocks, []string{a, b}) {
		t.Errorf("decoded: %+v %+v", back.Findings[0], back.Instances[0])
	}
	one := merge(nil, twoProviderRun(tm, schema.StatusOK, schema.StatusOK, []schema.Finding{stFinding("acme.example", "A", "203.0.113.10", tm)}, nil), MergeOptions{})
	buf.Reset()
	Encode(&buf, one)
	if strings.Contains(buf.String(), `"blocks"`) {
		t.Errorf("a state without shared findings writes blocks:\n%s", buf.String())
	}
}

// A partial run (-target) keeps what it did not ask about exactly as it
// was, and the instances it did not run; what it asked again is merged as
// usual.
func TestMergePartialRun(t *testing.T) {
	full := twoProviderRun(tm, schema.StatusOK, schema.StatusOK,
		[]schema.Finding{stFinding("acme.example", "A", "203.0.113.10", tm), stFinding("acme.example", "A", "203.0.113.11", tm)},
		[]schema.Finding{crtFinding("www.acme.example")})
	prev := merge(nil, full, MergeOptions{})
	later := tm.Add(24 * time.Hour)
	// Only securitytrails' block runs, and one of its records is gone.
	part := twoProviderRun(later, schema.StatusOK, schema.StatusOK, []schema.Finding{stFinding("acme.example", "A", "203.0.113.10", later)}, nil)
	part.Instances = part.Instances[:1]
	part.Targets = []string{"query.history"}
	next := merge(prev, part, MergeOptions{})
	if diff := cmp.Diff([]string{"acme.example A 203.0.113.10", "www.acme.example HOST "}, ids(next)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range next.Findings {
		if f.Unverified != "" {
			t.Errorf("%s unverified in a partial run: %s", f.ID(), f.Unverified)
		}
	}
	if len(next.Instances) != 2 || !cmp.Equal(next.Run.Targets, []string{"query.history"}) {
		t.Errorf("instances %d, run targets %v", len(next.Instances), next.Run.Targets)
	}
	// The same run without -target marks the host it did not ask about.
	part.Targets = nil
	whole := merge(prev, part, MergeOptions{})
	if f := whole.FindingByID("www.acme.example HOST "); f == nil || f.Unverified != "not planned in this run" {
		t.Errorf("a full run without crtsh: %+v", f)
	}
}

func TestOutputsRoundTrip(t *testing.T) {
	st := New("e")
	st.Outputs = []Output{
		{Name: "z", Value: json.RawMessage(`{"a.example":["www.a.example"],"n":1.5,"t":true,"x":null}`), Type: json.RawMessage(`["object",{"a.example":["list","string"],"n":"number","t":"bool","x":"string"}]`)},
		{Name: "a", Sensitive: true, Secret: true, Description: "token"},
	}
	st.Run.Plan = "plan-1"
	var buf bytes.Buffer
	if err := Encode(&buf, st); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st.Outputs, back.Outputs); diff != "" || back.Run.Plan != "plan-1" {
		t.Errorf("outputs (-want +got):\n%s plan %q", diff, back.Run.Plan)
	}
	if back.OutputByName("a") == nil || back.OutputByName("nope") != nil {
		t.Error("OutputByName")
	}
	// A state without outputs writes no outputs key.
	buf.Reset()
	Encode(&buf, New("e"))
	if strings.Contains(buf.String(), "outputs") {
		t.Errorf("empty outputs written:\n%s", buf.String())
	}
	for _, bad := range []string{
		`{"format_version":1,"outputs":[{"value":1}]}`,
		`{"format_version":1,"outputs":[{"name":"x","value":[1,}]}`,
	} {
		if _, err := Decode(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
