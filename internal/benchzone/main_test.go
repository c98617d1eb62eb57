package main

import (
	"path/filepath"
	"testing"

	"github.com/reconform/reconform/internal/zonegen"
)

// TestPhasesOnATinyZone runs every measured phase in-process on a small
// generated zone; the real benchmark is go run ./internal/benchzone.
func TestPhasesOnATinyZone(t *testing.T) {
	data := filepath.Join(t.TempDir(), tld+".zone.gz")
	if err := zonegen.WriteFile(data, zonegen.Options{TLD: tld, Records: 20000, Providers: 500, Seed: 5}, true); err != nil {
		t.Fatal(err)
	}
	b, err := runPhase("build", data)
	if err != nil {
		t.Fatal(err)
	}
	z, err := runPhase("zoneparser", data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Lines != int64(z.Records) || b.Records == 0 || b.Records >= z.Records {
		t.Errorf("%d lines and %d records indexed, ZoneParser read %d (the index skips RRSIG and NSEC3)", b.Lines, b.Records, z.Records)
	}
	if b.Findings["most used (rank 0)"] == 0 {
		t.Errorf("ns_reverse of the most used name server found nothing: %v", b.Findings)
	}
}
