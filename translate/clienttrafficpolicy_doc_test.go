package translate

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/xds"
)

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestClientTrafficPolicyDocExamples compiles every example of
// docs/clienttrafficpolicy.md against the page's base manifests: each
// policy must be accepted without a problem, reach a listener, and give a
// bootstrap the pinned Envoy validates.
func TestClientTrafficPolicyDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "clienttrafficpolicy.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlock.FindAllSubmatch(doc, -1)
	if len(blocks) < 2 || !strings.HasPrefix(string(blocks[0][1]), "# base") {
		t.Fatalf("want a '# base' block and examples in the page, found %d blocks", len(blocks))
	}
	base := string(blocks[0][1]) + "---\n" + docFixtures(t)
	envoy, haveEnvoy := envoytest.Lookup()
	for i, b := range blocks[1:] {
		example := string(b[1])
		name := regexp.MustCompile(`name: ([a-z0-9-]+), namespace`).FindStringSubmatch(example)
		if name == nil {
			t.Fatalf("example %d has no policy name", i+1)
		}
		t.Run(name[1], func(t *testing.T) {
			set, _, err := manifest.LoadBytes("doc.yaml", []byte(base+"---\n"+example), manifest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Translate(set, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Problems {
				t.Errorf("problem: %s", p)
			}
			if err := res.IR.Validate(); err != nil {
				t.Fatal(err)
			}
			applied := false
			for _, l := range res.IR.Proxies[0].HTTP {
				if l.Client != nil && l.Client.Policy == "default/"+name[1] {
					applied = true
				}
			}
			if !applied {
				t.Fatalf("the policy reached no listener")
			}
			rs, err := xds.Translate(res.IR)
			if err != nil {
				t.Fatal(err)
			}
			bs, err := xds.StaticBootstrap(rs[0], xds.BootstrapOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !haveEnvoy {
				t.Skip("no Envoy to validate the bootstrap (make envoy or ENVOY_BIN)")
			}
			y, err := xds.Marshal(bs, "yaml")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "bootstrap.yaml")
			if err := os.WriteFile(path, y, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if out, err := exec.CommandContext(ctx, envoy, "--mode", "validate", "-c", path, "-l", "error", "--disable-hot-restart").CombinedOutput(); err != nil {
				t.Fatalf("envoy --mode validate: %v\n%s", err, out)
			}
		})
	}
}

// docFixtures are the objects the page's base leaves out: the listener's
// certificate, the client CA, the backend Service.
func docFixtures(t *testing.T) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "www.example.com"}, DNSNames: []string{"www.example.com"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	k := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: www-cert, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: %s, tls.key: %s}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: client-ca, namespace: default}
data:
  ca.crt: %q
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec:
  ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: app-1, namespace: default, labels: {kubernetes.io/service-name: app}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: 3000, protocol: TCP}]
`, base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(k), crt)
}
