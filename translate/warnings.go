package translate

import (
	"fmt"
	"sort"

	"github.com/egctl/egctl/resource"
)

// Warning is something about an object that a CI user must see but that no
// status condition carries.
type Warning struct {
	Key     resource.Key
	Origin  resource.Origin
	Message string
}

// String renders "Kind ns/name: message".
func (w Warning) String() string { return w.Key.String() + ": " + w.Message }

func (b *builder) warn(k resource.Key, msg string) {
	b.warnings = append(b.warnings, Warning{Key: k, Origin: b.out.Origin(k), Message: msg})
}

// warningList adds the input-wide warnings and returns all of them sorted.
func (b *builder) warningList() []Warning {
	// A Gateway whose class is absent or another controller's is a
	// Problem (unserved.go); one whose class is ours but not accepted is
	// already one through the class's status, and is named here.
	for _, gw := range b.out.Gateways {
		cls := string(gw.Spec.GatewayClassName)
		k := resource.Key{Group: resource.GroupGatewayAPI, Kind: "Gateway", Namespace: gw.Namespace, Name: gw.Name}
		if b.ourClasses[cls] && !b.classes[cls] {
			b.warn(k, "GatewayClass "+cls+" is not accepted (see its status); nothing is compiled for this Gateway")
		}
	}
	b.warnUnusableAddresses()
	out := b.warnings
	sort.SliceStable(out, func(i, j int) bool {
		a, c := out[i], out[j]
		switch {
		case a.Key.Kind != c.Key.Kind:
			return a.Key.Kind < c.Key.Kind
		case a.Key.Namespace != c.Key.Namespace:
			return a.Key.Namespace < c.Key.Namespace
		case a.Key.Name != c.Key.Name:
			return a.Key.Name < c.Key.Name
		}
		return a.Message < c.Message
	})
	return out
}

// warnUnusableAddresses names every Service clusterIP and EndpointSlice
// address that is not an IP Envoy can use. Such an address is skipped
// (its traffic fails closed, see endpointIP); the API server would have
// refused it, so offline the user must hear about it.
func (b *builder) warnUnusableAddresses() {
	for _, svc := range b.out.Services {
		ip := svc.Spec.ClusterIP
		if ip != "" && ip != "None" && !endpointIP(ip) {
			k := resource.Key{Group: resource.GroupCore, Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
			b.warn(k, fmt.Sprintf("spec.clusterIP %q is not an IP address; it is not used as an endpoint", ip))
		}
	}
	for _, es := range b.out.EndpointSlices {
		if es.AddressType == "FQDN" {
			continue // not IP endpoints by declaration; never used as such
		}
		for i, ep := range es.Endpoints {
			for j, a := range ep.Addresses {
				if !endpointIP(a) {
					k := resource.Key{Group: resource.GroupDiscovery, Kind: "EndpointSlice", Namespace: es.Namespace, Name: es.Name}
					b.warn(k, fmt.Sprintf("endpoints[%d].addresses[%d] %q is not an IP address; it is not used", i, j, a))
				}
			}
		}
	}
}
