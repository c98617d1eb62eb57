package fakevendors

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// Each fake refuses a request without its vendor's credentials, the way
// the vendor does.
func TestFakesCheckCredentials(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.Handler
		path       string
		wantStatus int
		wantBody   string
	}{
		{"hackertarget bad key", &HackerTarget{Key: "k"}, "/hostsearch/?q=example.com&apikey=x", 200, HTInvalidKey},
		{"hackertarget bad parameter", &HackerTarget{}, "/reverseiplookup/?q=2001:db8::1", 200, HTBadParam},
		{"dnsdumpster", &DNSDumpster{Key: "k"}, "/domain/example.com", 401, "error"},
		{"dnsdb key", &DNSDB{Key: "k"}, "/dnsdb/v2/lookup/rrset/name/example.com", 403, "Error"},
		{"securitytrails", &SecurityTrails{Key: "k"}, "/v1/domain/example.com", 403, "Invalid authentication credentials"},
		{"virustotal", &VirusTotal{Key: "k"}, "/api/v3/domains/example.com/resolutions", 401, "AuthenticationRequiredError"},
		{"robtex pro", &Robtex{Key: "k"}, "/pdns/forward/example.com", 401, "invalid key"},
		{"circl", &CIRCL{Username: "u", Password: "p"}, "/pdns/query/example.com", 401, "Not authenticated"},
		{"crtsh without output=json", &CrtSh{}, "/?q=%25.example.com", 200, "<!DOCTYPE html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := Start(t, tt.handler)
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("got %d %q, want %d containing %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestDNSDBAccept(t *testing.T) {
	srv := Start(t, &DNSDB{Key: "k", Fixtures: os.DirFS("../../testdata/providers/dnsdb")})
	get := func(accept string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/dnsdb/v2/lookup/rdata/ip/203.0.113.0,24?limit=1", nil)
		req.Header.Set("X-API-Key", "k")
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("application/json"); code != http.StatusUnsupportedMediaType {
		t.Errorf("wrong Accept: %d", code)
	}
	code, body := get("application/x-ndjson")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if code != 200 || len(lines) != 3 || lines[0] != `{"cond":"begin"}` || !strings.Contains(lines[2], `"limited"`) {
		t.Errorf("got %d %q", code, body)
	}
}

func TestCIRCLDribble(t *testing.T) {
	fsys := fstest.MapFS{"example.com.ndjson": {Data: []byte("{\"rrname\":\"a\",\"rrtype\":\"A\"}\n{\"rrname\":\"b\",\"rrtype\":\"NS\"}\n{\"rrname\":\"c\",\"rrtype\":\"A\"}\n")}}
	srv := Start(t, &CIRCL{Username: "u", Password: "p", Fixtures: fsys})
	get := func(cursor, filter string) (string, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/pdns/query/example.com", nil)
		req.SetBasicAuth("u", "p")
		req.Header.Set("dribble-paginate-count", "1")
		if cursor != "" {
			req.Header.Set("dribble-paginate-cursor", cursor)
		}
		if filter != "" {
			req.Header.Set("dribble-filter-rrtype", filter)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.Header.Get("x-dribble-cursor")
	}
	if body, next := get("", "A"); !strings.Contains(body, `"a"`) || next != "1" {
		t.Errorf("page 1: %q next %q", body, next)
	}
	if body, next := get("1", "A"); !strings.Contains(body, `"c"`) || next != "" {
		t.Errorf("page 2: %q next %q", body, next)
	}
}
