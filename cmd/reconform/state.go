package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/version"
)

func init() {
	register(&command{
		Name:     "state",
		Synopsis: "List, show and remove findings in the state",
		Usage: `Usage: reconform state <subcommand> [options] [args]

  Reads and edits the engagement's state file.

Subcommands:
  list [-type T] [-name GLOB] [-current|-historical] [-unverified] [DIR]
      Print the identity of every finding ("name TYPE value"), one a line.
  show [-json] ID
      Print everything the state knows about a finding. ID is the full
      identity ("www.acme.example A 203.0.113.10"), "name TYPE" or a name.
  rm [-lock=false] [-lock-timeout=D] ID [ID...]
      Remove findings. Writes a new serial; the previous state is kept in
      .reconform/history. Give each ID quoted, or one ID as separate words.

Options (every subcommand):
  -chdir=DIR    The engagement folder (default: the current directory).
  -state=PATH   The state file (default: the engagement's state).`,
		Run: runState,
	})
	register(&command{
		Name:     "force-unlock",
		Synopsis: "Release a state lock left behind by a crashed run",
		Usage: `Usage: reconform force-unlock [options] ID

  Removes the state lock with the given ID. Use it only when no run holds
  the lock: a run killed before it could release it. The ID is printed in
  the error of the run that found the state locked. The ID must match, so
  a lock taken since then is never removed.

Options:
  -force        Do not ask for confirmation.
  -chdir=DIR    The engagement folder (default: the current directory).
  -state=PATH   The state file (default: the engagement's state).`,
		Run: runForceUnlock,
	})
}

func runState(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, strings.TrimSpace(commands["state"].Usage))
		return exitError
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stdout, strings.TrimSpace(commands["state"].Usage))
		return exitOK
	case "list", "show":
		// Read-only: on an interrupt the reading is abandoned at once and
		// its output cut.
		sub := *env
		sub.Stdout = newCutWriter(ctx, env.Stdout)
		code := exitOK
		interruptible(ctx, func() error {
			if args[0] == "list" {
				code = runStateList(&sub, args[1:])
			} else {
				code = runStateShow(&sub, args[1:])
			}
			return nil
		})
		if interrupted(ctx, env) {
			return exitInterrupted
		}
		return code
	case "rm":
		return runStateRm(ctx, env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "Error: unknown state subcommand %q; use list, show or rm.\n", args[0])
	return exitError
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// noStateError says there is no state file at path yet, and how to make one.
func noStateError(env *Env, path string) error {
	return fmt.Errorf("there is no state at %s yet; run reconform apply first", displayPath(env, path))
}

// readCurrent reads the engagement's current state; an error when none.
func readCurrent(env *Env, loc *stateLocator) (state.Store, *state.State, error) {
	store, err := loc.store(env)
	if err != nil {
		return store, nil, err
	}
	st, err := store.Read()
	if err != nil {
		return store, nil, err
	}
	if st == nil {
		return store, nil, noStateError(env, store.Path)
	}
	return store, st, nil
}

func runStateList(env *Env, args []string) int {
	fs := newFlagSet(env, commands["state"])
	typ := fs.String("type", "", "")
	nameGlob := fs.String("name", "", "")
	onlyCurrent := fs.Bool("current", false, "")
	onlyHistorical := fs.Bool("historical", false, "")
	onlyUnverified := fs.Bool("unverified", false, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	rest, err := takeDirArg(env, &loc, positional)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("state list takes no arguments but the engagement folder, got %q", rest[0])
		if _, serr := os.Stat(resolvePath(env, rest[0])); serr != nil {
			err = fmt.Errorf("there is no folder %s (state list takes the engagement folder)", rest[0])
		}
	}
	var st *state.State
	if err == nil {
		_, st, err = readCurrent(env, &loc)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	w := bufio.NewWriter(env.Stdout)
	for i := range st.Findings {
		f := &st.Findings[i]
		if *typ != "" && !strings.EqualFold(*typ, f.Type) {
			continue
		}
		if *nameGlob != "" {
			if ok, _ := filepath.Match(strings.ToLower(*nameGlob), f.Name); !ok {
				continue
			}
		}
		if (*onlyCurrent && !f.IsCurrent()) || (*onlyHistorical && f.IsCurrent()) || (*onlyUnverified && f.Unverified == "") {
			continue
		}
		fmt.Fprintln(w, strings.TrimRight(f.ID(), " "))
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	return exitOK
}

// findingIDs turns arguments into identities: each argument with a space
// is one identity; otherwise all the arguments are the words of one.
func findingIDs(args []string) []string {
	if len(args) > 1 {
		all := true
		for _, a := range args {
			if !strings.Contains(strings.TrimSpace(a), " ") {
				all = false
			}
		}
		if all {
			return args
		}
	}
	return []string{strings.Join(args, " ")}
}

// normalizeID normalises a user-typed identity like a finding's.
func normalizeID(id string) string {
	parts := strings.SplitN(strings.TrimSpace(id), " ", 3)
	switch len(parts) {
	case 1:
		return strings.ToLower(strings.TrimSuffix(parts[0], "."))
	case 2:
		return strings.ToLower(strings.TrimSuffix(parts[0], ".")) + " " + strings.ToUpper(parts[1])
	}
	return strings.ToLower(strings.TrimSuffix(parts[0], ".")) + " " + strings.ToUpper(parts[1]) + " " + strings.TrimSpace(parts[2])
}

// matchFindings returns the findings an ID names: the exact identity, or
// every finding of a "name TYPE" or a name.
func matchFindings(st *state.State, id string) []*state.Finding {
	id = normalizeID(id)
	if f := st.FindingByID(id); f != nil {
		return []*state.Finding{f}
	}
	var out []*state.Finding
	for i := range st.Findings {
		f := &st.Findings[i]
		if f.Name == id || f.Name+" "+f.Type == id {
			out = append(out, f)
		}
	}
	return out
}

func runStateShow(env *Env, args []string) int {
	fs := newFlagSet(env, commands["state"])
	asJSON := fs.Bool("json", false, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	if len(positional) == 0 {
		fmt.Fprintln(env.Stderr, "Error: state show needs a finding ID, as printed by reconform state list.")
		return exitError
	}
	_, st, err := readCurrent(env, &loc)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	var found []*state.Finding
	for _, id := range findingIDs(positional) {
		m := matchFindings(st, id)
		if len(m) == 0 {
			fmt.Fprintf(env.Stderr, "Error: no finding %q in the state; see reconform state list.\n", id)
			return exitError
		}
		found = append(found, m...)
	}
	if *asJSON {
		out := make([]any, len(found))
		for i, f := range found {
			out[i] = state.FindingJSON(f)
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		return exitOK
	}
	for i, f := range found {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		printFinding(env, f)
	}
	return exitOK
}

func printFinding(env *Env, f *state.Finding) {
	w := env.Stdout
	fmt.Fprintf(w, "# %s\n", strings.TrimRight(f.ID(), " "))
	row := func(k, v string) { fmt.Fprintf(w, "%-16s = %s\n", k, v) }
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	list := func(ss []string) string {
		if len(ss) == 0 {
			return "[]"
		}
		parts := make([]string, len(ss))
		for i, s := range ss {
			parts[i] = q(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "(unknown)"
		}
		return t.UTC().Format(time.RFC3339)
	}
	row("name", q(f.Name))
	row("type", q(f.Type))
	row("value", q(f.Value))
	row("currency", q(string(f.Currency)))
	row("first_seen", ts(f.FirstSeen))
	row("last_seen", ts(f.LastSeen))
	row("count", fmt.Sprint(f.Count))
	row("sources", list(f.Sources))
	row("block", q(f.Block))
	row("query", q(f.Query))
	row("depth", fmt.Sprint(f.Depth))
	row("instances", list(f.Instances))
	if f.Active {
		row("active", "true")
	}
	if f.Unverified != "" {
		row("unverified", q(f.Unverified))
		row("unverified_since", ts(f.UnverifiedSince))
	}
}

func runStateRm(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["state"])
	lock := fs.Bool("lock", true, "")
	lockTimeout := fs.Duration("lock-timeout", 0, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	if len(positional) == 0 {
		fmt.Fprintln(env.Stderr, "Error: state rm needs the ID of a finding, as printed by reconform state list.")
		return exitError
	}
	store, err := loc.store(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if *lock {
		l, err := store.AcquireLock(ctx, "state rm", version.Version, *lockTimeout)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		defer l.Unlock()
	}
	prev, err := store.Read()
	if err == nil && prev == nil {
		err = fmt.Errorf("there is no state at %s yet", displayPath(env, store.Path))
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	// Work on a copy: prev must stay what is on disk for Write.
	next, err := copyState(prev)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	var removed []string
	for _, id := range findingIDs(positional) {
		nid := normalizeID(id)
		if !next.Remove(nid) {
			fmt.Fprintf(env.Stderr, "Error: no finding %q in the state (state rm needs the full identity: name TYPE value); nothing was removed.\n", id)
			return exitError
		}
		removed = append(removed, nid)
	}
	if _, err := store.Write(prev, next); err != nil {
		fmt.Fprintf(env.Stderr, "Error: writing the state: %v\nThe state is unchanged.\n", err)
		return exitError
	}
	for _, id := range removed {
		fmt.Fprintf(env.Stdout, "Removed %s\n", strings.TrimRight(id, " "))
	}
	fmt.Fprintf(env.Stdout, "State saved (serial %d); serial %d is kept in %s.\n", next.Serial, prev.Serial,
		displayPath(env, filepath.Join(store.HistoryDir(), state.HistoryName(prev.Serial, prev.Lineage))))
	return exitOK
}

// copyState deep-copies a state by encoding it.
func copyState(s *state.State) (*state.State, error) {
	var b strings.Builder
	if err := state.Encode(&b, s); err != nil {
		return nil, err
	}
	return state.Decode(strings.NewReader(b.String()))
}

func runForceUnlock(_ context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["force-unlock"])
	force := fs.Bool("force", false, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	if len(positional) != 1 {
		fmt.Fprintln(env.Stderr, "Error: force-unlock needs exactly one lock ID.")
		return exitError
	}
	id := positional[0]
	store, err := loc.store(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	info, err := store.ReadLock()
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if info == nil {
		fmt.Fprintf(env.Stderr, "Error: the state %s is not locked.\n", displayPath(env, store.Path))
		return exitError
	}
	if info.ID != id && info.ID != "(unreadable lock file)" {
		fmt.Fprintf(env.Stderr, "Error: the lock on %s has ID %s, not %s; nothing was removed.\n", displayPath(env, store.Path), info.ID, id)
		return exitError
	}
	if !*force && !env.StdinTerminal {
		fmt.Fprintln(env.Stderr, "Error: force-unlock asks for confirmation and its input is not a terminal; add -force to remove the lock without asking.")
		return exitError
	}
	if !*force {
		fmt.Fprintf(env.Stdout, "The state %s is locked:\n  ID:        %s\n  Who:       %s\n  Operation: %s\n  Created:   %s\n\n",
			displayPath(env, store.Path), info.ID, info.Who, info.Operation, info.Created.UTC().Format(time.RFC3339))
		fmt.Fprint(env.Stdout, "Removing a lock that a running apply holds lets two runs write one state.\nOnly 'yes' will be accepted to confirm: ")
		answer, _ := bufio.NewReader(env.Stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			fmt.Fprintln(env.Stdout, "\nforce-unlock cancelled.")
			return exitError
		}
	}
	if err := store.ForceUnlock(id); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	fmt.Fprintf(env.Stdout, "The state %s is unlocked.\n", displayPath(env, store.Path))
	return exitOK
}
