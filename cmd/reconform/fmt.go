package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "fmt",
		Synopsis: "Rewrite configuration files in the canonical format",
		Usage: `Usage: reconform fmt [options] [PATH]

  Rewrites the *.hcl files in PATH (default: the current directory) in the
  canonical layout. PATH may be a folder, a file, or "-" to format standard
  input to standard output. A file with syntax errors is reported and left
  alone. Formatting is idempotent.

  Exits 0 on success; 1 on a syntax error, or with -check when a file is
  not formatted.

Options:
  -check       Change no file; exit 1 when any file needs formatting and
               list those files.
  -diff        Print the changes as a unified diff.
  -list=false  Do not print the names of the files that changed.
  -write=false Do not rewrite files (implied by -check and by "-").
  -recursive   Also format files in subfolders.
  -no-color    Accepted for symmetry with the other verbs; output has no colour.`,
		Run: runFmt,
	})
}

type fmtOptions struct {
	check, diff, list, write, recursive bool
}

func runFmt(_ context.Context, env *Env, args []string) int {
	fset := newFlagSet(env, commands["fmt"])
	var o fmtOptions
	fset.BoolVar(&o.check, "check", false, "")
	fset.BoolVar(&o.diff, "diff", false, "")
	fset.BoolVar(&o.list, "list", true, "")
	fset.BoolVar(&o.write, "write", true, "")
	fset.BoolVar(&o.recursive, "recursive", false, "")
	fset.Bool("no-color", false, "")
	positional, done, code := parseInterleaved(fset, args)
	if done {
		return code
	}
	if len(positional) > 1 {
		fmt.Fprintf(env.Stderr, "Error: fmt takes at most one path, got %d arguments.\n\n", len(positional))
		fset.Usage()
		return exitError
	}
	if o.check {
		o.write = false
	}
	target := "."
	if len(positional) == 1 {
		target = positional[0]
	}
	if target == "-" {
		return fmtStdin(env, o)
	}

	abs := resolvePath(env, target)
	info, err := os.Stat(abs)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: no file or folder %s.\n", target)
		return exitError
	}
	var files []string // as the user names them
	if !info.IsDir() {
		files = []string{target}
	} else {
		found, err := hclFiles(abs, o.recursive)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: reading %s: %s\n", target, err)
			return exitError
		}
		for _, rel := range found {
			files = append(files, filepath.Join(target, rel))
		}
	}

	failed, unformatted := false, false
	for _, name := range files {
		path := resolvePath(env, name)
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: reading %s: %s\n", name, err)
			failed = true
			continue
		}
		out, diags := schema.Format(src, name)
		if diags.HasErrors() {
			printDiags(env, diags, parsedFiles(name, src), false)
			failed = true
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		unformatted = true
		if o.list {
			fmt.Fprintln(env.Stdout, name)
		}
		if o.write {
			if err := writeFileKeepMode(path, out); err != nil {
				fmt.Fprintf(env.Stderr, "Error: writing %s: %s\n", name, err)
				failed = true
				continue
			}
		}
		if o.diff {
			writeUnifiedDiff(env.Stdout, name, string(src), string(out))
		}
	}
	if failed || (o.check && unformatted) {
		return exitError
	}
	return exitOK
}

func fmtStdin(env *Env, o fmtOptions) int {
	src, err := io.ReadAll(env.Stdin)
	if err != nil {
		fmt.Fprintln(env.Stderr, "Error: reading standard input:", err)
		return exitError
	}
	out, diags := schema.Format(src, "<stdin>")
	if diags.HasErrors() {
		printDiags(env, diags, parsedFiles("<stdin>", src), false)
		return exitError
	}
	switch {
	case o.diff:
		writeUnifiedDiff(env.Stdout, "<stdin>", string(src), string(out))
	case !o.check:
		env.Stdout.Write(out)
	}
	if o.check && !bytes.Equal(src, out) {
		return exitError
	}
	return exitOK
}

// parsedFiles parses src for the snippets of its syntax errors.
func parsedFiles(name string, src []byte) map[string]*hcl.File {
	return map[string]*hcl.File{name: {Bytes: src}}
}

// hclFiles lists the *.hcl files in dir, relative to it and sorted;
// with recursive, also those in subfolders, skipping hidden folders
// (.git, .reconform).
func hclFiles(dir string, recursive bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && (!recursive || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".hcl") && d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// writeFileKeepMode replaces a file's content, keeping its permissions,
// through a temporary file and a rename so a crash leaves either version.
func writeFileKeepMode(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, info.Mode().Perm())
}

// writeUnifiedDiff prints the line changes from a to b as a unified diff
// with three lines of context.
func writeUnifiedDiff(w io.Writer, name, a, b string) {
	type line struct {
		op   diffmatchpatch.Operation
		text string
	}
	dmp := diffmatchpatch.New()
	ra, rb, lines := dmp.DiffLinesToRunes(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(ra, rb, false), lines)
	var all []line
	for _, d := range diffs {
		text := d.Text
		for text != "" {
			i := strings.IndexByte(text, '\n')
			if i < 0 {
				all = append(all, line{d.Type, text + "\n\\ No newline at end of file"})
				break
			}
			all = append(all, line{d.Type, text[:i]})
			text = text[i+1:]
		}
	}
	const context = 3
	shown := strings.TrimPrefix(filepath.ToSlash(name), "/")
	fmt.Fprintf(w, "--- old/%s\n+++ new/%s\n", shown, shown)
	for i := 0; i < len(all); {
		if all[i].op == diffmatchpatch.DiffEqual {
			i++
			continue
		}
		// A hunk: from context lines before the change to context lines
		// after the last change that is within 2*context of the previous.
		start := max(0, i-context)
		end := i
		for j := i; j < len(all); j++ {
			if all[j].op != diffmatchpatch.DiffEqual {
				end = j
			} else if j-end > 2*context {
				break
			}
		}
		end = min(len(all), end+context+1)
		aLine, bLine := 1, 1
		for _, l := range all[:start] {
			if l.op != diffmatchpatch.DiffInsert {
				aLine++
			}
			if l.op != diffmatchpatch.DiffDelete {
				bLine++
			}
		}
		aCount, bCount := 0, 0
		var body strings.Builder
		for _, l := range all[start:end] {
			switch l.op {
			case diffmatchpatch.DiffEqual:
				aCount++
				bCount++
				body.WriteString(" " + l.text + "\n")
			case diffmatchpatch.DiffDelete:
				aCount++
				body.WriteString("-" + l.text + "\n")
			case diffmatchpatch.DiffInsert:
				bCount++
				body.WriteString("+" + l.text + "\n")
			}
		}
		fmt.Fprintf(w, "@@ -%d,%d +%d,%d @@\n%s", aLine, aCount, bLine, bCount, body.String())
		i = end
	}
}
