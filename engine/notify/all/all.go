// Package all makes the channel of any notify block: the one place that
// knows every channel package.
package all

import (
	"fmt"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/notify/email"
	"github.com/reconform/reconform/engine/notify/slack"
	"github.com/reconform/reconform/engine/notify/teams"
	"github.com/reconform/reconform/engine/notify/webhook"
	"github.com/reconform/reconform/schema"
)

// New makes the channel of n.
func New(n *schema.NotifyBlock, o notify.Options) (notify.Channel, error) {
	var (
		ch  notify.Channel
		err error
	)
	switch n.Type {
	case "slack":
		ch, err = slack.New(n, o)
	case "teams":
		ch, err = teams.New(n, o)
	case "webhook":
		ch, err = webhook.New(n, o)
	case "email":
		ch, err = email.New(n, o)
	default:
		return nil, fmt.Errorf("no channel %q", n.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Address, notify.RedactError(err, o.Secrets))
	}
	return ch, nil
}

// Channels makes the channel of every notifier; one that cannot be made
// has its error instead (its deliveries stay pending, saying why).
func Channels(notifiers map[string]*schema.NotifyBlock, o notify.Options) (map[string]notify.Channel, map[string]error) {
	chs, errs := map[string]notify.Channel{}, map[string]error{}
	for addr, n := range notifiers {
		opts := o
		if opts.Logger != nil {
			opts.Logger = opts.Logger.Named(addr)
		}
		ch, err := New(n, opts)
		if err != nil {
			errs[addr] = err
			continue
		}
		chs[addr] = ch
	}
	return chs, errs
}
