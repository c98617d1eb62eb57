package report

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/diff"
)

// mdCell makes s safe inside a Markdown table cell: no pipes, no line
// breaks, no HTML (record values are chosen by the target), and no
// emphasis: a wildcard name ("*.acme.example") is text, not the start of
// italics.
func mdCell(s string) string { return cellReplacer.Replace(s) }

var (
	cellReplacer = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "'", "*", `\*`)
	codeReplacer = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "`", "'")
)

// mdCode is s as inline code in a table cell.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + codeReplacer.Replace(s) + "`"
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// section starts a "## title" section: the none line when there are no
// rows, else the header of a table with cols. It reports whether the
// table's rows follow.
func (e *errWriter) section(title, none string, rows int, cols ...string) bool {
	e.printf("\n## %s\n\n", title)
	if rows == 0 {
		e.printf("%s\n", none)
		return false
	}
	e.printf("| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	return true
}

// currency is "current" or "historical".
func currency(current bool) string {
	if current {
		return "current"
	}
	return "historical"
}

func (m *model) markdown(w io.Writer) error {
	o := &errWriter{w: w}
	title := "reconform report"
	if m.in.Engagement != "" {
		title += ": " + mdCell(m.in.Engagement)
	}
	o.printf("# %s\n\n", title)
	o.printf("State serial %d, last run finished %s; report generated %s.\n\n", m.in.Serial, stamp(m.in.RunFinished), stamp(m.in.GeneratedAt))

	m.markdownRisks(o)

	s := m.summary
	o.printf("## Summary\n\n")
	o.printf("| | |\n|---|---|\n")
	o.printf("| Findings | %d (%d current, %d historical, %d unverified) |\n", s.Findings, s.Current, s.Historical, s.Unverified)
	o.printf("| Names | %d |\n| IP addresses | %d in %d ranges |\n", s.Names, s.IPs, s.Ranges)
	o.printf("| Moves | %d |\n| Facts | %d |\n", s.Moves, s.Facts)
	if len(s.Instances) > 0 {
		o.printf("| Query instances | %s |\n", countsLine(s.Instances))
	}
	if m.in.Drift != nil {
		o.printf("| Drift since the previous state | %s |\n", mdCell(m.in.Drift.Summary()))
	}
	if len(m.warnings) > 0 {
		o.printf("\n**Worth a look**\n\n")
		for _, w := range m.warnings {
			o.printf("- %s\n", mdCell(w))
		}
	}
	m.markdownChecks(o)

	if o.section("Technology profile", "No mail, DNS, SPF, DMARC or SaaS facts.", len(m.profiles), "Domain", "Mail", "DNS", "SPF", "DMARC", "SaaS") {
		for _, p := range m.profiles {
			o.printf("| %s | %s | %s | %s | %s | %s |\n", mdCode(p.Domain), mdCell(providers(p.Mail, p.MailPast)),
				mdCell(providers(p.DNS, p.DNSPast)), mdCell(spfCell(p)), mdCell(dmarcCell(p)), mdCell(providers(p.SaaS, p.SaaSPast)))
		}
		for _, p := range m.profiles {
			if len(p.MX)+len(p.NS)+len(p.SPFIncludes)+len(p.Senders)+len(p.DMARCReports) == 0 {
				continue
			}
			o.printf("\n**%s**\n\n", mdCell(p.Domain))
			if len(p.MX) > 0 {
				o.printf("- MX: %s\n", codeList(p.MX))
			}
			if len(p.NS) > 0 {
				o.printf("- NS: %s\n", codeList(p.NS))
			}
			if len(p.SPFIncludes) > 0 {
				o.printf("- SPF includes: %s\n", codeList(p.SPFIncludes))
			}
			if len(p.Senders) > 0 {
				o.printf("- Sends mail through: %s\n", mdCell(strings.Join(p.Senders, ", ")))
			}
			if len(p.DMARCReports) > 0 {
				o.printf("- DMARC reports to: %s", codeList(p.DMARCReports))
				if len(p.DMARCVendors) > 0 {
					o.printf(" (%s)", mdCell(strings.Join(p.DMARCVendors, ", ")))
				}
				o.printf("\n")
			}
		}
	}

	if o.section("SaaS verification tokens", "None found.", len(m.saas), "Subject", "Service", "Status", "Token") {
		for _, r := range m.saas {
			token := mdCode(r.Token)
			if r.Record != "" {
				token += " at " + mdCode(r.Record)
			}
			o.printf("| %s | %s | %s | %s |\n", mdCode(r.Subject), mdCell(r.Service), currency(r.Current), token)
		}
	}

	if o.section("Hosted services", "No name points at a known hosting or SaaS service.", len(m.hosted), "Name", "Service", "CNAME target", "Status") {
		for _, r := range m.hosted {
			o.printf("| %s | %s | %s | %s |\n", mdCode(r.Name), mdCell(r.Service), mdCode(r.Target), currency(r.Current))
		}
	}

	o.printf("\n## Timeline\n\n")
	var moves []string
	for _, tl := range m.timeline {
		for _, mv := range analysis.GroupMoves(tl.Moves) {
			moves = append(moves, fmt.Sprintf("| %s | %s | %s | %s | %s |\n", day(mv.At), mdCode(tl.Name), mv.Type, mdCode(mv.From), mdCode(mv.To)))
		}
	}
	if len(moves) > 0 {
		sort.Strings(moves)
		o.printf("### Moves\n\n| When | Name | Type | From | To |\n|---|---|---|---|---|\n")
		for _, l := range moves {
			o.printf("%s", l)
		}
		o.printf("\n")
	}
	if len(m.hostsOnly) > 0 {
		o.printf("### Names without records\n\nKnown to exist (subdomain lists, certificates) with no record seen: %s\n\n", codeList(m.hostsOnly))
	}
	if len(m.timeline) == 0 {
		o.printf("No records.\n")
	} else {
		o.printf("### Records\n\n| Name | Type | Value | First seen | Last seen | Status |\n|---|---|---|---|---|---|\n")
		for _, tl := range m.timeline {
			for _, r := range tl.Records {
				o.printf("| %s | %s | %s | %s | %s | %s |\n", mdCode(tl.Name), r.Type, mdCode(r.Value), day(r.FirstSeen), day(r.LastSeen), currency(r.Current))
			}
		}
	}

	if o.section("IP ranges", "No addresses.", len(m.ranges), "Range", "Addresses", "AS") {
		for _, r := range m.ranges {
			o.printf("| %s | %s | %s |\n", mdCode(r.Prefix), codeList(r.IPs), mdCell(strings.Join(r.ASNs, ", ")))
		}
	}
	if len(m.byAS) > 0 {
		o.printf("\n### By AS\n\n| AS | Ranges | Addresses |\n|---|---|---|\n")
		for _, r := range m.byAS {
			o.printf("| %s | %s | %d |\n", mdCell(r.AS), codeList(r.Ranges), r.IPs)
		}
	}

	if o.section("Shared hosting", "No address hosts more than one registered domain.", len(m.shared), "IP", "Registered domains", "Not ours", "Shared hosting", "Our names", "Neighbours (sample)") {
		for _, r := range m.shared {
			flag := "no"
			if r.Shared {
				flag = "**yes**"
			}
			o.printf("| %s | %d | %d | %s | %s | %s |\n", mdCode(r.IP), r.Domains, r.Others, flag, codeList(r.Ours), codeList(r.Sample))
		}
	}

	if m.verified > 0 {
		o.printf("\n## Live DNS verification\n\n%d known records checked against live DNS; %d no longer resolve.\n", m.verified, len(m.gone))
		if len(m.gone) > 0 {
			o.printf("\n")
			for _, g := range m.gone {
				o.printf("- %s\n", mdCode(g))
			}
		}
	}

	if o.section("Name-server and mail correlation", "No other domain is known to share the target's name servers or mail servers.", len(m.related), "Server", "Type", "Our domains", "Other domains") {
		for _, r := range m.related {
			o.printf("| %s | %s | %s | %s |\n", mdCode(r.Server), r.Type, codeList(r.Ours), codeList(r.Others))
		}
	}

	o.printf("\n## Drift since the previous state\n\n")
	if m.in.Drift == nil {
		o.printf("No previous state to compare with.\n")
	} else if o.err == nil {
		var buf bytes.Buffer
		if err := diff.Markdown(&buf, m.in.Drift); err != nil {
			return err
		}
		// diff.Markdown starts with its own "### reconform drift" title.
		body := buf.String()
		if i := strings.Index(body, "\n\n"); strings.HasPrefix(body, "### ") && i >= 0 {
			body = body[i+2:]
		}
		o.printf("%s", body)
	}

	if failed := m.failedInstances(); len(failed) > 0 {
		o.printf("\n## Queries that did not complete\n\n| Query | Status | Why |\n|---|---|---|\n")
		for _, l := range failed {
			o.printf("| %s | %s | %s |\n", mdCode(l[0]), l[1], mdCell(l[2]))
		}
	}
	return o.err
}

// markdownChecks writes the checks after the summary when the state has
// them, failed ones first.
func (m *model) markdownChecks(o *errWriter) {
	a := m.attention
	if len(m.in.Checks) > 0 {
		o.printf("\n## Checks\n\n%d of %d checks failed.\n\n| Check | Severity | Status | Messages |\n|---|---|---|---|\n", len(a.Checks), len(m.in.Checks))
		rows := append([]CheckResult(nil), a.Checks...)
		for _, c := range m.in.Checks {
			if !c.Failed() {
				rows = append(rows, c)
			}
		}
		for _, c := range rows {
			status := c.Status
			if c.Failed() && c.Severity != SeverityWarning {
				status = "**" + status + "**"
			}
			o.printf("| %s | %s | %s | %s |\n", mdCode(c.Name), mdCell(c.Severity), status, mdCell(strings.Join(c.Messages, "; ")))
		}
	}
}

// failedInstances lists instances that failed, were skipped or cancelled.
func (m *model) failedInstances() [][3]string {
	var out [][3]string
	for _, in := range m.in.Instances {
		if in.Status.Succeeded() || in.Status == "pending" {
			continue
		}
		key := in.Key
		if key == "" {
			key = in.Query.Key()
		}
		out = append(out, [3]string{key, string(in.Status), in.Reason})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func countsLine(c map[string]int) string {
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
	}
	return strings.Join(parts, ", ")
}

func providers(now, past []string) string {
	s := strings.Join(now, " + ")
	if len(past) > 0 {
		if s == "" {
			s = "none current"
		}
		s += " (before: " + strings.Join(past, ", ") + ")"
	}
	return s
}

func spfCell(p Profile) string {
	s := p.SPF
	if s == "" {
		if p.SPFError != "" {
			return "broken: " + p.SPFError
		}
		return ""
	}
	if p.SPFRedirect != "" && s != "redirect="+p.SPFRedirect {
		s += " via redirect=" + p.SPFRedirect // the verdict is the redirect target's
	}
	if p.SPFPermissive {
		s += " (permissive)"
	}
	switch p.SPFLookups {
	case "":
	case "1":
		s += ", 1 lookup"
	default:
		s += ", " + p.SPFLookups + " lookups"
	}
	return s
}

func dmarcCell(p Profile) string {
	s := p.DMARC
	if s == "" || s == "missing" || s == "invalid" {
		return s
	}
	s = "p=" + s
	if p.DMARCSub != "" && p.DMARCSub != p.DMARC {
		s += " sp=" + p.DMARCSub
	}
	if p.DMARCPct != "" && p.DMARCPct != "100" {
		s += " pct=" + p.DMARCPct
	}
	if p.DMARCFrom != "" {
		s += " (sp of " + p.DMARCFrom + ")"
	}
	return s
}

func codeList(s []string) string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = mdCode(v)
	}
	return strings.Join(out, ", ")
}
