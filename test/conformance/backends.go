package conformance

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/egctl/egctl/internal/freeport"
)

// managedBy marks the EndpointSlices the harness owns; slices a test
// creates itself are left alone.
const managedBy = "egctl-conformance"

// Backends turns the Deployments in the Store into processes: every replica
// of a container running the echo-basic image is an echo-basic process on
// loopback ports; the harness writes a Ready Pod for it and, for every
// Service selecting it, an EndpointSlice. Each Pod has its own loopback
// IP (127.1.x.y) where forwarders relay the container ports to the ports
// the process really bound, so Pod IPs and ports look as in a cluster.
type Backends struct {
	store   *Store
	echoBin string
	dir     string
	logf    func(format string, args ...any)

	mu      sync.Mutex
	logged  map[string]bool        // messages already logged once
	deploys map[string]*deployment // "ns/name"
	pods    map[string]*podProc    // "ns/name"
	ipUsed  map[string]bool
}

type deployment struct {
	hash string
	pods []*podProc
}

// podProc is one replica. proc is nil for images the harness cannot run:
// the Pod still exists (Ready, so the suite's readiness gate passes) but has
// no ports, so no traffic can reach it.
type podProc struct {
	namespace, name string
	labels          map[string]string
	// ports maps a container port, as the manifest's Services see it, to
	// the loopback port the process really listens on.
	ports map[int32]int32
	// named maps container port names to container ports.
	named map[string]int32
	ip    string
	fwds  []relay
	proc  *process
}

// stop ends the process and the forwarders.
func (p *podProc) stop() {
	for _, f := range p.fwds {
		f.close()
	}
	p.fwds = nil
	if p.proc != nil {
		p.proc.stop()
	}
}

// allocIP returns an unused Pod IP in 127.1.0.0/16; callers hold b.mu.
func (b *Backends) allocIP() string {
	for n := 0; ; n++ {
		ip := fmt.Sprintf("127.1.%d.%d", n/253, n%253+2)
		if !b.ipUsed[ip] {
			b.ipUsed[ip] = true
			return ip
		}
	}
}

// NewBackends returns a manager running echoBin for echo-basic containers;
// per-pod files go under dir.
func NewBackends(st *Store, echoBin, dir string, logf func(string, ...any)) *Backends {
	return &Backends{store: st, echoBin: echoBin, dir: dir, logf: logf, deploys: map[string]*deployment{}, pods: map[string]*podProc{}, logged: map[string]bool{}, ipUsed: map[string]bool{}}
}

// Logs implements PodLogs from the captured output of the pod's process.
func (b *Backends) Logs(namespace, pod string, since time.Time) ([]byte, bool) {
	b.mu.Lock()
	p := b.pods[namespace+"/"+pod]
	b.mu.Unlock()
	if p == nil {
		return nil, false
	}
	if p.proc == nil {
		return nil, true
	}
	return p.proc.out.since(since), true
}

// Reconcile brings processes, Pods and EndpointSlices in line with the
// Deployments and Services in the Store.
func (b *Backends) Reconcile(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var deps appsv1.DeploymentList
	if err := b.store.List(ctx, &deps); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := range deps.Items {
		d := &deps.Items[i]
		key := d.Namespace + "/" + d.Name
		seen[key] = true
		h := templateHash(d)
		if cur := b.deploys[key]; cur != nil && cur.hash == h {
			continue
		}
		if cur := b.deploys[key]; cur != nil {
			b.stopDeployment(ctx, key, cur)
		}
		dep, err := b.startDeployment(ctx, d, h)
		if err != nil {
			// Typically a volume whose Secret or ConfigMap is not there
			// yet: the next change (its creation) retries.
			b.logOnce("backends: Deployment %s: %v (will retry on the next change)", key, err)
			continue
		}
		b.deploys[key] = dep
	}
	for key, dep := range b.deploys {
		if !seen[key] {
			b.stopDeployment(ctx, key, dep)
		}
	}
	return b.syncEndpointSlices(ctx)
}

// logOnce logs a message the first time it is seen; callers hold b.mu.
func (b *Backends) logOnce(format string, args ...any) {
	m := fmt.Sprintf(format, args...)
	if !b.logged[m] {
		b.logged[m] = true
		b.logf("%s", m)
	}
}

// Close stops every process.
func (b *Backends) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.deploys {
		for _, p := range d.pods {
			p.stop()
		}
	}
	b.deploys = map[string]*deployment{}
}

func templateHash(d *appsv1.Deployment) string {
	bs, _ := json.Marshal(struct {
		R *int32
		T corev1.PodTemplateSpec
	}{d.Spec.Replicas, d.Spec.Template})
	s := sha256.Sum256(bs)
	return hex.EncodeToString(s[:5])
}

func (b *Backends) stopDeployment(ctx context.Context, key string, d *deployment) {
	for _, p := range d.pods {
		p.stop()
		delete(b.ipUsed, p.ip)
		delete(b.pods, p.namespace+"/"+p.name)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.namespace, Name: p.name}}
		if err := b.store.Delete(ctx, pod); err != nil && !apierrors.IsNotFound(err) {
			b.logf("backends: deleting Pod %s/%s: %v", p.namespace, p.name, err)
		}
	}
	delete(b.deploys, key)
}

func (b *Backends) startDeployment(ctx context.Context, d *appsv1.Deployment, hash string) (*deployment, error) {
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return nil, fmt.Errorf("no containers")
	}
	dep := &deployment{hash: hash}
	for i := int32(0); i < replicas; i++ {
		name := fmt.Sprintf("%s-%s-%s", d.Name, hash[:8], randSuffix())
		p, err := b.startPod(ctx, d, name)
		if err != nil {
			for _, q := range dep.pods {
				q.stop()
				delete(b.ipUsed, q.ip)
			}
			return nil, err
		}
		dep.pods = append(dep.pods, p)
	}
	for _, p := range dep.pods {
		b.pods[p.namespace+"/"+p.name] = p
		if err := b.writePod(ctx, d, p); err != nil {
			return nil, err
		}
	}
	return dep, nil
}

// echoPortVars are the port variables each echo-basic mode reads, with the
// defaults it falls back to; a manifest's containerPort/targetPort refers
// to those defaults (or to the value it set).
var echoPortVars = map[string][][2]string{
	"http": {{"HTTP_PORT", "3000"}, {"H2C_PORT", "3001"}, {"HTTPS_PORT", "8443"}},
	"grpc": {{"HTTP_PORT", "3000"}, {"HTTPS_PORT", "8443"}},
	"tcp":  {{"TCP_PORT", "3000"}, {"TLS_PORT", "8443"}},
	"udp":  {{"UDP_PORT", "8080"}},
}

func (b *Backends) startPod(ctx context.Context, d *appsv1.Deployment, name string) (*podProc, error) {
	c := d.Spec.Template.Spec.Containers[0]
	p := &podProc{namespace: d.Namespace, name: name, labels: d.Spec.Template.Labels, ports: map[int32]int32{}, named: map[string]int32{}, ip: b.allocIP()}
	for _, cp := range c.Ports {
		if cp.Name != "" {
			p.named[cp.Name] = cp.ContainerPort
		}
	}
	if strings.Contains(c.Image, "coredns") {
		// The DNS stand-in answers on the Pod's port 53 (see dnsAnswer).
		f, err := startUDPForwarder(net.JoinHostPort(p.ip, "53"), "", dnsAnswer)
		if err != nil {
			return nil, fmt.Errorf("pod %s: DNS stand-in: %w", name, err)
		}
		p.fwds = append(p.fwds, f)
		b.logOnce("backends: Deployment %s/%s: image %s runs as an in-process DNS stand-in on port 53/UDP", d.Namespace, d.Name, c.Image)
		return p, nil
	}
	if !strings.Contains(c.Image, "echo-basic") {
		b.logOnce("backends: Deployment %s/%s: image %s is not echo-basic; its Pod runs no process (connections to it are refused)", d.Namespace, d.Name, c.Image)
		return p, nil
	}
	podDir := filepath.Join(b.dir, "pods", d.Namespace, name)
	if err := os.MkdirAll(podDir, 0o755); err != nil {
		return nil, err
	}
	mounts, err := b.materializeVolumes(ctx, d, c, podDir)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = rewriteMountPath(e.Value, mounts)
		case e.ValueFrom.FieldRef != nil:
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				env[e.Name] = name
			case "metadata.namespace":
				env[e.Name] = d.Namespace
			case "status.podIP":
				env[e.Name] = p.ip
			}
		}
	}
	mode := "http"
	switch {
	case env["GRPC_ECHO_SERVER"] != "":
		mode = "grpc"
	case env["TCP_ECHO_SERVER"] != "":
		mode = "tcp"
	case env["UDP_ECHO_SERVER"] != "":
		mode = "udp"
	}
	var readyPort int32
	for i, v := range echoPortVars[mode] {
		cport := v[1]
		if s, ok := env[v[0]]; ok {
			cport = s
		}
		n, err := strconv.Atoi(cport)
		if err != nil {
			return nil, fmt.Errorf("%s=%q is not a port", v[0], cport)
		}
		real, err := freePort()
		if mode == "udp" {
			real, err = freeUDPPort()
		}
		if err != nil {
			return nil, err
		}
		p.ports[int32(n)] = int32(real)
		env[v[0]] = strconv.Itoa(real)
		if i == 0 {
			readyPort = int32(real)
		}
	}
	vars := make([]string, 0, len(env))
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	sort.Strings(vars)
	proc, err := startProcess(b.echoBin, nil, vars, podDir)
	if err != nil {
		return nil, err
	}
	p.proc = proc
	// Ready means the plain port (which every mode opens) answers, as a
	// readiness probe would see it.
	wait := waitTCP
	if mode == "udp" {
		wait = waitUDP
	}
	if err := wait(ctx, fmt.Sprintf("127.0.0.1:%d", readyPort), 10*time.Second, proc); err != nil {
		proc.stop()
		return nil, fmt.Errorf("pod %s: %v; output:\n%s", name, err, proc.out.since(time.Time{}))
	}
	for cport, real := range p.ports {
		listen, target := net.JoinHostPort(p.ip, strconv.Itoa(int(cport))), net.JoinHostPort("127.0.0.1", strconv.Itoa(int(real)))
		var f relay
		var err error
		if mode == "udp" {
			f, err = startUDPForwarder(listen, target, nil)
		} else {
			f, err = startForwarder(listen, target)
		}
		if err != nil {
			p.stop()
			return nil, fmt.Errorf("pod %s: %w", name, err)
		}
		p.fwds = append(p.fwds, f)
	}
	return p, nil
}

// materializeVolumes writes the Secret and ConfigMap volumes the container
// mounts into podDir and returns mountPath → directory. (A Secret holds
// the echo server's certificate; a ConfigMap the CA it checks client
// certificates against.)
func (b *Backends) materializeVolumes(ctx context.Context, d *appsv1.Deployment, c corev1.Container, podDir string) (map[string]string, error) {
	vols := map[string]corev1.VolumeSource{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		vols[v.Name] = v.VolumeSource
	}
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			continue
		}
		var data map[string][]byte
		var items []corev1.KeyToPath
		switch {
		case v.Secret != nil:
			var sec corev1.Secret
			if err := b.store.Get(ctx, client.ObjectKey{Namespace: d.Namespace, Name: v.Secret.SecretName}, &sec); err != nil {
				return nil, fmt.Errorf("volume %s: Secret %s/%s: %w", m.Name, d.Namespace, v.Secret.SecretName, err)
			}
			data, items = sec.Data, v.Secret.Items
		case v.ConfigMap != nil:
			var cm corev1.ConfigMap
			if err := b.store.Get(ctx, client.ObjectKey{Namespace: d.Namespace, Name: v.ConfigMap.Name}, &cm); err != nil {
				return nil, fmt.Errorf("volume %s: ConfigMap %s/%s: %w", m.Name, d.Namespace, v.ConfigMap.Name, err)
			}
			data = map[string][]byte{}
			for k, val := range cm.BinaryData {
				data[k] = val
			}
			for k, val := range cm.Data {
				data[k] = []byte(val)
			}
			items = v.ConfigMap.Items
		default:
			continue
		}
		dir := filepath.Join(podDir, "volumes", m.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		files := map[string]string{}
		for k := range data {
			files[k] = k
		}
		if len(items) > 0 {
			files = map[string]string{}
			for _, it := range items {
				files[it.Key] = it.Path
			}
		}
		for k, path := range files {
			if err := os.WriteFile(filepath.Join(dir, path), data[k], 0o600); err != nil {
				return nil, err
			}
		}
		out[m.MountPath] = dir
	}
	return out, nil
}

func rewriteMountPath(v string, mounts map[string]string) string {
	for mp, dir := range mounts {
		if v == mp || strings.HasPrefix(v, strings.TrimSuffix(mp, "/")+"/") {
			return dir + strings.TrimPrefix(v, strings.TrimSuffix(mp, "/"))
		}
	}
	return v
}

func (b *Backends) writePod(ctx context.Context, d *appsv1.Deployment, p *podProc) error {
	lbl := map[string]string{}
	for k, v := range d.Spec.Template.Labels {
		lbl[k] = v
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.namespace, Name: p.name, Labels: lbl},
		Spec:       *d.Spec.Template.Spec.DeepCopy(),
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			PodIP:      p.ip,
			PodIPs:     []corev1.PodIP{{IP: p.ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.ContainersReady, Status: corev1.ConditionTrue}},
		},
	}
	if err := b.store.Create(ctx, pod); err != nil {
		return fmt.Errorf("creating Pod %s/%s: %w", p.namespace, p.name, err)
	}
	return nil
}

func randSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b [5]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// freePort returns a port for a child process to bind (see package
// freeport for why the kernel's pick is not good enough).
func freePort() (int, error) { return freeport.Port() }

// freeUDPPort is freePort for UDP: freeport's ports are free for both.
func freeUDPPort() (int, error) { return freeport.Port() }

// waitUDP waits until a datagram to addr gets an answer (the UDP echo
// server echoes).
func waitUDP(ctx context.Context, addr string, timeout time.Duration, p *process) error {
	deadline := time.Now().Add(timeout)
	for {
		if c, err := net.Dial("udp", addr); err == nil {
			_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
			_, _ = c.Write([]byte("ready?"))
			b := make([]byte, 512)
			_, err = c.Read(b)
			c.Close()
			if err == nil {
				return nil
			}
		}
		if p != nil && p.exited() {
			return fmt.Errorf("process exited before %s/udp answered", addr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/udp did not answer within %v", addr, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitTCP(ctx context.Context, addr string, timeout time.Duration, p *process) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("process exited before %s opened", addr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not open within %v: %w", addr, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
