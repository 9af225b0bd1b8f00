package translate

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"

	"github.com/egctl/egctl/ir"
)

// BackendTrafficPolicy fields that act on requests (retry, HTTP timeouts,
// faults, compression, response overrides, bandwidth, buffering, upgrades,
// tracing, stat names) → ir.TrafficSettings. As in the cluster half, CRD
// defaults are filled and CEL rules checked here.

// Envoy Gateway's retry defaults (its xDS translator applies them to every
// retry stanza).
var (
	defaultRetryOn     = []string{"connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"}
	defaultRetryStatus = []uint32{503}
)

// trafficSettings builds the route-level settings of spec (nil when it asks
// for none). configMapNS is where responseOverride body references are
// looked up: the namespace of the policy that set responseOverride.
func (b *builder) trafficSettings(spec *egv1a1.BackendTrafficPolicySpec, name, configMapNS string) (*ir.TrafficSettings, error) {
	ts := &ir.TrafficSettings{Policy: name}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if spec.Retry != nil {
		r, err := trafficRetry(spec.Retry)
		add(err)
		ts.Retry = r
	}
	if t := spec.Timeout; t != nil && t.HTTP != nil {
		rt := &ir.RouteTimeouts{}
		h := t.HTTP
		for _, d := range []struct {
			name string
			in   *string
			out  **time.Duration
		}{
			{"requestTimeout", (*string)(h.RequestTimeout), &rt.Request},
			{"streamIdleTimeout", (*string)(h.StreamIdleTimeout), &rt.StreamIdle},
			{"maxStreamDuration", (*string)(h.MaxStreamDuration), &rt.MaxStreamDuration},
		} {
			if d.in == nil {
				continue
			}
			v, err := time.ParseDuration(*d.in)
			if err != nil || v < 0 {
				add(fmt.Errorf("spec.timeout.http.%s: invalid duration %q", d.name, *d.in))
				continue
			}
			*d.out = &v
		}
		if *rt != (ir.RouteTimeouts{}) {
			ts.Timeout = rt
		}
	}
	if spec.FaultInjection != nil {
		f, err := fault(spec.FaultInjection)
		add(err)
		ts.Fault = f
	}
	if len(spec.Compression) > 0 && len(spec.Compressor) > 0 {
		add(errors.New("spec: either compression or compressor can be set, not both (the CRD rejects it)"))
	} else {
		field, list := "spec.compressor", spec.Compressor
		if len(list) == 0 {
			field, list = "spec.compression", spec.Compression
		}
		cs, err := compressors(field, list, field == "spec.compressor")
		add(err)
		ts.Compressors = cs
	}
	if len(spec.ResponseOverride) > 0 {
		ro, err := b.responseOverride(spec.ResponseOverride, name, configMapNS)
		add(err)
		ts.ResponseOverride = ro
	}
	if spec.BandwidthLimit != nil {
		bl, err := bandwidthLimit(spec.BandwidthLimit)
		add(err)
		ts.BandwidthLimit = bl
	}
	if rb := spec.RequestBuffer; rb != nil {
		n, ok := rb.Limit.AsInt64()
		if !ok || n <= 0 || n > math.MaxUint32 {
			add(fmt.Errorf("spec.requestBuffer.limit: %s is outside 1-%d bytes", rb.Limit.String(), uint32(math.MaxUint32)))
		}
		ts.RequestBufferBytes = uint32(n)
		if len(spec.HTTPUpgrade) > 0 {
			add(errors.New("spec.requestBuffer cannot be used together with spec.httpUpgrade (the CRD rejects it)"))
		}
		// Buffering the whole request and upgrading the connection do
		// not mix: the default WebSocket upgrade is dropped too, as Envoy
		// Gateway does.
		ts.NoUpgrades = len(spec.HTTPUpgrade) == 0
	}
	for i, u := range spec.HTTPUpgrade {
		if u == nil || u.Type == "" {
			add(fmt.Errorf("spec.httpUpgrade[%d].type is required", i))
			continue
		}
		up := ir.Upgrade{Type: u.Type}
		if u.Connect != nil {
			if !strings.EqualFold(u.Type, "CONNECT") {
				add(fmt.Errorf("spec.httpUpgrade[%d].connect is only allowed when type is CONNECT (the CRD rejects it)", i))
			}
			up.ConnectTerminate = u.Connect.Terminate != nil && *u.Connect.Terminate
		}
		ts.Upgrades = append(ts.Upgrades, up)
	}
	if tel := spec.Telemetry; tel != nil {
		if tel.Tracing != nil {
			tr, err := routeTracing(tel.Tracing)
			add(err)
			ts.Tracing = tr
		}
		if m := tel.Metrics; m != nil && m.RouteStatName != nil && *m.RouteStatName != "" {
			add(checkStatName(*m.RouteStatName))
			ts.StatName = *m.RouteStatName
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if ts.Retry == nil && ts.Timeout == nil && ts.Fault == nil && len(ts.Compressors) == 0 && ts.ResponseOverride == nil &&
		ts.BandwidthLimit == nil && ts.RequestBufferBytes == 0 && len(ts.Upgrades) == 0 && ts.Tracing == nil && ts.StatName == "" {
		return nil, nil
	}
	return ts, nil
}

var retryTriggers = map[egv1a1.TriggerEnum]bool{
	"5xx": true, "gateway-error": true, "reset": true, "reset-before-request": true, "connect-failure": true,
	"retriable-4xx": true, "refused-stream": true, "retriable-status-codes": true, "cancelled": true,
	"deadline-exceeded": true, "internal": true, "resource-exhausted": true, "unavailable": true,
}

func trafficRetry(in *egv1a1.Retry) (*ir.TrafficRetry, error) {
	const f = "spec.retry"
	r := &ir.TrafficRetry{NumRetries: 2, RetryOn: defaultRetryOn, StatusCodes: defaultRetryStatus}
	if in.NumRetries != nil {
		if *in.NumRetries < 0 {
			return nil, fmt.Errorf("%s.numRetries: %d is negative", f, *in.NumRetries)
		}
		r.NumRetries = uint32(*in.NumRetries)
	}
	if in.NumAttemptsPerPriority != nil {
		if *in.NumAttemptsPerPriority < 0 {
			return nil, fmt.Errorf("%s.numAttemptsPerPriority: %d is negative", f, *in.NumAttemptsPerPriority)
		}
		r.AttemptsPerPriority = uint32(*in.NumAttemptsPerPriority)
	}
	if on := in.RetryOn; on != nil {
		// As Envoy Gateway: triggers replace the default conditions; the
		// status codes, once retryOn is given, replace [503] (none when
		// only triggers are listed).
		if len(on.Triggers) > 0 {
			seen := map[string]bool{}
			r.RetryOn = nil
			for i, t := range on.Triggers {
				if !retryTriggers[t] {
					return nil, fmt.Errorf("%s.retryOn.triggers[%d]: unknown trigger %q", f, i, t)
				}
				if !seen[string(t)] {
					seen[string(t)] = true
					r.RetryOn = append(r.RetryOn, string(t))
				}
			}
			sort.Strings(r.RetryOn)
		}
		codes, err := statusSet(f+".retryOn.httpStatusCodes", on.HTTPStatusCodes)
		if err != nil {
			return nil, err
		}
		r.StatusCodes = codes
	}
	if pr := in.PerRetry; pr != nil {
		if pr.Timeout != nil {
			d, err := positiveDuration(f+".perRetry.timeout", *pr.Timeout)
			if err != nil {
				return nil, err
			}
			r.PerTryTimeout = d
		}
		if bo := pr.BackOff; bo != nil {
			if bo.BaseInterval != nil {
				d, err := positiveDuration(f+".perRetry.backOff.baseInterval", *bo.BaseInterval)
				if err != nil {
					return nil, err
				}
				r.BackoffBase = d
			}
			if bo.MaxInterval != nil {
				d, err := positiveDuration(f+".perRetry.backOff.maxInterval", *bo.MaxInterval)
				if err != nil {
					return nil, err
				}
				r.BackoffMax = d
			}
			if r.BackoffMax > 0 && r.BackoffMax < r.BackoffBase {
				return nil, fmt.Errorf("%s.perRetry.backOff: maxInterval %s is less than baseInterval %s", f, r.BackoffMax, r.BackoffBase)
			}
			if r.BackoffMax > 0 && r.BackoffBase == 0 {
				// Envoy needs a base whenever a back-off is given; its own
				// default base is 25ms.
				r.BackoffBase = 25 * time.Millisecond
				if r.BackoffMax < r.BackoffBase {
					return nil, fmt.Errorf("%s.perRetry.backOff.maxInterval %s is less than Envoy's default base interval 25ms", f, r.BackoffMax)
				}
			}
		}
	}
	return r, nil
}

// fault fills the CRD default percentage (100) Envoy would otherwise read
// as 0.
func fault(in *egv1a1.FaultInjection) (*ir.Fault, error) {
	const f = "spec.faultInjection"
	if in.Delay == nil && in.Abort == nil {
		return nil, fmt.Errorf("%s: set delay, abort or both (the CRD rejects neither)", f)
	}
	out := &ir.Fault{}
	share := func(field string, p *float32) (uint32, error) {
		if p == nil {
			return 1_000_000, nil
		}
		if *p < 0 || *p > 100 || math.IsNaN(float64(*p)) {
			return 0, fmt.Errorf("%s.%s.percentage: %v is outside 0-100", f, field, *p)
		}
		return uint32(math.Round(float64(*p) * 10000)), nil
	}
	if d := in.Delay; d != nil {
		if d.FixedDelay == nil {
			return nil, fmt.Errorf("%s.delay.fixedDelay is required", f)
		}
		v, err := positiveDuration(f+".delay.fixedDelay", *d.FixedDelay)
		if err != nil {
			return nil, err
		}
		s, err := share("delay", d.Percentage)
		if err != nil {
			return nil, err
		}
		out.Delay = &ir.FaultDelay{Duration: v, Share: s}
	}
	if a := in.Abort; a != nil {
		if (a.HTTPStatus == nil) == (a.GrpcStatus == nil) {
			return nil, fmt.Errorf("%s.abort: set exactly one of httpStatus and grpcStatus (the CRD rejects it)", f)
		}
		s, err := share("abort", a.Percentage)
		if err != nil {
			return nil, err
		}
		fa := &ir.FaultAbort{Share: s}
		if a.HTTPStatus != nil {
			if *a.HTTPStatus < 200 || *a.HTTPStatus > 599 {
				return nil, fmt.Errorf("%s.abort.httpStatus: %d is outside 200-599", f, *a.HTTPStatus)
			}
			fa.HTTPStatus = uint32(*a.HTTPStatus)
		}
		if a.GrpcStatus != nil {
			if *a.GrpcStatus < 0 || *a.GrpcStatus > 16 {
				return nil, fmt.Errorf("%s.abort.grpcStatus: %d is outside 0-16", f, *a.GrpcStatus)
			}
			fa.GRPCStatus = ptrTo(uint32(*a.GrpcStatus))
		}
		out.Abort = fa
	}
	return out, nil
}

// compressors: with spec.compressor an entry only counts when its own
// settings block (gzip: {}, …) is there, as Envoy Gateway reads it (that is
// how a merged policy switches one off); spec.compression needs none.
func compressors(field string, in []*egv1a1.Compression, needBlock bool) ([]*ir.Compressor, error) {
	var out []*ir.Compressor
	seen := map[egv1a1.CompressorType]bool{}
	for i, c := range in {
		if c == nil {
			continue
		}
		var block bool
		switch c.Type {
		case egv1a1.GzipCompressorType:
			block = c.Gzip != nil
		case egv1a1.BrotliCompressorType:
			block = c.Brotli != nil
		case egv1a1.ZstdCompressorType:
			block = c.Zstd != nil
		default:
			return nil, fmt.Errorf("%s[%d].type: unknown compressor %q", field, i, c.Type)
		}
		if needBlock && !block {
			continue
		}
		if seen[c.Type] {
			return nil, fmt.Errorf("%s[%d]: %s is listed twice", field, i, c.Type)
		}
		seen[c.Type] = true
		ic := &ir.Compressor{Type: ir.CompressorType(c.Type), ChooseFirst: len(out) == 0}
		if c.MinContentLength != nil {
			n, err := quantityRange(fmt.Sprintf("%s[%d].minContentLength", field, i), c.MinContentLength, 30, math.MaxUint32)
			if err != nil {
				return nil, err
			}
			ic.MinContentLength = n
		}
		out = append(out, ic)
	}
	return out, nil
}

func (b *builder) responseOverride(in []*egv1a1.ResponseOverride, policy, ns string) (*ir.ResponseOverride, error) {
	ro := &ir.ResponseOverride{}
	for i, o := range in {
		f := fmt.Sprintf("spec.responseOverride[%d]", i)
		if o == nil {
			return nil, fmt.Errorf("%s is empty", f)
		}
		rule := ir.ResponseOverrideRule{Name: fmt.Sprintf("%s/responseoverride/rule/%d", policy, i)}
		m := o.Match
		if len(m.StatusCodes) == 0 && len(m.ResponseHeaders) == 0 {
			return nil, fmt.Errorf("%s.match: set statusCodes or responseHeaders (the CRD rejects neither)", f)
		}
		for j, sc := range m.StatusCodes {
			sf := fmt.Sprintf("%s.match.statusCodes[%d]", f, j)
			var r ir.StatusRange
			if sc.Type != nil && *sc.Type == egv1a1.StatusCodeValueTypeRange {
				if sc.Range == nil {
					return nil, fmt.Errorf("%s: range must be set for type Range", sf)
				}
				if sc.Range.End <= sc.Range.Start {
					return nil, fmt.Errorf("%s.range: end %d must be greater than start %d", sf, sc.Range.End, sc.Range.Start)
				}
				r = ir.StatusRange{Start: clampStatus(sc.Range.Start), End: clampStatus(sc.Range.End)}
				if sc.Range.Start > 599 || sc.Range.End < 100 {
					return nil, fmt.Errorf("%s.range: %d-%d holds no HTTP status", sf, sc.Range.Start, sc.Range.End)
				}
			} else {
				if sc.Type != nil && *sc.Type != egv1a1.StatusCodeValueTypeValue {
					return nil, fmt.Errorf("%s.type: unknown value %q", sf, *sc.Type)
				}
				if sc.Value == nil {
					return nil, fmt.Errorf("%s: value must be set for type Value", sf)
				}
				if *sc.Value < 100 || *sc.Value > 599 {
					return nil, fmt.Errorf("%s.value: %d is not an HTTP status", sf, *sc.Value)
				}
				r = ir.StatusRange{Start: uint32(*sc.Value), End: uint32(*sc.Value)}
			}
			rule.StatusRanges = append(rule.StatusRanges, r)
		}
		for j, h := range m.ResponseHeaders {
			hf := fmt.Sprintf("%s.match.responseHeaders[%d]", f, j)
			if h.Name == "" {
				return nil, fmt.Errorf("%s.name is required", hf)
			}
			typ := ir.HeaderExact
			if h.Value.Type != nil {
				typ = ir.ResponseHeaderMatchType(*h.Value.Type)
			}
			switch typ {
			case ir.HeaderExact, ir.HeaderPrefix, ir.HeaderSuffix:
			case ir.HeaderRegex:
				if _, err := regexp.Compile(h.Value.Value); err != nil {
					return nil, fmt.Errorf("%s.value: invalid regular expression %q: %v", hf, h.Value.Value, err)
				}
			default:
				return nil, fmt.Errorf("%s.value.type: unknown value %q", hf, typ)
			}
			rule.Headers = append(rule.Headers, ir.ResponseHeaderMatch{Name: strings.ToLower(string(h.Name)), Type: typ, Value: h.Value.Value})
		}
		if o.Source != nil {
			switch *o.Source {
			case egv1a1.ResponseOverrideSourceAll:
			case egv1a1.ResponseOverrideSourceLocal:
				rule.Source = ir.ResponseFromLocal
			case egv1a1.ResponseOverrideSourceBackend:
				rule.Source = ir.ResponseFromBackend
			default:
				return nil, fmt.Errorf("%s.source: unknown value %q", f, *o.Source)
			}
		}
		switch {
		case o.Redirect != nil && o.Response != nil:
			return nil, fmt.Errorf("%s: set response or redirect, not both", f)
		case o.Redirect != nil:
			rd, err := responseRedirect(f+".redirect", o.Redirect)
			if err != nil {
				return nil, err
			}
			rule.Redirect = rd
		case o.Response != nil:
			cr, err := b.customResponse(f+".response", o.Response, ns)
			if err != nil {
				return nil, err
			}
			rule.Response = cr
		default:
			return nil, fmt.Errorf("%s: set response or redirect", f)
		}
		ro.Rules = append(ro.Rules, rule)
	}
	return ro, nil
}

func clampStatus(s int) uint32 {
	switch {
	case s < 100:
		return 100
	case s > 599:
		return 599
	}
	return uint32(s)
}

func responseRedirect(f string, in *egv1a1.CustomRedirect) (*ir.ResponseRedirect, error) {
	rd := &ir.ResponseRedirect{StatusCode: 302}
	if in.Scheme != nil {
		if *in.Scheme != "http" && *in.Scheme != "https" {
			return nil, fmt.Errorf("%s.scheme: %q is not http or https", f, *in.Scheme)
		}
		rd.Scheme = *in.Scheme
	}
	if in.Hostname != nil {
		if err := checkPreciseHostname(string(*in.Hostname)); err != nil {
			return nil, fmt.Errorf("%s.hostname: %v", f, err)
		}
		rd.Hostname = string(*in.Hostname)
	}
	if in.Port != nil {
		rd.Port = uint32(*in.Port)
	}
	if p := in.Path; p != nil {
		if p.Type != "ReplaceFullPath" || p.ReplaceFullPath == nil {
			return nil, fmt.Errorf("%s.path: only ReplaceFullPath is supported (the CRD rejects %q)", f, p.Type)
		}
		rd.Path = *p.ReplaceFullPath
	}
	if in.StatusCode != nil {
		if *in.StatusCode != 301 && *in.StatusCode != 302 {
			return nil, fmt.Errorf("%s.statusCode: %d is not 301 or 302", f, *in.StatusCode)
		}
		rd.StatusCode = uint32(*in.StatusCode)
	}
	return rd, nil
}

func (b *builder) customResponse(f string, in *egv1a1.CustomResponse, ns string) (*ir.CustomResponse, error) {
	cr := &ir.CustomResponse{}
	if in.ContentType != nil {
		cr.ContentType = *in.ContentType
	}
	if in.StatusCode != nil {
		if *in.StatusCode < 100 || *in.StatusCode > 599 {
			return nil, fmt.Errorf("%s.statusCode: %d is not an HTTP status", f, *in.StatusCode)
		}
		cr.StatusCode = uint32(*in.StatusCode)
	}
	if h := in.Header; h != nil {
		if len(h.Remove) > 0 {
			return nil, fmt.Errorf("%s.header.remove is not supported for a response override (the CRD rejects it)", f)
		}
		for _, s := range h.Set {
			cr.Set = append(cr.Set, ir.Header{Name: string(s.Name), Value: s.Value})
		}
		for _, a := range h.Add {
			cr.Add = append(cr.Add, ir.Header{Name: string(a.Name), Value: a.Value})
		}
	}
	if body := in.Body; body != nil {
		// Read as an HTTPRouteFilter's direct response body is
		// (httproutefilter.go): inline, or a ConfigMap's "response.body"
		// key, else its first key by name; binaryData is sent as it is.
		text, binary, msg := b.responseBody(ns, body)
		if msg != "" {
			return nil, fmt.Errorf("%s.body%s", f, msg)
		}
		if binary {
			cr.BinaryBody = []byte(text)
		} else {
			// Text is a format string: a stray '%' would make Envoy
			// refuse the whole configuration.
			if msg := checkCommandOperators(text); msg != "" {
				return nil, fmt.Errorf("%s.body: %s", f, msg)
			}
			cr.Body = text
		}
		cr.HasBody = true
	}
	return cr, nil
}

func bandwidthLimit(in *egv1a1.BandwidthLimitSpec) (*ir.BandwidthLimit, error) {
	const f = "spec.bandwidthLimit"
	if in.Request == nil && in.Response == nil {
		return nil, fmt.Errorf("%s: set request, response or both (the CRD rejects neither)", f)
	}
	out := &ir.BandwidthLimit{}
	kibps := func(dir string, v egv1a1.BandwidthLimitValue) (uint64, error) {
		n, ok := v.Value.AsInt64()
		if !ok || n <= 0 {
			return 0, fmt.Errorf("%s.%s.limit.value: %s is not a positive number of bytes", f, dir, v.Value.String())
		}
		per := int64(1)
		switch v.Unit {
		case egv1a1.BandwidthLimitUnitSecond, "":
		case egv1a1.BandwidthLimitUnitMinute:
			per = 60
		case egv1a1.BandwidthLimitUnitHour:
			per = 3600
		default:
			return 0, fmt.Errorf("%s.%s.limit.unit: unknown value %q", f, dir, v.Unit)
		}
		k := n / (per * 1024)
		if k == 0 {
			return 0, fmt.Errorf("%s.%s.limit: %s bytes per %s is below Envoy's minimum of 1 KiB/s", f, dir, v.Value.String(), v.Unit)
		}
		return uint64(k), nil
	}
	var err error
	if in.Request != nil {
		if out.RequestKiBps, err = kibps("request", in.Request.Limit); err != nil {
			return nil, err
		}
	}
	if in.Response != nil {
		if out.ResponseKiBps, err = kibps("response", in.Response.Limit); err != nil {
			return nil, err
		}
		if t := in.Response.ResponseTrailers; t != nil {
			out.ResponseTrailers = true
			if t.Prefix != nil {
				if strings.ContainsAny(*t.Prefix, "\r\n\x00") {
					return nil, fmt.Errorf("%s.response.responseTrailers.prefix: control characters are not allowed", f)
				}
				out.TrailerPrefix = *t.Prefix
			}
		}
	}
	return out, nil
}

func routeTracing(in *egv1a1.Tracing) (*ir.RouteTracing, error) {
	const f = "spec.telemetry.tracing"
	tr := &ir.RouteTracing{}
	var err error
	if tr.RandomSampling, err = fractionPerMillion(in.SamplingFraction); err != nil {
		return nil, fmt.Errorf("%s.samplingFraction: %v", f, err)
	}
	if tr.ClientSampling, err = fractionPerMillion(in.ClientSamplingFraction); err != nil {
		return nil, fmt.Errorf("%s.clientSamplingFraction: %v", f, err)
	}
	if tr.OverallSampling, err = fractionPerMillion(in.OverallSamplingFraction); err != nil {
		return nil, fmt.Errorf("%s.overallSamplingFraction: %v", f, err)
	}
	tags := map[string]ir.TracingTag{}
	for k, v := range in.CustomTags {
		tag := ir.TracingTag{Name: k, Type: ir.TracingTagType(v.Type)}
		switch v.Type {
		case egv1a1.CustomTagTypeLiteral:
			if v.Literal == nil {
				return nil, fmt.Errorf("%s.customTags[%s]: literal is required for type Literal", f, k)
			}
			tag.Value = v.Literal.Value
		case egv1a1.CustomTagTypeEnvironment:
			if v.Environment == nil {
				return nil, fmt.Errorf("%s.customTags[%s]: environment is required for type Environment", f, k)
			}
			tag.Value = v.Environment.Name
			if v.Environment.DefaultValue != nil {
				tag.Default = *v.Environment.DefaultValue
			}
		case egv1a1.CustomTagTypeRequestHeader:
			if v.RequestHeader == nil {
				return nil, fmt.Errorf("%s.customTags[%s]: requestHeader is required for type RequestHeader", f, k)
			}
			tag.Value = v.RequestHeader.Name
			if v.RequestHeader.DefaultValue != nil {
				tag.Default = *v.RequestHeader.DefaultValue
			}
		default:
			return nil, fmt.Errorf("%s.customTags[%s].type: unknown value %q", f, k, v.Type)
		}
		tags[k] = tag
	}
	// Tags of the same name win over customTags.
	for k, v := range in.Tags {
		tags[k] = ir.TracingTag{Name: k, Type: ir.TagFormat, Value: v}
	}
	for _, t := range tags {
		tr.Tags = append(tr.Tags, t)
	}
	sort.Slice(tr.Tags, func(i, j int) bool { return tr.Tags[i].Name < tr.Tags[j].Name })
	if in.SpanName != nil {
		tr.ClientSpan, tr.ServerSpan = in.SpanName.Client, in.SpanName.Server
	}
	return tr, nil
}

var statOperator = regexp.MustCompile(`%[A-Z_]+%`)

// checkStatName accepts the route stat name operators Envoy Gateway
// documents, and %ROUTE_RULE_NUMBER%.
func checkStatName(s string) error {
	ops := statOperator.FindAllString(s, -1)
	if len(ops) == 0 && strings.Contains(s, "%") {
		return fmt.Errorf("spec.telemetry.metrics.routeStatName: %q has an invalid operator", s)
	}
	for _, op := range ops {
		switch op {
		case "%ROUTE_NAME%", "%ROUTE_NAMESPACE%", "%ROUTE_KIND%", "%ROUTE_RULE_NAME%", "%ROUTE_RULE_NUMBER%":
		default:
			return fmt.Errorf("spec.telemetry.metrics.routeStatName: unsupported operator %s", op)
		}
	}
	return nil
}
