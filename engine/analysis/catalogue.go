package analysis

import (
	"regexp"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/reconform/reconform/schema"
)

// hostRule recognises a provider by the host names of its MX or NS
// servers: a host equal to or under one of Suffixes, or matching Pattern.
type hostRule struct {
	Provider string
	Suffixes []string
	Pattern  *regexp.Regexp
}

// mailRules are the mail providers recognised from MX hosts. To add one,
// add a line; the first rule that matches wins.
var mailRules = []hostRule{
	{Provider: "google-workspace", Suffixes: []string{"aspmx.l.google.com", "googlemail.com", "smtp.google.com", "l.google.com"}},
	{Provider: "microsoft-365", Suffixes: []string{"mail.protection.outlook.com", "mx.microsoft", "protection.outlook.com", "mail.protection.partner.outlook.cn", "mail.protection.office365.us", "mail.eo.outlook.com"}},
	{Provider: "proofpoint", Suffixes: []string{"pphosted.com", "ppe-hosted.com", "ppops.net"}},
	{Provider: "mimecast", Suffixes: []string{"mimecast.com", "mimecast.co.za", "mimecast-offshore.com"}},
	{Provider: "barracuda", Suffixes: []string{"barracudanetworks.com", "barracuda.com"}},
	{Provider: "cisco", Suffixes: []string{"iphmx.com"}},
	{Provider: "zoho", Suffixes: []string{"zoho.com", "zoho.eu", "zoho.in", "zoho.com.au", "zoho.jp", "zohomail.com", "zoho.com.cn", "zoho.sa"}},
	{Provider: "fastmail", Suffixes: []string{"messagingengine.com"}},
	{Provider: "amazon-ses", Suffixes: []string{"amazonses.com"}, Pattern: regexp.MustCompile(`^inbound-smtp\.[a-z0-9-]+\.amazonaws\.com$`)},
	{Provider: "yandex", Suffixes: []string{"yandex.net", "yandex.ru"}},
	{Provider: "ovh", Suffixes: []string{"ovh.net"}},
	{Provider: "gandi", Suffixes: []string{"gandi.net"}},
	{Provider: "protonmail", Suffixes: []string{"protonmail.ch"}},
	{Provider: "icloud", Suffixes: []string{"icloud.com"}},
	{Provider: "mailgun", Suffixes: []string{"mailgun.org"}},
	{Provider: "sendgrid", Suffixes: []string{"sendgrid.net"}},
	{Provider: "postmark", Suffixes: []string{"postmarkapp.com"}},
	{Provider: "forcepoint", Suffixes: []string{"mailcontrol.com"}},
	{Provider: "trend-micro", Suffixes: []string{"trendmicro.com", "trendmicro.eu"}},
	{Provider: "sophos", Suffixes: []string{"hydra.sophos.com"}},
	{Provider: "symantec-messagelabs", Suffixes: []string{"messagelabs.com"}},
	{Provider: "trellix", Suffixes: []string{"fireeyecloud.com"}},
	{Provider: "hornetsecurity", Suffixes: []string{"hornetsecurity.com"}},
	{Provider: "spamexperts", Suffixes: []string{"spamexperts.com", "antispamcloud.com"}},
	{Provider: "rackspace", Suffixes: []string{"emailsrvr.com"}},
	{Provider: "godaddy", Suffixes: []string{"secureserver.net"}},
	{Provider: "namecheap", Suffixes: []string{"privateemail.com", "registrar-servers.com"}},
	{Provider: "ionos", Suffixes: []string{"ionos.com", "ionos.de", "ionos.co.uk", "ionos.fr", "ionos.es", "1and1.com", "1and1.co.uk", "kundenserver.de"}},
	{Provider: "mailru", Suffixes: []string{"mail.ru"}},
	{Provider: "tutanota", Suffixes: []string{"tutanota.de"}},
	{Provider: "migadu", Suffixes: []string{"migadu.com"}},
	{Provider: "cloudflare-email-routing", Suffixes: []string{"mx.cloudflare.net"}},
	{Provider: "improvmx", Suffixes: []string{"improvmx.com"}},
	{Provider: "hostinger", Suffixes: []string{"hostinger.com"}},
	{Provider: "tencent-exmail", Suffixes: []string{"qq.com"}},
	{Provider: "alibaba-mail", Suffixes: []string{"mxhichina.com"}},
}

// dnsRules are the DNS hosting providers recognised from NS hosts.
var dnsRules = []hostRule{
	{Provider: "cloudflare", Suffixes: []string{"ns.cloudflare.com", "foundationdns.com", "foundationdns.net", "foundationdns.org"}},
	{Provider: "route53", Pattern: regexp.MustCompile(`(^|\.)awsdns-\d+\.(com|net|org|co\.uk)$`)},
	{Provider: "azure-dns", Pattern: regexp.MustCompile(`(^|\.)azure-dns\.(com|net|org|info)$`)},
	{Provider: "google-cloud-dns", Suffixes: []string{"googledomains.com"}},
	{Provider: "godaddy", Suffixes: []string{"domaincontrol.com"}},
	{Provider: "ns1", Suffixes: []string{"nsone.net"}},
	{Provider: "dnsimple", Suffixes: []string{"dnsimple.com", "dnsimple-edge.net", "dnsimple-edge.org"}},
	{Provider: "dyn", Suffixes: []string{"dynect.net"}},
	{Provider: "ultradns", Pattern: regexp.MustCompile(`(^|\.)ultradns\d*\.(com|net|org|biz|info|co\.uk)$`)},
	{Provider: "akamai", Suffixes: []string{"akam.net", "akamaidns.net"}},
	{Provider: "hurricane-electric", Suffixes: []string{"he.net"}},
	{Provider: "digitalocean", Suffixes: []string{"digitalocean.com"}},
	{Provider: "linode", Suffixes: []string{"linode.com"}},
	{Provider: "namecheap", Suffixes: []string{"registrar-servers.com", "namecheaphosting.com"}},
	{Provider: "gandi", Suffixes: []string{"gandi.net"}},
	{Provider: "ovh", Suffixes: []string{"ovh.net", "ovh.ca", "anycast.me"}},
	{Provider: "hetzner", Suffixes: []string{"hetzner.com", "hetzner.de", "your-server.de", "second-ns.com", "second-ns.de"}},
	{Provider: "vercel", Suffixes: []string{"vercel-dns.com"}},
	{Provider: "wix", Suffixes: []string{"wixdns.net"}},
	{Provider: "ionos", Pattern: regexp.MustCompile(`(^|\.)ui-dns\.(com|de|org|biz)$`)},
	{Provider: "dnsmadeeasy", Suffixes: []string{"dnsmadeeasy.com"}},
	{Provider: "easydns", Pattern: regexp.MustCompile(`(^|\.)easydns\.(com|net|org|info)$`)},
	{Provider: "cloudns", Suffixes: []string{"cloudns.net"}},
	{Provider: "constellix", Suffixes: []string{"constellix.com", "constellix.net"}},
	{Provider: "alibaba-dns", Suffixes: []string{"alidns.com", "hichina.com"}},
	{Provider: "dnspod", Suffixes: []string{"dnspod.net"}},
	{Provider: "porkbun", Suffixes: []string{"porkbun.com"}},
	{Provider: "hostinger", Suffixes: []string{"dns-parking.com"}},
	{Provider: "markmonitor", Suffixes: []string{"markmonitor.com", "markmonitor.zone"}},
	{Provider: "csc", Suffixes: []string{"cscdns.net", "cscdns.uk"}},
	{Provider: "network-solutions", Suffixes: []string{"worldnic.com"}},
	{Provider: "name.com", Suffixes: []string{"name.com"}},
	{Provider: "yandex", Suffixes: []string{"yandex.net"}},
	{Provider: "imperva", Suffixes: []string{"incapdns.net", "impervasecuredns.net"}},
	{Provider: "afraid", Suffixes: []string{"afraid.org"}},
}

// matchHost returns the provider of the first rule host matches, or "".
func matchHost(rules []hostRule, host string) string {
	for _, r := range rules {
		for _, s := range r.Suffixes {
			if host == s || strings.HasSuffix(host, "."+s) {
				return r.Provider
			}
		}
		if r.Pattern != nil && r.Pattern.MatchString(host) {
			return r.Provider
		}
	}
	return ""
}

// ClassifyMX names the mail provider of an MX host for domain:
// a catalogue provider, "self-hosted" when the host is under the same
// registered domain as domain, "no-mail" for a null MX (empty host) and
// "other" otherwise.
func ClassifyMX(host, domain string) string {
	return classifyHost(mailRules, host, domain, "no-mail")
}

// ClassifyNS names the DNS hosting provider of an NS host for zone
// domain, like ClassifyMX.
func ClassifyNS(host, domain string) string {
	return classifyHost(dnsRules, host, domain, "other")
}

func classifyHost(rules []hostRule, host, domain, empty string) string {
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if host == "" {
		return empty
	}
	if p := matchHost(rules, host); p != "" {
		return p
	}
	if domain != "" && RegisteredDomain(host) == RegisteredDomain(domain) {
		return "self-hosted"
	}
	return "other"
}

// RegisteredDomain returns name's registered domain (eTLD+1 by the
// public suffix list, private suffixes included), or name itself when it
// has none (a bare suffix or a single label). A wildcard name's is its
// parent's: "*.co.uk" is under no registered domain, and is co.uk's.
func RegisteredDomain(name string) string {
	name = schema.WildcardParent(strings.TrimSuffix(strings.ToLower(name), "."))
	d, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return name
	}
	return d
}

// UnderDomain reports whether name is domain or a subdomain of it.
func UnderDomain(name, domain string) bool {
	return name == domain || strings.HasSuffix(name, "."+domain)
}

// senderRules are the mail-sending services recognised from SPF include
// and redirect domains: who may send mail as the domain.
var senderRules = []hostRule{
	{Provider: "google-workspace", Suffixes: []string{"_spf.google.com"}},
	{Provider: "microsoft-365", Suffixes: []string{"spf.protection.outlook.com"}},
	{Provider: "amazon-ses", Suffixes: []string{"amazonses.com"}},
	{Provider: "mailgun", Suffixes: []string{"mailgun.org"}},
	{Provider: "sendgrid", Suffixes: []string{"sendgrid.net"}},
	{Provider: "mailchimp", Suffixes: []string{"mcsv.net"}},
	{Provider: "mandrill", Suffixes: []string{"mandrillapp.com"}},
	{Provider: "salesforce", Suffixes: []string{"salesforce.com"}},
	{Provider: "salesforce-marketing-cloud", Suffixes: []string{"exacttarget.com"}},
	{Provider: "pardot", Suffixes: []string{"pardot.com"}},
	{Provider: "marketo", Suffixes: []string{"mktomail.com"}},
	{Provider: "hubspot", Suffixes: []string{"hubspotemail.net", "hubspot.com"}},
	{Provider: "zendesk", Suffixes: []string{"zendesk.com"}},
	{Provider: "freshworks", Suffixes: []string{"freshdesk.com", "freshemail.io"}},
	{Provider: "helpscout", Suffixes: []string{"helpscoutemail.com"}},
	{Provider: "intercom", Suffixes: []string{"intercom.io"}},
	{Provider: "sparkpost", Suffixes: []string{"sparkpostmail.com"}},
	{Provider: "postmark", Suffixes: []string{"mtasv.net", "postmarkapp.com"}},
	{Provider: "mailjet", Suffixes: []string{"mailjet.com"}},
	{Provider: "brevo", Suffixes: []string{"sendinblue.com", "brevo.com"}},
	{Provider: "constant-contact", Suffixes: []string{"constantcontact.com"}},
	{Provider: "campaign-monitor", Suffixes: []string{"createsend.com"}},
	{Provider: "zoho", Suffixes: []string{"zoho.com", "zoho.eu", "zoho.in", "zohomail.com"}},
	{Provider: "fastmail", Suffixes: []string{"messagingengine.com"}},
	{Provider: "proofpoint", Suffixes: []string{"pphosted.com", "ppe-hosted.com"}},
	{Provider: "mimecast", Suffixes: []string{"mimecast.com"}},
	{Provider: "atlassian", Suffixes: []string{"atlassian.net"}},
	{Provider: "docusign", Suffixes: []string{"docusign.net"}},
	{Provider: "stripe", Suffixes: []string{"stripe.com"}},
	{Provider: "qualtrics", Suffixes: []string{"qualtrics.com"}},
	{Provider: "knowbe4", Suffixes: []string{"knowbe4.com"}},
	{Provider: "mailchannels", Suffixes: []string{"mailchannels.net"}},
	{Provider: "godaddy", Suffixes: []string{"secureserver.net"}},
	{Provider: "rackspace", Suffixes: []string{"emailsrvr.com"}},
}

// ClassifySender names the mail-sending service behind an SPF include or
// redirect domain, "" when it is not in the catalogue.
func ClassifySender(domain string) string {
	return matchHost(senderRules, strings.TrimSuffix(strings.ToLower(domain), "."))
}

// cnameRules are the hosted services recognised from CNAME targets: where
// a name is served from (and, for a red team, which names could be taken
// over when the service account behind them is gone).
var cnameRules = []hostRule{
	{Provider: "shopify", Suffixes: []string{"myshopify.com"}},
	{Provider: "github-pages", Suffixes: []string{"github.io"}},
	{Provider: "gitlab-pages", Suffixes: []string{"gitlab.io"}},
	{Provider: "heroku", Suffixes: []string{"herokuapp.com", "herokudns.com", "herokussl.com"}},
	{Provider: "aws-cloudfront", Suffixes: []string{"cloudfront.net"}},
	{Provider: "aws-elb", Suffixes: []string{"elb.amazonaws.com"}},
	{Provider: "aws-s3", Pattern: regexp.MustCompile(`(^|\.)s3([.-][a-z0-9-]+)*\.amazonaws\.com$`)},
	{Provider: "aws-api-gateway", Pattern: regexp.MustCompile(`\.execute-api\.[a-z0-9-]+\.amazonaws\.com$`)},
	{Provider: "aws-elastic-beanstalk", Suffixes: []string{"elasticbeanstalk.com"}},
	{Provider: "azure-app-service", Suffixes: []string{"azurewebsites.net"}},
	{Provider: "azure-front-door", Suffixes: []string{"azurefd.net"}},
	{Provider: "azure-cdn", Suffixes: []string{"azureedge.net"}},
	{Provider: "azure-traffic-manager", Suffixes: []string{"trafficmanager.net"}},
	{Provider: "azure-storage", Suffixes: []string{"blob.core.windows.net", "web.core.windows.net"}},
	{Provider: "azure-cloudapp", Suffixes: []string{"cloudapp.net", "cloudapp.azure.com"}},
	{Provider: "azure-static-web-apps", Suffixes: []string{"azurestaticapps.net"}},
	{Provider: "microsoft-365", Suffixes: []string{"autodiscover.outlook.com", "outlook.com", "sharepoint.com", "lync.com"}},
	{Provider: "microsoft-intune", Suffixes: []string{"manage.microsoft.com", "enterpriseregistration.windows.net"}},
	{Provider: "google", Suffixes: []string{"googlehosted.com", "ghs.google.com"}},
	{Provider: "google-cloud-run", Suffixes: []string{"run.app"}},
	{Provider: "google-app-engine", Suffixes: []string{"appspot.com"}},
	{Provider: "firebase", Suffixes: []string{"firebaseapp.com", "web.app"}},
	{Provider: "fastly", Suffixes: []string{"fastly.net", "fastlylb.net"}},
	{Provider: "akamai", Suffixes: []string{"edgekey.net", "edgesuite.net", "akamaiedge.net", "akamaized.net"}},
	{Provider: "cloudflare", Suffixes: []string{"cdn.cloudflare.net", "pages.dev", "workers.dev"}},
	{Provider: "imperva", Suffixes: []string{"incapdns.net", "impervadns.net"}},
	{Provider: "netlify", Suffixes: []string{"netlify.app", "netlify.com"}},
	{Provider: "vercel", Suffixes: []string{"vercel.app", "vercel-dns.com", "now.sh"}},
	{Provider: "fly", Suffixes: []string{"fly.dev"}},
	{Provider: "render", Suffixes: []string{"onrender.com"}},
	{Provider: "digitalocean-app-platform", Suffixes: []string{"ondigitalocean.app"}},
	{Provider: "pantheon", Suffixes: []string{"pantheonsite.io"}},
	{Provider: "wpengine", Suffixes: []string{"wpengine.com", "wpenginepowered.com"}},
	{Provider: "wordpress-com", Suffixes: []string{"wordpress.com"}},
	{Provider: "squarespace", Suffixes: []string{"squarespace.com"}},
	{Provider: "wix", Suffixes: []string{"wixdns.net"}},
	{Provider: "webflow", Suffixes: []string{"webflow.com", "webflow.io"}},
	{Provider: "ghost", Suffixes: []string{"ghost.io"}},
	{Provider: "readthedocs", Suffixes: []string{"readthedocs.io"}},
	{Provider: "statuspage", Suffixes: []string{"stspg-customer.com"}},
	{Provider: "zendesk", Suffixes: []string{"zendesk.com"}},
	{Provider: "atlassian", Suffixes: []string{"atlassian.net"}},
	{Provider: "hubspot", Suffixes: []string{"hubspot.net", "hs-sites.com"}},
	{Provider: "salesforce", Suffixes: []string{"force.com"}},
	{Provider: "pardot", Suffixes: []string{"pardot.com"}},
	{Provider: "marketo", Suffixes: []string{"mktoweb.com"}},
	{Provider: "okta", Suffixes: []string{"okta.com", "oktapreview.com", "okta-emea.com"}},
	{Provider: "unbounce", Suffixes: []string{"unbouncepages.com"}},
	{Provider: "helpscout", Suffixes: []string{"helpscoutdocs.com"}},
}

// ClassifyCNAME names the hosted service a CNAME target belongs to, ""
// when it is not in the catalogue.
func ClassifyCNAME(target string) string {
	return matchHost(cnameRules, strings.TrimSuffix(strings.ToLower(target), "."))
}

func cnameFacts(ix *index) []schema.Fact {
	var facts []schema.Fact
	for _, i := range ix.byType["CNAME"] {
		f := ix.findings[i]
		service := ClassifyCNAME(f.Value)
		if service == "" {
			continue
		}
		kind := "cname_service"
		if !ix.current[i] {
			kind = "cname_service_past"
		}
		facts = append(facts, schema.Fact{Subject: f.Name, Kind: kind, Value: service, Evidence: []string{f.ID()}})
	}
	return facts
}

// dmarcVendorRules are the DMARC reporting services recognised from the
// domain of a rua/ruf address.
var dmarcVendorRules = []hostRule{
	{Provider: "agari", Suffixes: []string{"agari.com"}},
	{Provider: "dmarcian", Suffixes: []string{"dmarcian.com", "dmarcian.eu"}},
	{Provider: "valimail", Suffixes: []string{"valimail.com", "vali.email"}},
	{Provider: "proofpoint", Suffixes: []string{"emaildefense.proofpoint.com"}},
	{Provider: "red-sift", Suffixes: []string{"ondmarc.com", "redsift.cloud"}},
	{Provider: "easydmarc", Suffixes: []string{"easydmarc.com", "easydmarc.us", "easydmarc.eu"}},
	{Provider: "dmarc-analyzer", Suffixes: []string{"dmarcanalyzer.com"}},
	{Provider: "postmark", Suffixes: []string{"dmarc.postmarkapp.com"}},
	{Provider: "uriports", Suffixes: []string{"uriports.com"}},
	{Provider: "mxtoolbox", Suffixes: []string{"mxtoolbox.com"}},
	{Provider: "powerdmarc", Suffixes: []string{"powerdmarc.com"}},
	{Provider: "cloudflare", Suffixes: []string{"dmarc-reports.cloudflare.net"}},
	{Provider: "sendmarc", Suffixes: []string{"sendmarc.com"}},
	{Provider: "fraudmarc", Suffixes: []string{"fraudmarc.com"}},
	{Provider: "dmarc-advisor", Suffixes: []string{"dmarcadvisor.com"}},
}

// ClassifyDMARCVendor names the reporting service behind a DMARC report
// address ("x@rua.agari.com"), "" when unknown.
func ClassifyDMARCVendor(addr string) string {
	_, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return ""
	}
	return matchHost(dmarcVendorRules, strings.ToLower(domain))
}
