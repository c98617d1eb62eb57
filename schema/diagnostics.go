package schema

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diagnostics for people: severity, summary, the
// file and line, a source snippet with the problem underlined, and the
// detail. files are the parsed files by name (Config.Files); color adds
// terminal colours.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File, color bool) error {
	tw := hcl.NewDiagnosticTextWriter(w, files, 78, color)
	for _, d := range SortDiagnostics(diags) {
		if err := tw.WriteDiagnostic(d); err != nil {
			return err
		}
	}
	return nil
}

// SortDiagnostics orders diagnostics by file and position, those without
// a place first; the order is otherwise kept.
func SortDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	out := append(hcl.Diagnostics(nil), diags...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
	return out
}

// JSONDiagnostics is the machine-readable result of validate, shaped like
// `terraform validate -json`.
type JSONDiagnostics struct {
	FormatVersion int              `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []JSONDiagnostic `json:"diagnostics"`
}

// JSONDiagnostic is one diagnostic in JSON.
type JSONDiagnostic struct {
	Severity string       `json:"severity"` // "error" or "warning"
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *JSONRange   `json:"range,omitempty"`
	Snippet  *JSONSnippet `json:"snippet,omitempty"`
}

// JSONRange is a source range; lines and columns count from 1, bytes
// from 0.
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONPos is one position in a file.
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSONSnippet is the source around a diagnostic: the lines of its range
// (Code, starting at StartLine) and the byte offsets of the problem
// within Code.
type JSONSnippet struct {
	Context              *string `json:"context"`
	Code                 string  `json:"code"`
	StartLine            int     `json:"start_line"`
	HighlightStartOffset int     `json:"highlight_start_offset"`
	HighlightEndOffset   int     `json:"highlight_end_offset"`
}

// NewJSONDiagnostics converts diagnostics to their JSON form.
func NewJSONDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) JSONDiagnostics {
	out := JSONDiagnostics{FormatVersion: 1, Diagnostics: []JSONDiagnostic{}}
	for _, d := range SortDiagnostics(diags) {
		jd := JSONDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			out.WarningCount++
		} else {
			out.ErrorCount++
		}
		if r := d.Subject; r != nil {
			jd.Range = &JSONRange{
				Filename: r.Filename,
				Start:    JSONPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
				End:      JSONPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
			}
			jd.Snippet = snippet(*r, files[r.Filename])
		}
		out.Diagnostics = append(out.Diagnostics, jd)
	}
	out.Valid = out.ErrorCount == 0
	return out
}

// WriteDiagnosticsJSON writes diagnostics as indented JSON.
func WriteDiagnosticsJSON(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(NewJSONDiagnostics(diags, files)); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

func snippet(r hcl.Range, file *hcl.File) *JSONSnippet {
	if file == nil || r.Start.Byte > len(file.Bytes) || r.End.Byte > len(file.Bytes) || r.Start.Byte > r.End.Byte {
		return nil
	}
	src := file.Bytes
	lineStart := r.Start.Byte
	for lineStart > 0 && src[lineStart-1] != '\n' {
		lineStart--
	}
	lineEnd := r.End.Byte
	if lineEnd > lineStart && lineEnd > r.Start.Byte && src[lineEnd-1] == '\n' {
		lineEnd--
	}
	for lineEnd < len(src) && src[lineEnd] != '\n' {
		lineEnd++
	}
	s := &JSONSnippet{
		Code:                 strings.TrimRight(string(src[lineStart:lineEnd]), "\r"),
		StartLine:            r.Start.Line,
		HighlightStartOffset: r.Start.Byte - lineStart,
		HighlightEndOffset:   r.End.Byte - lineStart,
	}
	if s.HighlightEndOffset > len(s.Code) {
		s.HighlightEndOffset = len(s.Code)
	}
	// The enclosing block, as the text renderer names it: `query "history"`.
	if cs, ok := file.Nav.(interface{ ContextString(offset int) string }); ok {
		if c := cs.ContextString(r.Start.Byte); c != "" {
			s.Context = &c
		}
	}
	return s
}
