package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// redactor keeps the connection string out of every error: the string
// itself and its password anywhere in a message; the user, host and
// database names where they stand as words (a driver's error names them).
type redactor struct {
	secrets []string // longest first
	words   []string
}

func newRedactor(conn string, others []string) *redactor {
	r := &redactor{}
	add := func(s string) {
		if len(s) >= 4 {
			r.secrets = append(r.secrets, s)
		}
	}
	add(conn)
	for _, s := range others {
		add(s)
	}
	if cc, err := pgx.ParseConfig(conn); err == nil {
		add(cc.Password)
		r.words = append(r.words, cc.User, cc.Database, cc.Host)
		for _, fb := range cc.Fallbacks {
			r.words = append(r.words, fb.Host)
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	return r
}

const redactedText = "(redacted)"

// text redacts s.
func (r *redactor) text(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redactedText)
	}
	for _, w := range r.words {
		if len(w) >= 2 {
			s = replaceWord(s, w)
		}
	}
	return s
}

// replaceWord replaces w where it is not part of a longer word.
func replaceWord(s, w string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, w)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		before := i == 0 || !wordByte(s[i-1])
		after := i+len(w) == len(s) || !wordByte(s[i+len(w)])
		b.WriteString(s[:i])
		if before && after {
			b.WriteString(redactedText)
		} else {
			b.WriteString(w)
		}
		s = s[i+len(w):]
	}
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// redactedError is an error of the driver told in our words and redacted;
// Unwrap gives the driver's error to errors.Is and errors.As only.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// err redacts err (nil stays nil; an error already redacted is kept).
func (r *redactor) err(err error) error {
	if err == nil {
		return nil
	}
	var re *redactedError
	if errors.As(err, &re) && re == err {
		return err
	}
	return &redactedError{msg: r.text(describe(err)), err: err}
}

// describe says what went wrong without the driver's connection details.
func describe(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)
		if pe.Code == "42501" {
			msg += "; the backend's role lacks a privilege, see docs/backend-pg.md for the grants it needs"
		}
		return msg
	}
	var ce *pgconn.ConnectError
	isConnect := errors.As(err, &ce)
	var errno syscall.Errno
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return "the server's host name does not resolve"
	case errors.As(err, &errno):
		return "the server is unreachable: " + errno.Error()
	case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
		return "the server did not answer in time"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection to the server was lost"
	case isConnect:
		return "the connection failed: " + lastClause(ce.Unwrap().Error())
	}
	return err.Error()
}

// lastClause is the innermost part of a "a: b: c" message.
func lastClause(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// unreachable reports whether err says the database could not be reached
// or went away (as opposed to refusing a statement).
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "conn closed")
}
