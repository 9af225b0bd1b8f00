package translate

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// What OIDC and ext-auth share: who owns a merged field, Secret references,
// the cluster of an external service (its backendSettings:
// service_settings.go). Results are
// cached per (policy, parent): a policy attached to 10,000 routes is
// translated once and its settings are shared.

// spAuthState is the per-translation state of sp_oidc.go and sp_extauth.go.
type spAuthState struct {
	oidc    map[[2]*policy]spOIDCResult
	extAuth map[[2]*policy]spExtAuthResult
	// configMaps indexes the input's ConfigMaps (context extensions).
	configMaps map[nsName]*corev1.ConfigMap
}

type spOIDCResult struct {
	v   *ir.OIDC
	err error
}

type spExtAuthResult struct {
	v   *ir.ExtAuth
	err error
}

func (b *builder) spAuth() *spAuthState {
	if b.spAuthSt == nil {
		b.spAuthSt = &spAuthState{
			oidc:    map[[2]*policy]spOIDCResult{},
			extAuth: map[[2]*policy]spExtAuthResult{},
		}
	}
	return b.spAuthSt
}

// spFieldOwner is the policy a merged field comes from, as Envoy Gateway
// decides it: the route's policy when its own spec sets the field, else
// the parent it was merged onto. References (Secrets, backends) resolve in
// the owner's namespace and generated names carry the owner's name.
func spFieldOwner(e effective, has func(*egv1a1.SecurityPolicySpec) bool) *policy {
	if e.parent == nil {
		return e.policy
	}
	if own, ok := e.policy.spec.(*egv1a1.SecurityPolicySpec); ok && has(own) {
		return e.policy
	}
	return e.parent
}

// spConfigName is Envoy Gateway's name for what a policy configures:
// "securitypolicy/<namespace>/<name>".
func spConfigName(p *policy) string {
	return "securitypolicy/" + p.key.Namespace + "/" + p.key.Name
}

func spObjRef(p *policy) objRef {
	return objRef{group: resource.GroupEnvoyGateway, kind: "SecurityPolicy", namespace: p.key.Namespace, name: p.key.Name}
}

// spSecret resolves a Secret reference of owner's spec (field names it in
// messages). Another namespace needs a ReferenceGrant, as for any
// reference.
func (b *builder) spSecret(owner *policy, ref gwv1.SecretObjectReference, field string) (*corev1.Secret, error) {
	if ref.Group != nil && *ref.Group != "" {
		return nil, fmt.Errorf("%s: group %q is not supported (a Secret has the core group \"\")", field, *ref.Group)
	}
	if ref.Kind != nil && *ref.Kind != "Secret" {
		return nil, fmt.Errorf("%s: kind %q is not supported (want Secret)", field, *ref.Kind)
	}
	ns := owner.key.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	if !b.grants.allowed(spObjRef(owner), objRef{kind: "Secret", namespace: ns, name: string(ref.Name)}) {
		return nil, fmt.Errorf("%s: Secret %s/%s is in another namespace and no ReferenceGrant allows it", field, ns, ref.Name)
	}
	s := b.secrets[nsName{ns, string(ref.Name)}]
	if s == nil {
		return nil, fmt.Errorf("%s: Secret %s/%s does not exist", field, ns, ref.Name)
	}
	return s, nil
}

// spServiceDestination resolves the backendRefs of an external service
// (cfgType "oidc" or "extauth") into the one cluster its filter calls,
// named as Envoy Gateway names it: "securitypolicy/<ns>/<name>/<cfgType>/0".
// A backend that does not resolve is an error: the filter names one
// cluster, so there is no share of traffic to fail alone.
func (b *builder) spServiceDestination(owner *policy, cfgType string, cluster *egv1a1.BackendCluster, field string, grpc bool) (*ir.RouteDestination, string, error) {
	refs := cluster.BackendRefs
	if len(refs) == 0 && cluster.BackendRef != nil {
		refs = []egv1a1.BackendRef{{BackendObjectReference: *cluster.BackendRef}}
		field += ".backendRef"
	} else {
		field += ".backendRefs"
	}
	if len(refs) == 0 {
		return nil, "", fmt.Errorf("%s: no backend given", field)
	}
	name := strings.ToLower(fmt.Sprintf("securitypolicy/%s/%s/%s/0", owner.key.Namespace, owner.key.Name, cfgType))
	d := &ir.RouteDestination{
		Name:     name,
		Metadata: &ir.Metadata{Kind: "SecurityPolicy", Namespace: owner.key.Namespace, Name: owner.key.Name},
	}
	authority := ""
	for i := range refs {
		ref := &refs[i]
		where := fmt.Sprintf("%s[%d]", field, i)
		if len(refs) == 1 && cluster.BackendRef != nil && len(cluster.BackendRefs) == 0 {
			where = field
		}
		be, rerr := b.resolveBackend(spObjRef(owner), &ref.BackendObjectReference)
		if rerr != nil {
			return nil, "", fmt.Errorf("%s: %s", where, rerr.msg)
		}
		serviceFallback(be, ref)
		if authority == "" {
			authority = spBackendAuthority(b, &ref.BackendObjectReference, owner.key.Namespace)
		}
		weight := uint32(1)
		if ref.Weight != nil {
			weight = *ref.Weight
		}
		if weight == 0 {
			continue // Envoy Gateway leaves weight-0 backends out
		}
		be.Name = fmt.Sprintf("%s/backend/%d", name, i)
		be.Weight = weight
		if grpc {
			be.Protocol = ir.ProtocolHTTP2
		}
		if be.Protocol == ir.ProtocolWS {
			be.Protocol = ir.ProtocolHTTP1
		}
		d.Backends = append(d.Backends, be)
	}
	if len(d.Backends) == 0 {
		return nil, "", fmt.Errorf("%s: every backend has weight 0", field)
	}
	first := d.Backends[0]
	for _, be := range d.Backends[1:] {
		switch {
		case be.AddressType != first.AddressType:
			return nil, "", fmt.Errorf("%s: backends mix address types %s and %s; an external service is one cluster of one type", field, first.AddressType, be.AddressType)
		case be.Protocol != first.Protocol:
			return nil, "", fmt.Errorf("%s: backends mix protocols %s and %s; an external service is one cluster", field, first.Protocol, be.Protocol)
		}
	}
	if !ir.TLSMixable(d.Backends) {
		return nil, "", fmt.Errorf("%s: backends differ in TLS settings one cluster cannot mix (a server name from the request's Host beside a fixed one, or h2 offered by ALPN beside plain text); an external service is one cluster", field)
	}
	return d, authority, nil
}

// spBackendAuthority is the :authority Envoy Gateway gives requests to an
// external service: a Backend's first FQDN endpoint, a Service's
// "name.namespace:port", else "name.namespace".
func spBackendAuthority(b *builder, ref *gwv1.BackendObjectReference, policyNS string) string {
	ns := policyNS
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	kind := "Service"
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if kind == "Backend" {
		if st := b.egBackend[nsName{ns, string(ref.Name)}]; st != nil {
			for _, ep := range st.be.Spec.Endpoints {
				if ep.FQDN != nil {
					return net.JoinHostPort(ep.FQDN.Hostname, strconv.Itoa(int(ep.FQDN.Port)))
				}
			}
		}
	}
	if (kind == "Service" || kind == "ServiceImport") && ref.Port != nil {
		return net.JoinHostPort(string(ref.Name)+"."+ns, strconv.Itoa(int(*ref.Port)))
	}
	return string(ref.Name) + "." + ns
}

// retryDefaultOn is Envoy Gateway's retry_on for external services when
// retryOn names no trigger.
var retryDefaultOn = []string{"connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"}

func spServiceRetry(r *egv1a1.Retry, field string) (*ir.ServiceRetry, error) {
	if r == nil {
		return nil, nil
	}
	out := &ir.ServiceRetry{RetryOn: retryDefaultOn}
	if r.NumRetries != nil {
		if *r.NumRetries < 0 {
			return nil, fmt.Errorf("%s.numRetries: %d is negative", field, *r.NumRetries)
		}
		out.NumRetries = uint32(*r.NumRetries)
	}
	if r.RetryOn != nil && len(r.RetryOn.Triggers) > 0 {
		out.RetryOn = nil
		for _, t := range r.RetryOn.Triggers {
			out.RetryOn = append(out.RetryOn, string(t))
		}
	}
	if r.PerRetry != nil && r.PerRetry.BackOff != nil {
		bo := r.PerRetry.BackOff
		if bo.BaseInterval == nil || bo.MaxInterval == nil {
			return nil, fmt.Errorf("%s.perRetry.backOff: set both baseInterval and maxInterval", field)
		}
		base, err := parseDuration(*bo.BaseInterval)
		if err != nil {
			return nil, fmt.Errorf("%s.perRetry.backOff.baseInterval: %v", field, err)
		}
		maxI, err := parseDuration(*bo.MaxInterval)
		if err != nil {
			return nil, fmt.Errorf("%s.perRetry.backOff.maxInterval: %v", field, err)
		}
		if base <= 0 || maxI < base {
			return nil, fmt.Errorf("%s.perRetry.backOff: want 0 < baseInterval <= maxInterval", field)
		}
		out.BaseInterval, out.MaxInterval = base, maxI
	}
	return out, nil
}

// spDeprecatedMessage is Envoy Gateway's DeprecatedField warning for a
// SecurityPolicy: spec.targetRef, and the single backendRef of the
// ext-auth services. "" when none is used.
func spDeprecatedMessage(spec *egv1a1.SecurityPolicySpec) string {
	alt := map[string]string{}
	if spec.TargetRef != nil {
		alt["spec.targetRef"] = "spec.targetRefs"
	}
	if a := spec.ExtAuth; a != nil {
		if a.GRPC != nil && a.GRPC.BackendRef != nil {
			alt["spec.extAuth.grpc.backendRef"] = "spec.extAuth.grpc.backendRefs"
		}
		if a.HTTP != nil && a.HTTP.BackendRef != nil {
			alt["spec.extAuth.http.backendRef"] = "spec.extAuth.http.backendRefs"
		}
	}
	keys := make([]string, 0, len(alt))
	for k := range alt {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " is deprecated, use " + alt[k] + " instead"
	}
	return strings.Join(parts, "; ")
}
