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

	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "init",
		Synopsis: "Create a starter engagement in a folder",
		Usage: `Usage: reconform init [options] [DIR]

  Writes a starter engagement to DIR (default: the current directory,
  created when missing): a commented main.hcl, a small sample data file it
  reads with the offline "file" provider, and a .gitignore. It runs as is,
  with no API keys and no network:

    reconform init my-engagement
    reconform apply my-engagement

  Then point the target and scope at your own domain and uncomment the
  providers you have keys for. init never overwrites a file: it stops
  when any of them exists.

Options:
  -domain=NAME  The apex domain of the engagement (default "acme.example").
  -name=NAME    The engagement's name (default: the folder's name).`,
		Run: runInit,
	})
}

func runInit(_ context.Context, env *Env, args []string) int {
	fset := newFlagSet(env, commands["init"])
	domain := fset.String("domain", "acme.example", "")
	name := fset.String("name", "", "")
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

  reconform plan %[1]s
  reconform apply %[1]s

Then edit %[2]s: set your scope and targets, and uncomment the providers
you have keys for.
`, dir, filepath.Join(dir, "main.hcl"))
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
