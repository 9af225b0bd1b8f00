package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/ir"
)

// get polls url until check accepts the answer or the deadline passes.
func get(t *testing.T, url string, timeout time.Duration, check func(code int, body string) bool) (int, string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: 2 * time.Second}
	var code int
	var body, lastErr string
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, body = resp.StatusCode, string(b)
			if check(code, body) {
				return code, body
			}
		} else {
			lastErr = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: no acceptable answer within %v; last: %d %q %s", url, timeout, code, body, lastErr)
	return 0, ""
}

func directResponseIR(ip string, port uint32, body string) *ir.Config {
	return &ir.Config{Proxies: []*ir.Proxy{{
		Name: "ns/gw", Namespace: "ns", Gateway: "gw",
		HTTP: []*ir.HTTPListener{{
			Name: "ns/gw/http", Address: ip, Port: port, GatewayPort: port,
			VirtualHosts: []*ir.VirtualHost{{
				Name: "ns/gw/http/*", Domains: []string{"*"},
				Routes: []*ir.HTTPRoute{{
					Name:           "httproute/ns/r/rule/0/match/0/*",
					Match:          ir.HTTPMatch{PathType: ir.PathPrefix, Path: "/"},
					DirectResponse: &ir.DirectResponse{StatusCode: 200, Body: body},
				}},
			}},
		}},
	}}}
}

func TestDataPlaneUpdatesWithoutRestart(t *testing.T) {
	envoy := envoytest.Find(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dp, err := StartDataPlane(envoy, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	// An address no other test of this package uses.
	const ip = "127.0.200.7"
	url := fmt.Sprintf("http://%s:%d/", ip, port)

	if err := dp.Apply(ctx, directResponseIR(ip, uint32(port), "hello")); err != nil {
		t.Fatal(err)
	}
	get(t, url, 20*time.Second, func(code int, body string) bool { return code == 200 && body == "hello" })
	pid := dp.envoys["ns/gw"].proc.cmd.Process.Pid

	if err := dp.Apply(ctx, directResponseIR(ip, uint32(port), "bye")); err != nil {
		t.Fatal(err)
	}
	get(t, url, 10*time.Second, func(code int, body string) bool { return code == 200 && body == "bye" })
	if got := dp.envoys["ns/gw"].proc.cmd.Process.Pid; got != pid {
		t.Fatalf("Envoy restarted for an update: pid %d → %d", pid, got)
	}

	if n := dp.NACKs(); len(n) > 0 {
		t.Fatalf("Envoy rejected configuration: %v", n)
	}

	e := dp.envoys["ns/gw"]
	if err := dp.Apply(ctx, &ir.Config{}); err != nil {
		t.Fatal(err)
	}
	if !e.proc.exited() || len(dp.envoys) != 0 {
		t.Fatal("Envoy of a removed proxy still runs")
	}
}

// TestHarnessRoutesToEchoBackend drives the whole harness through its REST
// API, as the suite does: a Deployment becomes an echo process with a Pod
// and an EndpointSlice, the controller translates and writes statuses, and
// Envoy on the Gateway's own address routes to the process.
func TestHarnessRoutesToEchoBackend(t *testing.T) {
	envoy := envoytest.Find(t)
	if testing.Short() {
		t.Skip("builds echo-basic and runs Envoy")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	echo, err := BuildEcho(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := StartHarness(Options{EnvoyBin: envoy, EchoBin: echo, Dir: dir, Logf: t.Logf, Resync: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c, err := client.New(h.API.RESTConfig(), h.API.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	const ns = "harness-test"
	replicas := int32(1)
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "egctl-test"}, Spec: gwv1.GatewayClassSpec{ControllerName: ControllerName}},
		&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}, Spec: gwv1.GatewaySpec{
			GatewayClassName: "egctl-test",
			Listeners:        []gwv1.Listener{{Name: "http", Port: gwv1.PortNumber(port), Protocol: gwv1.HTTPProtocolType}},
		}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "echo"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(3000)}},
		}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"}, Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "echo"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "echo"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "echo", Image: "registry.k8s.io/gateway-api/echo-basic:v1.5.1",
					Env: []corev1.EnvVar{
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
					},
				}}},
			},
		}},
		&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r"}, Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: "echo", Port: ptr(gwv1.PortNumber(8080))},
			}}}}},
		}},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}

	var gw gwv1.Gateway
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "gw"}, &gw); err != nil {
			t.Fatal(err)
		}
		if len(gw.Status.Addresses) == 1 && hasCondition(gw.Status.Conditions, "Programmed", gw.Generation) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Gateway not programmed with an address: %+v; harness errors %v", gw.Status, h.Errors())
		}
		time.Sleep(100 * time.Millisecond)
	}
	ip := gw.Status.Addresses[0].Value
	if !strings.HasPrefix(ip, "127.") {
		t.Fatalf("Gateway address %q is not loopback", ip)
	}

	var echoed struct {
		Pod       string `json:"pod"`
		Namespace string `json:"namespace"`
		Path      string `json:"path"`
	}
	_, body := get(t, fmt.Sprintf("http://%s:%d/hello", ip, port), 30*time.Second, func(code int, _ string) bool { return code == 200 })
	if err := json.Unmarshal([]byte(body), &echoed); err != nil {
		t.Fatalf("echo answer %q: %v", body, err)
	}
	if !strings.HasPrefix(echoed.Pod, "echo-") || echoed.Namespace != ns || echoed.Path != "/hello" {
		t.Fatalf("echo answer = %+v", echoed)
	}

	var pod corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: echoed.Pod}, &pod); err != nil {
		t.Fatalf("Pod of the answering process: %v", err)
	}
	var slices discoveryv1.EndpointSliceList
	if err := c.List(ctx, &slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: "echo"}); err != nil || len(slices.Items) != 1 {
		t.Fatalf("EndpointSlices of Service echo: %d, %v", len(slices.Items), err)
	}
	var route gwv1.HTTPRoute
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "r"}, &route); err != nil {
		t.Fatal(err)
	}
	if len(route.Status.Parents) != 1 || !hasCondition(route.Status.Parents[0].Conditions, "Accepted", route.Generation) {
		t.Fatalf("HTTPRoute status = %+v", route.Status)
	}

	cs, err := kubernetes.NewForConfig(h.API.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	logs, err := cs.CoreV1().Pods(ns).GetLogs(echoed.Pod, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(logs), "Echoing back request made to /hello") {
		t.Fatalf("pod logs = %q, %v", logs, err)
	}

	// Deleting the Deployment stops its process and removes its Pod.
	if err := c.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"}}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Pods left after the Deployment was deleted", len(pods.Items))
		}
		time.Sleep(100 * time.Millisecond)
	}
	get(t, fmt.Sprintf("http://%s:%d/hello", ip, port), 15*time.Second, func(code int, _ string) bool { return code == 503 })
	if errs := h.Errors(); len(errs) > 0 {
		t.Logf("reconcile errors seen (transient ones are expected): %v", errs)
	}
}

func hasCondition(conds []metav1.Condition, typ string, gen int64) bool {
	for _, c := range conds {
		if c.Type == typ && c.Status == metav1.ConditionTrue && c.ObservedGeneration == gen {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
