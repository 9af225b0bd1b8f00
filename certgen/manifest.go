package certgen

import (
	"encoding/json"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func secret(name, ns string, typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Type:       typ,
		Data:       data,
	}
}

// Secrets returns the control-plane Secrets in the order, names, types and
// data keys Envoy Gateway uses.
func (cp *ControlPlane) Secrets() []*corev1.Secret {
	tls := func(name string, kp KeyPair) *corev1.Secret {
		return secret(name, cp.Namespace, corev1.SecretTypeTLS, map[string][]byte{
			CACertKey:  cp.CA.CertPEM,
			TLSCertKey: kp.CertPEM,
			TLSKeyKey:  kp.KeyPEM,
		})
	}
	return []*corev1.Secret{
		tls(EnvoyGatewayName, cp.EnvoyGateway),
		tls(EnvoyName, cp.Envoy),
		tls(RateLimitName, cp.RateLimit),
		secret(OIDCHMACSecretName, cp.Namespace, corev1.SecretTypeOpaque, map[string][]byte{
			HMACSecretKey: cp.OIDCHMACSecret,
		}),
	}
}

// Objects returns the listener's kubernetes.io/tls Secret and a ConfigMap
// holding only the CA certificate (public), for clients to trust.
func (l *ListenerCert) Objects() (*corev1.Secret, *corev1.ConfigMap) {
	s := secret(l.SecretName, l.Namespace, corev1.SecretTypeTLS, map[string][]byte{
		TLSCertKey: l.Leaf.CertPEM,
		TLSKeyKey:  l.Leaf.KeyPEM,
	})
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: l.CAConfigMapName(), Namespace: l.Namespace},
		Data:       map[string]string{CACertKey: string(l.CA.CertPEM)},
	}
	return s, cm
}

// WriteManifests writes objs as a multi-document YAML stream. The
// "creationTimestamp: null" that metav1 types marshal to is dropped: it is
// noise in a file meant for kubectl apply or GitOps.
func WriteManifests(w io.Writer, objs ...any) error {
	for i, o := range objs {
		j, err := json.Marshal(o)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			return err
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		y, err := yaml.Marshal(m)
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(y); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
	}
	return nil
}
