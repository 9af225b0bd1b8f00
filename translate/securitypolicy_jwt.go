package translate

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/egctl/egctl/ir"
)

const (
	// jwksCacheDuration is the CRD's default for remoteJWKS.cacheDuration.
	jwksCacheDuration = 300 * time.Second
	// jwksTimeout bounds one key-set fetch, as Envoy Gateway sets it.
	jwksTimeout = 10 * time.Second
	// jwksConfigMapKey is the ConfigMap key localJWKS.valueRef reads.
	jwksConfigMapKey = "jwks"
)

// translateJWT: spec.jwt. owner is the policy the providers came from
// (merge), whose namespace references resolve in.
func (b *builder) translateJWT(owner *policy, j *egv1a1.JWT) (*ir.JWT, error) {
	const field = "spec.jwt"
	optional := j.Optional != nil && *j.Optional
	failOpen := j.FailOpen != nil && *j.FailOpen
	if j.Optional != nil && j.FailOpen != nil {
		return nil, fmt.Errorf("%s: optional and failOpen cannot both be set; failOpen already tolerates a missing JWT (the CRD rejects it)", field)
	}
	if n := len(j.Providers); n == 0 || n > 16 {
		return nil, fmt.Errorf("%s.providers: %d providers, want 1 to 16 (the CRD requires it)", field, n)
	}
	out := &ir.JWT{AllowMissing: optional, AllowMissingOrFailed: failOpen}
	names := map[string]bool{}
	for i := range j.Providers {
		p := &j.Providers[i]
		f := fmt.Sprintf("%s.providers[%d]", field, i)
		if p.Name == "" {
			return nil, fmt.Errorf("%s.name: empty", f)
		}
		if errs := validation.IsQualifiedName(p.Name); len(errs) > 0 {
			return nil, fmt.Errorf("%s.name %q: %s", f, p.Name, strings.Join(errs, "; "))
		}
		if names[p.Name] {
			return nil, fmt.Errorf("%s.name: provider name %q repeats; names must be unique", f, p.Name)
		}
		names[p.Name] = true
		ip, err := b.translateJWTProvider(owner, p, f, i)
		if err != nil {
			return nil, err
		}
		out.Providers = append(out.Providers, *ip)
	}
	return out, nil
}

func (b *builder) translateJWTProvider(owner *policy, p *egv1a1.JWTProvider, f string, index int) (*ir.JWTProvider, error) {
	out := &ir.JWTProvider{Name: p.Name, Issuer: p.Issuer}
	if err := checkIssuer(p.Issuer); err != nil {
		return nil, fmt.Errorf("%s.issuer: %v", f, err)
	}
	if len(p.Audiences) > 8 {
		return nil, fmt.Errorf("%s.audiences: %d audiences, at most 8 (the CRD rejects more)", f, len(p.Audiences))
	}
	out.Audiences = append([]string(nil), p.Audiences...)
	switch {
	case p.RemoteJWKS != nil && p.LocalJWKS != nil:
		return nil, fmt.Errorf("%s: remoteJWKS and localJWKS cannot both be specified", f)
	case p.RemoteJWKS != nil:
		r, err := b.translateRemoteJWKS(owner, p.RemoteJWKS, f+".remoteJWKS", index)
		if err != nil {
			return nil, err
		}
		out.RemoteJWKS = r
	case p.LocalJWKS != nil:
		l, err := b.localJWKS(owner, p.LocalJWKS, f+".localJWKS")
		if err != nil {
			return nil, err
		}
		out.LocalJWKS = l
	default:
		return nil, fmt.Errorf("%s: either remoteJWKS or localJWKS must be specified", f)
	}
	for k, c := range p.ClaimToHeaders {
		if err := checkHeaderName(c.Header); err != nil {
			return nil, fmt.Errorf("%s.claimToHeaders[%d].header: %v", f, k, err)
		}
		if c.Claim == "" {
			return nil, fmt.Errorf("%s.claimToHeaders[%d].claim: empty", f, k)
		}
		out.ClaimToHeaders = append(out.ClaimToHeaders, ir.ClaimToHeader{Header: c.Header, Claim: c.Claim})
	}
	if p.RecomputeRoute != nil && *p.RecomputeRoute {
		if len(p.ClaimToHeaders) == 0 {
			return nil, fmt.Errorf("%s.recomputeRoute: claimToHeaders must be specified if recomputeRoute is enabled (the CRD requires it)", f)
		}
		out.RecomputeRoute = true
	}
	if x := p.ExtractFrom; x != nil {
		e := &ir.JWTExtractor{}
		for k, h := range x.Headers {
			if err := checkHeaderName(h.Name); err != nil {
				return nil, fmt.Errorf("%s.extractFrom.headers[%d].name: %v", f, k, err)
			}
			jh := ir.JWTHeader{Name: h.Name}
			if h.ValuePrefix != nil {
				jh.ValuePrefix = *h.ValuePrefix
			}
			e.Headers = append(e.Headers, jh)
		}
		for k, c := range x.Cookies {
			if c == "" {
				return nil, fmt.Errorf("%s.extractFrom.cookies[%d]: empty", f, k)
			}
		}
		for k, q := range x.Params {
			if q == "" {
				return nil, fmt.Errorf("%s.extractFrom.params[%d]: empty", f, k)
			}
		}
		e.Cookies = append([]string(nil), x.Cookies...)
		e.Params = append([]string(nil), x.Params...)
		if len(e.Headers)+len(e.Cookies)+len(e.Params) == 0 {
			// Envoy would then look nowhere and refuse every request;
			// Envoy Gateway's default (no extractFrom) is the Bearer header.
			return nil, fmt.Errorf("%s.extractFrom: names no header, cookie or parameter; remove it for the Authorization: Bearer default", f)
		}
		out.ExtractFrom = e
	}
	return out, nil
}

// checkIssuer applies the StringOrURI rule (RFC 7519 4.1.1) as Envoy
// Gateway does: with ':' it must be a URI, with '@' an email address.
func checkIssuer(iss string) error {
	switch {
	case iss == "":
		return nil
	case len(iss) > 253:
		return fmt.Errorf("longer than 253 characters (the CRD rejects it)")
	case strings.Contains(iss, ":"):
		if _, err := url.ParseRequestURI(iss); err != nil {
			return fmt.Errorf("%q contains ':' but is not a valid URI", iss)
		}
	case strings.Contains(iss, "@"):
		if _, err := mail.ParseAddress(iss); err != nil {
			return fmt.Errorf("%q contains '@' but is not a valid email address", iss)
		}
	}
	return nil
}

// translateRemoteJWKS resolves where keys are fetched: the backendRefs
// when given (cluster "securitypolicy/ns/name/jwt/I"), else the URI's host
// (cluster "host_port"). https is verified against the system trust store
// unless a BackendTLSPolicy on the backend says otherwise.
func (b *builder) translateRemoteJWKS(owner *policy, r *egv1a1.RemoteJWKS, f string, index int) (*ir.RemoteJWKS, error) {
	u, err := url.Parse(r.URI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("%s.uri: %q is not an http or https URL", f, r.URI)
	}
	if len(r.URI) > 253 {
		return nil, fmt.Errorf("%s.uri: longer than 253 characters (the CRD rejects it)", f)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if u.Port() != "" {
		port, err = strconv.Atoi(u.Port())
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("%s.uri: port %q out of range", f, u.Port())
		}
	}
	host := u.Hostname()
	out := &ir.RemoteJWKS{URI: r.URI, CacheDuration: jwksCacheDuration, Timeout: jwksTimeout}
	if r.CacheDuration != nil {
		if out.CacheDuration, err = parseDuration(*r.CacheDuration); err != nil {
			return nil, fmt.Errorf("%s.cacheDuration: %v", f, err)
		}
	}
	if r.FailedRefetchDuration != nil {
		if out.FailedRefetchDuration, err = parseDuration(*r.FailedRefetchDuration); err != nil {
			return nil, fmt.Errorf("%s.failedRefetchDuration: %v", f, err)
		}
	}
	if r.BackendRef != nil {
		return nil, fmt.Errorf("%s.backendRef: use backendRefs; backendRef is not supported here (the CRD rejects it)", f)
	}
	_, isIP := netip.ParseAddr(host)
	ipHost := isIP == nil
	systemTLS := func() (*ir.BackendTLS, error) {
		if ipHost {
			return nil, fmt.Errorf("%s.uri: https to an IP address cannot be verified against the system trust store; use a host name, or backendRefs with a BackendTLSPolicy", f)
		}
		return &ir.BackendTLS{SNI: host, UseSystemCA: true, FromURL: true}, nil
	}
	if len(r.BackendRefs) > 0 {
		name := fmt.Sprintf("securitypolicy/%s/%s/jwt/%d", owner.meta.Namespace, owner.meta.Name, index)
		d, err := b.spDestination(owner, f+".backendRefs", name, r.BackendRefs)
		if err != nil {
			return nil, err
		}
		if u.Scheme == "https" {
			for i, be := range d.Backends {
				if be.TLS != nil {
					continue
				}
				t, err := systemTLS()
				if err != nil {
					return nil, err
				}
				nb := *be
				nb.TLS = t
				d.Backends[i] = &nb
			}
		}
		out.Destination = d
	} else {
		name := strings.ReplaceAll(host, ".", "_") + "_" + strconv.Itoa(port)
		be := &ir.Backend{
			Name:        name + "/backend/-1",
			Weight:      1,
			AddressType: ir.AddressFQDN,
			Endpoints:   []ir.Endpoint{{Host: host, Port: uint32(port)}},
			Protocol:    ir.ProtocolHTTP1,
		}
		if ipHost {
			be.AddressType = ir.AddressIP
		}
		if u.Scheme == "https" {
			if be.TLS, err = systemTLS(); err != nil {
				return nil, err
			}
		}
		out.Destination = &ir.RouteDestination{Name: name, Backends: []*ir.Backend{be}}
	}
	// A fetch honours the retry and request timeout of backendSettings;
	// the rest shapes the key-set cluster (service_settings.go).
	ss, err := extServiceSettings(r.BackendSettings, f, "")
	if err != nil {
		return nil, err
	}
	if err := withClusterSettings(out.Destination, ss.cluster, f); err != nil {
		return nil, err
	}
	out.Retry = ss.retry
	if ss.timeout > 0 {
		out.Timeout = ss.timeout
	}
	return out, nil
}

// localJWKS reads an inline key set or the one in a ConfigMap, and checks
// it is one: a malformed set would make every token fail at run time.
func (b *builder) localJWKS(owner *policy, l *egv1a1.LocalJWKS, f string) (string, error) {
	typ := egv1a1.LocalJWKSTypeInline
	if l.Type != nil {
		typ = *l.Type
	}
	var jwks string
	switch typ {
	case egv1a1.LocalJWKSTypeInline:
		if l.Inline == nil || l.ValueRef != nil {
			return "", fmt.Errorf("%s: type Inline takes inline and no valueRef (the CRD requires it)", f)
		}
		jwks = *l.Inline
	case egv1a1.LocalJWKSTypeValueRef:
		if l.ValueRef == nil || l.Inline != nil {
			return "", fmt.Errorf("%s: type ValueRef takes valueRef and no inline (the CRD requires it)", f)
		}
		ref := l.ValueRef
		if ref.Group != "" || ref.Kind != "ConfigMap" {
			return "", fmt.Errorf("%s.valueRef: %s is not a ConfigMap", f, groupKind(string(ref.Group), string(ref.Kind)))
		}
		cm := b.spConfigMap(owner.meta.Namespace, string(ref.Name))
		if cm == nil {
			return "", fmt.Errorf("%s.valueRef: ConfigMap %s/%s not found", f, owner.meta.Namespace, ref.Name)
		}
		if v, ok := cm.Data[jwksConfigMapKey]; ok {
			jwks = v
		} else if len(cm.Data) > 0 {
			// Envoy Gateway takes "the first value" without a key jwks;
			// map order is random, so egctl takes the first key in order.
			keys := make([]string, 0, len(cm.Data))
			for k := range cm.Data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			jwks = cm.Data[keys[0]]
		} else {
			return "", fmt.Errorf("%s.valueRef: ConfigMap %s/%s has no data", f, cm.Namespace, cm.Name)
		}
	default:
		return "", fmt.Errorf("%s.type: unknown type %q (Inline or ValueRef)", f, typ)
	}
	if err := checkJWKS(jwks); err != nil {
		return "", fmt.Errorf("%s: %v", f, err)
	}
	return jwks, nil
}

// checkJWKS requires a JSON Web Key Set with at least one key, each with a
// key type. Messages never quote key material.
func checkJWKS(s string) error {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(s), &set); err != nil {
		return fmt.Errorf("not a JSON Web Key Set (RFC 7517): the JSON does not parse")
	}
	if len(set.Keys) == 0 {
		return fmt.Errorf("the JSON Web Key Set has no keys")
	}
	for i, k := range set.Keys {
		if kty, _ := k["kty"].(string); kty == "" {
			return fmt.Errorf("key %d of the JSON Web Key Set has no kty", i)
		}
	}
	return nil
}
