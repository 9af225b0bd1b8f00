package compile

import (
	"fmt"
	"io"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/internal/wasmimage"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// Settings are the options resolved once per command (the OIDC discovery
// files are read here): what Compile needs for any number of inputs.
type Settings struct {
	Translate  translate.Options
	AddMissing bool
	AllowEmpty bool
}

// Settings resolves the options (after Complete). skipStatus leaves the
// objects' statuses out (translate.Options.SkipStatus) for a command that
// prints none.
func (o *Options) Settings(skipStatus bool) (*Settings, error) {
	discover, err := o.OIDC.Resolver()
	if err != nil {
		return nil, cli.UsageError(err)
	}
	s := &Settings{
		Translate: translate.Options{
			ControllerName:      o.ControllerName,
			KeepPrivilegedPorts: o.KeepPrivilegedPorts,
			OIDCDiscovery:       discover,
			AdminPort:           o.adminPort,
			SkipStatus:          skipStatus,
			RateLimitService:    o.RateLimitServiceIR(),
			// Wasm code in OCI images is read here (registries, image files).
			WasmImages: &wasmimage.Resolver{},
			// A broken EnvoyProxy bootstrap patch refuses its EnvoyProxy.
			CheckBootstrap: xds.CheckBootstrapPatch,
		},
		AddMissing: o.AddMissingResources,
		AllowEmpty: o.AllowEmpty,
	}
	o.Defaults.Apply(&s.Translate)
	return s, nil
}

// Load reads -f and -k. Errors are input errors (exit status 2).
func (o *Options) Load(stdin io.Reader) (*resource.Set, []manifest.Warning, error) {
	return manifest.Load(o.Files, o.LoadOptions(stdin))
}

// Result is one compilation.
type Result struct {
	*translate.Result
	// Added names the objects --add-missing-resources invented.
	Added []string
	// Empty is set when the input holds no object egctl reads.
	Empty bool

	built []*xds.Resources
}

// Translate runs the translator on set: missing resources added when
// asked, then the IR checked. An error is a bug in egctl, never bad input.
func (s *Settings) Compile(set *resource.Set) (*Result, error) {
	r := &Result{Empty: set == nil || len(set.Origins) == 0}
	if s.AddMissing && set != nil {
		r.Added = AddMissing(set, s.Translate.ControllerName)
	}
	res, err := translate.Translate(set, s.Translate)
	if err != nil {
		return nil, err
	}
	// Invalid IR is a bug in egctl, not in the input: refuse to print
	// configuration Envoy might half-accept.
	if err := res.IR.Validate(); err != nil {
		return nil, fmt.Errorf("internal error: the translation broke an invariant; please report it with the input:\n%w", err)
	}
	r.Result = res
	return r, nil
}

// EmptyError is what a command returns for an empty input without
// --allow-empty: exit status 1, having said so on w as one problem line.
func (s *Settings) EmptyError(r *Result, w io.Writer) error {
	if !r.Empty || s.AllowEmpty {
		return nil
	}
	fmt.Fprintln(w, cli.EmptyInputMessage)
	return &cli.ExitError{Code: cli.ExitProblems}
}

// NeedsBuild says whether the statuses and problems are final only once
// the xDS resources are built: EnvoyPatchPolicies apply to them.
func (r *Result) NeedsBuild() bool { return r.IR.HasPatches() }

// Build turns the IR into xDS resources, once, and records what
// EnvoyPatchPolicies did (their status, their problems). Every command
// that reports problems calls it before reporting when NeedsBuild.
func (r *Result) Build() ([]*xds.Resources, error) {
	if r.built != nil {
		return r.built, nil
	}
	all, err := xds.Translate(r.IR)
	if err != nil {
		return nil, err
	}
	r.RecordPatchResults(xds.PatchResults(all))
	r.built = all
	return all, nil
}
