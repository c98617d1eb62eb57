package analysis

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

// A live resolve that asks only MX must not make SPF and DMARC "missing":
// nobody asked for TXT (found against BIND in acceptance testing).
func TestMissingNeedsTXTAsked(t *testing.T) {
	mx := verifyFinding("acme.example", "MX", "10 mx1.acme.example", "dns")
	mx.Current = true
	tests := []struct {
		name      string
		instances []schema.InstanceResult
		want      []string
	}{
		{name: "no instances (a state re-derived): unchanged", instances: nil,
			want: []string{"dmarc_policy missing", "spf_all missing"}},
		{name: "MX only", instances: []schema.InstanceResult{verifyInstance("acme.example", schema.StatusOK, []string{"MX"}, mx)},
			want: nil},
		{name: "all types", instances: []schema.InstanceResult{verifyInstance("acme.example", schema.StatusOK, nil, mx)},
			want: []string{"dmarc_policy missing", "spf_all missing"}},
		{name: "TXT asked by a failed query only", instances: []schema.InstanceResult{
			verifyInstance("acme.example", schema.StatusOK, []string{"MX"}, mx),
			verifyInstance("acme.example", schema.StatusFailed, []string{"TXT"}),
		}, want: nil},
		{name: "DMARC asked at _dmarc directly", instances: []schema.InstanceResult{
			verifyInstance("acme.example", schema.StatusOK, []string{"MX"}, mx),
			verifyInstance("_dmarc.acme.example", schema.StatusOK, []string{"TXT"}),
		}, want: []string{"dmarc_policy missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range Derive([]schema.Finding{mx}, Options{Instances: tc.instances}) {
				if f.Value == "missing" {
					got = append(got, f.Kind+" "+f.Value)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("missing verdicts (-want +got):\n%s", d)
			}
		})
	}
}
