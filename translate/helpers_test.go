package translate

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/ir"
)

func run(t testing.TB, yamlDocs string, opts ...Options) *Result {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	res, err := Translate(parseSet(t, yamlDocs), o)
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	return res
}

func cond(t testing.TB, conds []metav1.Condition, typ string) metav1.Condition {
	t.Helper()
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	t.Fatalf("no %s condition in %+v", typ, conds)
	return metav1.Condition{}
}

// wantCond checks status ("True"/"False") and reason of a condition.
func wantCond(t testing.TB, conds []metav1.Condition, typ, status, reason string) metav1.Condition {
	t.Helper()
	c := cond(t, conds, typ)
	if string(c.Status) != status || c.Reason != reason {
		t.Fatalf("%s = %s/%s (%q), want %s/%s", typ, c.Status, c.Reason, c.Message, status, reason)
	}
	return c
}

func routeOut(t testing.TB, res *Result, ns, name string) *gwv1.HTTPRoute {
	t.Helper()
	for _, r := range res.Status.HTTPRoutes {
		if r.Namespace == ns && r.Name == name {
			return r
		}
	}
	t.Fatalf("no HTTPRoute %s/%s in status", ns, name)
	return nil
}

func gatewayOut(t testing.TB, res *Result, ns, name string) *gwv1.Gateway {
	t.Helper()
	for _, g := range res.Status.Gateways {
		if g.Namespace == ns && g.Name == name {
			return g
		}
	}
	t.Fatalf("no Gateway %s/%s in status", ns, name)
	return nil
}

func listenerStatus(t testing.TB, g *gwv1.Gateway, name string) gwv1.ListenerStatus {
	t.Helper()
	for _, l := range g.Status.Listeners {
		if string(l.Name) == name {
			return l
		}
	}
	t.Fatalf("no listener %s in %s status", name, g.Name)
	return gwv1.ListenerStatus{}
}

// parentConds returns the conditions of the only parent status entry of ours.
func parentConds(t testing.TB, r *gwv1.HTTPRoute) []metav1.Condition {
	t.Helper()
	var out []gwv1.RouteParentStatus
	for _, p := range r.Status.Parents {
		if p.ControllerName == DefaultControllerName {
			out = append(out, p)
		}
	}
	if len(out) != 1 {
		t.Fatalf("HTTPRoute %s: %d parent statuses of ours, want 1: %+v", r.Name, len(out), r.Status.Parents)
	}
	return out[0].Conditions
}

func proxy(t testing.TB, res *Result, name string) *ir.Proxy {
	t.Helper()
	for _, p := range res.IR.Proxies {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no proxy %s", name)
	return nil
}

func vhost(t testing.TB, p *ir.Proxy, name string) *ir.VirtualHost {
	t.Helper()
	for _, l := range p.HTTP {
		for _, v := range l.VirtualHosts {
			if v.Name == name {
				return v
			}
		}
	}
	var names []string
	for _, l := range p.HTTP {
		for _, v := range l.VirtualHosts {
			names = append(names, v.Name)
		}
	}
	t.Fatalf("no virtual host %s; have %s", name, strings.Join(names, ", "))
	return nil
}

func routeNames(v *ir.VirtualHost) []string {
	var out []string
	for _, r := range v.Routes {
		out = append(out, r.Name)
	}
	return out
}

// gwYAML is a GatewayClass and a Gateway "infra/gw" with the given
// listeners block (indented under spec).
func gwYAML(listeners string) string {
	return `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: eg
  listeners:
` + listeners + "\n---\n"
}

const svcYAML = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: infra}
spec:
  clusterIP: 10.96.0.1
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  clusterIP: 10.96.0.2
  ports: [{name: http, port: 80}]
---
`
