package report

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/analysis"
)

// Timeline chart geometry, in SVG user units.
const (
	svgLabelW  = 340.0
	svgChartW  = 640.0
	svgRowH    = 16.0
	svgNameH   = 22.0
	svgAxisH   = 36.0
	svgMaxRows = 2000 // a chart taller than this is cut, with a note
)

var typeColour = map[string]string{
	"A": "#2563eb", "AAAA": "#4f46e5", "CNAME": "#0d9488", "MX": "#d97706",
	"NS": "#16a34a", "TXT": "#9333ea", "SPF": "#9333ea", "PTR": "#475569",
}

func colourOf(t string) string {
	if c, ok := typeColour[t]; ok {
		return c
	}
	return "#64748b"
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// timelineSVG draws one bar per record value over time, grouped by name;
// current values are solid, historical ones faded, and every move is a
// red arrow from the end of the old value to the start of the new one.
//
// A non-zero from zooms in: the axis starts there, values that ended
// before are left out and older starts are drawn from the left edge.
func timelineSVG(tls []analysis.NameTimeline, from time.Time) (template.HTML, int) {
	var lo, hi time.Time
	rows := 0
	for _, tl := range tls {
		for _, r := range tl.Records {
			if !r.FirstSeen.IsZero() && (lo.IsZero() || r.FirstSeen.Before(lo)) {
				lo = r.FirstSeen
			}
			if r.LastSeen.After(hi) {
				hi = r.LastSeen
			}
			if r.FirstSeen.After(hi) {
				hi = r.FirstSeen
			}
		}
	}
	if lo.IsZero() {
		lo = hi
	}
	if !from.IsZero() && from.After(lo) {
		lo = from
		var kept []analysis.NameTimeline
		for _, tl := range tls {
			var recs []analysis.Interval
			for _, r := range tl.Records {
				if r.LastSeen.IsZero() || !r.LastSeen.Before(from) {
					recs = append(recs, r)
				}
			}
			if len(recs) > 0 {
				kept = append(kept, analysis.NameTimeline{Name: tl.Name, Records: recs, Moves: tl.Moves})
			}
		}
		tls = kept
	}
	if !hi.After(lo) {
		hi = lo.Add(24 * time.Hour)
	}
	span := hi.Sub(lo).Seconds()
	x := func(t time.Time, dflt float64) float64 {
		if t.IsZero() {
			return dflt
		}
		return svgLabelW + max(0, t.Sub(lo).Seconds())/span*svgChartW
	}

	var body strings.Builder
	y := svgAxisH
	cut := 0
	for _, tl := range tls {
		if rows+len(tl.Records) > svgMaxRows {
			cut++
			continue
		}
		y += svgNameH
		fmt.Fprintf(&body, `<text class="nm" x="4" y="%.1f">%s</text>`+"\n", y-6, esc(tl.Name))
		fmt.Fprintf(&body, `<line class="sep" x1="0" x2="%.1f" y1="%.1f" y2="%.1f"/>`+"\n", svgLabelW+svgChartW, y-svgNameH+2, y-svgNameH+2)
		rowY := map[string]float64{}
		ends := map[string][2]float64{}
		for _, r := range tl.Records {
			rows++
			top := y
			y += svgRowH
			rowY[r.Type+" "+r.Value] = top + svgRowH/2
			x1 := x(r.FirstSeen, svgLabelW)
			x2 := x(r.LastSeen, svgLabelW+svgChartW)
			if x2-x1 < 3 {
				x2 = x1 + 3
			}
			ends[r.Type+" "+r.Value] = [2]float64{x1, x2}
			state := "historical"
			opacity := "0.35"
			if r.Current {
				state, opacity = "current", "1"
			}
			fmt.Fprintf(&body, `<text class="rv" x="14" y="%.1f"><tspan class="rt">%s</tspan> %s</text>`+"\n",
				top+svgRowH-4, esc(r.Type), esc(shorten(r.Value, 44)))
			fmt.Fprintf(&body, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="2" fill="%s" fill-opacity="%s"><title>%s %s&#10;%s to %s, %s</title></rect>`+"\n",
				x1, top+3, x2-x1, svgRowH-6, colourOf(r.Type), opacity, esc(r.Type), esc(r.Value), day(r.FirstSeen), day(r.LastSeen), state)
		}
		for _, mv := range tl.Moves {
			from, okF := ends[mv.Type+" "+mv.From]
			to, okT := ends[mv.Type+" "+mv.To]
			if !okF || !okT {
				continue
			}
			y1, y2 := rowY[mv.Type+" "+mv.From], rowY[mv.Type+" "+mv.To]
			fmt.Fprintf(&body, `<path class="mv" d="M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f" marker-end="url(#arrow)"><title>moved %s %s to %s on %s</title></path>`+"\n",
				from[1], y1, from[1]+12, y1, to[0]-12, y2, to[0], y2, esc(mv.Type), esc(mv.From), esc(mv.To), day(mv.At))
		}
	}
	height := y + 8

	var axis strings.Builder
	ticks := yearTicks(lo, hi)
	for _, t := range ticks {
		tx := x(t, 0)
		if tx > svgLabelW+svgChartW-40 {
			continue // its label would run off the chart
		}
		fmt.Fprintf(&axis, `<line class="tick" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`+"\n", tx, tx, svgAxisH-6, height)
		fmt.Fprintf(&axis, `<text class="ax" x="%.1f" y="%.1f">%s</text>`+"\n", tx+2, svgAxisH-8, t.Format(tickLayout(lo, hi)))
	}
	fmt.Fprintf(&axis, `<text class="ax" x="%.1f" y="12">%s</text>`+"\n", svgLabelW, day(lo))
	fmt.Fprintf(&axis, `<text class="ax" x="%.1f" y="12" text-anchor="end">%s</text>`+"\n", svgLabelW+svgChartW, day(hi))

	var out strings.Builder
	arrow := "arrow"
	if !from.IsZero() {
		arrow = "arrow-recent" // marker ids are unique in the page
	}
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="Timeline of record values">`+"\n",
		svgLabelW+svgChartW+10, height, svgLabelW+svgChartW+10, height)
	out.WriteString(`<defs><marker id="` + arrow + `" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#dc2626"/></marker></defs>` + "\n")
	out.WriteString(axis.String())
	out.WriteString(strings.ReplaceAll(body.String(), "url(#arrow)", "url(#"+arrow+")"))
	out.WriteString("</svg>")
	return template.HTML(out.String()), cut
}

// yearTicks returns the first day of each year within (lo, hi], or of
// each quarter when the span is under two years.
func yearTicks(lo, hi time.Time) []time.Time {
	var out []time.Time
	step := 12
	if hi.Sub(lo) < 2*365*24*time.Hour {
		step = 3
	}
	t := time.Date(lo.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	for !t.After(hi) {
		if t.After(lo) {
			out = append(out, t)
		}
		t = t.AddDate(0, step, 0)
	}
	return out
}

func tickLayout(lo, hi time.Time) string {
	if hi.Sub(lo) < 2*365*24*time.Hour {
		return "2006-01"
	}
	return "2006"
}
