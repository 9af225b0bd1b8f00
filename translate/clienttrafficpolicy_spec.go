package translate

import (
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"sort"
	"strings"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"k8s.io/apimachinery/pkg/api/resource"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

// ctpSpec is one ClientTrafficPolicy translated once, independently of the
// listeners it lands on (clienttrafficpolicy.go adapts it per listener).
type ctpSpec struct {
	// err refuses the policy wherever it applies: the spec holds a value
	// the CRD or Envoy refuses.
	err error
	// http and tcp are the settings for HTTP(S) and TCP/TLS listeners.
	http, tcp *ir.ClientSettings
	// tls is nil without spec.tls.
	tls *ctpTLS
	// useDefaultHost: spec.http1.http10.useDefaultHost, which depends on
	// the listener's hostnames.
	useDefaultHost bool
	// http3 is asked; applied to HTTPS listeners only.
	http3 bool
	// httpOnly lists the fields set that mean nothing on a TCP or TLS
	// listener, for the warning given to a policy aimed at one.
	httpOnly []string
	// deprecated is Envoy Gateway's deprecation warning, "" for none.
	deprecated string
	// withFingerprints are http and tcp with tls.fingerprints in the
	// socket settings, for listeners that terminate TLS (nil without
	// fingerprints).
	withFingerprints map[*ir.ClientSettings]*ir.ClientSettings
}

// ctpTLS is spec.tls.
type ctpTLS struct {
	minVersion, maxVersion string // "" is Envoy's choice (Auto)
	minSet, maxSet         bool
	ciphers                []string
	alpn                   []string
	alpnSet                bool // alpnProtocols present, maybe empty
	client                 *ir.ClientTLS
}

// translateCTP builds the listener-independent settings of p.
func (b *builder) translateCTP(p *policy) *ctpSpec {
	spec := p.spec.(*egv1a1.ClientTrafficPolicySpec)
	out := &ctpSpec{deprecated: ctpDeprecated(spec)}
	var errs []error
	fail := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	name := p.String()
	socket := &ir.ClientSocket{}
	chain := &ir.ClientChain{}
	h := &ir.ClientHTTP{}

	fail(ctpKeepalive(spec.TCPKeepalive, socket))
	switch {
	case spec.ProxyProtocol != nil:
		// proxyProtocol wins over the deprecated enableProxyProtocol, even
		// as an empty object.
		socket.ProxyProtocol = &ir.ProxyProtocol{Optional: spec.ProxyProtocol.Optional != nil && *spec.ProxyProtocol.Optional}
	case spec.EnableProxyProtocol != nil && *spec.EnableProxyProtocol:
		socket.ProxyProtocol = &ir.ProxyProtocol{}
	}
	fail(ctpClientIP(spec.ClientIPDetection, h, out))
	fail(ctpTimeouts(spec.Timeout, socket, chain, h, out))
	fail(ctpConnection(spec.Connection, socket, chain, h, out))
	fail(ctpPath(spec.Path, h, out))
	fail(ctpHeaders(spec.Headers, h, out))
	fail(ctpHTTP1(spec.HTTP1, h, out))
	fail(ctpHTTP2(spec.HTTP2, h, out))
	if spec.HTTP3 != nil {
		out.http3 = true
		out.httpOnly = append(out.httpOnly, "http3")
	}
	if spec.GRPC != nil {
		out.httpOnly = append(out.httpOnly, "grpc")
		h.GRPCWeb = spec.GRPC.EnableWeb != nil && *spec.GRPC.EnableWeb
		h.GRPCSet = true
	}
	if hc := spec.HealthCheck; hc != nil {
		out.httpOnly = append(out.httpOnly, "healthCheck")
		switch {
		case hc.Path == "" || len(hc.Path) > 1024:
			fail(errors.New("spec.healthCheck.path: must be 1 to 1024 characters (the CRD rejects it)"))
		case !strings.HasPrefix(hc.Path, "/"):
			fail(fmt.Errorf("spec.healthCheck.path: %q does not start with /: no request path can match it", hc.Path))
		default:
			h.HealthCheckPath = hc.Path
		}
	}
	if s := spec.Scheme; s != nil {
		out.httpOnly = append(out.httpOnly, "scheme")
		switch *s {
		case egv1a1.SchemeHeaderTransformPreserve:
		case egv1a1.SchemeHeaderTransformMatchBackend:
			h.MatchBackendScheme = true
		default:
			fail(fmt.Errorf("spec.scheme: unknown value %q (Preserve or MatchBackend)", *s))
		}
	}
	var fingerprints []string
	if spec.TLS != nil {
		t, fp, err := b.ctpTLS(p, spec.TLS)
		fail(err)
		out.tls = t
		fingerprints = fp
	}
	if len(errs) > 0 {
		out.err = errors.Join(errs...)
		return out
	}
	if socketEmpty(socket) {
		socket = nil
	}
	httpChain := &ir.ClientChain{ConnectionLimit: chain.ConnectionLimit, TLSHandshakeTimeout: chain.TLSHandshakeTimeout}
	if *httpChain == (ir.ClientChain{}) {
		httpChain = nil
	}
	tcpChain := chain
	if *tcpChain == (ir.ClientChain{}) {
		tcpChain = nil
	}
	if *h == (ir.ClientHTTP{}) {
		h = nil
	}
	out.http = &ir.ClientSettings{Policy: name, Socket: socket, Chain: httpChain, HTTP: h}
	out.tcp = &ir.ClientSettings{Policy: name, Socket: socket, Chain: tcpChain}
	if len(fingerprints) > 0 {
		// Only where TLS is terminated, as every tls setting.
		fs := &ir.ClientSocket{}
		if socket != nil {
			*fs = *socket
		}
		fs.TLSFingerprints = fingerprints
		h, t := *out.http, *out.tcp
		h.Socket, t.Socket = fs, fs
		out.withFingerprints = map[*ir.ClientSettings]*ir.ClientSettings{out.http: &h, out.tcp: &t}
	}
	return out
}

// forTLS is s (s.http or s.tcp) for a listener that terminates TLS.
func (s *ctpSpec) forTLS(c *ir.ClientSettings) *ir.ClientSettings {
	if f := s.withFingerprints[c]; f != nil {
		return f
	}
	return c
}

func socketEmpty(s *ir.ClientSocket) bool {
	return s.TCPKeepalive == nil && s.ProxyProtocol == nil && s.BufferLimitBytes == nil && s.SocketBufferLimitBytes == nil &&
		s.MaxAcceptPerSocketEvent == nil && s.InspectionTimeout == nil && len(s.TLSFingerprints) == 0
}

// ctpDeprecated is Envoy Gateway's warning for deprecated fields, sorted.
func ctpDeprecated(s *egv1a1.ClientTrafficPolicySpec) string {
	m := map[string]string{}
	if s.EnableProxyProtocol != nil {
		m["spec.enableProxyProtocol"] = "spec.proxyProtocol"
	}
	if s.Headers != nil && s.Headers.PreserveXRequestID != nil {
		m["spec.headers.preserveXRequestID"] = "spec.headers.requestID"
	}
	if s.TargetRef != nil {
		m["spec.targetRef"] = "spec.targetRefs"
	}
	if s.TLS != nil && s.TLS.ClientValidation != nil && s.TLS.ClientValidation.Optional {
		m["spec.tls.clientValidation.optional"] = "spec.tls.clientValidation.mode"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " is deprecated, use " + m[k] + " instead"
	}
	return strings.Join(parts, "; ")
}

// ctpDuration parses an optional Gateway API duration at field.
func ctpDuration(d *gwv1.Duration, field string) (*ir.ClientDuration, error) {
	if d == nil {
		return nil, nil
	}
	v, err := parseDuration(*d) // filters.go
	if err != nil {
		return nil, fmt.Errorf("%s: %v", field, err)
	}
	return ir.Dur(v), nil
}

// ctpSeconds is a keepalive duration in whole seconds (socket options
// count seconds), at least one.
func ctpSeconds(d *gwv1.Duration, field string) (*uint32, error) {
	v, err := ctpDuration(d, field)
	if err != nil || v == nil {
		return nil, err
	}
	s := v.D() / time.Second
	if s < 1 || v.D()%time.Second != 0 || s > math.MaxInt32 {
		return nil, fmt.Errorf("%s: %q must be a whole number of seconds, at least 1s", field, *d)
	}
	u := uint32(s)
	return &u, nil
}

func ctpKeepalive(k *egv1a1.TCPKeepalive, s *ir.ClientSocket) error {
	if k == nil {
		return nil
	}
	ka := &ir.TCPKeepalive{}
	var err error
	if k.Probes != nil {
		if *k.Probes == 0 || *k.Probes > math.MaxInt32 {
			return fmt.Errorf("spec.tcpKeepalive.probes: %d is out of range 1-%d", *k.Probes, math.MaxInt32)
		}
		ka.Probes = ptrTo(*k.Probes)
	}
	if ka.IdleTime, err = ctpSeconds(k.IdleTime, "spec.tcpKeepalive.idleTime"); err != nil {
		return err
	}
	if ka.Interval, err = ctpSeconds(k.Interval, "spec.tcpKeepalive.interval"); err != nil {
		return err
	}
	s.TCPKeepalive = ka
	return nil
}

var customHeaderName = regexp.MustCompile(`^[A-Za-z0-9-]+$`)

func ctpClientIP(c *egv1a1.ClientIPDetectionSettings, h *ir.ClientHTTP, out *ctpSpec) error {
	if c == nil {
		return nil
	}
	out.httpOnly = append(out.httpOnly, "clientIPDetection")
	n := 0
	for _, set := range []bool{c.XForwardedFor != nil, c.CustomHeader != nil, c.DirectSourceIP != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("spec.clientIPDetection: exactly one of xForwardedFor, customHeader, or directSourceIP must be set (the CRD rejects it)")
	}
	ip := &ir.ClientIPDetection{}
	switch {
	case c.XForwardedFor != nil:
		x := c.XForwardedFor
		if (x.NumTrustedHops != nil) == (len(x.TrustedCIDRs) > 0) {
			return errors.New("spec.clientIPDetection.xForwardedFor: only one of numTrustedHops or trustedCIDRs must be set (the CRD rejects it)")
		}
		ip.XFFTrustedHops = x.NumTrustedHops
		for i, cidr := range x.TrustedCIDRs {
			_, nw, err := net.ParseCIDR(string(cidr))
			if err != nil {
				return fmt.Errorf("spec.clientIPDetection.xForwardedFor.trustedCIDRs[%d]: %q is not a CIDR", i, cidr)
			}
			ip.XFFTrustedCIDRs = append(ip.XFFTrustedCIDRs, nw.String())
		}
		ip.SkipXFFAppend = x.DisableXForwardedForAppend != nil && *x.DisableXForwardedForAppend
	case c.CustomHeader != nil:
		ch := c.CustomHeader
		if len(ch.Name) == 0 || len(ch.Name) > 255 || !customHeaderName.MatchString(ch.Name) {
			return fmt.Errorf("spec.clientIPDetection.customHeader.name: %q must be 1-255 letters, digits and '-' (the CRD rejects it)", ch.Name)
		}
		ip.CustomHeader = ch.Name
		ip.CustomHeaderFailClosed = ch.FailClosed != nil && *ch.FailClosed
	default:
		ip.DirectSourceIP = true
	}
	h.ClientIP = ip
	return nil
}

func ctpTimeouts(t *egv1a1.ClientTimeout, s *ir.ClientSocket, c *ir.ClientChain, h *ir.ClientHTTP, out *ctpSpec) error {
	if t == nil {
		return nil
	}
	var err error
	if tcp := t.TCP; tcp != nil {
		if c.TCPIdleTimeout, err = ctpDuration(tcp.IdleTimeout, "spec.timeout.tcp.idleTimeout"); err != nil {
			return err
		}
		if c.TLSHandshakeTimeout, err = ctpDuration(tcp.TLSHandshakeTimeout, "spec.timeout.tcp.tlsHandshakeTimeout"); err != nil {
			return err
		}
		if s.InspectionTimeout, err = ctpDuration(tcp.ConnectionInspectionTimeout, "spec.timeout.tcp.connectionInspectionTimeout"); err != nil {
			return err
		}
	}
	if ht := t.HTTP; ht != nil {
		out.httpOnly = append(out.httpOnly, "timeout.http")
		for _, f := range []struct {
			d     *gwv1.Duration
			into  **ir.ClientDuration
			field string
		}{
			{ht.RequestReceivedTimeout, &h.RequestTimeout, "requestReceivedTimeout"},
			{ht.RequestHeadersReceivedTimeout, &h.RequestHeadersTimeout, "requestHeadersReceivedTimeout"},
			{ht.IdleTimeout, &h.IdleTimeout, "idleTimeout"},
			{ht.StreamIdleTimeout, &h.StreamIdleTimeout, "streamIdleTimeout"},
		} {
			if *f.into, err = ctpDuration(f.d, "spec.timeout.http."+f.field); err != nil {
				return err
			}
		}
	}
	return nil
}

// ctpBytes reads a byte quantity the CRD pattern allows
// (^[1-9]+[0-9]*([EPTGMK]i|[EPTGMk])?$) that fits in 32 bits.
func ctpBytes(q *resource.Quantity, field string) (*uint32, error) {
	if q == nil {
		return nil, nil
	}
	v, ok := q.AsInt64()
	if !ok || v < 1 {
		return nil, fmt.Errorf("%s: %s is not a whole, positive number of bytes", field, q.String())
	}
	if v > math.MaxUint32 {
		return nil, fmt.Errorf("%s: %s is out of range, must be between 1 and %d bytes", field, q.String(), uint64(math.MaxUint32))
	}
	u := uint32(v)
	return &u, nil
}

func ctpConnection(c *egv1a1.ClientConnection, s *ir.ClientSocket, ch *ir.ClientChain, h *ir.ClientHTTP, out *ctpSpec) error {
	if c == nil {
		return nil
	}
	var err error
	if l := c.ConnectionLimit; l != nil {
		if l.Value != nil {
			if *l.Value < 1 {
				return fmt.Errorf("spec.connection.connectionLimit.value: %d must be at least 1 (the CRD rejects it)", *l.Value)
			}
			cl := &ir.ConnectionLimit{Max: uint64(*l.Value)}
			if cl.CloseDelay, err = ctpDuration(l.CloseDelay, "spec.connection.connectionLimit.closeDelay"); err != nil {
				return err
			}
			ch.ConnectionLimit = cl
		} else if l.CloseDelay != nil {
			return errors.New("spec.connection.connectionLimit.closeDelay: can only be configured when value is set (the CRD rejects it)")
		}
		if h.MaxConnectionDuration, err = ctpDuration(l.MaxConnectionDuration, "spec.connection.connectionLimit.maxConnectionDuration"); err != nil {
			return err
		}
		ch.TCPMaxConnectionDuration = h.MaxConnectionDuration
		if h.MaxStreamDuration, err = ctpDuration(l.MaxStreamDuration, "spec.connection.connectionLimit.maxStreamDuration"); err != nil {
			return err
		}
		h.MaxRequestsPerConnection = l.MaxRequestsPerConnection
		if l.MaxStreamDuration != nil || l.MaxRequestsPerConnection != nil {
			out.httpOnly = append(out.httpOnly, "connection.connectionLimit.maxStreamDuration/maxRequestsPerConnection")
		}
	}
	if s.BufferLimitBytes, err = ctpBytes(c.BufferLimit, "spec.connection.bufferLimit"); err != nil {
		return err
	}
	if s.SocketBufferLimitBytes, err = ctpBytes(c.SocketBufferLimit, "spec.connection.socketBufferLimit"); err != nil {
		return err
	}
	// The CRD defaults maxAcceptPerSocketEvent to 1 whenever connection is
	// set; offline nothing applies the default, so apply it here.
	s.MaxAcceptPerSocketEvent = ptrTo(uint32(1))
	if c.MaxAcceptPerSocketEvent != nil {
		s.MaxAcceptPerSocketEvent = ptrTo(*c.MaxAcceptPerSocketEvent)
	}
	return nil
}

func ctpPath(p *egv1a1.PathSettings, h *ir.ClientHTTP, out *ctpSpec) error {
	if p == nil {
		return nil
	}
	out.httpOnly = append(out.httpOnly, "path")
	if a := p.EscapedSlashesAction; a != nil {
		switch *a {
		case egv1a1.KeepUnchangedAction, egv1a1.RejectRequestAction, egv1a1.UnescapeAndForward, egv1a1.UnescapeAndRedirect:
			h.EscapedSlashes = string(*a)
		default:
			return fmt.Errorf("spec.path.escapedSlashesAction: unknown value %q (KeepUnchanged, RejectRequest, UnescapeAndForward, UnescapeAndRedirect)", *a)
		}
	}
	h.DisableMergeSlashes = p.DisableMergeSlashes != nil && *p.DisableMergeSlashes
	return nil
}

func ctpHeaders(hs *egv1a1.HeaderSettings, h *ir.ClientHTTP, out *ctpSpec) error {
	if hs == nil {
		return nil
	}
	out.httpOnly = append(out.httpOnly, "headers")
	hd := &ir.ClientHeaders{
		EnableEnvoyHeaders:      hs.EnableEnvoyHeaders != nil && *hs.EnableEnvoyHeaders,
		DisableRateLimitHeaders: hs.DisableRateLimitHeaders != nil && *hs.DisableRateLimitHeaders,
	}
	if hs.PreserveXRequestID != nil && hs.RequestID != nil {
		return errors.New("spec.headers: preserveXRequestID and requestID cannot both be set (the CRD rejects it)")
	}
	if a := hs.WithUnderscoresAction; a != nil {
		switch *a {
		case egv1a1.WithUnderscoresActionAllow, egv1a1.WithUnderscoresActionRejectRequest, egv1a1.WithUnderscoresActionDropHeader:
			hd.WithUnderscores = string(*a)
		default:
			return fmt.Errorf("spec.headers.withUnderscoresAction: unknown value %q (Allow, RejectRequest, DropHeader)", *a)
		}
	}
	switch {
	case hs.RequestID != nil:
		switch *hs.RequestID {
		case egv1a1.RequestIDActionPreserveOrGenerate, egv1a1.RequestIDActionPreserve, egv1a1.RequestIDActionGenerate, egv1a1.RequestIDActionDisable:
			hd.RequestID = string(*hs.RequestID)
		default:
			return fmt.Errorf("spec.headers.requestID: unknown value %q (PreserveOrGenerate, Preserve, Generate, Disable)", *hs.RequestID)
		}
	case hs.PreserveXRequestID != nil && *hs.PreserveXRequestID:
		hd.RequestID = string(egv1a1.RequestIDActionPreserveOrGenerate)
	}
	if x := hs.XForwardedClientCert; x != nil {
		mode := egv1a1.XFCCForwardModeSanitize
		if x.Mode != nil {
			mode = *x.Mode
		}
		switch mode {
		case egv1a1.XFCCForwardModeSanitize, egv1a1.XFCCForwardModeForwardOnly, egv1a1.XFCCForwardModeAlwaysForwardOnly:
			if len(x.CertDetailsToAdd) > 0 {
				return errors.New("spec.headers.xForwardedClientCert.certDetailsToAdd: can only be set when mode is AppendForward or SanitizeSet (the CRD rejects it)")
			}
		case egv1a1.XFCCForwardModeAppendForward, egv1a1.XFCCForwardModeSanitizeSet:
			if len(x.CertDetailsToAdd) > 5 {
				return errors.New("spec.headers.xForwardedClientCert.certDetailsToAdd: at most 5 items (the CRD rejects more)")
			}
			for i, d := range x.CertDetailsToAdd {
				switch d {
				case egv1a1.XFCCCertDataSubject, egv1a1.XFCCCertDataCert, egv1a1.XFCCCertDataChain, egv1a1.XFCCCertDataDNS, egv1a1.XFCCCertDataURI:
					hd.XFCCDetails = append(hd.XFCCDetails, string(d))
				default:
					return fmt.Errorf("spec.headers.xForwardedClientCert.certDetailsToAdd[%d]: unknown value %q (Subject, Cert, Chain, DNS, URI)", i, d)
				}
			}
		default:
			return fmt.Errorf("spec.headers.xForwardedClientCert.mode: unknown value %q", mode)
		}
		hd.XFCCMode = string(mode)
	}
	if hs.Host != nil && hs.Host.StripTrailingHostDot != nil {
		hd.StripTrailingHostDot = *hs.Host.StripTrailingHostDot
	}
	var err error
	if hd.EarlyRequestHeaders, err = ctpHeaderMutation(hs.EarlyRequestHeaders, "spec.headers.earlyRequestHeaders"); err != nil {
		return err
	}
	if hd.LateResponseHeaders, err = ctpHeaderMutation(hs.LateResponseHeaders, "spec.headers.lateResponseHeaders"); err != nil {
		return err
	}
	h.Headers = hd
	return nil
}

// ctpHeaderMutation validates a header filter as the CRD would (names are
// header tokens, values legal, nothing empty) and as Envoy would (no
// pseudo-headers, no Host).
func ctpHeaderMutation(f *egv1a1.HTTPHeaderFilter, field string) (*ir.HeaderMutation, error) {
	if f == nil {
		return nil, nil
	}
	// The Gateway API part of the filter is checked like a route's.
	if e := checkHeaderFilter(&gwv1.HTTPHeaderFilter{Set: f.Set, Add: f.Add, Remove: f.Remove}, field); e != nil { // validate_filters.go
		return nil, errors.New(e.msg)
	}
	if e := checkHeaderFilter(&gwv1.HTTPHeaderFilter{Add: f.AddIfAbsent}, field); e != nil {
		return nil, errors.New(strings.Replace(e.msg, ".add[", ".addIfAbsent[", 1))
	}
	// Each list is a map (set, add, addIfAbsent keyed by name) or a set
	// (remove) in the CRD: a name repeated in one list is refused there.
	m := &ir.HeaderMutation{}
	headers := func(list string, hs []gwv1.HTTPHeader) ([]ir.Header, error) {
		seen := map[string]bool{}
		var out []ir.Header
		for i, h := range hs {
			k := strings.ToLower(string(h.Name))
			if seen[k] {
				return nil, fmt.Errorf("%s.%s[%d]: header %q is listed twice (the CRD rejects it)", field, list, i, h.Name)
			}
			seen[k] = true
			out = append(out, ir.Header{Name: string(h.Name), Value: h.Value})
		}
		return out, nil
	}
	var err error
	if m.Set, err = headers("set", f.Set); err != nil {
		return nil, err
	}
	if m.Add, err = headers("add", f.Add); err != nil {
		return nil, err
	}
	if m.AddIfAbsent, err = headers("addIfAbsent", f.AddIfAbsent); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, n := range f.Remove {
		if seen[strings.ToLower(n)] {
			return nil, fmt.Errorf("%s.remove[%d]: header %q is listed twice (the CRD rejects it)", field, i, n)
		}
		seen[strings.ToLower(n)] = true
		m.Remove = append(m.Remove, n)
	}
	for i, sm := range f.RemoveOnMatch {
		im, err := ctpStringMatch(sm, fmt.Sprintf("%s.removeOnMatch[%d]", field, i))
		if err != nil {
			return nil, err
		}
		m.RemoveOnMatch = append(m.RemoveOnMatch, im)
	}
	if len(m.Set)+len(m.Add)+len(m.AddIfAbsent)+len(m.Remove)+len(m.RemoveOnMatch) == 0 {
		return nil, fmt.Errorf("%s: no header to set, add or remove", field)
	}
	return m, nil
}

// ctpStringMatch turns an Envoy Gateway StringMatch into IR, checking what
// the CRD checks (value 1-1024 characters, known type) and RE2 syntax.
func ctpStringMatch(sm egv1a1.StringMatch, field string) (ir.StringMatch, error) {
	t := egv1a1.StringMatchExact
	if sm.Type != nil {
		t = *sm.Type
	}
	if sm.Value == "" || len(sm.Value) > 1024 {
		return ir.StringMatch{}, fmt.Errorf("%s.value: must be 1 to 1024 characters (the CRD rejects it)", field)
	}
	m := ir.StringMatch{Value: sm.Value}
	switch t {
	case egv1a1.StringMatchExact:
		m.Type = ir.MatchExact
	case egv1a1.StringMatchPrefix:
		m.Type = ir.MatchPrefix
	case egv1a1.StringMatchSuffix:
		m.Type = ir.MatchSuffix
	case egv1a1.StringMatchRegularExpression:
		if _, err := regexp.Compile(sm.Value); err != nil {
			return ir.StringMatch{}, fmt.Errorf("%s.value: %q is not a valid RE2 regular expression: %v", field, sm.Value, err)
		}
		m.Type = ir.MatchRegex
	default:
		return ir.StringMatch{}, fmt.Errorf("%s.type: unknown value %q (Exact, Prefix, Suffix, RegularExpression)", field, t)
	}
	return m, nil
}

func ctpHTTP1(s *egv1a1.HTTP1Settings, h *ir.ClientHTTP, out *ctpSpec) error {
	if s == nil {
		return nil
	}
	out.httpOnly = append(out.httpOnly, "http1")
	h1 := &ir.ClientHTTP1{
		EnableTrailers:     s.EnableTrailers != nil && *s.EnableTrailers,
		PreserveHeaderCase: s.PreserveHeaderCase != nil && *s.PreserveHeaderCase,
		// Only meaningful with a maximum connection duration, as Envoy
		// Gateway has it.
		DisableSafeMaxConnectionDuration: s.DisableSafeMaxConnectionDuration != nil && *s.DisableSafeMaxConnectionDuration && h.MaxConnectionDuration != nil,
	}
	for i, m := range s.IgnoredUpgradeTypes {
		im, err := ctpStringMatch(m, fmt.Sprintf("spec.http1.ignoredUpgradeTypes[%d]", i))
		if err != nil {
			return err
		}
		h1.IgnoredUpgradeTypes = append(h1.IgnoredUpgradeTypes, im)
	}
	if s.HTTP10 != nil {
		h1.HTTP10 = true
		out.useDefaultHost = s.HTTP10.UseDefaultHost != nil && *s.HTTP10.UseDefaultHost
	}
	h.HTTP1 = h1
	return nil
}

// HTTP/2 window sizes Envoy accepts.
const (
	minHTTP2Window = 65535
	maxHTTP2Window = math.MaxInt32
)

func ctpHTTP2(s *egv1a1.HTTP2Settings, h *ir.ClientHTTP, out *ctpSpec) error {
	if s == nil {
		return nil
	}
	out.httpOnly = append(out.httpOnly, "http2")
	h2 := &ir.ClientHTTP2{}
	window := func(q *resource.Quantity, field string) (*uint32, error) {
		if q == nil {
			return nil, nil
		}
		v, ok := q.AsInt64()
		if !ok {
			return nil, fmt.Errorf("%s: %s is not a whole number of bytes", field, q.String())
		}
		if v < minHTTP2Window || v > maxHTTP2Window {
			return nil, fmt.Errorf("%s: %s is out of range, must be between %d and %d", field, q.String(), minHTTP2Window, maxHTTP2Window)
		}
		u := uint32(v)
		return &u, nil
	}
	var err error
	if h2.InitialStreamWindowSize, err = window(s.InitialStreamWindowSize, "spec.http2.initialStreamWindowSize"); err != nil {
		return err
	}
	if h2.InitialConnectionWindowSize, err = window(s.InitialConnectionWindowSize, "spec.http2.initialConnectionWindowSize"); err != nil {
		return err
	}
	if m := s.MaxConcurrentStreams; m != nil {
		if *m < 1 || *m > math.MaxInt32 {
			return fmt.Errorf("spec.http2.maxConcurrentStreams: %d is out of range 1-%d (the CRD rejects it)", *m, math.MaxInt32)
		}
		h2.MaxConcurrentStreams = ptrTo(*m)
	}
	if a := s.OnInvalidMessage; a != nil {
		switch *a {
		case egv1a1.InvalidMessageActionTerminateStream:
			h2.ResetStreamOnError = ptrTo(true)
		case egv1a1.InvalidMessageActionTerminateConnection:
			h2.ResetStreamOnError = ptrTo(false)
		default:
			return fmt.Errorf("spec.http2.onInvalidMessage: unknown value %q (TerminateConnection, TerminateStream)", *a)
		}
	}
	if k := s.ConnectionKeepalive; k != nil {
		ka := &ir.HTTP2Keepalive{}
		if ka.Interval, err = ctpDuration(k.Interval, "spec.http2.connectionKeepalive.interval"); err != nil {
			return err
		}
		if ka.Timeout, err = ctpDuration(k.Timeout, "spec.http2.connectionKeepalive.timeout"); err != nil {
			return err
		}
		if ka.IdleInterval, err = ctpDuration(k.IdleInterval, "spec.http2.connectionKeepalive.idleInterval"); err != nil {
			return err
		}
		if j := k.IntervalJitter; j != nil {
			if *j > 100 {
				return fmt.Errorf("spec.http2.connectionKeepalive.intervalJitter: %d is above 100 (percent)", *j)
			}
			ka.IntervalJitter = ptrTo(*j)
		}
		if ka.Interval != nil && ka.Timeout != nil && ka.Timeout.D() >= ka.Interval.D() {
			return errors.New("spec.http2.connectionKeepalive: timeout must be less than interval (the CRD rejects it)")
		}
		// Envoy requires a timeout, and every duration of at least 1ms.
		if ka.Timeout == nil {
			return errors.New("spec.http2.connectionKeepalive.timeout: Envoy requires a timeout for PING keepalives")
		}
		for _, d := range []struct {
			v    *ir.ClientDuration
			name string
		}{{ka.Interval, "interval"}, {ka.Timeout, "timeout"}, {ka.IdleInterval, "idleInterval"}} {
			if d.v != nil && d.v.D() < time.Millisecond {
				return fmt.Errorf("spec.http2.connectionKeepalive.%s: must be at least 1ms (Envoy refuses less)", d.name)
			}
		}
		h2.Keepalive = ka
	}
	h.HTTP2 = h2
	return nil
}
