package file

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

// realData is testdata/real, relative to the fixtures folder the test
// providers resolve paths against.
const realData = "../real/"

// rfc is an RFC 3339 time as the tables spell it.
func rfc(s string) string { return s }

// TestRealBulkFormats reads real exports of every bulk format the provider
// takes (COF NDJSON from CIRCL, DNSDB with and without SAF framing and
// with humantime strings, Robtex; Sonar FDNS and RDNS), with the findings,
// times, counts and currency worked out by hand from the lines in each
// file. Currency is relative to the newest last_seen of the file, with the
// default 30-day window.
func TestRealBulkFormats(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		op      schema.Op
		subject string
		want    []brief
		warning string
		lines   int64 // lines read; 0 skips the check
		bad     int64
	}{
		{
			name: "pdns-qof CIRCL records: two CNAME windows, the newer current",
			path: "cof/pdns-qof-data.ndjson", op: schema.OpResolutions, subject: "www.circl.lu",
			want: []brief{
				{"www.circl.lu", "CNAME", "cpa.circl.lu", ts(1315586409), ts(1449566799), 1909, false},
				{"www.circl.lu", "CNAME", "cpab.circl.lu", ts(1449584660), ts(1617676151), 2560, true},
			},
			lines: 2,
		},
		{
			name: "pdns-qof CIRCL records: owner and CNAME targets are subdomains",
			path: "cof/pdns-qof-data.ndjson", op: schema.OpSubdomains, subject: "circl.lu",
			want: []brief{
				{"cpa.circl.lu", "HOST", "", ts(1315586409), ts(1449566799), 1909, false},
				{"cpab.circl.lu", "HOST", "", ts(1449584660), ts(1617676151), 2560, true},
				{"www.circl.lu", "HOST", "", ts(1315586409), ts(1617676151), 4469, true},
			},
		},
		{
			name: "COF draft figure 3: ietf.org",
			path: "cof/draft-cof-12-ietf.org.ndjson", op: schema.OpResolutions, subject: "ietf.org",
			want: []brief{
				{"ietf.org", "A", "64.170.98.32", ts(1298495035), ts(1298495035), 4, false},
				{"ietf.org", "AAAA", "2001:1890:123a::1:1e", ts(1317037550), ts(1330209752), 9, false},
				{"ietf.org", "NS", "ns1.yyz1.afilias-nst.info", ts(1298398002), ts(1389095375), 109877, true},
			},
			lines: 3,
		},
		{
			name: "COF draft figure 3: NS reverse",
			path: "cof/draft-cof-12-ietf.org.ndjson", op: schema.OpNSReverse, subject: "ns1.yyz1.afilias-nst.info",
			want: []brief{{"ietf.org", "NS", "ns1.yyz1.afilias-nst.info", ts(1298398002), ts(1389095375), 109877, true}},
		},
		{
			name: "COF draft figure 2: www.ietf.org",
			path: "cof/draft-cof-12-www.ietf.org.ndjson", op: schema.OpResolutions, subject: "www.ietf.org",
			want: []brief{
				{"www.ietf.org", "A", "4.31.198.44", ts(1384865833), ts(1389022219), 59, true},
				{"www.ietf.org", "AAAA", "2001:1890:1112:1::20", ts(1298412391), ts(1302506851), 102, false},
			},
		},
		{
			name: "CIRCL's first COF draft: rrdata and string numbers",
			path: "circl/query-ietf.org.cof-kaplan-00.ndjson", op: schema.OpResolutions, subject: "ietf.org",
			want: []brief{
				{"ietf.org", "A", "64.170.98.32", ts(1298495035), ts(1298495035), 4, false},
				{"ietf.org", "AAAA", "2001:1890:123a::1:1e", ts(1317037550), ts(1330209752), 9, false},
				{"ietf.org", "NS", "ns1.yyz1.afilias-nst.info", ts(1298398002), ts(1388134770), 109330, true},
			},
		},
		{
			name: "CIRCL D4 server answer: sixteen names on one IPv6 address",
			path: "circl/query-2a02.250.0.8..53.d4.ndjson", op: schema.OpReverseIP, subject: "2a02:250:0:8::53",
			lines: 16,
		},
		{
			name: "DNSDB humantime export: RFC 3339 zone times, one tuple in two windows",
			path: "dnsdb/humantime-rdata-ip-127.0.0.1.cof.ndjson", op: schema.OpReverseIP, subject: "127.0.0.1",
			want: []brief{
				{"ns2.gestiondeeventos.app", "A", "127.0.0.1", rfc("2019-08-06T21:06:40Z"), rfc("2019-08-12T19:51:57Z"), 2, true},
			},
			lines: 2,
		},
		{
			name: "DNSDB humantime export: sensor and zone RRsets of google.com",
			path: "dnsdb/humantime-rrset-google.com.cof.ndjson", op: schema.OpResolutions, subject: "google.com",
			want: []brief{
				{"google.com", "A", "173.194.220.100", rfc("2010-04-24T16:12:21Z"), rfc("2010-12-31T17:09:16Z"), 1979, false},
				{"google.com", "A", "173.194.220.101", rfc("2010-04-24T16:12:21Z"), rfc("2010-12-31T17:09:16Z"), 1979, false},
				{"google.com", "A", "74.125.224.64", rfc("2013-01-14T19:23:53Z"), rfc("2013-01-14T19:23:53Z"), 5, false},
				{"google.com", "A", "74.125.224.65", rfc("2013-01-14T19:23:53Z"), rfc("2013-01-14T19:23:53Z"), 5, false},
				{"google.com", "AAAA", "2001:4860:4001:802::1008", rfc("2013-01-09T07:43:50Z"), rfc("2013-01-09T07:43:50Z"), 2, false},
				{"google.com", "NS", "ns1.google.com", rfc("2013-01-01T17:15:58Z"), rfc("2013-12-31T17:12:26Z"), 252, true},
				{"google.com", "NS", "ns2.google.com", rfc("2013-01-01T17:15:58Z"), rfc("2013-12-31T17:12:26Z"), 252, true},
			},
			lines: 4,
		},
		{
			name: "DNSDB humantime export: AAAA reverse",
			path: "dnsdb/humantime-rdata-ip-2001.db8.85a3..8a2e.370.7334.cof.ndjson", op: schema.OpReverseIP, subject: "2001:db8:85a3::8a2e:370:7334",
			want: []brief{
				{"dns2.tacnet.org", "AAAA", "2001:db8:85a3::8a2e:370:7334", rfc("2019-12-01T23:47:00Z"), rfc("2019-12-01T23:47:00Z"), 1, true},
				{"dns3.tacnet.org", "AAAA", "2001:db8:85a3::8a2e:370:7334", rfc("2019-12-01T23:47:00Z"), rfc("2019-12-01T23:47:00Z"), 1, true},
			},
		},
		{
			name: "DNSDB export: a zone-file and a sensor observation of one delegation add up",
			path: "dnsdb/rdata-name-ns5.dnsmadeeasy.com-NS.cof.ndjson", op: schema.OpNSReverse, subject: "ns5.dnsmadeeasy.com",
			want: []brief{{"farsightsecurity.com", "NS", "ns5.dnsmadeeasy.com", ts(1374096380), ts(1468334926), 1078 + 706617, true}},
		},
		{
			name: "DNSDB export: MX reverse of hq.fsi.io",
			path: "dnsdb/rdata-name-hq.fsi.io-MX.cof.ndjson", op: schema.OpMXReverse, subject: "hq.fsi.io",
			want: []brief{
				{"farsightsecurity.com", "MX", "hq.fsi.io", ts(1374098929), ts(1468333042), 19304, true},
				{"fsi.io", "MX", "hq.fsi.io", ts(1372706073), ts(1468330740), 45644, true},
			},
		},
		{
			name: "DNSDB export: DNSSEC RRsets with zone times only",
			path: "dnsdb/rrset-farsightsecurity.com-ANY-DNSSEC.cof.ndjson", op: schema.OpResolutions, subject: "farsightsecurity.com",
			want: []brief{
				{"farsightsecurity.com", "DS", "60454 5 2 3672C35CFA8FF14C9C223B84277BD645C0AF54BAD5790375FE797161E4801479", ts(1374250920), ts(1521734545), 1696, true},
				{"farsightsecurity.com", "RRSIG", "DS 8 2 86400 1374774350 1374165350 8795 com. cuOdo+2G0yJpBN5ba2zxiljSzgtTzminrVc3CrsNxQPqc5YVQX4eBWMB +kpgSEXPT+DF2D9HwIsPpBDNdJekBpXIRW41Yl7IdZYHySqabn7hgt9M mk5KNy9gqCOK/JLRs07LPAm3wvfyYer8e0/7VCTEjF9/DMbMGsLLH3xr kBA=", ts(1374250920), ts(1374423636), 3, false},
			},
		},
		{
			name: "DNSDB SAF stream saved to a file",
			path: "dnsdb/saf-fsi.io-A.succeeded.saf", op: schema.OpResolutions, subject: "fsi.io",
			want:  []brief{{"fsi.io", "A", "104.244.14.108", ts(1578076118), ts(1580765117), 271, true}},
			lines: 3,
		},
		{
			name: "DNSDB SAF stream cut by the result limit: the records are kept, the file says it is partial",
			path: "dnsdb/saf-fsi.io-A.limited.saf", op: schema.OpResolutions, subject: "fsi.io",
			want:    []brief{{"fsi.io", "A", "104.244.14.108", ts(1578076118), ts(1580765117), 271, true}},
			warning: `ends with cond "limited" (Query limit reached)`,
		},
		{
			name: "DNSDB SAF stream that failed: the records before are kept, with a warning",
			path: "dnsdb/saf-fsi.io-A.failed.saf", op: schema.OpResolutions, subject: "fsi.io",
			want:    []brief{{"fsi.io", "A", "104.244.14.108", ts(1578076118), ts(1580765117), 271, true}},
			warning: `ends with cond "failed" (Processing timeout; results may be incomplete)`,
		},
		{
			name: "Robtex reverse export: repeated identical lines count once",
			path: "robtex/reverse-a.iana-servers.net.ndjson", op: schema.OpNSReverse, subject: "a.iana-servers.net",
			want: []brief{
				{"132.43.199.in-addr.arpa", "NS", "a.iana-servers.net", ts(1439022822), ts(1505460564), 2, false},
				{"237.in-addr.arpa", "NS", "a.iana-servers.net", ts(1441298790), ts(1505450260), 2, false},
				{"95.7.199.in-addr.arpa", "NS", "a.iana-servers.net", ts(1435184854), ts(1500350674), 2, false},
				{"dns-cert.net", "NS", "a.iana-servers.net", ts(1440742630), ts(1511750282), 2, false},
				{"icannalac.com", "NS", "a.iana-servers.net", ts(1440957502), ts(1526778684), 2, true},
				{"icannpassport.com", "NS", "a.iana-servers.net", ts(1440736048), ts(1506256974), 2, false},
				{"mail60.variantfuture.com", "NS", "a.iana-servers.net", ts(1447141690), ts(1486544636), 2, false},
				{"publictechnicalidentifier.network", "NS", "a.iana-servers.net", ts(1481408434), ts(1504871634), 2, false},
				{"publictechnicalidentifiers.international", "NS", "a.iana-servers.net", ts(1481408434), ts(1527748024), 2, true},
			},
			lines: 15,
		},
		{
			name: "Robtex reverse export: a repeated A line counts once",
			path: "robtex/ppdns-reverse.ndjson", op: schema.OpReverseIP, subject: "199.43.132.53",
			want: []brief{
				{"a.iana-servers.net", "A", "199.43.132.53", ts(1441242410), ts(1460542918), 18, true},
				{"a.iana-servers.org", "A", "199.43.132.53", ts(1439620242), ts(1460165924), 18, true},
				{"a.icann-servers.net", "A", "199.43.132.53", ts(1448005462), ts(1456189254), 2, false},
			},
		},
		{
			name: "Robtex forward export over CRLF",
			path: "robtex/forward-a.iana-servers.net.ndjson", op: schema.OpResolutions, subject: "a.iana-servers.net",
			want: []brief{
				{"a.iana-servers.net", "A", "199.43.132.53", ts(1441242410), ts(1460542918), 18, false},
				{"a.iana-servers.net", "A", "199.43.135.53", ts(1460751956), ts(1528461120), 18, true},
				{"a.iana-servers.net", "AAAA", "2001:500:8c::53", ts(1441242410), ts(1460542918), 18, false},
				{"a.iana-servers.net", "AAAA", "2001:500:8f::53", ts(1460751956), ts(1528461120), 18, true},
			},
			lines: 4,
		},
		{
			name: "Sonar RDNS: a PTR by its address, the last line without a newline",
			path: "sonar/rdns-v2.rdns-fs-test.json", op: schema.OpReverseIP, subject: "1.113.142.251",
			want:  []brief{{"1.113.142.251", "PTR", "em1-113-142-251.pool.e-mobile.ne.jp", ts(1609316287), ts(1609316287), 0, true}},
			lines: 40,
		},
		{
			name: "Sonar RDNS: a PTR by its address",
			path: "sonar/rdns-v2.rdns-fs-test.json", op: schema.OpReverseIP, subject: "52.93.127.163",
			want: []brief{{"52.93.127.163", "PTR", "test.amazonaws.com", ts(1609337986), ts(1609337986), 0, true}},
		},
		{
			name: "Sonar FDNS: A and CNAME of one name, in the spaced layout",
			path: "sonar/fdns-v2.jimen0-fdns_test.json", op: schema.OpResolutions, subject: "reseauocoz.cluster007.foo.tld",
			want: []brief{
				{"reseauocoz.cluster007.foo.tld", "A", "127.0.0.1", ts(1492468299), ts(1492468299), 0, true},
				{"reseauocoz.cluster007.foo.tld", "CNAME", "cluster007.bar.tld", ts(1492468299), ts(1492468299), 0, true},
			},
			lines: 7,
		},
		{
			name: "Sonar FDNS: subdomains are owners and name-server targets",
			path: "sonar/fdns-v2.jimen0-fdns_test.json", op: schema.OpSubdomains, subject: "foo.tld",
			want: []brief{
				{"1087074.ostk.bm2.corp.ne1.foo.tld", "HOST", "", ts(1492468299), ts(1492468299), 0, true},
				{"ns.cdn.foo.tld", "HOST", "", ts(1492468299), ts(1492468299), 0, true},
				{"ns.internal.foo.tld", "HOST", "", ts(1492468299), ts(1492468299), 0, true},
				{"reseauocoz.cluster007.foo.tld", "HOST", "", ts(1492468299), ts(1492468299), 0, true},
				{"reseauocoz.cluster008.foo.tld", "HOST", "", ts(1492468299), ts(1492468299), 0, true},
				{"reseauocoz.cluster009.foo.tld", "HOST", "", ts(1492468299), ts(1492468299), 0, true},
			},
		},
		{
			name: "Sonar FDNS: AAAA reverse",
			path: "sonar/fdns-v2.jimen0-fdns_test.json", op: schema.OpReverseIP, subject: "2001:4998:efeb:202::5001",
			want: []brief{{"1087074.ostk.bm2.corp.ne1.foo.tld", "AAAA", "2001:4998:efeb:202::5001", ts(1492468299), ts(1492468299), 0, true}},
		},
		{
			name: "Sonar FDNS: a broken line is skipped with its line number",
			path: "sonar/fdns-v2.invalid-line.jimen0-fdns_test.json", op: schema.OpResolutions, subject: "reseauocoz.cluster008.foo.tld",
			want:    []brief{{"reseauocoz.cluster008.foo.tld", "CNAME", "cluster008.bar.tld", ts(1492468299), ts(1492468299), 0, true}},
			warning: "line 2: ",
			lines:   3, bad: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProvider(t, realData+tt.path, nil)
			ans := query(t, p, tt.op, tt.subject)
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, briefs(ans.Findings)); diff != "" {
					t.Errorf("findings (-want +got):\n%s", diff)
				}
			}
			w := strings.Join(ans.Warnings, "\n")
			if tt.warning == "" && w != "" || !strings.Contains(w, tt.warning) {
				t.Errorf("warnings %q, want %q", w, tt.warning)
			}
			if tt.lines > 0 && (p.ix.lines != tt.lines || p.ix.bad != tt.bad) {
				t.Errorf("lines %d, bad %d; want %d and %d (%v)", p.ix.lines, p.ix.bad, tt.lines, tt.bad, p.ix.warnings)
			}
		})
	}
}

// TestRealD4ReverseAnswer checks the sixteen-line answer of CIRCL's COF
// server in full: every name once, each seen once at its own time.
func TestRealD4ReverseAnswer(t *testing.T) {
	p := newTestProvider(t, realData+"circl/query-2a02.250.0.8..53.d4.ndjson", nil)
	ans := query(t, p, schema.OpReverseIP, "2a02:250::/32")
	if len(ans.Findings) != 16 {
		t.Fatalf("%d findings, want 16", len(ans.Findings))
	}
	first := briefs(ans.Findings[:1])[0]
	want := brief{"galleri.torsaspaintball.se", "AAAA", "2a02:250:0:8::53", ts(1657874940), ts(1657874940), 1, true}
	if first != want {
		t.Errorf("first finding %+v, want %+v", first, want)
	}
	for _, f := range ans.Findings {
		if f.Count != 1 || !f.FirstSeen.Equal(f.LastSeen) {
			t.Errorf("%s: count %d, window %s..%s", f.Name, f.Count, f.FirstSeen, f.LastSeen)
		}
	}
}

// TestDNSDBQCSVLayout reads CSV in dnsdbq's -p csv layout (zone windows in
// their own columns, its CSV time format, a repeated row), written from
// real DNSDB records (testdata/file/dnsdbq-layout.csv says how).
func TestDNSDBQCSVLayout(t *testing.T) {
	p := newTestProvider(t, "dnsdbq-layout.csv", nil)
	tests := []struct {
		op      schema.Op
		subject string
		want    []brief
	}{
		{schema.OpNSReverse, "ns5.dnsmadeeasy.com", []brief{
			{"farsightsecurity.com", "NS", "ns5.dnsmadeeasy.com", ts(1374096380), ts(1468334926), 1078 + 706617, true},
		}},
		{schema.OpMXReverse, "hq.fsi.io", []brief{
			{"farsightsecurity.com", "MX", "hq.fsi.io", ts(1374098929), ts(1468333042), 19304, true},
			{"fsi.io", "MX", "hq.fsi.io", ts(1372706073), ts(1468330740), 45644, true},
		}},
	}
	for _, tt := range tests {
		ans := query(t, p, tt.op, tt.subject)
		if diff := cmp.Diff(tt.want, briefs(ans.Findings)); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.op, tt.subject, diff)
		}
		if len(ans.Warnings) > 0 {
			t.Errorf("warnings: %v", ans.Warnings)
		}
	}
}
