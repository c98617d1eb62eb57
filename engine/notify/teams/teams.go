// Package teams sends notifications to a Microsoft Teams Workflows
// webhook ("When a Teams webhook request is received"): a message
// activity with one Adaptive Card attachment, the envelope Workflows
// expects (they take Adaptive Cards only, not the old connector
// MessageCard). The card has the title, the runs covered, the most
// important items, counts for the rest, and a button to the full report
// when the notifier has a report_url.
package teams

import (
	"context"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/schema"
)

// maxPayload keeps the card under the 28 KB Teams accepts for a message.
const maxPayload = 26 << 10

// CardVersion is the Adaptive Card schema version used (Teams renders
// up to 1.5).
const CardVersion = "1.4"

// Channel posts to one Workflows webhook.
type Channel struct{ ep *notify.Endpoint }

// New makes the channel of a teams notify block.
func New(n *schema.NotifyBlock, o notify.Options) (*Channel, error) {
	ep, err := notify.NewEndpoint(n, "webhook_url", "the Teams webhook", o)
	if err != nil {
		return nil, err
	}
	return &Channel{ep: ep}, nil
}

// Send posts the card; Workflows answer 202 Accepted.
func (c *Channel) Send(ctx context.Context, m *notify.Message) error {
	body, err := Payload(m)
	if err != nil {
		return notify.Permanentf("building the Teams card: %v", err)
	}
	return c.ep.Post(ctx, body, nil, nil)
}

// Envelope is the message activity a Workflows webhook takes.
type Envelope struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries the card.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card.
type Card struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []Element      `json:"body"`
	Actions []Action       `json:"actions,omitempty"`
	MSTeams map[string]any `json:"msteams,omitempty"`
}

// Element is a TextBlock or a Container of them.
type Element struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Weight   string    `json:"weight,omitempty"`
	Size     string    `json:"size,omitempty"`
	Color    string    `json:"color,omitempty"`
	Style    string    `json:"style,omitempty"`
	FontType string    `json:"fontType,omitempty"`
	IsSubtle bool      `json:"isSubtle,omitempty"`
	Wrap     bool      `json:"wrap,omitempty"`
	Spacing  string    `json:"spacing,omitempty"`
	Items    []Element `json:"items,omitempty"`
}

// Action is an Action.OpenUrl.
type Action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

var colors = map[string]string{
	notify.LevelCritical: "Attention", notify.LevelWarning: "Warning", notify.LevelOK: "Good", notify.LevelInfo: "Default",
}

// Payload is the message as a Workflows envelope, under the size limit.
func Payload(m *notify.Message) ([]byte, error) {
	mm := *m
	mm.Lines = append([]notify.Line(nil), m.Lines...)
	mm.Rest = append([]notify.Count(nil), m.Rest...)
	for {
		b, err := notify.EncodeJSON(build(&mm))
		if err != nil {
			return nil, err
		}
		if len(b) <= maxPayload || !mm.DropLast() {
			return b, nil
		}
	}
}

func build(m *notify.Message) Envelope {
	card := Card{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: CardVersion,
		MSTeams: map[string]any{"width": "Full"},
	}
	card.Body = append(card.Body,
		Element{Type: "TextBlock", Text: m.Title, Weight: "Bolder", Size: "Medium", Color: colors[m.Level], Style: "heading", Wrap: true},
		Element{Type: "TextBlock", Text: m.Intro, IsSubtle: true, Wrap: true, Spacing: "None"})
	if len(m.Lines) > 0 {
		items := make([]Element, 0, len(m.Lines))
		for _, l := range m.Lines {
			e := Element{Type: "TextBlock", Text: l.Text, Wrap: true, FontType: "Monospace", Spacing: "Small"}
			if c := colors[l.Level]; c != "Default" {
				e.Color = c
			}
			items = append(items, e)
		}
		card.Body = append(card.Body, Element{Type: "Container", Items: items})
	}
	if m.RestText != "" {
		card.Body = append(card.Body, Element{Type: "TextBlock", Text: m.RestText, IsSubtle: true, Wrap: true})
	}
	if id := m.ID(); id != "" {
		card.Body = append(card.Body, Element{Type: "TextBlock", Text: "Delivery " + id, IsSubtle: true, Size: "Small", Wrap: true})
	}
	if m.ReportURL != "" {
		card.Actions = []Action{{Type: "Action.OpenUrl", Title: "Full report", URL: m.ReportURL}}
	}
	return Envelope{Type: "message", Attachments: []Attachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
}
