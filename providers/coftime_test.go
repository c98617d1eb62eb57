package providers

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseCOFTime(t *testing.T) {
	unix := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return tm.Unix()
	}
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		// Written by real bodies (testdata/real).
		{in: "1696798385", want: 1696798385},                                 // CIRCL documentation: a numeric string
		{in: "1315586409", want: 1315586409},                                 // COF: a number's text
		{in: "2019-08-06T21:06:40Z", want: unix("2019-08-06T21:06:40Z")},     // DNSDB humantime
		{in: "2018-09-06 22:48:00", want: unix("2018-09-06T22:48:00Z")},      // dnsdbq CSV time format
		{in: "2013-01-14T19:23:53.000Z", want: unix("2013-01-14T19:23:53Z")}, // RFC 3339 with a fraction
		{in: "2013-01-14T21:23:53+02:00", want: unix("2013-01-14T19:23:53Z")},
		{in: "2013-01-14T19:23:53", want: unix("2013-01-14T19:23:53Z")}, // no zone: UTC
		{in: "2024-06-01", want: unix("2024-06-01T00:00:00Z")},
		{in: "1700000000123", want: 1700000000}, // milliseconds in a seconds field
		{in: "1500000000.75", want: 1500000000},
		{in: " 1500000000 ", want: 1500000000},
		{in: "", want: 0},
		{in: "null", want: 0},
		{in: "0", want: 0},
		{in: "-3600", wantErr: `negative time "-3600"`},
		{in: "soon", wantErr: `unrecognised time "soon"`},
		{in: "1969-12-31T23:00:00Z", wantErr: "before 1970"},
		{in: "2019-13-40T00:00:00Z", wantErr: "unrecognised time"},
	}
	for _, tt := range tests {
		got, err := ParseCOFTime([]byte(tt.in))
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseCOFTime(%q) = %d, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
		case err != nil || got != tt.want:
			t.Errorf("ParseCOFTime(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestCOFTimeJSON(t *testing.T) {
	var v struct {
		A, B, C, D COFTime
	}
	if err := json.Unmarshal([]byte(`{"A":1315586409,"B":"1315586409","C":"2019-08-06T21:06:40Z","D":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 1315586409 || v.B != 1315586409 || v.C.Time().Format(time.RFC3339) != "2019-08-06T21:06:40Z" || v.D != 0 || !v.D.Time().IsZero() {
		t.Errorf("decoded %+v", v)
	}
	for _, bad := range []string{`{"A":true}`, `{"A":[1]}`, `{"A":{"t":1}}`, `{"A":"yesterday"}`, `{"A":-1}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

func TestCOFRecord(t *testing.T) {
	type want struct {
		Name, Type  string
		Data        []string
		Count       int64
		First, Last string
		Missing     string
	}
	day := func(tm time.Time) string {
		if tm.IsZero() {
			return ""
		}
		return tm.Format(time.RFC3339)
	}
	tests := []struct {
		line    string
		want    want
		wantErr string
	}{
		{ // CIRCL's first COF draft (testdata/real/circl): rrdata, string numbers
			line: `{"count": "37", "time_first": "1384865833", "rrtype": "A", "rrname": "www.ietf.org", "rrdata": "4.31.198.44", "time_last": "1388132830"}`,
			want: want{"www.ietf.org", "A", []string{"4.31.198.44"}, 37, "2013-11-19T12:57:13Z", "2013-12-27T08:27:10Z", ""},
		},
		{ // DNSDB humantime, zone times only
			line: `{"count":1,"zone_time_first":"2019-08-06T21:06:40Z","zone_time_last":"2019-08-06T21:06:40Z","rrname":"ns2.gestiondeeventos.app","rrtype":"A","rdata":"127.0.0.1"}`,
			want: want{"ns2.gestiondeeventos.app", "A", []string{"127.0.0.1"}, 1, "2019-08-06T21:06:40Z", "2019-08-06T21:06:40Z", ""},
		},
		{ // union of sensor and zone windows; rdata wins over rrdata
			line: `{"rrname":"a.example","rrtype":2,"rdata":["ns1.example."],"rrdata":"ignored.example","time_first":1400000000,"time_last":1500000000,"zone_time_first":1300000000,"zone_time_last":1450000000}`,
			want: want{"a.example", "NS", []string{"ns1.example."}, 0, "2011-03-13T07:06:40Z", "2017-07-14T02:40:00Z", ""},
		},
		{ // milliseconds and RFC 3339 extension members
			line: `{"rrname":"a.example","rrtype":"TYPE28","rdata":"2001:db8::1","time_first_ms":1700000000123,"time_last_rfc3339":"2024-01-01T00:00:00Z"}`,
			want: want{"a.example", "AAAA", []string{"2001:db8::1"}, 0, "2023-11-14T22:13:20Z", "2024-01-01T00:00:00Z", ""},
		},
		{line: `{}`, want: want{Data: nil, Missing: "rrname, rrtype, rdata"}},
		{line: `{"rrname":"a.example","rdata":[" "]}`, want: want{Name: "a.example", Data: []string{" "}, Missing: "rrtype, rdata"}},
		{line: `null`, wantErr: "null is not a record"},
		{line: `[1]`, wantErr: "cannot unmarshal"},
		{line: `{"rrname":"a.example","rrtype":"A","rdata":"192.0.2.1","time_first":"soon"}`, wantErr: `time_first: unrecognised time "soon"`},
		{line: `{"rrname":"a.example","rrtype":"A","rdata":{"x":1}}`, wantErr: "rdata:"},
	}
	for _, tt := range tests {
		var r COFRecord
		err := json.Unmarshal([]byte(tt.line), &r)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		first, last := r.Window()
		got := want{r.RRName, r.Type(), r.RData, r.Count, day(first), day(last), r.Missing()}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestIsCOFRecord(t *testing.T) {
	for line, want := range map[string]bool{
		`{"rrname":"a.example"}`:              true,
		`{"rrdata":"x"}`:                      true,
		`{}`:                                  false,
		`null`:                                false,
		`{"error":"quota exceeded"}`:          false,
		`{"status":"ratelimited"}`:            false,
		`["rrname"]`:                          false,
		`{"rrname":"a.example","rrtype":"A"`:  false,
		`  {"rrtype":"A","count":1}  `:        true,
		`{"message":"Internal Server Error"}`: false,
	} {
		if got := IsCOFRecord([]byte(line)); got != want {
			t.Errorf("IsCOFRecord(%s) = %v", line, got)
		}
	}
}

func FuzzParseCOFTime(f *testing.F) {
	for _, s := range []string{"1696798385", "2019-08-06T21:06:40Z", "2018-09-06 22:48:00", "1700000000123", "1.5e9", "-1", "", "null", "2024-06-01", "0x10"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		n, err := ParseCOFTime(s)
		if err == nil && n < 0 {
			t.Errorf("ParseCOFTime(%q) = %d, a negative time without an error", s, n)
		}
		if err != nil && n != 0 {
			t.Errorf("ParseCOFTime(%q) = %d with error %v", s, n, err)
		}
	})
}

func FuzzCOFRecord(f *testing.F) {
	for _, s := range []string{
		`{"count": "37", "time_first": "1384865833", "rrtype": "A", "rrname": "www.ietf.org", "rrdata": "4.31.198.44", "time_last": "1388132830"}`,
		`{"count":1,"zone_time_first":"2019-08-06T21:06:40Z","zone_time_last":"2019-08-06T21:06:40Z","rrname":"x.example","rrtype":"A","rdata":"127.0.0.1"}`,
		`{"rrname":"a.example","rrtype":65280,"rdata":["\\# 2 abcd"],"time_first_ms":"5"}`,
		`{}`, `null`, `[]`, `{"rdata":null,"rrdata":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r COFRecord
		if json.Unmarshal(b, &r) != nil {
			return
		}
		first, last := r.Window()
		if !first.IsZero() && !last.IsZero() && last.Before(first) {
			t.Errorf("window %s..%s ends before it starts", first, last)
		}
		_ = r.Type()
		_ = r.Missing()
		if r.Count < 0 {
			t.Errorf("negative count %d", r.Count)
		}
	})
}

// TestCOFWireTagsAreTheSharedNames keeps the fast decoding path's member
// names in step with LookupCOFField, the table the file provider uses.
func TestCOFWireTagsAreTheSharedNames(t *testing.T) {
	typ := reflect.TypeOf(cofWire{})
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("json")
		if LookupCOFField([]byte(tag)) == COFUnknown {
			t.Errorf("cofWire member %q is not a name LookupCOFField knows", tag)
		}
	}
	for _, name := range []string{"rrname", "rrtype", "rdata", "rrdata", "count", "bailiwick", "time_first", "time_last", "zone_time_first", "zone_time_last", "time_first_ms", "time_last_ms", "time_first_rfc3339", "time_last_rfc3339"} {
		found := false
		for i := range typ.NumField() {
			found = found || typ.Field(i).Tag.Get("json") == name
		}
		if !found {
			t.Errorf("LookupCOFField knows %q but cofWire has no member for it", name)
		}
	}
}

// BenchmarkCOFRecord decodes one real DNSDB record (go-dnsdb's test case
// 1), as the CIRCL, DNSDB and Robtex providers decode each line.
func BenchmarkCOFRecord(b *testing.B) {
	line := []byte(`{"count":5059,"time_first":1380139330,"time_last":1427881899,"rrname":"www.farsightsecurity.com.","rrtype":"A","bailiwick":"farsightsecurity.com.","rdata":["66.160.140.81"]}`)
	b.ReportAllocs()
	for range b.N {
		var r COFRecord
		if err := json.Unmarshal(line, &r); err != nil {
			b.Fatal(err)
		}
	}
}
