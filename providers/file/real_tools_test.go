package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

// asOf is the snapshot time the tables give files whose lines carry no
// time (their records are seen then; see TestUndatedFileTime for the
// modification-time rule).
const asOf = "2024-06-01"

var asOfAttrs = map[string]cty.Value{"as_of": cty.StringVal(asOf)}

// snap is asOf as the briefs spell it.
const snap = "2024-06-01T00:00:00Z"

// host is a HOST brief seen at t.
func host(name, t string, current bool) brief { return brief{name, "HOST", "", t, t, 0, current} }

// rec is a record brief seen once at t.
func rec(name, typ, value, t string, current bool) brief {
	return brief{name, typ, value, t, t, 0, current}
}

// TestRealToolOutputs reads real outputs of subfinder, Amass (v3 JSON and
// -src lists, v4 graph text), BBOT, dnsx, massdns and a real zone (IANA's
// root zone), with the findings, times and currency worked out by hand
// from the lines of each file (testdata/real/<tool>/SOURCES.md says where
// each comes from).
func TestRealToolOutputs(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		attrs   map[string]cty.Value
		op      schema.Op
		subject string
		rrtypes []string
		want    []brief
		count   int // findings, when want is not spelled out
		lines   int64
		bad     int64
		format  string
	}{
		{
			name: "subfinder passive: every host a HOST at as_of, the IDN in A-label form",
			path: "subfinder/passive-example.com.jsonl", attrs: asOfAttrs, op: schema.OpSubdomains, subject: "example.com",
			want: []brief{
				host("cdn1.example.com", snap, true), host("mall.example.com", snap, true), host("myap.example.com", snap, true),
				host("new-client.example.com", snap, true), host("not-exist.example.com", snap, true), host("op.example.com", snap, true),
				host("releases.example.com", snap, true), host("xn--rksmrgs-5wao1o.example.com", snap, true),
			},
			lines: 8, format: FormatSubfinder,
		},
		{
			name: "subfinder passive: a host is no resolution",
			path: "subfinder/passive-example.com.jsonl", attrs: asOfAttrs, op: schema.OpResolutions, subject: "cdn1.example.com",
			want: []brief{},
		},
		{
			name: "subfinder passive: HOST when asked for by type",
			path: "subfinder/passive-example.com.jsonl", attrs: asOfAttrs, op: schema.OpResolutions, subject: "cdn1.example.com", rrtypes: []string{"HOST"},
			want: []brief{host("cdn1.example.com", snap, true)},
		},
		{
			name: "subfinder passive: 73 hosts of securecodebox.io",
			path: "subfinder/passive-securecodebox.io.jsonl", attrs: asOfAttrs, op: schema.OpSubdomains, subject: "securecodebox.io",
			count: 73, lines: 73,
		},
		{
			name: "subfinder -active -ip: reverse_ip finds the hosts on a shared address",
			path: "subfinder/active-ip-securecodebox.io.jsonl", attrs: asOfAttrs, op: schema.OpReverseIP, subject: "88.99.30.123",
			want: []brief{
				rec("charts.securecodebox.io", "A", "88.99.30.123", snap, true),
				rec("sky.securecodebox.io", "A", "88.99.30.123", snap, true),
				rec("telemetry.chase.securecodebox.io", "A", "88.99.30.123", snap, true),
				rec("telemetry.securecodebox.io", "A", "88.99.30.123", snap, true),
			},
			lines: 6,
		},
		{
			name: "subfinder -active -ip: the host's address, and the host among subdomains",
			path: "subfinder/active-ip-example.com.jsonl", attrs: asOfAttrs, op: schema.OpSubdomains, subject: "example.com",
			want:  []brief{host("www.example.com", snap, true)},
			lines: 1,
		},
		{
			name: "Amass v3 JSON: an address is an A record",
			path: "amass/v3-json-example.com.jsonl", attrs: asOfAttrs, op: schema.OpResolutions, subject: "www.example.de",
			want:  []brief{rec("www.example.de", "A", "10.110.225.135", snap, true)},
			lines: 1, format: FormatAmass,
		},
		{
			name: "Amass early v3 JSON: each line at its own Timestamp, current within 30 days of the newest",
			path: "amass/v3-json-timestamp-securecodebox.io.jsonl", op: schema.OpResolutions, subject: "grafana.securecodebox.io",
			want:  []brief{rec("grafana.securecodebox.io", "A", "138.201.126.99", "2019-10-04T21:35:19Z", true)},
			lines: 44,
		},
		{
			name: "Amass early v3 JSON: 44 names on one address",
			path: "amass/v3-json-timestamp-securecodebox.io.jsonl", op: schema.OpReverseIP, subject: "138.201.126.99",
			count: 44,
		},
		{
			name: "Amass v4 graph: MX hosts (no preference in the graph) and NS",
			path: "amass/v4.1.0-enum-att.com.issue963.txt", attrs: asOfAttrs, op: schema.OpResolutions, subject: "att.com",
			want: []brief{
				rec("att.com", "MX", "mx0a-00191d01.pphosted.com", snap, true), rec("att.com", "MX", "mx0b-00191d01.pphosted.com", snap, true),
				rec("att.com", "NS", "a1-187.akam.net", snap, true), rec("att.com", "NS", "a11-65.akam.net", snap, true),
				rec("att.com", "NS", "a2-64.akam.net", snap, true), rec("att.com", "NS", "a22-67.akam.net", snap, true),
				rec("att.com", "NS", "a4-64.akam.net", snap, true), rec("att.com", "NS", "a5-66.akam.net", snap, true),
			},
			lines: 8, format: FormatAmass,
		},
		{
			name: "Amass v4 graph: mx_reverse on an MX host without preference",
			path: "amass/v4.1.0-enum-att.com.issue963.txt", attrs: asOfAttrs, op: schema.OpMXReverse, subject: "mx0a-00191d01.pphosted.com",
			want: []brief{rec("att.com", "MX", "mx0a-00191d01.pphosted.com", snap, true)},
		},
		{
			name: "Amass v4 graph: a_record and cname_record",
			path: "amass/v4-enum-o-test.com.issue1016.txt", attrs: asOfAttrs, op: schema.OpResolutions, subject: "www.test.com",
			want:  []brief{rec("www.test.com", "CNAME", "test.com", snap, true)},
			lines: 4,
		},
		{
			name: "Amass v4 graph: ns_reverse across the targets of other domains",
			path: "amass/v4-enum-o-test.com.issue1016.txt", attrs: asOfAttrs, op: schema.OpNSReverse, subject: "a.iana-servers.net",
			want: []brief{rec("example.com", "NS", "a.iana-servers.net", snap, true)},
		},
		{
			name: "Amass v4 graph: owners and CNAME/NS targets are subdomains",
			path: "amass/v4-enum-google.com.issue980.txt", attrs: asOfAttrs, op: schema.OpSubdomains, subject: "google.com",
			count: 25, lines: 16,
		},
		{
			name: "Amass v4 graph: the closing note and a blank line are not records, nor malformed",
			path: "amass/v4.2.0-enum-xxx.com.issue1069.txt", attrs: asOfAttrs, op: schema.OpMXReverse, subject: "mxiz2.aa.com",
			want:  []brief{rec("xxx.com", "MX", "mxiz2.aa.com", snap, true)},
			lines: 3,
		},
		{
			name: "Amass v4 graph after a blank first line",
			path: "amass/v4-enum-passive-asana.com.issue1035.txt", attrs: asOfAttrs, op: schema.OpReverseIP, subject: "18.67.65.0/24",
			want: []brief{
				rec("events-test.asana.com", "A", "18.67.65.58", snap, true),
				rec("events-test.asana.com", "A", "18.67.65.60", snap, true),
				rec("events-test.asana.com", "A", "18.67.65.7", snap, true),
			},
			format: FormatAmass,
		},
		{
			name: "Amass v3 -src list: a name list, the source column dropped",
			path: "amass/v3.7.2-enum-passive-src-twitter.com.issue420.txt", attrs: asOfAttrs, op: schema.OpSubdomains, subject: "twitter.com",
			count: 21, lines: 22, format: FormatNames,
		},
		{
			name: "BBOT DNS_NAME: dns_children A, AAAA and CNAME at the event's ISO time",
			path: "bbot/docs-events-DNS_NAME.ndjson", op: schema.OpResolutions, subject: "link.evilcorp.com",
			want: []brief{
				rec("link.evilcorp.com", "A", "184.31.52.65", "2024-10-18T15:40:13Z", true),
				rec("link.evilcorp.com", "AAAA", "2600:1402:b800:d82::700", "2024-10-18T15:40:13Z", true),
				rec("link.evilcorp.com", "AAAA", "2600:1402:b800:d87::700", "2024-10-18T15:40:13Z", true),
				rec("link.evilcorp.com", "CNAME", "link.evilcorp.com.edgekey.net", "2024-10-18T15:40:13Z", true),
			},
			lines: 1, format: FormatBBOT,
		},
		{
			name: "BBOT IP_ADDRESS without PTR children says nothing",
			path: "bbot/docs-output-IP_ADDRESS.ndjson", op: schema.OpReverseIP, subject: "1.2.3.4",
			want: []brief{}, lines: 1, format: FormatBBOT,
		},
		{
			name: "BBOT DNS_NAME_UNRESOLVED with children (1.x float time)",
			path: "bbot/issue1585-DNS_NAME_UNRESOLVED.ndjson", op: schema.OpResolutions, subject: "dev-content.dellsupportcenter.com",
			want: []brief{
				rec("dev-content.dellsupportcenter.com", "A", "104.68.77.154", "2024-07-24T05:04:41Z", true),
				rec("dev-content.dellsupportcenter.com", "CNAME", "dev-content.dellsupportcenter.com.edgekey.net", "2024-07-24T05:04:41Z", true),
			},
		},
		{
			name: "BBOT DNS_NAME_UNRESOLVED without children: a HOST at a time without a zone, read as UTC",
			path: "bbot/issue1741-DNS_NAME_UNRESOLVED-naive-time.ndjson", op: schema.OpSubdomains, subject: "wal.co",
			want: []brief{host("safetodelete.wal.co", "2024-09-04T16:07:23Z", true)},
		},
		{
			name: "BBOT RAW_DNS_RECORD: a whole MX record",
			path: "bbot/issue1699-RAW_DNS_RECORD-MX.ndjson", op: schema.OpMXReverse, subject: "mx1.beget.com",
			want: []brief{rec("burkhan.ru", "MX", "mx1.beget.com", "2024-08-27T20:47:48Z", true)},
		},
		{
			name: "dnsx: a CNAME seen on two lines; the addresses are the host's",
			path: "dnsx/issue212-developer.dome9.com.ndjson", op: schema.OpResolutions, subject: "developer.dome9.com",
			want: []brief{
				rec("developer.dome9.com", "A", "52.216.204.26", "2022-06-12T13:21:34Z", true),
				{"developer.dome9.com", "CNAME", "developer.dome9.com.s3-website-us-east-1.amazonaws.com", "2022-06-12T13:20:57Z", "2022-06-12T13:21:34Z", 0, true},
			},
			lines: 2, format: FormatDNSX,
		},
		{
			name: "dnsx: the second CNAME is the first target's (the chain dnsx lists under the host)",
			path: "dnsx/issue212-developer.dome9.com.ndjson", op: schema.OpResolutions, subject: "developer.dome9.com.s3-website-us-east-1.amazonaws.com",
			want: []brief{rec("developer.dome9.com.s3-website-us-east-1.amazonaws.com", "CNAME", "s3-website.us-east-1.amazonaws.com", "2022-06-12T13:21:34Z", true)},
		},
		{
			name: "dnsx 2022: SOA as [ns, mailbox] is no record; A, AAAA and CNAME are",
			path: "dnsx/ostorlab-www.ostorlab.co.ndjson", op: schema.OpResolutions, subject: "www.ostorlab.co",
			want: []brief{
				rec("www.ostorlab.co", "A", "164.90.232.184", "2022-04-05T15:25:59Z", true),
				rec("www.ostorlab.co", "A", "3.67.255.218", "2022-04-05T15:25:59Z", true),
				rec("www.ostorlab.co", "AAAA", "2a03:b0c0:3:d0::d23:4001", "2022-04-05T15:25:59Z", true),
				rec("www.ostorlab.co", "AAAA", "2a05:d014:275:cb00:ec0d:12e2:df27:aa60", "2022-04-05T15:25:59Z", true),
				rec("www.ostorlab.co", "CNAME", "ostorlab-public-website.netlify.com", "2022-04-05T15:25:59Z", true),
			},
			lines: 1,
		},
		{
			name: "dnsx: a time in +05:30",
			path: "dnsx/issue71-hackerone.com.ndjson", op: schema.OpReverseIP, subject: "104.16.99.52",
			want: []brief{rec("hackerone.com", "A", "104.16.99.52", "2021-05-23T03:12:20Z", true)},
		},
		{
			name: "dnsx: in BBOT's fixtures",
			path: "dnsx/bbot-fixtures-api.publicapis.org.ndjson", op: schema.OpResolutions, subject: "api.publicapis.org",
			want: []brief{rec("api.publicapis.org", "A", "138.197.231.124", "2022-04-15T21:11:24Z", true)},
		},
		{
			name: "massdns: each answer under its own owner, at rx_ts (nanoseconds)",
			path: "massdns/bbot-fixtures-www.blacklanternsecurity.com.ndjson", op: schema.OpReverseIP, subject: "185.199.108.0/22",
			want: []brief{
				rec("blacklanternsecurity.github.io", "A", "185.199.108.153", "2022-08-08T18:56:44Z", true),
				rec("blacklanternsecurity.github.io", "A", "185.199.109.153", "2022-08-08T18:56:44Z", true),
				rec("blacklanternsecurity.github.io", "A", "185.199.110.153", "2022-08-08T18:56:44Z", true),
				rec("blacklanternsecurity.github.io", "A", "185.199.111.153", "2022-08-08T18:56:44Z", true),
			},
			lines: 1, format: FormatMassDNS,
		},
		{
			name: "massdns: the CNAME of the queried name",
			path: "massdns/bbot-fixtures-www.blacklanternsecurity.com.ndjson", op: schema.OpResolutions, subject: "www.blacklanternsecurity.com",
			want: []brief{rec("www.blacklanternsecurity.com", "CNAME", "blacklanternsecurity.github.io", "2022-08-08T18:56:44Z", true)},
		},
		{
			name: "massdns lower-case layout: authority NS records of the zone",
			path: "massdns/domainsproject-lowercase-2023.ndjson", op: schema.OpNSReverse, subject: "ns31.domaincontrol.com",
			want:  []brief{rec("amimaoworld.com", "NS", "ns31.domaincontrol.com", "2023-04-07T08:03:04Z", true)},
			lines: 2, format: FormatMassDNS,
		},
		{
			name: "massdns lower-case layout: answers; an added geoIP member is ignored",
			path: "massdns/domainsproject-lowercase-2023.ndjson", op: schema.OpResolutions, subject: "amimaoworld.com",
			want: []brief{
				rec("amimaoworld.com", "A", "13.248.243.5", "2023-04-07T08:03:04Z", true),
				rec("amimaoworld.com", "A", "76.223.105.230", "2023-04-07T08:03:04Z", true),
				rec("amimaoworld.com", "NS", "ns31.domaincontrol.com", "2023-04-07T08:03:04Z", true),
				rec("amimaoworld.com", "NS", "ns32.domaincontrol.com", "2023-04-07T08:03:04Z", true),
			},
		},
		{
			name: "root zone: ns_reverse, every TLD on a name server, at the SOA serial's date",
			path: "zone/root.zone-2018031200.excerpt", op: schema.OpNSReverse, subject: "a.gtld-servers.net",
			want: []brief{
				rec("com", "NS", "a.gtld-servers.net", "2018-03-12T00:00:00Z", true),
				rec("net", "NS", "a.gtld-servers.net", "2018-03-12T00:00:00Z", true),
			},
			lines: 93, format: FormatZone,
		},
		{
			name: "root zone: glue is reverse_ip's",
			path: "zone/root.zone-2018031200.excerpt", op: schema.OpReverseIP, subject: "2001:503:a83e::2:30",
			want: []brief{rec("a.gtld-servers.net", "AAAA", "2001:503:a83e::2:30", "2018-03-12T00:00:00Z", true)},
		},
		{
			name: "root zone: a TLD's name servers as subdomains of their own domain",
			path: "zone/root.zone-2018031200.excerpt", op: schema.OpResolutions, subject: "a.nic.de",
			want: []brief{
				rec("a.nic.de", "A", "194.0.0.53", "2018-03-12T00:00:00Z", true),
				rec("a.nic.de", "AAAA", "2001:678:2::53", "2018-03-12T00:00:00Z", true),
			},
		},
		{
			name: "root zone: as_of overrides the serial",
			path: "zone/root.zone-2018031200.excerpt", attrs: asOfAttrs, op: schema.OpReverseIP, subject: "194.0.0.53",
			want: []brief{rec("a.nic.de", "A", "194.0.0.53", snap, true)},
		},
		{
			name: "root zone: ns_reverse of a name server shared by TLDs",
			path: "zone/root.zone-2018031200.excerpt", op: schema.OpNSReverse, subject: "a.root-servers.net",
			want: []brief{rec("arpa", "NS", "a.root-servers.net", "2018-03-12T00:00:00Z", true)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.format != "" {
				head, err := os.ReadFile(filepath.Join(fixtures, realData+tt.path))
				if err != nil {
					t.Fatal(err)
				}
				if got, err := detectFormat(head); got != tt.format {
					t.Errorf("detected %q (%v), want %q", got, err, tt.format)
				}
			}
			p := newTestProvider(t, realData+tt.path, tt.attrs)
			ans := query(t, p, tt.op, tt.subject, tt.rrtypes...)
			got := briefs(ans.Findings)
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("findings (-want +got):\n%s", diff)
				}
			}
			if tt.count > 0 && len(got) != tt.count {
				t.Errorf("%d findings, want %d: %v", len(got), tt.count, got)
			}
			if len(ans.Warnings) > 0 {
				t.Errorf("warnings: %s", strings.Join(ans.Warnings, "\n"))
			}
			if tt.lines > 0 && (p.ix.lines != tt.lines || p.ix.bad != tt.bad) {
				t.Errorf("lines %d, bad %d; want %d and %d (%v)", p.ix.lines, p.ix.bad, tt.lines, tt.bad, p.ix.warnings)
			}
		})
	}
}
