package pg

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/pgtest"
	"github.com/reconform/reconform/schema"
)

// TestHistoryRoundTripAndPrune: many commits through pg and a local
// backend; every kept revision of pg rebuilds to the local history's
// state of the same serial, byte for byte; Log says what each holds;
// pruning by count and then by age keeps every kept revision rebuildable
// and removes the rows none holds.
func TestHistoryRoundTripAndPrune(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	local := backend.NewLocal(filepath.Join(t.TempDir(), "acme.rfstate"), "")
	day := func(i int) time.Time { return t0.Add(time.Duration(i) * 24 * time.Hour) }
	commit := func(be backend.Backend, i int, keep schema.HistoryKeep, lineage string) backend.Committed {
		t.Helper()
		sess, err := be.Open(ctx, backend.OpenOptions{Lock: true})
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		next := richState(30, i)
		exact := lineage != "" && sess.Previous() == nil
		if exact {
			next.Lineage, next.Serial = lineage, 1
		}
		res, err := sess.Commit(ctx, backend.Commit{State: next, Exact: exact, Keep: keep, Now: day(i)})
		if err != nil || res.Warning != "" {
			t.Fatalf("commit %d: %+v %v", i, res, err)
		}
		return res
	}
	const nights = 12
	var lineage string
	for i := 0; i < nights; i++ {
		res := commit(b, i, schema.HistoryKeep{}, "")
		lineage = res.Lineage
		commit(local, i, schema.HistoryKeep{}, lineage)
	}
	want := map[uint64][]byte{}
	llog, err := local.Log(ctx)
	if err != nil || len(llog) != nights {
		t.Fatalf("local log: %d %v", len(llog), err)
	}
	for _, e := range llog {
		var buf bytes.Buffer
		if err := local.Store.HistoryText(&buf, state.HistoryEntry{Path: e.Path, Kind: e.Kind}); err != nil {
			t.Fatal(err)
		}
		want[e.Serial] = buf.Bytes()
	}
	check := func(n int, oldest uint64) {
		t.Helper()
		log, err := b.Log(ctx)
		if err != nil || len(log) != n || log[0].Serial != oldest || !log[n-1].Current || log[0].Kind != state.HistorySnapshot {
			t.Fatalf("pg log: %+v %v (want %d from serial %d)", log, err, n, oldest)
		}
		for _, e := range log[1:] {
			if e.Kind != state.HistoryDelta || e.Changes == nil || e.Bytes <= 0 || e.Findings <= 0 {
				t.Errorf("serial %d: %+v", e.Serial, e)
			}
		}
		for _, e := range log {
			var st *state.State
			if e.Current {
				st, err = b.Read(ctx)
			} else {
				st, err = b.ReadHistory(ctx, e)
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := encode(t, st); !bytes.Equal(g, want[e.Serial]) {
				t.Fatalf("pg serial %d differs from the local history:\n%s", e.Serial, firstDiff(g, want[e.Serial]))
			}
		}
	}
	check(nights, 1)
	findingRows := rowCount(t, conn, "findings")

	// Keep 4 past states: serials 9..12 and the new current 13.
	res := commit(b, nights, schema.HistoryKeep{Count: 4}, "")
	commit(local, nights, schema.HistoryKeep{}, lineage)
	var buf bytes.Buffer
	local.Store.HistoryText(&buf, state.HistoryEntry{Path: mustCurrent(t, local).Path, Kind: state.HistoryDelta})
	want[res.Serial] = bytes.Clone(buf.Bytes())
	check(5, 9)
	if after := rowCount(t, conn, "findings"); after >= findingRows+30 {
		t.Errorf("pruning removed no finding rows: %d before, %d after", findingRows, after)
	}
	// By age: the states current within the last 2 days of night 14.
	res = commit(b, nights+1, schema.HistoryKeep{Age: 2 * 24 * time.Hour}, "")
	commit(local, nights+1, schema.HistoryKeep{}, lineage)
	buf.Reset()
	local.Store.HistoryText(&buf, state.HistoryEntry{Path: mustCurrent(t, local).Path, Kind: state.HistoryDelta})
	want[res.Serial] = bytes.Clone(buf.Bytes())
	check(3, 12)
}

func mustCurrent(t *testing.T, l *backend.Local) backend.HistoryEntry {
	t.Helper()
	log, err := l.Log(context.Background())
	if err != nil || len(log) == 0 || !log[len(log)-1].Current {
		t.Fatalf("local log: %+v %v", log, err)
	}
	return log[len(log)-1]
}
