package analysis

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

func verifyFinding(name, t, v string, sources ...string) schema.Finding {
	f := schema.NewFinding(name, t, v)
	f.Sources = sources
	return f
}

func verifyInstance(name string, status schema.InstanceStatus, rrtypes []string, reported ...schema.Finding) schema.InstanceResult {
	subject, err := schema.ParseSubject(name)
	if err != nil {
		panic(err)
	}
	q := schema.Query{Provider: "dns", Op: schema.OpResolve, Subject: subject, RRTypes: rrtypes}
	in := schema.InstanceResult{Query: q, Key: q.Key(), Block: "query.verify", Active: true, Status: status}
	for _, f := range reported {
		in.FindingIDs = append(in.FindingIDs, f.ID())
	}
	return in
}

func TestVerify(t *testing.T) {
	type fact struct{ Subject, Value string }
	var (
		oldA     = verifyFinding("www.acme.example", "A", "198.51.100.7", "securitytrails")
		liveA    = verifyFinding("www.acme.example", "A", "203.0.113.20", "dns")
		keptA    = verifyFinding("acme.example", "A", "203.0.113.10", "dns", "file.sonar")
		keptMX   = verifyFinding("acme.example", "MX", "10 mx1.acme.example", "securitytrails")
		goneMX   = verifyFinding("acme.example", "MX", "10 mail.oldhost.example", "securitytrails")
		oldSOA   = verifyFinding("acme.example", "SOA", "ns1.acme.example hostmaster.acme.example 1 2 3 4 5", "securitytrails")
		dmarc    = verifyFinding("_dmarc.acme.example", "TXT", "v=DMARC1; p=none", "securitytrails")
		gone     = verifyFinding("old.acme.example", "A", "198.51.100.9", "crtsh", "virustotal")
		goneHost = verifyFinding("legacy.acme.example", schema.TypeHost, "", "crtsh")
		liveHost = verifyFinding("www.acme.example", schema.TypeHost, "", "crtsh")
		flat     = verifyFinding("shop.acme.example", "A", "203.0.113.50", "virustotal")
		cname    = verifyFinding("shop.acme.example", "CNAME", "shops.saas.example", "dns")
		target   = verifyFinding("shops.saas.example", "A", "203.0.113.50", "dns")
		prevLive = verifyFinding("api.acme.example", "A", "203.0.113.60", "dns")
		notAsked = verifyFinding("api.acme.example", "TXT", "hello", "securitytrails")
		other    = verifyFinding("unrelated.example", "A", "192.0.2.1", "securitytrails")
	)
	tests := []struct {
		name      string
		findings  []schema.Finding
		instances []schema.InstanceResult
		want      []fact
	}{
		{
			name:     "moved, kept and removed records",
			findings: []schema.Finding{oldA, liveA, keptA, keptMX, goneMX, oldSOA, other},
			instances: []schema.InstanceResult{
				verifyInstance("www.acme.example", schema.StatusOK, nil, liveA),
				verifyInstance("acme.example", schema.StatusOK, nil, keptA, keptMX),
			},
			want: []fact{
				{"acme.example A 203.0.113.10", "yes"},
				{"acme.example MX mail.oldhost.example", "no"},
				{"acme.example MX mx1.acme.example", "yes"},
				{"www.acme.example A 198.51.100.7", "no"},
			},
		},
		{
			name:      "NXDOMAIN: every record and the host say no",
			findings:  []schema.Finding{gone, verifyFinding("old.acme.example", schema.TypeHost, "", "crtsh")},
			instances: []schema.InstanceResult{verifyInstance("old.acme.example", schema.StatusOK, nil)},
			want:      []fact{{"old.acme.example", "no"}, {"old.acme.example A 198.51.100.9", "no"}},
		},
		{
			name:     "hosts",
			findings: []schema.Finding{goneHost, liveHost, liveA},
			instances: []schema.InstanceResult{
				verifyInstance("legacy.acme.example", schema.StatusOK, nil),
				verifyInstance("www.acme.example", schema.StatusOK, []string{"A"}, liveA),
			},
			want: []fact{{"legacy.acme.example", "no"}, {"www.acme.example", "yes"}},
		},
		{
			name:      "flattened history matches through the CNAME chain",
			findings:  []schema.Finding{flat, cname, target},
			instances: []schema.InstanceResult{verifyInstance("shop.acme.example", schema.StatusOK, []string{"A"}, cname, target)},
			want:      []fact{{"shop.acme.example A 203.0.113.50", "yes"}},
		},
		{
			name:      "DMARC checked with TXT",
			findings:  []schema.Finding{dmarc},
			instances: []schema.InstanceResult{verifyInstance("acme.example", schema.StatusOK, []string{"TXT"})},
			want:      []fact{{"_dmarc.acme.example TXT v=DMARC1; p=none", "no"}},
		},
		{
			name:      "DMARC not checked without TXT",
			findings:  []schema.Finding{dmarc},
			instances: []schema.InstanceResult{verifyInstance("acme.example", schema.StatusOK, []string{"A"})},
		},
		{
			name:      "type not asked",
			findings:  []schema.Finding{notAsked, prevLive},
			instances: []schema.InstanceResult{verifyInstance("api.acme.example", schema.StatusOK, []string{"A"})},
			want:      []fact{{"api.acme.example A 203.0.113.60", "no"}},
		},
		{
			name:     "failed and skipped instances verify nothing",
			findings: []schema.Finding{oldA, gone},
			instances: []schema.InstanceResult{
				verifyInstance("www.acme.example", schema.StatusFailed, nil),
				verifyInstance("old.acme.example", schema.StatusSkipped, nil),
			},
		},
		{
			name:     "passive instances verify nothing",
			findings: []schema.Finding{oldA},
			instances: func() []schema.InstanceResult {
				in := verifyInstance("www.acme.example", schema.StatusOK, nil)
				in.Query.Op = schema.OpResolutions
				return []schema.InstanceResult{in}
			}(),
		},
		{
			name: "PTR of an IP",
			findings: []schema.Finding{
				verifyFinding("203.0.113.20", "PTR", "web.acme.example", "robtex"),
				verifyFinding("203.0.113.20", "PTR", "old.acme.example", "robtex"),
				verifyFinding("203.0.113.20", "A", "203.0.113.20", "robtex"), // nonsense, not asked
			},
			instances: []schema.InstanceResult{verifyInstance("203.0.113.20", schema.StatusOK, nil, verifyFinding("203.0.113.20", "PTR", "web.acme.example", "dns"))},
			want:      []fact{{"203.0.113.20 PTR old.acme.example", "no"}, {"203.0.113.20 PTR web.acme.example", "yes"}},
		},
		{
			name:      "SOA asked, never judged",
			findings:  []schema.Finding{oldSOA},
			instances: []schema.InstanceResult{verifyInstance("acme.example", schema.StatusOK, []string{"SOA"})},
		},
		{name: "no instances", findings: []schema.Finding{oldA}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []fact
			for _, f := range Verify(tc.findings, tc.instances) {
				if f.Kind != KindStillResolves {
					t.Errorf("kind %q", f.Kind)
				}
				if len(f.Evidence) != 1 {
					t.Errorf("%s: evidence %v", f.Subject, f.Evidence)
				}
				got = append(got, fact{f.Subject, f.Value})
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("facts (-want +got):\n%s", d)
			}
		})
	}
}

// TestVerifyEvidence checks a whole fact: subject, kind, value, evidence.
func TestVerifyEvidence(t *testing.T) {
	f := verifyFinding("www.acme.example", "A", "198.51.100.7", "securitytrails")
	facts := Verify([]schema.Finding{f}, []schema.InstanceResult{verifyInstance("www.acme.example", schema.StatusOK, nil)})
	want := []schema.Fact{{Subject: f.ID(), Kind: KindStillResolves, Value: "no", Evidence: []string{f.ID()}}}
	if d := cmp.Diff(want, facts); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
