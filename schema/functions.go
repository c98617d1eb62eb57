package schema

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the functions available in expressions of c.
func Functions(c *Config) map[string]function.Function {
	return map[string]function.Function{
		"lower":    stdlib.LowerFunc,
		"upper":    stdlib.UpperFunc,
		"distinct": stdlib.DistinctFunc,
		"in_scope": inScopeFunc(c),
	}
}

func inScopeFunc(c *Config) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "subject", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			subj, err := ParseSubject(args[0].AsString())
			if err != nil {
				return cty.False, nil
			}
			ok, _ := c.Scope.Contains(subj)
			return cty.BoolVal(ok), nil
		},
	})
}
