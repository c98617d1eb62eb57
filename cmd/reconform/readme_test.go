package main

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// readmeCommandTable returns the README's command table: per row, the
// code spans of its first column (`plan [-out FILE] ...`).
func readmeCommandTable(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "\n## Commands\n")
	if !ok {
		t.Fatal("README has no ## Commands section")
	}
	span := regexp.MustCompile("`([^`]+)`")
	var rows [][]string
	inTable := false
	for _, line := range strings.Split(after, "\n") {
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(line, " | ")
		first := strings.TrimPrefix(cells[0], "| ")
		if first == "command" || strings.HasPrefix(first, "|---") || strings.HasPrefix(first, "---") {
			continue
		}
		var spans []string
		for _, m := range span.FindAllStringSubmatch(strings.ReplaceAll(first, `\|`, "|"), -1) {
			spans = append(spans, m[1])
		}
		rows = append(rows, spans)
	}
	return rows
}

var readmeFlag = regexp.MustCompile(`(?:^|[\s\[|(])(-[a-z][a-z0-9-]*)`)

// TestREADMECommandTableMatchesHelp: every verb "reconform -help" lists
// is in the README's command table and every verb there is a real one;
// every flag the table shows for a verb is one its own -h documents and
// its flag set defines.
func TestREADMECommandTableMatchesHelp(t *testing.T) {
	rows := readmeCommandTable(t)
	if len(rows) < 10 {
		t.Fatalf("the README's command table has %d rows", len(rows))
	}
	help := runCLI(t, t.TempDir(), nil, "-help").Stdout
	_, help, _ = strings.Cut(help, "Commands:\n")
	help, _, _ = strings.Cut(help, "\n\n")
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z-]+)  +\S`).FindAllStringSubmatch(help, -1) {
		listed[m[1]] = true
	}
	inREADME := map[string]bool{}
	for _, spans := range rows {
		for _, s := range spans {
			verb := strings.Fields(s)[0]
			c, ok := commands[verb]
			if !ok || c.Hidden {
				t.Errorf("README's command table has %q, which is not a command", s)
				continue
			}
			inREADME[verb] = true
			if !listed[verb] {
				t.Errorf("README's %q is not in reconform -help", verb)
			}
			usage := runCLI(t, t.TempDir(), nil, verb, "-h").Stdout
			if subs := subcommands[verb]; subs != nil && verb != "completion" {
				// "state list/show/rm", "notify status [-json]": real ones.
				words := strings.Fields(s)
				if len(words) > 1 && !strings.HasPrefix(words[1], "-") && !strings.HasPrefix(words[1], "[") {
					for _, sub := range strings.Split(words[1], "/") {
						if !contains(subs, sub) {
							t.Errorf("README's %q: %s has no subcommand %q", s, verb, sub)
						}
					}
				}
			}
			defined := verbFlags(verb)
			for _, m := range readmeFlag.FindAllStringSubmatch(s, -1) {
				flag := m[1]
				if !strings.Contains(usage, flag) {
					t.Errorf("README's %q shows %s, which reconform %s -h does not document", s, flag, verb)
				}
				if !contains(defined, flag) && !contains(defined, flag+"=") {
					t.Errorf("README's %q shows %s, which %s does not define", s, flag, verb)
				}
			}
		}
	}
	var missing []string
	for verb := range listed {
		if !inREADME[verb] {
			missing = append(missing, verb)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("reconform -help lists %v, which the README's command table does not", missing)
	}
	for _, v := range verbNames() {
		if !listed[v] {
			t.Errorf("verb %s is not in reconform -help", v)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
