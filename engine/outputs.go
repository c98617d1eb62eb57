package engine

import (
	"github.com/hashicorp/hcl/v2"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// Outputs evaluates the engagement's outputs over a state (its findings
// by block, its facts) in the form the state keeps them. A value derived
// from a secret, or whose text holds one, is kept without its value: a
// secret is never stored.
func Outputs(cfg *schema.Config, st *state.State) ([]state.Output, hcl.Diagnostics) {
	vals, diags := cfg.EvalOutputs(st.FindingsByBlock(), st.Facts)
	secrets := cfg.Secrets()
	out := make([]state.Output, 0, len(vals))
	for _, v := range vals {
		o := state.Output{Name: v.Name, Description: v.Description, Sensitive: v.Sensitive, Secret: v.Secret}
		if !o.Secret && v.Value.IsWhollyKnown() {
			ty, terr := ctyjson.MarshalType(v.Value.Type())
			js, verr := ctyjson.Marshal(v.Value, v.Value.Type())
			switch {
			case terr != nil || verr != nil:
			case containsAny(string(js), secrets):
				o.Secret, o.Sensitive = true, true
			default:
				o.Value, o.Type = js, ty
			}
		}
		out = append(out, o)
	}
	return out, diags
}
