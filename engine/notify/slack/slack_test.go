package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/notify/notifytest"
	"github.com/reconform/reconform/engine/notify/slack"
)

// The shape of an incoming webhook's payload as Slack documents it
// (docs.slack.dev, "Sending messages using incoming webhooks" and the
// Block Kit reference): text is the notification fallback; blocks are
// layout blocks of at most 50; a header's text is plain_text of at most
// 150 characters; a section's text is mrkdwn or plain_text of at most
// 3000; a context has 1 to 10 text elements. Decoding with
// DisallowUnknownFields refuses any field Slack does not define here.
type textObject struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Emoji    *bool  `json:"emoji,omitempty"`
	Verbatim *bool  `json:"verbatim,omitempty"`
}

type block struct {
	Type     string       `json:"type"`
	BlockID  string       `json:"block_id,omitempty"`
	Text     *textObject  `json:"text,omitempty"`
	Elements []textObject `json:"elements,omitempty"`
}

type payload struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

func checkShape(t *testing.T, body []byte) payload {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var p payload
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("not an incoming webhook payload: %v\n%s", err, body)
	}
	if strings.TrimSpace(p.Text) == "" {
		t.Error("no fallback text")
	}
	if len(p.Blocks) == 0 || len(p.Blocks) > 50 {
		t.Errorf("%d blocks", len(p.Blocks))
	}
	for i, b := range p.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > 150 {
				t.Errorf("block %d: bad header %+v", i, b.Text)
			}
		case "section":
			if b.Text == nil || (b.Text.Type != "mrkdwn" && b.Text.Type != "plain_text") || b.Text.Text == "" || utf8.RuneCountInString(b.Text.Text) > 3000 {
				t.Errorf("block %d: bad section (%d chars)", i, len(b.Text.Text))
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				t.Errorf("block %d: %d context elements", i, len(b.Elements))
			}
			for _, e := range b.Elements {
				if e.Type != "mrkdwn" && e.Type != "plain_text" || e.Text == "" {
					t.Errorf("block %d: bad context element %+v", i, e)
				}
			}
		case "divider":
		default:
			t.Errorf("block %d: type %q is not a layout block of messages", i, b.Type)
		}
	}
	return p
}

// receiver is an incoming webhook: it answers each request with the
// next of answers (status, body), then 200 "ok".
type receiver struct {
	mu      sync.Mutex
	answers []answer
	bodies  [][]byte
	srv     *httptest.Server
}

type answer struct {
	status     int
	body       string
	retryAfter string
}

func newReceiver(t *testing.T, answers ...answer) *receiver {
	r := &receiver{answers: answers}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") || req.URL.Path != "/services/T000/B000/XXXXSECRET" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.bodies = append(r.bodies, b)
		if len(r.answers) > 0 {
			a := r.answers[0]
			r.answers = r.answers[1:]
			if a.retryAfter != "" {
				w.Header().Set("Retry-After", a.retryAfter)
			}
			w.WriteHeader(a.status)
			io.WriteString(w, a.body)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/services/T000/B000/XXXXSECRET" }

func TestPayloadShape(t *testing.T) {
	rcv := newReceiver(t)
	n := notifytest.Notifier("slack", map[string]string{"webhook_url": rcv.url()})
	n.ReportURL = "https://ci.example/acme/2"
	m := notifytest.Message(t, n, 0)
	m.ReportURL = n.ReportURL
	ch, err := slack.New(n, notify.Options{UserAgent: "reconform/test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := checkShape(t, rcv.bodies[0])
	body := string(rcv.bodies[0])
	for _, want := range []string{"reconform acme: 1 check failed", "dmarc_policy weakened: reject → none", "<https://ci.example/acme/2|Full report>", "new.acme.example A 203.0.113.20"} {
		if !strings.Contains(body, want) {
			t.Errorf("payload lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "XXXXSECRET") {
		t.Error("the webhook URL is in the message")
	}
	if p.Blocks[0].Type != "header" {
		t.Errorf("first block %q", p.Blocks[0].Type)
	}
}

func TestEscapesMrkdwn(t *testing.T) {
	n := notifytest.Notifier("slack", map[string]string{"webhook_url": "https://hooks.example/x"})
	m := &notify.Message{Title: "t", Intro: "a <b> & c", Lines: []notify.Line{{Level: notify.LevelWarning, Text: "+ x TXT <script>&amp;"}}}
	_ = n
	b, err := slack.Payload(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "<script>") || !strings.Contains(string(b), "&lt;script&gt;&amp;amp;") {
		t.Errorf("not escaped: %s", b)
	}
}

func TestBoundedPayload(t *testing.T) {
	n := notifytest.Notifier("slack", map[string]string{"webhook_url": "https://hooks.example/x"})
	n.MaxItems = 200
	m := notifytest.Message(t, n, 600)
	b, err := slack.Payload(m)
	if err != nil {
		t.Fatal(err)
	}
	p := checkShape(t, b)
	if len(b) > 40<<10 {
		t.Errorf("payload of %d bytes", len(b))
	}
	last := p.Blocks[len(p.Blocks)-1]
	if last.Type != "context" || !strings.Contains(last.Elements[0].Text, "more:") {
		t.Errorf("the rest is not counted: %+v", last)
	}
}

func TestRetriesThenDelivers(t *testing.T) {
	rcv := newReceiver(t, answer{status: 500, body: "internal"}, answer{status: 429, body: "rate_limited", retryAfter: "7"})
	n := notifytest.Notifier("slack", map[string]string{"webhook_url": rcv.url()})
	ch, _ := slack.New(n, notify.Options{})
	var slept []time.Duration
	d := &notify.Deliverer{Sleep: func(_ context.Context, dur time.Duration) error { slept = append(slept, dur); return nil }}
	attempts, err := d.Send(context.Background(), n, ch, notifytest.Message(t, n, 0))
	if err != nil || attempts != 3 {
		t.Fatalf("attempts %d, err %v", attempts, err)
	}
	if len(slept) != 2 || slept[1] != 7*time.Second {
		t.Errorf("backoff %v: the second wait honours Retry-After", slept)
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	rcv := newReceiver(t, answer{status: 404, body: "no_service"})
	n := notifytest.Notifier("slack", map[string]string{"webhook_url": rcv.url()})
	ch, _ := slack.New(n, notify.Options{})
	d := &notify.Deliverer{Secrets: []string{rcv.url()}, Sleep: func(context.Context, time.Duration) error { return nil }}
	attempts, err := d.Send(context.Background(), n, ch, notifytest.Message(t, n, 0))
	if err == nil || attempts != 1 {
		t.Fatalf("attempts %d, err %v", attempts, err)
	}
	if !strings.Contains(err.Error(), "the Slack webhook answered 404 Not Found: no_service") || strings.Contains(err.Error(), "XXXXSECRET") {
		t.Errorf("error %q", err)
	}
}

func TestTransportErrorHasNoURL(t *testing.T) {
	rcv := newReceiver(t)
	u := rcv.url()
	rcv.srv.Close()
	n := notifytest.Notifier("slack", map[string]string{"webhook_url": u})
	ch, _ := slack.New(n, notify.Options{})
	err := ch.Send(context.Background(), notifytest.Message(t, n, 0))
	if err == nil || strings.Contains(err.Error(), "XXXXSECRET") || strings.Contains(err.Error(), "/services/") {
		t.Errorf("error %v", err)
	}
}

func TestEmptyURL(t *testing.T) {
	n := notifytest.Notifier("slack", map[string]string{"webhook_url": ""})
	if _, err := slack.New(n, notify.Options{}); err == nil || !strings.Contains(err.Error(), "environment variable") {
		t.Errorf("err %v", err)
	}
}
