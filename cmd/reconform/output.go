package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/engine/state"
)

func init() {
	register(&command{
		Name:     "output",
		Synopsis: "Show the engagement's output values from the state",
		Usage: `Usage: reconform output [options] [NAME]

  Prints the output values the last apply saved in the state. Without
  NAME, every output as NAME = VALUE, sensitive ones hidden. With NAME,
  that output's value, sensitive or not (as Terraform does). An output
  derived from a secret (env(), a sensitive variable) is never stored, so
  its value cannot be shown.

Options:
  -json         Print JSON: every output as {"NAME": {"sensitive", "type",
                "value"}}, or with NAME just its value.
  -raw          With NAME: print a string, number or bool as it is, without
                quotes, for scripts.
  -chdir=DIR    The engagement folder (default: the current directory).
  -state=PATH   The state file (default: the engagement's state).
  -no-color     No terminal colours.`,
		Run:  runOutput,
		JSON: true,
	})
}

func runOutput(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["output"])
	asJSON := fs.Bool("json", false, "")
	raw := fs.Bool("raw", false, "")
	fs.Bool("no-color", false, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	names, err := takeDirArg(env, &loc, positional)
	if err == nil && len(names) > 1 {
		err = fmt.Errorf("output takes at most one output name, got %d", len(names))
	}
	if err == nil && *raw && len(names) == 0 {
		err = fmt.Errorf("-raw needs the name of one output")
	}
	if err == nil && *raw && *asJSON {
		err = fmt.Errorf("-raw and -json cannot be used together")
	}
	var st *state.State
	if err == nil {
		st, err = readCurrent(ctx, env, &loc)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if len(names) == 0 {
		if *asJSON {
			return writeOutputsJSON(env, st.Outputs)
		}
		if len(st.Outputs) == 0 {
			fmt.Fprintln(env.Stderr, "Warning: No outputs found\n\nThe state has no output values: the engagement declares no output blocks, or no apply has run since it did.")
			return exitOK
		}
		printOutputList(env.Stdout, st.Outputs)
		return exitOK
	}
	o := st.OutputByName(names[0])
	if o == nil {
		var have []string
		for _, x := range st.Outputs {
			have = append(have, x.Name)
		}
		hint := " The state has no outputs."
		if len(have) > 0 {
			hint = " The outputs are " + strings.Join(have, ", ") + "."
		}
		fmt.Fprintf(env.Stderr, "Error: Output %q not found\n\nThe state holds no output %q.%s Outputs are saved by apply.\n", names[0], names[0], hint)
		return exitError
	}
	v, err := outputValue(o)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: output %s: %v\n", o.Name, err)
		return exitError
	}
	switch {
	case *asJSON:
		fmt.Fprintln(env.Stdout, string(o.Value))
	case *raw:
		s, ok := rawValue(v)
		if !ok {
			fmt.Fprintf(env.Stderr, "Error: output %s is %s; -raw prints only strings, numbers and bools (use -json).\n", o.Name, v.Type().FriendlyName())
			return exitError
		}
		fmt.Fprint(env.Stdout, s)
	default:
		fmt.Fprintln(env.Stdout, formatValue(v, ""))
	}
	return exitOK
}

// outputValue decodes a stored output; one derived from a secret has no
// stored value.
func outputValue(o *state.Output) (cty.Value, error) {
	if o.Secret {
		return cty.NilVal, fmt.Errorf("the value is derived from a secret (env() or a sensitive variable), so it is never stored")
	}
	if len(o.Value) == 0 || len(o.Type) == 0 {
		return cty.NilVal, fmt.Errorf("no value was stored: it could not be evaluated at the last apply")
	}
	ty, err := ctyjson.UnmarshalType(o.Type)
	if err != nil {
		return cty.NilVal, fmt.Errorf("the stored type is damaged: %w", err)
	}
	v, err := ctyjson.Unmarshal(o.Value, ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("the stored value is damaged: %w", err)
	}
	return v, nil
}

func rawValue(v cty.Value) (string, bool) {
	if v.IsNull() {
		return "", false
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), true
	case cty.Number, cty.Bool:
		return formatValue(v, ""), true
	}
	return "", false
}

// printOutputList prints NAME = VALUE for every output, hiding sensitive
// ones.
func printOutputList(w io.Writer, outputs []state.Output) {
	sorted := append([]state.Output(nil), outputs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for i := range sorted {
		o := &sorted[i]
		shown := shownSensitive
		if !o.Sensitive {
			if v, err := outputValue(o); err == nil {
				shown = formatValue(v, "")
			} else {
				shown = "(not known: " + err.Error() + ")"
			}
		}
		fmt.Fprintf(w, "%s = %s\n", o.Name, shown)
	}
}

// outputJSON is one output as output -json prints it, as Terraform does.
type outputJSON struct {
	Sensitive bool            `json:"sensitive"`
	Type      json.RawMessage `json:"type,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
}

func outputsJSON(outputs []state.Output) map[string]outputJSON {
	out := map[string]outputJSON{}
	for _, o := range outputs {
		out[o.Name] = outputJSON{Sensitive: o.Sensitive, Type: o.Type, Value: o.Value}
	}
	return out
}

func writeOutputsJSON(env *Env, outputs []state.Output) int {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(outputsJSON(outputs)); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	return exitOK
}

// setOutputs evaluates the engagement's outputs over the merged state
// before it is written, and prints what went wrong evaluating them (the
// findings are saved all the same).
func (s *stateSession) setOutputs(next *state.State) {
	outs, diags := engine.Outputs(s.cfg, next)
	next.Outputs = outs
	s.outputErrors = diags.HasErrors()
	printDiags(s.env, diags, s.cfg.Files, s.opts.NoColor)
}

// printAppliedOutputs prints the outputs after apply, as Terraform does:
// an "Outputs:" section, sensitive values hidden; with -json one line
// {"type":"outputs","outputs":{...}} after the drift event.
func printAppliedOutputs(env *Env, st *state.State, asJSON bool) {
	if st == nil || len(st.Outputs) == 0 {
		return
	}
	if asJSON {
		shown := outputsJSON(st.Outputs)
		for name, o := range shown {
			if o.Sensitive {
				o.Value = nil
				shown[name] = o
			}
		}
		json.NewEncoder(env.Stdout).Encode(struct {
			Type    string                `json:"type"`
			Outputs map[string]outputJSON `json:"outputs"`
		}{"outputs", shown})
		return
	}
	fmt.Fprintln(env.Stdout, "\nOutputs:")
	fmt.Fprintln(env.Stdout)
	printOutputList(env.Stdout, st.Outputs)
}
