package schema

import (
	"testing"
	"time"
)

func BenchmarkCheckFinding(b *testing.B) {
	f := NewFinding("h1234.acme.example", "A", "203.0.113.10")
	now := time.Now()
	f.FirstSeen, f.LastSeen = now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1)
	b.ReportAllocs()
	for range b.N {
		if CheckRecord(f) != "" || CheckWindow(&f, now) != "" {
			b.Fatal("rejected")
		}
	}
}
