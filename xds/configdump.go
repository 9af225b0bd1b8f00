package xds

import (
	"errors"
	"fmt"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Config dump section names accepted by ConfigDump.
const (
	DumpAll       = "all"
	DumpBootstrap = "bootstrap"
	DumpListener  = "listener"
	DumpRoute     = "route"
	DumpCluster   = "cluster"
	DumpEndpoint  = "endpoint"
	DumpSecret    = "secret"
)

// dumpOrder is the order of sections in the dump, as Envoy Gateway prints it.
var dumpOrder = []string{DumpBootstrap, DumpEndpoint, DumpCluster, DumpListener, DumpRoute, DumpSecret}

// redacted replaces private key material in dumps, as Envoy's admin does.
const redacted = "[redacted]"

// ConfigDump returns r in the shape of Envoy's /config_dump (the shape
// Envoy Gateway's `egctl x translate --to xds` prints): resources as the
// dynamic ones a proxy would hold, listeners with RDS and clusters with EDS.
// types selects the sections (empty or "all" for every one); the bootstrap
// section is left out when bootstrap is nil, unless asked for by name, which
// is an error. Private keys are redacted.
func ConfigDump(r *Resources, bootstrap *bootstrapv3.Bootstrap, types []string) (*adminv3.ConfigDump, error) {
	return configDump(r, bootstrap, types, true, anypb.New)
}

// ConfigDumpWithSecrets is ConfigDump with private keys left in, for a user
// who asked to see them (`--show-secrets`).
func ConfigDumpWithSecrets(r *Resources, bootstrap *bootstrapv3.Bootstrap, types []string) (*adminv3.ConfigDump, error) {
	return configDump(r, bootstrap, types, false, anypb.New)
}

// pack puts a message in an Any: anypb.New, or a cheaper stand-in when the
// dump is only to be printed (dumpview.go).
func configDump(r *Resources, bootstrap *bootstrapv3.Bootstrap, types []string, redact bool, pack func(proto.Message) (*anypb.Any, error)) (*adminv3.ConfigDump, error) {
	if r == nil {
		return nil, errors.New("xds: ConfigDump: nil Resources")
	}
	want := map[string]bool{}
	explicit := map[string]bool{}
	if len(types) == 0 {
		types = []string{DumpAll}
	}
	for _, t := range types {
		switch t {
		case DumpAll:
			for _, s := range dumpOrder {
				want[s] = true
			}
		case DumpBootstrap, DumpListener, DumpRoute, DumpCluster, DumpEndpoint, DumpSecret:
			want[t] = true
			explicit[t] = true
		default:
			return nil, fmt.Errorf("xds: ConfigDump: unknown type %q (want one of all, bootstrap, listener, route, cluster, endpoint, secret)", t)
		}
	}
	if explicit[DumpBootstrap] && bootstrap == nil {
		return nil, errors.New("xds: ConfigDump: bootstrap asked for but none given")
	}
	if redact && (want[DumpListener] || want[DumpRoute]) {
		// Credentials inline in filter configurations (redact.go).
		var err error
		if r, err = redactResources(r); err != nil {
			return nil, fmt.Errorf("xds: ConfigDump: redacting: %w", err)
		}
	}

	out := &adminv3.ConfigDump{}
	add := func(m proto.Message) error {
		a, err := pack(m)
		if err != nil {
			return fmt.Errorf("xds: ConfigDump: %w", err)
		}
		out.Configs = append(out.Configs, a)
		return nil
	}
	for _, section := range dumpOrder {
		if !want[section] {
			continue
		}
		var m proto.Message
		var err error
		switch section {
		case DumpBootstrap:
			if bootstrap == nil {
				continue
			}
			m = &adminv3.BootstrapConfigDump{Bootstrap: bootstrap}
		case DumpEndpoint:
			d := &adminv3.EndpointsConfigDump{}
			for _, e := range r.Endpoints {
				var a *anypb.Any
				if a, err = pack(e); err != nil {
					break
				}
				d.DynamicEndpointConfigs = append(d.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{EndpointConfig: a})
			}
			m = d
		case DumpCluster:
			d := &adminv3.ClustersConfigDump{}
			for _, c := range r.Clusters {
				var a *anypb.Any
				if a, err = pack(c); err != nil {
					break
				}
				d.DynamicActiveClusters = append(d.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{Cluster: a})
			}
			m = d
		case DumpListener:
			d := &adminv3.ListenersConfigDump{}
			for _, l := range r.Listeners {
				var a *anypb.Any
				if a, err = pack(l); err != nil {
					break
				}
				d.DynamicListeners = append(d.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
					ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{Listener: a},
				})
			}
			m = d
		case DumpRoute:
			d := &adminv3.RoutesConfigDump{}
			for _, rc := range r.Routes {
				if redact && len(r.secretContext) > 0 {
					if rc, err = redactContextExtensions(rc, r.secretContext); err != nil { // extauth.go
						break
					}
				}
				var a *anypb.Any
				if a, err = pack(rc); err != nil {
					break
				}
				d.DynamicRouteConfigs = append(d.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{RouteConfig: a})
			}
			m = d
		case DumpSecret:
			d := &adminv3.SecretsConfigDump{}
			for _, s := range r.Secrets {
				var a *anypb.Any
				if redact {
					s = redactSecret(s)
				}
				if a, err = pack(s); err != nil {
					break
				}
				d.DynamicActiveSecrets = append(d.DynamicActiveSecrets, &adminv3.SecretsConfigDump_DynamicSecret{Name: s.GetName(), Secret: a})
			}
			m = d
		}
		if err != nil {
			return nil, fmt.Errorf("xds: ConfigDump %s: %w", section, err)
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// redactSecret hides private keys (session ticket keys, generic secrets) the way Envoy's
// admin endpoint does, so a dump can be shared.
func redactSecret(s *tlsv3.Secret) *tlsv3.Secret {
	out := cloneOf(s)
	hide := &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: redacted}}
	if tc := out.GetTlsCertificate(); tc != nil {
		if tc.PrivateKey != nil {
			tc.PrivateKey = cloneOf(hide)
		}
		if tc.Password != nil {
			tc.Password = cloneOf(hide)
		}
	}
	if gs := out.GetGenericSecret(); gs != nil && gs.Secret != nil {
		gs.Secret = cloneOf(hide) // an EnvoyPatchPolicy may add one
	}
	if keys := out.GetSessionTicketKeys(); keys != nil {
		for i := range keys.Keys {
			keys.Keys[i] = cloneOf(hide)
		}
	}
	// Generic secrets: OAuth2 client secrets and HMAC keys (oidc.go).
	if gs := out.GetGenericSecret(); gs != nil {
		if gs.Secret != nil {
			gs.Secret = cloneOf(hide)
		}
		for k := range gs.Secrets {
			gs.Secrets[k] = cloneOf(hide)
		}
	}
	return out
}
