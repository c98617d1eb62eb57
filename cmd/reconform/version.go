package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/reconform/reconform/internal/isal"
	"github.com/reconform/reconform/internal/version"
)

func init() {
	register(&command{
		Name:     "version",
		Synopsis: "Show the reconform version",
		Usage: `Usage: reconform version [-json]

  Prints the reconform version, the Go runtime it was built with, and
  the gzip decoder the file provider reads dumps and zone files with:
  Intel's ISA-L where libisal.so.2 is installed (Debian: libisal2, about
  three times as fast), else the built-in one.

Options:
  -json  Print a JSON object instead of text.`,
		Run:  runVersion,
		JSON: true,
	})
}

func runVersion(_ context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["version"])
	asJSON := fs.Bool("json", false, "")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(env, commands["version"], "version takes no arguments, got %q.", fs.Arg(0))
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"format_version": jsonFormatVersion, "version": version.Version, "go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH, "gzip": gzipDecoderID()})
		return exitOK
	}
	fmt.Fprintf(env.Stdout, "reconform v%s\non %s %s/%s\ngzip: %s\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, isal.Decoder())
	return exitOK
}

// gzipDecoderID is the decoder for -json: "isal" or "builtin".
func gzipDecoderID() string {
	if isal.Available() {
		return "isal"
	}
	return "builtin"
}
