// Package ansi is the one place reconform writes terminal escape codes:
// colours, through a Palette that is on only when Enabled says so (a
// terminal, no -no-color, no NO_COLOR), and the cursor moves of the live
// progress table. Every renderer that colours (plan, drift, checks,
// quota, show, progress) takes a Palette or a bool decided by Enabled, so
// one rule decides colour everywhere.
package ansi

import (
	"strconv"
	"strings"
)

// Style is one SGR attribute.
type Style string

// The styles reconform uses, as Terraform does: + green, - red, ~ yellow.
const (
	Bold    Style = "\x1b[1m"
	Dim     Style = "\x1b[2m"
	Red     Style = "\x1b[31m"
	Green   Style = "\x1b[32m"
	Yellow  Style = "\x1b[33m"
	Cyan    Style = "\x1b[36m"
	RedBg   Style = "\x1b[41m"
	GreenBg Style = "\x1b[42m"
)

// Reset ends every style.
const Reset = "\x1b[0m"

// Enabled is the one rule for colour: only on a terminal, never with
// -no-color, never when NO_COLOR is set to anything but "" (no-color.org).
func Enabled(terminal, noColorFlag bool, noColorEnv string) bool {
	return terminal && !noColorFlag && noColorEnv == ""
}

// Palette colours text when On.
type Palette struct{ On bool }

// Paint wraps s in the styles, in order, and a reset; s unchanged when the
// palette is off or s is empty.
func (p Palette) Paint(s string, styles ...Style) string {
	if !p.On || s == "" || len(styles) == 0 {
		return s
	}
	var b strings.Builder
	for _, st := range styles {
		b.WriteString(string(st))
	}
	b.WriteString(s)
	b.WriteString(Reset)
	return b.String()
}

// CursorUp moves the cursor n lines up.
func CursorUp(n int) string { return "\x1b[" + strconv.Itoa(n) + "A" }

// ClearLine erases the line the cursor is on.
const ClearLine = "\x1b[2K"
