// Package email sends notifications over SMTP: STARTTLS (required by
// default) or implicit TLS, authentication when a username is set, and a
// message with a text and an HTML part and the full Markdown report
// attached. The Message-ID is made from the delivery's ID, so a mail
// system that sees the same delivery twice can tell.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/schema"
)

// Channel sends to one SMTP server.
type Channel struct {
	host, security string
	port           int
	username, pass string
	from           *mail.Address
	to             []*mail.Address
	subjectPrefix  string
	tls            *tls.Config
	timeout        time.Duration
	ua, domain     string
}

// New makes the channel of an email notify block.
func New(n *schema.NotifyBlock, o notify.Options) (*Channel, error) {
	c := &Channel{host: n.String("host"), security: n.String("security"), port: n.Int("port", schema.DefaultSMTPPort),
		username: n.String("username"), pass: n.String("password"), subjectPrefix: n.String("subject_prefix"),
		timeout: n.Timeout, ua: o.UserAgent}
	if c.host == "" {
		return nil, errors.New("host is empty")
	}
	if c.security == "" {
		c.security = "starttls"
	}
	from, err := mail.ParseAddress(n.String("from"))
	if err != nil {
		return nil, fmt.Errorf("from: %v", err)
	}
	c.from = from
	for _, t := range n.Strings("to") {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("to: %v", err)
		}
		c.to = append(c.to, a)
	}
	if len(c.to) == 0 {
		return nil, errors.New("to lists no recipient")
	}
	if c.username != "" && c.pass == "" {
		return nil, errors.New("username is set but password is empty (is its environment variable set?)")
	}
	base := o.TLSConfig
	if base == nil {
		base = &tls.Config{}
	}
	c.tls = base.Clone()
	c.tls.ServerName = c.host
	c.tls.MinVersion = tls.VersionTLS12
	if ca := n.String("ca_file"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", ca)
		}
		c.tls.RootCAs = pool
	}
	if _, d, ok := strings.Cut(from.Address, "@"); ok {
		c.domain = d
	}
	return c, nil
}

// Send delivers the message to every recipient in one SMTP transaction.
func (c *Channel) Send(ctx context.Context, m *notify.Message) error {
	raw, err := c.Compose(m)
	if err != nil {
		return notify.Permanentf("composing the e-mail: %v", err)
	}
	return c.deliver(ctx, raw)
}

func (c *Channel) what() string {
	return "the SMTP server " + net.JoinHostPort(c.host, strconv.Itoa(c.port))
}

func (c *Channel) deliver(ctx context.Context, raw []byte) error {
	addr := net.JoinHostPort(c.host, strconv.Itoa(c.port))
	d := &net.Dialer{Timeout: c.timeout}
	var conn net.Conn
	var err error
	if c.security == "tls" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: c.tls}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return &notify.SendError{Err: fmt.Errorf("connecting to %s: %v", c.what(), err)}
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cl, err := smtp.NewClient(conn, c.host)
	if err != nil {
		conn.Close()
		return c.smtpError("greeting", err)
	}
	defer cl.Close()
	if err := cl.Hello(c.helloName()); err != nil {
		return c.smtpError("EHLO", err)
	}
	if c.security == "starttls" {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return notify.Permanentf("%s does not offer STARTTLS, and this notifier requires it (security = \"starttls\"); nothing was sent", c.what())
		}
		if err := cl.StartTLS(c.tls); err != nil {
			return c.smtpError("STARTTLS", err)
		}
	}
	if c.username != "" {
		if ok, _ := cl.Extension("AUTH"); !ok {
			return notify.Permanentf("%s does not offer AUTH, and a username is set; nothing was sent", c.what())
		}
		// PlainAuth refuses to send the password without TLS, except to
		// this machine.
		if err := cl.Auth(smtp.PlainAuth("", c.username, c.pass, c.host)); err != nil {
			return c.smtpError("AUTH", err)
		}
	}
	if err := cl.Mail(c.from.Address); err != nil {
		return c.smtpError("MAIL FROM", err)
	}
	for _, t := range c.to {
		if err := cl.Rcpt(t.Address); err != nil {
			return c.smtpError("RCPT TO "+t.Address, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return c.smtpError("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return c.smtpError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return c.smtpError("end of DATA", err)
	}
	cl.Quit()
	return nil
}

func (c *Channel) helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \t") {
		return h
	}
	return "localhost"
}

// smtpError classifies a failed SMTP step: a 5xx reply is permanent, a
// 4xx one and a broken connection are worth a retry.
func (c *Channel) smtpError(step string, err error) error {
	se := &notify.SendError{Err: fmt.Errorf("%s: %s: %v", c.what(), step, err)}
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		se.Permanent = true
	}
	if strings.Contains(err.Error(), "unencrypted connection") {
		se.Permanent = true
	}
	return se
}

// Compose writes the message in RFC 5322 form: multipart/mixed of a
// multipart/alternative (text, HTML) and the Markdown report.
func (c *Channel) Compose(m *notify.Message) ([]byte, error) {
	var buf bytes.Buffer
	mixed := multipart.NewWriter(&buf)
	altBoundary := multipart.NewWriter(io.Discard).Boundary()
	subject := m.Title
	if c.subjectPrefix != "" {
		subject = c.subjectPrefix + " " + subject
	}
	var to []string
	for _, t := range c.to {
		to = append(to, t.String())
	}
	id := m.ID()
	if id == "" {
		id = strconv.FormatInt(m.Time.UnixNano(), 36)
	}
	domain := c.domain
	if domain == "" {
		domain = "reconform.invalid"
	}
	hdr := []string{
		"From: " + c.from.String(),
		"To: " + strings.Join(to, ", "),
		"Subject: " + mime.QEncoding.Encode("utf-8", subject),
		"Date: " + m.Time.Format(time.RFC1123Z),
		"Message-ID: <" + strings.ReplaceAll(id, "+", ".") + "." + strings.ReplaceAll(m.Notifier, ".", "-") + "@" + domain + ">",
		"MIME-Version: 1.0",
		"Auto-Submitted: auto-generated",
		"X-Reconform-Delivery: " + id,
		"Content-Type: multipart/mixed; boundary=" + strconv.Quote(mixed.Boundary()),
	}
	if c.ua != "" {
		hdr = append(hdr, "X-Mailer: "+c.ua)
	}
	var head bytes.Buffer
	for _, h := range hdr {
		head.WriteString(h + "\r\n")
	}
	head.WriteString("\r\n")

	altPart, err := mixed.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/alternative; boundary=" + strconv.Quote(altBoundary)}})
	if err != nil {
		return nil, err
	}
	alt := multipart.NewWriter(altPart)
	if err := alt.SetBoundary(altBoundary); err != nil {
		return nil, err
	}
	if err := qpPart(alt, "text/plain; charset=utf-8", []byte(Text(m))); err != nil {
		return nil, err
	}
	html, err := HTML(m)
	if err != nil {
		return nil, err
	}
	if err := qpPart(alt, "text/html; charset=utf-8", html); err != nil {
		return nil, err
	}
	if err := alt.Close(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(m.Report) != "" {
		name := m.ReportName
		if name == "" {
			name = "reconform-report.md"
		}
		att, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType("text/markdown", map[string]string{"charset": "utf-8", "name": name})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(att)
		if _, err := qw.Write([]byte(m.Report)); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mixed.Close(); err != nil {
		return nil, err
	}
	return append(head.Bytes(), buf.Bytes()...), nil
}

func qpPart(w *multipart.Writer, contentType string, body []byte) error {
	p, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {contentType}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return err
	}
	qw := quotedprintable.NewWriter(p)
	if _, err := qw.Write(body); err != nil {
		return err
	}
	return qw.Close()
}

// Text is the plain-text body.
func Text(m *notify.Message) string {
	var b strings.Builder
	b.WriteString(m.Title + "\n\n" + m.Intro + "\n\n")
	for _, l := range m.Lines {
		mark := map[string]string{notify.LevelCritical: "!!", notify.LevelWarning: " *", notify.LevelOK: "ok", notify.LevelInfo: " -"}[l.Level]
		b.WriteString(mark + " " + l.Text + "\n")
	}
	if m.RestText != "" {
		b.WriteString("\n" + m.RestText + ".\n")
	}
	switch {
	case m.ReportURL != "":
		b.WriteString("\nFull report: " + m.ReportURL + " (also attached).\n")
	case strings.TrimSpace(m.Report) != "":
		b.WriteString("\nThe full report is attached.\n")
	}
	if id := m.ID(); id != "" {
		b.WriteString("\nDelivery " + id + ".\n")
	}
	return b.String()
}

var htmlTemplate = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #1f2328;">
<h2 style="color: {{.Color}}; margin-bottom: 4px;">{{.Title}}</h2>
<p style="color: #59636e; margin-top: 0;">{{.Intro}}</p>
<ul style="font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; padding-left: 18px;">
{{- range .Lines}}
<li style="color: {{.Color}};">{{.Text}}</li>
{{- end}}
</ul>
{{- if .Rest}}
<p style="color: #59636e;">{{.Rest}}.</p>
{{- end}}
{{- if .ReportURL}}
<p><a href="{{.ReportURL}}">Full report</a> (also attached).</p>
{{- else if .Attached}}
<p>The full report is attached.</p>
{{- end}}
{{- if .ID}}
<p style="color: #59636e; font-size: 11px;">Delivery {{.ID}}</p>
{{- end}}
</body></html>
`))

var htmlColors = map[string]string{
	notify.LevelCritical: "#cf222e", notify.LevelWarning: "#9a6700", notify.LevelOK: "#1a7f37", notify.LevelInfo: "#1f2328",
}

// HTML is the HTML body; every value is escaped by html/template.
func HTML(m *notify.Message) ([]byte, error) {
	type line struct{ Color, Text string }
	data := struct {
		Title, Intro, Color, Rest, ReportURL, ID string
		Lines                                    []line
		Attached                                 bool
	}{Title: m.Title, Intro: m.Intro, Color: htmlColors[m.Level], Rest: m.RestText, ReportURL: m.ReportURL, ID: m.ID(),
		Attached: strings.TrimSpace(m.Report) != ""}
	for _, l := range m.Lines {
		data.Lines = append(data.Lines, line{htmlColors[l.Level], l.Text})
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
