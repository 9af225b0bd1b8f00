package diffcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/diff"
	"github.com/egctl/egctl/internal/wasmimage"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/resource"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// Input kinds.
const (
	kindManifests = "manifests"
	kindLive      = "live proxy"
	kindDump      = "config dump"
	kindBootstrap = "bootstrap"
)

// AdminScheme prefixes a live proxy's admin address in diff arguments.
const AdminScheme = "admin://"

// Input is one side of a comparison, loaded.
type Input struct {
	Arg  string
	Kind string
	Side diff.Side
	// Aliases are other names of a proxy key (a live proxy's node id and
	// node cluster, which egctl's bootstraps set to the gateway's
	// "ns/name"); used to pair proxies across sides.
	Aliases map[string][]string
	// Problems are the objects not accepted (manifests only).
	Problems []translate.Problem
	// Status is the translated objects with their status, and the
	// origins of the input (manifests only).
	Status *resource.Set
	// Info is what a live proxy's or a saved dump's config dump said,
	// by key.
	Info map[string]diff.DumpInfo
}

// named reports whether the input's keys are gateway names rather than
// addresses or file names.
func (in *Input) named() bool { return in.Kind == kindManifests }

// LoadOptions configure how inputs are read.
type LoadOptions struct {
	Namespace           string
	ControllerName      string
	KeepPrivilegedPorts bool
	// OIDCDiscovery answers for SecurityPolicies that leave OIDC
	// endpoints out (cli.OIDCDiscovery).
	OIDCDiscovery func(issuer string) (*translate.OIDCProviderConfig, error)
	Timeout       time.Duration
	Stdin         io.Reader
	// MaxInputBytes bounds what is read (0: manifest.DefaultMaxInputBytes).
	MaxInputBytes int64
	// AdminPort is the admin port of the bootstraps (translate.Options).
	AdminPort uint32
	// Defaults choose Envoy Gateway's defaults or --lean, as translate.
	Defaults cli.EnvoyGatewayDefaults
	// Warn receives non-fatal notes (unknown types in a dump...).
	Warn func(format string, args ...any)
}

func (o LoadOptions) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(format, args...)
	}
}

// Load reads one argument: admin://HOST:PORT, a saved config dump or
// bootstrap (JSON or YAML), or manifests (file, directory or "-").
func Load(ctx context.Context, arg string, o LoadOptions) (*Input, error) {
	if addr, ok := strings.CutPrefix(arg, AdminScheme); ok {
		return LoadLive(ctx, addr, o)
	}
	if arg == "-" {
		if o.Stdin == nil {
			return nil, errors.New("-: no standard input")
		}
		data, err := manifest.ReadAll(o.Stdin, manifest.StdinName, o.MaxInputBytes)
		if err != nil {
			return nil, err
		}
		if in, err := loadSaved(arg, data); in != nil || err != nil {
			return in, err
		}
		set, warns, err := manifest.LoadBytes(manifest.StdinName, data, manifest.Options{Namespace: o.Namespace, MaxInputBytes: o.MaxInputBytes})
		return compile(arg, set, warns, err, o)
	}
	fi, err := os.Stat(arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (want a manifest file or directory, a saved config dump, - for stdin, or admin://HOST:PORT)", arg, cleanErr(err))
	}
	if !fi.IsDir() {
		data, err := manifest.ReadFile(arg, o.MaxInputBytes)
		if err != nil {
			return nil, err
		}
		if in, err := loadSaved(arg, data); in != nil || err != nil {
			return in, err
		}
		// Decode what was read: the file may be a pipe (<(git show ...)).
		set, warns, err := manifest.LoadBytes(arg, data, manifest.Options{Namespace: o.Namespace, MaxInputBytes: o.MaxInputBytes})
		return compile(arg, set, warns, err, o)
	}
	set, warns, err := manifest.Load([]string{arg}, manifest.Options{Namespace: o.Namespace, MaxInputBytes: o.MaxInputBytes})
	return compile(arg, set, warns, err, o)
}

func cleanErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CompileManifests loads manifests (files, directories, "-") and compiles
// them, keyed by gateway "ns/name". The label names the input in messages.
func CompileManifests(label string, paths []string, o LoadOptions) (*Input, error) {
	set, warns, err := manifest.Load(paths, manifest.Options{Namespace: o.Namespace, Stdin: o.Stdin, MaxInputBytes: o.MaxInputBytes})
	return compile(label, set, warns, err, o)
}

// compile runs the pipeline: manifests → translate → xds, keyed by gateway.
func compile(arg string, set *resource.Set, warns []manifest.Warning, loadErr error, o LoadOptions) (*Input, error) {
	for _, w := range warns {
		o.warn("%s", w)
	}
	if loadErr != nil {
		return nil, loadErr
	}
	topts := translate.Options{
		ControllerName:      o.ControllerName,
		KeepPrivilegedPorts: o.KeepPrivilegedPorts,
		OIDCDiscovery:       o.OIDCDiscovery,
		WasmImages:          &wasmimage.Resolver{},
		AdminPort:           o.AdminPort,
		// As in translate: a broken EnvoyProxy bootstrap patch refuses it.
		CheckBootstrap: xds.CheckBootstrapPatch,
	}
	o.Defaults.Apply(&topts)
	res, err := translate.Translate(set, topts)
	if err != nil {
		return nil, err
	}
	// As in translate: invalid IR is an egctl bug, never something to diff.
	if err := res.IR.Validate(); err != nil {
		return nil, fmt.Errorf("internal error: the translation broke an invariant; please report it with the input:\n%w", err)
	}
	all, err := xds.Translate(res.IR)
	if err != nil {
		return nil, err
	}
	res.RecordPatchResults(xds.PatchResults(all)) // EnvoyPatchPolicy status
	status := res.Status
	if status != nil && status.Origins == nil {
		status.Origins = set.Origins
	}
	in := &Input{Arg: arg, Kind: kindManifests, Side: diff.Side{}, Problems: res.Problems, Status: status}
	for _, r := range all {
		in.Side[r.Name] = diff.FromResources(r)
	}
	return in, nil
}

// LoadLive fetches a live proxy's config dump (with EDS) through its admin
// API. The key is the address; the node id and cluster are aliases.
func LoadLive(ctx context.Context, addr string, o LoadOptions) (*Input, error) {
	c, err := admin.New(addr, admin.WithTimeout(o.Timeout))
	if err != nil {
		return nil, err
	}
	d, err := c.ConfigDump(ctx, "", "", true)
	if err != nil {
		if !admin.IsPartial(err) {
			return nil, err
		}
		o.warn("%v", err)
	}
	in, err := fromDumps(AdminScheme+addr, kindLive, map[string]*adminv3.ConfigDump{addr: d})
	return in, err
}

// loadSaved recognises a saved config dump or bootstrap. It returns nil,
// nil for anything else (manifests).
func loadSaved(arg string, data []byte) (*Input, error) {
	js := data
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		// YAML (dumps are often saved as YAML); JSON is used as is, which
		// matters for dumps of many megabytes.
		var err error
		if js, err = yaml.YAMLToJSON(data); err != nil {
			return nil, nil
		}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil || top == nil {
		return nil, nil
	}
	if _, ok := top["apiVersion"]; ok {
		return nil, nil
	}
	switch {
	case isDump(top):
		d, err := decodeDump(js)
		if err != nil {
			return nil, fmt.Errorf("%s: config dump: %w", arg, err)
		}
		return fromDumps(arg, kindDump, map[string]*adminv3.ConfigDump{arg: d})
	case top["staticResources"] != nil || top["static_resources"] != nil:
		b := &bootstrapv3.Bootstrap{}
		if err := admin.UnmarshalOptions.Unmarshal(js, b); err != nil {
			return nil, fmt.Errorf("%s: bootstrap: %w", arg, err)
		}
		key := b.GetNode().GetId()
		if key == "" {
			key = arg
		}
		in := &Input{Arg: arg, Kind: kindBootstrap, Side: diff.Side{key: diff.FromBootstrap(b)}, Aliases: map[string][]string{}}
		if c := b.GetNode().GetCluster(); c != "" && c != key {
			in.Aliases[key] = []string{c}
		}
		return in, nil
	case top["xds"] != nil:
		// `egctl x translate --to xds` output: {"xds": {"ns/gw": dump}}.
		var keyed map[string]json.RawMessage
		if err := json.Unmarshal(top["xds"], &keyed); err != nil {
			return nil, fmt.Errorf("%s: xds: %w", arg, err)
		}
		return keyedDumps(arg, keyed)
	}
	// {"ns/gw": dump, ...} or Envoy Gateway's {"ns": {"pod": dump}}.
	return keyedDumps(arg, top)
}

// keyedDumps decodes a map of config dumps, possibly nested one level
// (namespace → pod). It returns nil, nil when the values are not dumps.
func keyedDumps(arg string, keyed map[string]json.RawMessage) (*Input, error) {
	dumps := map[string]*adminv3.ConfigDump{}
	for k, raw := range keyed {
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) != nil || probe == nil {
			return nil, nil
		}
		if isDump(probe) {
			d, err := decodeDump(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: config dump %q: %w", arg, k, err)
			}
			dumps[k] = d
			continue
		}
		for inner, raw := range probe {
			var p2 map[string]json.RawMessage
			if json.Unmarshal(raw, &p2) != nil || !isDump(p2) {
				return nil, nil
			}
			d, err := decodeDump(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: config dump %q: %w", arg, k+"/"+inner, err)
			}
			dumps[k+"/"+inner] = d
		}
	}
	if len(dumps) == 0 {
		return nil, nil
	}
	return fromDumps(arg, kindDump, dumps)
}

// isDump recognises a whole config dump ({"configs": [...]}) or one of
// its sections ({"@type": "...ListenersConfigDump", ...}, as
// `egctl config dump listener` prints it).
func isDump(obj map[string]json.RawMessage) bool {
	if obj["configs"] != nil {
		return true
	}
	var typ string
	_ = json.Unmarshal(obj["@type"], &typ)
	return strings.HasPrefix(typ, "type.googleapis.com/envoy.admin.v3.") && strings.HasSuffix(typ, "ConfigDump")
}

func decodeDump(js []byte) (*adminv3.ConfigDump, error) {
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(js, &probe)
	if probe["configs"] == nil {
		section := &anypb.Any{}
		if err := admin.UnmarshalOptions.Unmarshal(js, section); err != nil {
			return nil, err
		}
		return &adminv3.ConfigDump{Configs: []*anypb.Any{section}}, nil
	}
	d := &adminv3.ConfigDump{}
	if err := admin.UnmarshalOptions.Unmarshal(js, d); err != nil {
		return nil, err
	}
	return d, nil
}

// fromDumps turns config dumps into an input. A single dump of a file or
// proxy is keyed by its node id when the bootstrap names one.
func fromDumps(arg, kind string, dumps map[string]*adminv3.ConfigDump) (*Input, error) {
	in := &Input{Arg: arg, Kind: kind, Side: diff.Side{}, Aliases: map[string][]string{}, Info: map[string]diff.DumpInfo{}}
	keys := make([]string, 0, len(dumps))
	for k := range dumps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, info, err := diff.FromConfigDump(dumps[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		in.Side[k] = s
		in.Info[k] = info
		for _, a := range []string{info.NodeID, info.NodeCluster} {
			if a != "" && a != k && !contains(in.Aliases[k], a) {
				in.Aliases[k] = append(in.Aliases[k], a)
			}
		}
	}
	return in, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
