package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	register(&command{
		Name:     "completion",
		Synopsis: "Print a shell completion script (bash, zsh or fish)",
		Usage: `Usage: reconform completion bash|zsh|fish

  Prints a script that completes reconform's commands, subcommands and
  each command's flags in the shell named; file names elsewhere.

    bash:  source <(reconform completion bash)       (in ~/.bashrc)
    zsh:   source <(reconform completion zsh)        (in ~/.zshrc, after compinit)
    fish:  reconform completion fish > ~/.config/fish/completions/reconform.fish

  The flags are read from the commands themselves, so the script matches
  this build.`,
		Run: runCompletion,
	})
}

// subcommands are the words that follow a verb that has them.
var subcommands = map[string][]string{
	"state":      {"list", "show", "rm", "pull", "push"},
	"notify":     {"test", "status", "deliver"},
	"completion": {"bash", "zsh", "fish"},
}

// globalOptions are the options before the verb (main.go).
var globalOptions = []string{"-chdir=", "-no-color", "-help", "-version"}

func runCompletion(_ context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["completion"])
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	if len(positional) != 1 {
		return usageError(env, commands["completion"], "completion needs one shell: bash, zsh or fish.")
	}
	shell := positional[0]
	verbs := completionVerbs()
	switch shell {
	case "bash":
		writeBashCompletion(env.Stdout, verbs)
	case "zsh":
		writeZshCompletion(env.Stdout, verbs)
	case "fish":
		writeFishCompletion(env.Stdout, verbs)
	default:
		msg := fmt.Sprintf("no completion for the shell %q", shell)
		if s := didYouMean(shell, subcommands["completion"]); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError(env, commands["completion"], "%s; the shells are bash, zsh and fish.", msg)
	}
	return exitOK
}

// completionVerb is a verb with its flags (those of all its subcommands
// for a verb that has them) and subcommands.
type completionVerb struct {
	Name, Synopsis string
	Flags          []string // "-json", "-out=" (a flag that takes a value)
	Subcommands    []string
}

// verbFlags runs a verb (and each of its subcommands) with -help into a
// discarded output and returns the flags its flag sets define: the help
// text may leave some out, the flag sets cannot.
func verbFlags(name string) []string {
	seen := map[string]bool{}
	var out []string
	observe := func(fs *flag.FlagSet) {
		// Defined after newFlagSet returns: read them when parsed.
		fs.Usage = func() {
			fs.VisitAll(func(f *flag.Flag) {
				w := "-" + f.Name
				if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
					w += "="
				}
				if !seen[w] {
					seen[w] = true
					out = append(out, w)
				}
			})
		}
	}
	env := &Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, flagSetSeen: observe}
	runs := [][]string{{"-help"}}
	if subs := subcommands[name]; subs != nil && name != "completion" {
		runs = nil
		for _, s := range subs {
			runs = append(runs, []string{s, "-help"})
		}
	}
	for _, args := range runs {
		commands[name].Run(context.Background(), env, args)
	}
	sort.Strings(out)
	return out
}

// completionVerbs are the visible verbs with their flags.
func completionVerbs() []completionVerb {
	var out []completionVerb
	for _, n := range verbNames() {
		out = append(out, completionVerb{Name: n, Synopsis: commands[n].Synopsis, Flags: verbFlags(n), Subcommands: subcommands[n]})
	}
	return out
}

func writeBashCompletion(w io.Writer, verbs []completionVerb) {
	var names []string
	for _, v := range verbs {
		names = append(names, v.Name)
	}
	fmt.Fprintf(w, `# bash completion for reconform; load with: source <(reconform completion bash)
_reconform() {
	local cur="${COMP_WORDS[COMP_CWORD]}" verb="" sub="" i
	[[ $cur == = ]] && cur=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		-chdir) ((i++)); [[ ${COMP_WORDS[i]} == = ]] && ((i++)) ;;
		=) ((i++)) ;; # -flag=value, split at "=" by readline
		-*) ;;
		*) if [[ -z $verb ]]; then verb="${COMP_WORDS[i]}"; elif [[ -z $sub ]]; then sub="${COMP_WORDS[i]}"; fi ;;
		esac
	done
	local words=""
	case "$verb" in
	"") words=%q ;;
`, strings.Join(append(names, globalOptions...), " "))
	for _, v := range verbs {
		words := strings.Join(v.Flags, " ")
		if len(v.Subcommands) > 0 {
			fmt.Fprintf(w, "\t%s) if [[ -z $sub ]]; then words=%q; else words=%q; fi ;;\n", v.Name, strings.Join(v.Subcommands, " "), words)
			continue
		}
		fmt.Fprintf(w, "\t%s) words=%q ;;\n", v.Name, words)
	}
	fmt.Fprint(w, `	esac
	if [[ -z $verb || $cur == -* || ( -n $words && $words != -* && -z $sub ) ]]; then
		compopt -o nospace 2>/dev/null
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} != *= ]]; then compopt +o nospace 2>/dev/null; fi
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o default -F _reconform reconform
`)
}

func writeZshCompletion(w io.Writer, verbs []completionVerb) {
	fmt.Fprint(w, `#compdef reconform
# zsh completion for reconform; load with: source <(reconform completion zsh)
_reconform() {
	local verb sub i
	for (( i = 2; i < CURRENT; i++ )); do
		case ${words[i]} in
		-chdir) (( i++ )) ;;
		-chdir=*) ;;
		-*) ;;
		*) if [[ -z $verb ]]; then verb=${words[i]}; elif [[ -z $sub ]]; then sub=${words[i]}; fi ;;
		esac
	done
	local -a verbs flags subs
	verbs=(
`)
	for _, v := range verbs {
		fmt.Fprintf(w, "\t\t%s\n", zshQuote(v.Name+":"+v.Synopsis))
	}
	fmt.Fprint(w, "\t)\n\tcase $verb in\n")
	fmt.Fprintf(w, "\t'') _describe -t commands 'reconform command' verbs; compadd -- %s; return ;;\n", strings.Join(globalOptions, " "))
	for _, v := range verbs {
		fmt.Fprintf(w, "\t%s) flags=(%s); subs=(%s) ;;\n", v.Name, strings.Join(v.Flags, " "), strings.Join(v.Subcommands, " "))
	}
	fmt.Fprint(w, `	esac
	if [[ $PREFIX == -* ]]; then
		compadd -S '' -- ${(M)flags:#*=}
		compadd -- ${flags:#*=}
	elif (( ${#subs} )) && [[ -z $sub ]]; then
		compadd -- $subs
	else
		_files
	fi
}
if (( $+functions[compdef] )); then compdef _reconform reconform; fi
`)
}

// zshQuote quotes s in single quotes for zsh.
func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func writeFishCompletion(w io.Writer, verbs []completionVerb) {
	var names []string
	for _, v := range verbs {
		names = append(names, v.Name)
	}
	fmt.Fprintf(w, "# fish completion for reconform; save as ~/.config/fish/completions/reconform.fish\ncomplete -c reconform -f\n")
	fmt.Fprintf(w, "complete -c reconform -n __fish_use_subcommand -o chdir -r -a '(__fish_complete_directories)' -d 'Switch to DIR first'\n")
	fmt.Fprintf(w, "complete -c reconform -n __fish_use_subcommand -o no-color -d 'No colour codes'\n")
	for _, v := range verbs {
		fmt.Fprintf(w, "complete -c reconform -n __fish_use_subcommand -a %s -d %s\n", v.Name, zshQuote(v.Synopsis))
	}
	for _, v := range verbs {
		cond := "__fish_seen_subcommand_from " + v.Name
		if len(v.Subcommands) > 0 {
			fmt.Fprintf(w, "complete -c reconform -n %s -a %s\n", zshQuote(cond+"; and not __fish_seen_subcommand_from "+strings.Join(v.Subcommands, " ")), zshQuote(strings.Join(v.Subcommands, " ")))
		}
		for _, f := range v.Flags {
			name, value := strings.CutSuffix(strings.TrimPrefix(f, "-"), "=")
			if value {
				fmt.Fprintf(w, "complete -c reconform -n %s -o %s -r -F\n", zshQuote(cond), name)
			} else {
				fmt.Fprintf(w, "complete -c reconform -n %s -o %s\n", zshQuote(cond), name)
			}
		}
		if v.Name != "completion" && v.Name != "version" && v.Name != "providers" {
			fmt.Fprintf(w, "complete -c reconform -n %s -F\n", zshQuote(cond))
		}
	}
}
