package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// UnmarshalOptions decode admin answers: fields a newer Envoy added are
// dropped rather than failing the call, and Any values resolve through
// Resolver.
var UnmarshalOptions = protojson.UnmarshalOptions{DiscardUnknown: true, Resolver: Resolver}

// MarshalOptions encode what this package decoded (placeholders included).
var MarshalOptions = protojson.MarshalOptions{Resolver: Resolver}

func (c *Client) getProto(ctx context.Context, path string, m proto.Message) error {
	body, err := c.getJSON(ctx, path)
	if err != nil {
		return err
	}
	if err := UnmarshalOptions.Unmarshal(body, m); err != nil {
		return c.decodeError(path, body, err)
	}
	return nil
}

// ConfigDump fetches /config_dump. resource and mask are Envoy's query
// parameters of the same names ("" for none); includeEDS adds endpoint
// configuration. A dump holding Any types unknown to this binary is
// returned together with a *PartialError.
func (c *Client) ConfigDump(ctx context.Context, resource, mask string, includeEDS bool) (*adminv3.ConfigDump, error) {
	q := url.Values{}
	if resource != "" {
		q.Set("resource", resource)
	}
	if mask != "" {
		q.Set("mask", mask)
	}
	if includeEDS {
		q.Set("include_eds", "")
	}
	path := "/config_dump"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	d := &adminv3.ConfigDump{}
	if err := c.getProto(ctx, path, d); err != nil {
		return nil, err
	}
	// A full dump always holds at least the bootstrap; an empty one means
	// some other JSON service answered.
	if resource == "" && len(d.GetConfigs()) == 0 {
		return nil, fmt.Errorf("Envoy admin at %s: GET %s: %w: no configs in the dump", c.addr, path, ErrNotEnvoy)
	}
	if unk := unknownTypes(d); len(unk) > 0 {
		return d, &PartialError{Addr: c.addr, UnknownTypes: unk}
	}
	return d, nil
}

// ServerInfo fetches /server_info (version, state, uptime, options).
func (c *Client) ServerInfo(ctx context.Context) (*adminv3.ServerInfo, error) {
	si := &adminv3.ServerInfo{}
	if err := c.getProto(ctx, "/server_info", si); err != nil {
		return nil, err
	}
	if si.GetVersion() == "" {
		return nil, fmt.Errorf("Envoy admin at %s: GET /server_info: %w: no version", c.addr, ErrNotEnvoy)
	}
	return si, nil
}

// NotReadyError: Envoy answered /ready with a state other than LIVE.
type NotReadyError struct {
	Addr, State string
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("Envoy at %s is not ready: state %s", e.Addr, e.State)
}

var serverStates = map[string]bool{"LIVE": true, "DRAINING": true, "PRE_INITIALIZING": true, "INITIALIZING": true}

// Ready asks /ready. It returns the server state; the error is nil only
// when the state is LIVE, and a *NotReadyError for the other states.
func (c *Client) Ready(ctx context.Context) (string, error) {
	r, err := c.get(ctx, "/ready")
	if err != nil {
		return "", err
	}
	state := strings.TrimSpace(string(r.body))
	if !serverStates[state] {
		if r.status/100 != 2 {
			return "", &HTTPError{Addr: c.addr, Path: "/ready", Status: r.status, Body: snippet(r.body)}
		}
		return "", fmt.Errorf("Envoy admin at %s: GET /ready: %w: %s", c.addr, ErrNotEnvoy, snippet(r.body))
	}
	if state != "LIVE" {
		return state, &NotReadyError{Addr: c.addr, State: state}
	}
	return state, nil
}

// Clusters fetches /clusters?format=json: every cluster's hosts with
// their health flags and stats. See Health for a summary.
func (c *Client) Clusters(ctx context.Context) (*adminv3.Clusters, error) {
	cl := &adminv3.Clusters{}
	if err := c.getProto(ctx, "/clusters?format=json", cl); err != nil {
		return nil, err
	}
	return cl, nil
}

// Listeners fetches /listeners?format=json: names and bound addresses.
func (c *Client) Listeners(ctx context.Context) (*adminv3.Listeners, error) {
	l := &adminv3.Listeners{}
	if err := c.getProto(ctx, "/listeners?format=json", l); err != nil {
		return nil, err
	}
	return l, nil
}

// HostHealth is one upstream host as a load balancer sees it.
type HostHealth struct {
	Cluster string
	Address string // ip:port, pipe path or envoy internal address
	Healthy bool
	// Reasons lists the flags that make it unhealthy or degraded, in
	// Envoy's own words ("failed_active_health_check", "eds_health_status=UNHEALTHY").
	Reasons []string
}

// Health flattens Clusters into one entry per host, sorted by cluster and
// address.
func Health(cl *adminv3.Clusters) []HostHealth {
	var out []HostHealth
	for _, cs := range cl.GetClusterStatuses() {
		for _, h := range cs.GetHostStatuses() {
			hh := HostHealth{Cluster: cs.GetName(), Address: addressString(h.GetAddress())}
			st := h.GetHealthStatus()
			flags := []struct {
				set  bool
				name string
			}{
				{st.GetFailedActiveHealthCheck(), "failed_active_health_check"},
				{st.GetFailedOutlierCheck(), "failed_outlier_check"},
				{st.GetFailedActiveDegradedCheck(), "failed_active_degraded_check"},
				{st.GetPendingDynamicRemoval(), "pending_dynamic_removal"},
				{st.GetPendingActiveHc(), "pending_active_hc"},
				{st.GetExcludedViaImmediateHcFail(), "excluded_via_immediate_hc_fail"},
				{st.GetActiveHcTimeout(), "active_hc_timeout"},
				{st.GetFailedDegradedOutlierDetection(), "failed_degraded_outlier_detection"},
			}
			for _, f := range flags {
				if f.set {
					hh.Reasons = append(hh.Reasons, f.name)
				}
			}
			eds := st.GetEdsHealthStatus()
			if eds != corev3.HealthStatus_UNKNOWN && eds != corev3.HealthStatus_HEALTHY {
				hh.Reasons = append(hh.Reasons, "eds_health_status="+eds.String())
			}
			// Degraded hosts still take traffic; only the failure and
			// exclusion flags take a host out.
			hh.Healthy = true
			for _, r := range hh.Reasons {
				if r != "failed_active_degraded_check" && r != "failed_degraded_outlier_detection" && r != "eds_health_status=DEGRADED" && r != "pending_dynamic_removal" {
					hh.Healthy = false
				}
			}
			out = append(out, hh)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Cluster != out[j].Cluster {
			return out[i].Cluster < out[j].Cluster
		}
		return out[i].Address < out[j].Address
	})
	return out
}

func addressString(a *corev3.Address) string {
	switch {
	case a.GetSocketAddress() != nil:
		sa := a.GetSocketAddress()
		if sa.GetNamedPort() != "" {
			return fmt.Sprintf("%s:%s", sa.GetAddress(), sa.GetNamedPort())
		}
		if strings.Contains(sa.GetAddress(), ":") {
			return fmt.Sprintf("[%s]:%d", sa.GetAddress(), sa.GetPortValue())
		}
		return fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue())
	case a.GetPipe() != nil:
		return "unix:" + a.GetPipe().GetPath()
	case a.GetEnvoyInternalAddress() != nil:
		return "internal:" + a.GetEnvoyInternalAddress().GetServerListenerName()
	}
	return ""
}

// Stats holds /stats?format=json: counters and gauges by name, text
// readouts by name, and the names of histograms (their quantiles are left
// out; ask Envoy's /stats/prometheus for distributions).
type Stats struct {
	Values     map[string]uint64
	Text       map[string]string
	Histograms []string
}

// Stats fetches /stats?format=json, limited to names matching the RE2
// regular expression filter ("" for all).
func (c *Client) Stats(ctx context.Context, filter string) (*Stats, error) {
	q := url.Values{"format": {"json"}}
	if filter != "" {
		q.Set("filter", filter)
	}
	path := "/stats?" + q.Encode()
	body, err := c.getJSON(ctx, path)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Stats *[]json.RawMessage `json:"stats"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, c.decodeError(path, body, err)
	}
	if raw.Stats == nil {
		return nil, fmt.Errorf("Envoy admin at %s: GET %s: %w: no \"stats\" list", c.addr, path, ErrNotEnvoy)
	}
	st := &Stats{Values: map[string]uint64{}, Text: map[string]string{}}
	for _, e := range *raw.Stats {
		var one struct {
			Name       string          `json:"name"`
			Value      json.RawMessage `json:"value"`
			Histograms *struct {
				Computed []struct {
					Name string `json:"name"`
				} `json:"computed_quantiles"`
			} `json:"histograms"`
		}
		d := json.NewDecoder(bytes.NewReader(e))
		d.UseNumber()
		if err := d.Decode(&one); err != nil {
			return nil, c.decodeError(path, body, err)
		}
		switch {
		case one.Histograms != nil:
			for _, h := range one.Histograms.Computed {
				st.Histograms = append(st.Histograms, h.Name)
			}
		case one.Name == "":
			return nil, fmt.Errorf("Envoy admin at %s: GET %s: %w: stat without a name: %s", c.addr, path, ErrNotEnvoy, snippet(e))
		case len(one.Value) > 0 && one.Value[0] == '"':
			var s string
			_ = json.Unmarshal(one.Value, &s)
			st.Text[one.Name] = s
		default:
			var n uint64
			if err := json.Unmarshal(one.Value, &n); err != nil {
				return nil, fmt.Errorf("Envoy admin at %s: GET %s: stat %s: value %s: %w", c.addr, path, one.Name, one.Value, err)
			}
			st.Values[one.Name] = n
		}
	}
	sort.Strings(st.Histograms)
	return st, nil
}

// IsPartial reports whether err only says some values were lost (the
// result is still usable).
func IsPartial(err error) bool {
	var pe *PartialError
	return errors.As(err, &pe)
}
