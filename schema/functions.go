package schema

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"golang.org/x/net/publicsuffix"
)

// SensitiveMark marks values that must never be printed or stored, such
// as what env() returns.
const SensitiveMark = "sensitive"

// Functions returns the functions available in expressions of c: the cty
// standard library under the names Terraform users know, plus env(name)
// and in_scope(subject).
func Functions(c *Config) map[string]function.Function {
	return functions(c, c.environ)
}

func functions(c *Config, environ []string) map[string]function.Function {
	return map[string]function.Function{
		// strings
		"chomp":       stdlib.ChompFunc,
		"endswith":    endsWithFunc,
		"format":      stdlib.FormatFunc,
		"formatlist":  stdlib.FormatListFunc,
		"indent":      stdlib.IndentFunc,
		"join":        stdlib.JoinFunc,
		"lower":       stdlib.LowerFunc,
		"regex":       stdlib.RegexFunc,
		"regexall":    stdlib.RegexAllFunc,
		"replace":     stdlib.ReplaceFunc,
		"split":       stdlib.SplitFunc,
		"startswith":  startsWithFunc,
		"strcontains": strContainsFunc,
		"strlen":      stdlib.StrlenFunc,
		"strrev":      stdlib.ReverseFunc,
		"substr":      stdlib.SubstrFunc,
		"title":       stdlib.TitleFunc,
		"trim":        stdlib.TrimFunc,
		"trimprefix":  stdlib.TrimPrefixFunc,
		"trimspace":   stdlib.TrimSpaceFunc,
		"trimsuffix":  stdlib.TrimSuffixFunc,
		"upper":       stdlib.UpperFunc,
		// collections
		"alltrue":         allTrueFunc,
		"anytrue":         anyTrueFunc,
		"sum":             sumFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        coalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"index":           stdlib.IndexFunc,
		"keys":            stdlib.KeysFunc,
		"length":          stdlib.LengthFunc,
		"lookup":          stdlib.LookupFunc,
		"merge":           stdlib.MergeFunc,
		"range":           stdlib.RangeFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
		// numbers
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,
		// conversion and encoding
		"csvdecode":  stdlib.CSVDecodeFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"tobool":     stdlib.MakeToFunc(cty.Bool),
		"tolist":     stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":      stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":   stdlib.MakeToFunc(cty.Number),
		"toset":      stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":   stdlib.MakeToFunc(cty.String),
		"can":        tryfunc.CanFunc,
		"try":        tryfunc.TryFunc,
		// time
		"formatdate": stdlib.FormatDateFunc,
		"timeadd":    stdlib.TimeAddFunc,
		// network
		"cidrcontains": cidrContainsFunc,
		"cidrhost":     cidrHostFunc,
		"cidrsubnet":   cidrSubnetFunc,
		// reconform
		"env":               envFunc(environ),
		"in_scope":          inScopeFunc(c),
		"registered_domain": registeredDomainFunc,
	}
}

func stringPredicate(name string, f func(s, sub string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: name, Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(f(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var (
	startsWithFunc  = stringPredicate("prefix", strings.HasPrefix)
	endsWithFunc    = stringPredicate("suffix", strings.HasSuffix)
	strContainsFunc = stringPredicate("substr", strings.Contains)
)

// boolFold folds a list of bools: alltrue and anytrue, as in Terraform.
func boolFold(empty bool, stop bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			result := empty
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if !v.IsKnown() {
					return cty.UnknownVal(cty.Bool), nil
				}
				if !v.IsNull() && v.True() == stop {
					result = stop
				}
			}
			return cty.BoolVal(result), nil
		},
	})
}

var (
	allTrueFunc = boolFold(true, false)
	anyTrueFunc = boolFold(false, true)
)

// sumFunc is sum(list): the total of a list of numbers.
var sumFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Number)}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		total := cty.Zero
		for it := args[0].ElementIterator(); it.Next(); {
			_, v := it.Element()
			if !v.IsKnown() {
				return cty.UnknownVal(cty.Number), nil
			}
			if v.IsNull() {
				return cty.NilVal, function.NewArgErrorf(0, "sum cannot add null")
			}
			total = total.Add(v)
		}
		return total, nil
	},
})

// coalesceFunc is Terraform's coalesce: the first argument that is
// neither null nor an empty string (cty's skips only nulls).
var coalesceFunc = function.New(&function.Spec{
	VarParam: &function.Parameter{Name: "vals", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true},
	Type: func(args []cty.Value) (cty.Type, error) {
		types := make([]cty.Type, len(args))
		for i, a := range args {
			types[i] = a.Type()
		}
		ty, _ := convert.UnifyUnsafe(types)
		if ty == cty.NilType {
			return cty.NilType, fmt.Errorf("all arguments must have the same type")
		}
		return ty, nil
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		for _, a := range args {
			if !a.IsKnown() {
				return cty.UnknownVal(retType), nil
			}
			if a.IsNull() {
				continue
			}
			v, err := convert.Convert(a, retType)
			if err != nil {
				return cty.NilVal, err
			}
			if v.Type() == cty.String && v.AsString() == "" {
				continue
			}
			return v, nil
		}
		return cty.NilVal, fmt.Errorf("no non-null, non-empty-string arguments")
	},
})

// envFunc is env(name) or env(name, default): the value of an environment
// variable, marked sensitive so it never reaches state, plans or logs.
// An unset variable gives the default, or "" (validate must work without
// the keys; the provider reports a missing key when it runs).
func envFunc(environ []string) function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable; the value is treated as a secret.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default value")
			}
			name := args[0].AsString()
			prefix := name + "="
			for i := len(environ) - 1; i >= 0; i-- {
				if v, ok := strings.CutPrefix(environ[i], prefix); ok {
					return cty.StringVal(v).Mark(SensitiveMark), nil
				}
			}
			if len(args) == 2 {
				return args[1].Mark(SensitiveMark), nil
			}
			return cty.StringVal("").Mark(SensitiveMark), nil
		},
	})
}

// inScopeFunc is in_scope(subject): whether a name, IP or CIDR is inside
// the engagement's scope (and not excluded).
func inScopeFunc(c *Config) function.Function {
	return function.New(&function.Spec{
		Description: "Reports whether a domain, IP or CIDR is inside the engagement's scope.",
		Params:      []function.Parameter{{Name: "subject", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if c == nil {
				return cty.False, nil
			}
			subj, err := ParseSubject(args[0].AsString())
			if err != nil {
				return cty.False, nil
			}
			ok, _ := c.Scope.Contains(subj)
			return cty.BoolVal(ok), nil
		},
	})
}

// registeredDomainFunc is registered_domain(value): the registrable
// domain (eTLD+1 by the public suffix list) of a host name, or of the
// host in a record value that ends with one ("10 mx1.mail.example.net"
// for MX, "0 5 443 sip.example.net" for SRV), so that a pivot can ask a
// registry about the domain behind an NS, MX or CNAME target. It is ""
// for what has none (an IP, a bare public suffix, a null MX), which
// queries and pivots skip.
var registeredDomainFunc = function.New(&function.Spec{
	Description: "The registrable domain (public suffix list) of a host name or of the host in an MX/SRV record value; \"\" when there is none.",
	Params:      []function.Parameter{{Name: "value", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(RegisteredDomain(args[0].AsString())), nil
	},
})

// RegisteredDomain is the registrable domain of a host name, or of the
// host at the end of a record value, by the public suffix list (private
// suffixes included: "acme.github.io" is its own registrable domain);
// "" when there is none.
func RegisteredDomain(value string) string {
	fields := strings.Fields(value)
	if len(fields) == 0 {
		return ""
	}
	// A wildcard name's registrable domain is its parent's; a wildcard
	// right under a public suffix has none.
	host := WildcardParent(NormalizeName(fields[len(fields)-1]))
	if host == "" || ValidateDomain(host) != nil {
		return ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return ""
	}
	return d
}

// cidrHostFunc is cidrhost(prefix, hostnum), as in Terraform: the address
// of host number hostnum in the network (negative counts from the end).
var cidrHostFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "prefix", Type: cty.String}, {Name: "hostnum", Type: cty.Number}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := netip.ParsePrefix(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid CIDR: %s", err)
		}
		num, acc := args[1].AsBigFloat().Int(nil)
		if acc != big.Exact {
			return cty.NilVal, function.NewArgErrorf(1, "hostnum must be a whole number")
		}
		p = p.Masked()
		hostBits := p.Addr().BitLen() - p.Bits()
		size := new(big.Int).Lsh(big.NewInt(1), uint(hostBits))
		if num.Sign() < 0 {
			num.Add(num, size)
		}
		if num.Sign() < 0 || num.Cmp(size) >= 0 {
			return cty.NilVal, function.NewArgErrorf(1, "prefix %s has no host number %s", p, args[1].AsBigFloat().Text('f', 0))
		}
		base := new(big.Int).SetBytes(p.Addr().AsSlice())
		return cty.StringVal(addrFromInt(base.Add(base, num), p.Addr().Is4()).String()), nil
	},
})

// cidrContainsFunc is cidrcontains(prefix, address), as in Terraform:
// whether the address (or prefix) lies inside prefix. Unlike Terraform it
// is false, not an error, when the address is of the other family or not
// an address at all: HCL's && does not short-circuit, so a check's
// comprehension over findings of every type passes MX and TXT values too.
var cidrContainsFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "prefix", Type: cty.String}, {Name: "address", Type: cty.String}},
	Type:   function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := netip.ParsePrefix(strings.TrimSpace(args[0].AsString()))
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid CIDR: %s", err)
		}
		p = p.Masked()
		s := strings.TrimSpace(args[1].AsString())
		if q, err := netip.ParsePrefix(s); err == nil {
			return cty.BoolVal(q.Addr().Is4() == p.Addr().Is4() && q.Bits() >= p.Bits() && p.Contains(q.Addr())), nil
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return cty.False, nil
		}
		a = a.Unmap()
		return cty.BoolVal(a.Is4() == p.Addr().Is4() && p.Contains(a)), nil
	},
})

// cidrSubnetFunc is cidrsubnet(prefix, newbits, netnum), as in Terraform.
var cidrSubnetFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String}, {Name: "newbits", Type: cty.Number}, {Name: "netnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := netip.ParsePrefix(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid CIDR: %s", err)
		}
		p = p.Masked()
		nb, acc := args[1].AsBigFloat().Int64()
		if acc != big.Exact || nb < 0 || int(nb)+p.Bits() > p.Addr().BitLen() {
			return cty.NilVal, function.NewArgErrorf(1, "newbits must be between 0 and %d for %s", p.Addr().BitLen()-p.Bits(), p)
		}
		num, acc := args[2].AsBigFloat().Int(nil)
		if acc != big.Exact || num.Sign() < 0 || num.Cmp(new(big.Int).Lsh(big.NewInt(1), uint(nb))) >= 0 {
			return cty.NilVal, function.NewArgErrorf(2, "netnum must be between 0 and %d", (1<<min(nb, 62))-1)
		}
		bits := p.Bits() + int(nb)
		shift := uint(p.Addr().BitLen() - bits)
		base := new(big.Int).SetBytes(p.Addr().AsSlice())
		base.Add(base, new(big.Int).Lsh(num, shift))
		return cty.StringVal(netip.PrefixFrom(addrFromInt(base, p.Addr().Is4()), bits).String()), nil
	},
})

func addrFromInt(n *big.Int, is4 bool) netip.Addr {
	size := 16
	if is4 {
		size = 4
	}
	b := n.FillBytes(make([]byte, size))
	a, _ := netip.AddrFromSlice(b)
	return a
}
