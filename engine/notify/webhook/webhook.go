// Package webhook posts each run's notification to a URL as JSON: the
// drift document of docs/drift-json.md (filtered by the notifier) with a
// notification object, the checks that changed, and a failure of the run.
// With a secret, the body is signed as GitHub signs its webhooks: an
// HMAC-SHA256 of the exact body bytes, hex-encoded, in
//
//	X-Hub-Signature-256: sha256=<hex>
//
// so the receivers and libraries that verify GitHub deliveries verify
// these too. X-Reconform-Delivery carries the event's ID (the same on a
// retry), for a receiver to drop a repeat.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/schema"
)

// Header names.
const (
	SignatureHeader = "X-Hub-Signature-256"
	DeliveryHeader  = "X-Reconform-Delivery"
	EventHeader     = "X-Reconform-Event"
)

// Channel posts to one URL.
type Channel struct {
	ep       *notify.Endpoint
	secret   string
	headers  map[string]string
	notifier string
	secrets  []string
}

// New makes the channel of a webhook notify block.
func New(n *schema.NotifyBlock, o notify.Options) (*Channel, error) {
	ep, err := notify.NewEndpoint(n, "url", "the webhook", o)
	if err != nil {
		return nil, err
	}
	return &Channel{ep: ep, secret: n.String("secret"), headers: n.StringMap("headers"), notifier: n.Address, secrets: o.Secrets}, nil
}

// PerEvent: one delivery per run, each its own drift document.
func (c *Channel) PerEvent() bool { return true }

// Send posts one body per view of the message (the pipeline gives one).
func (c *Channel) Send(ctx context.Context, m *notify.Message) error {
	for _, v := range m.Views {
		body, err := Body(v, m, c.notifier)
		if err != nil {
			return notify.Permanentf("building the webhook body: %v", err)
		}
		body = notify.RedactJSON(body, c.secrets)
		h := http.Header{}
		for k, val := range c.headers {
			h.Set(k, val)
		}
		h.Set(DeliveryHeader, v.Content.ID)
		h.Set(EventHeader, strings.Join(v.Events(), ","))
		if c.secret != "" {
			h.Set(SignatureHeader, Sign(c.secret, body))
		}
		if err := c.ep.Post(ctx, body, h, nil); err != nil {
			return err
		}
	}
	return nil
}

// Sign is the X-Hub-Signature-256 value of body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether sig is body's signature under secret (in
// constant time), as a receiver checks it.
func Verify(secret string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

// Notification is the object a body adds under "notification".
type Notification struct {
	Delivery   string   `json:"delivery"`
	Engagement string   `json:"engagement"`
	Events     []string `json:"events"`
	Notifier   string   `json:"notifier"`
	PrevSerial uint64   `json:"prev_serial,omitempty"`
	ReportURL  string   `json:"report_url,omitempty"`
	Serial     uint64   `json:"serial"`
	Test       bool     `json:"test,omitempty"`
}

// Body is the JSON of one view: the drift document's keys, plus
// notification, checks, run_failed and baseline, keys sorted.
func Body(v *notify.View, m *notify.Message, notifier string) ([]byte, error) {
	doc, err := notify.EncodeJSON(v.DriftDocument())
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil {
		return nil, err
	}
	c := v.Content
	set := func(k string, val any) error {
		b, err := notify.EncodeJSON(val)
		obj[k] = b
		return err
	}
	checks := v.Checks
	if checks == nil {
		checks = []notify.CheckChange{}
	}
	for k, val := range map[string]any{
		"notification": Notification{Delivery: c.ID, Engagement: c.Engagement, Events: v.Events(), Notifier: notifier,
			PrevSerial: c.PrevSerial, Serial: c.Serial, ReportURL: m.ReportURL, Test: c.Test},
		"checks":     checks,
		"run_failed": v.Run,
		"baseline":   v.Baseline,
	} {
		if err := set(k, val); err != nil {
			return nil, err
		}
	}
	// A map encodes with sorted keys, as the drift document promises.
	return notify.EncodeJSON(obj)
}
