package main

import (
	"context"
	"fmt"

	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "validate",
		Synopsis: "Check an engagement's configuration for errors",
		Usage: `Usage: reconform validate [options] [DIR]

  Loads the engagement in DIR (default: the current directory) and reports
  every problem at once: unknown blocks and arguments, undeclared
  references, operations a provider does not answer, cycles between
  queries, unbounded pivots, active providers in a passive engagement,
  malformed names, addresses, rates and durations, missing variables.
  Nothing is sent to any provider.

  Exits 0 when the configuration is valid, 1 when it is not.

Options:
  -json               Print the result as JSON (like terraform validate -json).
  -no-color           Print diagnostics without terminal colours.
  -var 'name=value'   Set a variable; repeatable. Values of list, map and
                      object variables are HCL expressions: -var 'x=["a"]'.
  -var-file=FILE      Set variables from an HCL file (JSON when it ends in
                      .json); repeatable. -var wins over -var-file, and a
                      later one over an earlier one.

  Variables are also read from RECONFORM_VAR_<name> environment variables.`,
		Run:  runValidate,
		JSON: true,
	})
}

func runValidate(_ context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["validate"])
	asJSON := fs.Bool("json", false, "")
	noColor := fs.Bool("no-color", false, "")
	var vf varFlags
	vf.register(fs)
	dir, done, code := parseFolderArgs(env, fs, args)
	if done {
		return code
	}
	cfg, diags := loadConfig(env, dir, vf.Vars, vf.VarFiles)
	files := filesOf(cfg)
	if *asJSON {
		if err := schema.WriteDiagnosticsJSON(env.Stdout, diags, files); err != nil {
			fmt.Fprintln(env.Stderr, "Error:", err)
			return exitError
		}
		if diags.HasErrors() {
			return exitError
		}
		return exitOK
	}
	if diags.HasErrors() {
		printDiags(env, diags, files, *noColor)
		return exitError
	}
	if len(diags) > 0 {
		printDiags(env, diags, files, *noColor)
		fmt.Fprintln(env.Stdout, "Success! The configuration is valid, but there were some validation warnings as shown above.")
		return exitOK
	}
	fmt.Fprintln(env.Stdout, "Success! The configuration is valid.")
	return exitOK
}
