package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/fdnsgen"
	"github.com/reconform/reconform/internal/zonegen"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// allAnswers runs, against p, every query the data of ref's index can
// answer: resolutions of each owner name, subdomains of each of their
// parents, reverse_ip of each address key and its /24 or /64,
// ns_reverse and mx_reverse of each host key.
func allAnswers(t *testing.T, ref, p *Provider) map[string][]schema.Finding {
	t.Helper()
	ix, err := ref.index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var qs []schema.Query
	seen := map[string]bool{}
	add := func(op schema.Op, s string) {
		subj, err := schema.ParseSubject(s)
		if err != nil || seen[string(op)+s] {
			return
		}
		seen[string(op)+s] = true
		qs = append(qs, schema.Query{Provider: "file", Op: op, Subject: subj})
	}
	var buf []byte
	ix.scanF(nil, func(x *fent) bool {
		name := string(reverseInto(buf[:0], x.rname))
		add(schema.OpResolutions, name)
		if _, parent, ok := cutDot(name); ok {
			add(schema.OpSubdomains, parent)
		}
		return true
	})
	ix.scanR(nil, func(x *rent) bool {
		text := string(keyText(nil, x.key))
		switch x.key[0] {
		case keyName:
			add(schema.OpNSReverse, text)
			add(schema.OpMXReverse, text)
			if _, parent, ok := cutDot(text); ok {
				add(schema.OpSubdomains, parent)
			}
		case keyIPv4:
			add(schema.OpReverseIP, text)
			add(schema.OpReverseIP, text[:len(text)-len(lastLabel(text))]+"0/24")
		default:
			add(schema.OpReverseIP, text)
		}
		return true
	})
	out := map[string][]schema.Finding{}
	for _, q := range qs {
		ans, err := p.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("%s %s: %v", q.Op, q.Subject.Value, err)
		}
		out[string(q.Op)+" "+q.Subject.Value] = ans.Findings
	}
	return out
}

func cutDot(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

func lastLabel(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return s[i+1:]
		}
	}
	return s
}

func budgetProvider(t *testing.T, path, budget, work string) *Provider {
	t.Helper()
	attrs := map[string]cty.Value{"path": cty.StringVal(path), "persist_index": cty.False}
	if budget != "" {
		attrs["index_memory"] = cty.StringVal(budget)
	}
	p, err := New(context.Background(), providers.Config{Address: "file", WorkDir: work, Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

// A build under a tiny memory budget writes many sorted runs as segments
// (or merges them, past maxSegments); its index answers every query
// exactly as the one built in memory.
func TestSpilledRunsMergeToTheSameIndex(t *testing.T) {
	dir := t.TempDir()
	fd := filepath.Join(dir, "fdns.json.gz")
	if err := fdnsgen.WriteFile(fd, fdnsgen.Options{Lines: 3000, Seed: 11}, true); err != nil {
		t.Fatal(err)
	}
	zf := filepath.Join(dir, "example.zone.gz")
	if err := zonegen.WriteFile(zf, zonegen.Options{TLD: "example", Records: 3000, Seed: 11}, true); err != nil {
		t.Fatal(err)
	}
	// A build that makes more runs than an index keeps as segments merges
	// the fewest it must into one (all of them when it keeps one) and
	// copies the others.
	big := filepath.Join(dir, "big.json.gz")
	if err := fdnsgen.WriteFile(big, fdnsgen.Options{Lines: 3000, Seed: 12}, true); err != nil {
		t.Fatal(err)
	}
	type build struct {
		path  string
		limit int // maxSegments for the build; 0: the default
	}
	builds := []build{{fd, 0}, {zf, 0}, {big, 1}, {big, 4}}
	for _, name := range []string{"cof.ndjson", "master.zone", "records.csv"} {
		builds = append(builds, build{filepath.Join(fixtures, name), 0})
	}
	for _, bd := range builds {
		t.Run(fmt.Sprintf("%s/%d", filepath.Base(bd.path), bd.limit), func(t *testing.T) {
			work := t.TempDir()
			mem := budgetProvider(t, bd.path, "", work)
			if bd.limit > 0 {
				defer func(n int) { maxSegments = n }(maxSegments)
				maxSegments = bd.limit
			}
			spilled := budgetProvider(t, bd.path, "64KiB", work)
			want := allAnswers(t, mem, mem)
			got := allAnswers(t, mem, spilled)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answers differ (-in memory +spilled):\n%s", diff)
			}
			// Entries in order (values by their text: the seal orders
			// addresses by number) and well formed.
			for _, p := range []*Provider{mem, spilled} {
				if err := p.ix.check(); err != nil {
					t.Error(err)
				}
			}
			if st := mem.Stats(); st.Runs != 1 {
				t.Errorf("in memory: %d runs", st.Runs)
			}
			st := spilled.Stats()
			if st.Runs < 4 && mem.Stats().Records > 2500 {
				t.Errorf("a 64KiB budget merged %d runs", st.Runs)
			}
			if segs := len(spilled.ix.segs); segs > maxSegments || (st.Runs > maxSegments) != (bd.limit > 0) {
				t.Errorf("%d runs kept as %d segments", st.Runs, segs)
			}
			// Segments count a string once each; one merged segment, once.
			if st.Records != mem.Stats().Records || st.Strings < mem.Stats().Strings || (bd.limit == 1 && st.Strings != mem.Stats().Strings) {
				t.Errorf("spilled %+v, in memory %+v", st, mem.Stats())
			}
			t.Logf("%d queries, %d runs, %d segments, %d bytes", len(want), st.Runs, len(spilled.ix.segs), st.IndexBytes)
			// Spill files are removed as they are made.
			if left, _ := filepath.Glob(filepath.Join(work, "index", ".rfidx-*")); len(left) > 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
}

func TestIndexMemoryAttribute(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"320MiB", 320 << 20, true}, {"1GiB", 1 << 30, true}, {"64KiB", 64 << 10, true}, {"2 gb", 2 << 30, true},
		{"1KiB", 0, false}, {"lots", 0, false}, {"12XB", 0, false}, {"99999999999GiB", 0, false},
	} {
		got, err := parseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v", tt.in, got, err)
		}
	}
	path := filepath.Join(t.TempDir(), "a.csv")
	os.WriteFile(path, []byte("a.example,A,192.0.2.1\n"), 0o644)
	_, err := New(context.Background(), providers.Config{Address: "file", Attrs: map[string]cty.Value{"path": cty.StringVal(path), "index_memory": cty.StringVal("12")}})
	if err == nil {
		t.Error("a 12-byte budget was accepted")
	}
}
