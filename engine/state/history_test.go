package state

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

func TestDeltaEncodeApply(t *testing.T) {
	var canon bytes.Buffer
	Encode(&canon, sample())
	s2 := sample()
	s2.Findings[0].Count = 42
	s2.Findings = append(s2.Findings, Finding{Finding: schema.NewFinding("zz.acme.example", "A", "203.0.113.9"), Currency: Historical})
	var canon2 bytes.Buffer
	Encode(&canon2, s2)
	tests := []struct {
		name, base, text string
		// copies is how many records the delta copies at least.
		copies int
	}{
		{"empty to empty", "", "", 0},
		{"snapshot", "", "{\n  \"a\": 1\n}\n", 0},
		{"to empty", "{\n  \"a\": 1\n}\n", "", 0},
		{"identical", "{\n  \"a\": 1,\n  \"b\": [\n    {\n      \"x\": 1\n    }\n  ]\n}\n", "{\n  \"a\": 1,\n  \"b\": [\n    {\n      \"x\": 1\n    }\n  ]\n}\n", 1},
		{"record added", "{\n  \"b\": [\n    {\n      \"x\": 1\n    },\n    {\n      \"x\": 3\n    }\n  ]\n}\n", "{\n  \"b\": [\n    {\n      \"x\": 1\n    },\n    {\n      \"x\": 2\n    },\n    {\n      \"x\": 3\n    }\n  ]\n}\n", 3},
		{"record removed", "a\n    b\n      c\n    d\n", "a\n    d\n", 2},
		{"record changed", "a\n    b\n      c\n    d\n", "a\n    b\n      C\n    d\n", 2},
		{"reordered", "a\nb\nc\nd\n", "d\nc\nb\na\n", 4},
		{"no trailing newline", "a\nb", "a\nb\nc", 1},
		{"short last lines", "x\n  \n \n", "x\n \n  \n", 1},
		{"continuation first", "      deep\nx\n", "      deep\ny\n", 1},
		{"repeated records", "  ],\n  ],\n  ],\n", "  ],\n  ],\n", 2},
		{"binary", "\x00\xff\n\x01\n     \x02\n", "\x03\n\x00\xff\n", 1},
		{"state", canon.String(), canon2.String(), 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var base []byte
			if tc.base != "" {
				base = []byte(tc.base)
			}
			ops := EncodeDelta(base, []byte(tc.text))
			got, err := ApplyDelta(base, ops, int64(len(tc.text)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.text, string(got)); diff != "" {
				t.Fatalf("rebuilt text (-want +got):\n%s", diff)
			}
			copied := 0
			for p := 0; p < len(ops); {
				switch ops[p] {
				case 'C':
					copied++
				}
				p = skipOp(t, ops, p)
			}
			if tc.copies > 0 && copied == 0 {
				t.Errorf("the delta copies nothing from its base: %q", ops)
			}
			if len(tc.text) > 0 && int64(len(got)) > int64(len(tc.text)) {
				t.Errorf("size")
			}
			// A bound below the text's size is refused.
			if len(tc.text) > 0 {
				if _, err := ApplyDelta(base, ops, int64(len(tc.text))-1); !errors.Is(err, ErrBadDelta) {
					t.Errorf("a result over its bound: %v", err)
				}
			}
		})
	}
}

// skipOp returns the offset of the operation after the one at p.
func skipOp(t *testing.T, ops []byte, p int) int {
	t.Helper()
	var n1, n2 int
	switch ops[p] {
	case 'C':
		_, n1 = uvarint(ops[p+1:])
		_, n2 = uvarint(ops[p+1+n1:])
		return p + 1 + n1 + n2
	case 'I':
		l, n := uvarint(ops[p+1:])
		return p + 1 + n + int(l)
	}
	t.Fatalf("operation %q", ops[p])
	return 0
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i, c := range b {
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

// TestRecordSplitterStreams: records cut from a stream in any chunks are
// those of the whole text.
func TestRecordSplitterStreams(t *testing.T) {
	var canon bytes.Buffer
	Encode(&canon, bigState(300, 3))
	texts := [][]byte{canon.Bytes(), []byte("a\n  \n     \n    x\n"), []byte("\n\n\n"), []byte("     \n"), []byte("x")}
	rng := rand.New(rand.NewPCG(1, 2))
	for i, text := range texts {
		var want []string
		splitRecords(text, func(r []byte) { want = append(want, string(r)) })
		for round := 0; round < 20; round++ {
			var got []string
			sp := &recordSplitter{emit: func(r []byte) error { got = append(got, string(r)); return nil }}
			for rest := text; len(rest) > 0; {
				n := min(len(rest), 1+rng.IntN(9))
				sp.Write(rest[:n])
				rest = rest[n:]
			}
			sp.Close()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("text %d round %d (-whole +streamed):\n%s", i, round, diff)
			}
		}
	}
}

// driftState moves s on by one night: some findings seen again, some
// gone, some new, one fact changed.
func driftState(s *State, night int, rng *rand.Rand) *State {
	next := *s
	next.Findings = nil
	at := t0.Add(time.Duration(night) * 24 * time.Hour)
	for _, f := range s.Findings {
		switch r := rng.IntN(100); {
		case r < 3:
			continue
		case r < 8:
			f.LastSeen, f.Count = at, f.Count+1
		}
		next.Findings = append(next.Findings, f)
	}
	for j := 0; j < 1+rng.IntN(4); j++ {
		f := Finding{Finding: schema.NewFinding(fmt.Sprintf("n%d-%d.acme.example", night, j), "TXT", fmt.Sprintf("v=spf1 ip4:10.0.%d.%d -all\n     odd", night, j)), Currency: Current}
		f.LastSeen, f.Sources = at, []string{"securitytrails"}
		next.Findings = append(next.Findings, f)
	}
	SortFindings(next.Findings)
	next.Facts = []schema.Fact{{Subject: "acme.example", Kind: "night", Value: fmt.Sprint(night % 3)}}
	next.Run = RunSummary{StartedAt: at, FinishedAt: at.Add(time.Minute), Findings: len(next.Findings)}
	return &next
}

// history writes nights states through st, one a day from t0, and
// returns each serial's state file as it was.
func writeNights(t *testing.T, st Store, nights int, keep schema.HistoryKeep) map[uint64][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(nights), 7))
	texts := map[uint64][]byte{}
	var prev *State
	cur := bigState(120, 1)
	for night := 0; night < nights; night++ {
		if prev != nil {
			cur = driftState(prev, night, rng)
		}
		if _, err := st.WriteWith(prev, cur, WriteOptions{Keep: keep, Now: t0.Add(time.Duration(night) * 24 * time.Hour)}); err != nil {
			t.Fatalf("night %d: %v", night, err)
		}
		data, err := os.ReadFile(st.Path)
		if err != nil {
			t.Fatal(err)
		}
		texts[cur.Serial] = data
		if prev, err = st.Read(); err != nil {
			t.Fatal(err)
		}
	}
	return texts
}

// checkRebuilds rebuilds every listed state and compares it with the
// state file it was.
func checkRebuilds(t *testing.T, st Store, texts map[uint64][]byte) []HistoryEntry {
	t.Helper()
	hist, current, err := st.Log()
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hist {
		var buf bytes.Buffer
		if err := st.HistoryText(&buf, h); err != nil {
			t.Fatalf("serial %d: %v", h.Serial, err)
		}
		if !bytes.Equal(buf.Bytes(), texts[h.Serial]) {
			t.Fatalf("serial %d rebuilt differs from its state file:\n%s", h.Serial, cmp.Diff(string(texts[h.Serial]), buf.String()))
		}
		s, err := st.ReadHistory(h)
		if err != nil || s.Serial != h.Serial {
			t.Fatalf("serial %d: %v", h.Serial, err)
		}
		if i == current && i != len(hist)-1 {
			t.Errorf("the current state's entry is not the newest")
		}
	}
	return hist
}

func TestHistoryRebuildsEverySerial(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "acme.rfstate")}
	nights := 2*SnapshotEvery + 5
	texts := writeNights(t, st, nights, schema.HistoryKeep{})
	hist := checkRebuilds(t, st, texts)
	if len(hist) != nights {
		t.Fatalf("%d entries for %d nights", len(hist), nights)
	}
	for i, h := range hist {
		want := HistoryDelta
		if i%SnapshotEvery == 0 {
			want = HistorySnapshot
		}
		if h.Kind != want {
			t.Errorf("serial %d is a %s, want a %s", h.Serial, h.Kind, want)
		}
		if h.Changes == nil || (i > 0 && h.Changes.Added == 0) || h.Findings != len(mustRead(t, st, h).Findings) {
			t.Errorf("serial %d: changes %+v, findings %d", h.Serial, h.Changes, h.Findings)
		}
		if h.Kind == HistoryDelta && h.Bytes*4 > h.StateBytes {
			t.Errorf("serial %d: a delta of %d bytes for a state of %d", h.Serial, h.Bytes, h.StateBytes)
		}
	}
	// History (the past states) leaves the current one out.
	past, _ := st.History()
	if len(past) != nights-1 || past[len(past)-1].Serial != uint64(nights-1) {
		t.Fatalf("history: %d entries", len(past))
	}
}

func mustRead(t *testing.T, st Store, h HistoryEntry) *State {
	t.Helper()
	s, err := st.ReadHistory(h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHistoryPrune(t *testing.T) {
	tests := []struct {
		name string
		keep schema.HistoryKeep
		// serials kept after the nights, oldest first.
		oldest, count int
	}{
		// 36 nights: serials 1..36 (33 is a snapshot), the current 36
		// always kept.
		{"count", schema.HistoryKeep{Count: 5}, 31, 6},
		{"count past a snapshot", schema.HistoryKeep{Count: 10}, 26, 11},
		// A state is kept while it was current within the age: serial
		// 29 was replaced on night 29 (by serial 30), 6 days before the
		// last night, 35.
		{"age", schema.HistoryKeep{Age: 6 * 24 * time.Hour}, 29, 8},
		{"age under a day", schema.HistoryKeep{Age: time.Hour}, 35, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := Store{Path: filepath.Join(t.TempDir(), "acme.rfstate")}
			texts := writeNights(t, st, 36, tc.keep)
			hist := checkRebuilds(t, st, texts)
			if len(hist) != tc.count || hist[0].Serial != uint64(tc.oldest) {
				var got []uint64
				for _, h := range hist {
					got = append(got, h.Serial)
				}
				t.Fatalf("kept serials %v, want %d from %d", got, tc.count, tc.oldest)
			}
			if hist[0].Kind != HistorySnapshot {
				t.Errorf("the oldest kept entry is a %s: it was not re-based", hist[0].Kind)
			}
			files, _ := os.ReadDir(st.HistoryDir())
			if len(files) != tc.count {
				t.Errorf("%d files left for %d entries", len(files), tc.count)
			}
		})
	}
}

// TestHistoryOfVersion01: the whole files 0.1 kept are listed, read and
// pruned beside the new entries; the first commit after the upgrade keeps
// the state 0.1 wrote as a snapshot.
func TestHistoryOfVersion01(t *testing.T) {
	dir := t.TempDir()
	st := Store{Path: filepath.Join(dir, "acme.rfstate")}
	os.MkdirAll(st.HistoryDir(), 0o755)
	texts := map[uint64][]byte{}
	var prev *State
	for serial := 1; serial <= 3; serial++ {
		s := bigState(40, serial)
		s.Serial = uint64(serial)
		var buf bytes.Buffer
		Encode(&buf, s)
		texts[s.Serial] = buf.Bytes()
		if serial < 3 {
			os.WriteFile(filepath.Join(st.HistoryDir(), HistoryName(s.Serial, s.Lineage)), buf.Bytes(), 0o644)
		} else {
			os.WriteFile(st.Path, buf.Bytes(), 0o644)
		}
	}
	hist, current, err := st.Log()
	if err != nil || len(hist) != 2 || current != -1 || hist[0].Kind != HistoryFull || hist[0].Changes != nil {
		t.Fatalf("0.1 history: %+v %d %v", hist, current, err)
	}
	prev, _ = st.Read()
	next := bigState(40, 4)
	if _, err := st.Write(prev, next); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(st.Path)
	texts[4] = data
	hist = checkRebuilds(t, st, texts)
	kinds := ""
	for _, h := range hist {
		kinds += h.Kind + " "
	}
	if kinds != "full full snapshot delta " {
		t.Fatalf("kinds: %s", kinds)
	}
	// Pruned by count: the 0.1 files go first.
	if _, err := st.Prune(schema.HistoryKeep{Count: 1}, time.Now()); err != nil {
		t.Fatal(err)
	}
	hist = checkRebuilds(t, st, texts)
	if len(hist) != 2 || hist[0].Serial != 3 {
		t.Fatalf("after pruning: %+v", hist)
	}
}

// TestHistoryCrashBetweenEntryAndState: a writer that dies once its entry
// is on disk but before its state replaces the old one leaves the history
// as it was: the entry is not listed, every kept state rebuilds, and the
// next commit of that serial is the one the history keeps.
func TestHistoryCrashBetweenEntryAndState(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	st := Store{Path: filepath.Join(t.TempDir(), "acme.rfstate")}
	texts := writeNights(t, st, 3, schema.HistoryKeep{})
	before, _ := os.ReadFile(st.Path)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RECONFORM_HISTORY_CRASH="+st.Path)
	out, err := cmd.CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("writer: %v %s", err, out)
	}
	if after, _ := os.ReadFile(st.Path); !bytes.Equal(after, before) {
		t.Fatal("the state changed")
	}
	files, _ := filepath.Glob(filepath.Join(st.HistoryDir(), "000004-*"))
	if len(files) != 1 {
		t.Fatalf("the crashed writer's entry: %v", files)
	}
	if hist := checkRebuilds(t, st, texts); len(hist) != 3 {
		t.Fatalf("history lists %d states after the crash", len(hist))
	}
	prev, _ := st.Read()
	next := bigState(60, 4)
	if _, err := st.Write(prev, next); err != nil {
		t.Fatal(err)
	}
	texts[4], _ = os.ReadFile(st.Path)
	if hist := checkRebuilds(t, st, texts); len(hist) != 4 {
		t.Fatalf("history lists %d states", len(hist))
	}
}

// TestHistoryDamage: a damaged entry is an error naming it, never a wrong
// state.
func TestHistoryDamage(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "acme.rfstate")}
	writeNights(t, st, 4, schema.HistoryKeep{})
	hist, _, _ := st.Log()
	// Flip a byte of the snapshot's payload.
	data, _ := os.ReadFile(hist[0].Path)
	data[len(data)-5] ^= 0x40
	os.WriteFile(hist[0].Path, data, 0o644)
	var de *DamagedError
	if _, err := st.ReadHistory(hist[2]); !errors.As(err, &de) || !strings.Contains(err.Error(), "cannot be rebuilt") {
		t.Fatalf("rebuild over a damaged snapshot: %v", err)
	}
}

func FuzzDecodeHistoryEntry(f *testing.F) {
	dir := f.TempDir()
	st := Store{Path: filepath.Join(dir, "acme.rfstate")}
	var prev *State
	for i := 0; i < 3; i++ {
		next := bigState(5, i)
		st.Write(prev, next)
		prev, _ = st.Read()
	}
	files, _ := filepath.Glob(filepath.Join(st.HistoryDir(), "*.rfhist"))
	var base []byte
	for _, p := range files {
		data, _ := os.ReadFile(p)
		f.Add(data, []byte(nil))
		if _, ops, err := decodeEntry(data); err == nil {
			f.Add([]byte(nil), ops)
		}
	}
	var buf bytes.Buffer
	Encode(&buf, prev)
	base = buf.Bytes()
	f.Add([]byte(historyMagic+`{"kind":"delta","base":"x.rfhist","sha256":"`+strings.Repeat("0", 64)+`","size":5}`+"\n\x28\xb5\x2f\xfd"), []byte("C\x00\x05I\x03abc"))
	f.Fuzz(func(t *testing.T, entry, ops []byte) {
		// Hostile entry files: an error, never a panic.
		if h, out, err := decodeEntry(entry); err == nil {
			applyOps(nil, nil, out, h.Size)
		}
		// Hostile operations over a real base: bounded, never a panic.
		var recs [][]byte
		splitRecords(base, func(r []byte) { recs = append(recs, r) })
		if out, size, err := applyOps(nil, recs, ops, 1<<20); err == nil {
			n := int64(0)
			for _, r := range out {
				n += int64(len(r))
			}
			if n != size || size > 1<<20 {
				t.Fatalf("size %d, counted %d", size, n)
			}
		}
	})
}

// A header whose counts the content hash does not cover is checked before
// they size anything: a claimed count of findings or a depth it cannot
// have is an error, not an allocation.
func TestHistoryHeaderClaims(t *testing.T) {
	st := Store{Path: filepath.Join(t.TempDir(), "acme.rfstate")}
	writeNights(t, st, 3, schema.HistoryKeep{})
	hist, _, _ := st.Log()
	for _, edit := range []struct{ from, to string }{
		{`"findings":`, `"findings":90000000000`},
		{`"depth":`, `"depth":-7`},
	} {
		data, _ := os.ReadFile(hist[1].Path)
		i := bytes.Index(data, []byte(edit.from))
		if i < 0 {
			t.Fatalf("no %s in the header: %.200s", edit.from, data)
		}
		j := i + len(edit.from)
		for j < len(data) && (data[j] == '-' || data[j] >= '0' && data[j] <= '9') {
			j++
		}
		bad := append(append(append([]byte{}, data[:i]...), edit.to...), data[j:]...)
		if err := os.WriteFile(hist[1].Path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ReadHistory(hist[1]); err == nil {
			t.Errorf("%s: read without an error", edit.to)
		}
		os.WriteFile(hist[1].Path, data, 0o644)
	}
}
