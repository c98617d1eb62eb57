package backend

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

func sampleState(n int, tag string) *state.State {
	s := state.New("acme")
	for i := 0; i < n; i++ {
		f := state.Finding{Finding: schema.NewFinding("h"+strconv.Itoa(i)+".acme.example", "A", "192.0.2."+strconv.Itoa(i%250)), Currency: state.Current, Block: "query.q", Unverified: tag}
		s.Findings = append(s.Findings, f)
	}
	return s
}

// part records the serial it was written for, or fails.
type part struct {
	fail   bool
	serial uint64
}

func (p *part) PartName() string { return "test ledger" }
func (p *part) WriteLocal(dir string, serial uint64) error {
	if p.fail {
		return errors.New("boom")
	}
	p.serial = serial
	return os.WriteFile(filepath.Join(dir, "ledger-"+strconv.FormatUint(serial, 10)), nil, 0o644)
}

type foreignPart struct{}

func (foreignPart) PartName() string { return "foreign ledger" }

func TestLocalSessionCommitsHistoryAndParts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := NewLocal(filepath.Join(dir, "acme.rfstate"), "")
	commit := func(c Commit) (Committed, error) {
		sess, err := b.Open(ctx, OpenOptions{Lock: true, Operation: "apply"})
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		return sess.Commit(ctx, c)
	}
	if res, err := commit(Commit{State: sampleState(3, "")}); err != nil || !res.Written || res.Serial != 1 || res.Lineage == "" {
		t.Fatalf("first commit: %+v %v", res, err)
	}
	p := &part{}
	if res, err := commit(Commit{State: sampleState(4, ""), Parts: []Part{p}}); err != nil || res.Serial != 2 || p.serial != 2 {
		t.Fatalf("second commit: %+v %v, part serial %d", res, err, p.serial)
	}
	// A failing part stops the commit; a part the backend cannot store
	// is refused before anything is written.
	if _, err := commit(Commit{State: sampleState(5, ""), Parts: []Part{&part{fail: true}}}); err == nil {
		t.Fatal("a failed part did not fail the commit")
	}
	if _, err := commit(Commit{State: sampleState(5, ""), Parts: []Part{foreignPart{}}}); err == nil {
		t.Fatal("an unknown part was accepted")
	}
	cur, err := b.Read(ctx)
	if err != nil || cur.Serial != 2 || len(cur.Findings) != 4 {
		t.Fatalf("after failed commits: %v %+v", err, cur)
	}
	// Same content: nothing written.
	if res, err := commit(Commit{State: sampleState(4, "")}); err != nil || res.Written || res.Serial != 2 {
		t.Fatalf("unchanged commit: %+v %v", res, err)
	}
	// Exact keeps the given serial and lineage.
	pushed := sampleState(6, "")
	pushed.Serial, pushed.Lineage = 7, cur.Lineage
	if res, err := commit(Commit{State: pushed, Exact: true}); err != nil || res.Serial != 7 {
		t.Fatalf("exact commit: %+v %v", res, err)
	}
	hist, _ := b.History(ctx)
	if len(hist) != 2 || hist[0].Serial != 1 || hist[1].Serial != 2 || !hist[1].SameLineage(cur.Lineage) {
		t.Fatalf("history %+v", hist)
	}
	cur, _ = b.Read(ctx)
	prev, err := Previous(ctx, b, cur)
	if err != nil || prev == nil || prev.Serial != 2 {
		t.Fatalf("previous: %v %+v", err, prev)
	}
	if e, err := FindSerial(hist, 1, cur.Lineage); err != nil || e.Serial != 1 {
		t.Fatalf("find serial: %v", err)
	}
}

func TestLocalLockHolderAndCache(t *testing.T) {
	ctx := context.Background()
	b := NewLocal(filepath.Join(t.TempDir(), "acme.rfstate"), "")
	sess, err := b.Open(ctx, OpenOptions{Lock: true, Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := b.LockHolder(ctx); info == nil || info.ID != sess.Lock().ID {
		t.Fatalf("holder %+v", info)
	}
	if _, err := b.Open(ctx, OpenOptions{Lock: true}); !IsLocked(err) {
		t.Fatalf("second session: %v", err)
	}
	sess.Close()
	if info, _ := b.LockHolder(ctx); info != nil {
		t.Fatalf("holder after close: %+v", info)
	}
	c := b.Cache()
	if _, ok := c.Get(ctx, "abcd"); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put(ctx, "abcd", []byte(`{"x":1}`), time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get(ctx, "abcd"); !ok || !bytes.Equal(got, []byte(`{"x":1}`)) {
		t.Fatalf("get %q %v", got, ok)
	}
	if err := c.Put(ctx, "../x", nil, time.Now()); err == nil {
		t.Fatal("a key that is a path was accepted")
	}
}
