package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/state"
)

// historyJSON is one line of state history -json.
type historyJSON struct {
	Serial     uint64     `json:"serial"`
	Lineage    string     `json:"lineage"`
	Time       *time.Time `json:"time,omitempty"`
	Kind       string     `json:"kind"`
	Bytes      int64      `json:"bytes"`
	StateBytes int64      `json:"state_bytes,omitempty"`
	Findings   *int       `json:"findings,omitempty"`
	Added      *int       `json:"added,omitempty"`
	Changed    *int       `json:"changed,omitempty"`
	Removed    *int       `json:"removed,omitempty"`
	Current    bool       `json:"current,omitempty"`
}

// runStateHistory lists the kept states: state history [-json] [DIR].
func runStateHistory(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["state"])
	asJSON := fs.Bool("json", false, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	rest, err := takeDirArg(env, &loc, positional)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("state history takes no arguments but the engagement folder, got %q", rest[0])
	}
	var b backend.Backend
	if err == nil {
		b, err = loc.open(ctx, env)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v.\n", err)
		return exitError
	}
	defer b.Close()
	log, err := b.Log(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: reading the history of %s: %v\n", displayPath(env, b.Location()), err)
		return exitError
	}
	if len(log) == 0 {
		if *asJSON {
			fmt.Fprintln(env.Stdout, `{"entries": [], "bytes": 0}`)
			return exitOK
		}
		fmt.Fprintf(env.Stderr, "Error: %v\n", noStateError(env, b.Location()))
		return exitError
	}
	var total int64
	for _, e := range log {
		total += e.Bytes
	}
	if *asJSON {
		out := struct {
			Entries []historyJSON `json:"entries"`
			Bytes   int64         `json:"bytes"`
		}{Entries: []historyJSON{}, Bytes: total}
		for _, e := range log {
			j := historyJSON{Serial: e.Serial, Lineage: e.Lineage, Kind: e.Kind, Bytes: e.Bytes, StateBytes: e.StateBytes, Current: e.Current}
			if !e.Time.IsZero() {
				t := e.Time.UTC()
				j.Time = &t
			}
			if e.Findings >= 0 {
				n := e.Findings
				j.Findings = &n
			}
			if c := e.Changes; c != nil {
				a, ch, r := c.Added, c.Changed, c.Removed
				j.Added, j.Changed, j.Removed = &a, &ch, &r
			}
			out.Entries = append(out.Entries, j)
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tWRITTEN (UTC)\tKIND\tSIZE\tSTATE\tFINDINGS\tADDED\tCHANGED\tREMOVED")
	dash := func(n int, ok bool) string {
		if !ok {
			return "-"
		}
		return fmt.Sprint(n)
	}
	for _, e := range log {
		when := "-"
		if !e.Time.IsZero() {
			when = e.Time.UTC().Format("2006-01-02 15:04:05")
		}
		kind := e.Kind
		if e.Current {
			kind += " (current)"
		}
		c := e.Changes
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Serial, when, kind, byteSize(e.Bytes), stateSize(e.StateBytes),
			dash(e.Findings, e.Findings >= 0), dash(changeOf(c, 0), c != nil), dash(changeOf(c, 1), c != nil), dash(changeOf(c, 2), c != nil))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	fmt.Fprintf(env.Stdout, "%d states kept in %s, %s in all.\n", len(log), displayPath(env, b.Location()), byteSize(total))
	return exitOK
}

func changeOf(c *state.ChangeCounts, i int) int {
	if c == nil {
		return 0
	}
	return [3]int{c.Added, c.Changed, c.Removed}[i]
}

func stateSize(n int64) string {
	if n <= 0 {
		return "-"
	}
	return byteSize(n)
}

// byteSize prints a size with a binary unit.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
