package egcompat

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/translate"
)

// What ClientTrafficPolicies did to each listener, compared field by field:
// both sides are brought to one flat view ("timeout.http.idle=10s") with
// defaults left out, so a line differs only when the settings do.

func init() { kindComparers = append(kindComparers, compareCTPSettings) }

// egListener is one listener of EG's xdsIR, as generic YAML.
type egListener = map[string]any

func compareCTPSettings(c *egCase, res *translate.Result) []string {
	if len(c.In.ClientTrafficPolicies) == 0 || res.IR == nil {
		return nil
	}
	var raw struct {
		XdsIR map[string]struct {
			HTTP []egListener `json:"http"`
			TCP  []egListener `json:"tcp"`
		} `json:"xdsIR"`
	}
	if err := yaml.Unmarshal(c.WantRaw, &raw); err != nil {
		return []string{"CTP settings: " + err.Error()}
	}
	want := map[string][]string{}
	for _, p := range raw.XdsIR {
		for _, l := range p.HTTP {
			want["http "+str(l["name"])] = egCTPView(l, true)
		}
		for _, l := range p.TCP {
			want["tcp "+str(l["name"])] = egCTPView(l, false)
		}
	}
	got := map[string][]string{}
	for _, p := range res.IR.Proxies {
		for _, l := range p.HTTP {
			got["http "+l.Name] = ourCTPView(l.Client, l.TLS, true)
		}
		for _, l := range p.TCP {
			got["tcp "+l.Name] = ourCTPView(l.Client, l.TLS, false)
		}
	}
	var out []string
	for _, k := range sortedKeys(want) {
		g, ok := got[k]
		if !ok {
			continue // a missing listener is reported by compareIR
		}
		if a, b := strings.Join(want[k], " "), strings.Join(g, " "); a != b {
			out = append(out, fmt.Sprintf("CTP settings %s: EG=[%s] egctl=[%s]", k, a, b))
		}
	}
	return out
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		// YAML numbers decode as float64; print whole ones as integers.
		if x == float64(int64(x)) {
			return fmt.Sprint(int64(x))
		}
	}
	return fmt.Sprint(v)
}

// get walks a path of keys into generic YAML.
func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

func dur(v any) string {
	if v == nil {
		return ""
	}
	d, err := time.ParseDuration(str(v))
	if err != nil {
		return str(v)
	}
	return d.String()
}

func list(v any) string {
	l, _ := v.([]any)
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = str(e)
	}
	return strings.Join(parts, ",")
}

func cidr(s string) string {
	if _, nw, err := net.ParseCIDR(s); err == nil {
		return nw.String()
	}
	return s
}

type view []string

func (v *view) add(k, val string) {
	if val != "" && val != "false" && val != "0" {
		*v = append(*v, k+"="+val)
	}
}

// egCTPView flattens what EG's xdsIR says of one listener.
func egCTPView(l egListener, http bool) []string {
	var v view
	if ip := get(l, "clientIPDetection"); ip != nil {
		v.add("clientIP.xffHops", str(get(ip, "xForwardedFor", "numTrustedHops")))
		var cidrs []string
		for _, c := range asList(get(ip, "xForwardedFor", "trustedCIDRs")) {
			cidrs = append(cidrs, cidr(str(c)))
		}
		v.add("clientIP.xffCIDRs", strings.Join(cidrs, ","))
		v.add("clientIP.skipAppend", str(get(ip, "xForwardedFor", "disableXForwardedForAppend")))
		v.add("clientIP.header", str(get(ip, "customHeader", "name")))
		v.add("clientIP.failClosed", str(get(ip, "customHeader", "failClosed")))
		if get(ip, "directSourceIP") != nil {
			v.add("clientIP.direct", "true")
		}
	}
	if a := str(get(l, "path", "escapedSlashesAction")); a != "UnescapeAndRedirect" {
		v.add("path.escapedSlashes", a)
	}
	if m := get(l, "path", "mergeSlashes"); m == false {
		v.add("path.disableMergeSlashes", "true")
	}
	if h := get(l, "headers"); h != nil {
		v.add("headers.envoy", str(get(h, "enableEnvoyHeaders")))
		v.add("headers.noRateLimit", str(get(h, "disableRateLimitHeaders")))
		if u := str(get(h, "withUnderscoresAction")); u != "RejectRequest" {
			v.add("headers.underscores", u)
		}
		v.add("headers.requestID", str(get(h, "requestID")))
		if m := str(get(h, "xForwardedClientCert", "mode")); m != "Sanitize" {
			v.add("headers.xfcc", m)
		}
		v.add("headers.xfccDetails", list(get(h, "xForwardedClientCert", "certDetailsToAdd")))
		for _, w := range []struct{ key, add, rm, rmMatch string }{
			{"early", "earlyAddRequestHeaders", "earlyRemoveRequestHeaders", "earlyRemoveRequestHeadersOnMatch"},
			{"late", "lateAddResponseHeaders", "lateRemoveResponseHeaders", "lateRemoveResponseHeadersOnMatch"},
		} {
			var set, add, ifAbsent []string
			for _, e := range asList(get(h, w.add)) {
				n := str(get(e, "name")) + ":" + list(get(e, "value"))
				switch {
				case get(e, "addIfAbsent") == true:
					ifAbsent = append(ifAbsent, n)
				case get(e, "append") == true:
					add = append(add, n)
				default:
					set = append(set, n)
				}
			}
			v.add("headers."+w.key+".set", strings.Join(set, ","))
			v.add("headers."+w.key+".add", strings.Join(add, ","))
			v.add("headers."+w.key+".addIfAbsent", strings.Join(ifAbsent, ","))
			v.add("headers."+w.key+".remove", list(get(h, w.rm)))
			v.add("headers."+w.key+".removeOnMatch", fmt.Sprint(len(asList(get(h, w.rmMatch)))))
		}
	}
	v.add("headers.stripTrailingHostDot", str(get(l, "host", "stripTrailingHostDot")))
	if http {
		for _, f := range []string{"requestReceivedTimeout", "requestHeadersReceivedTimeout", "idleTimeout", "streamIdleTimeout"} {
			v.add("timeout.http."+f, dur(get(l, "timeout", "http", f)))
		}
	} else {
		v.add("timeout.tcp.idleTimeout", dur(get(l, "timeout", "tcp", "idleTimeout")))
	}
	v.add("timeout.tcp.tlsHandshakeTimeout", dur(get(l, "timeout", "tcp", "tlsHandshakeTimeout")))
	v.add("timeout.tcp.connectionInspectionTimeout", dur(get(l, "timeout", "tcp", "connectionInspectionTimeout")))
	if c := get(l, "connection"); c != nil {
		v.add("connection.limit", str(get(c, "limit", "value")))
		v.add("connection.closeDelay", dur(get(c, "limit", "closeDelay")))
		v.add("connection.maxConnectionDuration", dur(get(c, "limit", "maxConnectionDuration")))
		if http {
			v.add("connection.maxRequestsPerConnection", str(get(c, "limit", "maxRequestsPerConnection")))
			v.add("connection.maxStreamDuration", dur(get(c, "limit", "maxStreamDuration")))
		}
		v.add("connection.bufferLimit", str(get(c, "bufferLimit")))
		if m := str(get(c, "maxAcceptPerSocketEvent")); m != "1" {
			v.add("connection.maxAcceptPerSocketEvent", m)
		}
	}
	if k := get(l, "tcpKeepalive"); k != nil {
		v.add("tcpKeepalive", "on")
		v.add("tcpKeepalive.probes", str(get(k, "probes")))
		v.add("tcpKeepalive.idleTime", str(get(k, "idleTime")))
		v.add("tcpKeepalive.interval", str(get(k, "interval")))
	}
	if pp := get(l, "proxyProtocol"); pp != nil {
		v.add("proxyProtocol", "on")
		v.add("proxyProtocol.optional", str(get(pp, "optional")))
	}
	if h := get(l, "http1"); h != nil {
		v.add("http1.trailers", str(get(h, "enableTrailers")))
		v.add("http1.preserveHeaderCase", str(get(h, "preserveHeaderCase")))
		if h10 := get(h, "http10"); h10 != nil {
			v.add("http1.http10", "on")
			v.add("http1.http10.defaultHost", str(get(h10, "defaultHost")))
		}
		v.add("http1.disableSafeMaxConnectionDuration", str(get(h, "disableSafeMaxConnectionDuration")))
		v.add("http1.ignoredUpgradeTypes", fmt.Sprint(len(asList(get(h, "ignoredUpgradeTypes")))))
	}
	if h := get(l, "http2"); h != nil {
		// EG's IR (internal/ir/xds.go HTTP2Settings) prints each window
		// size under the other's JSON name; the values are right.
		v.add("http2.initialStreamWindowSize", str(get(h, "initialConnectionWindowSize")))
		v.add("http2.initialConnectionWindowSize", str(get(h, "initialStreamWindowSize")))
		v.add("http2.maxConcurrentStreams", str(get(h, "maxConcurrentStreams")))
		if r := get(h, "resetStreamOnError"); r != nil {
			v.add("http2.resetStreamOnError", fmt.Sprint(r))
		}
		for _, f := range []string{"interval", "timeout", "idleInterval"} {
			v.add("http2.keepalive."+f, dur(get(h, "connectionKeepalive", f)))
		}
		v.add("http2.keepalive.jitter", str(get(h, "connectionKeepalive", "intervalJitter")))
	}
	if get(l, "http3") != nil {
		v.add("http3", "on")
	}
	v.add("healthCheck", str(get(l, "healthCheck", "path")))
	if t := get(l, "tls"); t != nil {
		if m := str(get(t, "minVersion")); m != "1.2" {
			v.add("tls.min", m)
		}
		if m := str(get(t, "maxVersion")); m != "1.3" {
			v.add("tls.max", m)
		}
		v.add("tls.ciphers", list(get(t, "ciphers")))
		if a, ok := get(t, "alpnProtocols").([]any); ok {
			if len(a) == 0 {
				v.add("tls.alpn", "off")
			} else {
				v.add("tls.alpn", list(a))
			}
		}
		v.add("tls.curves", list(get(t, "ecdhCurves")))
		v.add("tls.sigalgs", list(get(t, "signatureAlgorithms")))
		v.add("tls.fingerprints", list(get(t, "fingerprints")))
		v.add("tls.stateless", str(get(t, "statelessSessionResumption")))
		v.add("tls.stateful", str(get(t, "statefulSessionResumption")))
		if get(t, "caCertificate") != nil || get(t, "clientValidationEnabled") == true {
			v.add("tls.clientValidation", "on")
			v.add("tls.requireClientCert", str(get(t, "requireClientCertificate")))
			v.add("tls.acceptUntrusted", str(get(t, "acceptUntrusted")))
			v.add("tls.ca", fmt.Sprint(get(t, "caCertificate") != nil))
			v.add("tls.crl", fmt.Sprint(get(t, "crl") != nil))
			v.add("tls.spki", list(get(t, "verifyCertificateSpki")))
			v.add("tls.hash", list(get(t, "verifyCertificateHash")))
			v.add("tls.sans", fmt.Sprint(len(asList(get(t, "matchTypedSubjectAltNames")))))
			v.add("tls.allowExpired", str(get(t, "allowExpiredCertificate")))
		}
	}
	sort.Strings(v)
	return v
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// ourCTPView flattens egctl's IR listener the same way.
func ourCTPView(c *ir.ClientSettings, t *ir.TLSConfig, http bool) []string {
	var v view
	d := func(x *ir.ClientDuration) string {
		if x == nil {
			return ""
		}
		return x.D().String()
	}
	u := func(x *uint32) string {
		if x == nil {
			return ""
		}
		return fmt.Sprint(*x)
	}
	if c != nil {
		if h := c.HTTP; h != nil {
			if ip := h.ClientIP; ip != nil {
				v.add("clientIP.xffHops", u(ip.XFFTrustedHops))
				v.add("clientIP.xffCIDRs", strings.Join(ip.XFFTrustedCIDRs, ","))
				v.add("clientIP.skipAppend", fmt.Sprint(ip.SkipXFFAppend))
				v.add("clientIP.header", ip.CustomHeader)
				v.add("clientIP.failClosed", fmt.Sprint(ip.CustomHeaderFailClosed))
				v.add("clientIP.direct", fmt.Sprint(ip.DirectSourceIP))
			}
			v.add("path.escapedSlashes", strings.TrimPrefix(h.EscapedSlashes, "UnescapeAndRedirect"))
			v.add("path.disableMergeSlashes", fmt.Sprint(h.DisableMergeSlashes))
			if hd := h.Headers; hd != nil {
				v.add("headers.envoy", fmt.Sprint(hd.EnableEnvoyHeaders))
				v.add("headers.noRateLimit", fmt.Sprint(hd.DisableRateLimitHeaders))
				v.add("headers.underscores", strings.TrimPrefix(hd.WithUnderscores, "RejectRequest"))
				v.add("headers.requestID", hd.RequestID)
				if hd.XFCCMode != "Sanitize" {
					v.add("headers.xfcc", hd.XFCCMode)
				}
				v.add("headers.xfccDetails", strings.Join(hd.XFCCDetails, ","))
				for _, w := range []struct {
					key string
					m   *ir.HeaderMutation
				}{{"early", hd.EarlyRequestHeaders}, {"late", hd.LateResponseHeaders}} {
					if w.m == nil {
						continue
					}
					hs := func(l []ir.Header) string {
						parts := make([]string, len(l))
						for i, x := range l {
							parts[i] = x.Name + ":" + x.Value
						}
						return strings.Join(parts, ",")
					}
					v.add("headers."+w.key+".set", hs(w.m.Set))
					v.add("headers."+w.key+".add", hs(w.m.Add))
					v.add("headers."+w.key+".addIfAbsent", hs(w.m.AddIfAbsent))
					v.add("headers."+w.key+".remove", strings.Join(w.m.Remove, ","))
					v.add("headers."+w.key+".removeOnMatch", fmt.Sprint(len(w.m.RemoveOnMatch)))
				}
				v.add("headers.stripTrailingHostDot", fmt.Sprint(hd.StripTrailingHostDot))
			}
			v.add("timeout.http.requestReceivedTimeout", d(h.RequestTimeout))
			v.add("timeout.http.requestHeadersReceivedTimeout", d(h.RequestHeadersTimeout))
			v.add("timeout.http.idleTimeout", d(h.IdleTimeout))
			v.add("timeout.http.streamIdleTimeout", d(h.StreamIdleTimeout))
			v.add("connection.maxRequestsPerConnection", u(h.MaxRequestsPerConnection))
			v.add("connection.maxStreamDuration", d(h.MaxStreamDuration))
			if http {
				v.add("connection.maxConnectionDuration", d(h.MaxConnectionDuration))
			}
			if h1 := h.HTTP1; h1 != nil {
				v.add("http1.trailers", fmt.Sprint(h1.EnableTrailers))
				v.add("http1.preserveHeaderCase", fmt.Sprint(h1.PreserveHeaderCase))
				if h1.HTTP10 {
					v.add("http1.http10", "on")
					v.add("http1.http10.defaultHost", h1.HTTP10DefaultHost)
				}
				v.add("http1.disableSafeMaxConnectionDuration", fmt.Sprint(h1.DisableSafeMaxConnectionDuration))
				v.add("http1.ignoredUpgradeTypes", fmt.Sprint(len(h1.IgnoredUpgradeTypes)))
			}
			if h2 := h.HTTP2; h2 != nil {
				v.add("http2.initialStreamWindowSize", u(h2.InitialStreamWindowSize))
				v.add("http2.initialConnectionWindowSize", u(h2.InitialConnectionWindowSize))
				v.add("http2.maxConcurrentStreams", u(h2.MaxConcurrentStreams))
				if h2.ResetStreamOnError != nil {
					v.add("http2.resetStreamOnError", fmt.Sprint(*h2.ResetStreamOnError))
				}
				if k := h2.Keepalive; k != nil {
					v.add("http2.keepalive.interval", d(k.Interval))
					v.add("http2.keepalive.timeout", d(k.Timeout))
					v.add("http2.keepalive.idleInterval", d(k.IdleInterval))
					v.add("http2.keepalive.jitter", u(k.IntervalJitter))
				}
			}
			if h.HTTP3 {
				v.add("http3", "on")
			}
			v.add("healthCheck", h.HealthCheckPath)
		}
		if ch := c.Chain; ch != nil {
			if l := ch.ConnectionLimit; l != nil {
				v.add("connection.limit", fmt.Sprint(l.Max))
				v.add("connection.closeDelay", d(l.CloseDelay))
			}
			if !http {
				v.add("timeout.tcp.idleTimeout", d(ch.TCPIdleTimeout))
				v.add("connection.maxConnectionDuration", d(ch.TCPMaxConnectionDuration))
			}
			v.add("timeout.tcp.tlsHandshakeTimeout", d(ch.TLSHandshakeTimeout))
		}
		if s := c.Socket; s != nil {
			v.add("timeout.tcp.connectionInspectionTimeout", d(s.InspectionTimeout))
			v.add("connection.bufferLimit", u(s.BufferLimitBytes))
			if m := u(s.MaxAcceptPerSocketEvent); m != "1" {
				v.add("connection.maxAcceptPerSocketEvent", m)
			}
			if k := s.TCPKeepalive; k != nil {
				v.add("tcpKeepalive", "on")
				v.add("tcpKeepalive.probes", u(k.Probes))
				v.add("tcpKeepalive.idleTime", u(k.IdleTime))
				v.add("tcpKeepalive.interval", u(k.Interval))
			}
			if pp := s.ProxyProtocol; pp != nil {
				v.add("proxyProtocol", "on")
				v.add("proxyProtocol.optional", fmt.Sprint(pp.Optional))
			}
			v.add("tls.fingerprints", strings.Join(s.TLSFingerprints, ","))
		}
	}
	if t != nil {
		if t.MinVersion != "1.2" {
			v.add("tls.min", t.MinVersion)
		}
		if t.MaxVersion != "1.3" {
			v.add("tls.max", t.MaxVersion)
		}
		v.add("tls.ciphers", strings.Join(t.Ciphers, ","))
		ct := t.Client
		switch {
		case ct != nil && ct.DisableALPN, !http && len(t.ALPNProtocols) == 0:
			// A TCP listener offers no ALPN unless asked: EG writes
			// that as an empty list.
			v.add("tls.alpn", "off")
		default:
			v.add("tls.alpn", strings.Join(t.ALPNProtocols, ","))
		}
		if ct != nil {
			v.add("tls.curves", strings.Join(ct.ECDHCurves, ","))
			v.add("tls.sigalgs", strings.Join(ct.SignatureAlgorithms, ","))
			v.add("tls.stateless", fmt.Sprint(ct.StatelessResumption))
			v.add("tls.stateful", fmt.Sprint(ct.StatefulResumption))
			if cv := ct.Validation; cv != nil {
				v.add("tls.clientValidation", "on")
				v.add("tls.requireClientCert", fmt.Sprint(cv.RequireCertificate))
				v.add("tls.acceptUntrusted", fmt.Sprint(cv.AcceptUntrusted))
				v.add("tls.ca", fmt.Sprint(cv.CACertificates != ""))
				v.add("tls.crl", fmt.Sprint(cv.CRL != ""))
				v.add("tls.spki", strings.Join(cv.SPKIHashes, ","))
				v.add("tls.hash", strings.Join(cv.CertificateHashes, ","))
				v.add("tls.sans", fmt.Sprint(len(cv.SubjectAltNames)))
				v.add("tls.allowExpired", fmt.Sprint(cv.AllowExpired))
			}
		}
		if cv := t.ClientValidation; cv != nil {
			v.add("tls.clientValidation", "on")
			v.add("tls.requireClientCert", fmt.Sprint(!cv.AllowInsecureFallback))
			v.add("tls.acceptUntrusted", fmt.Sprint(cv.AllowInsecureFallback))
			v.add("tls.ca", "true")
		}
	}
	sort.Strings(v)
	return v
}
