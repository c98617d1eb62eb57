package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/report"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "report",
		Synopsis: "Render the engagement's state as a report, export or graph",
		Usage: `Usage: reconform report [options] [DIR|STATE]

  Renders what the engagement knows: first what needs attention (takeover
  risks, certificates against CAA, failed checks, weakened SPF or DMARC,
  the profile's problems), then the drift since the previous state; the
  technology profile (mail and DNS providers, SPF and DMARC verdicts, SaaS
  verification tokens); the relationship graph; the timeline of every
  name with its moves; IP ranges, shared hosting and name-server and mail
  correlation; and the queries that did not complete. Or exports the
  findings for other passive DNS tools and threat-intelligence platforms,
  or draws the graph of names, IPs, name servers and mail servers.

  DIR is the engagement folder (default: the current directory); STATE is
  a state file to report on instead. The engagement's scope decides which
  names the profile, timeline and graph show; without it, names found only
  by reverse lookups (neighbours) are left out of those sections (in a
  state that does not record its queries, names under domains with only
  address records).

Options:
  -format=FORMAT      md (default): Markdown, stable for git and golden files.
                      html: one self-contained page (nothing loaded from the
                        network) with an interactive graph, a zoomable
                        timeline, sortable and filterable tables.
                      json: the report as one JSON document.
                      csv: name,type,value,first_seen,last_seen,count,sources,
                        current; fields a spreadsheet would run as formulas
                        (=, +, -, @, tab, CR) start with a single quote.
                      cof: Passive DNS Common Output Format NDJSON.
                      stix: a STIX 2.1 bundle (OpenCTI and other platforms):
                        domain-name and IP observables, resolves-to
                        relationships, first and last seen as observed-data.
                      misp: a MISP event of passive-dns and domain-ip objects.
                      graphml: the relationship graph for Gephi, yEd and
                        Neo4j (apoc.import.graphml with readLabels: true).
                      dot (Graphviz) or mermaid: the relationship graph.
  -out=FILE           Write to FILE instead of standard output.
  -asn-table=FILE     An iptoasn TSV (plain or .gz) to group IPs by AS, in
                      addition to the engagement's asn_table.
  -chdir=DIR          The engagement folder (same as a DIR argument).
  -state=PATH         The state file (same as a STATE argument).
  -var 'name=value'   Set a variable, when the engagement needs one to load.
  -var-file=FILE      Set variables from an HCL file.

  SOURCE_DATE_EPOCH, when set, is the report's generation time (unix
  seconds), for reproducible reports.`,
		Run: runReport,
	})
}

func runReport(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["report"])
	format := fs.String("format", "md", "")
	out := fs.String("out", "", "")
	asnTable := fs.String("asn-table", "", "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(env.Stderr, "Error: "+format+"\n", args...)
		return exitError
	}
	if !slices.Contains(report.Formats, *format) {
		return fail("-format %q is not a report format; use one of %s.", *format, strings.Join(report.Formats, ", "))
	}
	rest, err := takeDirArg(env, &loc, positional)
	if err != nil {
		return fail("%v.", err)
	}
	switch {
	case len(rest) > 1:
		return fail("report takes one engagement folder or state file, got %d arguments.", len(rest))
	case len(rest) == 1 && loc.StatePath != "" && loc.StatePath != rest[0]:
		return fail("two state files given: %q and %q.", loc.StatePath, rest[0])
	case len(rest) == 1:
		loc.StatePath = rest[0]
	}
	b, err := loc.open(ctx, env)
	if err != nil {
		return fail("%v.", err)
	}
	// Reading, deriving and rendering a large state take seconds: an
	// interrupt ends the command at once, and nothing is written before
	// the report is complete.
	defer b.Close()
	var buf bytes.Buffer
	code, failed := exitOK, false
	interruptible(ctx, func() error {
		code, failed = buildReport(ctx, env, &loc, b, *format, *asnTable, &buf)
		return nil
	})
	if interrupted(ctx, env) {
		return exitInterrupted
	}
	if failed {
		return code
	}
	if *out == "" {
		err := interruptible(ctx, func() error {
			_, err := newCutWriter(ctx, env.Stdout).Write(buf.Bytes())
			return err
		})
		if ctx.Err() != nil {
			return exitInterrupted
		}
		if err != nil {
			return fail("%v.", err)
		}
		return exitOK
	}
	path := resolvePath(env, *out)
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fail("writing the report: %v.", err)
	}
	fmt.Fprintf(env.Stderr, "Report (%s) written to %s.\n", *format, displayPath(env, path))
	return exitOK
}

// buildReport renders the report of the store's current state into buf;
// failed is set, with the exit code, when it could not (the error is
// printed).
func buildReport(ctx context.Context, env *Env, loc *stateLocator, b backend.Backend, format, asnTable string, buf *bytes.Buffer) (code int, failed bool) {
	fail := func(f string, args ...any) (int, bool) {
		fmt.Fprintf(env.Stderr, "Error: "+f+"\n", args...)
		return exitError, true
	}
	current, err := b.Read(ctx)
	if err != nil {
		return fail("%v", err)
	}
	if current == nil {
		return fail("%v.", noStateError(env, b.Location()))
	}

	renormalised := normalizeFindings(current)
	in := report.FromState(current)
	in.GeneratedAt, err = generationTime(env)
	if err != nil {
		return fail("%v.", err)
	}
	cfg := quietConfig(env, loc, "its scope and ignore rules")
	var ignore []schema.IgnoreRule
	opts := analysis.Options{}
	if cfg != nil {
		in.Scope = cfg.Scope.Domains
		ignore = cfg.Engagement.Ignore
		opts.Scope = cfg.Scope.Domains
		opts.ASNTable = asnTablePath(cfg)
	}
	if asnTable != "" {
		table, err := analysis.LoadASNTable(resolvePath(env, asnTable))
		if err != nil {
			return fail("%v.", err)
		}
		opts.ASN = table
	}
	if cfg != nil || opts.ASN != nil || renormalised {
		// The scope and the table sharpen the profile (a mail server under
		// a sibling domain of the engagement is its own): derive again.
		in.Facts = rederive(in.Facts, current.SchemaFindings(), opts)
	}
	if prev, err := backend.Previous(ctx, b, current); err != nil {
		fmt.Fprintf(env.Stderr, "Warning: the previous state is unreadable (%v); the report has no drift section.\n", err)
	} else if prev != nil {
		in.Drift = diff.Compare(prev, current, ignore)
	}

	if err := report.Render(buf, format, in); err != nil {
		return fail("%v.", err)
	}
	return exitOK, false
}

// generationTime is SOURCE_DATE_EPOCH when set, else now.
func generationTime(env *Env) (time.Time, error) {
	v := strings.TrimSpace(env.Getenv("SOURCE_DATE_EPOCH"))
	if v == "" {
		return time.Now().UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a unix time in seconds", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// quietConfig loads the engagement when there is one; a report or diff on
// a bare state file can do without it, so a failure is a warning saying
// what is lost ("its ignore rules").
func quietConfig(env *Env, loc *stateLocator, lost string) *schema.Config {
	if loc.loaded != nil {
		return loc.loaded
	}
	files, _ := filepath.Glob(filepath.Join(loc.dir(env), "*.hcl"))
	if len(files) == 0 {
		return nil
	}
	d := loc.folder()
	cfg, diags := loadConfig(env, d, loc.vars.Vars, loc.vars.VarFiles)
	if diags.HasErrors() || cfg == nil {
		why := "unknown error"
		if errs := diags.Errs(); len(errs) > 0 {
			why = errs[0].Error()
		}
		fmt.Fprintf(env.Stderr, "Warning: the engagement in %s did not load (%s), so %s are not applied; run reconform validate.\n", d, why, lost)
		return nil
	}
	return cfg
}

// normalizeFindings applies report.Renormalize to every finding of s and
// reports whether any changed.
func normalizeFindings(s *state.State) bool {
	changed := false
	for i := range s.Findings {
		if report.Renormalize(&s.Findings[i].Finding) {
			changed = true
		}
	}
	return changed
}

// rederive replaces the derived facts of the state with those derived
// with opts, keeping the facts providers reported.
func rederive(facts []schema.Fact, findings []schema.Finding, opts analysis.Options) []schema.Fact {
	var kept []schema.Fact
	for _, f := range facts {
		if !analysis.IsDerivedKind(f.Kind) {
			kept = append(kept, f)
		}
	}
	// Takeover, dangling and CAA facts rest on the reported ones.
	opts.Facts = kept
	out := append(analysis.Derive(findings, opts), kept...)
	schema.SortFacts(out)
	return out
}
