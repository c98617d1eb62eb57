package report

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
)

// GraphML attribute keys: one declaration each, referred to by id.
var graphmlKeys = []struct{ id, domain, name, typ string }{
	{"labels", "node", "labels", "string"}, // Neo4j node labels (":Name")
	{"name", "node", "name", "string"},
	{"label", "node", "label", "string"},
	{"role", "node", "role", "string"},
	{"current", "node", "current", "boolean"},
	{"shared", "node", "shared_hosting_domains", "int"},
	{"type", "edge", "type", "string"},
	{"elabel", "edge", "label", "string"},
	{"ecurrent", "edge", "current", "boolean"},
}

// neo4jLabel is the Neo4j label of each node role.
var neo4jLabel = map[string]string{
	roleName: "Name", roleIP: "IP", roleNS: "NameServer", roleMX: "MailServer", roleNeighbour: "Neighbour",
}

// graphml writes the relationship graph, shared-hosting neighbours
// included, as GraphML (graphml.graphdrawing.org): every property is a
// declared <data> key, which Gephi and yEd read as node and edge
// attributes; a node's labels attribute (":IP") and an edge's label
// attribute ("A") are what Neo4j's apoc.import.graphml reads as labels
// (with readLabels: true) and relationship types.
func (m *model) graphml(w io.Writer) error {
	g := m.relationships(true)
	o := &errWriter{w: w}
	o.printf("%s", xml.Header)
	o.printf(`<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">` + "\n")
	for _, k := range graphmlKeys {
		o.printf(`  <key id="%s" for="%s" attr.name="%s" attr.type="%s"/>`+"\n", k.id, k.domain, k.name, k.typ)
	}
	o.printf(`  <graph id="%s" edgedefault="directed">`+"\n", xmlText("reconform "+m.in.Engagement))
	data := func(key, value string) {
		o.printf(`      <data key="%s">%s</data>`+"\n", key, xmlText(value))
	}
	for _, n := range g.nodes {
		label := ":" + neo4jLabel[n.Role]
		o.printf(`    <node id="%s" labels="%s">`+"\n", n.ID, label)
		data("labels", label)
		data("name", n.Key)
		data("label", n.Label)
		data("role", n.Role)
		data("current", strconv.FormatBool(n.Current))
		if n.Shared > 0 {
			data("shared", strconv.Itoa(n.Shared))
		}
		o.printf("    </node>\n")
	}
	for i, e := range g.edges {
		o.printf(`    <edge id="e%d" source="%s" target="%s" label="%s">`+"\n", i, e.From, e.To, xmlText(e.Type))
		data("type", e.Type)
		data("elabel", e.Type)
		data("ecurrent", strconv.FormatBool(e.Current))
		o.printf("    </edge>\n")
	}
	o.printf("  </graph>\n</graphml>\n")
	return o.err
}

// xmlText escapes s for XML character data and attribute values; code
// points XML 1.0 cannot carry become U+FFFD.
func xmlText(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return ""
	}
	return b.String()
}
