package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reconform/reconform/engine/check"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/notify/ledger"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// Event names beside schema's NotifyDrift, NotifyCheckFailed,
// NotifyCheckPassed and NotifyRunFailed.
const (
	// EventBaseline: the first run of an engagement. It is sent as one
	// summary, never as every finding being new.
	EventBaseline = "baseline"
	// EventTest: reconform notify test.
	EventTest = "test"
)

// ContentVersion is the version of Content's JSON in the ledger.
const ContentVersion = 1

// Content is what one run has to say, as recorded in the delivery ledger
// with the commit: the drift, the checks that changed, a failure of the
// run, or the summary of a first run, and the full Markdown report. It is
// built from the state alone, never from a notifier's settings, and
// filtered for each notifier when it is sent.
type Content struct {
	Version    int       `json:"version"`
	ID         string    `json:"id"`
	Engagement string    `json:"engagement"`
	Serial     uint64    `json:"serial"`
	PrevSerial uint64    `json:"prev_serial,omitempty"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Events lists what the content holds: drift, check_failed,
	// check_passed, run_failed, baseline.
	Events   []string  `json:"events"`
	Baseline *Baseline `json:"baseline,omitempty"`
	// Drift is the run's drift document (docs/drift-json.md); nil for a
	// baseline.
	Drift json.RawMessage `json:"drift,omitempty"`
	// Checks are the checks whose result changed: newly failing (or
	// failing with other messages), or passing again. On a baseline,
	// every check that does not pass.
	Checks []CheckChange `json:"checks,omitempty"`
	// CheckCounts are all checks of the run: pass, fail, error.
	CheckCounts [3]int      `json:"check_counts"`
	Run         *RunFailure `json:"run_failed,omitempty"`
	// Report is the full Markdown report of the run (drift and checks).
	Report string `json:"report"`
	// Test marks a message of reconform notify test.
	Test bool `json:"test,omitempty"`

	drift *DriftDoc
}

// Baseline summarises a first state.
type Baseline struct {
	Current    int `json:"current"`
	Facts      int `json:"facts"`
	Findings   int `json:"findings"`
	Historical int `json:"historical"`
	Unverified int `json:"unverified"`
}

// CheckChange is a check whose result changed. Fields are in the order
// of their JSON names, so documents that carry it keep sorted keys.
type CheckChange struct {
	Description string   `json:"description,omitempty"`
	Diagnostics []string `json:"diagnostics,omitempty"`
	Messages    []string `json:"messages,omitempty"`
	Name        string   `json:"name"`
	// Previous is the status before ("" for a new check).
	Previous string `json:"previous,omitempty"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
}

// Failing reports whether the change is to a failing (or erroring) check.
func (c *CheckChange) Failing() bool { return c.Status != string(state.CheckPass) }

// RunFailure says why a run failed.
type RunFailure struct {
	// Errors are the first reasons of the failed instances
	// ("query.history: circl: timeout"); Failed of Instances failed.
	Errors    []string `json:"errors,omitempty"`
	Failed    int      `json:"failed"`
	Instances int      `json:"instances"`
	Reason    string   `json:"reason"`
}

// maxRunErrors bounds the reasons a run failure keeps.
const maxRunErrors = 10

// Run is what NewContent is made from: the states before and after the
// commit, the drift between them, and why the run failed ("" when it did
// not).
type Run struct {
	Prev, Next *state.State
	Drift      *diff.Result
	Failure    string
}

// NewContent builds the content of a run. It is nil when the run has
// nothing to say: no drift, no check changed, no failure, not a first run.
func NewContent(r Run) (*Content, error) {
	c := &Content{Version: ContentVersion, ID: uuid.NewString(), Engagement: r.Next.Engagement, FinishedAt: r.Next.Run.FinishedAt.UTC()}
	c.Serial = 1
	if r.Prev != nil {
		c.PrevSerial, c.Serial = r.Prev.Serial, r.Prev.Serial+1
	}
	p, f, e := check.Counts(r.Next.Checks)
	c.CheckCounts = [3]int{p, f, e}
	if r.Prev == nil {
		cur, hist := r.Next.CountCurrency()
		c.Baseline = &Baseline{Findings: len(r.Next.Findings), Current: cur, Historical: hist, Unverified: r.Next.UnverifiedCount(), Facts: len(r.Next.Facts)}
		c.Events = append(c.Events, EventBaseline)
		for i := range r.Next.Checks {
			if ch := &r.Next.Checks[i]; ch.Failed() {
				c.Checks = append(c.Checks, checkChange(ch, ""))
			}
		}
	} else {
		if r.Drift != nil {
			var buf bytes.Buffer
			if err := diff.JSON(&buf, r.Drift); err != nil {
				return nil, err
			}
			c.Drift = json.RawMessage(bytes.TrimSpace(buf.Bytes()))
			if r.Drift.HasDrift() {
				c.Events = append(c.Events, schema.NotifyDrift)
			}
		}
		failed, passed := false, false
		for i := range r.Next.Checks {
			ch := &r.Next.Checks[i]
			was := r.Prev.CheckByName(ch.Name)
			prev := ""
			if was != nil {
				prev = string(was.Status)
			}
			switch {
			case ch.Failed() && (was == nil || !was.Failed() || !sameResult(was, ch)):
				c.Checks = append(c.Checks, checkChange(ch, prev))
				failed = true
			case !ch.Failed() && was != nil && was.Failed():
				c.Checks = append(c.Checks, checkChange(ch, prev))
				passed = true
			}
		}
		if failed {
			c.Events = append(c.Events, schema.NotifyCheckFailed)
		}
		if passed {
			c.Events = append(c.Events, schema.NotifyCheckPassed)
		}
	}
	if r.Failure != "" {
		c.Run = runFailure(r.Next, r.Failure)
		c.Events = append(c.Events, schema.NotifyRunFailed)
	}
	if len(c.Events) == 0 {
		return nil, nil
	}
	var rep bytes.Buffer
	if err := Report(&rep, c.Engagement, r.Drift, r.Next.Checks, r.Prev == nil); err != nil {
		return nil, err
	}
	c.Report = rep.String()
	return c, nil
}

// Report writes the full Markdown report of a run: the drift as
// `reconform diff -markdown` prints it, then the checks.
func Report(w *bytes.Buffer, engagement string, d *diff.Result, checks []state.CheckResult, first bool) error {
	if d != nil && !first {
		if err := diff.Markdown(w, d); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "### reconform: `%s`\n\nFirst state: a baseline. Later runs report the changes from it.\n", strings.ReplaceAll(engagement, "`", "'"))
	}
	if len(checks) > 0 {
		w.WriteString("\n")
		return check.Markdown(w, checks)
	}
	return nil
}

func checkChange(r *state.CheckResult, prev string) CheckChange {
	return CheckChange{Name: r.Name, Description: r.Description, Severity: r.Severity, Status: string(r.Status), Previous: prev,
		Messages: r.Messages, Diagnostics: r.Diagnostics}
}

// sameResult reports whether two failing results say the same: a check
// that keeps failing for the same offenders is sent once.
func sameResult(a, b *state.CheckResult) bool {
	return a.Status == b.Status && strings.Join(a.Messages, "\x00") == strings.Join(b.Messages, "\x00") &&
		strings.Join(a.Diagnostics, "\x00") == strings.Join(b.Diagnostics, "\x00")
}

func runFailure(st *state.State, reason string) *RunFailure {
	rf := &RunFailure{Reason: reason, Instances: len(st.Instances)}
	for _, in := range st.Instances {
		if in.Status != schema.StatusFailed {
			continue
		}
		rf.Failed++
		if len(rf.Errors) < maxRunErrors {
			rf.Errors = append(rf.Errors, fmt.Sprintf("%s: %s: %s", in.Block, in.Query.Provider, in.Reason))
		}
	}
	return rf
}

// Encode is the content as the ledger stores it.
func (c *Content) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// DecodeContent reads a ledger body.
func DecodeContent(b []byte) (*Content, error) {
	var c Content
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("reading a recorded notification: %w", err)
	}
	if c.Version > ContentVersion {
		return nil, fmt.Errorf("a recorded notification has version %d, newer than this reconform knows (%d)", c.Version, ContentVersion)
	}
	return &c, nil
}

// DriftDoc is the content's drift document, parsed once.
func (c *Content) DriftDoc() (*DriftDoc, error) {
	if c.drift != nil || len(c.Drift) == 0 {
		return c.drift, nil
	}
	d, err := ParseDrift(c.Drift)
	if err != nil {
		return nil, fmt.Errorf("reading the recorded drift: %w", err)
	}
	c.drift = d
	return d, nil
}

// Has reports whether the content holds event.
func (c *Content) Has(event string) bool { return contains(c.Events, event) }

// Event is the ledger event of the content, pending for the notifiers of
// cfg that have something in it after their filters.
func (c *Content) Event(notifiers []*schema.NotifyBlock) (*ledger.Event, error) {
	var to []string
	for _, n := range notifiers {
		v, err := c.View(n)
		if err != nil {
			return nil, err
		}
		if !v.Empty() {
			to = append(to, n.Address)
		}
	}
	if len(to) == 0 {
		return nil, nil
	}
	sort.Strings(to)
	body, err := c.Encode()
	if err != nil {
		return nil, err
	}
	return &ledger.Event{ID: c.ID, Created: time.Now().UTC(), Notifiers: to, Body: body}, nil
}
