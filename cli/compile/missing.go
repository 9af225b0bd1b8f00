package compile

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/resource"
)

// DummyClusterIP is the cluster IP Envoy Gateway's egctl gives the
// Services --add-missing-resources invents (and those without one), so
// that the xDS output has the same clusters and endpoints as Envoy
// Gateway's. It is not a real backend: a proxy run from such output sends
// that traffic to 1.2.3.4.
const DummyClusterIP = "1.2.3.4"

// AddMissing does what Envoy Gateway's `egctl x translate
// --add-missing-resources` does to its input, and one thing more:
//
//   - a Service a route's backendRef names but the input lacks is added,
//     with the referenced ports and cluster IP DummyClusterIP;
//   - a Service without a cluster IP gets DummyClusterIP, and the ports
//     routes reference that it lacks;
//   - (egctl only) a GatewayClass a Gateway names but the input lacks is
//     added with controllerName (Envoy Gateway's egctl fails on input
//     without a GatewayClass instead).
//
// Envoy Gateway also fills an empty GatewayClass controllerName (egctl
// refuses that object on load, as the API server does) and adds a default
// EnvoyProxy (egctl's defaults are the EnvoyProxy defaults already).
//
// It returns one line per change, for stderr. Added objects have no
// origin: they are in no file.
func AddMissing(set *resource.Set, controllerName string) []string {
	var notes []string
	have := map[string]*corev1.Service{}
	for _, s := range set.Services {
		have[s.Namespace+"/"+s.Name] = s
	}
	need := requiredServices(set)
	keys := make([]string, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ports := need[k]
		if s := have[k]; s != nil {
			var added []string
			for _, p := range ports {
				if !hasPort(s, p) {
					s.Spec.Ports = append(s.Spec.Ports, p)
					added = append(added, portString(p))
				}
			}
			if len(added) > 0 {
				notes = append(notes, fmt.Sprintf("added port %s to Service %s, which routes reference (--add-missing-resources)", strings.Join(added, ", "), k))
			}
			continue
		}
		ns, name, _ := strings.Cut(k, "/")
		s := &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       corev1.ServiceSpec{ClusterIP: DummyClusterIP, Ports: ports},
		}
		set.Services = append(set.Services, s)
		have[k] = s
		ps := make([]string, len(ports))
		for i, p := range ports {
			ps[i] = portString(p)
		}
		notes = append(notes, fmt.Sprintf("added Service %s (ports %s, cluster IP %s), which routes reference (--add-missing-resources)", k, strings.Join(ps, ", "), DummyClusterIP))
	}
	for _, s := range set.Services {
		if s.Spec.ClusterIP == "" && s.Spec.Type != corev1.ServiceTypeExternalName {
			s.Spec.ClusterIP = DummyClusterIP
			notes = append(notes, fmt.Sprintf("gave Service %s/%s cluster IP %s (--add-missing-resources)", s.Namespace, s.Name, DummyClusterIP))
		}
	}

	classes := map[string]bool{}
	for _, c := range set.GatewayClasses {
		classes[c.Name] = true
	}
	var missing []string
	for _, g := range set.Gateways {
		if n := string(g.Spec.GatewayClassName); n != "" && !classes[n] {
			classes[n] = true
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	for _, n := range missing {
		set.GatewayClasses = append(set.GatewayClasses, &gwv1.GatewayClass{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "GatewayClass"},
			ObjectMeta: metav1.ObjectMeta{Name: n},
			Spec:       gwv1.GatewayClassSpec{ControllerName: gwv1.GatewayController(controllerName)},
		})
		notes = append(notes, fmt.Sprintf("added GatewayClass %s (controllerName %s), which Gateways name (--add-missing-resources)", n, controllerName))
	}
	return notes
}

func portString(p corev1.ServicePort) string {
	return fmt.Sprintf("%d/%s", p.Port, p.Protocol)
}

func hasPort(s *corev1.Service, p corev1.ServicePort) bool {
	for _, q := range s.Spec.Ports {
		proto := q.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if q.Port == p.Port && proto == p.Protocol {
			return true
		}
	}
	return false
}

// requiredServices lists the Service ports the routes' backendRefs name,
// by "namespace/name", in the order Envoy Gateway adds them.
func requiredServices(set *resource.Set) map[string][]corev1.ServicePort {
	need := map[string][]corev1.ServicePort{}
	add := func(routeNS string, ref gwv1.BackendRef, proto corev1.Protocol) {
		if ref.Kind != nil && *ref.Kind != "Service" || ref.Group != nil && *ref.Group != "" || ref.Port == nil {
			return
		}
		ns := routeNS
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = string(*ref.Namespace)
		}
		k := ns + "/" + string(ref.Name)
		p := corev1.ServicePort{Name: fmt.Sprintf("%s-%d", proto, *ref.Port), Protocol: proto, Port: int32(*ref.Port)}
		for _, q := range need[k] {
			if q.Port == p.Port && q.Protocol == p.Protocol {
				return
			}
		}
		need[k] = append(need[k], p)
	}
	for _, r := range set.TCPRoutes {
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				add(r.Namespace, b, corev1.ProtocolTCP)
			}
		}
	}
	for _, r := range set.UDPRoutes {
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				add(r.Namespace, b, corev1.ProtocolUDP)
			}
		}
	}
	for _, r := range set.TLSRoutes {
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				add(r.Namespace, b, corev1.ProtocolTCP)
			}
		}
	}
	for _, r := range set.HTTPRoutes {
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				add(r.Namespace, b.BackendRef, corev1.ProtocolTCP)
			}
		}
	}
	for _, r := range set.GRPCRoutes {
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				add(r.Namespace, b.BackendRef, corev1.ProtocolTCP)
			}
		}
	}
	return need
}
