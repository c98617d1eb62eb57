// Command reconform is a declarative passive DNS reconnaissance runner:
// engagements in HCL, plan, apply, state and drift.
//
// Each verb lives in its own file and registers itself with register; a
// verb parses its flags, calls the packages that do the work, and renders.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/term"
)

// Exit codes every verb uses.
const (
	exitOK    = 0
	exitError = 1
	exitDrift = 2 // apply -detailed-exitcode / plan -detailed-exitcode
	// exitCheckFailed: a check of severity "error" failed (apply, check).
	// It wins over exitDrift; an error (1) wins over it.
	exitCheckFailed = 3
)

// Env is what a verb may touch of the outside world; tests substitute
// buffers and a fixed environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Environ is the process environment as KEY=VALUE strings.
	Environ []string
	// WorkDir is the directory relative paths start from.
	WorkDir string
	// Terminal is true when Stdout is an interactive terminal (progress
	// bars, colour, prompts); StdinTerminal when Stdin is one.
	Terminal, StdinTerminal bool
	Logger                  hclog.Logger
	// Interrupts delivers SIGINT/SIGTERM; nil in tests that send none.
	Interrupts <-chan os.Signal
	// HardExit ends the process at once (a second interrupt); nil in
	// tests.
	HardExit func(code int)
	// Chdir is the global -chdir as the user gave it ("" without one);
	// WorkDir is then that folder. Hints name it (hintCommand).
	Chdir string
	// NoColor is the global -no-color.
	NoColor bool
	// jsonErrors, under -json, collects what the verb reports as
	// diagnostics for the JSON error document (jsonerrors.go).
	jsonErrors *jsonErrorSink
	// flagSetSeen, when set, is given every flag set a verb makes, so
	// that completion can read the flags the verb really defines.
	flagSetSeen func(*flag.FlagSet)
}

// Getenv returns the value of key in env.Environ.
func (e *Env) Getenv(key string) string {
	prefix := key + "="
	for i := len(e.Environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(e.Environ[i], prefix); ok {
			return v
		}
	}
	return ""
}

// command is one verb.
type command struct {
	Name     string
	Synopsis string // one line for the command list
	Usage    string // the full help text, starting with "Usage: reconform ..."
	Run      func(ctx context.Context, env *Env, args []string) int
	Hidden   bool
	// OwnsInterrupts: the verb reads env.Interrupts itself (apply, with
	// its grace period); the others get a ctx that an interrupt cancels.
	OwnsInterrupts bool
	// JSON: the verb takes -json; its errors and diagnostics then come as
	// JSON on stdout (jsonerrors.go).
	JSON bool
}

var commands = map[string]*command{}

// register adds a verb; called from each verb file's init.
func register(c *command) {
	if _, dup := commands[c.Name]; dup {
		panic("duplicate command " + c.Name)
	}
	commands[c.Name] = c
}

func main() {
	env := &Env{
		Stdin:         os.Stdin,
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
		Environ:       os.Environ(),
		Terminal:      term.IsTerminal(int(os.Stdout.Fd())),
		StdinTerminal: term.IsTerminal(int(os.Stdin.Fd())),
	}
	env.WorkDir, _ = os.Getwd()
	logger, closeLog, err := newLogger(env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(exitError)
	}
	env.Logger = logger
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	env.Interrupts = sigs
	env.HardExit = func(code int) {
		closeLog()
		os.Exit(code)
	}
	code := run(context.Background(), env, os.Args[1:])
	closeLog()
	os.Exit(code)
}

// newLogger builds the logger from RECONFORM_LOG (trace, debug, info, warn,
// error, off; default off) writing to stderr or RECONFORM_LOG_PATH.
func newLogger(env *Env) (hclog.Logger, func(), error) {
	levelName := strings.TrimSpace(env.Getenv("RECONFORM_LOG"))
	if levelName == "" {
		return hclog.NewNullLogger(), func() {}, nil
	}
	level := hclog.LevelFromString(levelName)
	if level == hclog.NoLevel {
		return nil, nil, fmt.Errorf("RECONFORM_LOG=%q is not a log level; use trace, debug, info, warn, error or off", levelName)
	}
	var out io.Writer = env.Stderr
	closeFn := func() {}
	if path := env.Getenv("RECONFORM_LOG_PATH"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("opening RECONFORM_LOG_PATH: %w", err)
		}
		out = f
		closeFn = func() { f.Close() }
	}
	return hclog.New(&hclog.LoggerOptions{Name: "reconform", Level: level, Output: out}), closeFn, nil
}

// run dispatches args to a verb and returns the exit code. Global
// options come before the verb, as Terraform's: -chdir=DIR switches to
// DIR first (every relative path, and the default engagement folder ".",
// then mean DIR), -no-color turns colour off for every verb.
func run(ctx context.Context, env *Env, args []string) int {
	if env.Logger == nil {
		env.Logger = hclog.NewNullLogger()
	}
	args, code, done := parseGlobalOptions(env, args)
	if done {
		return code
	}
	if len(args) == 0 {
		printUsage(env.Stderr)
		return exitError
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				return unknownCommand(env, args[1])
			}
			fmt.Fprintln(env.Stdout, strings.TrimSpace(c.Usage))
			return exitOK
		}
		printUsage(env.Stdout)
		return exitOK
	case "-v", "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		return unknownCommand(env, name)
	}
	if !c.OwnsInterrupts {
		var stop func()
		ctx, stop = watchCommandInterrupts(ctx, env)
		defer stop()
	}
	if c.JSON && wantsJSON(args[1:]) {
		return runWithJSONErrors(ctx, env, c, args[1:])
	}
	return c.Run(ctx, env, args[1:])
}

// unknownCommand reports a verb that does not exist, with the nearest
// one when it looks like a typo, and returns exitError.
func unknownCommand(env *Env, name string) int {
	fmt.Fprintf(env.Stderr, "Error: unknown command %q.", name)
	if s := didYouMean(name, verbNames()); s != "" {
		fmt.Fprintf(env.Stderr, " Did you mean %q?", s)
	}
	fmt.Fprint(env.Stderr, "\nRun \"reconform -help\" for the list of commands.\n")
	return exitError
}

// parseGlobalOptions takes the options before the verb: -chdir=DIR (or
// -chdir DIR) and -no-color. A -help or -version stays for run. done is
// true with the exit code when an option was wrong.
func parseGlobalOptions(env *Env, args []string) (rest []string, code int, done bool) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		switch name {
		case "chdir":
			if !hasValue {
				if len(args) < 2 {
					fmt.Fprintln(env.Stderr, "Error: -chdir needs a folder: reconform -chdir=DIR COMMAND.")
					return nil, exitError, true
				}
				value, args = args[1], args[1:]
			}
			dir := resolvePath(env, value)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				fmt.Fprintf(env.Stderr, "Error: -chdir=%s: no such folder.\n", value)
				return nil, exitError, true
			}
			if env.Chdir != "" && !filepath.IsAbs(value) {
				value = filepath.Join(env.Chdir, value)
			}
			env.Chdir, env.WorkDir = value, dir
		case "no-color":
			env.NoColor = true
		case "h", "help", "v", "version":
			return args, exitOK, false
		default:
			fmt.Fprintf(env.Stderr, "Error: unknown global option %s; the global options are -chdir=DIR, -no-color, -help and -version.\n"+
				"Run \"reconform -help\" for the list of commands.\n", args[0])
			return nil, exitError, true
		}
		args = args[1:]
	}
	return args, exitOK, false
}

// verbNames are the visible verbs, sorted.
func verbNames() []string {
	var names []string
	for n, c := range commands {
		if !c.Hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// didYouMean is the candidate closest to name by edit distance, when it is
// close enough to be what the user meant; "" otherwise.
func didYouMean(name string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(name, c)
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > 2 || bestDist >= len(name) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, with a swap of two
// neighbouring letters counted as one edit ("pain" for "plan").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: reconform [global options] <command> [args]

reconform runs passive DNS reconnaissance described as code: engagements in
HCL, a reviewable plan, rate-limited runs, a state file and drift reports.

Commands:
`)
	for _, n := range verbNames() {
		fmt.Fprintf(w, "  %-13s %s\n", n, commands[n].Synopsis)
	}
	fmt.Fprint(w, `
Global options (before the command):
  -chdir=DIR    Switch to DIR before running the command: relative paths,
                and the default engagement folder ".", then mean DIR.
  -no-color     No colour codes in the output (so does NO_COLOR=1).
  -help         This help; "reconform <command> -help" for a command's flags.
  -version      The version of reconform.
`)
}

// newFlagSet makes a flag set for a verb: -help prints the verb's usage
// to stdout; a wrong flag prints the error, the verb's usage line and
// where to find more to stderr (parseFlags).
func newFlagSet(env *Env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	out := &flagErrors{w: env.Stderr}
	fs.SetOutput(out)
	usage := strings.TrimSpace(c.Usage)
	fs.Usage = func() {
		if out.wrote {
			// A parse error was just printed: the usage line and a
			// pointer, on stderr.
			out.wrote = false
			line, _, _ := strings.Cut(usage, "\n")
			fmt.Fprintf(env.Stderr, "%s\nRun \"reconform %s -help\" for its options.\n", line, c.Name)
			return
		}
		fmt.Fprintln(env.Stdout, usage)
	}
	if env.flagSetSeen != nil {
		env.flagSetSeen(fs)
	}
	return fs
}

// flagErrors is a flag set's output: it notes that the flag package
// printed an error, so that the usage it prints next goes to stderr.
type flagErrors struct {
	w     io.Writer
	wrote bool
}

func (f *flagErrors) Write(p []byte) (int, error) {
	f.wrote = true
	if len(p) > 0 && !strings.HasPrefix(string(p), "Error:") {
		// "flag provided but not defined: -x" reads as our other errors.
		io.WriteString(f.w, "Error: ")
	}
	return f.w.Write(p)
}

// usageError prints a verb's usage error to stderr: the message, the
// usage line and where to find more. It returns exitError.
func usageError(env *Env, c *command, format string, args ...any) int {
	fmt.Fprintf(env.Stderr, "Error: "+format+"\n", args...)
	line, _, _ := strings.Cut(strings.TrimSpace(c.Usage), "\n")
	fmt.Fprintf(env.Stderr, "%s\nRun \"reconform %s -help\" for its options.\n", line, c.Name)
	return exitError
}

// parseFlags parses args; it returns done=true with the exit code when the
// verb should stop (help was asked for, or the flags were wrong).
func parseFlags(fs *flag.FlagSet, args []string) (done bool, code int) {
	// -no-color is accepted by every verb, as scripts pass it everywhere;
	// verbs that print no colour ignore it.
	if fs.Lookup("no-color") == nil {
		fs.Bool("no-color", false, "")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return true, exitOK
		}
		return true, exitError
	}
	return false, exitOK
}
