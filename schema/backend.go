package schema

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// BackendTypes are the backend types an engagement may declare.
var BackendTypes = []string{"local", "pg"}

// PGConnEnv is the environment variable the pg backend reads when its
// block sets no conn_str.
const PGConnEnv = "RECONFORM_PG_CONN"

// DefaultPGSchema is the pg backend's schema_name when the block sets none.
const DefaultPGSchema = "reconform"

var backendSchemas = map[string]*hcl.BodySchema{
	"local": {},
	"pg":    {Attributes: []hcl.AttributeSchema{{Name: "conn_str"}, {Name: "schema_name"}}},
}

// pgSchemaName is a PostgreSQL identifier that needs no quoting.
var pgSchemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// decodeBackend decodes the engagement's backend blocks (at most one).
func (l *loader) decodeBackend(blocks []*hcl.Block, ctx *hcl.EvalContext) {
	if len(blocks) == 0 {
		return
	}
	for _, b := range blocks[1:] {
		l.errorf(b.DefRange, "Duplicate backend block",
			"A backend is already declared at %s. An engagement keeps its state in one backend.", shortRange(blocks[0].DefRange))
	}
	b := blocks[0]
	typ := b.Labels[0]
	bs, ok := backendSchemas[typ]
	if !ok {
		l.errorf(b.LabelRanges[0], "Unsupported backend type",
			"There is no backend type %q.%s The backend types are %s.", typ, didYouMean(typ, BackendTypes), strings.Join(BackendTypes, ", "))
		return
	}
	bb := &BackendBlock{Type: typ, Attrs: map[string]cty.Value{}, Sensitive: map[string]bool{}, DeclRange: b.DefRange}
	body, diags := content(b.Body, bs, "a "+typ+" backend block")
	l.diags = append(l.diags, diags...)
	for name, a := range body.Attributes {
		val, marked, ok := l.eval(a.Expr, ctx)
		if !ok || val.IsNull() {
			continue
		}
		if val.Type() != cty.String {
			l.errorf(a.Expr.Range(), "Incorrect attribute value type", "Inappropriate value for %q: string is required, got %s.", name, val.Type().FriendlyName())
			continue
		}
		bb.Attrs[name] = val
		if marked || name == "conn_str" {
			bb.Sensitive[name] = true
		}
		if name == "conn_str" && isLiteral(a.Expr) && connPassword(val.AsString()) != "" {
			l.warnf(a.Expr.Range(), "Secret written in the configuration",
				"conn_str holds a password; keep it out of files that go to version control: conn_str = env(%q), or leave conn_str out and set %s.", PGConnEnv, PGConnEnv)
		}
		if name == "schema_name" && !pgSchemaName.MatchString(val.AsString()) {
			l.errorf(a.Expr.Range(), "Invalid schema name",
				"schema_name must be a lower-case PostgreSQL identifier: letters, digits and _, starting with a letter or _, at most 63 characters (e.g. %q).", DefaultPGSchema)
		}
	}
	if typ == "pg" {
		if _, ok := bb.Attrs["conn_str"]; !ok {
			v := ""
			for i := len(l.cfg.environ) - 1; i >= 0; i-- {
				if s, ok := strings.CutPrefix(l.cfg.environ[i], PGConnEnv+"="); ok {
					v = s
					break
				}
			}
			bb.Attrs["conn_str"] = cty.StringVal(v)
			bb.Sensitive["conn_str"] = true
		}
		if _, ok := bb.Attrs["schema_name"]; !ok {
			bb.Attrs["schema_name"] = cty.StringVal(DefaultPGSchema)
		}
	}
	l.cfg.Engagement.Backend = bb
}

// connPassword is the password a PostgreSQL connection string carries,
// in URL form (postgres://user:pw@host/db, or ?password=pw) or keyword
// form (password=pw, password='p w').
func connPassword(conn string) string {
	conn = strings.TrimSpace(conn)
	if strings.Contains(conn, "://") {
		u, err := url.Parse(conn)
		if err != nil {
			return ""
		}
		if pw, ok := u.User.Password(); ok && pw != "" {
			return pw
		}
		return u.Query().Get("password")
	}
	for i := 0; i < len(conn); i++ {
		if !strings.HasPrefix(conn[i:], "password") || i > 0 && !strings.ContainsRune(" \t\n", rune(conn[i-1])) {
			continue
		}
		v := strings.TrimLeft(conn[i+len("password"):], " \t")
		if !strings.HasPrefix(v, "=") {
			continue
		}
		v = strings.TrimLeft(v[1:], " \t")
		if !strings.HasPrefix(v, "'") {
			if j := strings.IndexAny(v, " \t\n"); j >= 0 {
				v = v[:j]
			}
			return v
		}
		var b strings.Builder
		for j := 1; j < len(v); j++ {
			switch {
			case v[j] == '\\' && j+1 < len(v):
				j++
				b.WriteByte(v[j])
			case v[j] == '\'':
				return b.String()
			default:
				b.WriteByte(v[j])
			}
		}
		return b.String()
	}
	return ""
}
