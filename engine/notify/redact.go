package notify

import (
	"encoding/json"
	"errors"
	"strings"
)

// redacted replaces a secret wherever it would appear.
const redacted = "(sensitive value)"

// Redact replaces every secret in s.
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

// RedactError is err's text with every secret replaced (nil stays nil).
func RedactError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := Redact(msg, secrets); r != msg {
		var se *SendError
		if errors.As(err, &se) {
			return &SendError{Status: se.Status, RetryAfter: se.RetryAfter, Permanent: se.Permanent, Err: errors.New(r)}
		}
		return errors.New(r)
	}
	return err
}

// RedactJSON replaces every secret in an encoded JSON document, in the
// form the encoder wrote it (escaped).
func RedactJSON(b []byte, secrets []string) []byte {
	s := string(b)
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		forms := []string{sec}
		if enc, err := EncodeJSON(sec); err == nil {
			forms = append(forms, strings.Trim(string(enc), `"`))
		}
		if enc, err := json.Marshal(sec); err == nil {
			forms = append(forms, strings.Trim(string(enc), `"`))
		}
		for _, f := range forms {
			if f != "" && strings.Contains(s, f) {
				s = strings.ReplaceAll(s, f, redacted)
			}
		}
	}
	return []byte(s)
}

// redactMessage replaces every secret in the message's text.
func redactMessage(m *Message, secrets []string) {
	if len(secrets) == 0 {
		return
	}
	r := func(s string) string { return Redact(s, secrets) }
	m.Title, m.Intro, m.RestText, m.Report, m.ReportURL = r(m.Title), r(m.Intro), r(m.RestText), r(m.Report), r(m.ReportURL)
	for i := range m.Lines {
		m.Lines[i].Text = r(m.Lines[i].Text)
	}
}
