// Package servecmd implements `egctl x serve`: host mode without
// Kubernetes.
package servecmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/serve"
)

// Options are the flags of `egctl x serve`.
type Options struct {
	IO *cli.IOStreams

	Files               []string
	ConfigPath          string
	Namespace           string
	ControllerName      string
	KeepPrivilegedPorts bool
	Defaults            cli.EnvoyGatewayDefaults
	flags               *pflag.FlagSet // to tell flags given from defaults
	XDSAddress          string
	StatusAddress       string
	CertsDir            string
	TLSCert             string
	TLSKey              string
	TLSCA               string
	Debounce            time.Duration
	ApplyWithProblems   bool
	Once                bool
}

// NewCmd returns `egctl x serve`.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	return newCmd(ios, run)
}

func newCmd(ios *cli.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve compiled manifests over xDS to Envoys, recompiling on change (host mode)",
		Long: `Serve compiles Gateway API and Envoy Gateway manifests and serves the result
over ADS (state of the world and delta xDS) to any number of Envoys, one
configuration per Gateway: an Envoy gets the Gateway its node cluster names
("namespace/name"), as the bootstrap of
  egctl x translate -f DIR --to bootstrap --xds-server HOST:PORT
sets it. When a manifest changes, serve recompiles and pushes what changed;
Envoys apply it without a restart.

A change that does not load, does not compile, or brings a problem the
served configuration did not have (an object not accepted) is held back:
the proxies keep the last good configuration, and the reason is logged and
shown on /status. --apply-with-problems pushes such changes anyway, as
Envoy Gateway does.

--config-path reads Envoy Gateway's standalone EnvoyGateway configuration
(provider.custom.resource.file.paths, gateway.controllerName), so
  envoy-gateway server --config-path standalone.yaml
becomes
  egctl x serve --config-path standalone.yaml

The status address serves /status (JSON: connected proxies, the version
each acknowledged, rejections, the problems of the manifests), /metrics
(Prometheus) and /healthz. SIGINT or SIGTERM stops serve gracefully.`,
		Example: `  # Serve a directory; two Envoys started from the printed bootstrap share it
  egctl x serve -f manifests/ --xds-address 0.0.0.0:18000 &
  egctl x translate -f manifests/ --to bootstrap --xds-server 10.0.0.5:18000 > envoy.yaml
  envoy -c envoy.yaml

  # Mutual TLS on the xDS channel with egctl x certgen's files
  egctl x certgen --out-dir certs/ --dns-names gw.internal
  egctl x serve -f manifests/ --certs-dir certs/

  # Envoy Gateway's standalone configuration
  egctl x serve --config-path /etc/envoy-gateway/standalone.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runF(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Files, "file", "f", nil, "manifest file or directory (recursive); repeatable")
	f.StringVar(&o.ConfigPath, "config-path", "", "Envoy Gateway's EnvoyGateway configuration: its file provider paths are served")
	f.StringVarP(&o.Namespace, "namespace", "n", "default", "namespace for namespaced objects that do not name one")
	f.StringVar(&o.ControllerName, "controller-name", "gateway.envoyproxy.io/gatewayclass-controller", "GatewayClass controllerName that egctl acts for")
	f.BoolVar(&o.KeepPrivilegedPorts, "keep-privileged-ports", false, "bind listener ports below 1024 as written instead of port+10000")
	o.Defaults.AddFlags(f)
	o.flags = f
	f.StringVar(&o.XDSAddress, "xds-address", "127.0.0.1:18000", "address of the ADS server")
	f.StringVar(&o.StatusAddress, "status-address", "127.0.0.1:18001", `address of /status, /metrics and /healthz ("" disables)`)
	f.StringVar(&o.CertsDir, "certs-dir", "", "egctl x certgen's --out-dir: serve mutual TLS with envoy-gateway/{tls.crt,tls.key,ca.crt}")
	f.StringVar(&o.TLSCert, "tls-cert", "", "server certificate (PEM) for mutual TLS on the xDS channel")
	f.StringVar(&o.TLSKey, "tls-key", "", "server private key (PEM)")
	f.StringVar(&o.TLSCA, "tls-ca", "", "CA (PEM) client certificates must chain to")
	f.DurationVar(&o.Debounce, "debounce", 200*time.Millisecond, "how long the manifests must be quiet after a change before recompiling")
	f.BoolVar(&o.ApplyWithProblems, "apply-with-problems", false, "push changes that bring new problems (objects not accepted) instead of holding them back")
	f.BoolVar(&o.Once, "once", false, "compile once and serve; do not watch the files")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
	_ = cmd.MarkFlagFilename("config-path", "yaml", "yml")
	_ = cmd.MarkFlagDirname("certs-dir")
	return cmd
}

func (o *Options) complete() error {
	if err := o.Defaults.Validate(o.flags); err != nil {
		return err
	}
	if o.ConfigPath != "" {
		cfg, err := readEnvoyGatewayConfig(o.ConfigPath)
		if err != nil {
			return cli.UsageError(err)
		}
		o.Files = append(o.Files, cfg.paths...)
		if cfg.controllerName != "" {
			o.ControllerName = cfg.controllerName
		}
		for _, w := range cfg.ignored {
			fmt.Fprintf(o.IO.ErrOut, "warning: %s: %s\n", o.ConfigPath, w)
		}
	}
	if len(o.Files) == 0 {
		return cli.UsageErrorf("no input: give manifests with -f FILE|DIR or --config-path")
	}
	for _, f := range o.Files {
		if f == "-" {
			return cli.UsageErrorf("-f -: serve watches files; standard input cannot be watched")
		}
	}
	if o.CertsDir != "" {
		if o.TLSCert != "" || o.TLSKey != "" || o.TLSCA != "" {
			return cli.UsageErrorf("--certs-dir and --tls-cert/--tls-key/--tls-ca are exclusive")
		}
		d := filepath.Join(o.CertsDir, "envoy-gateway")
		o.TLSCert, o.TLSKey, o.TLSCA = filepath.Join(d, "tls.crt"), filepath.Join(d, "tls.key"), filepath.Join(d, "ca.crt")
	}
	set := 0
	for _, v := range []string{o.TLSCert, o.TLSKey, o.TLSCA} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		return cli.UsageErrorf("mutual TLS needs all of --tls-cert, --tls-key and --tls-ca")
	}
	return nil
}

func run(ctx context.Context, o *Options) error {
	so := serve.Options{
		CompileOptions: serve.CompileOptions{
			Files: o.Files, Namespace: o.Namespace, ControllerName: o.ControllerName,
			KeepPrivilegedPorts:  o.KeepPrivilegedPorts,
			EnvoyGatewayDefaults: !o.Defaults.Lean,
			ReadyPort:            o.Defaults.ReadyPort,
		},
		XDSAddress:        o.XDSAddress,
		StatusAddress:     o.StatusAddress,
		Debounce:          o.Debounce,
		ApplyWithProblems: o.ApplyWithProblems,
		Watch:             !o.Once,
		Log:               o.IO.ErrOut,
	}
	if o.TLSCert != "" {
		so.TLS = &serve.TLSFiles{CertFile: o.TLSCert, KeyFile: o.TLSKey, CAFile: o.TLSCA}
	}
	s, err := serve.New(so)
	if err != nil {
		return cli.UsageError(err)
	}
	return s.Run(ctx)
}
