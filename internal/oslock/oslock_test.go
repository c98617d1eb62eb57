package oslock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestMain lets the test re-execute itself as a process that holds a lock.
func TestMain(m *testing.M) {
	if path := os.Getenv("OSLOCK_HOLD"); path != "" {
		f, err := os.Open(path)
		if err != nil || TryLock(f) != nil {
			os.Exit(3)
		}
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLockConflictsAcrossOpensAndDiesWithItsProcess(t *testing.T) {
	if !Supported {
		t.Skip("no OS locks on this platform")
	}
	path := filepath.Join(t.TempDir(), "l")
	a, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := TryLock(a); err != nil {
		t.Fatal(err)
	}
	if err := TryLock(b); !errors.Is(err, ErrHeld) {
		t.Fatalf("second open of the same file: %v, want ErrHeld", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := Wait(ctx, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait on a held lock: %v", err)
	}
	a.Close()
	if err := TryLock(b); err != nil {
		t.Fatalf("after the holder closed: %v", err)
	}
	Unlock(b)

	// A process killed while it holds the lock loses it.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OSLOCK_HOLD="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for TryLock(b) == nil {
		Unlock(b)
		if time.Now().After(deadline) {
			t.Fatal("the helper process never took the lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := TryLock(b); err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
}
