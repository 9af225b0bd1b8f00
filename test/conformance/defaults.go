package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/internal/envoytest"
)

// A real API server fills defaults on every write: the CRD schema's
// `default`s for Gateway API kinds (parentRef group and kind, the "/"
// PathPrefix match of a rule without matches, backendRef weight 1,
// allowedRoutes "Same", the Pending conditions of a new Gateway...) and the
// built-in defaults of core kinds. The suite compares statuses that echo
// those values, so the Store applies them too.

// CRDDir returns the experimental-channel CRD directory of the Gateway API
// module this repository builds with (a superset of the standard channel).
func CRDDir() (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = envoytest.RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locating the sigs.k8s.io/gateway-api module: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "experimental"), nil
}

// LoadCRDs reads the gateway.networking.k8s.io CRDs in dir.
func LoadCRDs(dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "gateway.networking.k8s.io_*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(b, crd); err != nil {
			// Not every file is a CRD (the safe-upgrades policy is not).
			if !bytes.Contains(b, []byte("kind: CustomResourceDefinition")) {
				continue
			}
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		out = append(out, crd)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Gateway API CRDs in %s", dir)
	}
	return out, nil
}

// defaulter fills schema defaults, by kind and version.
type defaulter struct {
	schemas map[schema.GroupVersionKind]*apiextensionsv1.JSONSchemaProps
}

func newDefaulter(crds []*apiextensionsv1.CustomResourceDefinition) *defaulter {
	d := &defaulter{schemas: map[schema.GroupVersionKind]*apiextensionsv1.JSONSchemaProps{}}
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
			d.schemas[gvk] = v.Schema.OpenAPIV3Schema
		}
	}
	return d
}

// apply fills the defaults of obj (of kind gvk) in place.
func (d *defaulter) apply(gvk schema.GroupVersionKind, obj client.Object) error {
	if svc, ok := obj.(*corev1.Service); ok {
		defaultService(svc)
		return nil
	}
	if d == nil {
		return nil
	}
	s := d.schemas[gvk]
	if s == nil {
		return nil
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	for k, prop := range s.Properties {
		if k == "metadata" || k == "apiVersion" || k == "kind" {
			continue
		}
		p := prop
		if _, ok := u[k]; !ok && p.Default != nil {
			v, err := decodeDefault(p.Default.Raw)
			if err != nil {
				return fmt.Errorf("%s default of %s: %w", gvk.Kind, k, err)
			}
			u[k] = v
		}
		if v, ok := u[k]; ok {
			if err := fillDefaults(v, &p); err != nil {
				return fmt.Errorf("%s.%s: %w", gvk.Kind, k, err)
			}
		}
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u, obj)
}

// fillDefaults sets every absent property that has a default, recursively,
// including inside the defaults it just set.
func fillDefaults(x any, s *apiextensionsv1.JSONSchemaProps) error {
	switch v := x.(type) {
	case map[string]any:
		for name, prop := range s.Properties {
			p := prop
			if _, ok := v[name]; !ok && p.Default != nil {
				d, err := decodeDefault(p.Default.Raw)
				if err != nil {
					return fmt.Errorf("default of %s: %w", name, err)
				}
				v[name] = d
			}
			if child, ok := v[name]; ok {
				if err := fillDefaults(child, &p); err != nil {
					return err
				}
			}
		}
		if ap := s.AdditionalProperties; ap != nil && ap.Schema != nil {
			for k, child := range v {
				if _, known := s.Properties[k]; !known {
					if err := fillDefaults(child, ap.Schema); err != nil {
						return err
					}
				}
			}
		}
	case []any:
		if s.Items != nil && s.Items.Schema != nil {
			for _, it := range v {
				if err := fillDefaults(it, s.Items.Schema); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// decodeDefault decodes a JSON default into unstructured values, with
// integers as int64 as the unstructured converter expects.
func decodeDefault(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return numbers(v), nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// defaultService applies the core defaults translation depends on: port
// protocol TCP and targetPort equal to port.
func defaultService(svc *corev1.Service) {
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if svc.Spec.Type == "" {
		svc.Spec.Type = corev1.ServiceTypeClusterIP
	}
}
