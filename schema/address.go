package schema

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Addresses name what a configuration expands to, as Terraform's do:
//
//	query.history
//	target.domain.apex["acme.example"]
//	module.footprint["acme.example"].query.history
//	module.footprint["acme.example"].module.mail[0].pivot.expand
//
// Every address has one String(), which is what plans, states, events,
// reports and diagnostics print; ParseBlockAddr and ParseTargetAddr read
// them back.

// InstanceKey is the key of one instance of a block or module call that
// has for_each (a string) or count (a whole number). The zero value is
// NoKey: the block has neither.
type InstanceKey struct {
	kind keyKind
	str  string
	num  int
}

type keyKind uint8

const (
	keyNone keyKind = iota
	keyInt
	keyString
)

// NoKey is the key of a block without for_each or count.
var NoKey InstanceKey

// IntKey is the key of instance n of a block with count.
func IntKey(n int) InstanceKey { return InstanceKey{kind: keyInt, num: n} }

// StringKey is the key of a for_each instance.
func StringKey(s string) InstanceKey { return InstanceKey{kind: keyString, str: s} }

// IsNone reports whether k is NoKey.
func (k InstanceKey) IsNone() bool { return k.kind == keyNone }

// String is "" for NoKey, "[3]" for a count index and `["acme.example"]`
// for a for_each key, quoted as an HCL string.
func (k InstanceKey) String() string {
	switch k.kind {
	case keyInt:
		return "[" + strconv.Itoa(k.num) + "]"
	case keyString:
		return "[" + quoteHCL(k.str) + "]"
	}
	return ""
}

// Value is the key as each.key or count.index sees it (cty.NilVal for
// NoKey).
func (k InstanceKey) Value() cty.Value {
	switch k.kind {
	case keyInt:
		return cty.NumberIntVal(int64(k.num))
	case keyString:
		return cty.StringVal(k.str)
	}
	return cty.NilVal
}

// compare orders keys: none, then count indexes by number, then for_each
// keys by text.
func (k InstanceKey) compare(o InstanceKey) int {
	if k.kind != o.kind {
		return int(k.kind) - int(o.kind)
	}
	if k.kind == keyInt {
		return k.num - o.num
	}
	return strings.Compare(k.str, o.str)
}

// quoteHCL quotes s as an HCL string literal that reads back as s.
func quoteHCL(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			// "${" and "%{" start template sequences; doubling escapes them.
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ModuleStep is one module call instance on the way to a module.
type ModuleStep struct {
	Name string
	Key  InstanceKey
}

// ModulePath addresses a module instance from the root: nil (or empty)
// is the root module.
type ModulePath []ModuleStep

// IsRoot reports whether m is the root module.
func (m ModulePath) IsRoot() bool { return len(m) == 0 }

// String is "" for the root, else module.NAME[KEY] for each step.
func (m ModulePath) String() string {
	var b strings.Builder
	for i, s := range m {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString("module.")
		b.WriteString(s.Name)
		b.WriteString(s.Key.String())
	}
	return b.String()
}

// Child is the path of instance key of the call name inside m.
func (m ModulePath) Child(name string, key InstanceKey) ModulePath {
	out := make(ModulePath, len(m), len(m)+1)
	copy(out, m)
	return append(out, ModuleStep{Name: name, Key: key})
}

// Equal reports whether two paths name the same module instance.
func (m ModulePath) Equal(o ModulePath) bool {
	if len(m) != len(o) {
		return false
	}
	for i := range m {
		if m[i].Name != o[i].Name || m[i].Key.compare(o[i].Key) != 0 {
			return false
		}
	}
	return true
}

// Kinds of addressable blocks.
const (
	KindQuery  = "query"
	KindPivot  = "pivot"
	KindTarget = "target"
)

// BlockAddr addresses one instance of a query, pivot or target block.
type BlockAddr struct {
	Module ModulePath
	Kind   string // KindQuery, KindPivot or KindTarget
	Type   string // a target's kind ("domain"); empty for others
	Name   string
	Key    InstanceKey
}

// String is the address as printed everywhere:
// module.footprint["acme.example"].query.history.
func (a BlockAddr) String() string {
	var b strings.Builder
	if !a.Module.IsRoot() {
		b.WriteString(a.Module.String())
		b.WriteByte('.')
	}
	b.WriteString(a.Local())
	return b.String()
}

// Local is the address inside its module: query.history["x"].
func (a BlockAddr) Local() string {
	s := a.Kind + "."
	if a.Type != "" {
		s += a.Type + "."
	}
	return s + a.Name + a.Key.String()
}

// OutputAddr addresses an output value: "hosts" in the root module,
// module.footprint["acme.example"].hosts in a module instance.
type OutputAddr struct {
	Module ModulePath
	Name   string
}

func (a OutputAddr) String() string {
	if a.Module.IsRoot() {
		return a.Name
	}
	return a.Module.String() + "." + a.Name
}

// TargetAddr is what -target selects: a module instance (or every
// instance of a module call when the key is left out), or a block (or
// every instance of it) inside one.
type TargetAddr struct {
	Module []TargetStep
	// Block is nil when the address names a module: everything in it.
	Block *TargetBlock
	text  string
}

// TargetStep is one module step of a TargetAddr; without a key it
// matches every instance of the call.
type TargetStep struct {
	Name   string
	Key    InstanceKey
	HasKey bool
}

// TargetBlock is the block part of a TargetAddr.
type TargetBlock struct {
	Kind, Type, Name string
	Key              InstanceKey
	HasKey           bool
}

// String is the address as the user gave it, normalised.
func (t TargetAddr) String() string { return t.text }

// Matches reports whether the block instance a is selected by t.
func (t TargetAddr) Matches(a BlockAddr) bool {
	if len(a.Module) < len(t.Module) {
		return false
	}
	for i, s := range t.Module {
		m := a.Module[i]
		if m.Name != s.Name || (s.HasKey && m.Key.compare(s.Key) != 0) {
			return false
		}
	}
	if t.Block == nil {
		return true
	}
	b := t.Block
	return len(a.Module) == len(t.Module) && a.Kind == b.Kind && a.Type == b.Type && a.Name == b.Name &&
		(!b.HasKey || a.Key.compare(b.Key) == 0)
}

// MatchesModule reports whether t selects the whole module instance m or
// a module inside it (outputs of such modules are refreshed by a
// targeted run).
func (t TargetAddr) MatchesModule(m ModulePath) bool {
	if t.Block != nil || len(m) < len(t.Module) {
		return false
	}
	for i, s := range t.Module {
		if m[i].Name != s.Name || (s.HasKey && m[i].Key.compare(s.Key) != 0) {
			return false
		}
	}
	return true
}

// addrStep is one step of a parsed address: a name, optionally indexed.
type addrStep struct {
	name   string
	key    InstanceKey
	hasKey bool
	rng    hcl.Range
}

// parseAddrSteps parses an address as an HCL traversal into names, each
// with the index that follows it.
func parseAddrSteps(s string) ([]addrStep, error) {
	tr, diags := hclsyntax.ParseTraversalAbs([]byte(s), "address", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%q is not an address: %s", s, diags[0].Detail)
	}
	var steps []addrStep
	for i, t := range tr {
		switch t := t.(type) {
		case hcl.TraverseRoot:
			steps = append(steps, addrStep{name: t.Name, rng: t.SrcRange})
		case hcl.TraverseAttr:
			steps = append(steps, addrStep{name: t.Name, rng: t.SrcRange})
		case hcl.TraverseIndex:
			if i == 0 || steps[len(steps)-1].hasKey {
				return nil, fmt.Errorf("%q: an index must follow a name", s)
			}
			k, err := keyOf(t.Key)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", s, err)
			}
			steps[len(steps)-1].key, steps[len(steps)-1].hasKey = k, true
		default:
			return nil, fmt.Errorf("%q is not an address", s)
		}
	}
	return steps, nil
}

// keyOf converts an index value to an instance key: a string, or a whole
// number of at least zero.
func keyOf(v cty.Value) (InstanceKey, error) {
	if v.IsNull() || !v.IsKnown() {
		return NoKey, fmt.Errorf("an instance key must be a string or a whole number")
	}
	switch v.Type() {
	case cty.String:
		return StringKey(v.AsString()), nil
	case cty.Number:
		n, acc := v.AsBigFloat().Int64()
		if acc != big.Exact || n < 0 || n > 1<<31 {
			return NoKey, fmt.Errorf("a count index must be a whole number of at least 0")
		}
		return IntKey(int(n)), nil
	}
	return NoKey, fmt.Errorf("an instance key must be a string or a whole number, not %s", v.Type().FriendlyName())
}

// ParseTargetAddr reads a -target address: module.NAME[KEY] steps (keys
// optional), then optionally query.NAME, pivot.NAME or
// target.KIND.NAME, with an optional key.
func ParseTargetAddr(s string) (TargetAddr, error) {
	steps, err := parseAddrSteps(strings.TrimSpace(s))
	if err != nil {
		return TargetAddr{}, err
	}
	mods, rest, err := moduleSteps(s, steps)
	if err != nil {
		return TargetAddr{}, err
	}
	var t TargetAddr
	for _, m := range mods {
		t.Module = append(t.Module, TargetStep{Name: m.name, Key: m.key, HasKey: m.hasKey})
	}
	if len(rest) > 0 {
		b, err := blockSteps(s, rest)
		if err != nil {
			return TargetAddr{}, err
		}
		t.Block = &TargetBlock{Kind: b.Kind, Type: b.Type, Name: b.Name, Key: b.Key, HasKey: !b.Key.IsNone()}
	} else if len(t.Module) == 0 {
		return TargetAddr{}, fmt.Errorf("%q is not an address", s)
	}
	// The normal form, so that two spellings of one address print alike.
	var parts []string
	for _, m := range t.Module {
		p := "module." + m.Name
		if m.HasKey {
			p += m.Key.String()
		}
		parts = append(parts, p)
	}
	if t.Block != nil {
		parts = append(parts, BlockAddr{Kind: t.Block.Kind, Type: t.Block.Type, Name: t.Block.Name, Key: t.Block.Key}.Local())
	}
	t.text = strings.Join(parts, ".")
	return t, nil
}

// moduleSteps splits the leading module.NAME[KEY] steps of an address
// from the rest.
func moduleSteps(s string, steps []addrStep) (mods, rest []addrStep, err error) {
	i := 0
	for i < len(steps) && steps[i].name == "module" {
		if i+1 >= len(steps) || steps[i].hasKey {
			return nil, nil, fmt.Errorf("%q: write module.NAME, as in module.footprint or module.footprint[\"acme.example\"]", s)
		}
		mods = append(mods, steps[i+1])
		i += 2
	}
	return mods, steps[i:], nil
}

// blockSteps reads query.NAME[KEY], pivot.NAME or target.KIND.NAME[KEY].
func blockSteps(s string, rest []addrStep) (BlockAddr, error) {
	bad := fmt.Errorf("%q: after the module steps an address names a block: query.NAME, pivot.NAME or target.KIND.NAME", s)
	var b BlockAddr
	switch rest[0].name {
	case KindQuery, KindPivot:
		if len(rest) != 2 || rest[0].hasKey {
			return b, bad
		}
		b = BlockAddr{Kind: rest[0].name, Name: rest[1].name, Key: rest[1].key}
	case KindTarget:
		if len(rest) != 3 || rest[0].hasKey || rest[1].hasKey {
			return b, bad
		}
		b = BlockAddr{Kind: KindTarget, Type: rest[1].name, Name: rest[2].name, Key: rest[2].key}
	default:
		return b, bad
	}
	return b, nil
}

// ParseBlockAddr reads a block instance address as String() writes it.
func ParseBlockAddr(s string) (BlockAddr, error) {
	steps, err := parseAddrSteps(s)
	if err != nil {
		return BlockAddr{}, err
	}
	mods, rest, err := moduleSteps(s, steps)
	if err != nil {
		return BlockAddr{}, err
	}
	if len(rest) == 0 {
		return BlockAddr{}, fmt.Errorf("%q names a module, not a block", s)
	}
	b, err := blockSteps(s, rest)
	if err != nil {
		return BlockAddr{}, err
	}
	for _, m := range mods {
		b.Module = append(b.Module, ModuleStep{Name: m.name, Key: m.key})
	}
	return b, nil
}

// ModuleOf is the module instance part of a block address string ("" for
// a root block or an address that does not parse).
func ModuleOf(addr string) string {
	if !strings.HasPrefix(addr, "module.") {
		return ""
	}
	b, err := ParseBlockAddr(addr)
	if err != nil {
		return ""
	}
	return b.Module.String()
}
