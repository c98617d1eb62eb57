package engine

import (
	"context"
	"sort"
	"sync"
	"time"
)

// sendLog keeps a rate where the vendor counts it: on the times requests
// were sent, not the times they were granted. The token bucket in front
// of it spaces grants, but a request can wait between its grant and the
// wire (a quota reservation, a dial, a busy scheduler) while a later one
// does not, and the vendor then sees the two closer together than they
// were granted: after a stall, a burst over the limit.
//
// So a request is admitted only while fewer than max requests were sent
// in the trailing window, counting those admitted but not yet sent as
// sent now; once sent, the HTTP client reports the time its request was
// written (providers.SendGate). A report only ever moves a request's time
// later than its admission, and every request admitted before the last
// one of any window was counted when that one was admitted: no window of
// per, at the client's clock, ever holds more than max sends. The margins
// (a shorter count, a longer window) absorb the delay to the vendor's
// clock.
type sendLog struct {
	mu      sync.Mutex
	max     int
	per     time.Duration
	sent    []time.Time // send times, sorted; sent[head:] may be in the window
	head    int
	pending int           // admitted, not reported yet
	changed chan struct{} // closed (and replaced) when a pending request reports
}

// Margins of the window log, for the delay from our clock to the
// vendor's: between the write and the vendor's count a request crosses
// the network and the vendor's own queues, and two requests written
// apart can be counted closer together. The count margin gives up 2% of
// the limit (rounded down: none under 50 a period); the time margin
// stretches the window by 2% and by sendSlack, for a delay that varies by
// that much even at the shortest periods. At 50/s: 49 sends in any
// 1.03 s, 47.6/s at most.
const (
	sendCountMargin = 50 // max = Count - Count/sendCountMargin
	sendTimeMargin  = 50 // per = Per + Per/sendTimeMargin + sendSlack
	sendSlack       = 10 * time.Millisecond
)

// newSendLog is the window log of count requests per per, with margins.
func newSendLog(count int, per time.Duration) *sendLog {
	return &sendLog{max: max(1, count-count/sendCountMargin), per: per + per/sendTimeMargin + sendSlack, changed: make(chan struct{})}
}

// tryAdmit admits one request at now if the window has room. If not, it
// says how long until a send leaves the window (0: none will before a
// pending request reports) and returns the channel closed when one does.
func (l *sendLog) tryAdmit(now time.Time) (ok bool, wait time.Duration, changed <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cut := now.Add(-l.per)
	live := l.sent[l.head:]
	gone := sort.Search(len(live), func(i int) bool { return live[i].After(cut) })
	l.head += gone
	live = live[gone:]
	if l.head > len(l.sent)/2 {
		l.sent = append(l.sent[:0], live...)
		l.head = 0
	}
	if l.pending+len(live) < l.max {
		l.pending++
		return true, 0, nil
	}
	// k sends must leave the window for one more to fit.
	if k := l.pending + len(live) - l.max + 1; k <= len(live) {
		wait = live[k-1].Sub(cut)
	}
	return false, wait, l.changed
}

// report ends a pending request: sent at t, or not sent at all (t zero:
// it was abandoned before it left).
func (l *sendLog) report(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending--
	if !t.IsZero() {
		// Reports come nearly in order: insert from the end.
		i := len(l.sent)
		for i > l.head && l.sent[i-1].After(t) {
			i--
		}
		l.sent = append(l.sent, time.Time{})
		copy(l.sent[i+1:], l.sent[i:])
		l.sent[i] = t
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// admit waits until one more request may go, admits it and returns the
// function that reports it (once; later calls do nothing).
func (l *sendLog) admit(ctx context.Context) (func(time.Time), error) {
	for {
		ok, wait, changed := l.tryAdmit(time.Now())
		if ok {
			var once sync.Once
			return func(t time.Time) { once.Do(func() { l.report(t) }) }, nil
		}
		var timer *time.Timer
		var fired <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fired = timer.C
		}
		select {
		case <-ctx.Done():
		case <-fired:
		case <-changed:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}
