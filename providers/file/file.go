// Package file is the offline provider: it answers queries from a local
// data file through an in-memory index built in one streaming pass and,
// for big files, persisted under the engagement's .reconform folder.
//
// It reads passive DNS exports (COF NDJSON from CIRCL, DNSDB and Robtex;
// Rapid7 Sonar FDNS NDJSON; CSV), DNS zone files (RFC 1035 master files
// such as ICANN CZDS's TLD zones, see zone.go) and other recon tools'
// results (subfinder, Amass, BBOT, dnsx, massdns and plain name lists, see
// tools.go), plain, gzip or zstd, each detected from its content.
//
// Time and currency: a record's window is the one its line gives. Lines
// without a time (subfinder, Amass, name lists) are seen at the file's
// time: as_of when set, else the file's modification time; a zone's
// records at its SOA serial's date (see zone.go). A record is current when
// its last_seen is within current_window of the file's newest time, or of
// as_of.
package file

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the file provider type.
var Schema = schema.ProviderSchema{
	Type:        "file",
	Description: "Offline data files: Passive DNS COF NDJSON (CIRCL, DNSDB exports with or without SAF framing), Rapid7 Sonar FDNS NDJSON, CSV, DNS zone files (CZDS), subfinder, Amass, BBOT, dnsx and massdns results, host name lists; plain, gzip or zstd.",
	Attributes: []schema.ProviderAttribute{
		{Name: "path", Type: cty.String, Required: true, Sensitive: false, File: true, Description: "Path of the data file, relative to the engagement folder."},
		{Name: "format", Type: cty.String, Required: false, Sensitive: false, Description: "cof, fdns, csv, zone, subfinder, amass, bbot, dnsx, massdns or names; detected from the content when unset."},
		{Name: "current_window", Type: cty.String, Description: `A record is current when its last_seen is within this of the file's newest time (or as_of), e.g. "7d".`, Default: cty.StringVal("30d")},
		{Name: "as_of", Type: cty.String, Description: "The time the file is a snapshot of (RFC 3339, YYYY-MM-DD or unix seconds): currency is counted from it, and records without a time (a zone's, subfinder's, Amass's) are seen then; default: the newest last_seen, and for records without a time the file's modification time (a zone's SOA serial date)."},
		{Name: "persist_index", Type: cty.Bool, Description: "Keep the index under .reconform/index for later runs; default: only for files over 64 MiB."},
		{Name: "index_memory", Type: cty.String, Description: `Memory the index build's sorted runs may take (two runs of half of it: one read while the other is sorted and written as a segment of the index), e.g. "256MiB" (KiB, MiB, GiB); default: "320MiB", which keeps a build of any size under 1 GiB; at most "2GiB" is used.`},
		{Name: "max_results", Type: cty.Number, Description: "Most findings one query returns; the rest are dropped with a warning.", Default: cty.NumberIntVal(defaultMaxResults)},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {},
		schema.OpMXReverse:   {},
	},
	DefaultTimeout: 30 * time.Second,
	// Answers come from a local file, so caching them would only hide a
	// changed file (the cache key does not include the path).
	DefaultCacheTTL: -1,
}

const (
	defaultMaxResults = 50000
	// persistThreshold is the file size from which the index is kept on
	// disk by default: below it, rebuilding takes well under a second.
	persistThreshold = 64 << 20
)

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider answers queries from one data file. The index is built on the
// first query and shared by concurrent ones.
type Provider struct {
	cfg        providers.Config
	log        hclog.Logger
	path       string
	format     string
	window     time.Duration
	asOf       int64
	persist    bool
	maxResults int
	budget     int64 // memory a build's run may take; 0: the default

	mu       sync.Mutex
	ix       *index
	buildErr error
	building chan struct{}
	warned   atomic.Bool
	// unkept: a damaged persisted index could not be removed, so this
	// provider's next build is not persisted (nor read from there).
	unkept bool
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config. It only checks that the
// file exists; reading it waits for the first query.
func New(_ context.Context, cfg providers.Config) (providers.Provider, error) {
	p := &Provider{cfg: cfg, log: cfg.Logger, window: 30 * 24 * time.Hour, maxResults: defaultMaxResults}
	if p.log == nil {
		p.log = hclog.NewNullLogger()
	}
	bad := func(attr, format string, args ...any) error {
		return providers.Errorf(cfg.Address, providers.KindBadInput, "attribute %q: %s", attr, fmt.Sprintf(format, args...))
	}
	p.path = cfg.String("path")
	if p.path == "" {
		return nil, bad("path", "the data file to read is required")
	}
	if !filepath.IsAbs(p.path) && cfg.Dir != "" {
		p.path = filepath.Join(cfg.Dir, p.path)
	}
	st, err := os.Stat(p.path)
	if err != nil {
		return nil, bad("path", "cannot read the data file: %v", err)
	}
	if !st.Mode().IsRegular() {
		return nil, bad("path", "%s is not a regular file", p.path)
	}
	switch f := strings.ToLower(cfg.String("format")); f {
	case "", FormatCOF, FormatFDNS, FormatCSV, FormatZone, FormatSubfinder, FormatAmass, FormatBBOT, FormatDNSX, FormatMassDNS, FormatNames:
		p.format = f
	case "ndjson", "json", "circl":
		p.format = FormatCOF
	case "sonar", "rapid7":
		p.format = FormatFDNS
	case "czds", "zonefile", "master":
		p.format = FormatZone
	case "hosts", "subdomains", "list":
		p.format = FormatNames
	default:
		return nil, bad("format", "%q is not a format; use %s", f, formatList)
	}
	if w := cfg.String("current_window"); w != "" {
		if p.window, err = schema.ParseDuration(w); err != nil {
			return nil, bad("current_window", "%v", err)
		}
	}
	if a := cfg.String("as_of"); a != "" {
		if p.asOf, err = parseTime(a); err != nil {
			return nil, bad("as_of", "%v", err)
		}
	}
	p.persist = cfg.Bool("persist_index", st.Size() > persistThreshold)
	if m := cfg.String("index_memory"); m != "" {
		if p.budget, err = parseBytes(m); err != nil {
			return nil, bad("index_memory", "%v", err)
		}
	}
	if n := cfg.Int("max_results", defaultMaxResults); n > 0 {
		p.maxResults = int(n)
	}
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// index returns the file's index, building it on first use. Concurrent
// callers wait for one build; a build cut short by cancellation is tried
// again by the next caller.
func (p *Provider) index(ctx context.Context) (*index, error) {
	for {
		p.mu.Lock()
		if p.ix != nil || p.buildErr != nil {
			ix, err := p.ix, p.buildErr
			p.mu.Unlock()
			return ix, err
		}
		if wait := p.building; wait != nil {
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-wait:
				continue
			}
		}
		done := make(chan struct{})
		p.building = done
		p.mu.Unlock()

		ix, err := p.load(ctx)
		p.mu.Lock()
		switch {
		case err == nil:
			p.ix = ix
		case ctx.Err() == nil:
			p.buildErr = err
		}
		p.building = nil
		close(done)
		p.mu.Unlock()
		return ix, err
	}
}

// store is where the index is kept, or nil when it is not persisted.
func (p *Provider) store() *indexStore {
	if !p.persist || p.cfg.WorkDir == "" || p.unkept {
		return nil
	}
	// as_of dates the records of files without times, so an index built
	// under one as_of is not another's.
	key := p.format
	if p.asOf > 0 {
		key += "\x00as_of=" + strconv.FormatInt(p.asOf, 10)
	}
	return newIndexStore(filepath.Join(p.cfg.WorkDir, "index"), p.path, key)
}

// load reads a persisted index when one matches the file, else reads the
// file into a new index, kept under .reconform/index when persisting.
func (p *Provider) load(ctx context.Context) (*index, error) {
	opt := buildOptions{budget: p.budget}
	if p.cfg.WorkDir != "" && !p.unkept {
		opt.dir = filepath.Join(p.cfg.WorkDir, "index")
	}
	if opt.store = p.store(); opt.store != nil {
		start := time.Now()
		ix, err := opt.store.load()
		if err == nil {
			p.log.Debug("reused persisted index", "path", p.path, "took", time.Since(start))
			return ix, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			p.log.Info("rebuilding the file index", "path", p.path, "reason", err)
		}
	}
	start := time.Now()
	ix, format, err := readIndexAt(ctx, p.path, p.format, p.asOf, opt)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, providers.Errorf(p.cfg.Address, providers.KindMalformed, "reading %s: %v", p.path, err)
	}
	p.log.Debug("indexed data file", "path", p.path, "format", format, "lines", ix.lines, "bad", ix.bad, "bytes", ix.size, "took", time.Since(start))
	return ix, nil
}

// Query answers q from the index. Each query counts as one request
// against the provider's budget.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	if p.cfg.Gate != nil {
		if err := p.cfg.Gate.Wait(ctx); err != nil {
			if errors.Is(err, providers.ErrBudgetExhausted) {
				return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindBudget, Msg: "request budget exhausted", Err: err}
			}
			return providers.Answer{}, err
		}
	}
	for rebuilt := false; ; rebuilt = true {
		ans, err := p.answer(ctx, q)
		var corrupt *corruptIndex
		if errors.As(err, &corrupt) {
			if !rebuilt {
				p.discard(corrupt.ix, corrupt.err)
				continue
			}
			err = providers.Errorf(p.cfg.Address, providers.KindMalformed, "reading the index of %s: %v", p.path, corrupt.err)
		}
		return ans, err
	}
}

// corruptIndex is a reused index that a query found a corrupt block in.
type corruptIndex struct {
	ix  *index
	err error
}

func (c *corruptIndex) Error() string { return c.err.Error() }
func (c *corruptIndex) Unwrap() error { return c.err }

// discard drops ix, a persisted index found corrupt, and its file, so that
// the next query builds the index again (once, for concurrent queries).
func (p *Provider) discard(ix *index, reason error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ix != ix {
		return // another query did it
	}
	p.ix = nil
	p.log.Info("rebuilding the file index", "path", p.path, "reason", reason)
	store := p.store()
	if store == nil {
		return
	}
	// Only the file this index was read from: another run may have put
	// a new one in its place.
	name := store.file()
	f, ok := ix.src.(*indexFile)
	if !ok {
		return
	}
	opened, err1 := f.f.Stat()
	there, err2 := os.Stat(name)
	if err1 != nil || err2 != nil || !os.SameFile(opened, there) {
		return
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		p.log.Warn("cannot remove the damaged file index; building one for this run only", "path", name, "error", err)
		p.unkept = true
	}
}

// answer is Query once its gate has passed.
func (p *Provider) answer(ctx context.Context, q schema.Query) (providers.Answer, error) {
	ix, err := p.index(ctx)
	if err != nil {
		return providers.Answer{}, err
	}
	r := ix.newResult(p, q)
	subj := q.Subject
	switch q.Op {
	case schema.OpResolutions:
		if subj.Kind != schema.SubjectCIDR {
			// A HOST observation (a subdomain list's) is no record of
			// the name: subdomains reports it, resolutions only when
			// asked for by type.
			wantHost := slices.Contains(q.RRTypes, schema.TypeHost)
			err = r.resolutions(subj.Value, func(t string) bool { return t != schema.TypeHost || wantHost })
		}
	case schema.OpReverseIP:
		switch subj.Kind {
		case schema.SubjectIP:
			key := appendKey(nil, []byte(subj.Value))
			err = r.reverseIP(key, key)
		case schema.SubjectCIDR:
			prefix, perr := netip.ParsePrefix(subj.Value)
			if perr != nil {
				return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindBadInput, "%q is not a CIDR", subj.Value)
			}
			err = r.reverseIP(ipRange(prefix))
		default:
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "reverse_ip needs an IP or a CIDR, not %q", subj.Value)
		}
	case schema.OpSubdomains:
		if subj.Kind != schema.SubjectDomain {
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "subdomains needs a domain, not %q", subj.Value)
		}
		err = r.subdomains(subj.Value)
	case schema.OpNSReverse, schema.OpMXReverse:
		if subj.Kind != schema.SubjectDomain {
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "%s needs a host name, not %q", q.Op, subj.Value)
		}
		want := "NS"
		if q.Op == schema.OpMXReverse {
			want = "MX"
		}
		err = r.keyed(subj.Value, want)
	default:
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "the file provider does not answer %s", q.Op)
	}
	if err != nil {
		if ix.reused && errors.Is(err, errBadBlock) {
			return providers.Answer{}, &corruptIndex{ix: ix, err: err}
		}
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindMalformed, "reading the index of %s: %v", p.path, err)
	}
	ans := providers.Answer{Findings: r.findings(), Requests: 1}
	if r.truncated {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("%s %s has more than %d results; the rest were dropped (raise max_results)", q.Op, subj.Value, p.maxResults))
	}
	if len(ix.warnings) > 0 && p.warned.CompareAndSwap(false, true) {
		name := filepath.Base(p.path)
		for _, w := range ix.warnings {
			ans.Warnings = append(ans.Warnings, fmt.Sprintf("%s: %s", name, w))
		}
	}
	return ans, nil
}

// Stats describes the index of a provider that has answered a query.
type Stats struct {
	Lines, Bad       int64 // lines read, lines skipped as malformed
	Records, Strings int   // observations indexed, distinct owner names and lookup keys (counted once in each segment)
	IndexBytes       int64 // size of the index file
	Runs             int   // sorted runs the build made (0: reused)
	Reused           bool  // the index was read from .reconform/index
}

// Stats reports on the index; zero before the first query.
func (p *Provider) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ix == nil {
		return Stats{}
	}
	return Stats{Lines: p.ix.lines, Bad: p.ix.bad, Records: int(p.ix.records), Strings: int(p.ix.names + p.ix.keys), IndexBytes: p.ix.size, Runs: p.ix.runs, Reused: p.ix.reused}
}

// parseBytes reads a size such as "448MiB" (B, KiB, MiB, GiB; KB, MB and
// GB are read as the binary units too). At least 64 KiB.
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9') {
		i++
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size such as \"256MiB\"", s)
	}
	var unit int64
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b":
		unit = 1
	case "k", "kb", "kib":
		unit = 1 << 10
	case "m", "mb", "mib":
		unit = 1 << 20
	case "g", "gb", "gib":
		unit = 1 << 30
	default:
		return 0, fmt.Errorf("%q is not a size such as \"256MiB\" (units: KiB, MiB, GiB)", s)
	}
	if n > 1<<40/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if n*unit < 64<<10 {
		return 0, fmt.Errorf("%q is below the least, 64KiB", s)
	}
	return n * unit, nil
}
