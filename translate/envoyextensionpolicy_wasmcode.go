package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// buildWasm translates spec.wasm[i] of owner.
//
// Envoy Gateway downloads every module into its own cache and has Envoy
// fetch it from there; egctl has no server, so Envoy fetches an HTTP module
// from its URL itself (a cluster per host, named as Envoy Gateway names URL
// clusters) and checks it against the sha256 the policy gives, which is
// therefore required. An OCI image is resolved when egctl runs, by
// Options.WasmImages, and its module is put in the configuration inline.
func (b *builder) buildWasm(owner *policy, w *egv1a1.Wasm, i int) (*ir.Wasm, error) {
	field := fmt.Sprintf("spec.wasm[%d]", i)
	name := eepName(owner, "wasm", i)
	out := &ir.Wasm{Name: name, PluginName: name}
	if w.Name != nil && *w.Name != "" {
		out.PluginName = *w.Name
	}
	if w.RootID != nil {
		out.RootID = *w.RootID
	}
	if w.Config != nil && len(w.Config.Raw) > 0 {
		out.Config = string(w.Config.Raw)
	}
	out.FailOpen = w.FailOpen != nil && *w.FailOpen
	if w.Env != nil {
		for j, k := range w.Env.HostKeys {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				return nil, fieldErr(fmt.Sprintf("%s.env.hostKeys[%d]", field, j), "%q is not an environment variable name", k)
			}
		}
		out.HostEnvKeys = append([]string(nil), w.Env.HostKeys...)
	}
	if pp := w.Code.PullPolicy; pp != nil && *pp != egv1a1.ImagePullPolicyIfNotPresent && *pp != egv1a1.ImagePullPolicyAlways {
		return nil, fieldErr(field+".code.pullPolicy", "unknown value %q (IfNotPresent or Always)", *pp)
	}
	from := objRef{group: resource.GroupEnvoyGateway, kind: owner.kind.name, namespace: owner.key.Namespace, name: owner.key.Name}
	switch w.Code.Type {
	case egv1a1.HTTPWasmCodeSourceType:
		h := w.Code.HTTP
		if h == nil || w.Code.Image != nil {
			return nil, fieldErr(field+".code", "type HTTP needs http (and no image)")
		}
		sum := ""
		if h.SHA256 != nil {
			sum = *h.SHA256
		}
		rs, err := b.remoteSource(from, field+".code.http", h.URL, sum, h.TLS)
		if err != nil {
			return nil, err
		}
		out.Code = &ir.ExtensionCode{Remote: rs}
	case egv1a1.ImageWasmCodeSourceType:
		img := w.Code.Image
		if img == nil || w.Code.HTTP != nil {
			return nil, fieldErr(field+".code", "type Image needs image (and no http)")
		}
		code, err := b.wasmImage(from, field+".code.image", img)
		if err != nil {
			return nil, err
		}
		out.Code = code
	default:
		return nil, fieldErr(field+".code.type", "unknown type %q (HTTP or Image)", w.Code.Type)
	}
	return out, nil
}

var sha256Hex = regexp.MustCompile(`^[a-f0-9]{64}$`)

// remoteSource checks an http(s) URL Envoy is to fetch code from and names
// the cluster it fetches through.
func (b *builder) remoteSource(from objRef, field, raw, sum string, tls *egv1a1.WasmCodeSourceTLSConfig) (*ir.RemoteSource, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fieldErr(field+".url", "%q is not an http or https URL", raw)
	}
	if u.User != nil {
		return nil, fieldErr(field+".url", "credentials in the URL are not supported")
	}
	if sum == "" {
		return nil, fieldErr(field+".sha256", "required by egctl: Envoy fetches the module from %s itself and must check it against a checksum "+
			"(Envoy Gateway computes one by downloading the module to its cache; egctl works offline)", raw)
	}
	if !sha256Hex.MatchString(sum) {
		return nil, fieldErr(field+".sha256", "%q is not 64 lowercase hex digits", sum)
	}
	port := uint32(80)
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return nil, fieldErr(field+".url", "port %q is out of range", p)
		}
		port = uint32(n)
	}
	host := u.Hostname()
	rs := &ir.RemoteSource{
		URL: raw, SHA256: sum, Host: host, Port: port, TLS: u.Scheme == "https",
		Cluster: urlClusterName(host, port),
	}
	if tls != nil {
		if !rs.TLS {
			return nil, fieldErr(field+".tls", "set for an http URL; TLS settings need https")
		}
		ref := tls.CACertificateRef
		group, kind := "", "Secret"
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		pemText, _, msg := b.resolveCA(from, group, kind, namespaceOr(ref.Namespace, from.namespace), string(ref.Name))
		if msg != "" {
			return nil, fieldErr(field+".tls.caCertificateRef", "%s", msg)
		}
		rs.CACertificate = pemText
		// One cluster per host and port: a second CA for the same host
		// would need a second name.
		rs.Cluster += "/" + shortHash(pemText)
	}
	return rs, nil
}

// urlClusterName is Envoy Gateway's name for a cluster reaching a URL's host:
// "host_port" with the host's dots made underscores.
func urlClusterName(host string, port uint32) string {
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = strings.ReplaceAll(host, ":", "_")
	}
	return strings.ReplaceAll(host, ".", "_") + "_" + strconv.Itoa(int(port))
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}
