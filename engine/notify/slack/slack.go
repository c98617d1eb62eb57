// Package slack sends notifications to a Slack incoming webhook as a
// Block Kit message: a header, the runs covered, the most important
// changes and checks, counts for the rest, and a link to the full report
// when the notifier has a report_url (incoming webhooks cannot upload
// files).
package slack

import (
	"context"
	"errors"
	"strings"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/schema"
)

// Slack's limits for a message of blocks.
const (
	maxHeader   = 150
	maxSection  = 3000
	maxBlocks   = 50
	maxPayload  = 38 << 10 // well under what the webhook accepts
	maxFallback = 3000
)

// Channel posts to one incoming webhook.
type Channel struct{ ep *notify.Endpoint }

// New makes the channel of a slack notify block.
func New(n *schema.NotifyBlock, o notify.Options) (*Channel, error) {
	ep, err := notify.NewEndpoint(n, "webhook_url", "the Slack webhook", o)
	if err != nil {
		return nil, err
	}
	return &Channel{ep: ep}, nil
}

// Send posts the message.
func (c *Channel) Send(ctx context.Context, m *notify.Message) error {
	body, err := Payload(m)
	if err != nil {
		return notify.Permanentf("building the Slack message: %v", err)
	}
	return c.ep.Post(ctx, body, nil, func(_ int, b []byte) error {
		// An incoming webhook answers 200 with the body "ok".
		if s := strings.TrimSpace(string(b)); s != "" && s != "ok" {
			return &notify.SendError{Permanent: true, Err: errors.New("the Slack webhook answered " + s)}
		}
		return nil
	})
}

// Text is a Block Kit text object.
type Text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Block is a Block Kit layout block (header, section, context, divider).
type Block struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	Elements []Text `json:"elements,omitempty"`
}

// Message is an incoming webhook's payload.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

var marks = map[string]string{
	notify.LevelCritical: ":rotating_light:", notify.LevelWarning: ":warning:",
	notify.LevelOK: ":white_check_mark:", notify.LevelInfo: ":information_source:",
}

var lineMarks = map[string]string{
	notify.LevelCritical: ":red_circle:", notify.LevelWarning: ":small_orange_diamond:",
	notify.LevelOK: ":large_green_circle:", notify.LevelInfo: ":white_small_square:",
}

// Payload is the message as Slack's JSON, within Slack's limits: lines
// that do not fit go into the counts of the rest.
func Payload(m *notify.Message) ([]byte, error) {
	mm := *m
	mm.Lines = append([]notify.Line(nil), m.Lines...)
	mm.Rest = append([]notify.Count(nil), m.Rest...)
	for {
		msg := build(&mm)
		b, err := notify.EncodeJSON(msg)
		if err != nil {
			return nil, err
		}
		if (len(b) <= maxPayload && len(msg.Blocks) <= maxBlocks) || !mm.DropLast() {
			return b, nil
		}
	}
}

func build(m *notify.Message) Message {
	out := Message{Text: cut(m.Title, maxFallback)}
	out.Blocks = append(out.Blocks, Block{Type: "header", Text: &Text{Type: "plain_text", Text: cut(m.Title, maxHeader), Emoji: true}})
	out.Blocks = append(out.Blocks, Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: marks[m.Level] + " " + escape(m.Intro)}})
	var sec strings.Builder
	flush := func() {
		if sec.Len() > 0 {
			out.Blocks = append(out.Blocks, Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: sec.String()}})
			sec.Reset()
		}
	}
	for _, l := range m.Lines {
		line := lineMarks[l.Level] + " " + escape(l.Text)
		if sec.Len()+len(line)+1 > maxSection {
			flush()
		}
		if sec.Len() > 0 {
			sec.WriteString("\n")
		}
		sec.WriteString(cut(line, maxSection))
	}
	flush()
	var ctx []Text
	if m.RestText != "" {
		ctx = append(ctx, Text{Type: "mrkdwn", Text: escape(m.RestText)})
	}
	if m.ReportURL != "" {
		ctx = append(ctx, Text{Type: "mrkdwn", Text: "<" + escapeURL(m.ReportURL) + "|Full report>"})
	} else if !m.Test {
		ctx = append(ctx, Text{Type: "mrkdwn", Text: "Full report: `reconform diff -markdown`"})
	}
	if id := m.ID(); id != "" {
		ctx = append(ctx, Text{Type: "mrkdwn", Text: "Delivery " + escape(id)})
	}
	if len(ctx) > 0 {
		out.Blocks = append(out.Blocks, Block{Type: "context", Elements: ctx})
	}
	return out
}

// escape makes text safe in mrkdwn: Slack asks for &, < and > to be
// escaped; the rest of a DNS value is shown as written.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// escapeURL keeps a link from ending early.
func escapeURL(s string) string {
	return strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(s)
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
