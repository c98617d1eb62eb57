package check

import (
	"fmt"
	"io"
	"strings"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/ansi"
	"github.com/reconform/reconform/schema"
)

// TextOptions tune Text.
type TextOptions struct {
	Color bool
}

// Summary is the one-line count: "3 passed, 1 failed, 1 error".
func Summary(results []state.CheckResult) string {
	p, f, e := Counts(results)
	var parts []string
	if p > 0 {
		parts = append(parts, fmt.Sprintf("%d passed", p))
	}
	if f > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", f))
	}
	if e > 0 {
		parts = append(parts, fmt.Sprintf("%d could not be evaluated", e))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Text writes the results for a terminal: a summary line, then one line
// per check with the messages of those that did not pass.
func Text(w io.Writer, results []state.CheckResult, o TextOptions) error {
	if len(results) == 0 {
		return nil
	}
	c := ansi.Palette{On: o.Color}.Paint
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s.\n", c("Checks:", ansi.Bold), Summary(results))
	for _, r := range results {
		mark := c("pass ", ansi.Green)
		switch {
		case r.Status == state.CheckPass:
		case r.Severity == schema.SeverityWarning && r.Status == state.CheckFail:
			mark = c("warn ", ansi.Yellow)
		case r.Status == state.CheckFail:
			mark = c("FAIL ", ansi.Red, ansi.Bold)
		default:
			mark = c("ERROR", ansi.Red, ansi.Bold)
		}
		sev := ""
		if r.Status != state.CheckPass {
			sev = " (" + r.Severity + ")"
		}
		fmt.Fprintf(&b, "  %s %s%s\n", mark, r.Name, sev)
		for _, m := range r.Messages {
			fmt.Fprintf(&b, "        %s\n", indent(m))
		}
		for _, d := range r.Diagnostics {
			fmt.Fprintf(&b, "        %s\n", indent(d))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n        ") }

// Markdown writes the results as a Markdown section: a table of every
// check, failing ones first.
func Markdown(w io.Writer, results []state.CheckResult) error {
	if len(results) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#### Checks (%s)\n\n", Summary(results))
	if Failed(results) {
		fmt.Fprintf(&b, "> [!CAUTION]\n> %d error-severity %s did not pass.\n\n", failedErrors(results), plural(failedErrors(results), "check"))
	}
	b.WriteString("| Check | Severity | Result | Details |\n|---|---|---|---|\n")
	for _, pass := range []bool{false, true} {
		for _, r := range results {
			if (r.Status == state.CheckPass) != pass {
				continue
			}
			details := append(append([]string(nil), r.Messages...), r.Diagnostics...)
			if len(details) == 0 {
				details = []string{r.Description}
			}
			for i := range details {
				details[i] = cell(details[i])
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", strings.ReplaceAll(r.Name, "`", "'"), r.Severity, result(r), strings.Join(details, "<br>"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func result(r state.CheckResult) string {
	switch r.Status {
	case state.CheckPass:
		return "✅ pass"
	case state.CheckFail:
		if r.Severity == schema.SeverityWarning {
			return "⚠️ fail"
		}
		return "❌ fail"
	}
	return "❌ error"
}

func failedErrors(results []state.CheckResult) int {
	n := 0
	for _, r := range results {
		if r.Severity == schema.SeverityError && r.Failed() {
			n++
		}
	}
	return n
}

var cellReplacer = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;")

func cell(s string) string { return cellReplacer.Replace(s) }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
