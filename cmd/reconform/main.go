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

// run dispatches args to a verb and returns the exit code.
func run(ctx context.Context, env *Env, args []string) int {
	if env.Logger == nil {
		env.Logger = hclog.NewNullLogger()
	}
	if len(args) == 0 {
		printUsage(env.Stderr)
		return exitError
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprintln(env.Stdout, strings.TrimSpace(c.Usage))
				return exitOK
			}
		}
		printUsage(env.Stdout)
		return exitOK
	case "-v", "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "Error: unknown command %q.\n\n", name)
		printUsage(env.Stderr)
		return exitError
	}
	if !c.OwnsInterrupts {
		var stop func()
		ctx, stop = watchCommandInterrupts(ctx, env)
		defer stop()
	}
	return c.Run(ctx, env, args[1:])
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: reconform [-version] [-help] <command> [args]

reconform runs passive DNS reconnaissance described as code: engagements in
HCL, a reviewable plan, rate-limited runs, a state file and drift reports.

Commands:
`)
	var names []string
	for n, c := range commands {
		if !c.Hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, commands[n].Synopsis)
	}
	fmt.Fprint(w, "\nRun \"reconform <command> -help\" for a command's flags.\n")
}

// newFlagSet makes a flag set for a verb whose -help prints the verb's
// usage to stdout. Parse errors are printed to stderr.
func newFlagSet(env *Env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprintln(env.Stdout, strings.TrimSpace(c.Usage)) }
	return fs
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
