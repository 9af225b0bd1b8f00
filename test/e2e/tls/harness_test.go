// Package tls_test holds behaviour tests for TLS on both sides of the
// proxy: HTTPS listeners (certificates per SNI and key type, tls.options,
// client certificate validation, 421 for misdirected requests), TLS to
// backends (BackendTLSPolicy, the Gateway's client certificate) and the
// upstream protocols that ride on it (WebSocket, h2c). Manifests are
// compiled in-process by egctl's own command, a real Envoy loads the
// bootstrap, and in-test servers on loopback are the backends.
package tls_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/egctl/egctl/cli"
	"github.com/egctl/egctl/cli/rootcmd"
	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/test/e2e"
)

const requestTimeout = 10 * time.Second

// deployed is a running Envoy compiled from one manifest.
type deployed struct {
	admin int
	log   string // Envoy's log file
	// stderr is egctl's, for failure messages.
	stderr string
}

// deploy renders tmpl with data (helpers: b64, indent), compiles it with
// `egctl x translate --to bootstrap`, binds every listener to loopback,
// starts Envoy and waits until it is ready. wantCode is egctl's expected
// exit status (1 when the manifest has objects that are not accepted).
func deploy(t *testing.T, wantCode int, tmpl string, data any) *deployed {
	t.Helper()
	envoy := envoytest.Find(t)
	manifest := render(t, tmpl, data)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.yaml")
	if err := os.WriteFile(in, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	admin := e2e.FreePort(t)
	var out, errOut bytes.Buffer
	ios := &cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := rootcmd.Execute(ios, []string{"x", "translate", "-f", in, "--to", "bootstrap",
		"--admin-address", fmt.Sprintf("127.0.0.1:%d", admin)})
	if code != wantCode {
		t.Fatalf("egctl exit %d, want %d\nstderr:\n%s\nmanifest:\n%s", code, wantCode, errOut.String(), manifest)
	}
	raw := filepath.Join(dir, "bootstrap.yaml")
	if err := os.WriteFile(raw, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	boot := filepath.Join(dir, "bootstrap.json")
	if err := e2e.LoopbackBootstrap(raw, boot); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "envoy.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(envoy, "-c", boot, "--disable-hot-restart", "--concurrency", "1", "-l", logLevel(),
		"--base-id", fmt.Sprint(admin))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("envoy pid %d did not exit", cmd.Process.Pid)
		}
		logf.Close()
	})
	fail := func(format string, a ...any) {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("%s\negctl stderr:\n%s\nenvoy log:\n%s\nbootstrap:\n%s", fmt.Sprintf(format, a...), errOut.String(), log, out.String())
	}
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			fail("envoy exited early: %v", cmd.ProcessState)
		default:
		}
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", admin))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "LIVE" {
				return &deployed{admin: admin, stderr: errOut.String(), log: logPath}
			}
		}
		if time.Now().After(deadline) {
			fail("envoy not ready after 30s (last error %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func render(t *testing.T, tmpl string, data any) string {
	t.Helper()
	funcs := template.FuncMap{
		"b64": func(v any) string {
			switch x := v.(type) {
			case []byte:
				return base64.StdEncoding.EncodeToString(x)
			case string:
				return base64.StdEncoding.EncodeToString([]byte(x))
			}
			panic(fmt.Sprintf("b64: %T", v))
		},
		// indent for PEM in a YAML block scalar.
		"indent": func(n int, v []byte) string {
			pad := strings.Repeat(" ", n)
			return pad + strings.ReplaceAll(strings.TrimRight(string(v), "\n"), "\n", "\n"+pad)
		},
	}
	tp, err := template.New("m").Funcs(funcs).Option("missingkey=error").Parse(tmpl)
	if err != nil {
		t.Fatalf("template: %v", err)
	}
	var b strings.Builder
	if err := tp.Execute(&b, data); err != nil {
		t.Fatalf("template: %v", err)
	}
	return b.String()
}

const gatewayClass = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
---
`

// tlsSecret is a kubernetes.io/tls Secret in namespace default.
func tlsSecret(name string, c *leaf) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
---
`, name, base64.StdEncoding.EncodeToString(c.certPEM), base64.StdEncoding.EncodeToString(c.keyPEM))
}

// caConfigMap holds a CA certificate under ca.crt.
func caConfigMap(name string, ca *authority) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: %s, namespace: default}
data:
  ca.crt: |
%s
---
`, name, indentPEM(4, ca.certPEM))
}

func indentPEM(n int, p []byte) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimRight(string(p), "\n"), "\n", "\n"+pad)
}

// service is a Service named name with one port (number 8080, name
// "port", optional appProtocol) whose only endpoint is 127.0.0.1:target.
func service(name, appProtocol string, target int) string {
	ap := ""
	if appProtocol != "" {
		ap = "\n    appProtocol: " + appProtocol
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: default}
spec:
  ports:
  - name: port
    port: 8080%[2]s
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-1
  namespace: default
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
endpoints:
- addresses: [127.0.0.1]
  conditions: {ready: true}
ports:
- {name: port, port: %[3]d}
---
`, name, ap, target)
}

// authority is a CA made for one test.
type authority struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	pool    *x509.CertPool
}

func newCA(t *testing.T, name string) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &authority{cert: c, key: key, certPEM: pemBlock("CERTIFICATE", der), pool: pool}
}

func serial(t *testing.T) *big.Int {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// leaf is a certificate issued by an authority.
type leaf struct {
	certPEM, keyPEM []byte
	der             []byte
	pair            tls.Certificate
}

type keyKind int

const (
	ecdsaKey keyKind = iota
	rsaKey
)

// issue makes a server (client=false) or client certificate for names.
func (ca *authority) issue(t *testing.T, kind keyKind, client bool, names ...string) *leaf {
	t.Helper()
	var pub any
	var keyPEM []byte
	switch kind {
	case rsaKey:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		pub = &k.PublicKey
		keyPEM = pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	default:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = &k.PublicKey
		kd, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM = pemBlock("EC PRIVATE KEY", kd)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pemBlock("CERTIFICATE", der)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &leaf{certPEM: certPEM, keyPEM: keyPEM, der: der, pair: pair}
}

// dialTLS connects to 127.0.0.1:port with cfg (bounded in time).
func dialTLS(port int, cfg *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	c, err := (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// httpsClient sends every request to 127.0.0.1:port over TLS with cfg.
func httpsClient(port int, cfg *tls.Config) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
			},
			TLSClientConfig:   cfg,
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// plainClient sends every request to 127.0.0.1:port in clear text.
func plainClient(port int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
			},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get does GET url with client and returns status and body.
func get(t *testing.T, client *http.Client, url string) (int, string, error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

// backend is an in-test HTTP server on loopback.
type backend struct {
	port int
	srv  *http.Server
}

// startBackend serves h on a free loopback port; with cfg, over TLS.
func startBackend(t *testing.T, h http.Handler, cfg *tls.Config, configure func(*http.Server)) *backend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		l = tls.NewListener(l, cfg)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if configure != nil {
		configure(srv)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	})
	return &backend{port: l.Addr().(*net.TCPAddr).Port, srv: srv}
}

// describe answers with what the backend saw: protocol, TLS server name
// and client certificate subject.
func describe(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sni, client := "", ""
		if r.TLS != nil {
			sni = r.TLS.ServerName
			if len(r.TLS.PeerCertificates) > 0 {
				client = r.TLS.PeerCertificates[0].Subject.CommonName
			}
		}
		fmt.Fprintf(w, "backend=%s proto=%s tls=%v sni=%s client=%s", name, r.Proto, r.TLS != nil, sni, client)
	})
}

// newRequest builds a GET for url, with a Host header of host when set.
func newRequest(url, host string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if host != "" {
		req.Host = host
	}
	return req, nil
}

// logLevel is Envoy's log level: warning, or $EGCTL_E2E_ENVOY_LOG to debug.
func logLevel() string {
	if l := os.Getenv("EGCTL_E2E_ENVOY_LOG"); l != "" {
		return l
	}
	return "warning"
}

// httpHandlerFunc answers 200 and calls hit on every request.
func httpHandlerFunc(hit func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit()
		w.WriteHeader(200)
	})
}
