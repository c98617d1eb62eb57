package report

import (
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/schema"
)

// mispTemplate is what an exported object takes from its MISP object
// template (github.com/MISP/misp-objects, objects/NAME/definition.json):
// the tests hold these against the vendored templates.
type mispTemplate struct {
	Name, UUID, MetaCategory, Description string
	Version                               int
	// Attributes maps an object relation to its MISP attribute type,
	// the category we file it under and whether correlation is off.
	Attributes map[string]mispAttrSpec
}

type mispAttrSpec struct {
	Type, Category     string
	DisableCorrelation bool
}

var (
	mispPassiveDNS = mispTemplate{
		Name: "passive-dns", UUID: "b77b7b1c-66ab-4a41-8da4-83810f6d2d6c", Version: 5, MetaCategory: "network",
		Description: "Passive DNS records as expressed in draft-dulaunoy-dnsop-passive-dns-cof-07. See https://tools.ietf.org/id/draft-dulaunoy-dnsop-passive-dns-cof-07.html",
		Attributes: map[string]mispAttrSpec{
			"rrname":     {"text", "Network activity", false},
			"rrtype":     {"text", "Network activity", true},
			"rdata":      {"text", "Network activity", false},
			"time_first": {"datetime", "Other", true},
			"time_last":  {"datetime", "Other", true},
			"count":      {"counter", "Other", true},
		},
	}
	mispDomainIP = mispTemplate{
		Name: "domain-ip", UUID: "43b3b146-77eb-4931-b4cc-b66c60f28734", Version: 11, MetaCategory: "network",
		Description: "A domain/hostname and IP address seen as a tuple in a specific time frame.",
		Attributes: map[string]mispAttrSpec{
			"domain":     {"domain", "Network activity", false},
			"hostname":   {"hostname", "Network activity", false},
			"ip":         {"ip-dst", "Network activity", false},
			"first-seen": {"datetime", "Other", true},
			"last-seen":  {"datetime", "Other", true},
		},
	}
)

type mispEvent struct {
	Event mispEventBody `json:"Event"`
}

type mispEventBody struct {
	UUID          string       `json:"uuid"`
	Info          string       `json:"info"`
	Date          string       `json:"date"`
	Timestamp     string       `json:"timestamp"`
	ThreatLevelID string       `json:"threat_level_id"`
	Analysis      string       `json:"analysis"`
	Distribution  string       `json:"distribution"`
	Published     bool         `json:"published"`
	Tag           []mispTag    `json:"Tag"`
	Object        []mispObject `json:"Object"`
}

type mispTag struct {
	Name string `json:"name"`
}

type mispObject struct {
	UUID            string          `json:"uuid"`
	Name            string          `json:"name"`
	MetaCategory    string          `json:"meta-category"`
	Description     string          `json:"description"`
	TemplateUUID    string          `json:"template_uuid"`
	TemplateVersion string          `json:"template_version"`
	Timestamp       string          `json:"timestamp"`
	Distribution    string          `json:"distribution"`
	Comment         string          `json:"comment"`
	FirstSeen       string          `json:"first_seen,omitempty"`
	LastSeen        string          `json:"last_seen,omitempty"`
	Attribute       []mispAttribute `json:"Attribute"`
}

type mispAttribute struct {
	UUID               string `json:"uuid"`
	ObjectRelation     string `json:"object_relation"`
	Type               string `json:"type"`
	Category           string `json:"category"`
	Value              string `json:"value"`
	ToIDS              bool   `json:"to_ids"`
	DisableCorrelation bool   `json:"disable_correlation"`
	Distribution       string `json:"distribution"`
	Timestamp          string `json:"timestamp"`
}

// mispTime is how MISP writes a datetime attribute and first/last seen.
func mispTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000+00:00") }

// misp writes the findings as one MISP event (the JSON MISP's "Add event
// from JSON" and /events/add take): a passive-dns object per record and a
// domain-ip object per A or AAAA record, following MISP's object
// templates. Nothing is flagged for IDS: passive DNS of an engagement's
// target is reconnaissance, not an indicator of compromise. Every uuid is
// derived from the state (lineage and serial) and the record, so the
// export is reproducible and each state is its own event.
func (m *model) misp(w io.Writer) error {
	at := m.in.RunFinished
	if at.IsZero() {
		at = m.in.GeneratedAt
	}
	if at.IsZero() {
		at = time.Unix(0, 0)
	}
	stamp := strconv.FormatInt(at.Unix(), 10)
	eventID := uuid.NewSHA1(reconformNamespace, []byte("misp event "+m.in.Engagement+" "+m.in.Lineage+" "+strconv.FormatUint(m.in.Serial, 10)))
	info := "reconform passive DNS"
	if m.in.Engagement != "" {
		info += ": " + m.in.Engagement
	}
	ev := mispEventBody{
		UUID: eventID.String(), Info: info + " (state serial " + strconv.FormatUint(m.in.Serial, 10) + ")",
		Date: at.UTC().Format("2006-01-02"), Timestamp: stamp,
		ThreatLevelID: "4", // undefined
		Analysis:      "2", // completed
		Distribution:  "0", // your organisation only
		Tag:           []mispTag{{Name: "tlp:amber"}, {Name: "reconform"}},
		Object:        []mispObject{},
	}
	object := func(t *mispTemplate, f *Finding) mispObject {
		o := mispObject{
			UUID: uuid.NewSHA1(eventID, []byte(t.Name+" "+f.ID())).String(),
			Name: t.Name, MetaCategory: t.MetaCategory, Description: t.Description,
			TemplateUUID: t.UUID, TemplateVersion: strconv.Itoa(t.Version),
			Timestamp: stamp, Distribution: "5", // the event's
			Comment: mispComment(&f.Finding),
		}
		if !f.FirstSeen.IsZero() {
			o.FirstSeen = mispTime(f.FirstSeen)
		}
		if !f.LastSeen.IsZero() && !f.LastSeen.Before(f.FirstSeen) {
			o.LastSeen = mispTime(f.LastSeen)
		}
		return o
	}
	add := func(o *mispObject, t *mispTemplate, relation, value string) {
		spec := t.Attributes[relation]
		o.Attribute = append(o.Attribute, mispAttribute{
			UUID:           uuid.NewSHA1(uuid.MustParse(o.UUID), []byte(relation+" "+value)).String(),
			ObjectRelation: relation, Type: spec.Type, Category: spec.Category, Value: value,
			DisableCorrelation: spec.DisableCorrelation, Distribution: "5", Timestamp: stamp,
		})
	}
	times := func(o *mispObject, t *mispTemplate, first, last string, f *Finding) {
		if !f.FirstSeen.IsZero() {
			add(o, t, first, mispTime(f.FirstSeen))
		}
		if !f.LastSeen.IsZero() {
			add(o, t, last, mispTime(f.LastSeen))
		}
	}
	for i := range m.findings {
		f := &m.findings[i]
		if f.Type == schema.TypeHost || f.Value == "" {
			continue
		}
		o := object(&mispPassiveDNS, f)
		add(&o, &mispPassiveDNS, "rrname", f.Name)
		add(&o, &mispPassiveDNS, "rrtype", f.Type)
		add(&o, &mispPassiveDNS, "rdata", f.Value)
		times(&o, &mispPassiveDNS, "time_first", "time_last", f)
		if f.Count > 0 {
			add(&o, &mispPassiveDNS, "count", strconv.FormatInt(f.Count, 10))
		}
		ev.Object = append(ev.Object, o)

		if f.Type != "A" && f.Type != "AAAA" {
			continue
		}
		ip, err := netip.ParseAddr(f.Value)
		if err != nil {
			continue
		}
		d := object(&mispDomainIP, f)
		if analysis.RegisteredDomain(f.Name) == f.Name {
			add(&d, &mispDomainIP, "domain", f.Name)
		} else {
			add(&d, &mispDomainIP, "hostname", f.Name)
		}
		add(&d, &mispDomainIP, "ip", ip.String())
		times(&d, &mispDomainIP, "first-seen", "last-seen", f)
		ev.Object = append(ev.Object, d)
	}
	return writeJSON(w, mispEvent{Event: ev})
}

func mispComment(f *schema.Finding) string {
	s := "historical"
	if f.Current {
		s = "current"
	}
	if len(f.Sources) > 0 {
		s += "; seen by " + strings.Join(f.Sources, ", ")
	}
	return s
}
