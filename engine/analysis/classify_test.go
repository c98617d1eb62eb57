package analysis

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestClassifyMX(t *testing.T) {
	tests := map[string]struct{ host, domain, want string }{
		"google primary":         {"aspmx.l.google.com", "acme.example", "google-workspace"},
		"google alt":             {"alt3.aspmx.l.google.com.", "acme.example", "google-workspace"},
		"google googlemail":      {"ASPMX2.GOOGLEMAIL.COM", "acme.example", "google-workspace"},
		"google smtp single":     {"smtp.google.com", "acme.example", "google-workspace"},
		"microsoft 365":          {"acme-example.mail.protection.outlook.com", "acme.example", "microsoft-365"},
		"microsoft dnssec mx":    {"acme-example.r-v1.mx.microsoft", "acme.example", "microsoft-365"},
		"microsoft legacy eop":   {"acme-example.mail.eo.outlook.com", "acme.example", "microsoft-365"},
		"proofpoint":             {"mx0a-00123456.pphosted.com", "acme.example", "proofpoint"},
		"proofpoint essentials":  {"mx1-us1.ppe-hosted.com", "acme.example", "proofpoint"},
		"mimecast":               {"us-smtp-inbound-1.mimecast.com", "acme.example", "mimecast"},
		"mimecast za":            {"za-smtp-inbound-1.mimecast.co.za", "acme.example", "mimecast"},
		"barracuda":              {"d123456a.ess.barracudanetworks.com", "acme.example", "barracuda"},
		"cisco ironport":         {"mx1.hc1234-56.iphmx.com", "acme.example", "cisco"},
		"zoho":                   {"mx.zoho.eu", "acme.example", "zoho"},
		"fastmail":               {"in1-smtp.messagingengine.com", "acme.example", "fastmail"},
		"amazon ses inbound":     {"inbound-smtp.eu-west-1.amazonaws.com", "acme.example", "amazon-ses"},
		"amazonaws other":        {"ec2-198-51-100-1.compute-1.amazonaws.com", "acme.example", "other"},
		"yandex":                 {"mx.yandex.net", "acme.example", "yandex"},
		"ovh":                    {"mx1.mail.ovh.net", "acme.example", "ovh"},
		"gandi":                  {"spool.mail.gandi.net", "acme.example", "gandi"},
		"proton":                 {"mailsec.protonmail.ch", "acme.example", "protonmail"},
		"self-hosted apex":       {"mail.acme.example", "acme.example", "self-hosted"},
		"self-hosted from sub":   {"mx.acme.co.uk", "shop.acme.co.uk", "self-hosted"},
		"not same under co.uk":   {"mx.other.co.uk", "acme.co.uk", "other"},
		"null mx":                {"", "acme.example", "no-mail"},
		"unknown":                {"mx.hoster.example", "acme.example", "other"},
		"suffix needs label cut": {"notgooglemail.com", "acme.example", "other"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ClassifyMX(tc.host, tc.domain); got != tc.want {
				t.Errorf("ClassifyMX(%q, %q) = %q, want %q", tc.host, tc.domain, got, tc.want)
			}
		})
	}
}

func TestClassifyNS(t *testing.T) {
	tests := map[string]struct{ host, domain, want string }{
		"cloudflare":      {"lara.ns.cloudflare.com", "acme.example", "cloudflare"},
		"route53 com":     {"ns-1234.awsdns-12.org", "acme.example", "route53"},
		"route53 co.uk":   {"ns-567.awsdns-07.co.uk.", "acme.example", "route53"},
		"azure":           {"ns1-05.azure-dns.com", "acme.example", "azure-dns"},
		"azure info":      {"ns4-05.azure-dns.info", "acme.example", "azure-dns"},
		"google cloud":    {"ns-cloud-a1.googledomains.com", "acme.example", "google-cloud-dns"},
		"godaddy":         {"ns51.domaincontrol.com", "acme.example", "godaddy"},
		"ns1":             {"dns1.p01.nsone.net", "acme.example", "ns1"},
		"dnsimple":        {"ns1.dnsimple.com", "acme.example", "dnsimple"},
		"dyn":             {"ns1.p16.dynect.net", "acme.example", "dyn"},
		"ultradns":        {"pdns196.ultradns.net", "acme.example", "ultradns"},
		"ultradns biz":    {"pdns196.ultradns.biz", "acme.example", "ultradns"},
		"akamai":          {"a1-64.akam.net", "acme.example", "akamai"},
		"he":              {"ns1.he.net", "acme.example", "hurricane-electric"},
		"digitalocean":    {"ns1.digitalocean.com", "acme.example", "digitalocean"},
		"linode":          {"ns1.linode.com", "acme.example", "linode"},
		"namecheap":       {"dns1.registrar-servers.com", "acme.example", "namecheap"},
		"gandi":           {"ns-123-a.gandi.net", "acme.example", "gandi"},
		"ovh":             {"dns10.ovh.net", "acme.example", "ovh"},
		"ovh anycast":     {"dns200.anycast.me", "acme.example", "ovh"},
		"hetzner":         {"hydrogen.ns.hetzner.com", "acme.example", "hetzner"},
		"self":            {"ns1.acme.example", "acme.example", "self-hosted"},
		"other":           {"ns1.registrar.example", "acme.example", "other"},
		"awsdns no digit": {"ns.awsdns-x.com", "acme.example", "other"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ClassifyNS(tc.host, tc.domain); got != tc.want {
				t.Errorf("ClassifyNS(%q, %q) = %q, want %q", tc.host, tc.domain, got, tc.want)
			}
		})
	}
}

func TestClassifySender(t *testing.T) {
	for in, want := range map[string]string{
		"_spf.google.com":            "google-workspace",
		"spf.protection.outlook.com": "microsoft-365",
		"servers.mcsv.net":           "mailchimp",
		"mailgun.org":                "mailgun",
		"_spf.salesforce.com":        "salesforce",
		"amazonses.com":              "amazon-ses",
		"spf.mtasv.net":              "postmark",
		"_spf.psm.knowbe4.com":       "knowbe4",
		"_spf.acme.example":          "",
	} {
		if got := ClassifySender(in); got != want {
			t.Errorf("ClassifySender(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassifyCNAME(t *testing.T) {
	for in, want := range map[string]string{
		"shops.myshopify.com":                           "shopify",
		"acme.github.io":                                "github-pages",
		"d111111abcdef8.cloudfront.net":                 "aws-cloudfront",
		"acme-assets.s3.amazonaws.com":                  "aws-s3",
		"acme-site.s3-website-eu-west-1.amazonaws.com":  "aws-s3",
		"acme-site.s3-website.eu-west-1.amazonaws.com":  "aws-s3",
		"abc123.execute-api.us-east-1.amazonaws.com":    "aws-api-gateway",
		"internal-acme-123.eu-west-1.elb.amazonaws.com": "aws-elb",
		"acme-prod.azurewebsites.net":                   "azure-app-service",
		"autodiscover.outlook.com":                      "microsoft-365",
		"enterpriseenrollment.manage.microsoft.com":     "microsoft-intune",
		"ghs.googlehosted.com":                          "google",
		"www.acme.example.edgekey.net":                  "akamai",
		"acme.zendesk.com":                              "zendesk",
		"ec2-198-51-100-1.compute-1.amazonaws.com":      "",
		"northwind.ghost-blogs.example":                 "",
	} {
		if got := ClassifyCNAME(in); got != want {
			t.Errorf("ClassifyCNAME(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassifyDMARCVendor(t *testing.T) {
	for in, want := range map[string]string{
		"x7@rua.agari.com":                  "agari",
		"abc@ag.eu.dmarcian.com":            "dmarcian",
		"re+abc@dmarc.postmarkapp.com":      "postmark",
		"5f1e@dmarc-reports.cloudflare.net": "cloudflare",
		"dmarc_agg@vali.email":              "valimail",
		"dmarc@acme.example":                "",
		"not-an-address":                    "",
	} {
		if got := ClassifyDMARCVendor(in); got != want {
			t.Errorf("ClassifyDMARCVendor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegisteredDomain(t *testing.T) {
	tests := map[string]string{
		"www.acme.example":       "acme.example",
		"acme.example":           "acme.example",
		"a.b.acme.co.uk":         "acme.co.uk",
		"WWW.Example.COM.":       "example.com",
		"co.uk":                  "co.uk",
		"localhost":              "localhost",
		"_dmarc.acme.example":    "acme.example",
		"foo.bar.example.com.au": "example.com.au",
	}
	for in, want := range tests {
		if got := RegisteredDomain(in); got != want {
			t.Errorf("RegisteredDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSPF(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    SPF
		wantErr string
	}{
		"google workspace": {
			in:   "v=spf1 include:_spf.google.com ~all",
			want: SPF{Includes: []string{"_spf.google.com"}, All: "~all", Lookups: 1},
		},
		"microsoft and ips": {
			in: "v=spf1 ip4:203.0.113.0/24 ip4:198.51.100.7 ip6:2001:DB8::/32 include:spf.protection.outlook.com -all",
			want: SPF{Includes: []string{"spf.protection.outlook.com"}, IP4: []string{"203.0.113.0/24", "198.51.100.7"},
				IP6: []string{"2001:db8::/32"}, All: "-all", Lookups: 1},
		},
		"redirect only": {
			in:   "v=spf1 redirect=_spf.acme.example",
			want: SPF{Redirect: "_spf.acme.example", Lookups: 1},
		},
		"macros and exists": {
			in:   "v=spf1 exists:%{i}._spf.%{d} a mx:mail.acme.example/24 ptr ?all",
			want: SPF{All: "?all", Lookups: 4},
		},
		"upper case and extra spaces": {
			in:   "V=SPF1   A  MX   INCLUDE:Mailgun.ORG   +ALL",
			want: SPF{Includes: []string{"mailgun.org"}, All: "+all", Lookups: 3},
		},
		"trailing dots": {
			in:   "v=spf1 include:_spf.Google.com. redirect=_spf.acme.example.",
			want: SPF{Includes: []string{"_spf.google.com"}, Redirect: "_spf.acme.example", Lookups: 2},
		},
		"redirect beside all is never followed": {
			in:   "v=spf1 include:_spf.google.com ~all redirect=_spf.acme.example",
			want: SPF{Includes: []string{"_spf.google.com"}, All: "~all", Lookups: 1},
		},
		"exp modifier": {
			in:   "v=spf1 mx -all exp=explain._spf.%{d}",
			want: SPF{All: "-all", Lookups: 1},
		},
		"version only": {in: "v=spf1", want: SPF{}},
		"not spf":      {in: "v=spf10 -all", wantErr: "not an SPF record"},
		"unknown mech": {in: "v=spf1 foo:bar -all", want: SPF{All: "-all"}, wantErr: "unknown mechanism"},
		"bad ip4":      {in: "v=spf1 ip4:300.1.1.1 -all", want: SPF{All: "-all"}, wantErr: "ip4 needs an address"},
		"ip6 in ip4":   {in: "v=spf1 ip4:2001:db8::1 -all", want: SPF{All: "-all"}, wantErr: "wrong family"},
		"bad cidr":     {in: "v=spf1 ip4:192.0.2.0/33 -all", want: SPF{All: "-all"}, wantErr: "prefix length"},
		"two redirects": {
			in:      "v=spf1 redirect=a.example redirect=b.example",
			want:    SPF{Redirect: "a.example", Lookups: 1},
			wantErr: "more than once",
		},
		"include without domain": {in: "v=spf1 include: -all", want: SPF{All: "-all"}, wantErr: "needs a domain"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSPF(tc.in)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(SPF{}, "Terms"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseSPF mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDMARC(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    DMARC
		wantErr string
	}{
		"strict": {
			in:   "v=DMARC1; p=reject; sp=reject; pct=100; rua=mailto:dmarc@acme.example; ruf=mailto:forensics@acme.example; adkim=s; aspf=s",
			want: DMARC{Policy: "reject", SubdomainPolicy: "reject", Pct: 100, RUA: []string{"dmarc@acme.example"}, RUF: []string{"forensics@acme.example"}, ADKIM: "s", ASPF: "s"},
		},
		"odd spacing and case": {
			in:   "v = DMARC1 ;P=Quarantine;  pct = 25 ; rua = mailto:A@Rua.Agari.com!10m , mailto:b@acme.example;",
			want: DMARC{Policy: "quarantine", SubdomainPolicy: "quarantine", Pct: 25, RUA: []string{"a@rua.agari.com", "b@acme.example"}, ADKIM: "r", ASPF: "r"},
		},
		"monitoring with weak subdomains": {
			in:   "v=DMARC1; p=reject; sp=none",
			want: DMARC{Policy: "reject", SubdomainPolicy: "none", Pct: 100, ADKIM: "r", ASPF: "r"},
		},
		"missing p with rua acts as none": {
			in:      "v=DMARC1; rua=mailto:d@acme.example",
			want:    DMARC{Policy: "none", SubdomainPolicy: "none", Pct: 100, RUA: []string{"d@acme.example"}, ADKIM: "r", ASPF: "r"},
			wantErr: "no p tag",
		},
		"invalid p without rua": {
			in:      "v=DMARC1; p=block",
			want:    DMARC{Pct: 100, ADKIM: "r", ASPF: "r"},
			wantErr: "invalid p=block",
		},
		"bad pct": {
			in:      "v=DMARC1; p=none; pct=150",
			want:    DMARC{Policy: "none", SubdomainPolicy: "none", Pct: 100, ADKIM: "r", ASPF: "r"},
			wantErr: "invalid pct",
		},
		"not dmarc": {in: "v=spf1 -all", want: DMARC{Pct: 100, ADKIM: "r", ASPF: "r"}, wantErr: "not a DMARC record"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseDMARC(tc.in)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(DMARC{}, "Tags"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseDMARC mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchSaaS(t *testing.T) {
	tests := map[string]struct{ name, txt, service, subject string }{
		"google":       {"acme.example", "google-site-verification=q196wR1gvm7V219c9x0IRmQaVm-YONWR0KyKslKDc-s", "google", "acme.example"},
		"microsoft":    {"acme.example", "MS=ms80697640", "microsoft-365", "acme.example"},
		"atlassian":    {"acme.example", "atlassian-domain-verification=Z8Gh2k3ss5e0FGtyP4uMSiK2a1yPcMW2YcYjV1Q2lrs9h8hFUB8yUC2", "atlassian", "acme.example"},
		"docusign":     {"acme.example", "docusign=1ad1e6cd-4dfe-4b34-8689-579796123456", "docusign", "acme.example"},
		"zoom":         {"acme.example", "ZOOM_verify_aBcDeFgHiJkLmNoPqRsTuV", "zoom", "acme.example"},
		"anthropic":    {"acme.example", "anthropic-domain-verification-zk7x9c=QfN52ECybLPUWh51R9pKF0QO3", "anthropic", "acme.example"},
		"yandex":       {"acme.example", "yandex-verification: 4a3f12bc9d8e7f65", "yandex", "acme.example"},
		"stripe":       {"acme.example", "stripe-verification=43d16cbf8a47a2f56a7eb952f29b152e", "stripe", "acme.example"},
		"github label": {"_github-challenge-acme-corp.acme.example", "8e2f4a6b1c", "github", "acme.example"},
		"ses label":    {"_amazonses.acme.example", "Y2X9h0Zb4n8q1w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1=", "amazon-ses", "acme.example"},
		"spf is not":   {"acme.example", "v=spf1 include:_spf.google.com ~all", "", ""},
		"hackerone":    {"acme.example", "h1-domain-verification=Xq8dPz3kLm2Nv7Rt5Yw9", "hackerone", "acme.example"},
		"cisco site":   {"acme.example", "cisco-site-verification=0f4c2a1e-9b8d-4c7a-a6e5-3d2c1b0a9f8e", "cisco", "acme.example"},
		"docker":       {"acme.example", "docker-verification=8a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "docker", "acme.example"},
		"ms lookalike": {"acme.example", "MS=hello", "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			service, subject, ok := MatchSaaS(tc.name, tc.txt)
			if ok != (tc.service != "") || service != tc.service || subject != tc.subject {
				t.Errorf("MatchSaaS(%q, %q) = %q, %q, %v; want %q, %q", tc.name, tc.txt, service, subject, ok, tc.service, tc.subject)
			}
		})
	}
}

func TestSaaSCatalogIsValid(t *testing.T) {
	catalog, err := SaaSCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(catalog) < 30 {
		t.Errorf("catalogue has %d services, want at least 30", len(catalog))
	}
	for _, s := range catalog {
		for _, p := range s.TXTPrefix {
			if p != strings.ToLower(p) {
				t.Errorf("%s: prefix %q must be lower-case (values are matched lower-cased)", s.Name, p)
			}
		}
	}
	if _, err := parseSaaSCatalog([]byte(`{"services":[{"name":"x"}]}`)); err == nil {
		t.Error("an entry with nothing to match must be refused")
	}
	if _, err := parseSaaSCatalog([]byte(`{"services":[{"name":"x","txt_regex":["("]}]}`)); err == nil {
		t.Error("a bad regex must be refused")
	}
}

func FuzzParseSPF(f *testing.F) {
	for _, s := range []string{
		"v=spf1 include:_spf.google.com ~all",
		"v=spf1 ip4:203.0.113.0/24 ip6:2001:db8::/32 -all",
		"v=spf1 exists:%{i}._spf.%{d} redirect=x.example",
		"v=spf1 a/24 mx:x.example/24//64 ?all exp=e.%{d}",
		"v=spf1 -", "v=spf1 =", "v=spf1 ip4:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spf, err := ParseSPF(s)
		if err == nil && !IsSPF(s) {
			t.Fatalf("accepted a non-SPF record %q", s)
		}
		if spf.Lookups < len(spf.Includes) {
			t.Fatalf("lookups %d below includes %d", spf.Lookups, len(spf.Includes))
		}
	})
}

func FuzzParseDMARC(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:a@b.example!10m,mailto:c@d.example",
		"v=DMARC1;p=none", "v = dmarc1 ; p = Quarantine ;", "v=DMARC1; rua=", "v=DMARC1;;;=;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDMARC(s)
		if err == nil && d.Policy == "" {
			t.Fatalf("no error and no policy for %q", s)
		}
		if d.Pct < 0 || d.Pct > 100 {
			t.Fatalf("pct %d out of range for %q", d.Pct, s)
		}
		if d.Policy != "" && !dmarcPolicies[d.Policy] {
			t.Fatalf("policy %q for %q", d.Policy, s)
		}
	})
}
