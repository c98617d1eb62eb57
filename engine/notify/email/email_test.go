package email_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/notify/email"
	"github.com/reconform/reconform/engine/notify/notifytest"
	"github.com/reconform/reconform/internal/smtptest"
	"github.com/reconform/reconform/schema"
)

const password = "smtp-Pa55-word"

func notifier(s *smtptest.Server, security, user, pass string) *schema.NotifyBlock {
	n := notifytest.Notifier("email", map[string]string{"host": s.Host, "from": "Recon <reconform@acme.example>", "security": security})
	n.Attrs["port"] = cty.NumberIntVal(int64(s.Port))
	n.Attrs["to"] = cty.ListVal([]cty.Value{cty.StringVal("secops@acme.example"), cty.StringVal("Ann <ann@acme.example>")})
	if s.CAFile != "" {
		n.Attrs["ca_file"] = cty.StringVal(s.CAFile)
	}
	if user != "" {
		n.Attrs["username"], n.Attrs["password"] = cty.StringVal(user), cty.StringVal(pass)
	}
	n.Timeout = 20 * time.Second
	return n
}

// parts reads a MIME body into content type -> decoded text, with the
// attachment's file name.
func parts(t *testing.T, ct string, body io.Reader, out map[string]string, names map[string]string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(body)
		out[mt] = string(b)
		return
	}
	out[mt] = "(multipart)"
	r := multipart.NewReader(body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		pct := p.Header.Get("Content-Type")
		var rd io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			rd = quotedPrintable(p)
		}
		if _, ps, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
			pmt, _, _ := mime.ParseMediaType(pct)
			names[pmt] = ps["filename"]
		}
		parts(t, pct, rd, out, names)
	}
}

func TestSTARTTLSAndAuth(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.Options{TLS: true, User: "reconform", Password: password})
	n := notifier(s, "starttls", "reconform", password)
	ch, err := email.New(n, notify.Options{UserAgent: "reconform/test"})
	if err != nil {
		t.Fatal(err)
	}
	m := notifytest.Message(t, n, 0)
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := s.Messages(t)
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	r := got[0]
	if !r.TLS || !r.Authenticated || r.MailFrom != "reconform@acme.example" || strings.Join(r.RcptTos, ",") != "secops@acme.example,ann@acme.example" {
		t.Errorf("envelope: %+v", r)
	}
	if bytes.Contains(r.Raw, []byte(password)) {
		t.Error("the password is in the message")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(r.Raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != m.Title || msg.Header.Get("Auto-Submitted") != "auto-generated" || msg.Header.Get("X-Reconform-Delivery") != m.ID() ||
		!strings.HasPrefix(msg.Header.Get("Message-Id"), "<"+m.ID()) {
		t.Errorf("headers: subject %q, %v", subject, msg.Header)
	}
	if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 2 {
		t.Errorf("To: %v %v", to, err)
	}
	bodies, names := map[string]string{}, map[string]string{}
	parts(t, msg.Header.Get("Content-Type"), msg.Body, bodies, names)
	for _, ct := range []string{"multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/markdown"} {
		if bodies[ct] == "" {
			t.Errorf("no %s part", ct)
		}
	}
	if !strings.Contains(bodies["text/plain"], "dmarc_policy weakened: reject → none") || !strings.Contains(bodies["text/plain"], "The full report is attached.") {
		t.Errorf("text part:\n%s", bodies["text/plain"])
	}
	if !strings.Contains(bodies["text/html"], "<li style=\"color: #cf222e;\">Check dmarc_enforced failed") {
		t.Errorf("html part:\n%s", bodies["text/html"])
	}
	if !strings.Contains(bodies["text/markdown"], "### reconform drift") || names["text/markdown"] != "reconform-acme-serial-2.md" {
		t.Errorf("attachment %q:\n%s", names["text/markdown"], bodies["text/markdown"])
	}
}

func TestHTMLIsEscaped(t *testing.T) {
	t.Parallel()
	m := &notify.Message{Title: "t", Lines: []notify.Line{{Level: notify.LevelWarning, Text: `+ x.acme.example TXT "<script>alert(1)</script>"`}}}
	b, err := email.HTML(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "<script>") {
		t.Errorf("not escaped:\n%s", b)
	}
}

func TestSTARTTLSIsRequired(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.Options{})
	ch, err := email.New(notifier(s, "starttls", "", ""), notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = ch.Send(context.Background(), notifytest.Message(t, notifier(s, "starttls", "", ""), 0))
	var se *notify.SendError
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") || !asSendError(err, &se) || !se.Permanent {
		t.Errorf("err %v", err)
	}
	if len(s.Messages(t)) != 0 {
		t.Error("a message was sent in clear")
	}
	// security = "none" is for a relay on this machine.
	n := notifier(s, "none", "", "")
	ch, _ = email.New(n, notify.Options{})
	if err := ch.Send(context.Background(), notifytest.Message(t, n, 0)); err != nil {
		t.Fatal(err)
	}
	if got := s.Messages(t); len(got) != 1 || got[0].TLS {
		t.Errorf("plain relay: %+v", got)
	}
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.Options{TLS: true, User: "reconform", Password: password})
	n := notifier(s, "starttls", "reconform", "wrong-password-1")
	ch, _ := email.New(n, notify.Options{})
	err := ch.Send(context.Background(), notifytest.Message(t, n, 0))
	var se *notify.SendError
	if err == nil || !strings.Contains(err.Error(), "AUTH") || !asSendError(err, &se) || !se.Permanent || strings.Contains(err.Error(), "wrong-password-1") {
		t.Errorf("err %v", err)
	}
}

func TestTemporaryFailureIsRetried(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.Options{TLS: true, User: "u", Password: password, FailFirst: 1})
	n := notifier(s, "starttls", "u", password)
	ch, _ := email.New(n, notify.Options{})
	d := &notify.Deliverer{Sleep: func(context.Context, time.Duration) error { return nil }}
	attempts, err := d.Send(context.Background(), n, ch, notifytest.Message(t, n, 0))
	if err != nil || attempts != 2 {
		t.Fatalf("attempts %d err %v", attempts, err)
	}
	if got := s.Messages(t); len(got) != 1 {
		t.Errorf("%d messages, want exactly 1", len(got))
	}
}

func TestUnknownCertificateIsRefused(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.Options{TLS: true})
	n := notifier(s, "starttls", "", "")
	delete(n.Attrs, "ca_file")
	ch, _ := email.New(n, notify.Options{})
	if err := ch.Send(context.Background(), notifytest.Message(t, n, 0)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("err %v", err)
	}
}

func asSendError(err error, se **notify.SendError) bool { return errors.As(err, se) }

func quotedPrintable(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }
