package analysis

import (
	"sort"
	"strings"
	"time"

	"github.com/reconform/reconform/schema"
)

// Interval is the life of one record value of a name.
type Interval struct {
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Count     int64     `json:"count,omitempty"`
	Current   bool      `json:"current"`
}

// Move is one value of a (name, type) replaced by another: From stopped
// being current and To, which started later and outlived it, took over.
type Move struct {
	Type string    `json:"type"`
	From string    `json:"from"`
	To   string    `json:"to"`
	At   time.Time `json:"at,omitzero"` // when To was first seen (From's last_seen if unknown)
}

// String is the moved fact's value: "A 198.51.100.7 -> 203.0.113.10".
func (m Move) String() string { return m.Type + " " + m.From + " -> " + m.To }

// NameTimeline is everything a name ever resolved to, and its moves.
type NameTimeline struct {
	Name    string     `json:"name"`
	Records []Interval `json:"records"`
	Moves   []Move     `json:"moves,omitempty"`
}

// Timeline returns the timeline of every name with records (HOST-only
// names have none), sorted by name; records are sorted by type, first
// seen, value; moves by time, type, from.
func Timeline(findings []schema.Finding) []NameTimeline {
	return timeline(newIndex(findings))
}

func timeline(ix *index) []NameTimeline {
	byName := map[string][]int{}
	var names []string
	for i, f := range ix.findings {
		if f.Type == schema.TypeHost {
			continue
		}
		if _, ok := byName[f.Name]; !ok {
			names = append(names, f.Name)
		}
		byName[f.Name] = append(byName[f.Name], i)
	}
	sort.Strings(names)
	out := make([]NameTimeline, 0, len(names))
	for _, name := range names {
		tl := NameTimeline{Name: name}
		for _, i := range byName[name] {
			f := ix.findings[i]
			tl.Records = append(tl.Records, Interval{Type: f.Type, Value: f.Value, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, Count: f.Count, Current: ix.current[i]})
		}
		sort.SliceStable(tl.Records, func(a, b int) bool {
			x, y := tl.Records[a], tl.Records[b]
			if x.Type != y.Type {
				return x.Type < y.Type
			}
			if !x.FirstSeen.Equal(y.FirstSeen) {
				return x.FirstSeen.Before(y.FirstSeen)
			}
			return x.Value < y.Value
		})
		tl.Moves = moves(tl.Records)
		out = append(out, tl)
	}
	return out
}

// moveClass groups the values among which a replacement is a move: any
// value for address, alias, mail and name-server records; for TXT only
// an SPF record by an SPF record and DMARC by DMARC (tokens come and go
// independently). "" means never a move.
func moveClass(t, v string) string {
	switch t {
	case "A", "AAAA", "CNAME", "MX", "NS", "PTR":
		return t
	case "TXT", "SPF":
		if IsSPF(v) {
			return "spf"
		}
		if IsDMARC(v) {
			return "dmarc"
		}
	}
	return ""
}

func moves(recs []Interval) []Move {
	// Candidates are looked for among values of the same class only, so
	// a name with thousands of values of many types stays cheap.
	byClass := map[string][]int{}
	classes := make([]string, len(recs))
	for i, r := range recs {
		classes[i] = moveClass(r.Type, r.Value)
		if classes[i] != "" {
			byClass[r.Type+" "+classes[i]] = append(byClass[r.Type+" "+classes[i]], i)
		}
	}
	var out []Move
	for i, a := range recs {
		class := classes[i]
		if class == "" || a.Current {
			continue
		}
		best := -1
		var bestGap time.Duration
		for _, j := range byClass[a.Type+" "+class] {
			b := recs[j]
			if b.Value == a.Value || !succeeds(b, a) {
				continue
			}
			gap := b.FirstSeen.Sub(a.LastSeen)
			if gap < 0 {
				gap = -gap
			}
			if best < 0 || gap < bestGap || gap == bestGap && b.Value < recs[best].Value {
				best, bestGap = j, gap
			}
		}
		if best < 0 {
			continue
		}
		// A set replaced at once (two name servers by two others) moves
		// to every successor that started with the closest one, so no
		// new value is left out of the move.
		var to []int
		for _, j := range byClass[a.Type+" "+class] {
			b := recs[j]
			if b.Value != a.Value && succeeds(b, a) && absDuration(b.FirstSeen.Sub(recs[best].FirstSeen)) <= startedTogether {
				to = append(to, j)
			}
		}
		if len(to) > maxMoveTargets {
			// A pool of addresses replaced by another pool: keep the
			// closest successor and a bounded sample, not pool x pool.
			sort.Slice(to, func(x, y int) bool {
				if (to[x] == best) != (to[y] == best) {
					return to[x] == best
				}
				return recs[to[x]].Value < recs[to[y]].Value
			})
			to = to[:maxMoveTargets]
		}
		at := recs[best].FirstSeen
		for _, j := range to {
			if recs[j].FirstSeen.Before(at) {
				at = recs[j].FirstSeen
			}
		}
		if at.IsZero() {
			at = a.LastSeen
		}
		for _, j := range to {
			out = append(out, Move{Type: a.Type, From: a.Value, To: recs[j].Value, At: at})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	return out
}

// startedTogether is how close the first sightings of new values must be
// for them to belong to one replacement: passive DNS sees the members of
// a new NS or MX set at slightly different times.
const startedTogether = 24 * time.Hour

// maxMoveTargets bounds the new values one ended value moves to: every
// NS or MX set fits, a CDN pool does not multiply the moves.
const maxMoveTargets = 16

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// GroupMoves merges the moves of one type at one time into one move
// whose From and To list the values replaced together, sorted and joined
// with ", " ("NS a, b -> c, d"): one replacement, however many values it
// touched. moves must be one name's, as Timeline gives them.
func GroupMoves(moves []Move) []Move {
	type key struct {
		typ string
		at  time.Time
	}
	var order []key
	from, to := map[key][]string{}, map[key][]string{}
	for _, m := range moves {
		k := key{m.Type, m.At}
		if _, ok := from[k]; !ok {
			order = append(order, k)
		}
		from[k] = appendNew(from[k], m.From)
		to[k] = appendNew(to[k], m.To)
	}
	out := make([]Move, 0, len(order))
	for _, k := range order {
		sort.Strings(from[k])
		sort.Strings(to[k])
		out = append(out, Move{Type: k.typ, From: strings.Join(from[k], ", "), To: strings.Join(to[k], ", "), At: k.at})
	}
	return out
}

// succeeds reports whether b could have replaced the ended value a: it
// started after a started and outlived it (or is current when a is not,
// for values without timestamps).
func succeeds(b, a Interval) bool {
	if a.FirstSeen.IsZero() || b.FirstSeen.IsZero() || a.LastSeen.IsZero() || b.LastSeen.IsZero() {
		return b.Current && !a.Current
	}
	if !b.FirstSeen.After(a.FirstSeen) {
		return false
	}
	return b.Current || b.LastSeen.After(a.LastSeen)
}

// moveFacts gives one moved fact per (name, type): its latest move, all
// values that moved at that time together ("NS a, b -> c"). Older moves
// stay in the timeline; as facts they would only repeat history in every
// drift report (a CDN name rotating addresses would fill it).
func moveFacts(ix *index) []schema.Fact {
	var facts []schema.Fact
	for _, tl := range timeline(ix) {
		latest := map[string]time.Time{}
		for _, m := range tl.Moves {
			if m.At.After(latest[m.Type]) || latest[m.Type].IsZero() {
				latest[m.Type] = m.At
			}
		}
		from, to := map[string][]string{}, map[string][]string{}
		var evidence = map[string][]string{}
		for _, m := range tl.Moves {
			if !m.At.Equal(latest[m.Type]) {
				continue
			}
			from[m.Type] = appendNew(from[m.Type], m.From)
			to[m.Type] = appendNew(to[m.Type], m.To)
			evidence[m.Type] = append(evidence[m.Type], tl.Name+" "+m.Type+" "+m.From, tl.Name+" "+m.Type+" "+m.To)
		}
		for t := range from {
			sort.Strings(from[t])
			sort.Strings(to[t])
			value := Move{Type: t, From: strings.Join(from[t], ", "), To: strings.Join(to[t], ", ")}.String()
			facts = append(facts, schema.Fact{Subject: tl.Name, Kind: "moved", Value: value, Evidence: evidence[t]})
		}
	}
	return facts
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
