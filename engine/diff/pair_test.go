package diff

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// comparePaths renders the drift of two state files both ways: read
// whole (state.ReadFile + Compare) and read as a pair (ReadPairFiles +
// ComparePair). The two must be the same, byte for byte.
func comparePaths(t *testing.T, oldPath, newPath string, ignore []schema.IgnoreRule) (whole, pair string) {
	t.Helper()
	render := func(r *Result) string {
		var b bytes.Buffer
		if err := JSON(&b, r); err != nil {
			t.Fatal(err)
		}
		if err := Text(&b, r, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := Markdown(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	old, err := state.ReadFile(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	new, err := state.ReadFile(newPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := state.ReadPairFiles(oldPath, newPath)
	if err != nil {
		t.Fatal(err)
	}
	return render(Compare(old, new, ignore)), render(ComparePair(p, ignore))
}

func TestComparePairMatchesCompare(t *testing.T) {
	dir := t.TempDir()
	moved := func(s *state.State) *state.State { // every finding seen again a day later
		for i := range s.Findings {
			s.Findings[i].LastSeen = s.Findings[i].LastSeen.Add(24 * time.Hour)
			s.Findings[i].Count++
		}
		return s
	}
	unverified := func(s *state.State) *state.State {
		for i := 0; i < len(s.Findings); i += 7 {
			s.Findings[i].Unverified = "query failed: timeout"
			s.Findings[i].UnverifiedSince = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		}
		return s
	}
	withMX := func(s *state.State) *state.State { // 0.1's MX values keep their preference
		for i := 0; i < len(s.Findings); i += 11 {
			s.Findings[i].Type = "MX"
			s.Findings[i].Value = "10 mx" + s.Findings[i].Value + ".mail.example"
		}
		state.SortFindings(s.Findings)
		return s
	}
	escaped := func(s *state.State) *state.State {
		for i := 0; i < len(s.Findings); i += 13 {
			s.Findings[i].Type = "TXT"
			s.Findings[i].Value = "v=spf1 \"quoted\" é \\ " + s.Findings[i].Value
		}
		state.SortFindings(s.Findings)
		return s
	}
	same := func(s *state.State) *state.State { return s }
	cases := []struct {
		name     string
		old, new func(*state.State) *state.State
		ignore   []schema.IgnoreRule
	}{
		{"drift", same, same, nil},
		{"every last_seen moved", same, moved, nil},
		{"unverified", same, unverified, nil},
		{"reverified", unverified, same, nil},
		{"0.1 MX", withMX, withMX, nil},
		{"escapes", escaped, escaped, nil},
		{"ignored", same, moved, []schema.IgnoreRule{{Name: "*.zone001.acme.example"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			oldPath, newPath := filepath.Join(dir, "old"), filepath.Join(dir, "new")
			writeState(t, oldPath, c.old(largeState(3000, 0)))
			writeState(t, newPath, c.new(largeState(3000, 1)))
			whole, pair := comparePaths(t, oldPath, newPath, c.ignore)
			if p, err := state.ReadPairFiles(oldPath, newPath); err != nil || p.Same < 2000 {
				t.Fatalf("the canonical files were not read side by side: %v", err)
			}
			if whole != pair {
				t.Fatalf("pair differs from whole:\n%s", firstDifference(whole, pair))
			}
			if !strings.Contains(whole, "\"added\"") {
				t.Fatalf("no drift rendered:\n%.500s", whole)
			}
		})
	}
}

// Files not in the canonical layout (re-indented, keys reordered by hand,
// unsorted) are read whole, with the same result or the same error.
func TestComparePairOtherLayouts(t *testing.T) {
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	writeState(t, oldPath, largeState(500, 0))
	writeState(t, newPath, largeState(500, 1))
	canonical, _ := os.ReadFile(newPath)

	variants := map[string][]byte{
		"tabs":      bytes.ReplaceAll(canonical, []byte("    "), []byte("\t")),
		"one line":  bytes.ReplaceAll(canonical, []byte("\n"), nil),
		"crlf":      bytes.ReplaceAll(canonical, []byte("\n"), []byte("\r\n")),
		"no indent": bytes.ReplaceAll(canonical, []byte("\n      "), []byte("\n")),
	}
	for name, data := range variants {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "variant")
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			whole, pair := comparePaths(t, oldPath, p, nil)
			if whole != pair {
				t.Fatalf("pair differs from whole:\n%s", firstDifference(whole, pair))
			}
		})
	}

	broken := map[string][]byte{
		"truncated":      canonical[:len(canonical)/2],
		"bad currency":   bytes.Replace(canonical, []byte(`"currency": "current"`), []byte(`"currency": "live"`), 1),
		"bad json":       bytes.Replace(canonical, []byte(`"currency": "current"`), []byte(`"currency": current`), 1),
		"duplicate":      duplicateFirstFinding(t, canonical),
		"trailing bytes": append(bytes.Clone(canonical), "x"...),
	}
	for name, data := range broken {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "broken")
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, wholeErr := state.ReadFile(p)
			_, pairErr := state.ReadPairFiles(oldPath, p)
			if wholeErr == nil || pairErr == nil || wholeErr.Error() != pairErr.Error() {
				t.Fatalf("errors differ: whole %v, pair %v", wholeErr, pairErr)
			}
		})
	}
}

func duplicateFirstFinding(t *testing.T, canonical []byte) []byte {
	start := bytes.Index(canonical, []byte("\n    {\n"))
	end := bytes.Index(canonical[start:], []byte("\n    },\n"))
	if start < 0 || end < 0 {
		t.Fatal("no finding in the canonical file")
	}
	elem := canonical[start+1 : start+end+7]
	return append(append(append([]byte{}, canonical[:start+1]...), elem...), canonical[start+1:]...)
}

func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return "whole: ..." + a[lo:min(len(a), i+200)] + "\npair:  ..." + b[lo:min(len(b), i+200)]
}

// FuzzComparePair: whatever the new file holds, reading it as a pair
// fails when reading it whole fails, and gives the same drift otherwise.
func FuzzComparePair(f *testing.F) {
	dir := f.TempDir()
	oldPath := filepath.Join(dir, "old")
	old := largeState(12, 0)
	for i := 0; i < len(old.Findings); i += 5 {
		old.Findings[i].Type, old.Findings[i].Value = "MX", "10 mx.mail.example"
	}
	state.SortFindings(old.Findings)
	var b bytes.Buffer
	if err := state.Encode(&b, old); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(oldPath, b.Bytes(), 0o600); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	var nb bytes.Buffer
	if err := state.Encode(&nb, largeState(12, 1)); err != nil {
		f.Fatal(err)
	}
	f.Add(nb.Bytes())
	f.Add(bytes.Replace(nb.Bytes(), []byte(`"currency": "current"`), []byte(`"currency": "historical"`), 3))
	f.Add(bytes.Replace(nb.Bytes(), []byte("\n    },\n    {\n"), []byte("\n    },\n    {\n      \"name\": \"x\",\n"), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		newPath := filepath.Join(dir, "new") // one per process: inputs run one at a time
		if err := os.WriteFile(newPath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		whole, wholeErr := state.ReadFile(newPath)
		p, pairErr := state.ReadPairFiles(oldPath, newPath)
		if (wholeErr == nil) != (pairErr == nil) {
			t.Fatalf("whole: %v, pair: %v", wholeErr, pairErr)
		}
		if wholeErr != nil {
			return
		}
		oldWhole, err := state.ReadFile(oldPath)
		if err != nil {
			t.Fatal(err)
		}
		var a, c bytes.Buffer
		if err := JSON(&a, Compare(oldWhole, whole, nil)); err != nil {
			t.Fatal(err)
		}
		if err := JSON(&c, ComparePair(p, nil)); err != nil {
			t.Fatal(err)
		}
		if a.String() != c.String() {
			t.Fatalf("pair differs from whole:\n%s", firstDifference(a.String(), c.String()))
		}
	})
}
