package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/backend/pg"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "init",
		Synopsis: "Create a starter engagement, or prepare an engagement's backend",
		Usage: `Usage: reconform init [options] [DIR]

  In a folder with no engagement, writes a starter engagement to DIR
  (default: the current directory, created when missing): a commented
  main.hcl, a small sample data file it reads with the offline "file"
  provider, and a .gitignore. It runs as is, with no API keys and no
  network:

    reconform init my-engagement
    reconform apply my-engagement

  Then point the target and scope at your own domain and uncomment the
  providers you have keys for. init never overwrites a file.

  In a folder with an engagement, init prepares its backend and can be
  run again at any time: for backend "pg" it connects, creates the schema
  when missing and applies the migrations it lacks; for local files there
  is nothing to prepare.

Options:
  -migrate-state  Copy the local state file and its history into the
                  engagement's backend (after adding a backend "pg"
                  block). Refused when the backend already holds another
                  state, unless -force-copy. The local files are left.
  -force-copy     With -migrate-state: replace what the backend holds
                  (it is kept in the backend's history).
  -domain=NAME    The apex domain of a starter (default "acme.example").
  -name=NAME      The starter engagement's name (default: the folder's name).`,
		Run: runInit,
	})
}

func runInit(ctx context.Context, env *Env, args []string) int {
	fset := newFlagSet(env, commands["init"])
	domain := fset.String("domain", "acme.example", "")
	name := fset.String("name", "", "")
	migrate := fset.Bool("migrate-state", false, "")
	forceCopy := fset.Bool("force-copy", false, "")
	if done, code := parseFlags(fset, args); done {
		return code
	}
	if fset.NArg() > 1 {
		fmt.Fprintln(env.Stderr, "Error: init takes at most one folder.")
		return exitError
	}
	dir := "."
	if fset.NArg() == 1 {
		dir = fset.Arg(0)
	}
	abs := dir
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(env.WorkDir, dir)
	}
	if hcls, _ := filepath.Glob(filepath.Join(abs, "*.hcl")); len(hcls) > 0 {
		return initExisting(ctx, env, dir, *migrate, *forceCopy)
	}
	if *migrate {
		fmt.Fprintf(env.Stderr, "Error: there is no engagement in %s to migrate the state of.\n", dir)
		return exitError
	}
	subj, err := schema.ParseSubject(*domain)
	if err != nil || subj.Kind != schema.SubjectDomain {
		fmt.Fprintf(env.Stderr, "Error: -domain=%q is not a domain name.\n", *domain)
		return exitError
	}
	engName := *name
	if engName == "" {
		engName = engagementName(filepath.Base(filepath.Clean(abs)))
	}
	files, err := starterFiles(engName, subj.Value)
	if err != nil {
		fmt.Fprintln(env.Stderr, "Error:", err)
		return exitError
	}
	if err := writeNew(abs, files); err != nil {
		fmt.Fprintln(env.Stderr, "Error:", err)
		return exitError
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(env.Stdout, "Created a starter engagement %q in %s:\n", engName, dir)
	for _, n := range names {
		fmt.Fprintf(env.Stdout, "  %s\n", filepath.Join(dir, n))
	}
	fmt.Fprintf(env.Stdout, `
It runs offline on the sample data:

  %[1]s
  %[2]s

Then edit %[3]s: set your scope and targets, and uncomment the providers
you have keys for.
`, hintCommand(env, "plan", dir), hintCommand(env, "apply", dir), filepath.Join(dir, "main.hcl"))
	return exitOK
}

// engagementName makes a folder name into an engagement name.
func engagementName(base string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ' || r == '.':
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return "starter"
	}
	return s
}

// writeNew creates every file, or none when any already exists.
func writeNew(dir string, files map[string]string) error {
	var exist []string
	for name := range files {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			exist = append(exist, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if len(exist) > 0 {
		sort.Strings(exist)
		return fmt.Errorf("%s already has %s; init never overwrites files (choose another folder)", dir, strings.Join(exist, ", "))
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, werr := f.WriteString(content)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}

func starterFiles(name, domain string) (map[string]string, error) {
	data := struct{ Name, Domain string }{name, domain}
	out := map[string]string{".gitignore": starterGitignore}
	for file, text := range map[string]string{"main.hcl": starterHCL, "data/sample.csv": starterCSV} {
		var b strings.Builder
		if err := template.Must(template.New(file).Parse(text)).Execute(&b, data); err != nil {
			return nil, err
		}
		out[file] = b.String()
	}
	return out, nil
}

const starterGitignore = `# reconform's cache, persisted indexes, state history and locks
.reconform/
`

const starterHCL = `# A starter engagement, written by "reconform init". It is passive (nothing
# here touches the target) and runs offline on data/sample.csv. Run it:
#
#   reconform plan .     # what will be asked, of whom, at what cost
#   reconform apply .    # run it; the state goes to {{.Name}}.rfstate
#
# Then set your scope and targets, and add providers you have keys for.

engagement "{{.Name}}" {
  description  = "External DNS footprint of {{.Domain}}"
  passive_only = true # live DNS (the "dns" provider) needs false
  max_depth    = 2    # how far pivots may chain
  state        = "{{.Name}}.rfstate"
  # current_window = "30d"  # seen this recently: current, else historical
}

variable "apex" {
  type    = string
  default = "{{.Domain}}"
}

# Only in-scope names and addresses are pivoted from.
scope {
  domains = [var.apex]
  cidrs   = ["192.0.2.0/24"]
  # exclude = ["vendor-hosted.{{.Domain}}"]
}

# Offline data: CSV (name,type,value[,first_seen,last_seen]), Passive DNS
# Common Output Format NDJSON, or Rapid7 Sonar FDNS (.json.gz).
provider "file" "sample" {
  path = "data/sample.csv"
}

# Online sources read their keys from the environment; keys never reach the
# state, plans, caches or logs. Uncomment what you have, and add the
# provider to the queries below.
#
# provider "securitytrails" {
#   api_key = env("SECURITYTRAILS_API_KEY")
#   rate    = "1/s"
#   budget  = 50 # requests per run
# }
#
# provider "crtsh" {} # certificate transparency, no key
#
# See "reconform providers" for every provider and its settings.

target "domain" "apex" { name = var.apex }

query "records" {
  provider = provider.file.sample
  op       = "resolutions"
  subjects = [target.domain.apex]
}

query "hosts" {
  provider = provider.file.sample
  op       = "subdomains"
  subjects = [target.domain.apex]
}

query "host_records" {
  provider = provider.file.sample
  op       = "resolutions"
  subjects = [for f in query.hosts.findings : f.name]
}

# Names seen on the in-scope addresses found.
pivot "neighbours" {
  from     = [query.records, query.host_records]
  when     = finding.type == "A" && in_scope(finding.value)
  provider = provider.file.sample
  op       = "reverse_ip"
  subject  = finding.value
}
`

const starterCSV = `name,type,value,first_seen,last_seen
{{.Domain}},A,192.0.2.10,2023-01-15,2025-06-01
{{.Domain}},MX,10 mail.{{.Domain}},2023-01-15,2025-06-01
{{.Domain}},NS,ns1.{{.Domain}},2023-01-15,2025-06-01
{{.Domain}},TXT,v=spf1 mx -all,2023-01-15,2025-06-01
_dmarc.{{.Domain}},TXT,v=DMARC1; p=quarantine,2023-02-01,2025-06-01
www.{{.Domain}},A,192.0.2.10,2023-01-15,2025-06-01
mail.{{.Domain}},A,192.0.2.25,2023-01-15,2025-06-01
ns1.{{.Domain}},A,192.0.2.53,2023-01-15,2025-06-01
vpn.{{.Domain}},A,192.0.2.20,2024-03-01,2025-06-01
old.{{.Domain}},A,192.0.2.99,2021-05-01,2023-12-31
intranet.{{.Domain}},A,192.0.2.30,2023-06-01,2025-06-01
`

// initExisting checks and prepares the backend of the engagement in dir,
// and with migrate copies its local state into it.
func initExisting(ctx context.Context, env *Env, dir string, migrate, forceCopy bool) int {
	cfg, diags := loadConfig(env, dir, nil, nil)
	if diags.HasErrors() || cfg == nil {
		printDiags(env, diags, filesOf(cfg), true)
		fmt.Fprintf(env.Stderr, "Error: %s already has configuration files, and the engagement in them did not load (see above); init never overwrites files and changed nothing.\n", dir)
		return exitError
	}
	b, err := openBackend(ctx, env, cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer b.Close()
	switch pb := b.(type) {
	case *pg.Backend:
		r, err := pb.Migrate(ctx)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		switch {
		case r.From == r.To:
			fmt.Fprintf(env.Stdout, "Backend %s: schema version %d, up to date.\n", b.Location(), r.To)
		case r.From == 0:
			fmt.Fprintf(env.Stdout, "Backend %s: schema created at version %d.\n", b.Location(), r.To)
		default:
			fmt.Fprintf(env.Stdout, "Backend %s: schema migrated from version %d to %d.\n", b.Location(), r.From, r.To)
		}
	default:
		fmt.Fprintf(env.Stdout, "Backend: local state file %s (nothing to prepare).\n", displayPath(env, b.Location()))
	}
	if !migrate {
		return exitOK
	}
	if _, ok := b.(*backend.Local); ok {
		fmt.Fprintln(env.Stderr, "Error: the engagement's backend is the local state file itself; add a backend \"pg\" block to the engagement block to migrate the state into it.")
		return exitError
	}
	return migrateState(ctx, env, cfg, b, forceCopy)
}

// migrateState copies the local state file and its history, oldest
// first, into b: each kept state becomes a revision of b's history with
// its own serial and lineage.
func migrateState(ctx context.Context, env *Env, cfg *schema.Config, b backend.Backend, force bool) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(env.Stderr, "Error: "+format+"\n", args...)
		return exitError
	}
	local := backend.NewLocal(engagementStatePath(cfg), "")
	lsess, err := local.Open(ctx, backend.OpenOptions{Lock: true, Operation: "init -migrate-state", Version: version.Version})
	if err != nil {
		return fail("%v", withUnlockHint(env, err, cfg.Dir, ""))
	}
	defer lsess.Close()
	current := lsess.Previous()
	if current == nil {
		fmt.Fprintf(env.Stdout, "There is no local state at %s: nothing to migrate.\n", displayPath(env, local.Location()))
		return exitOK
	}
	hist, err := local.History(ctx)
	if err != nil {
		return fail("reading the local history: %v", err)
	}
	open := func() (backend.Session, error) {
		s, err := b.Open(ctx, backend.OpenOptions{Lock: true, Operation: "init -migrate-state", Version: version.Version})
		return s, withUnlockHint(env, err, cfg.Dir, "")
	}
	s, err := open()
	if err != nil {
		return fail("%v", err)
	}
	there := s.Previous()
	s.Close()
	if there != nil && !force {
		if there.Lineage == current.Lineage && there.Serial >= current.Serial {
			fmt.Fprintf(env.Stdout, "%s already holds serial %d of this state (lineage %s): nothing to migrate.\n", b.Location(), there.Serial, there.Lineage)
			return exitOK
		}
		return fail("%s already holds a state (lineage %s, serial %d); nothing was copied. Add -force-copy to replace it with the local state (it stays in the backend's history).", b.Location(), there.Lineage, there.Serial)
	}
	copied := 0
	push := func(st *state.State) error {
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
		if prev := s.Previous(); prev != nil && st.Serial <= prev.Serial {
			// -force-copy over a newer state: history keeps order by serial.
			st.Serial = prev.Serial + 1
		}
		if _, err := s.Commit(ctx, backend.Commit{State: st, Exact: true}); err != nil {
			return err
		}
		copied++
		return nil
	}
	for _, h := range hist {
		st, err := local.ReadHistory(ctx, h)
		if err != nil {
			return fail("reading %s: %v; %d states were copied, run init -migrate-state -force-copy again once it is fixed", displayPath(env, h.Path), err, copied)
		}
		if err := push(st); err != nil {
			return fail("copying serial %d: %v", h.Serial, err)
		}
	}
	if err := push(current); err != nil {
		return fail("copying the current state: %v", err)
	}
	fmt.Fprintf(env.Stdout, "Migrated %d states (the current one, serial %d, and %d from history) to %s.\n", copied, current.Serial, copied-1, b.Location())
	fmt.Fprintf(env.Stdout, "The local files (%s and its history) are left in place and no longer used; remove them when you no longer need them.\n", displayPath(env, local.Location()))
	return exitOK
}
