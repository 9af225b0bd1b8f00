package rootcmd

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/egctl/egctl/cli"
)

// Execute runs egctl with args and returns the process exit code: 0 on
// success, 1 when a command found problems, 2 for usage and input errors.
// Every error is printed with the one prefix "error: ".
func Execute(ios *cli.IOStreams, args []string) int {
	root := NewCmd(ios)
	root.SetArgs(args)
	// `egctl x transalte -f q.yaml` would otherwise fail on the flag
	// (which the group does not have) before cobra looks at the word.
	if g, typed := unknownSubcommand(root, args); g != nil {
		fmt.Fprintf(ios.ErrOut, "%s%s\n", ios.ErrorPrefix(), unknownCommand(g, typed))
		fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", g.CommandPath())
		return cli.ExitUsage
	}
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(ios.ErrOut, "%s%v\n", ios.ErrorPrefix(), ee.Err)
		}
		if ee.Code == cli.ExitUsage && isUsage(ee.Err) && cmd != nil {
			fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return ee.Code
	}
	fmt.Fprintf(ios.ErrOut, "%s%v\n", ios.ErrorPrefix(), err)
	if isUsage(err) {
		path := "egctl"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", path)
		return cli.ExitUsage
	}
	return 1
}

// usageError is a mistake on the command line: a wrong command, flag or
// argument count. Execute adds where to find the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func isUsage(err error) bool {
	if err == nil {
		return false
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "bad flag syntax"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

// wireGroups makes every command that only groups others (egctl,
// experimental, config) fail on an unknown subcommand with exit status 2
// and suggestions, instead of printing its help and succeeding; without
// arguments it prints its help.
func wireGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		wireGroups(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[groupAnnotation] = "true"
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return cli.UsageError(&usageError{unknownCommand(cmd, args[0])})
	}
}

// unknownSubcommand finds the group command args stop at and the first
// word after it that names none of its subcommands, if there is one.
// A flag it does not know is taken to carry a value, as cobra does.
func unknownSubcommand(root *cobra.Command, args []string) (*cobra.Command, string) {
	if len(args) > 0 && strings.HasPrefix(args[0], "__complete") {
		return nil, "" // cobra's hidden completion command, added when it runs
	}
	c, rest, err := root.Find(args)
	if err != nil || c.Annotations[groupAnnotation] == "" {
		return nil, ""
	}
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			return nil, ""
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if strings.Contains(a, "=") {
				continue
			}
			name := strings.TrimLeft(a, "-")
			var f *pflag.Flag
			if strings.HasPrefix(a, "--") {
				f = c.Flags().Lookup(name)
			} else if len(name) == 1 {
				f = c.Flags().ShorthandLookup(name)
			}
			if f == nil || f.NoOptDefVal == "" {
				i++ // the flag's value
			}
		case a == "help":
			return nil, ""
		default:
			return c, a
		}
	}
	return nil, ""
}

const groupAnnotation = "egctl/group"

func unknownCommand(cmd *cobra.Command, typed string) string {
	msg := fmt.Sprintf("unknown command %q for %q", typed, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(typed); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return msg
}

// flagError turns pflag's errors into usage errors, suggesting the flags
// the user probably meant.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	var typed string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		typed = strings.TrimPrefix(msg, "unknown flag: --")
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// "unknown shorthand flag: 'z' in -zz": a long flag typed with one dash?
		if i := strings.Index(msg, " in -"); i >= 0 {
			typed = msg[i+len(" in -"):]
		}
	}
	if typed != "" {
		if s := suggestFlags(cmd, typed); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
	}
	return cli.UsageError(&usageError{msg})
}

// suggestFlags lists the flags of cmd close to typed (edit distance 2 or
// less, or one a prefix of the other).
func suggestFlags(cmd *cobra.Command, typed string) []string {
	typed, _, _ = strings.Cut(typed, "=")
	var out []string
	seen := map[string]bool{}
	visit := func(f *pflag.Flag) {
		if f.Hidden || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		d := levenshtein(typed, f.Name)
		if d <= 2 || len(typed) >= 3 && strings.HasPrefix(f.Name, typed) {
			out = append(out, "--"+f.Name)
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	sort.Strings(out)
	return out
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
