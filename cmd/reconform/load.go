package main

import (
	"flag"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// varFlags are the -var and -var-file flags every verb that loads an
// engagement accepts, in command-line order.
type varFlags struct {
	Vars     []string
	VarFiles []string
}

// register adds -var name=value and -var-file FILE to fs.
func (v *varFlags) register(fs *flag.FlagSet) {
	fs.Var((*stringList)(&v.Vars), "var", "Set a variable: -var 'name=value' (repeatable).")
	fs.Var((*stringList)(&v.VarFiles), "var-file", "Set variables from an HCL file (repeatable).")
}

// loadConfig loads the engagement in dir (default: the working directory;
// relative paths resolve against env.WorkDir) with the provider types
// reconform ships. File names in diagnostics are shown relative to dir as
// the user gave it.
func loadConfig(env *Env, dir string, vars, varFiles []string) (*schema.Config, hcl.Diagnostics) {
	if dir == "" {
		dir = "."
	}
	files := make([]string, len(varFiles))
	for i, f := range varFiles {
		files[i] = resolvePath(env, f)
	}
	return schema.Load(resolvePath(env, dir), schema.LoadOptions{
		DisplayDir:   dir,
		Vars:         vars,
		VarFiles:     files,
		VarFileNames: varFiles,
		Environ:      env.Environ,
		Providers:    all.Schemas(),
	})
}

// loadEngagement is loadConfig for a verb that stops on errors: the
// diagnostics are printed (warnings too), and ok is false when there were
// errors.
func loadEngagement(env *Env, dir string, vars, varFiles []string, noColor bool) (*schema.Config, bool) {
	cfg, diags := loadConfig(env, dir, vars, varFiles)
	if diags.HasErrors() || cfg == nil {
		printDiags(env, diags, filesOf(cfg), noColor)
		return nil, false
	}
	printDiags(env, diags, cfg.Files, noColor)
	return cfg, true
}

// resolvePath makes p absolute against env.WorkDir.
func resolvePath(env *Env, p string) string {
	if filepath.IsAbs(p) || env.WorkDir == "" {
		return p
	}
	return filepath.Join(env.WorkDir, p)
}

// printDiags writes diagnostics to stderr with source snippets; colour
// only on a terminal and without -no-color.
func printDiags(env *Env, diags hcl.Diagnostics, files map[string]*hcl.File, noColor bool) {
	if len(diags) == 0 {
		return
	}
	if env.jsonErrors != nil {
		env.jsonErrors.addDiags(diags, files)
		return
	}
	schema.WriteDiagnostics(env.Stderr, diags, files, useColor(env, noColor))
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("validate DIR -json" as well as "validate -json DIR"); "--"
// ends the flags. It returns the positional arguments, and done=true with
// the exit code when the verb should stop.
func parseInterleaved(fs *flag.FlagSet, args []string) (positional []string, done bool, code int) {
	for {
		if done, code := parseFlags(fs, args); done {
			return nil, true, code
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, false, exitOK
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), false, exitOK
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseFolderArgs is parseInterleaved for a verb that takes at most one
// configuration folder (default "."): more arguments print the usage and
// stop with exitError.
func parseFolderArgs(env *Env, fs *flag.FlagSet, args []string) (dir string, done bool, code int) {
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return "", true, code
	}
	if len(positional) > 1 {
		return "", true, usageError(env, commands[fs.Name()], "%s takes at most one folder, got %d arguments.", fs.Name(), len(positional))
	}
	if len(positional) == 1 {
		return positional[0], false, exitOK
	}
	return ".", false, exitOK
}
