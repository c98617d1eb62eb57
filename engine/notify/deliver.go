package notify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/reconform/reconform/engine/notify/ledger"
	"github.com/reconform/reconform/schema"
)

// Deliverer sends what the delivery ledger holds pending, after the
// commit that recorded it: every delivery is claimed, sent (retried with
// backoff), and marked delivered, or kept for the next run with its
// error. Nothing pending is ever dropped, and a delivered one is never
// sent again.
type Deliverer struct {
	Ledger ledger.Ledger
	// Notifiers are the engagement's notify blocks by address; Channels
	// the channel of each (a notifier whose channel could not be made
	// has its error in ChannelErrors instead: its deliveries stay
	// pending, saying why).
	Notifiers     map[string]*schema.NotifyBlock
	Channels      map[string]Channel
	ChannelErrors map[string]error
	// Holder names this run in claims.
	Holder  string
	Secrets []string
	Logger  hclog.Logger
	// Now and Sleep are the clock (tests make time pass at once).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Result says what became of one notifier's pending deliveries.
type Result struct {
	Notifier string
	// Delivered counts the deliveries sent (or with nothing for this
	// notifier after its filter); Pending those kept for the next run.
	Delivered, Pending int
	// Messages counts the messages sent.
	Messages int
	Attempts int
	// Err is the last error (redacted), when something stays pending.
	Err error
}

// maxBackoff bounds the wait between two attempts.
const maxBackoff = time.Minute

// Deliver sends every pending delivery of the configured notifiers. The
// returned error is one of the ledger (nothing could be claimed or
// recorded); a failed delivery is a Result with Err, not an error.
func (d *Deliverer) Deliver(ctx context.Context) ([]Result, error) {
	addrs := make([]string, 0, len(d.Notifiers))
	for a := range d.Notifiers {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	var (
		mu       sync.Mutex
		results  []Result
		outcomes []ledger.Outcome
		wg       sync.WaitGroup
		claimErr error
	)
	for _, addr := range addrs {
		n := d.Notifiers[addr]
		// The claim outlives every attempt this run can make for the
		// notifier, and one timeout more; a run that dies leaves claims
		// that lapse soon after, not deliveries that are lost.
		lease := time.Duration(max(n.Retries, 1))*(n.Timeout+min(n.Backoff<<max(n.Retries, 1), maxBackoff)) + n.Timeout
		dls, err := d.Ledger.Claim(ctx, d.Holder, []string{addr}, d.now().Add(lease))
		if err != nil {
			claimErr = fmt.Errorf("reading the delivery ledger: %w", RedactError(err, d.Secrets))
			break
		}
		if len(dls) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, outs := d.deliverOne(ctx, n, dls)
			mu.Lock()
			results = append(results, r)
			outcomes = append(outcomes, outs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(results, func(i, j int) bool { return results[i].Notifier < results[j].Notifier })
	// Recorded even when ctx is done: what was sent must be known as
	// sent, or the next run would send it again.
	if err := d.Ledger.Finish(context.WithoutCancel(ctx), d.Holder, outcomes); err != nil {
		return results, fmt.Errorf("recording deliveries in the ledger: %w", RedactError(err, d.Secrets))
	}
	return results, claimErr
}

// deliverOne sends one notifier's pending deliveries.
func (d *Deliverer) deliverOne(ctx context.Context, n *schema.NotifyBlock, dls []ledger.Delivery) (Result, []ledger.Outcome) {
	r := Result{Notifier: n.Address}
	var outs []ledger.Outcome
	done := func(dl ledger.Delivery, attempts int, err error) {
		o := ledger.Outcome{EventID: dl.EventID, Notifier: dl.Notifier, At: d.now(), Attempts: attempts, Delivered: err == nil}
		if err != nil {
			o.Err = err.Error()
			r.Pending++
			r.Err = err
		} else {
			r.Delivered++
		}
		outs = append(outs, o)
	}
	ch := d.Channels[n.Address]
	if ch == nil {
		err := d.ChannelErrors[n.Address]
		if err == nil {
			err = errors.New("no channel")
		}
		err = RedactError(err, d.Secrets)
		for _, dl := range dls {
			done(dl, 1, err)
		}
		return r, outs
	}
	// Views, oldest first; one with nothing for this notifier is
	// delivered by not being sent.
	type pending struct {
		dl   ledger.Delivery
		view *View
	}
	var todo []pending
	for _, dl := range dls {
		c, err := DecodeContent(dl.Body)
		var v *View
		if err == nil {
			v, err = c.View(n)
		}
		if err != nil {
			// A body this build cannot read stays for one that can.
			done(dl, 0, err)
			continue
		}
		if v.Empty() {
			done(dl, 0, nil)
			continue
		}
		todo = append(todo, pending{dl, v})
	}
	if len(todo) == 0 {
		return r, outs
	}
	batches := [][]pending{todo}
	if pe, ok := ch.(PerEvent); ok && pe.PerEvent() {
		batches = nil
		for _, p := range todo {
			batches = append(batches, []pending{p})
		}
	}
	for i, b := range batches {
		views := make([]*View, len(b))
		for j, p := range b {
			views[j] = p.view
		}
		m := BuildMessage(n, views, d.now())
		attempts, err := d.send(ctx, n, ch, m)
		r.Attempts += attempts
		if err == nil {
			r.Messages++
		}
		for _, p := range b {
			done(p.dl, attempts, err)
		}
		if err != nil {
			// In order: what comes after waits with it for the next run.
			for _, rest := range batches[i+1:] {
				for _, p := range rest {
					done(p.dl, 0, fmt.Errorf("not sent: an earlier delivery to %s failed", n.Address))
				}
			}
			break
		}
	}
	return r, outs
}

// Send sends one message with n's retries and backoff, without the
// ledger (reconform notify test).
func (d *Deliverer) Send(ctx context.Context, n *schema.NotifyBlock, ch Channel, m *Message) (attempts int, err error) {
	return d.send(ctx, n, ch, m)
}

func (d *Deliverer) send(ctx context.Context, n *schema.NotifyBlock, ch Channel, m *Message) (int, error) {
	redactMessage(m, d.Secrets)
	tries := max(n.Retries, 1)
	wait := n.Backoff
	var err error
	for attempt := 1; attempt <= tries; attempt++ {
		actx, cancel := context.WithTimeout(ctx, n.Timeout)
		err = ch.Send(actx, m)
		cancel()
		err = RedactError(err, d.Secrets)
		if err == nil {
			d.logger().Info("delivered", "notifier", n.Address, "delivery", m.ID(), "attempt", attempt)
			return attempt, nil
		}
		d.logger().Warn("delivery failed", "notifier", n.Address, "delivery", m.ID(), "attempt", attempt, "error", err)
		var se *SendError
		if errors.As(err, &se) && se.Permanent {
			return attempt, err
		}
		if attempt == tries || ctx.Err() != nil {
			return attempt, err
		}
		pause := wait
		if se != nil && se.RetryAfter > pause {
			pause = se.RetryAfter
		}
		pause = min(pause, maxBackoff)
		if serr := d.sleep(ctx, pause); serr != nil {
			return attempt, err
		}
		wait *= 2
	}
	return tries, err
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) sleep(ctx context.Context, dur time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, dur)
	}
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (d *Deliverer) logger() hclog.Logger {
	if d.Logger == nil {
		return hclog.NewNullLogger()
	}
	return d.Logger
}

// TestMessage is the message of reconform notify test for n.
func TestMessage(n *schema.NotifyBlock, engagement string, now time.Time) *Message {
	c := &Content{Version: ContentVersion, ID: "test-" + now.UTC().Format("20060102T150405Z"), Engagement: engagement, Test: true,
		Events: []string{EventTest}, FinishedAt: now.UTC(),
		Report: fmt.Sprintf("### reconform: `%s`\n\nA test message from `reconform notify test %s`. Nothing changed.\n", engagement, n.Address)}
	v := &View{Content: c, Notifier: n}
	m := BuildMessage(n, []*View{v}, now)
	m.Lines = []Line{{Level: LevelInfo, Kind: EventTest, Text: fmt.Sprintf("This is a test from reconform notify test: %s can reach this channel. Changes and failed checks of %s will arrive here.", n.Address, engagement)}}
	return m
}
