package backend_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/backend/ledgertest"
	"github.com/reconform/reconform/engine/notify/ledger"
	"github.com/reconform/reconform/engine/state"
)

func TestLocalDeliveryLedger(t *testing.T) {
	dirs := map[string]string{}
	ledgertest.Run(t, func(t *testing.T) backend.Backend {
		dir, ok := dirs[t.Name()]
		if !ok {
			dir = t.TempDir()
			dirs[t.Name()] = dir
		}
		return backend.NewLocal(filepath.Join(dir, "reconform.rfstate"), "")
	})
}

// A commit that dies after the ledger part was written and before the
// state's rename leaves an event of a serial the state never reached: it
// is not pending, and the commit of that serial that does happen replaces
// it.
func TestLocalLedgerCrashBeforeRename(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := backend.NewLocal(filepath.Join(dir, "reconform.rfstate"), "")
	commitOne := func(ev ...ledger.Event) {
		sess, err := b.Open(ctx, backend.OpenOptions{Lock: true})
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		s := state.New("acme")
		s.Run.FinishedAt = time.Now()
		if _, err := sess.Commit(ctx, backend.Commit{State: s, Parts: []backend.Part{b.DeliveryPart(ev)}}); err != nil {
			t.Fatal(err)
		}
	}
	commitOne()
	// The part of serial 2, written as a commit does just before its
	// rename, and then the process dies.
	part := b.DeliveryPart([]ledger.Event{{ID: "ghost", Created: time.Now(), Notifiers: []string{"slack.a"}, Body: []byte(`{}`)}}).(backend.LocalPart)
	if err := part.WriteLocal(b.Store.MetaDir(), 2); err != nil {
		t.Fatal(err)
	}
	got, err := b.Deliveries().Claim(ctx, "r", []string{"slack.a"}, time.Now().Add(time.Hour))
	if err != nil || len(got) != 0 {
		t.Fatalf("an uncommitted event is pending: %v %v", got, err)
	}
	commitOne(ledger.Event{ID: "real", Created: time.Now(), Notifiers: []string{"slack.a"}, Body: []byte(`{}`)})
	got, err = b.Deliveries().Claim(ctx, "r", []string{"slack.a"}, time.Now().Add(time.Hour))
	if err != nil || len(got) != 1 || got[0].EventID != "real" || got[0].Serial != 2 {
		t.Fatalf("claimed %+v %v", got, err)
	}
	raw, _ := os.ReadFile(b.DeliveriesPath())
	if strings.Contains(string(raw), "ghost") {
		t.Error("the dead commit's event is still in the file")
	}
}

func TestLocalLedgerCorruptFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	b := backend.NewLocal(filepath.Join(dir, "reconform.rfstate"), "")
	os.MkdirAll(filepath.Dir(b.DeliveriesPath()), 0o755)
	os.WriteFile(b.DeliveriesPath(), []byte("{not json"), 0o644)
	_, err := b.Deliveries().Claim(context.Background(), "r", []string{"x"}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "never delete it silently") {
		t.Errorf("err %v", err)
	}
}
