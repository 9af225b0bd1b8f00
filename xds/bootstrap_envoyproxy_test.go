package xds

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/egctl/egctl/ir"
)

// egReplaceValue is a bootstrap as a user copies it from Envoy Gateway's
// template: delta ADS, TLS to the control plane, its own admin port.
const egReplaceValue = `
admin:
  address:
    socket_address: {address: 127.0.0.1, port_value: 19999}
dynamic_resources:
  ads_config:
    api_type: DELTA_GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]
    set_node_on_first_message_only: true
  lds_config: {ads: {}, initial_fetch_timeout: 0s, resource_api_version: V3}
  cds_config: {ads: {}, initial_fetch_timeout: 0s, resource_api_version: V3}
static_resources:
  clusters:
  - name: xds_cluster
    connect_timeout: 10s
    type: STRICT_DNS
    load_assignment:
      cluster_name: xds_cluster
      endpoints:
      - load_balancing_weight: 1
        lb_endpoints:
        - load_balancing_weight: 1
          endpoint:
            address:
              socket_address: {address: envoy-gateway, port_value: 18000}
  - name: extra
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: extra
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9}}}}]}]
`

func patchedProxy(p *ir.BootstrapPatch) *Resources {
	cfg := oneRoute(prefixRoute("r", "/"))
	cfg.Proxies[0].Settings = &ir.ProxySettings{Bootstrap: p}
	res, err := Translate(cfg)
	if err != nil {
		panic(err)
	}
	return res[0]
}

// TestBootstrapPatchStaticAndDynamic: one patch, both outputs. The static
// bootstrap keeps the patch's additions and drops the ADS parts; the
// dynamic one keeps egctl's ADS config whatever form the patch gave it.
func TestBootstrapPatchStaticAndDynamic(t *testing.T) {
	r := patchedProxy(&ir.BootstrapPatch{Type: ir.BootstrapReplace, Value: egReplaceValue})
	st, err := StaticBootstrap(r, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetDynamicResources() != nil {
		t.Errorf("static bootstrap has dynamic_resources")
	}
	if st.GetAdmin().GetAddress().GetSocketAddress().GetPortValue() != 19999 {
		t.Errorf("Replace lost the admin port: %v", st.GetAdmin())
	}
	var names []string
	for _, c := range st.GetStaticResources().GetClusters() {
		names = append(names, c.GetName())
	}
	if strings.Join(names, ",") != "extra,r-dest" {
		t.Errorf("static clusters %v, want the patch's extra and the route's", names)
	}
	if st.GetNode().GetId() != "default/eg" {
		t.Errorf("node %v: egctl's identity must stay when the value has none", st.GetNode())
	}
	dyn, err := DynamicBootstrap(DynamicBootstrapOptions{NodeID: "default/eg", XDSHost: "10.0.0.1", XDSPort: 18000, Resources: r})
	if err != nil {
		t.Fatal(err)
	}
	if dyn.GetDynamicResources().GetAdsConfig().GetApiType().String() != "GRPC" {
		t.Errorf("dynamic bootstrap lost egctl's ADS config: %v", dyn.GetDynamicResources())
	}
	var xds int
	for _, c := range dyn.GetStaticResources().GetClusters() {
		if c.GetName() == XDSClusterName {
			xds++
			if a := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress(); a != "10.0.0.1" {
				t.Errorf("xds_cluster points at %s, want egctl's 10.0.0.1", a)
			}
		}
	}
	if xds != 1 {
		t.Errorf("%d xds_cluster, want 1", xds)
	}
}

// TestBootstrapPatchRefused: patches Envoy Gateway refuses (changing how
// configuration arrives) and broken ones are errors naming the problem.
func TestBootstrapPatchRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *ir.BootstrapPatch
		want string
	}{
		{"dynamic resources changed", &ir.BootstrapPatch{Type: ir.BootstrapJSONPatch, JSONPatches: []ir.BootstrapPatchOp{
			{Op: "replace", Path: "/dynamic_resources/lds_config", Value: json.RawMessage(`{"path_config_source":{"path":"/etc/lds.yaml"}}`)}}},
			"dynamic_resources cannot be modified"},
		{"xds cluster moved", &ir.BootstrapPatch{Type: ir.BootstrapJSONPatch, JSONPatches: []ir.BootstrapPatchOp{
			{Op: "replace", Path: "/static_resources/clusters/0/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address/address", Value: json.RawMessage(`"evil.example.com"`)}}},
			"xds_cluster's load_assignment cannot be modified"},
		{"missing path", &ir.BootstrapPatch{Type: ir.BootstrapJSONPatch, JSONPatches: []ir.BootstrapPatchOp{
			{Op: "replace", Path: "/stats_config/use_all_default_tags", Value: json.RawMessage(`true`)}}},
			"jsonPatches[0] (replace /stats_config/use_all_default_tags)"},
		{"replace without ADS", &ir.BootstrapPatch{Type: ir.BootstrapReplace, Value: "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 19000}}}"},
			"dynamic_resources cannot be modified"},
		{"not a bootstrap", &ir.BootstrapPatch{Type: ir.BootstrapMerge, Value: "admin: {bogus_field: 1}"}, "value:"},
		{"invalid result", &ir.BootstrapPatch{Type: ir.BootstrapMerge, Value: "static_resources: {clusters: [{name: ''}]}"}, "not a valid bootstrap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckBootstrapPatch(tc.p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
			if _, err := StaticBootstrap(patchedProxy(tc.p), BootstrapOptions{}); err == nil {
				t.Errorf("StaticBootstrap accepted the patch")
			}
		})
	}
}

// TestStatsListenerPort: the stats listener listens where asked and sends
// to the admin interface, wherever that is.
func TestStatsListenerPort(t *testing.T) {
	cfg := oneRoute(prefixRoute("r", "/"))
	cfg.Proxies[0].Settings = &ir.ProxySettings{Metrics: &ir.Metrics{Prometheus: &ir.Prometheus{Compression: "Zstd"}}}
	r := translateOne(t, cfg)
	bs, err := StaticBootstrap(r, BootstrapOptions{AdminPort: 19555, StatsPort: 19666})
	if err != nil {
		t.Fatal(err)
	}
	l := bs.GetStaticResources().GetListeners()[0]
	if l.GetName() != "envoy-gateway-proxy-stats-0.0.0.0-19666" || l.GetAddress().GetSocketAddress().GetPortValue() != 19666 {
		t.Errorf("stats listener %s", l.GetName())
	}
	c := bs.GetStaticResources().GetClusters()[0]
	if c.GetName() != promStatsCluster || c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue() != 19555 {
		t.Errorf("prometheus cluster %v", c)
	}
}

// TestStableProtoErr: the protobuf runtime's no-break space after "proto:"
// (present in some builds only) never reaches a problem's text.
func TestStableProtoErr(t *testing.T) {
	err := stableProtoErr(errors.New("proto:\u00a0(line 1:2): unknown field \"x\""))
	if got, want := err.Error(), `proto: (line 1:2): unknown field "x"`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if stableProtoErr(nil) != nil {
		t.Fatal("nil error became non-nil")
	}
	_, err = bootstrapFromYAML("nope: 1")
	if err == nil || strings.ContainsRune(err.Error(), '\u00a0') {
		t.Fatalf("bootstrapFromYAML error %v: want an error without a no-break space", err)
	}
}
