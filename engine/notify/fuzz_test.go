package notify_test

import (
	"testing"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/notify/notifytest"
)

// FuzzDecodeContent: a ledger body, however damaged, is an error or a
// content whose views and messages can be built; never a panic.
func FuzzDecodeContent(f *testing.F) {
	a, b := notifytest.States(2)
	for _, c := range []*notify.Content{notifytest.Content(f, a, b, "every query failed"), notifytest.Content(f, nil, a, "")} {
		body, err := c.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"version":1,"drift":{"findings":{"added":[{"name":1}]}}}`))
	f.Add([]byte(`{"version":1,"drift":null,"checks":[{}]}`))
	n := notifytest.Notifier("slack", nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := notify.DecodeContent(body)
		if err != nil {
			return
		}
		v, err := c.View(n)
		if err != nil {
			return
		}
		notify.BuildMessage(n, []*notify.View{v}, notifytest.T0)
		v.DriftDocument()
	})
}
