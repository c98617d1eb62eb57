package main

import (
	"context"
	"fmt"

	"github.com/reconform/reconform/engine"
)

func init() {
	register(&command{
		Name:     "graph",
		Synopsis: "Print the block graph in Graphviz DOT",
		Usage: `Usage: reconform graph [options] [DIR]

  Prints the engagement's block graph in DOT: one node per query (box) and
  pivot (ellipse), labelled with its providers and op, and an edge in the
  direction findings flow. A dashed loop marks a pivot that applies to its
  own findings. Render it with: reconform graph | dot -Tsvg > graph.svg

Options:
  -no-color           Print diagnostics without terminal colours.
  -var 'name=value'   Set a variable; repeatable.
  -var-file=FILE      Set variables from an HCL file; repeatable.`,
		Run: runGraph,
	})
}

func runGraph(_ context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["graph"])
	noColor := fs.Bool("no-color", false, "")
	var vf varFlags
	vf.register(fs)
	dir, done, code := parseFolderArgs(env, fs, args)
	if done {
		return code
	}
	cfg, diags := loadConfig(env, dir, vf.Vars, vf.VarFiles)
	if diags.HasErrors() || cfg == nil {
		printDiags(env, diags, filesOf(cfg), *noColor)
		return exitError
	}
	g, gdiags := engine.BuildGraph(cfg)
	diags = append(diags, gdiags...)
	printDiags(env, diags, cfg.Files, *noColor)
	if diags.HasErrors() {
		return exitError
	}
	fmt.Fprint(env.Stdout, g.DOT(cfg))
	return exitOK
}
