package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "console",
		Synopsis: "Evaluate expressions against the engagement and its state",
		Usage: `Usage: reconform console [options] [DIR]

  Evaluates expressions as the engagement's own do, against its
  configuration and its current state: var.NAME, local.NAME,
  target.KIND.NAME, query.NAME.findings and pivot.NAME.findings (the
  findings the state holds for each block), facts (the derived facts),
  module.NAME.OUTPUT, and every function, in_scope() included. Sensitive
  values print as (sensitive value); findings of an engagement that has no
  state yet are (known after apply).

  On a terminal it prompts with "> "; otherwise it reads one expression a
  line from standard input, as in

    echo 'length(query.history.findings)' | reconform console

  An expression may run over several lines while brackets are open.
  "exit" or the end of input stops. The state is only read, never locked
  or written. Exit status: 0, or 1 when reading from standard input and
  an expression failed.

Options:
  -state=PATH         The state file (default: the engagement's state).
  -var 'name=value'   Set a variable; repeatable.
  -var-file=FILE      Set variables from an HCL file; repeatable.
  -no-color           No terminal colours.`,
		Run: runConsole,
	})
}

func runConsole(cctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["console"])
	noColor := fs.Bool("no-color", false, "")
	statePath := fs.String("state", "", "")
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
	var b backend.Backend = backend.NewLocal(resolveIf(env, *statePath), "")
	if *statePath == "" {
		var err error
		if b, err = openBackend(cctx, env, cfg); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
	}
	st, err := b.Read(cctx)
	b.Close()
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	ctx := consoleContext(cfg, st)

	interactive := env.StdinTerminal
	in := bufio.NewScanner(env.Stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	failed := false
	n := 0
	for {
		src, ok := readExpression(env, in, interactive)
		if !ok {
			break
		}
		text := strings.TrimSpace(src)
		if text == "" {
			continue
		}
		if text == "exit" {
			break
		}
		n++
		out, diags := evalConsole(ctx, src, n)
		if diags.HasErrors() {
			failed = true
			files := map[string]*hcl.File{consoleFile(n): {Bytes: []byte(src)}}
			printDiags(env, diags, files, *noColor)
			continue
		}
		fmt.Fprintln(env.Stdout, out)
	}
	if interactive {
		fmt.Fprintln(env.Stdout)
	}
	if failed && !interactive {
		return exitError
	}
	return exitOK
}

// consoleContext is the root module's context over the state's findings:
// a block the state holds nothing for has no findings; without a state,
// findings are not known yet.
func consoleContext(cfg *schema.Config, st *state.State) *hcl.EvalContext {
	if st == nil {
		return cfg.ConsoleContext(nil, nil)
	}
	findings := st.FindingsByBlock()
	for addr := range cfg.Queries {
		if _, ok := findings[addr]; !ok {
			findings[addr] = nil
		}
	}
	for addr := range cfg.Pivots {
		if _, ok := findings[addr]; !ok {
			findings[addr] = nil
		}
	}
	return cfg.ConsoleContext(findings, st.Facts)
}

func consoleFile(n int) string { return fmt.Sprintf("<console-input-%d>", n) }

// evalConsole parses and evaluates one expression.
func evalConsole(ctx *hcl.EvalContext, src string, n int) (string, hcl.Diagnostics) {
	expr, diags := hclsyntax.ParseExpression([]byte(src), consoleFile(n), hcl.InitialPos)
	if diags.HasErrors() {
		return "", diags
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return "", diags
	}
	return formatValue(v, ""), diags
}

// readExpression reads lines until the brackets they open are closed.
func readExpression(env *Env, in *bufio.Scanner, prompt bool) (string, bool) {
	var b strings.Builder
	depth := 0
	for {
		if prompt {
			if depth > 0 {
				fmt.Fprint(env.Stdout, "... ")
			} else {
				fmt.Fprint(env.Stdout, "> ")
			}
		}
		if !in.Scan() {
			return b.String(), b.Len() > 0
		}
		line := in.Text()
		b.WriteString(line)
		b.WriteByte('\n')
		depth += bracketDepth(line)
		if depth <= 0 {
			return b.String(), true
		}
	}
}

// bracketDepth is how many brackets a line opens minus those it closes,
// outside quoted strings.
func bracketDepth(line string) int {
	depth := 0
	inString := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == '#':
			return depth
		}
	}
	return depth
}
