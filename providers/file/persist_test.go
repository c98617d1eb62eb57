package file

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/fdnsgen"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

func persistedProvider(t *testing.T, data, work string) *Provider {
	t.Helper()
	p, err := New(context.Background(), providers.Config{
		Address: "file", WorkDir: work,
		Attrs: map[string]cty.Value{"path": cty.StringVal(data), "persist_index": cty.True},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

// answers runs a fixed set of queries covering every lookup structure.
func answers(t *testing.T, p *Provider) [][]schema.Finding {
	t.Helper()
	var out [][]schema.Finding
	for _, q := range []struct {
		op   schema.Op
		subj string
	}{
		{schema.OpResolutions, "www.example.com"},
		{schema.OpResolutions, "example.com"},
		{schema.OpReverseIP, "203.0.113.10"},
		{schema.OpReverseIP, "203.0.113.0/24"},
		{schema.OpReverseIP, "2001:db8::/32"},
		{schema.OpSubdomains, "example.com"},
		{schema.OpNSReverse, "ns1.dns.example.net"},
		{schema.OpMXReverse, "mail.example.org"},
	} {
		out = append(out, query(t, p, q.op, q.subj).Findings)
	}
	return out
}

func TestPersistedIndexIsReusedAndAnswersTheSame(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(t.TempDir(), "cof.ndjson")
	b, _ := os.ReadFile(filepath.Join(fixtures, "cof.ndjson"))
	os.WriteFile(data, b, 0o644)

	first := persistedProvider(t, data, work)
	want := answers(t, first)
	if first.Stats().Reused {
		t.Fatal("the first run cannot reuse an index")
	}
	files, _ := filepath.Glob(filepath.Join(work, "index", "*.rfidx"))
	if len(files) != 1 {
		t.Fatalf("index files: %v", files)
	}

	second := persistedProvider(t, data, work)
	got := answers(t, second)
	if !second.Stats().Reused {
		t.Fatal("the second run did not reuse the index")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers from the persisted index differ (-built +reused):\n%s", diff)
	}
	if second.Stats().Bad != 5 || len(second.ix.warnings) != 5 {
		t.Errorf("bad-line warnings were not kept: %+v", second.ix.warnings)
	}

	// A corrupt index is rebuilt, not trusted.
	raw, _ := os.ReadFile(files[0])
	raw[len(raw)/2] ^= 0xff
	os.WriteFile(files[0], raw, 0o644)
	third := persistedProvider(t, data, work)
	if diff := cmp.Diff(want, answers(t, third)); diff != "" || third.Stats().Reused {
		t.Errorf("corrupt index: reused=%v diff %s", third.Stats().Reused, diff)
	}

	// A truncated one too.
	raw, _ = os.ReadFile(files[0])
	os.WriteFile(files[0], raw[:len(raw)/3], 0o644)
	if p := persistedProvider(t, data, work); cmp.Diff(want, answers(t, p)) != "" || p.Stats().Reused {
		t.Error("truncated index was trusted")
	}

	// A changed data file makes the index stale.
	os.WriteFile(data, append(b, []byte(`{"rrname":"new.example.com","rrtype":"A","rdata":"203.0.113.77","time_first":1,"time_last":2}`+"\n")...), 0o644)
	later := time.Now().Add(time.Minute)
	os.Chtimes(data, later, later)
	fourth := persistedProvider(t, data, work)
	if fourth.Stats().Reused {
		t.Error("reused before any query")
	}
	if ans := query(t, fourth, schema.OpResolutions, "new.example.com"); len(ans.Findings) != 1 || fourth.Stats().Reused {
		t.Errorf("stale index reused: %+v", ans.Findings)
	}
}

func TestSmallFilesAreNotPersistedByDefault(t *testing.T) {
	work := t.TempDir()
	p, err := New(context.Background(), providers.Config{Address: "file", WorkDir: work, Dir: fixtures, Attrs: map[string]cty.Value{"path": cty.StringVal("cof.ndjson")}})
	if err != nil {
		t.Fatal(err)
	}
	query(t, p.(*Provider), schema.OpResolutions, "example.com")
	if files, _ := filepath.Glob(filepath.Join(work, "index", "*")); len(files) != 0 {
		t.Errorf("a small file's index was persisted: %v", files)
	}
}

func TestPersistGeneratedFDNS(t *testing.T) {
	data := filepath.Join(t.TempDir(), "fdns.json.gz")
	if err := fdnsgen.WriteFile(data, fdnsgen.Options{Lines: 20000, Seed: 3}, true); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	built := persistedProvider(t, data, work)
	reused := persistedProvider(t, data, work)
	for _, q := range []struct {
		op   schema.Op
		subj string
	}{
		{schema.OpSubdomains, "acme-0.com"},
		{schema.OpReverseIP, "1.0.0.0/8"},
		{schema.OpMXReverse, "aspmx.l.google.com"},
		{schema.OpNSReverse, "ns1.dnsprovider.net"},
	} {
		a := query(t, built, q.op, q.subj)
		b := query(t, reused, q.op, q.subj)
		if diff := cmp.Diff(a.Findings, b.Findings); diff != "" {
			t.Errorf("%s %s (-built +reused):\n%s", q.op, q.subj, diff)
		}
		if len(a.Findings) == 0 {
			t.Errorf("%s %s found nothing", q.op, q.subj)
		}
	}
	sub := query(t, built, schema.OpSubdomains, "acme-0.com").Findings
	if len(sub) > 0 {
		a := query(t, built, schema.OpResolutions, sub[0].Name)
		b := query(t, reused, schema.OpResolutions, sub[0].Name)
		if len(a.Findings) == 0 || cmp.Diff(a.Findings, b.Findings) != "" {
			t.Errorf("resolutions of %s differ or are empty", sub[0].Name)
		}
	}
	if st := reused.Stats(); !st.Reused || st.Lines != 20000 || st.Bad != 0 {
		t.Errorf("stats %+v", st)
	}
}

// IPv4 values live in their own table, not the values' hash slots, so a
// dump of mostly A records has fewer slots than values; its index must
// still be reused rather than rebuilt on every run as "inconsistent".
func TestPersistedIndexOfManyIPv4ValuesIsReused(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, `{"timestamp":"1717200000","name":"h%d.example.com","type":"a","value":"10.0.%d.%d"}`+"\n", i, i>>8, i&255)
	}
	data := filepath.Join(t.TempDir(), "fdns.json")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	built := persistedProvider(t, data, work)
	want := query(t, built, schema.OpReverseIP, "10.0.19.0/24").Findings
	reused := persistedProvider(t, data, work)
	got := query(t, reused, schema.OpReverseIP, "10.0.19.0/24").Findings
	if !reused.Stats().Reused {
		t.Fatal("the index was rebuilt instead of reused")
	}
	if len(want) != 136 {
		t.Errorf("findings: %d, want 136", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-built +reused):\n%s", diff)
	}
}

// damagedIndex persists the index of a COF fixture, keeps the answers
// and the file's bytes, and damages a byte inside the file's first block.
func damagedIndex(t *testing.T) (data, work, file string, want [][]schema.Finding, good []byte) {
	t.Helper()
	work = t.TempDir()
	data = filepath.Join(t.TempDir(), "cof.ndjson")
	b, _ := os.ReadFile(filepath.Join(fixtures, "cof.ndjson"))
	os.WriteFile(data, b, 0o644)
	want = answers(t, persistedProvider(t, data, work))
	files, _ := filepath.Glob(filepath.Join(work, "index", "*.rfidx"))
	if len(files) != 1 {
		t.Fatalf("index files: %v", files)
	}
	good, _ = os.ReadFile(files[0])
	bad := bytes.Clone(good)
	bad[headerSize+8] ^= 0xff // inside the first block
	os.WriteFile(files[0], bad, 0o644)
	return data, work, files[0], want, good
}

// TestCorruptBlockIsRebuilt: a persisted index is opened without reading
// its blocks, so a block damaged on disk is found by the query that reads
// it, which then answers from a rebuilt index; the rebuilt file is reused
// by the next run.
func TestCorruptBlockIsRebuilt(t *testing.T) {
	data, work, _, want, _ := damagedIndex(t)

	p := persistedProvider(t, data, work)
	if _, err := p.index(context.Background()); err != nil || !p.Stats().Reused {
		t.Fatalf("the damaged index was not opened: reused %v, %v", p.Stats().Reused, err)
	}
	if diff := cmp.Diff(want, answers(t, p)); diff != "" {
		t.Errorf("answers with a damaged block (-want +got):\n%s", diff)
	}
	if p.Stats().Reused {
		t.Error("no query found the damaged block")
	}
	next := persistedProvider(t, data, work)
	if diff := cmp.Diff(want, answers(t, next)); diff != "" || !next.Stats().Reused {
		t.Errorf("after the rebuild: reused %v, diff %s", next.Stats().Reused, diff)
	}
}

// TestCorruptBlockKeepsAReplacedFile: the damaged index's file is removed
// only if it is still the one at the index's path; a good index another
// run renamed into place is reused, not deleted.
func TestCorruptBlockKeepsAReplacedFile(t *testing.T) {
	data, work, file, want, good := damagedIndex(t)

	p := persistedProvider(t, data, work)
	if _, err := p.index(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Another run puts a good index in place (a new file, renamed).
	tmp := file + ".new"
	os.WriteFile(tmp, good, 0o644)
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, answers(t, p)); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if !p.Stats().Reused {
		t.Error("the good index put in place was not reused")
	}
	if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, good) {
		t.Errorf("the good index was removed or changed: %v", err)
	}
}
