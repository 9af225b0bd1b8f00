package configcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	streamhttp "k8s.io/streaming/pkg/httpstream"
)

// Envoy Gateway's egctl reaches the proxies of a cluster the way kubectl
// port-forward does: it lists the Envoy pods (by name, by label, in one
// namespace or all), forwards a local port to each pod's admin port
// through the API server, and reads /config_dump there. egctl does the
// same, with client-go, so `egctl config envoy-proxy all -n NS` works as
// Envoy Gateway users type it.

// EnvoyPodSelector selects the pods of proxies Envoy Gateway manages.
var EnvoyPodSelector = []string{
	"app.kubernetes.io/name=envoy",
	"app.kubernetes.io/component=proxy",
	"app.kubernetes.io/managed-by=envoy-gateway",
}

// DefaultPodNamespace is where Envoy Gateway runs its proxies.
const DefaultPodNamespace = "envoy-gateway-system"

// DefaultPodAdminPort is the admin port of Envoy Gateway's proxies.
const DefaultPodAdminPort = 19000

// kubeOptions are the kubectl-style flags.
type kubeOptions struct {
	kubeconfig    string
	context       string
	namespace     string
	labels        []string
	allNamespaces bool
	adminPort     int
}

// pod is one selected pod.
type pod struct{ namespace, name string }

func (p pod) String() string { return p.namespace + "/" + p.name }

// kubeconfigFound says whether a kubeconfig would be used without flags:
// $KUBECONFIG, or ~/.kube/config.
func kubeconfigFound() bool {
	if os.Getenv("KUBECONFIG") != "" {
		return true
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(home, ".kube", "config"))
	return err == nil
}

// restConfig loads the kubeconfig as kubectl does ($KUBECONFIG, then
// ~/.kube/config; --kubeconfig and --context override).
func (k *kubeOptions) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w (or read a proxy directly with --admin HOST:PORT)", err)
	}
	return cfg, nil
}

// podScheme knows the only objects egctl reads from a cluster: pods, pod
// lists, and the Status an API server answers an error with. client-go's
// typed clients use kubernetes/scheme instead, which registers every API
// group Kubernetes has and links all of their code into the binary (about
// 14 MB of egctl's, docs/performance.md).
var podScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	s.AddKnownTypes(corev1.SchemeGroupVersion, &corev1.Pod{}, &corev1.PodList{})
	metav1.AddToGroupVersion(s, corev1.SchemeGroupVersion)
	return s
}()

// podClient is a REST client for core/v1 configured as client-go's typed
// core client configures its own (same paths, user agent and JSON), over
// podScheme.
func podClient(cfg *rest.Config) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.APIPath = "/api"
	c.NegotiatedSerializer = serializer.NewCodecFactory(podScheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientFor(c)
}

// selectPods picks the pods as Envoy Gateway's egctl does: POD by name,
// else -l's selectors, else Envoy Gateway's proxy labels; in -n, or every
// namespace with -A. Pods that are not Running are returned apart: they
// have no admin port to reach.
func (k *kubeOptions) selectPods(ctx context.Context, c *rest.RESTClient, name string) (running []pod, notRunning []pod, err error) {
	var pods []corev1.Pod
	switch {
	case name != "":
		var p corev1.Pod
		if err := c.Get().Namespace(k.namespace).Resource("pods").Name(name).Do(ctx).Into(&p); err != nil {
			return nil, nil, fmt.Errorf("get pod %s/%s: %w", k.namespace, name, err)
		}
		pods = []corev1.Pod{p}
	default:
		sel := k.labels
		if len(sel) == 0 {
			sel = EnvoyPodSelector
		}
		ns := k.namespace
		where := "namespace " + ns
		if k.allNamespaces {
			ns, where = metav1.NamespaceAll, "any namespace"
		}
		var list corev1.PodList
		err := c.Get().Namespace(ns).Resource("pods").Param("labelSelector", strings.Join(sel, ",")).Do(ctx).Into(&list)
		if err != nil {
			return nil, nil, fmt.Errorf("list pods: %w", err)
		}
		if len(list.Items) == 0 {
			return nil, nil, fmt.Errorf("no pods in %s match %s", where, strings.Join(sel, ","))
		}
		pods = list.Items
	}
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning {
			notRunning = append(notRunning, pod{p.Namespace, p.Name})
			continue
		}
		running = append(running, pod{p.Namespace, p.Name})
	}
	return running, notRunning, nil
}

// forward opens a local port on 127.0.0.1 (chosen by the kernel) to the
// pod's admin port, as `kubectl port-forward` does: WebSocket first, SPDY
// when the API server does not speak it. stop ends it.
func forward(ctx context.Context, cfg *rest.Config, c *rest.RESTClient, p pod, port int, errOut io.Writer) (addr string, stop func(), err error) {
	u := c.Post().Resource("pods").Namespace(p.namespace).Name(p.name).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return "", nil, err
	}
	dialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	tunneling, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, cfg)
	if err != nil {
		return "", nil, err
	}
	dialer = portforward.NewFallbackDialerForStreaming(tunneling, dialer, func(err error) bool {
		return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err)
	})
	stopCh := make(chan struct{})
	readyCh := make(chan struct{})
	fw, err := portforward.NewOnAddressesForStreaming(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(port)}, stopCh, readyCh, io.Discard, errOut)
	if err != nil {
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	stop = func() { close(stopCh); <-done }
	select {
	case <-readyCh:
	case err := <-done:
		if err == nil {
			err = errors.New("port forwarding ended before it was ready")
		}
		return "", nil, fmt.Errorf("port-forward to %s: %w", p, err)
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		stop()
		return "", nil, fmt.Errorf("port-forward to %s: no local port", p)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local))), stop, nil
}
