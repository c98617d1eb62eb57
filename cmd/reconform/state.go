package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/backend"
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
      the history. Give each ID quoted, or one ID as separate words.
  pull [DIR]
      Print the current state as JSON (the state file's canonical form,
      whichever backend holds it).
  push [-force] [-lock=false] [-lock-timeout=D] FILE
      Replace the current state with FILE (a state file: one saved by
      "state pull", or the rescue file of a run whose backend was
      unreachable). Refused when FILE's lineage differs from the current
      state's, or its serial is older, unless -force.

Options (every subcommand):
  -chdir=DIR    The engagement folder (default: the current directory).
  -state=PATH   The state file (default: the engagement's state).`,
		Run:  runState,
		JSON: true,
	})
	register(&command{
		Name:     "force-unlock",
		Synopsis: "Release a state lock left behind by a crashed run",
		Usage: `Usage: reconform force-unlock [options] [DIR] ID

  Removes the state lock with the given ID. A run that ends, even killed,
  releases its lock by itself (the operating system or the database ends
  it); force-unlock is for a run that hangs, or a lock file an older
  reconform left. The ID is printed in the error of the run that found the
  state locked, with the command to run. The ID must match, so a lock
  taken since then is never removed. DIR is the engagement folder.

Options:
  -force        Do not ask for confirmation.
  -chdir=DIR    The engagement folder (default: the current directory).
  -state=PATH   The state file (default: the engagement's state).`,
		Run: runForceUnlock,
	})
}

func runState(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		return usageError(env, commands["state"], "state needs a subcommand: list, show, rm, pull or push.")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stdout, strings.TrimSpace(commands["state"].Usage))
		return exitOK
	case "list", "show", "pull":
		// Read-only: on an interrupt the reading is abandoned at once and
		// its output cut.
		sub := *env
		sub.Stdout = newCutWriter(ctx, env.Stdout)
		code := exitOK
		interruptible(ctx, func() error {
			switch args[0] {
			case "list":
				code = runStateList(ctx, &sub, args[1:])
			case "show":
				code = runStateShow(ctx, &sub, args[1:])
			default:
				code = runStatePull(ctx, &sub, args[1:])
			}
			return nil
		})
		if interrupted(ctx, env) {
			return exitInterrupted
		}
		return code
	case "rm":
		return runStateRm(ctx, env, args[1:])
	case "push":
		return runStatePush(ctx, env, args[1:])
	}
	msg := fmt.Sprintf("unknown state subcommand %q", args[0])
	if s := didYouMean(args[0], []string{"list", "show", "rm", "pull", "push"}); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return usageError(env, commands["state"], "%s; use list, show, rm, pull or push.", msg)
}

// noStateError says there is no state at where yet, and how to make one.
func noStateError(env *Env, where string) error {
	shown := displayPath(env, where)
	apply := hintCommand(env, "apply")
	if filepath.IsAbs(where) || shown != where {
		// A local state file: its folder is the engagement's (or the
		// engagement names another file, which apply finds anyway).
		apply = hintCommand(env, "apply", folderArg(env, filepath.Dir(where)))
	}
	return fmt.Errorf("there is no state at %s yet; run %s first", shown, apply)
}

// readCurrent reads the engagement's current state; an error when none.
func readCurrent(ctx context.Context, env *Env, loc *stateLocator) (*state.State, error) {
	b, err := loc.open(ctx, env)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	st, err := b.Read(ctx)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, noStateError(env, b.Location())
	}
	return st, nil
}

func runStateList(ctx context.Context, env *Env, args []string) int {
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
		st, err = readCurrent(ctx, env, &loc)
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

func runStateShow(ctx context.Context, env *Env, args []string) int {
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
	st, err := readCurrent(ctx, env, &loc)
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
		if err := enc.Encode(map[string]any{"format_version": jsonFormatVersion, "findings": out}); err != nil {
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

// lockedSession opens the located backend and a session on it, locked
// unless lock is false; Ctrl-C ends the wait for the lock.
func lockedSession(ctx context.Context, env *Env, loc *stateLocator, lock bool, timeout time.Duration, operation string) (backend.Backend, backend.Session, error) {
	b, err := loc.open(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	wctx, stop := lockWaitContext(ctx, env, false)
	sess, err := b.Open(wctx, backend.OpenOptions{Lock: lock, Operation: operation, Version: version.Version, Timeout: timeout})
	stop()
	if err != nil {
		b.Close()
		dir := loc.dir(env)
		if loc.StatePath != "" {
			dir = ""
		}
		return nil, nil, withUnlockHint(env, lockWaitError(err), dir, resolveIf(env, loc.StatePath))
	}
	return b, sess, nil
}

// resolveIf is resolvePath for a path that may be empty.
func resolveIf(env *Env, p string) string {
	if p == "" {
		return ""
	}
	return resolvePath(env, p)
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
	b, sess, err := lockedSession(ctx, env, &loc, *lock, *lockTimeout, "state rm")
	if err != nil {
		return openFailed(env, err)
	}
	defer b.Close()
	defer sess.Close()
	prev := sess.Previous()
	if prev == nil {
		fmt.Fprintf(env.Stderr, "Error: there is no state at %s yet\n", displayPath(env, b.Location()))
		return exitError
	}
	// Work on a copy: prev must stay what was read for the commit.
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
	if _, err := sess.Commit(ctx, backend.Commit{State: next}); err != nil {
		fmt.Fprintf(env.Stderr, "Error: writing the state: %v\nThe state is unchanged.\n", err)
		return exitError
	}
	for _, id := range removed {
		fmt.Fprintf(env.Stdout, "Removed %s\n", strings.TrimRight(id, " "))
	}
	kept := "the history"
	if l, ok := b.(*backend.Local); ok {
		kept = displayPath(env, filepath.Join(l.Store.HistoryDir(), state.HistoryName(prev.Serial, prev.Lineage)))
	}
	fmt.Fprintf(env.Stdout, "State saved (serial %d); serial %d is kept in %s.\n", next.Serial, prev.Serial, kept)
	return exitOK
}

func runStatePull(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["state"])
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	rest, err := takeDirArg(env, &loc, positional)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("state pull takes no arguments but the engagement folder, got %q", rest[0])
	}
	var st *state.State
	if err == nil {
		st, err = readCurrent(ctx, env, &loc)
	}
	if err == nil {
		err = state.Encode(env.Stdout, st)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	return exitOK
}

func runStatePush(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["state"])
	force := fs.Bool("force", false, "")
	lock := fs.Bool("lock", true, "")
	lockTimeout := fs.Duration("lock-timeout", 0, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	var files []string
	for _, p := range positional {
		// A folder names the engagement; a file is the state to push.
		if fi, err := os.Stat(resolvePath(env, p)); err == nil && fi.IsDir() {
			if _, err := takeDirArg(env, &loc, []string{p}); err != nil {
				return fail(err)
			}
			continue
		}
		files = append(files, p)
	}
	if len(files) != 1 {
		return fail(errors.New("state push needs exactly one state file (\"-\" reads standard input)"))
	}
	var pushed *state.State
	var err error
	if files[0] == "-" {
		pushed, err = state.Decode(env.Stdin)
	} else {
		pushed, err = state.ReadFile(resolvePath(env, files[0]))
	}
	if err != nil {
		return fail(fmt.Errorf("reading %s: %w", files[0], err))
	}
	b, sess, err := lockedSession(ctx, env, &loc, *lock, *lockTimeout, "state push")
	if err != nil {
		return openFailed(env, err)
	}
	defer b.Close()
	defer sess.Close()
	cur := sess.Previous()
	next, err := pushPlan(cur, pushed, *force)
	if err != nil {
		return fail(fmt.Errorf("%v; nothing was pushed to %s", err, displayPath(env, b.Location())))
	}
	if next == nil {
		fmt.Fprintf(env.Stdout, "The state at %s is already serial %d of this lineage, with the same content; nothing to push.\n", displayPath(env, b.Location()), cur.Serial)
		return exitOK
	}
	res, err := sess.Commit(ctx, backend.Commit{State: next, Exact: true})
	if err != nil {
		return fail(fmt.Errorf("writing the state: %w; the state is unchanged", err))
	}
	if !res.Written {
		fmt.Fprintf(env.Stdout, "The state at %s already has this content (serial %d); nothing was written.\n", displayPath(env, b.Location()), res.Serial)
		return exitOK
	}
	fmt.Fprintf(env.Stdout, "Pushed %s to %s: serial %d of lineage %s.\n", files[0], displayPath(env, b.Location()), res.Serial, res.Lineage)
	return exitOK
}

// pushPlan checks a pushed state against the current one (nil: none) and
// returns what to write with its serial and lineage, or nil when the
// current state is already it. Without force, the lineage must be the
// current one's and the serial newer (the same serial is accepted only
// with the same content).
func pushPlan(cur, pushed *state.State, force bool) (*state.State, error) {
	next, err := copyState(pushed)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return next, nil
	}
	if force {
		// The pushed content wins, and history keeps the state it replaces:
		// the serial moves on past the current one.
		if next.Lineage == "" {
			next.Lineage = cur.Lineage
		}
		next.Serial = max(next.Serial, cur.Serial+1)
		return next, nil
	}
	switch {
	case pushed.Lineage != cur.Lineage:
		return nil, fmt.Errorf("the pushed state has lineage %q, the current state %q: they are different states (-force replaces it anyway; the current state is kept in history)", pushed.Lineage, cur.Lineage)
	case pushed.Serial < cur.Serial:
		return nil, fmt.Errorf("the pushed state has serial %d, older than the current serial %d (-force replaces it anyway)", pushed.Serial, cur.Serial)
	case pushed.Serial == cur.Serial:
		same, err := sameContent(cur, pushed)
		if err != nil {
			return nil, err
		}
		if same {
			return nil, nil
		}
		return nil, fmt.Errorf("the pushed state and the current state are both serial %d but differ: another run wrote that serial since (compare them with reconform state pull; -force replaces it anyway)", cur.Serial)
	}
	return next, nil
}

// sameContent reports whether two states encode to the same bytes.
func sameContent(a, b *state.State) (bool, error) {
	var ba, bb strings.Builder
	if err := state.Encode(&ba, a); err != nil {
		return false, err
	}
	if err := state.Encode(&bb, b); err != nil {
		return false, err
	}
	return ba.String() == bb.String(), nil
}

// copyState deep-copies a state by encoding it.
func copyState(s *state.State) (*state.State, error) {
	var b strings.Builder
	if err := state.Encode(&b, s); err != nil {
		return nil, err
	}
	return state.Decode(strings.NewReader(b.String()))
}

func runForceUnlock(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["force-unlock"])
	force := fs.Bool("force", false, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	rest, err := takeDirArg(env, &loc, positional)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v.\n", err)
		return exitError
	}
	if len(rest) != 1 {
		fmt.Fprintln(env.Stderr, "Error: force-unlock needs exactly one lock ID (and, from another folder, the engagement folder: reconform force-unlock -chdir=DIR ID).")
		return exitError
	}
	id := rest[0]
	b, err := loc.open(ctx, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer b.Close()
	where := displayPath(env, b.Location())
	info, err := b.LockHolder(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if info == nil {
		// A lock file left by a run that ended blocks nothing; remove it
		// quietly when it is the one named.
		b.ForceUnlock(ctx, id)
		fmt.Fprintf(env.Stderr, "Error: the state %s is not locked (a run that ends, even killed, releases its lock).\n", where)
		return exitError
	}
	if info.ID != id {
		fmt.Fprintf(env.Stderr, "Error: the lock on %s has ID %s, not %s; nothing was removed.\n", where, info.ID, id)
		return exitError
	}
	if !*force && !env.StdinTerminal {
		fmt.Fprintln(env.Stderr, "Error: force-unlock asks for confirmation and its input is not a terminal; add -force to remove the lock without asking.")
		return exitError
	}
	if !*force {
		fmt.Fprintf(env.Stdout, "The state %s is locked:\n  ID:        %s\n  Who:       %s\n  Operation: %s\n  Created:   %s\n\n",
			where, info.ID, info.Who, info.Operation, info.Created.UTC().Format(time.RFC3339))
		fmt.Fprint(env.Stdout, "Removing a lock that a running apply holds lets two runs write one state.\nOnly 'yes' will be accepted to confirm: ")
		answer, _ := bufio.NewReader(env.Stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			fmt.Fprintln(env.Stdout, "\nforce-unlock cancelled.")
			return exitError
		}
	}
	if err := b.ForceUnlock(ctx, id); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	fmt.Fprintf(env.Stdout, "The state %s is unlocked.\n", where)
	return exitOK
}
