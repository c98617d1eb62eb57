package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stalledWriter is a terminal or pipe nobody reads (show | less, paused):
// the first write blocks until the test ends.
type stalledWriter struct {
	started chan struct{}
	release chan struct{}
}

func (w *stalledWriter) Write(p []byte) (int, error) {
	select {
	case w.started <- struct{}{}:
	default:
	}
	<-w.release
	return len(p), nil
}

// Every command is cancellable: an interrupt ends show, report and diff
// with exit 130 even while their output is stalled, and writes nothing.
func TestReadingCommandsHonourInterrupts(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	for range 2 {
		if r := runCLI(t, dir, nil, "apply", "-auto-approve"); r.Code == exitError {
			t.Fatalf("apply: %s", r.Stderr)
		}
	}
	for _, args := range [][]string{{"show"}, {"show", "-json"}, {"report"}, {"report", "-format=html"}, {"diff"}, {"state", "list"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out := &stalledWriter{started: make(chan struct{}, 1), release: make(chan struct{})}
			defer close(out.release)
			sigs := make(chan os.Signal, 2)
			var stderr bytes.Buffer
			env := &Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: &stderr, WorkDir: dir, Interrupts: sigs}
			done := make(chan int, 1)
			go func() { done <- run(context.Background(), env, args) }()
			select {
			case <-out.started:
			case code := <-done:
				t.Fatalf("exit %d before writing anything", code)
			}
			sigs <- syscall.SIGTERM
			select {
			case code := <-done:
				if code != exitInterrupted {
					t.Errorf("exit %d, want %d", code, exitInterrupted)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the command ignored the interrupt")
			}
		})
	}
}

// An interrupt before a command reads anything ends it at once.
func TestInterruptBeforeTheStateIsRead(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	if r := runCLI(t, dir, nil, "apply", "-auto-approve"); r.Code == exitError {
		t.Fatalf("apply: %s", r.Stderr)
	}
	sigs := make(chan os.Signal, 1)
	sigs <- os.Interrupt
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, WorkDir: dir, Interrupts: sigs}
	// The watcher may see the signal a moment after the command starts:
	// wait for the context to end, as a signal arriving mid-read would.
	ctx, stop := watchCommandInterrupts(context.Background(), env)
	defer stop()
	<-ctx.Done()
	if code := commands["show"].Run(ctx, env, nil); code != exitInterrupted || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
