package report

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reconform/reconform/schema"
)

// stixSCONamespace is the UUIDv5 namespace STIX 2.1 (section 2.9) gives
// for the deterministic identifiers of cyber-observable objects: the same
// domain name has the same id in every producer's bundle, so platforms
// merge them.
var stixSCONamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// reconformNamespace makes the ids of the objects reconform creates
// (relationships, observed data, the bundle, MISP events) deterministic
// too: the same state exports the same bytes.
var reconformNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/reconform/reconform"))

// stixTime is the STIX timestamp form: UTC, millisecond precision.
func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type stixObject = map[string]any

// stix writes the findings' resolutions as a STIX 2.1 bundle: a
// domain-name, ipv4-addr or ipv6-addr observable for every name and
// address of an A, AAAA or CNAME record, a resolves-to relationship for
// each record, and an observed-data object carrying the record's first
// and last seen and its count. Every object is created by one identity,
// reconform. Names that are not host names (a wildcard, an underscore
// label: STIX requires RFC 1034 names) are left out, and so are records
// of other types, which STIX has no observable for.
func (m *model) stix(w io.Writer) error {
	created := m.in.RunFinished
	if created.IsZero() {
		created = m.in.GeneratedAt
	}
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	stamp := stixTime(created)
	identity := "identity--" + uuid.NewSHA1(reconformNamespace, []byte("identity reconform")).String()
	sdo := func(typ, name string) stixObject {
		return stixObject{
			"type": typ, "spec_version": "2.1",
			"id":      typ + "--" + uuid.NewSHA1(reconformNamespace, []byte(typ+" "+name)).String(),
			"created": stamp, "modified": stamp, "created_by_ref": identity,
		}
	}
	objects := []stixObject{{
		"type": "identity", "spec_version": "2.1", "id": identity, "created": stamp, "modified": stamp,
		"name": "reconform", "identity_class": "system",
		"description": "reconform, passive DNS reconnaissance as code",
	}}

	observables := map[string]stixObject{} // id -> SCO
	// sco is the observable of a name or address ("" when STIX has none).
	sco := func(value string) stixObject {
		typ := "domain-name"
		if a, err := netip.ParseAddr(value); err == nil {
			typ = "ipv6-addr"
			if a.Is4() {
				typ = "ipv4-addr"
			}
			value = a.String()
		} else if !isHostName(value) {
			return nil
		}
		return stixObject{"type": typ, "spec_version": "2.1", "id": typ + "--" + scoID(value), "value": value}
	}
	var rels, observed []stixObject
	for _, f := range m.findings {
		if f.Type != "A" && f.Type != "AAAA" && f.Type != "CNAME" {
			continue
		}
		if f.Type != "CNAME" {
			if _, err := netip.ParseAddr(f.Value); err != nil {
				continue
			}
		}
		from, to := sco(f.Name), sco(f.Value)
		if from == nil || to == nil || from["type"] != "domain-name" {
			continue
		}
		src, dst := from["id"].(string), to["id"].(string)
		observables[src], observables[dst] = from, to
		rel := sdo("relationship", f.ID())
		rel["relationship_type"] = "resolves-to"
		rel["source_ref"], rel["target_ref"] = src, dst
		rel["description"] = stixDescription(&f.Finding)
		if !f.FirstSeen.IsZero() {
			rel["start_time"] = stixTime(f.FirstSeen)
			if f.LastSeen.After(f.FirstSeen) {
				rel["stop_time"] = stixTime(f.LastSeen)
			}
		}
		rels = append(rels, rel)
		if first, last := f.FirstSeen, f.LastSeen; !first.IsZero() || !last.IsZero() {
			if first.IsZero() {
				first = last
			}
			if last.Before(first) {
				last = first
			}
			od := sdo("observed-data", f.ID())
			od["first_observed"], od["last_observed"] = stixTime(first), stixTime(last)
			od["number_observed"] = min(max(f.Count, 1), 999_999_999)
			od["object_refs"] = []string{src, dst, rel["id"].(string)}
			observed = append(observed, od)
		}
	}
	ids := make([]string, 0, len(observables))
	for id := range observables {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := observables[ids[i]], observables[ids[j]]
		if a["type"] != b["type"] {
			return a["type"].(string) < b["type"].(string)
		}
		return a["value"].(string) < b["value"].(string)
	})
	for _, id := range ids {
		objects = append(objects, observables[id])
	}
	objects = append(objects, rels...)
	objects = append(objects, observed...)
	bundle := stixObject{
		"type":    "bundle",
		"id":      "bundle--" + uuid.NewSHA1(reconformNamespace, []byte("bundle "+m.in.Engagement+" "+m.in.Lineage+" "+strconv.FormatUint(m.in.Serial, 10))).String(),
		"objects": objects,
	}
	return writeJSON(w, bundle)
}

// scoID is the deterministic UUIDv5 of an observable whose only
// id-contributing property is its value (domain-name, ipv4-addr,
// ipv6-addr): the namespace over the JCS form of {"value": ...}.
func scoID(value string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"value": value})
	return uuid.NewSHA1(stixSCONamespace, bytes.TrimRight(b.Bytes(), "\n")).String()
}

func stixDescription(f *schema.Finding) string {
	s := f.Type + " record"
	if len(f.Sources) > 0 {
		s += " seen by " + strings.Join(f.Sources, ", ")
	}
	if f.Current {
		return s + "; current"
	}
	return s + "; historical"
}

// isHostName reports whether s is a host name as RFC 1034 and 1123 allow
// it: dot-separated labels of letters, digits and inner hyphens.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// writeJSON writes v indented, without HTML escaping, ending in a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
