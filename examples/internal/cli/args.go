package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Exit codes of every example command.
const (
	ExitOK      = 0 // the command did what it was asked
	ExitFailure = 1 // it could not: a value not found, a network unreachable, a bad file
	ExitUsage   = 2 // it was asked wrongly: an unknown flag, a bad value, a missing argument
)

// Command is one subcommand: its name, a one-line summary and its entry,
// which returns the exit code.
type Command struct {
	Name, Summary string
	Run           func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// Program is a command made of subcommands.
type Program struct {
	// Name is the command's name, used in messages ("NAME share: ...").
	Name string
	// About is the first paragraph of the usage text.
	About string
	// Hint closes the usage text; it may be empty.
	Hint     string
	Commands []Command
}

// Run dispatches args to the subcommand they name and returns its exit
// code. "help", "-h" and "--help" print the usage (or, followed by a
// subcommand, that subcommand's) and return 0; no arguments or an unknown
// subcommand print the usage to stderr and return 2.
func (p *Program) Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		p.usage(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return p.Run(ctx, []string{args[1], "--help"}, stdin, stdout, stderr)
		}
		p.usage(stdout)
		return ExitOK
	}
	for _, c := range p.Commands {
		if c.Name == args[0] {
			return c.Run(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n", p.Name, args[0])
	p.usage(stderr)
	return ExitUsage
}

func (p *Program) usage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nusage: %s COMMAND [flags] [args]\n\ncommands:\n", p.About, p.Name)
	for _, c := range p.Commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "  %-8s show this text, or '%s help COMMAND' for a command's flags\n", "help", p.Name)
	if p.Hint != "" {
		fmt.Fprintf(w, "\n%s\n", p.Hint)
	}
}

// FlagSet is a subcommand's flags. It reports errors instead of exiting,
// and its usage text is the synopsis, a paragraph about the subcommand and
// the flags.
//
// Flags are written one way everywhere, in usage texts, synopses, messages
// and docs: --name, and -x for a one-letter name. (Go's flag package
// accepts one dash or two for any flag, so -name works too.)
type FlagSet struct {
	*flag.FlagSet
	prog string
}

// NewFlagSet returns the flags of subcommand name of program prog.
func NewFlagSet(prog, name, synopsis, about string) *FlagSet {
	fs := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), prog: prog}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s %s\n\n%s\n\nflags:\n", prog, synopsis, about)
		fs.printFlags(w)
	}
	return fs
}

// dashes returns how a flag is written: --name, or -x for a one-letter
// name.
func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// printFlags writes the flags as flag.PrintDefaults does, but with the
// dashes the usage and docs use: "  --name value" and the usage on the next line,
// followed by the default when the usage does not state it.
func (fs *FlagSet) printFlags(w io.Writer) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  " + dashes(f.Name)
		if name != "" {
			line += " " + name
		}
		if !strings.Contains(usage, "(default") && !zeroDefault(f) {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
}

// zeroDefault reports whether f's default is its type's zero value, which
// goes without saying.
func zeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s", "[]":
		return true
	}
	return false
}

// flagInMessage finds the flag names the flag package writes with one dash
// in its errors ("flag provided but not defined: -name").
var flagInMessage = regexp.MustCompile(`(defined: |for flag |argument: )-([[:alnum:]][-_[:alnum:]]+)`)

// Parse parses flags and positional arguments in any order ("--" ends the
// flags). On -h or --help it prints the usage to stdout and returns done
// with code 0; on a bad flag it prints the error and a hint to stderr and
// returns done with code 2.
func (fs *FlagSet) Parse(args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	fs.SetOutput(io.Discard) // the flag package's own report is replaced below
	for {
		if len(args) > 0 && args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		err := fs.FlagSet.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, ExitOK, true
		}
		if err != nil {
			return nil, fs.UsageError(stderr, "%s", flagInMessage.ReplaceAllString(err.Error(), "$1--$2")), true
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	fs.SetOutput(stderr)
	return pos, ExitOK, false
}

// IsSet reports whether the flag called name was given.
func (fs *FlagSet) IsSet(name string) (set bool) {
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// UsageError reports a wrong use of the subcommand and returns exit code 2.
func (fs *FlagSet) UsageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s %s: %s\n", fs.prog, fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "run '%s %s --help' for usage\n", fs.prog, fs.Name())
	return ExitUsage
}

// Fail reports that the subcommand failed and returns exit code 1.
func (fs *FlagSet) Fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s %s: %v\n", fs.prog, fs.Name(), err)
	return ExitFailure
}

// Plural returns "1 peer", "2 peers", "3 forwarded queries".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if stem, ok := strings.CutSuffix(noun, "y"); ok {
		return fmt.Sprintf("%d %sies", n, stem)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
