package statuscmd

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/egctl/egctl/admin"
	"github.com/egctl/egctl/cli/diffcmd"
	"github.com/egctl/egctl/diff"
)

// ProxyStatus is what one running Envoy says about itself.
type ProxyStatus struct {
	Admin string `json:"admin"`
	// Node is the bootstrap's node id (egctl uses the gateway's ns/name).
	Node    string `json:"node,omitempty"`
	State   string `json:"state,omitempty"`
	Version string `json:"version,omitempty"`
	// UptimeSeconds is the uptime of the current hot-restart epoch.
	UptimeSeconds int64 `json:"uptimeSeconds"`

	ListenersActive   uint64 `json:"listenersActive"`
	ListenersWarming  uint64 `json:"listenersWarming"`
	ListenersDraining uint64 `json:"listenersDraining"`

	Clusters     []ClusterHealth `json:"clusters"`
	HostsHealthy int             `json:"hostsHealthy"`
	HostsTotal   int             `json:"hostsTotal"`

	// StaticBootstrap: the proxy gets nothing over xDS; then there is no
	// config update time.
	StaticBootstrap   bool       `json:"staticBootstrap"`
	ConfigLastUpdated *time.Time `json:"configLastUpdated,omitempty"`

	// RejectedUpdates sums every *.update_rejected counter; Rejected names
	// the non-zero ones.
	RejectedUpdates uint64            `json:"rejectedUpdates"`
	Rejected        map[string]uint64 `json:"rejected,omitempty"`

	// Drift is set when manifests were given too.
	Drift *Drift `json:"drift,omitempty"`

	// Error says why the proxy could not be read (then little else is set).
	Error string `json:"error,omitempty"`
	// Problems lists what makes this proxy not OK.
	Problems []string `json:"problems,omitempty"`
}

// ClusterHealth counts a cluster's hosts.
type ClusterHealth struct {
	Name    string `json:"name"`
	Healthy int    `json:"healthy"`
	Total   int    `json:"total"`
	// Unhealthy lists the hosts taken out, with Envoy's reasons.
	Unhealthy []string `json:"unhealthy,omitempty"`
}

// Drift compares the proxy with the manifests' gateway.
type Drift struct {
	Gateway string `json:"gateway,omitempty"`
	InSync  bool   `json:"inSync"`
	// Resources are "change type name" for each resource that differs.
	Resources []string `json:"resources,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// Live gathers the status of the proxy c talks to. A proxy that cannot be
// read has Error set; everything else lands in the other fields.
func Live(ctx context.Context, c *admin.Client) *ProxyStatus {
	ps := &ProxyStatus{Admin: c.Address()}
	si, err := c.ServerInfo(ctx)
	if err != nil {
		ps.fail(err)
		return ps
	}
	ps.State = si.GetState().String()
	ps.Version = shortVersion(si.GetVersion())
	ps.UptimeSeconds = si.GetUptimeCurrentEpoch().GetSeconds()
	if si.GetCommandLineOptions() != nil {
		ps.Node = si.GetCommandLineOptions().GetServiceNode()
	}

	st, err := c.Stats(ctx, `update_rejected$|^listener_manager\.total_listeners_`)
	if err != nil {
		ps.fail(err)
		return ps
	}
	ps.ListenersActive = st.Values["listener_manager.total_listeners_active"]
	ps.ListenersWarming = st.Values["listener_manager.total_listeners_warming"]
	ps.ListenersDraining = st.Values["listener_manager.total_listeners_draining"]
	for name, v := range st.Values {
		if strings.HasSuffix(name, "update_rejected") && v > 0 {
			if ps.Rejected == nil {
				ps.Rejected = map[string]uint64{}
			}
			ps.Rejected[name] = v
			ps.RejectedUpdates += v
		}
	}

	cl, err := c.Clusters(ctx)
	if err != nil {
		ps.fail(err)
		return ps
	}
	byName := map[string]*ClusterHealth{}
	for _, cs := range cl.GetClusterStatuses() {
		byName[cs.GetName()] = &ClusterHealth{Name: cs.GetName()}
	}
	for _, h := range admin.Health(cl) {
		ch := byName[h.Cluster]
		if ch == nil {
			ch = &ClusterHealth{Name: h.Cluster}
			byName[h.Cluster] = ch
		}
		ch.Total++
		if h.Healthy {
			ch.Healthy++
		} else {
			ch.Unhealthy = append(ch.Unhealthy, h.Address+" ("+strings.Join(h.Reasons, ", ")+")")
		}
	}
	for _, ch := range byName {
		ps.Clusters = append(ps.Clusters, *ch)
		ps.HostsHealthy += ch.Healthy
		ps.HostsTotal += ch.Total
	}
	sort.Slice(ps.Clusters, func(i, j int) bool { return ps.Clusters[i].Name < ps.Clusters[j].Name })
	return ps
}

// readDump adds what the config dump says (node, last update, static or
// not) and returns the proxy's snapshot for drift checks.
func (ps *ProxyStatus) readDump(in *diffcmd.Input) {
	if in == nil {
		return
	}
	for _, k := range in.Side.Keys() {
		info := in.Info[k]
		if info.NodeID != "" {
			ps.Node = info.NodeID
		}
		ps.StaticBootstrap = in.Side[k].Static
		if !info.LastUpdated.IsZero() {
			t := info.LastUpdated.UTC()
			ps.ConfigLastUpdated = &t
		}
	}
}

func (ps *ProxyStatus) fail(err error) {
	ps.Error = err.Error()
}

// judge fills Problems.
func (ps *ProxyStatus) judge() {
	ps.Problems = nil
	if ps.Error != "" {
		ps.Problems = append(ps.Problems, ps.Error)
		return
	}
	if ps.State != "LIVE" {
		ps.Problems = append(ps.Problems, "state "+ps.State)
	}
	if ps.RejectedUpdates > 0 {
		ps.Problems = append(ps.Problems, fmt.Sprintf("%d rejected config update(s)", ps.RejectedUpdates))
	}
	for _, c := range ps.Clusters {
		if c.Healthy < c.Total {
			ps.Problems = append(ps.Problems, fmt.Sprintf("cluster %s: %d/%d hosts healthy", c.Name, c.Healthy, c.Total))
		}
	}
	if d := ps.Drift; d != nil {
		switch {
		case d.Error != "":
			ps.Problems = append(ps.Problems, "drift unknown: "+d.Error)
		case !d.InSync:
			ps.Problems = append(ps.Problems, fmt.Sprintf("%d resource(s) differ from the manifests", len(d.Resources)))
		}
	}
}

// shortVersion keeps the release from Envoy's long version string
// ("<sha>/1.40.0/Clean/RELEASE/BoringSSL" → "1.40.0").
func shortVersion(v string) string {
	parts := strings.Split(v, "/")
	if len(parts) >= 2 && parts[1] != "" {
		return parts[1]
	}
	return v
}

// drift compares a proxy with the manifests.
func drift(manifests, live *diffcmd.Input, gateway string, showSecrets bool) *Drift {
	d := &Drift{}
	a, b, err := diffcmd.Pair(manifests, live, gateway, nil)
	if err != nil {
		if gateway != "" {
			d.Error = err.Error()
		} else {
			d.Error = fmt.Sprintf("no Gateway in the manifests is named by the proxy's node id %s (have: %s); pick one with --gateway", nodeOf(live), strings.Join(manifests.Side.Keys(), ", "))
		}
		return d
	}
	// The pair shares one key when the proxy was matched to a gateway.
	for _, k := range b.Keys() {
		if _, ok := a[k]; ok {
			d.Gateway = k
		}
	}
	if d.Gateway == "" {
		d.Error = fmt.Sprintf("no gateway in the manifests matches the proxy (node %s); have: %s", nodeOf(live), strings.Join(manifests.Side.Keys(), ", "))
		return d
	}
	res, err := diff.Compare(diff.Side{d.Gateway: a[d.Gateway]}, diff.Side{d.Gateway: b[d.Gateway]}, diff.Options{ShowSecrets: showSecrets})
	if err != nil {
		d.Error = err.Error()
		return d
	}
	d.InSync = res.Empty()
	for _, e := range res.Entries {
		d.Resources = append(d.Resources, fmt.Sprintf("%s %s %s", driftWord(e.Change), e.Type, e.Name))
	}
	return d
}

// driftWord says a difference from the proxy's side: the comparison runs
// from the manifests to the proxy, so "removed" there means the proxy
// lacks what the manifests compile to.
func driftWord(c diff.Change) string {
	switch c {
	case diff.Removed:
		return "missing on the proxy:"
	case diff.Added:
		return "only on the proxy:"
	}
	return "changed"
}

func nodeOf(in *diffcmd.Input) string {
	for _, k := range in.Side.Keys() {
		if n := in.Info[k].NodeID; n != "" {
			return n
		}
	}
	return "unknown"
}
