// Package crdgen turns the CustomResourceDefinitions egctl validates
// against into the compact files validate embeds: the OpenAPI schema of
// every served version, without descriptions (three quarters of the bytes,
// and nothing validation reads), as JSON (which loads an order of
// magnitude faster than YAML).
//
// Sources, both read from the Go module cache at the versions go.mod pins:
//
//   - gateway.networking.k8s.io: sigs.k8s.io/gateway-api's own
//     config/crd/experimental (the experimental channel is a superset of
//     standard: every kind and field egctl decodes is in it).
//   - gateway.envoyproxy.io: github.com/envoyproxy/gateway's GatewayCRDs.
//     That bundle also carries Gateway API CRDs, of an older release
//     (v1.6.1 for Envoy Gateway v1.9.1); they are ignored in favour of the
//     module's own.
package crdgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	envoygateway "github.com/envoyproxy/gateway"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// File is one generated file: a CRD reduced to what validation needs.
type File struct {
	Group    string    `json:"group"`
	Kind     string    `json:"kind"`
	Scope    string    `json:"scope"`
	Source   string    `json:"source"`
	Versions []Version `json:"versions"`
}

// Version is one served version and its schema.
type Version struct {
	Name   string                    `json:"name"`
	Schema *apiextv1.JSONSchemaProps `json:"schema"`
}

// Groups egctl validates, and where each comes from.
const (
	GatewayAPIGroup    = "gateway.networking.k8s.io"
	EnvoyGatewayGroup  = "gateway.envoyproxy.io"
	gatewayAPIModule   = "sigs.k8s.io/gateway-api"
	envoyGatewayModule = "github.com/envoyproxy/gateway"
)

// ModuleDir asks the go command where a module of the build list lives.
func ModuleDir(module string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	// Read-only: never let go list touch go.mod or go.sum.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: module not in the module cache", module)
	}
	return dir, nil
}

// ModuleVersion is the version of a module in the build list.
func ModuleVersion(module string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", module)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Generate returns the files to write, by file name.
func Generate() (map[string][]byte, error) {
	gwDir, err := ModuleDir(gatewayAPIModule)
	if err != nil {
		return nil, err
	}
	gwVersion, err := ModuleVersion(gatewayAPIModule)
	if err != nil {
		return nil, err
	}
	egVersion, err := ModuleVersion(envoyGatewayModule)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}

	paths, err := filepath.Glob(filepath.Join(gwDir, "config", "crd", "experimental", GatewayAPIGroup+"_*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		src := gatewayAPIModule + "@" + gwVersion + "/config/crd/experimental/" + filepath.Base(p)
		if err := addCRDs(out, data, GatewayAPIGroup, src); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	src := envoyGatewayModule + "@" + egVersion + " GatewayCRDs"
	if err := addCRDs(out, envoygateway.GatewayCRDs, EnvoyGatewayGroup, src); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return out, nil
}

// addCRDs adds every CRD of group found in a multi-document YAML stream.
func addCRDs(out map[string][]byte, data []byte, group, source string) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		var head struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return err
		}
		if head.Kind != "CustomResourceDefinition" {
			continue // a ValidatingAdmissionPolicy guarding CRD upgrades, say
		}
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(doc, &crd); err != nil {
			return err
		}
		if crd.Spec.Group != group {
			continue
		}
		f := File{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind, Scope: string(crd.Spec.Scope), Source: source}
		for _, v := range crd.Spec.Versions {
			if !v.Served || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			s := v.Schema.OpenAPIV3Schema.DeepCopy()
			strip(s)
			f.Versions = append(f.Versions, Version{Name: v.Name, Schema: s})
		}
		if len(f.Versions) == 0 {
			continue
		}
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		name := crd.Spec.Group + "_" + crd.Spec.Names.Plural + ".json"
		if _, dup := out[name]; dup {
			return fmt.Errorf("CRD %s twice", name)
		}
		out[name] = append(b, '\n')
	}
}

// strip drops what validation never reads: descriptions and examples.
func strip(s *apiextv1.JSONSchemaProps) {
	if s == nil {
		return
	}
	s.Description = ""
	s.Example = nil
	s.ExternalDocs = nil
	s.Title = ""
	for k, p := range s.Properties {
		strip(&p)
		s.Properties[k] = p
	}
	if s.Items != nil {
		strip(s.Items.Schema)
		for i := range s.Items.JSONSchemas {
			strip(&s.Items.JSONSchemas[i])
		}
	}
	if s.AdditionalProperties != nil {
		strip(s.AdditionalProperties.Schema)
	}
	if s.AdditionalItems != nil {
		strip(s.AdditionalItems.Schema)
	}
	for _, l := range [][]apiextv1.JSONSchemaProps{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range l {
			strip(&l[i])
		}
	}
	strip(s.Not)
	for k, p := range s.PatternProperties {
		strip(&p)
		s.PatternProperties[k] = p
	}
	for k, p := range s.Definitions {
		strip(&p)
		s.Definitions[k] = p
	}
	for k, d := range s.Dependencies {
		strip(d.Schema)
		s.Dependencies[k] = d
	}
}
