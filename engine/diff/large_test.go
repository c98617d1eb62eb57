package diff

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// Generated states for the tests; the measurement of large states is
// go run ./internal/benchdiff (docs/performance.md).

// largeState generates a state of n findings; variant 1 changes about 1%
// of them (moves, removals, additions, currency flips).
func largeState(n, variant int) *state.State {
	s := state.New("bench")
	s.Lineage = "00000000-0000-4000-8000-000000000000"
	s.Serial = uint64(variant + 1)
	rng := rand.New(rand.NewPCG(1, uint64(variant)))
	last := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	sources := []string{"securitytrails", "circl", "dnsdb", "file.sonar"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("h%07d.zone%03d.acme.example", i, i%997)
		value := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		cur := state.Current
		if variant == 1 {
			switch r := rng.IntN(400); {
			case r == 0:
				continue // removed
			case r == 1:
				value = fmt.Sprintf("172.16.%d.%d", i>>8&255, i&255) // moved
			case r == 2:
				cur = state.Historical
			case r == 3:
				name = "new-" + name // added
			}
		}
		f := state.Finding{
			Finding:   schema.Finding{Name: name, Type: "A", Value: value, FirstSeen: last.Add(-90 * 24 * time.Hour), LastSeen: last, Count: int64(i%50 + 1)},
			Currency:  cur,
			Block:     "query.history",
			Instances: []string{"securitytrails resolutions zone" + strconv.Itoa(i%997) + ".acme.example"},
		}
		f.Sources = []string{sources[i%len(sources)]}
		f.Query = f.Instances[0]
		s.Findings = append(s.Findings, f)
	}
	state.SortFindings(s.Findings)
	return s
}

func writeState(t *testing.T, path string, s *state.State) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := state.Encode(f, s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}
