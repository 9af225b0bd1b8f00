package certgen

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func TestControlPlaneManifests(t *testing.T) {
	cp, err := GenerateControlPlane(ControlPlaneOptions{Namespace: "eg"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteManifests(&buf, toAny(cp.Secrets())...); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "creationTimestamp") {
		t.Error("manifest carries creationTimestamp")
	}
	docs := strings.Split(buf.String(), "\n---\n")
	if len(docs) != 4 {
		t.Fatalf("%d documents, want 4", len(docs))
	}
	want := []struct {
		name string
		typ  corev1.SecretType
		keys []string
	}{
		{"envoy-gateway", corev1.SecretTypeTLS, []string{"ca.crt", "tls.crt", "tls.key"}},
		{"envoy", corev1.SecretTypeTLS, []string{"ca.crt", "tls.crt", "tls.key"}},
		{"envoy-rate-limit", corev1.SecretTypeTLS, []string{"ca.crt", "tls.crt", "tls.key"}},
		{"envoy-oidc-hmac", corev1.SecretTypeOpaque, []string{"hmac-secret"}},
	}
	for i, d := range docs {
		var s corev1.Secret
		if err := yaml.UnmarshalStrict([]byte(d), &s); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, d)
		}
		w := want[i]
		if s.Kind != "Secret" || s.APIVersion != "v1" || s.Name != w.name || s.Namespace != "eg" || s.Type != w.typ {
			t.Errorf("document %d: %s %s %s/%s type %s", i, s.APIVersion, s.Kind, s.Namespace, s.Name, s.Type)
		}
		if len(s.Data) != len(w.keys) {
			t.Errorf("%s: keys %v, want %v", s.Name, s.Data, w.keys)
		}
		for _, k := range w.keys {
			if len(s.Data[k]) == 0 {
				t.Errorf("%s: key %s empty or missing", s.Name, k)
			}
		}
		if s.Name == "envoy" {
			leaf := parseCert(t, s.Data["tls.crt"])
			if err := verify(t, s.Data["ca.crt"], leaf, x509.ExtKeyUsageClientAuth, ""); err != nil {
				t.Errorf("decoded envoy Secret does not verify: %v", err)
			}
		}
	}
}

func TestListenerManifests(t *testing.T) {
	lc, err := GenerateListener(ListenerOptions{Hostnames: []string{"www.example.com"}, SecretName: "www", Namespace: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	s, cm := lc.Objects()
	var buf bytes.Buffer
	if err := WriteManifests(&buf, s, cm); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(buf.String(), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("%d documents", len(docs))
	}
	var gotS corev1.Secret
	var gotCM corev1.ConfigMap
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &gotS); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &gotCM); err != nil {
		t.Fatal(err)
	}
	if gotS.Type != corev1.SecretTypeTLS || gotS.Name != "www" || gotS.Namespace != "apps" || len(gotS.Data) != 2 {
		t.Errorf("secret: %+v", gotS.ObjectMeta)
	}
	if gotCM.Name != "www-ca" || gotCM.Data["ca.crt"] == "" {
		t.Errorf("configmap: %+v", gotCM)
	}
	if strings.Contains(gotCM.Data["ca.crt"], "PRIVATE KEY") || strings.Contains(buf.String(), string(lc.CA.KeyPEM)) {
		t.Error("CA private key leaked into manifests")
	}
	leaf := parseCert(t, gotS.Data["tls.crt"])
	if err := verify(t, []byte(gotCM.Data["ca.crt"]), leaf, x509.ExtKeyUsageServerAuth, "www.example.com"); err != nil {
		t.Error(err)
	}
}

func toAny[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}
