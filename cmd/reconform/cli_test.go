package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// initEngagement writes the starter engagement "qs" under a new folder
// and returns that folder (the user's, the engagement's parent).
func initEngagement(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if r := runCLI(t, dir, nil, "init", "qs"); r.Code != exitOK {
		t.Fatalf("init: %d %s", r.Code, r.Stderr)
	}
	return dir
}

// verbUnderChdir is each verb as run from the engagement's parent with
// the global -chdir, and the exit code it must end with.
var verbUnderChdir = []struct {
	args []string
	code int
}{
	{[]string{"validate"}, exitOK},
	{[]string{"fmt", "-check"}, exitOK},
	{[]string{"plan"}, exitOK},
	{[]string{"graph"}, exitOK},
	{[]string{"apply", "-auto-approve"}, exitOK},
	{[]string{"show"}, exitOK},
	{[]string{"state", "list"}, exitOK},
	{[]string{"state", "pull"}, exitOK},
	{[]string{"output"}, exitOK},
	{[]string{"check"}, exitOK},
	{[]string{"diff"}, exitOK},
	{[]string{"report", "-out", "report.md"}, exitOK},
	{[]string{"console"}, exitOK},
	{[]string{"notify", "status"}, exitError}, // qs declares no notify blocks
	{[]string{"quota"}, exitOK},
	{[]string{"init"}, exitOK},
	{[]string{"run-all", "."}, exitOK},
	{[]string{"providers"}, exitOK},
	{[]string{"version"}, exitOK},
	{[]string{"completion", "bash"}, exitOK},
	{[]string{"force-unlock", "-force", "0000"}, exitError}, // not locked
}

// TestGlobalChdirEveryVerb: "reconform -chdir=DIR VERB" works for every
// verb, from the engagement's parent folder, as it does from inside it.
func TestGlobalChdirEveryVerb(t *testing.T) {
	dir := initEngagement(t)
	environ := []string{"XDG_STATE_HOME=" + t.TempDir()}
	seen := map[string]bool{}
	for _, v := range verbUnderChdir {
		seen[v.args[0]] = true
		args := append([]string{"-chdir=qs"}, v.args...)
		r := runCLI(t, dir, environ, args...)
		if r.Code != v.code {
			t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.Code, v.code, r.Stdout, r.Stderr)
			continue
		}
		if strings.Contains(r.Stderr, "no *.hcl") || strings.Contains(r.Stderr, "Cannot read the engagement folder") {
			t.Errorf("%v did not work in qs: %s", args, r.Stderr)
		}
	}
	for _, name := range verbNames() {
		if !seen[name] {
			t.Errorf("verb %s is not tried under -chdir", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "qs", "report.md")); err != nil {
		t.Errorf("report -out under -chdir=qs: %v", err)
	}
	// -chdir DIR (two words) and a folder that is not there.
	if r := runCLI(t, dir, environ, "-chdir", "qs", "validate"); r.Code != exitOK {
		t.Errorf("-chdir qs validate: %d %s", r.Code, r.Stderr)
	}
	r := runCLI(t, dir, environ, "-chdir=nope", "validate")
	if r.Code != exitError || !strings.Contains(r.Stderr, "-chdir=nope: no such folder") || r.Stdout != "" {
		t.Errorf("-chdir=nope: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	r = runCLI(t, dir, environ, "-bogus", "validate")
	if r.Code != exitError || !strings.Contains(r.Stderr, "unknown global option -bogus") {
		t.Errorf("-bogus validate: %d %q", r.Code, r.Stderr)
	}
}

func TestDidYouMean(t *testing.T) {
	for typo, want := range map[string]string{"aply": "apply", "paln": "plan", "valdate": "validate", "shwo": "show", "sate": "state", "froce-unlock": "force-unlock"} {
		r := runCLI(t, t.TempDir(), nil, typo)
		if r.Code != exitError || r.Stdout != "" || !strings.Contains(r.Stderr, `Did you mean "`+want+`"?`) {
			t.Errorf("%s: %d %q %q", typo, r.Code, r.Stdout, r.Stderr)
		}
	}
	r := runCLI(t, t.TempDir(), nil, "frobnicate")
	if r.Code != exitError || strings.Contains(r.Stderr, "Did you mean") || !strings.Contains(r.Stderr, `unknown command "frobnicate"`) {
		t.Errorf("frobnicate: %d %q", r.Code, r.Stderr)
	}
	r = runCLI(t, t.TempDir(), nil, "help", "aply")
	if r.Code != exitError || !strings.Contains(r.Stderr, `Did you mean "apply"?`) {
		t.Errorf("help aply: %d %q", r.Code, r.Stderr)
	}
	r = runCLI(t, t.TempDir(), nil, "state", "lsit")
	if r.Code != exitError || !strings.Contains(r.Stderr, `did you mean "list"?`) {
		t.Errorf("state lsit: %d %q", r.Code, r.Stderr)
	}
}

// subArgs are the words that reach a verb's flags (a subcommand first).
func subArgs(name string) []string {
	switch name {
	case "state":
		return []string{"state", "list"}
	case "notify":
		return []string{"notify", "status"}
	case "completion":
		return []string{"completion", "bash"}
	}
	return []string{name}
}

// TestUsageErrors: a bad flag or a missing argument is an error on stderr
// with exit 1 and nothing on stdout; -h is the help on stdout, exit 0.
func TestUsageErrors(t *testing.T) {
	for _, name := range verbNames() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := runCLI(t, dir, nil, append(subArgs(name), "-no-such-flag")...)
			if r.Code != exitError || r.Stdout != "" || !strings.Contains(r.Stderr, "Error: flag provided but not defined: -no-such-flag") ||
				!strings.Contains(r.Stderr, "Usage: reconform "+name) {
				t.Errorf("bad flag: %d\nstdout %q\nstderr %q", r.Code, r.Stdout, r.Stderr)
			}
			r = runCLI(t, dir, nil, name, "-h")
			if r.Code != exitOK || r.Stderr != "" || !strings.HasPrefix(r.Stdout, "Usage: reconform "+name) {
				t.Errorf("-h: %d\nstdout %q\nstderr %q", r.Code, r.Stdout, r.Stderr)
			}
		})
	}
	for _, args := range [][]string{{"state"}, {"notify"}, {"completion"}, {"run-all"}, {"force-unlock"}, {"validate", "a", "b"}} {
		r := runCLI(t, t.TempDir(), nil, args...)
		if r.Code != exitError || r.Stdout != "" || !strings.HasPrefix(r.Stderr, "Error: ") {
			t.Errorf("%v: %d\nstdout %q\nstderr %q", args, r.Code, r.Stdout, r.Stderr)
		}
	}
}

// jsonVerbs are the verbs that take -json, with arguments that fail.
var jsonVerbs = [][]string{
	{"validate", "nope"},
	{"plan", "nope"},
	{"apply", "-auto-approve", "nope"},
	{"show", "nope.rfstate"},
	{"state", "list", "-chdir=nope"},
	{"output", "-chdir=nope"},
	{"check", "nope"},
	{"diff", "nope.rfstate"},
	{"notify", "status", "nope"},
	{"quota", "nope"},
	{"run-all", "-parallelism=0", "nope"},
	{"providers", "extra"},
	{"version", "extra"},
}

// TestJSONErrors: with -json, every verb's errors come as the documented
// JSON document on stdout (docs/json.md), whether the flags, the folder
// or the configuration is wrong.
func TestJSONErrors(t *testing.T) {
	seen := map[string]bool{}
	for _, args := range jsonVerbs {
		seen[args[0]] = true
		for _, extra := range [][]string{{"-json"}, {"-json", "-no-such-flag"}} {
			all := append(append([]string{}, args...), extra...)
			r := runCLI(t, t.TempDir(), nil, all...)
			if r.Code != exitError || r.Stderr != "" {
				t.Errorf("%v: %d, stderr %q", all, r.Code, r.Stderr)
				continue
			}
			doc, err := lastJSON(r.Stdout)
			if err != nil {
				t.Errorf("%v: stdout does not end in JSON: %v\n%s", all, err, r.Stdout)
				continue
			}
			if args[0] == "validate" && !strings.Contains(extra[len(extra)-1], "flag") {
				doc.Type = "diagnostics" // validate's own document, with "valid"
			}
			if doc.FormatVersion != 1 || doc.Type != "diagnostics" || doc.ErrorCount == 0 || doc.Diagnostics[0].Summary == "" {
				t.Errorf("%v: %+v", all, doc)
			}
		}
	}
	for name, c := range commands {
		if c.JSON && !seen[name] {
			t.Errorf("verb %s takes -json and is not tried here", name)
		}
	}
	// A configuration error keeps its place.
	dir := initEngagement(t)
	os.WriteFile(filepath.Join(dir, "qs", "bad.hcl"), []byte("query \"x\" {\n  op = 1\n}\n"), 0o644)
	r := runCLI(t, dir, nil, "plan", "-json", "qs")
	var doc jsonErrorDoc
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != exitError {
		t.Fatalf("plan -json on a bad config: %d %v %q", r.Code, err, r.Stdout)
	}
	var ranged []string
	for _, d := range doc.Diagnostics {
		if d.Range != nil {
			ranged = append(ranged, d.Range.Filename)
		}
	}
	sort.Strings(ranged)
	if len(ranged) == 0 || !strings.HasSuffix(ranged[0], "bad.hcl") {
		t.Errorf("plan -json diagnostics lost their ranges: %s", r.Stdout)
	}
}

// lastJSON decodes the last of the JSON values in out.
func lastJSON(out string) (jsonErrorDoc, error) {
	dec := json.NewDecoder(strings.NewReader(out))
	var doc jsonErrorDoc
	for {
		var next jsonErrorDoc
		if err := dec.Decode(&next); err == io.EOF {
			return doc, nil
		} else if err != nil {
			return doc, err
		}
		doc = next
	}
}

// TestOneFormatVersionScheme: every JSON document the CLI prints carries
// format_version as an integer (docs/json.md); an NDJSON stream says it
// in its first line, {"type":"version"}.
func TestOneFormatVersionScheme(t *testing.T) {
	dir := initEngagement(t)
	environ := []string{"XDG_STATE_HOME=" + t.TempDir()}
	for range 2 {
		if r := runCLI(t, dir, environ, "apply", "-auto-approve", "qs"); r.Code != exitOK {
			t.Fatal(r.Stderr)
		}
	}
	if r := runCLI(t, dir, environ, "plan", "-out=qs.plan", "qs"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	documents := [][]string{
		{"validate", "-json", "qs"},
		{"plan", "-json", "qs"},
		{"show", "-json", "-chdir=qs"},
		{"show", "-json", "qs.plan"},
		{"state", "pull", "-chdir=qs"},
		{"state", "show", "-json", "-chdir=qs", "acme.example", "A", "192.0.2.10"},
		{"diff", "-json", "-chdir=qs"},
		{"check", "-json", "qs"},
		{"providers", "-json"},
		{"quota", "-json", "qs"},
		{"report", "-format=json", "-chdir=qs"},
		{"version", "-json"},
		{"validate", "-json", "nope"},
		{"plan", "-json", "nope"},
	}
	streams := [][]string{
		{"apply", "-json", "-auto-approve", "qs"},
		{"run-all", "-json", "-fresh=0", "qs"},
	}
	for _, args := range append(documents, streams...) {
		r := runCLI(t, dir, environ, args...)
		if r.Code == exitError && args[len(args)-1] != "nope" {
			t.Errorf("%v: %s", args, r.Stderr)
			continue
		}
		dec := json.NewDecoder(strings.NewReader(r.Stdout))
		for n := 0; ; n++ {
			var doc map[string]any
			if err := dec.Decode(&doc); err == io.EOF {
				if n == 0 {
					t.Errorf("%v printed no JSON", args)
				}
				break
			} else if err != nil {
				t.Errorf("%v: %v", args, err)
				break
			}
			v, ok := doc["format_version"].(float64)
			if !ok || v != float64(int(v)) || v < 1 {
				if n == 0 || !isStream(args) {
					t.Errorf("%v: document %d has format_version %#v", args, n, doc["format_version"])
				}
			}
			if isStream(args) && n == 0 && doc["type"] != "version" {
				t.Errorf("%v: the stream starts with %v, not the version line", args, doc["type"])
			}
		}
	}
}

func isStream(args []string) bool { return args[0] == "apply" || args[0] == "run-all" }

// runTerminal is runCLI as if stdout were a terminal.
func runTerminal(t *testing.T, dir string, environ []string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr strings.Builder
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: environ, WorkDir: dir, Terminal: true}
	code := run(context.Background(), env, args)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// TestNoColor: on a terminal the verbs colour; NO_COLOR, -no-color after
// the verb and -no-color before it each turn every colour code off.
func TestNoColor(t *testing.T) {
	dir := initEngagement(t)
	base := []string{"XDG_STATE_HOME=" + t.TempDir()}
	if r := runCLI(t, dir, base, "apply", "-auto-approve", "qs"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	os.WriteFile(filepath.Join(dir, "qs", "checks.hcl"), []byte(`check "x" {
  assert {
    condition     = length(findings) > 1000
    error_message = "few findings"
  }
}
`), 0o644)
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "bad.hcl"), []byte("query \"x\" {\n  op = 1\n}\n"), 0o644)
	verbs := [][]string{
		{"plan", "qs"},
		{"apply", "-auto-approve", "-refresh", "qs"},
		{"diff", "-chdir=qs"},
		{"check", "qs"},
		{"validate", bad},
	}
	for _, args := range verbs {
		r := runTerminal(t, dir, base, args...)
		if !strings.Contains(r.Stdout+r.Stderr, "\x1b[") {
			t.Errorf("%v on a terminal: no colour at all (the test proves nothing)", args)
		}
		for name, run := range map[string]func() cliResult{
			"NO_COLOR=1": func() cliResult { return runTerminal(t, dir, append(base, "NO_COLOR=1"), args...) },
			"-no-color": func() cliResult {
				return runTerminal(t, dir, base, append([]string{args[0], "-no-color"}, args[1:]...)...)
			},
			"global -no-color": func() cliResult { return runTerminal(t, dir, base, append([]string{"-no-color"}, args...)...) },
		} {
			if r := run(); strings.Contains(r.Stdout+r.Stderr, "\x1b[") {
				t.Errorf("%v with %s: colour codes in\n%s%s", args, name, r.Stdout, r.Stderr)
			}
		}
	}
}

var hintLine = regexp.MustCompile(`reconform( [^\s"]+)+`)

// runHint runs the first reconform command printed in out after marker,
// from dir, as the user would paste it.
func runHint(t *testing.T, dir string, environ []string, out, marker string) cliResult {
	t.Helper()
	_, after, ok := strings.Cut(out, marker)
	m := hintLine.FindString(after)
	if !ok || m == "" {
		t.Fatalf("no hint after %q in:\n%s", marker, out)
	}
	words := strings.Fields(m)[1:]
	if words[len(words)-1] == "first" { // "run reconform apply qs first"
		words = words[:len(words)-1]
	}
	for i, w := range words {
		if w == "apply" { // no terminal here to confirm on
			words = append(words[:i+1], append([]string{"-auto-approve"}, words[i+1:]...)...)
			break
		}
	}
	return runCLI(t, dir, environ, words...)
}

// TestHintsWorkFromTheUserFolder: every command a hint names works when
// pasted in the folder the user ran reconform in, with the global -chdir,
// a folder argument, or neither.
func TestHintsWorkFromTheUserFolder(t *testing.T) {
	for _, how := range [][]string{{"-chdir=qs"}, {"", "qs"}, {"-chdir=.", "qs"}} {
		t.Run(strings.Join(how, " "), func(t *testing.T) {
			dir := t.TempDir()
			environ := []string{"XDG_STATE_HOME=" + t.TempDir()}
			// verb builds the arguments: global option, verb, flags, folder.
			verb := func(args ...string) []string {
				out := []string{}
				if how[0] != "" {
					out = append(out, how[0])
				}
				out = append(out, args...)
				if len(how) > 1 {
					out = append(out, how[1])
				}
				return out
			}
			init := []string{"init", "qs"}
			if how[0] != "" && len(how) == 1 {
				os.Mkdir(filepath.Join(dir, "qs"), 0o755)
				init = []string{how[0], "init", "."}
			}
			r := runCLI(t, dir, environ, init...)
			if r.Code != exitOK {
				t.Fatal(r.Stderr)
			}
			if h := runHint(t, dir, environ, r.Stdout, "sample data:"); h.Code != exitOK {
				t.Errorf("init's plan hint: %d %s", h.Code, h.Stderr)
			}
			r = runCLI(t, dir, environ, verb("apply", "-auto-approve")...)
			if h := runHint(t, dir, environ, r.Stdout, "see it with: "); h.Code != exitOK {
				t.Errorf("apply's show hint: %d %s", h.Code, h.Stderr)
			}
			r = runCLI(t, dir, environ, verb("diff")...)
			if h := runHint(t, dir, environ, r.Stdout, "See it with: "); h.Code != exitOK {
				t.Errorf("diff's show hint: %d %s", h.Code, h.Stderr)
			}
			r = runCLI(t, dir, environ, verb("plan", "-out=saved.plan")...)
			if h := runHint(t, dir, environ, r.Stdout, "these queries, run:"); h.Code != exitOK {
				t.Errorf("plan -out's apply hint: %d %s", h.Code, h.Stderr)
			}
			os.Remove(filepath.Join(dir, "qs", "qs.rfstate"))
			os.RemoveAll(filepath.Join(dir, "qs", ".reconform"))
			r = runCLI(t, dir, environ, verb("show")...)
			if h := runHint(t, dir, environ, r.Stderr, "yet; run "); h.Code != exitOK || !strings.Contains(h.Stdout, "First state") {
				t.Errorf("no state's apply hint: %d %s", h.Code, h.Stderr)
			}
		})
	}
}

// TestMissingDataFileStopsBeforeApply: a file provider's path that names
// no file (a literal, or computed from a variable) is an error of
// validate, plan and apply at the path's line, and apply writes no state.
func TestMissingDataFileStopsBeforeApply(t *testing.T) {
	dir := t.TempDir()
	copyExample(t, filepath.Join("..", "..", "examples", "quickstart"), filepath.Join(dir, "qs"))
	environ := []string{"XDG_STATE_HOME=" + t.TempDir()}
	for _, verb := range [][]string{{"validate"}, {"plan"}, {"apply", "-auto-approve"}} {
		r := runCLI(t, dir, environ, append(append([]string{"-chdir=qs"}, verb...), "-var", "snapshot=3")...)
		if r.Code != exitError || !strings.Contains(r.Stderr, "Error: No such file") || !regexp.MustCompile(`on \S+\.hcl line \d+`).MatchString(r.Stderr) {
			t.Errorf("%v -var snapshot=3: %d %s", verb, r.Code, r.Stderr)
		}
		r = runCLI(t, dir, environ, append(append([]string{"-chdir=qs"}, verb...), "-json", "-var", "snapshot=3")...)
		if doc, err := lastJSON(r.Stdout); verb[0] != "validate" && (err != nil || len(doc.Diagnostics) == 0 || doc.Diagnostics[0].Range == nil || doc.Diagnostics[0].Range.Start.Column == 0) {
			t.Errorf("%v -json: no range with a column: %v %s", verb, err, r.Stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "qs", "reconform.rfstate")); !os.IsNotExist(err) {
		t.Errorf("apply with a missing data file wrote a state: %v", err)
	}
	if r := runCLI(t, dir, environ, "-chdir=qs", "validate", "-var", "snapshot=2"); r.Code != exitOK {
		t.Errorf("snapshot=2: %d %s", r.Code, r.Stderr)
	}
}
