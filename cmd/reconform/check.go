package main

import (
	"context"
	"fmt"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/check"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
)

func init() {
	register(&command{
		Name:     "check",
		Synopsis: "Evaluate the check blocks on the saved state, without a request",
		Usage: `Usage: reconform check [options] [DIR]

  Evaluates the engagement's check blocks on the saved state and its drift
  from the state before it (as the last apply saw them), and prints each
  result. No query is sent and nothing is written: change a check, then
  run reconform check to see what it says about the state you have.

Exit codes: 0 every check of severity "error" passed, 1 error (no state,
the engagement does not load), 3 a check of severity "error" failed or
could not be evaluated. Warnings never change the exit code.

Options:
  -json               Print a JSON document: {"checks": [...], "failed",
                      "serial", "summary": {"pass", "fail", "error"}}.
  -no-color           No terminal colours.
  -var 'name=value'   Set a variable; repeatable.
  -var-file=FILE      Set variables from an HCL file; repeatable.`,
		Run:  runCheck,
		JSON: true,
	})
}

func runCheck(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["check"])
	asJSON := fs.Bool("json", false, "")
	noColor := fs.Bool("no-color", false, "")
	var vf varFlags
	vf.register(fs)
	dir, done, code := parseFolderArgs(env, fs, args)
	if done {
		return code
	}
	cfg, ok := loadEngagement(env, dir, vf.Vars, vf.VarFiles, *noColor)
	if !ok {
		return exitError
	}
	b, err := openBackend(ctx, env, cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer b.Close()
	cur, err := b.Read(ctx)
	if err == nil && cur == nil {
		err = noStateError(env, b.Location())
	}
	var prev *state.State
	if err == nil {
		prev, err = backend.Previous(ctx, b, cur)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	results := check.Evaluate(cfg, cur, diff.Compare(prev, cur, cfg.Engagement.Ignore))
	failed := check.Failed(results)
	if *asJSON {
		p, f, e := check.Counts(results)
		list := make([]any, len(results))
		for i := range results {
			list[i] = state.CheckJSON(&results[i])
		}
		writeIndented(env.Stdout, map[string]any{
			"format_version": jsonFormatVersion, "checks": list, "failed": failed, "serial": cur.Serial,
			"summary": map[string]int{"pass": p, "fail": f, "error": e},
		})
	} else if len(results) == 0 {
		fmt.Fprintln(env.Stdout, "The engagement declares no check blocks.")
	} else {
		check.Text(env.Stdout, results, check.TextOptions{Color: useColor(env, *noColor)})
	}
	if failed {
		return exitCheckFailed
	}
	return exitOK
}
