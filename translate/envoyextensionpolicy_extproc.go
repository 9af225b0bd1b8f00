package translate

import (
	"fmt"
	"strconv"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
	"github.com/egctl/egctl/resource"
)

// buildExtProc translates spec.extProc[i] of owner.
func (b *builder) buildExtProc(owner *policy, ep *egv1a1.ExtProc, i int) (*ir.ExtProc, error) {
	field := fmt.Sprintf("spec.extProc[%d]", i)
	name := eepName(owner, "extproc", i)
	dest, authority, err := b.extServiceDestination(owner, name, field, ep.BackendCluster)
	if err != nil {
		return nil, err
	}
	ss, err := extServiceSettings(ep.BackendSettings, field, field+".messageTimeout")
	if err != nil {
		return nil, err
	}
	if ss.retry != nil {
		// Envoy Gateway puts it on the processor's gRPC stream; egctl has
		// no test showing Envoy retries an ext_proc stream, so it is not
		// claimed.
		return nil, fieldErr(field+".backendSettings.retry", "egctl does not apply retries to an external processor's stream yet")
	}
	if err := withClusterSettings(dest, ss.cluster, field); err != nil {
		return nil, err
	}
	out := &ir.ExtProc{Name: name, Destination: dest, Authority: authority}
	if ep.MessageTimeout != nil {
		d, err := parseDuration(*ep.MessageTimeout)
		if err != nil {
			return nil, fieldErr(field+".messageTimeout", "%v", err)
		}
		out.MessageTimeout = d
	}
	out.FailOpen = ep.FailOpen != nil && *ep.FailOpen
	out.Observability = ep.ShadowMode != nil && *ep.ShadowMode
	if ep.StatusOnError != nil {
		c := *ep.StatusOnError
		if c < 400 || c > 599 {
			return nil, fieldErr(field+".statusOnError", "%d is not a 4xx or 5xx status", c)
		}
		out.StatusOnError = uint32(c)
	}
	if pm := ep.ProcessingMode; pm != nil {
		if pm.Request != nil {
			out.RequestHeaders = true
			if out.RequestBody, err = extProcBody(field+".processingMode.request.body", pm.Request.Body); err != nil {
				return nil, err
			}
			out.RequestAttributes = append([]string(nil), pm.Request.Attributes...)
		}
		if pm.Response != nil {
			out.ResponseHeaders = true
			if out.ResponseBody, err = extProcBody(field+".processingMode.response.body", pm.Response.Body); err != nil {
				return nil, err
			}
			out.ResponseAttributes = append([]string(nil), pm.Response.Attributes...)
		}
		out.AllowModeOverride = pm.AllowModeOverride
	}
	// The CRD's rules: a processor that must see every byte in full duplex
	// cannot be skipped, and one that is not waited for cannot buffer.
	if out.FailOpen && (out.RequestBody == ir.BodyFullDuplexStreamed || out.ResponseBody == ir.BodyFullDuplexStreamed) {
		return nil, fieldErr(field, "failOpen must be false with the FullDuplexStreamed body mode")
	}
	if out.Observability {
		for _, m := range []ir.ExtProcBodyMode{out.RequestBody, out.ResponseBody} {
			if m != ir.BodyNone && m != ir.BodyStreamed {
				return nil, fieldErr(field, "shadowMode needs the Streamed body mode (or none), not %s", m)
			}
		}
	}
	if md := ep.Metadata; md != nil {
		out.ForwardingNamespaces = append([]string(nil), md.AccessibleNamespaces...)
		out.ReceivingNamespaces = append([]string(nil), md.WritableNamespaces...)
	}
	return out, nil
}

func extProcBody(field string, m *egv1a1.ExtProcBodyProcessingMode) (ir.ExtProcBodyMode, error) {
	if m == nil {
		return ir.BodyNone, nil
	}
	switch *m {
	case egv1a1.StreamedExtProcBodyProcessingMode:
		return ir.BodyStreamed, nil
	case egv1a1.BufferedExtProcBodyProcessingMode:
		return ir.BodyBuffered, nil
	case egv1a1.BufferedPartialExtBodyHeaderProcessingMode:
		return ir.BodyBufferedPartial, nil
	case egv1a1.FullDuplexStreamedExtBodyProcessingMode:
		return ir.BodyFullDuplexStreamed, nil
	}
	return "", fieldErr(field, "unknown body mode %q (Streamed, Buffered, BufferedPartial, FullDuplexStreamed)", *m)
}

// extServiceDestination resolves the backendRefs of a service a filter
// calls over gRPC: one cluster named name, its backends HTTP/2, in the
// owner's namespace (other namespaces need a ReferenceGrant). authority is
// the :authority Envoy Gateway sends ("name.namespace:port" of the first
// backendRef).
func (b *builder) extServiceDestination(owner *policy, name, field string, bc egv1a1.BackendCluster) (*ir.RouteDestination, string, error) {
	if bc.BackendRef != nil {
		return nil, "", fieldErr(field+".backendRef", "not supported; use backendRefs")
	}
	if len(bc.BackendRefs) == 0 {
		return nil, "", fieldErr(field+".backendRefs", "at least one backendRef is required")
	}
	from := objRef{group: resource.GroupEnvoyGateway, kind: owner.kind.name, namespace: owner.key.Namespace, name: owner.key.Name}
	dest := &ir.RouteDestination{
		Name:     name,
		Metadata: &ir.Metadata{Kind: owner.kind.name, Namespace: owner.key.Namespace, Name: owner.key.Name},
	}
	for i, ref := range bc.BackendRefs {
		f := fmt.Sprintf("%s.backendRefs[%d]", field, i)
		be, rerr := b.resolveBackend(from, &ref.BackendObjectReference)
		if rerr != nil {
			return nil, "", fieldErr(f, "%s", rerr.msg)
		}
		serviceFallback(be, &ref)
		w := uint32(1)
		if ref.Weight != nil {
			if *ref.Weight < 0 {
				return nil, "", fieldErr(f+".weight", "%d is negative", *ref.Weight)
			}
			w = uint32(*ref.Weight)
		}
		if w == 0 {
			continue
		}
		be.Weight = w
		be.Name = name + "/backend/" + strconv.Itoa(i)
		be.Protocol = ir.ProtocolHTTP2 // gRPC
		if len(dest.Backends) > 0 && dest.Backends[0].AddressType != be.AddressType {
			return nil, "", fieldErr(field+".backendRefs", "backends mix address types %s and %s; Envoy Gateway refuses it too", dest.Backends[0].AddressType, be.AddressType)
		}
		dest.Backends = append(dest.Backends, be)
	}
	if len(dest.Backends) == 0 {
		return nil, "", fieldErr(field+".backendRefs", "every backendRef has weight 0")
	}
	first := bc.BackendRefs[0].BackendObjectReference
	authority := string(first.Name) + "." + namespaceOr(first.Namespace, owner.key.Namespace)
	if first.Port != nil {
		authority += ":" + strconv.Itoa(int(*first.Port))
	}
	return dest, authority, nil
}

func namespaceOr(ns *gwv1.Namespace, def string) string {
	if ns != nil && *ns != "" {
		return string(*ns)
	}
	return def
}
