package providers_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

func TestMergeFindings(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	in := []schema.Finding{
		{Name: "www.example.com", Type: "A", Value: "203.0.113.10", FirstSeen: day(5), LastSeen: day(9), Count: 2, Sources: []string{"b"}},
		{Name: "a.example.com", Type: "HOST", Sources: []string{"a"}},
		{Name: "www.example.com", Type: "A", Value: "203.0.113.10", FirstSeen: day(2), LastSeen: day(7), Count: 3, Sources: []string{"a", "b"}, Current: true},
	}
	want := []schema.Finding{
		{Name: "a.example.com", Type: "HOST", Sources: []string{"a"}},
		{Name: "www.example.com", Type: "A", Value: "203.0.113.10", FirstSeen: day(2), LastSeen: day(9), Count: 5, Sources: []string{"a", "b"}, Current: true},
	}
	if diff := cmp.Diff(want, providers.MergeFindings(in)); diff != "" {
		t.Errorf("MergeFindings (-want +got):\n%s", diff)
	}
	if in[0].Count != 2 || len(in[0].Sources) != 1 {
		t.Errorf("input modified: %+v", in[0])
	}
	if providers.MergeFindings(nil) != nil {
		t.Error("MergeFindings(nil) is not nil")
	}
}
