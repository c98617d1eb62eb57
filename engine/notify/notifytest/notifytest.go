// Package notifytest builds the runs, contents and messages the notify
// tests send: two states of a changing engagement with their drift and
// check results, as apply makes them.
package notifytest

import (
	"fmt"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// T0 is when the first run finished; each later run is a day on.
var T0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

func finding(name, typ, value string, current bool) state.Finding {
	c := state.Historical
	if current {
		c = state.Current
	}
	return state.Finding{Finding: schema.Finding{Name: name, Type: typ, Value: value, Sources: []string{"file.pdns"},
		FirstSeen: T0.AddDate(0, -2, 0), LastSeen: T0}, Currency: c, Block: "query.history"}
}

// States are the states of an engagement over runs: the first with a
// web host, mail on Google and DMARC reject; the second with the host
// moved, a new host, mail on Microsoft, DMARC none and a failing check.
// extra adds that many new hosts to the second.
func States(extra int) (first, second *state.State) {
	first = state.New("acme")
	first.Serial, first.Lineage = 1, "11111111-2222-3333-4444-555555555555"
	first.Run.FinishedAt = T0
	first.Findings = []state.Finding{
		finding("www.acme.example", "A", "198.51.100.7", true),
		finding("acme.example", "MX", "aspmx.l.google.com", true),
		finding("_dmarc.acme.example", "TXT", "v=DMARC1; p=reject", true),
	}
	first.Facts = []schema.Fact{
		{Subject: "acme.example", Kind: "dmarc_policy", Value: "reject"},
		{Subject: "acme.example", Kind: "mail_provider", Value: "google-workspace"},
	}
	first.Checks = []state.CheckResult{
		{Name: "dmarc_enforced", Severity: "error", Status: state.CheckPass},
		{Name: "mx_approved", Severity: "warning", Status: state.CheckPass},
	}
	first.Normalize()

	second = state.New("acme")
	second.Serial, second.Lineage = 2, first.Lineage
	second.Run.FinishedAt = T0.AddDate(0, 0, 1)
	second.Findings = []state.Finding{
		finding("www.acme.example", "A", "198.51.100.7", false),
		finding("www.acme.example", "A", "203.0.113.10", true),
		finding("new.acme.example", "A", "203.0.113.20", true),
		finding("acme.example", "MX", "acme-example.mail.protection.outlook.com", true),
		finding("acme.example", "MX", "aspmx.l.google.com", false),
		finding("_dmarc.acme.example", "TXT", "v=DMARC1; p=none", true),
	}
	for i := 0; i < extra; i++ {
		second.Findings = append(second.Findings, finding(fmt.Sprintf("host%03d.acme.example", i), "A", fmt.Sprintf("203.0.113.%d", 30+i%200), true))
	}
	second.Facts = []schema.Fact{
		{Subject: "acme.example", Kind: "dmarc_policy", Value: "none"},
		{Subject: "acme.example", Kind: "mail_provider", Value: "microsoft-365"},
	}
	second.Checks = []state.CheckResult{
		{Name: "dmarc_enforced", Severity: "error", Status: state.CheckFail, Messages: []string{"DMARC policy is none on: acme.example"}},
		{Name: "mx_approved", Severity: "warning", Status: state.CheckFail, Messages: []string{"Mail of acme.example moved to microsoft-365"}},
	}
	second.Normalize()
	return first, second
}

// Content is the content of the run from prev to next.
func Content(t testing.TB, prev, next *state.State, failure string) *notify.Content {
	t.Helper()
	var d *diff.Result
	if prev != nil {
		d = diff.Compare(prev, next, nil)
	}
	c, err := notify.NewContent(notify.Run{Prev: prev, Next: next, Drift: d, Failure: failure})
	if err != nil {
		t.Fatal(err)
	}
	if c == nil {
		t.Fatal("the run has nothing to say")
	}
	return c
}

// Notifier is a notify block of type typ named test with the defaults
// of the language and attrs set.
func Notifier(typ string, attrs map[string]string) *schema.NotifyBlock {
	n := &schema.NotifyBlock{Type: typ, Name: "test", Address: typ + ".test", Attrs: map[string]cty.Value{}, Sensitive: map[string]bool{},
		On: schema.DefaultNotifyOn, MaxItems: schema.DefaultNotifyMaxItems, Timeout: schema.DefaultNotifyTimeout,
		Retries: schema.DefaultNotifyRetries, Backoff: time.Millisecond}
	n.Filter.MinSeverity = schema.SeverityWarning
	for k, v := range attrs {
		n.Attrs[k] = cty.StringVal(v)
		n.Sensitive[k] = true
	}
	return n
}

// Message is the message of the second run of States for n.
func Message(t testing.TB, n *schema.NotifyBlock, extra int) *notify.Message {
	t.Helper()
	a, b := States(extra)
	c := Content(t, a, b, "")
	v, err := c.View(n)
	if err != nil {
		t.Fatal(err)
	}
	return notify.BuildMessage(n, []*notify.View{v}, T0.AddDate(0, 0, 1))
}

// Headers is a headers argument.
func Headers(h map[string]string) cty.Value {
	m := map[string]cty.Value{}
	for k, v := range h {
		m[k] = cty.StringVal(v)
	}
	return cty.MapVal(m)
}
