package validate

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
)

// The core kinds have no CRD: the API server validates them with code in
// Kubernetes itself, which is not importable. coreErrors re-states the
// rules of that code for the fields egctl reads (those that end up in
// Envoy's configuration or decide what does); other fields are decoded
// strictly but not checked further.

// maxDataSize is the API server's limit on a Secret's or ConfigMap's data.
const maxDataSize = 1 << 20

func coreErrors(o Object) []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	msgs := func(path string, ms []string) {
		for _, m := range ms {
			add(path, "Invalid value: %s", m)
		}
	}
	switch x := o.Typed.(type) {
	case *corev1.Service:
		spec := &x.Spec
		switch spec.Type {
		case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
		default:
			add("spec.type", "Unsupported value: %q: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"", spec.Type)
		}
		if spec.Type == corev1.ServiceTypeExternalName {
			msgs("spec.externalName", utilvalidation.IsDNS1123Subdomain(strings.TrimSuffix(spec.ExternalName, ".")))
		}
		for i, ip := range append([]string{spec.ClusterIP}, spec.ClusterIPs...) {
			if ip == "" || ip == corev1.ClusterIPNone {
				continue
			}
			path := "spec.clusterIP"
			if i > 0 {
				path = fmt.Sprintf("spec.clusterIPs[%d]", i-1)
			}
			for _, e := range utilvalidation.IsValidIP(nil, ip) {
				add(path, "Invalid value: %s", e.Detail)
			}
		}
		names := map[string]bool{}
		for i, p := range spec.Ports {
			path := fmt.Sprintf("spec.ports[%d]", i)
			if len(spec.Ports) > 1 && p.Name == "" {
				add(path+".name", "Required value: every port needs a name when a Service has several")
			}
			if p.Name != "" {
				msgs(path+".name", utilvalidation.IsDNS1123Label(p.Name))
				if names[p.Name] {
					add(path+".name", "Duplicate value: %q", p.Name)
				}
				names[p.Name] = true
			}
			msgs(path+".port", utilvalidation.IsValidPortNum(int(p.Port)))
			switch p.Protocol {
			case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
			default:
				add(path+".protocol", "Unsupported value: %q: supported values: \"SCTP\", \"TCP\", \"UDP\"", p.Protocol)
			}
			if p.TargetPort.Type == 0 && p.TargetPort.IntVal != 0 {
				msgs(path+".targetPort", utilvalidation.IsValidPortNum(int(p.TargetPort.IntVal)))
			} else if p.TargetPort.Type == 1 {
				msgs(path+".targetPort", utilvalidation.IsValidPortName(p.TargetPort.StrVal))
			}
			if p.AppProtocol != nil {
				msgs(path+".appProtocol", utilvalidation.IsQualifiedName(*p.AppProtocol))
			}
		}
	case *discoveryv1.EndpointSlice:
		switch x.AddressType {
		case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
		default:
			add("addressType", "Unsupported value: %q: supported values: \"FQDN\", \"IPv4\", \"IPv6\"", x.AddressType)
		}
		if len(x.Endpoints) > 1000 {
			add("endpoints", "Too many: %d: must have at most 1000 items", len(x.Endpoints))
		}
		for i, ep := range x.Endpoints {
			if len(ep.Addresses) == 0 || len(ep.Addresses) > 100 {
				add(fmt.Sprintf("endpoints[%d].addresses", i), "Invalid value: must have between 1 and 100 addresses")
			}
			for j, a := range ep.Addresses {
				path := fmt.Sprintf("endpoints[%d].addresses[%d]", i, j)
				switch x.AddressType {
				case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
					// The API server also refuses loopback and link-local
					// addresses here; egctl accepts them, as offline
					// configurations that point at local processes
					// (tests, a laptop) need them.
					errs := utilvalidation.IsValidIP(nil, a)
					for _, e := range errs {
						add(path, "Invalid value: %s", e.Detail)
					}
					if ip, err := netip.ParseAddr(a); len(errs) == 0 && err == nil && ip.Is4() != (x.AddressType == discoveryv1.AddressTypeIPv4) {
						add(path, "Invalid value: must be an %s address", x.AddressType)
					}
				case discoveryv1.AddressTypeFQDN:
					for _, e := range utilvalidation.IsFullyQualifiedDomainName(nil, a) {
						add(path, "Invalid value: %s", e.Detail)
					}
				}
			}
			if ep.Hostname != nil {
				msgs(fmt.Sprintf("endpoints[%d].hostname", i), utilvalidation.IsDNS1123Label(*ep.Hostname))
			}
		}
		if len(x.Ports) > 100 {
			add("ports", "Too many: %d: must have at most 100 items", len(x.Ports))
		}
		for i, p := range x.Ports {
			path := fmt.Sprintf("ports[%d]", i)
			if p.Name != nil && *p.Name != "" {
				msgs(path+".name", utilvalidation.IsValidPortName(*p.Name))
			}
			if p.Port != nil {
				// EndpointSlice ports may be 0 (all ports) up to 65535.
				if *p.Port < 0 || *p.Port > 65535 {
					add(path+".port", "Invalid value: %d: must be between 0 and 65535, inclusive", *p.Port)
				}
			}
			if p.Protocol != nil {
				switch *p.Protocol {
				case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
				default:
					add(path+".protocol", "Unsupported value: %q: supported values: \"SCTP\", \"TCP\", \"UDP\"", *p.Protocol)
				}
			}
			if p.AppProtocol != nil {
				msgs(path+".appProtocol", utilvalidation.IsQualifiedName(*p.AppProtocol))
			}
		}
	case *corev1.Secret:
		size := 0
		for _, k := range slices.Sorted(maps.Keys(x.Data)) {
			for _, m := range utilvalidation.IsConfigMapKey(k) {
				add("data", "Invalid value: key %q: %s", k, m)
			}
			size += len(k) + len(x.Data[k])
		}
		for _, k := range slices.Sorted(maps.Keys(x.StringData)) {
			v := x.StringData[k]
			for _, m := range utilvalidation.IsConfigMapKey(k) {
				add("stringData", "Invalid value: key %q: %s", k, m)
			}
			size += len(k) + len(v)
		}
		if size > maxDataSize {
			add("data", "Too long: may not be more than %d bytes", maxDataSize)
		}
		if x.Type == corev1.SecretTypeTLS {
			for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
				_, inData := x.Data[k]
				_, inString := x.StringData[k]
				if !inData && !inString {
					add("data["+k+"]", "Required value: a kubernetes.io/tls Secret needs %s", k)
				}
			}
		}
	case *corev1.ConfigMap:
		size := 0
		for _, k := range slices.Sorted(maps.Keys(x.Data)) {
			v := x.Data[k]
			for _, m := range utilvalidation.IsConfigMapKey(k) {
				add("data", "Invalid value: key %q: %s", k, m)
			}
			if _, dup := x.BinaryData[k]; dup {
				add("data", "Invalid value: key %q: duplicate of binaryData key", k)
			}
			size += len(k) + len(v)
		}
		for _, k := range slices.Sorted(maps.Keys(x.BinaryData)) {
			v := x.BinaryData[k]
			for _, m := range utilvalidation.IsConfigMapKey(k) {
				add("binaryData", "Invalid value: key %q: %s", k, m)
			}
			size += len(k) + len(v)
		}
		if size > maxDataSize {
			add("data", "Too long: may not be more than %d bytes", maxDataSize)
		}
	}
	return errs
}
