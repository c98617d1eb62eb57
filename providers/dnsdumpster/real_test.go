package dnsdumpster_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/dnsdumpster"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// realDir holds real DNSDumpster pages (see its SOURCES.md: no stored
// source has a real body of the JSON API).
var realDir = filepath.Join("..", "..", "testdata", "real", "dnsdumpster")

var htmlHeaders = []string{"Content-Type", "text/html; charset=utf-8", "Set-Cookie", "csrftoken=asdf"}

// TestRealPages: the website's pages (what an endpoint set to
// https://dnsdumpster.com, or a login wall, answers with 200) are not an
// answer of the API, and are not retried.
func TestRealPages(t *testing.T) {
	for _, file := range []string{"website_home.html", "website_search_blacklanternsecurity.com.html"} {
		t.Run(file, func(t *testing.T) {
			path := "/domain/blacklanternsecurity.com"
			replay := providertest.NewReplay(t, realDir, providertest.Exchange{Path: path, File: file, Header: htmlHeaders})
			cfg, gate := providertest.Config(t, "dnsdumpster", replay.URL, map[string]string{"api_key": key})
			p, logs := providertest.Build(t, dnsdumpster.New, cfg)
			ans, err := p.Query(context.Background(), providertest.Query("dnsdumpster", schema.OpSubdomains, "blacklanternsecurity.com"))
			providertest.CheckFinalError(t, err, providers.KindMalformed, "HTML page")
			replay.CheckRequests(t, gate, []string{"GET " + path})
			providertest.CheckNoSecret(t, key, err, ans, logs.String())
		})
	}
}

// TestWrongShapes: every answer of the API has the record lists (a, cname,
// mx, ns, txt); a 200 without any of them is malformed, or a quota when it
// says so, never "no hosts". The lists empty is a real empty answer.
func TestWrongShapes(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		kind       providers.ErrorKind
		msg        string
	}{
		{name: "empty lists", body: `{"a": [], "cname": [], "mx": [], "ns": [], "txt": [], "total_a_recs": 0}`},
		{name: "empty object", body: `{}`, kind: providers.KindMalformed, msg: `none of "a", "cname", "mx", "ns", "txt" is there`},
		{name: "null", body: `null`, kind: providers.KindMalformed, msg: "the answer is null"},
		{name: "array", body: `[]`, kind: providers.KindMalformed, msg: "the answer is an array"},
		{name: "other vendor's list", body: `{"subdomains": null}`, kind: providers.KindMalformed, msg: "none of"},
		{name: "lists null", body: `{"a": null, "total_a_recs": 0}`, kind: providers.KindMalformed, msg: "none of"},
		{name: "usage message", body: `{"message": "You have exceeded the allowed usage of your API key"}`, kind: providers.KindQuota, msg: "exceeded the allowed usage"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := "/domain/example.com"
			replay := providertest.NewReplay(t, realDir, providertest.Exchange{Path: path, Body: tt.body, Header: []string{"Content-Type", "application/json"}})
			cfg, _ := providertest.Config(t, "dnsdumpster", replay.URL, map[string]string{"api_key": key})
			p, _ := providertest.Build(t, dnsdumpster.New, cfg)
			ans, err := p.Query(context.Background(), providertest.Query("dnsdumpster", schema.OpSubdomains, "example.com"))
			replay.CheckRequests(t, nil, []string{"GET " + path})
			if tt.kind == "" {
				providertest.CheckEmpty(t, ans, err)
				return
			}
			providertest.CheckFinalError(t, err, tt.kind, tt.msg)
		})
	}
}

// TestWrongShapeOnLaterPage: a later page without the record lists ends
// the paging like a failed page: page 1 is kept, the answer says it is
// partial.
func TestWrongShapeOnLaterPage(t *testing.T) {
	replay := providertest.NewReplay(t, realDir,
		providertest.Exchange{Path: "/domain/example.com", Body: `{"a": [{"host": "www.example.com", "ips": [{"ip": "203.0.113.10"}]}], "cname": [], "mx": [], "ns": [], "txt": [], "total_a_recs": 2}`},
		providertest.Exchange{Path: "/domain/example.com?page=2", Body: `{}`},
	)
	cfg, _ := providertest.Config(t, "dnsdumpster", replay.URL, map[string]string{"api_key": key})
	p, _ := providertest.Build(t, dnsdumpster.New, cfg)
	ans, err := p.Query(context.Background(), providertest.Query("dnsdumpster", schema.OpSubdomains, "example.com"))
	providertest.CheckAnswer(t, ans, err, 2, "page 2 failed, the answer is partial")
}
