package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/notify/notifytest"
	"github.com/reconform/reconform/engine/notify/teams"
)

// The message a Workflows webhook ("When a Teams webhook request is
// received") takes, as Microsoft documents it: a message activity whose
// attachments hold one card of contentType
// application/vnd.microsoft.card.adaptive, contentUrl null and the
// Adaptive Card as content; Workflows take Adaptive Cards only, not the
// connectors' MessageCard. Unknown fields are refused.
type envelope struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string          `json:"contentType"`
	ContentURL  json.RawMessage `json:"contentUrl"`
	Content     card            `json:"content"`
}

type card struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []element      `json:"body"`
	Actions []action       `json:"actions"`
	MSTeams map[string]any `json:"msteams"`
}

type element struct {
	Type     string    `json:"type"`
	Text     string    `json:"text"`
	Weight   string    `json:"weight"`
	Size     string    `json:"size"`
	Color    string    `json:"color"`
	Style    string    `json:"style"`
	FontType string    `json:"fontType"`
	IsSubtle bool      `json:"isSubtle"`
	Wrap     bool      `json:"wrap"`
	Spacing  string    `json:"spacing"`
	Items    []element `json:"items"`
}

type action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

var (
	elementTypes = map[string]bool{"TextBlock": true, "Container": true}
	colors       = map[string]bool{"": true, "Default": true, "Dark": true, "Light": true, "Accent": true, "Good": true, "Warning": true, "Attention": true}
	sizes        = map[string]bool{"": true, "Default": true, "Small": true, "Medium": true, "Large": true, "ExtraLarge": true}
)

func checkElements(t *testing.T, els []element, depth int) {
	for _, e := range els {
		if !elementTypes[e.Type] {
			t.Errorf("element type %q", e.Type)
		}
		if e.Type == "TextBlock" && e.Text == "" {
			t.Error("a TextBlock without text")
		}
		if !colors[e.Color] || !sizes[e.Size] || (e.Weight != "" && e.Weight != "Bolder" && e.Weight != "Lighter" && e.Weight != "Default") {
			t.Errorf("element %+v: value outside the schema's enums", e)
		}
		if e.Type == "Container" {
			if len(e.Items) == 0 || depth > 2 {
				t.Errorf("container with %d items at depth %d", len(e.Items), depth)
			}
			checkElements(t, e.Items, depth+1)
		}
	}
}

func checkShape(t *testing.T, body []byte) envelope {
	t.Helper()
	if len(body) > 28<<10 {
		t.Errorf("%d bytes: Teams takes at most 28 KB", len(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var e envelope
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("not a Workflows message: %v\n%s", err, body)
	}
	if e.Type != "message" || len(e.Attachments) != 1 {
		t.Fatalf("envelope: type %q, %d attachments", e.Type, len(e.Attachments))
	}
	a := e.Attachments[0]
	if a.ContentType != "application/vnd.microsoft.card.adaptive" || string(a.ContentURL) != "null" {
		t.Errorf("attachment: %q %s", a.ContentType, a.ContentURL)
	}
	c := a.Content
	if c.Type != "AdaptiveCard" || c.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" || !strings.HasPrefix(c.Version, "1.") || c.Version > "1.5" {
		t.Errorf("card: %q %q %q", c.Type, c.Schema, c.Version)
	}
	if len(c.Body) == 0 {
		t.Error("empty card")
	}
	checkElements(t, c.Body, 0)
	for _, a := range c.Actions {
		if a.Type != "Action.OpenUrl" || a.Title == "" || !strings.HasPrefix(a.URL, "https://") {
			t.Errorf("action %+v", a)
		}
	}
	return e
}

func TestCardShape(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		w.WriteHeader(http.StatusAccepted) // what a Workflows trigger answers
	}))
	defer srv.Close()
	n := notifytest.Notifier("teams", map[string]string{"webhook_url": srv.URL + "/workflows/abc/triggers/manual/paths/invoke?sig=SIGSECRET"})
	n.ReportURL = "https://ci.example/acme/{serial}"
	m := notifytest.Message(t, n, 0)
	ch, err := teams.New(n, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	e := checkShape(t, got)
	c := e.Attachments[0].Content
	if c.Body[0].Color != "Attention" || !strings.Contains(c.Body[0].Text, "1 check failed") {
		t.Errorf("title block %+v", c.Body[0])
	}
	if len(c.Actions) != 1 || c.Actions[0].URL != "https://ci.example/acme/2" {
		t.Errorf("report link %+v", c.Actions)
	}
	if strings.Contains(string(got), "SIGSECRET") {
		t.Error("the webhook URL is in the card")
	}
}

func TestCardIsBounded(t *testing.T) {
	n := notifytest.Notifier("teams", map[string]string{"webhook_url": "https://x.example/"})
	n.MaxItems = 200
	b, err := teams.Payload(notifytest.Message(t, n, 800))
	if err != nil {
		t.Fatal(err)
	}
	e := checkShape(t, b)
	body := e.Attachments[0].Content.Body
	if !strings.Contains(body[len(body)-2].Text, "more:") {
		t.Errorf("the rest is not counted: %+v", body[len(body)-2])
	}
}

func TestServerErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"code":"TriggerFailed"}}`, http.StatusBadGateway)
	}))
	defer srv.Close()
	n := notifytest.Notifier("teams", map[string]string{"webhook_url": srv.URL})
	ch, _ := teams.New(n, notify.Options{})
	err := ch.Send(context.Background(), notifytest.Message(t, n, 0))
	var se *notify.SendError
	if err == nil || !errors.As(err, &se) || se.Permanent || se.Status != 502 {
		t.Errorf("err %v", err)
	}
}
