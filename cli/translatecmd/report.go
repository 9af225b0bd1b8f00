package translatecmd

import (
	"context"
	"fmt"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/compile"
	"github.com/egctl/egctl/cli/envoycheck"
	"github.com/egctl/egctl/cli/report"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/xds"
)

// What translate says besides its output goes to stderr: by default one
// line per problem ("file:line: Kind ns/name: Condition Reason:
// message"), "warning: " lines, and a count; with --report, the reports
// `egctl x validate` writes (codes, severities, GitHub annotations,
// SARIF, JUnit), with --suppress applying to both.

// loadFailed reports input the loader refused: exit status 2.
func (o *Options) loadFailed(err error, warns []manifest.Warning) error {
	if !o.Report.Asked() {
		for _, w := range warns {
			o.IO.Warnf("%s", w)
		}
		return cli.UsageError(err)
	}
	r, rerr := o.Report.Build(report.FromLoad(err, warns), "egctl x translate")
	if rerr != nil {
		return rerr
	}
	r.Color = o.IO.ErrColor()
	if werr := r.Write(o.Report.Targets(), o.IO.ErrOut); werr != nil {
		return werr
	}
	return &cli.ExitError{Code: cli.ExitUsage}
}

// loadWarnings prints what the loader skipped, or keeps it for --report.
func (o *Options) loadWarnings(warns []manifest.Warning) {
	if o.Report.Asked() {
		o.findings = append(o.findings, report.FromLoad(nil, warns)...)
		return
	}
	for _, w := range warns {
		o.IO.Warnf("%s", w)
	}
}

// added says what --add-missing-resources invented.
func (o *Options) added(notes []string) {
	for _, n := range notes {
		if o.Report.Asked() {
			o.findings = append(o.findings, report.Added(n))
			continue
		}
		o.IO.Notef("%s", n)
	}
}

// envoyValidate runs --envoy-validate on the bootstrap of every selected
// proxy; rejections are problems.
func (o *Options) envoyValidate(set *resource.Set, res *compile.Result) ([]report.Finding, error) {
	if o.envoyBin == "" {
		return nil, nil
	}
	proxies, err := o.selectProxies(res.IR)
	if err != nil {
		return nil, err
	}
	rs, err := o.translateXDS(proxies)
	if err != nil {
		return nil, err
	}
	host, port, _ := splitHostPort(o.AdminAddress)
	verdicts, err := envoycheck.Validate(context.Background(), o.envoyBin, rs, xds.BootstrapOptions{AdminAddress: host, AdminPort: port})
	if err != nil {
		return nil, err
	}
	var out []report.Finding
	for _, v := range verdicts {
		if v.Err != nil {
			out = append(out, report.EnvoyRejected(v.Proxy, set.Origin(gatewayKey(v.Proxy)), v.Err.Error()))
		} else if o.IO.Verbose {
			o.IO.Notef("Envoy accepts the configuration of Gateway %s", v.Proxy)
		}
	}
	return out, nil
}

// finish reports the problems and warnings of a translation; problems
// (not suppressed) make exit status 1.
func (o *Options) finish(set *resource.Set, res *compile.Result, rejected []report.Finding) error {
	findings := o.findings
	for _, w := range res.Warnings {
		findings = append(findings, report.FromWarning(w))
	}
	for _, p := range res.Problems {
		findings = append(findings, report.FromProblem(p))
	}
	findings = append(findings, rejected...)
	if o.Report.Asked() {
		r, err := o.Report.Build(findings, "egctl x translate")
		if err != nil {
			return err
		}
		r.Color = o.IO.ErrColor()
		r.Verbose = o.IO.Verbose
		if err := r.Write(o.Report.Targets(), o.IO.ErrOut); err != nil {
			return err
		}
		if r.Failed() {
			return &cli.ExitError{Code: cli.ExitProblems}
		}
		return nil
	}
	// Warnings never change the exit code; they say what no status does.
	kept, _ := o.Report.Filter(findings)
	problems := 0
	objects := map[string]bool{}
	for _, f := range kept {
		if f.Severity != report.Error {
			continue
		}
		problems++
		objects[f.Object.String()] = true
	}
	for _, f := range kept {
		if f.Severity == report.Warning && f.Code == report.CodeTranslationWarning.ID {
			o.IO.Warnf("%s", f.Text())
		}
	}
	for _, f := range kept {
		if f.Severity == report.Error {
			fmt.Fprintln(o.IO.ErrOut, f.Text())
		}
	}
	if problems == 0 {
		return nil
	}
	fmt.Fprintf(o.IO.ErrOut, "%s in %s\n", plural(problems, "problem", "problems"), plural(len(objects), "object", "objects"))
	return &cli.ExitError{Code: cli.ExitProblems}
}
