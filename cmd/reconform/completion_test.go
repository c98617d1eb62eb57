package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionScripts: each script names every verb and every flag the
// verbs' flag sets define.
func TestCompletionScripts(t *testing.T) {
	verbs := completionVerbs()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := runCLI(t, t.TempDir(), nil, "completion", shell)
		if r.Code != exitOK || r.Stderr != "" {
			t.Fatalf("completion %s: %d %s", shell, r.Code, r.Stderr)
		}
		for _, v := range verbs {
			if !strings.Contains(r.Stdout, v.Name) {
				t.Errorf("%s: no verb %s", shell, v.Name)
			}
			for _, f := range v.Flags {
				if shell == "fish" {
					f = "-o " + strings.TrimSuffix(strings.TrimPrefix(f, "-"), "=")
				}
				if !strings.Contains(r.Stdout, f) {
					t.Errorf("%s: no flag %s of %s", shell, f, v.Name)
				}
			}
		}
	}
	// The flags are the verbs' real ones, beyond what their help lists.
	for _, v := range verbs {
		if v.Name == "state" && !strings.Contains(strings.Join(v.Flags, " "), "-unverified") {
			t.Errorf("state's flags miss state list -unverified: %v", v.Flags)
		}
	}
	if r := runCLI(t, t.TempDir(), nil, "completion", "bsh"); r.Code != exitError || !strings.Contains(r.Stderr, `did you mean "bash"?`) {
		t.Errorf("completion bsh: %d %q", r.Code, r.Stderr)
	}
}

// TestBashCompletionCompletes loads the bash script in bash and asks it.
func TestBashCompletionCompletes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	r := runCLI(t, t.TempDir(), nil, "completion", "bash")
	script := filepath.Join(t.TempDir(), "reconform.bash")
	os.WriteFile(script, []byte(r.Stdout), 0o644)
	cases := map[string]string{
		"reconform ap":                  "apply",
		"reconform -chdir = qs pl":      "plan",
		"reconform plan -detailed":      "-detailed-exitcode",
		"reconform state l":             "list",
		"reconform state list -unver":   "-unverified",
		"reconform completion fi":       "fish",
		"reconform -no-c":               "-no-color",
		"reconform force-unlock -for":   "-force",
		"reconform -chdir = qs show -j": "-json",
	}
	for line, want := range cases {
		prog := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _reconform; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, append([]string{"-c", prog, "bash", script}, strings.Fields(line)...)...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%q: %v %q, want %q", line, err, out, want)
		}
	}
	for _, shell := range []string{"zsh", "fish"} {
		if path, err := exec.LookPath(shell); err == nil {
			r := runCLI(t, t.TempDir(), nil, "completion", shell)
			f := filepath.Join(t.TempDir(), "reconform."+shell)
			os.WriteFile(f, []byte(r.Stdout), 0o644)
			if out, err := exec.Command(path, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v %s", shell, err, out)
			}
		}
	}
}
