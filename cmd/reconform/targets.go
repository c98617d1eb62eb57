package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/reconform/reconform/schema"
)

// targetFlags is the repeatable -target=ADDRESS of plan and apply.
type targetFlags struct{ raw []string }

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.Var((*stringList)(&t.raw), "target", "Plan only this block or module instance and what it reads (repeatable).")
}

// parse reads the addresses; a bad one is an error naming it.
func (t *targetFlags) parse() ([]schema.TargetAddr, error) {
	var out []schema.TargetAddr
	for _, r := range t.raw {
		a, err := schema.ParseTargetAddr(r)
		if err != nil {
			return nil, fmt.Errorf("invalid -target: %w. A target is a module instance or a block, as in module.footprint[\"acme.example\"] or query.history", err)
		}
		out = append(out, a)
	}
	return out, nil
}

// targetingWarning is Terraform's warning for a plan restricted with
// -target, in our words.
func targetingWarning(c palette, targets []string) string {
	return fmt.Sprintf(`%s Resource targeting is in effect

You are creating a plan with -target, so only these blocks and the blocks
they read will run:
  %s

The result may not represent everything the configuration asks for. The
findings of the other blocks are kept as they are (neither verified nor
marked unverified).

The -target option is not for routine use: it is for exceptional situations
such as recovering from a failed provider or trying out one module instance.
`, c.yellow("Warning:"), strings.Join(targets, "\n  "))
}

// partialApplyWarning follows an apply of a targeted plan.
func partialApplyWarning(c palette) string {
	return fmt.Sprintf(`
%s Applied changes may be incomplete

The plan was made with -target, so some queries the configuration asks for
did not run and the outputs may not be up to date. Run "reconform plan"
to see what a full run would do.
`, c.yellow("Warning:"))
}
