package ir

import (
	"encoding/json"
	"fmt"
)

// EnvoyPatch is one EnvoyPatchPolicy's JSON patches, applied to the
// proxy's finished xDS resources. A proxy's patches are in the order they
// apply: priority, then age, then namespace/name.
type EnvoyPatch struct {
	// Policy is "namespace/name" of the EnvoyPatchPolicy.
	Policy   string
	Priority int32 `json:",omitempty"`
	Patches  []JSONPatch
	// Shared marks a policy applied to several proxies (a GatewayClass
	// target): a patch whose resource one proxy lacks is not an error
	// there, only when no proxy of the class has it (see PatchResult).
	Shared bool `json:",omitempty"`
}

// Envoy resource type URLs a patch may name.
const (
	TypeListener    = "type.googleapis.com/envoy.config.listener.v3.Listener"
	TypeRouteConfig = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	TypeCluster     = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	TypeEndpoints   = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	TypeSecret      = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
)

// JSONPatch is one operation on one resource: Type is its type URL, Name
// its name. Path is a JSON pointer (RFC 6901) into the resource as
// protojson prints it with proto field names; JSONPath, when set, selects
// the locations instead (Path is then appended to each). An "add" with
// neither adds Value as a whole new resource.
type JSONPatch struct {
	Type     string
	Name     string
	Op       string
	Path     string          `json:",omitempty"`
	JSONPath string          `json:",omitempty"`
	From     string          `json:",omitempty"`
	Value    json.RawMessage `json:",omitempty"`
	// HasPath and HasFrom tell an empty Path / From ("" is the whole
	// document) from none.
	HasPath bool `json:",omitempty"`
	HasFrom bool `json:",omitempty"`
}

// PatchResult is what applying one policy's patches to one proxy came to.
// xds produces it; translate turns it into the policy's status.
type PatchResult struct {
	// Policy is "namespace/name"; Proxy the proxy's name.
	Policy string
	Proxy  string
	// NotFound lists the resources ("<type URL>/<name>") the proxy does
	// not have. With a Shared policy only those no proxy has are errors.
	NotFound []string `json:",omitempty"`
	// Errors are patches that could not be applied or whose result
	// Envoy would reject. Any error means none of the policy's patches
	// were applied to the proxy.
	Errors []string `json:",omitempty"`
	// Applied counts the operations applied.
	Applied int
}

// validatePatches checks what xds relies on.
func (p *Proxy) validatePatches() error {
	for i, ep := range p.Patches {
		if ep == nil || ep.Policy == "" {
			return fmt.Errorf("proxy %s: patches[%d]: no policy", p.Name, i)
		}
	}
	return nil
}

// HasPatches reports whether any proxy of c has EnvoyPatchPolicy patches.
func (c *Config) HasPatches() bool {
	for _, p := range c.Proxies {
		if p != nil && len(p.Patches) > 0 {
			return true
		}
	}
	return false
}

// redactPatches hides the values patches write into secrets.
func redactPatches(in []*EnvoyPatch) []*EnvoyPatch {
	var out []*EnvoyPatch
	for i, ep := range in {
		secret := false
		for _, p := range ep.Patches {
			secret = secret || (p.Type == TypeSecret && p.Value != nil)
		}
		if !secret {
			continue
		}
		if out == nil {
			out = append([]*EnvoyPatch(nil), in...)
		}
		cp := *ep
		cp.Patches = append([]JSONPatch(nil), ep.Patches...)
		for j := range cp.Patches {
			if cp.Patches[j].Type == TypeSecret && cp.Patches[j].Value != nil {
				cp.Patches[j].Value = json.RawMessage(`"` + Redacted + `"`)
			}
		}
		out[i] = &cp
	}
	if out == nil {
		return in
	}
	return out
}
