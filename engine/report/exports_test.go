package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reconform/reconform/schema"
)

const schemaDir = "../../testdata/schemas"

// stixSchema compiles the vendored OASIS STIX 2.1 bundle schema, with
// formats asserted (a domain-name's value must be a host name).
func stixSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	const base = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"
	root := filepath.Join(schemaDir, "stix2.1", "schemas")
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		return c.AddResource(base+filepath.ToSlash(rel), doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(base + "common/bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func render(t *testing.T, format string, in Input) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, format, in); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSTIXBundleIsValid validates the export against the OASIS STIX 2.1
// schemas and checks what it says: an observable for every name and
// address of a resolution, a resolves-to per record, the record's times
// and count as observed data.
func TestSTIXBundleIsValid(t *testing.T) {
	sch := stixSchema(t)
	in := fixture(t)
	// Records STIX has no observable for, or whose name is no host name.
	in.Findings = append(in.Findings,
		Finding{Finding: schema.Finding{Name: "odd_host.acme.example", Type: "A", Value: "192.0.2.99", Current: true}},
		Finding{Finding: schema.Finding{Name: "selector1._domainkey.acme.example", Type: "CNAME", Value: "selector1-acme.onmicrosoft.example", Current: true}})
	out := render(t, "stix", in)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("the STIX bundle is not valid STIX 2.1: %v", err)
	}
	var bundle struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(out, &bundle); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	types := map[string]int{}
	for _, o := range bundle.Objects {
		id := o["id"].(string)
		if byID[id] != nil {
			t.Errorf("id %s twice", id)
		}
		byID[id] = o
		types[o["type"].(string)]++
	}
	// The expected objects, from the findings.
	wantRels := 0
	names, addrs := map[string]bool{}, map[string]bool{}
	var www Finding
	for _, f := range in.Findings {
		switch f.Type {
		case "A", "AAAA":
			if !isHostName(f.Name) {
				continue
			}
			names[f.Name], addrs[f.Value] = true, true
		case "CNAME":
			if !isHostName(f.Name) {
				continue
			}
			names[f.Name], names[f.Value] = true, true
		default:
			continue
		}
		wantRels++
		if f.Name == "www.acme.example" && f.Type == "A" && f.Value == "203.0.113.10" {
			www = f
		}
	}
	v4 := 0
	for a := range addrs {
		if netip.MustParseAddr(a).Is4() {
			v4++
		}
	}
	if types["domain-name"] != len(names) || types["ipv4-addr"] != v4 || types["ipv6-addr"] != len(addrs)-v4 ||
		types["relationship"] != wantRels || types["identity"] != 1 {
		t.Errorf("objects %v; want %d domain names, %d IPv4, %d IPv6, %d relationships and the identity (%v %v)", types, len(names), v4, len(addrs)-v4, wantRels, names, addrs)
	}
	// The deterministic SCO ids of STIX 2.1 section 2.9, computed by hand
	// for one name.
	if byID["domain-name--"+scoID("www.acme.example")] == nil {
		t.Error("www.acme.example has no domain-name with the deterministic id")
	}
	found := false
	for _, o := range bundle.Objects {
		if o["type"] != "observed-data" {
			continue
		}
		refs := o["object_refs"].([]any)
		src, dst := byID[refs[0].(string)], byID[refs[1].(string)]
		rel := byID[refs[2].(string)]
		if src == nil || dst == nil || rel == nil || rel["source_ref"] != refs[0] || rel["target_ref"] != refs[1] || rel["relationship_type"] != "resolves-to" {
			t.Errorf("observed data %v does not point at a resolution", o["id"])
			continue
		}
		if src["value"] == "www.acme.example" && dst["value"] == "203.0.113.10" {
			found = true
			if o["first_observed"] != stixTime(www.FirstSeen) || o["last_observed"] != stixTime(www.LastSeen) || o["number_observed"] != float64(max(www.Count, 1)) {
				t.Errorf("www.acme.example A 203.0.113.10 observed %v to %v, %v times; want %v to %v, %d", o["first_observed"], o["last_observed"], o["number_observed"],
					stixTime(www.FirstSeen), stixTime(www.LastSeen), max(www.Count, 1))
			}
		}
	}
	if !found {
		t.Error("no observed data for www.acme.example A 203.0.113.10")
	}
	if !bytes.Equal(out, render(t, "stix", in)) {
		t.Error("two exports of one state differ")
	}
}

// mispTemplateFile is an object template of github.com/MISP/misp-objects.
type mispTemplateFile struct {
	Name          string   `json:"name"`
	UUID          string   `json:"uuid"`
	Version       int      `json:"version"`
	MetaCategory  string   `json:"meta-category"`
	Description   string   `json:"description"`
	Required      []string `json:"required"`
	RequiredOneOf []string `json:"requiredOneOf"`
	Attributes    map[string]struct {
		MISPAttribute      string   `json:"misp-attribute"`
		UIPriority         int      `json:"ui-priority"`
		Categories         []string `json:"categories"`
		Multiple           bool     `json:"multiple"`
		DisableCorrelation *bool    `json:"disable_correlation"`
	} `json:"attributes"`
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestMISPEventFollowsTemplates holds the export against MISP's object
// templates (vendored from misp-objects) and attribute types (PyMISP's
// describeTypes.json): every object is of a template, with its uuid,
// version and meta-category; every attribute is one the template defines,
// of its MISP type, in a category the type allows (the template's, when it
// names some); required attributes are there, an attribute is repeated
// only where the template allows it, and what the template shows first
// (ui-priority 1) is filled wherever the record has it.
func TestMISPEventFollowsTemplates(t *testing.T) {
	templates := map[string]mispTemplateFile{}
	for _, name := range []string{"passive-dns", "domain-ip"} {
		var tf mispTemplateFile
		readJSONFile(t, filepath.Join(schemaDir, "misp", "objects", name, "definition.json"), &tf)
		templates[tf.Name] = tf
	}
	var types struct {
		Result struct {
			Types    []string            `json:"types"`
			Mappings map[string][]string `json:"category_type_mappings"`
		} `json:"result"`
	}
	readJSONFile(t, filepath.Join(schemaDir, "misp", "describeTypes.json"), &types)
	// Our copy of each template agrees with MISP's.
	for _, ours := range []mispTemplate{mispPassiveDNS, mispDomainIP} {
		tf := templates[ours.Name]
		if tf.UUID != ours.UUID || tf.Version != ours.Version || tf.MetaCategory != ours.MetaCategory || tf.Description != ours.Description {
			t.Errorf("template %s: ours says %s v%d %s, MISP's %s v%d %s", ours.Name, ours.UUID, ours.Version, ours.MetaCategory, tf.UUID, tf.Version, tf.MetaCategory)
		}
		for rel, spec := range ours.Attributes {
			a, ok := tf.Attributes[rel]
			if !ok || a.MISPAttribute != spec.Type {
				t.Errorf("template %s has no attribute %s of type %s", ours.Name, rel, spec.Type)
			}
			if a.DisableCorrelation != nil && *a.DisableCorrelation != spec.DisableCorrelation {
				t.Errorf("template %s: %s disable_correlation is %v in MISP's", ours.Name, rel, *a.DisableCorrelation)
			}
		}
	}

	in := fixture(t)
	out := render(t, "misp", in)
	var ev struct {
		Event struct {
			UUID          string `json:"uuid"`
			Info          string `json:"info"`
			Date          string `json:"date"`
			ThreatLevelID string `json:"threat_level_id"`
			Object        []struct {
				UUID            string `json:"uuid"`
				Name            string `json:"name"`
				MetaCategory    string `json:"meta-category"`
				TemplateUUID    string `json:"template_uuid"`
				TemplateVersion string `json:"template_version"`
				Attribute       []struct {
					UUID           string `json:"uuid"`
					ObjectRelation string `json:"object_relation"`
					Type           string `json:"type"`
					Category       string `json:"category"`
					Value          string `json:"value"`
					ToIDS          bool   `json:"to_ids"`
				} `json:"Attribute"`
			} `json:"Object"`
		} `json:"Event"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Event.UUID == "" || ev.Event.Info == "" || ev.Event.Date != "2026-11-20" || ev.Event.ThreatLevelID == "" {
		t.Errorf("event header: uuid %q, info %q, date %q, threat level %q", ev.Event.UUID, ev.Event.Info, ev.Event.Date, ev.Event.ThreatLevelID)
	}
	uuids := map[string]bool{ev.Event.UUID: true}
	counts := map[string]int{}
	for _, o := range ev.Event.Object {
		tf, ok := templates[o.Name]
		if !ok {
			t.Errorf("object %s follows no vendored template", o.Name)
			continue
		}
		counts[o.Name]++
		if o.TemplateUUID != tf.UUID || o.TemplateVersion != strconv.Itoa(tf.Version) || o.MetaCategory != tf.MetaCategory {
			t.Errorf("object %s: template %s v%s %s, want %s v%d %s", o.Name, o.TemplateUUID, o.TemplateVersion, o.MetaCategory, tf.UUID, tf.Version, tf.MetaCategory)
		}
		seen := map[string]int{}
		for _, a := range o.Attribute {
			seen[a.ObjectRelation]++
			spec, ok := tf.Attributes[a.ObjectRelation]
			if !ok {
				t.Errorf("%s: attribute %s is not in the template", o.Name, a.ObjectRelation)
				continue
			}
			if a.Type != spec.MISPAttribute || !slices.Contains(types.Result.Types, a.Type) {
				t.Errorf("%s.%s: type %s, want %s", o.Name, a.ObjectRelation, a.Type, spec.MISPAttribute)
			}
			allowed := spec.Categories
			if len(allowed) == 0 {
				for cat, ts := range types.Result.Mappings {
					if slices.Contains(ts, a.Type) {
						allowed = append(allowed, cat)
					}
				}
			}
			if !slices.Contains(allowed, a.Category) || !slices.Contains(types.Result.Mappings[a.Category], a.Type) {
				t.Errorf("%s.%s: category %q is not one for %s (%v)", o.Name, a.ObjectRelation, a.Category, a.Type, allowed)
			}
			if a.Value == "" || a.ToIDS {
				t.Errorf("%s.%s: value %q, to_ids %v", o.Name, a.ObjectRelation, a.Value, a.ToIDS)
			}
			if spec.MISPAttribute == "datetime" {
				if _, err := time.Parse(time.RFC3339, a.Value); err != nil {
					t.Errorf("%s.%s: %q is not an ISO 8601 time", o.Name, a.ObjectRelation, a.Value)
				}
			}
			if uuids[a.UUID] {
				t.Errorf("uuid %s twice", a.UUID)
			}
			uuids[a.UUID] = true
		}
		if uuids[o.UUID] {
			t.Errorf("uuid %s twice", o.UUID)
		}
		uuids[o.UUID] = true
		for rel, n := range seen {
			if n > 1 && !tf.Attributes[rel].Multiple {
				t.Errorf("%s: %s %d times; the template allows one", o.Name, rel, n)
			}
		}
		for _, rel := range tf.Required {
			if seen[rel] == 0 {
				t.Errorf("%s: required attribute %s missing", o.Name, rel)
			}
		}
		if len(tf.RequiredOneOf) > 0 && !slices.ContainsFunc(tf.RequiredOneOf, func(rel string) bool { return seen[rel] > 0 }) {
			t.Errorf("%s: none of %v", o.Name, tf.RequiredOneOf)
		}
		switch o.Name {
		case "passive-dns": // rrname, rrtype and rdata: ui-priority 1, always known
		case "domain-ip":
			if seen["ip"] == 0 || seen["domain"]+seen["hostname"] == 0 {
				t.Errorf("domain-ip without its ip and domain or hostname: %v", seen)
			}
		}
	}
	records, resolutions := 0, 0
	for _, f := range in.Findings {
		if f.Type != schema.TypeHost && f.Value != "" {
			records++
		}
		if f.Type == "A" || f.Type == "AAAA" {
			resolutions++
		}
	}
	if counts["passive-dns"] != records || counts["domain-ip"] != resolutions {
		t.Errorf("objects %v; want %d passive-dns and %d domain-ip", counts, records, resolutions)
	}
}

// TestGraphMLIsWellFormed reads the export as GraphML: the root in the
// GraphML namespace, keys declared before the graph for the element kind
// that uses them, unique node ids, edges between declared nodes, and the
// expected nodes and edges of the fixture.
func TestGraphMLIsWellFormed(t *testing.T) {
	out := render(t, "graphml", fixture(t))
	dec := xml.NewDecoder(bytes.NewReader(out))
	keys := map[string]string{} // id -> for
	nodes := map[string]string{}
	var edges []string
	var stack []string
	var current, currentKind string
	sawGraph := false
	names := map[string]string{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Space != "http://graphml.graphdrawing.org/xmlns" {
				t.Fatalf("element %s outside the GraphML namespace", el.Name.Local)
			}
			attr := func(name string) string {
				for _, a := range el.Attr {
					if a.Name.Local == name && a.Name.Space == "" {
						return a.Value
					}
				}
				return ""
			}
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			switch el.Name.Local {
			case "graphml":
				if parent != "" {
					t.Error("graphml is not the root")
				}
			case "key":
				if parent != "graphml" || sawGraph {
					t.Error("a key is not declared at the top before the graph")
				}
				if f := attr("for"); f != "node" && f != "edge" && f != "graph" && f != "all" {
					t.Errorf("key %s for %q", attr("id"), f)
				}
				keys[attr("id")] = attr("for")
			case "graph":
				sawGraph = true
				if d := attr("edgedefault"); d != "directed" && d != "undirected" {
					t.Errorf("edgedefault %q", d)
				}
			case "node":
				if _, dup := nodes[attr("id")]; dup || attr("id") == "" {
					t.Errorf("node id %q repeated or empty", attr("id"))
				}
				nodes[attr("id")] = ""
				current, currentKind = attr("id"), "node"
			case "edge":
				if _, ok := nodes[attr("source")]; !ok {
					t.Errorf("edge from undeclared node %s", attr("source"))
				}
				if _, ok := nodes[attr("target")]; !ok {
					t.Errorf("edge to undeclared node %s", attr("target"))
				}
				edges = append(edges, attr("source")+" "+attr("label")+" "+attr("target"))
				current, currentKind = "", "edge"
			case "data":
				k := attr("key")
				if f, ok := keys[k]; !ok || (f != currentKind && f != "all") {
					t.Errorf("data key %q on a %s is declared for %q", k, currentKind, f)
				}
				var v string
				if err := dec.DecodeElement(&v, &el); err != nil {
					t.Fatal(err)
				}
				if k == "name" && currentKind == "node" {
					names[current] = v
				}
				continue
			default:
				t.Errorf("unexpected element %s", el.Name.Local)
			}
			stack = append(stack, el.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	var named []string
	for i := range edges {
		f := strings.Fields(edges[i])
		named = append(named, names[f[0]]+" "+f[1]+" "+names[f[2]])
	}
	for _, want := range []string{"www.acme.example A 203.0.113.10", "acme.example MX acme-example.mail.protection.outlook.com"} {
		if !slices.Contains(named, want) {
			t.Errorf("no edge %q in %q", want, named)
		}
	}
	neighbour := false
	for _, n := range names {
		neighbour = neighbour || n == "kennel.example"
	}
	if !neighbour {
		t.Errorf("the shared-hosting neighbours are not in the GraphML: %v", names)
	}
}

// CSV fields a spreadsheet would run as formulas are neutralised as OWASP
// advises: a quote in front, and the field quoted.
func TestCSVNeutralisesFormulas(t *testing.T) {
	tests := map[string]struct{ value, field string }{
		"equals":     {`=HYPERLINK("http://evil.example","x")`, `"'=HYPERLINK(""http://evil.example"",""x"")"`},
		"plus":       {"+1+1", `"'+1+1"`},
		"minus":      {"-2+3", `"'-2+3"`},
		"at":         {"@SUM(A1)", `"'@SUM(A1)"`},
		"tab":        {"\t=1", "\"'\t=1\""},
		"cr":         {"\r=1", "\"'\r=1\""},
		"quote":      {"'=1", `"''=1"`},
		"plain":      {"v=spf1 -all", "v=spf1 -all"},
		"comma":      {"a,b", `"a,b"`},
		"inner sign": {"a=b", "a=b"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := csvField(tc.value); got != tc.field {
				t.Errorf("csvField(%q) = %s, want %s", tc.value, got, tc.field)
			}
			if schema.NewFinding("a.example", "TXT", tc.value).Value != tc.value {
				return // TXT values are trimmed: no record starts with a tab or CR
			}
			in := Input{Findings: []Finding{{Finding: schema.Finding{Name: "a.example", Type: "TXT", Value: tc.value, Current: true}}}}
			out := render(t, "csv", in)
			if !strings.Contains(string(out), ","+tc.field+",") {
				t.Errorf("the row lacks %s:\n%s", tc.field, out)
			}
			recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			if err != nil || len(recs) != 2 {
				t.Fatalf("not CSV: %v", err)
			}
			got := recs[1][2]
			if s := tc.value; s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) {
				if got != "'"+s {
					t.Errorf("read back %q, want %q", got, "'"+s)
				}
			} else if got != tc.value {
				t.Errorf("read back %q, want %q", got, tc.value)
			}
		})
	}
}

// A graph over the page's cap keeps the key nodes, then the best
// connected, and only the edges between the nodes it keeps.
func TestGraphCapped(t *testing.T) {
	g := graph{
		nodes: []graphNode{{ID: "n0", Key: "a.example"}, {ID: "n1", Key: "b.example"}, {ID: "n2", Key: "ns1.example", Role: roleNS}, {ID: "n3", Key: "192.0.2.1"}},
		edges: []graphEdge{{From: "n0", To: "n3"}, {From: "n1", To: "n3"}, {From: "n0", To: "n2"}},
	}
	key := func(n graphNode) bool { return n.Role == roleNS }
	got := g.capped(3, key)
	var ids []string
	for _, n := range got.nodes {
		ids = append(ids, n.ID)
	}
	if !slices.Equal(ids, []string{"n0", "n2", "n3"}) || len(got.edges) != 2 {
		t.Errorf("kept nodes %v and %d edges; want the name server, then n3 and n0 (most edges), and their 2 edges", ids, len(got.edges))
	}
	if same := g.capped(4, key); len(same.nodes) != 4 || len(same.edges) != 3 {
		t.Error("a graph within the cap changed")
	}
}
