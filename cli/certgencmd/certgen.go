// Package certgencmd is `egctl x certgen`: control-plane certificates for
// an Envoy Gateway style deployment, or a serving certificate for Gateway
// listeners.
package certgencmd

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/egctl/egctl/certgen"
	"github.com/egctl/egctl/cli"
)

type options struct {
	outDir     string
	overwrite  bool
	kubernetes bool
	namespace  string
	dnsNames   []string
	dnsDomain  string
	validity   string
	keyType    string
	listener   []string
	secretName string
	caCert     string
	caKey      string
}

// NewCmd returns `certgen`.
func NewCmd(ios *cli.IOStreams) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "certgen (--out-dir DIR | --kubernetes) | --listener HOST[,HOST]",
		Short: "Generate control-plane certificates, or a TLS certificate for Gateway listeners",
		Long: `Generate the certificates Envoy Gateway's control plane uses, without a cluster:
a private CA; "envoy-gateway" (xDS server, server auth); "envoy" (the proxies'
client certificate, client auth); "envoy-rate-limit" (rate-limit service, server
and client auth); and "envoy-oidc-hmac" (32 random bytes keying OAuth2 cookies).

With --out-dir the files are laid out one directory per Secret (DIR/envoy/tls.key,
...); keys are written mode 0600 and existing files are never replaced without
--overwrite. With --kubernetes the four Secrets are printed as manifests, with the
names, types and keys Envoy Gateway uses, ready for kubectl apply.

With --listener a kubernetes.io/tls Secret for the given Gateway listener
hostnames is printed instead, signed by a new CA or by --ca-cert/--ca-key, plus a
ConfigMap "<secret>-ca" holding the CA certificate for clients to trust.

Keys are ECDSA P-256 by default (--key-type rsa gives RSA 2048, as Envoy Gateway).`,
		Example: `  # Control-plane Secrets for the default namespace, applied directly
  egctl x certgen --kubernetes | kubectl apply -f -

  # Files for a host-mode install, with an extra SAN for the xDS server
  egctl x certgen --out-dir ~/.config/envoy-gateway/certs --dns-names localhost

  # A listener certificate signed by your own CA
  egctl x certgen --listener www.example.com,example.com --secret-name example-tls \
      -n apps --ca-cert ca.crt --ca-key ca.key`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.UsageErrorf("unexpected argument %q: certgen takes flags only", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(ios, cmd)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.UsageError(err) })
	f := cmd.Flags()
	f.StringVar(&o.outDir, "out-dir", "", "write PEM files under `DIR` instead of printing manifests")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace files that already exist in --out-dir")
	f.BoolVar(&o.kubernetes, "kubernetes", false, "print Secret manifests to stdout")
	f.StringVarP(&o.namespace, "namespace", "n", "", `namespace of the Secrets (default "envoy-gateway-system"; "default" with --listener)`)
	f.StringSliceVar(&o.dnsNames, "dns-names", nil, "extra DNS SANs for the server certificates (envoy-gateway, envoy-rate-limit)")
	f.StringVar(&o.dnsDomain, "dns-domain", certgen.DefaultDNSDomain, "cluster DNS domain used in Service SANs")
	f.StringVar(&o.validity, "validity", "1825d", "certificate lifetime: a Go duration (8760h) or whole days (365d)")
	f.StringVar(&o.keyType, "key-type", string(certgen.KeyECDSA), "private key algorithm: ecdsa (P-256) or rsa (2048)")
	f.StringSliceVar(&o.listener, "listener", nil, "make a listener certificate for these `HOSTNAME`s instead")
	f.StringVar(&o.secretName, "secret-name", "", `listener Secret name (default "<first hostname>-tls", '*' spelled "wildcard")`)
	f.StringVar(&o.caCert, "ca-cert", "", "with --listener: sign with this CA certificate (PEM file)")
	f.StringVar(&o.caKey, "ca-key", "", "with --listener: the CA's private key (PEM file)")
	fixed := func(v ...string) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return v, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("key-type", fixed(string(certgen.KeyECDSA), string(certgen.KeyRSA)))
	_ = cmd.RegisterFlagCompletionFunc("namespace", fixed("envoy-gateway-system", "default"))
	_ = cmd.RegisterFlagCompletionFunc("dns-domain", fixed(certgen.DefaultDNSDomain))
	_ = cmd.RegisterFlagCompletionFunc("validity", fixed("365d", "1825d", "8760h"))
	_ = cmd.RegisterFlagCompletionFunc("dns-names", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("listener", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("secret-name", cobra.NoFileCompletions)
	_ = cmd.MarkFlagDirname("out-dir")
	_ = cmd.MarkFlagFilename("ca-cert", "crt", "pem")
	_ = cmd.MarkFlagFilename("ca-key", "key", "pem")
	return cmd
}

// parseValidity accepts Go durations and a whole-days form, because
// certificate lifetimes are thought of in days and Go has no "d" unit.
func parseValidity(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--validity %q: want a positive number of days, e.g. 365d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("--validity %q: want a positive duration such as 8760h or 365d", s)
	}
	return v, nil
}

func (o *options) settings() (certgen.Settings, error) {
	kt, err := certgen.ParseKeyType(o.keyType)
	if err != nil {
		return certgen.Settings{}, fmt.Errorf("--key-type: %w", err)
	}
	v, err := parseValidity(o.validity)
	if err != nil {
		return certgen.Settings{}, err
	}
	return certgen.Settings{KeyType: kt, Validity: v}, nil
}

func (o *options) run(ios *cli.IOStreams, cmd *cobra.Command) error {
	s, err := o.settings()
	if err != nil {
		return cli.UsageError(err)
	}
	if o.outDir != "" && o.kubernetes {
		return cli.UsageErrorf("--out-dir and --kubernetes are exclusive: write files or print manifests")
	}
	if o.overwrite && o.outDir == "" {
		return cli.UsageErrorf("--overwrite only applies to --out-dir")
	}
	if o.namespace != "" {
		if err := certgen.ValidateDNSName(o.namespace, false); err != nil || strings.Contains(o.namespace, ".") {
			return cli.UsageErrorf("--namespace %q is not a valid namespace name (lower-case letters, digits, inner '-')", o.namespace)
		}
	}
	if len(o.listener) > 0 {
		return o.runListener(ios, s)
	}
	for _, fl := range []string{"secret-name", "ca-cert", "ca-key"} {
		if cmd.Flags().Changed(fl) {
			return cli.UsageErrorf("--%s only applies to --listener", fl)
		}
	}
	if o.outDir == "" && !o.kubernetes {
		return cli.UsageErrorf("say where the certificates go: --out-dir DIR or --kubernetes")
	}
	ns := o.namespace
	if ns == "" {
		ns = certgen.DefaultNamespace
	}
	cp, err := certgen.GenerateControlPlane(certgen.ControlPlaneOptions{
		Namespace: ns, DNSDomain: o.dnsDomain, ExtraDNSNames: o.dnsNames, Settings: s,
	})
	if err != nil {
		return cli.UsageError(err)
	}
	if o.kubernetes {
		objs := make([]any, 0, 4)
		for _, sec := range cp.Secrets() {
			objs = append(objs, sec)
		}
		return certgen.WriteManifests(ios.Out, objs...)
	}
	return writeFiles(ios, o.outDir, cp.Files(), o.overwrite)
}

func (o *options) runListener(ios *cli.IOStreams, s certgen.Settings) error {
	if len(o.dnsNames) > 0 {
		return cli.UsageErrorf("--dns-names applies to control-plane certificates; list listener names in --listener")
	}
	var ca *certgen.CA
	switch {
	case o.caCert != "" && o.caKey != "":
		certPEM, err := os.ReadFile(o.caCert)
		if err != nil {
			return cli.UsageError(err)
		}
		keyPEM, err := os.ReadFile(o.caKey)
		if err != nil {
			return cli.UsageError(err)
		}
		ca, err = certgen.LoadCA(certPEM, keyPEM)
		if err != nil {
			return cli.UsageErrorf("--ca-cert %s / --ca-key %s: %w", o.caCert, o.caKey, err)
		}
	case o.caCert != "" || o.caKey != "":
		return cli.UsageErrorf("--ca-cert and --ca-key go together")
	}
	lc, err := certgen.GenerateListener(certgen.ListenerOptions{
		Hostnames: o.listener, SecretName: o.secretName, Namespace: o.namespace, CA: ca, Settings: s,
	})
	if err != nil {
		return cli.UsageError(err)
	}
	if o.outDir != "" {
		return writeFiles(ios, o.outDir, lc.Files(), o.overwrite)
	}
	if lc.CAGenerated {
		fmt.Fprintln(ios.ErrOut, "note: a new CA was made; its key is not printed, so it cannot sign again (use --out-dir to keep ca.key)")
	}
	sec, cm := lc.Objects()
	return certgen.WriteManifests(ios.Out, sec, cm)
}

func writeFiles(ios *cli.IOStreams, dir string, files []certgen.File, overwrite bool) error {
	written, err := certgen.WriteFiles(dir, files, overwrite)
	for _, p := range written {
		fmt.Fprintf(ios.Out, "wrote %s\n", p)
	}
	if errors.Is(err, certgen.ErrExists) {
		return cli.UsageError(err)
	}
	return err
}
