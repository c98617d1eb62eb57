package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/reconform/reconform/schema"
)

// Under -json a verb's errors and diagnostics come on stdout as one JSON
// document (docs/json.md, "Errors and diagnostics"):
//
//	{"format_version":1,"type":"diagnostics","error_count":1,"warning_count":0,
//	 "diagnostics":[{"severity":"error","summary":"...","detail":"...","range":{...}}]}
//
// on one line, after whatever the verb printed there, so that it also
// ends an NDJSON stream (apply -json, run-all -json). Configuration
// diagnostics keep their file, line and column (printDiags hands them
// over as they are); every other message a verb writes for people to
// stderr ("Error: ...", "Warning: ...") becomes a diagnostic of that
// severity, its first line the summary and the rest the detail. One
// place does this for every verb, so no verb can forget it.

// jsonFormatVersion is the format_version of the JSON documents the CLI
// itself writes (docs/json.md).
const jsonFormatVersion = 1

// jsonDocType is the "type" of the error document.
const jsonDocType = "diagnostics"

// wantsJSON reports whether the verb's arguments ask for -json.
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-json", "--json", "-json=true", "--json=true":
			return true
		}
	}
	return false
}

// runWithJSONErrors runs a verb whose stderr and diagnostics are
// collected, then writes them as the JSON error document on stdout.
func runWithJSONErrors(ctx context.Context, env *Env, c *command, args []string) int {
	sink := &jsonErrorSink{}
	sub := *env
	sub.Stderr = sink
	sub.jsonErrors = sink
	if env.HardExit != nil {
		// A second interrupt ends the process at once: what was collected
		// goes to stderr first, as it would have without -json.
		sub.HardExit = func(code int) {
			sink.mu.Lock()
			io.WriteString(env.Stderr, sink.text.String())
			sink.mu.Unlock()
			env.HardExit(code)
		}
	}
	code := c.Run(ctx, &sub, args)
	if code == exitInterrupted {
		// An interrupted verb writes nothing more on stdout (which may be
		// a pipe nobody reads any more); its notice goes to stderr.
		io.WriteString(env.Stderr, sink.text.String())
		return code
	}
	sink.writeTo(env.Stdout)
	return code
}

// jsonErrorSink collects a verb's diagnostics and stderr text.
type jsonErrorSink struct {
	mu    sync.Mutex
	text  bytes.Buffer
	diags []schema.JSONDiagnostic
}

// Write takes what the verb would have printed on stderr.
func (s *jsonErrorSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text.Write(p)
}

// addDiags takes configuration diagnostics with their ranges.
func (s *jsonErrorSink) addDiags(diags hcl.Diagnostics, files map[string]*hcl.File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.diags = append(s.diags, schema.NewJSONDiagnostics(diags, files).Diagnostics...)
}

// jsonErrorDoc is the error document.
type jsonErrorDoc struct {
	FormatVersion int                     `json:"format_version"`
	Type          string                  `json:"type"`
	ErrorCount    int                     `json:"error_count"`
	WarningCount  int                     `json:"warning_count"`
	Diagnostics   []schema.JSONDiagnostic `json:"diagnostics"`
}

// writeTo writes the document when there is anything to say.
func (s *jsonErrorSink) writeTo(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := append(append([]schema.JSONDiagnostic(nil), s.diags...), textDiagnostics(s.text.String())...)
	if len(all) == 0 {
		return
	}
	doc := jsonErrorDoc{FormatVersion: jsonFormatVersion, Type: jsonDocType, Diagnostics: all}
	for _, d := range all {
		switch d.Severity {
		case "error":
			doc.ErrorCount++
		case "warning":
			doc.WarningCount++
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(doc)
}

// textDiagnostics splits text printed for people into diagnostics: a line
// "Error: S" or "Warning: S" starts one with summary S, the lines up to
// the next such line are its detail. Text before the first is a message
// of severity "info" (an interruption notice, say).
func textDiagnostics(text string) []schema.JSONDiagnostic {
	var out []schema.JSONDiagnostic
	var detail []string
	flush := func() {
		if len(out) > 0 {
			out[len(out)-1].Detail = strings.TrimSpace(strings.Join(detail, "\n"))
		}
		detail = nil
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \r")
		sev, summary := "", ""
		if rest, ok := strings.CutPrefix(line, "Error: "); ok {
			sev, summary = "error", rest
		} else if rest, ok := strings.CutPrefix(line, "Warning: "); ok {
			sev, summary = "warning", rest
		}
		switch {
		case sev != "":
			flush()
			out = append(out, schema.JSONDiagnostic{Severity: sev, Summary: strings.TrimSpace(summary)})
		case len(out) == 0 && strings.TrimSpace(line) != "":
			out = append(out, schema.JSONDiagnostic{Severity: "info", Summary: strings.TrimSpace(line)})
		case len(out) > 0:
			detail = append(detail, line)
		}
	}
	flush()
	return out
}
