package translate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/resource"
)

// loadSet reads multi-document YAML files from testdata into a Set. It is a
// deliberately small stand-in for the manifest package (not a dependency of
// translate).
func loadSet(t testing.TB, files ...string) *resource.Set {
	t.Helper()
	set := &resource.Set{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := decodeInto(set, data); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return set
}

func parseSet(t testing.TB, docs string) *resource.Set {
	t.Helper()
	set := &resource.Set{}
	if err := decodeInto(set, []byte(docs)); err != nil {
		t.Fatal(err)
	}
	return set
}

func decodeInto(set *resource.Set, data []byte) error {
	for i, doc := range bytes.Split(data, []byte("\n---")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var tm struct{ Kind string }
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return fmt.Errorf("doc %d: %v", i, err)
		}
		var err error
		switch tm.Kind {
		case "GatewayClass":
			set.GatewayClasses, err = appendDoc(set.GatewayClasses, doc)
		case "Gateway":
			set.Gateways, err = appendDoc(set.Gateways, doc)
		case "HTTPRoute":
			set.HTTPRoutes, err = appendDoc(set.HTTPRoutes, doc)
		case "GRPCRoute":
			set.GRPCRoutes, err = appendDoc(set.GRPCRoutes, doc)
		case "TCPRoute":
			set.TCPRoutes, err = appendDoc(set.TCPRoutes, doc)
		case "TLSRoute":
			set.TLSRoutes, err = appendDoc(set.TLSRoutes, doc)
		case "UDPRoute":
			set.UDPRoutes, err = appendDoc(set.UDPRoutes, doc)
		case "ReferenceGrant":
			set.ReferenceGrants, err = appendDoc(set.ReferenceGrants, doc)
		case "Namespace":
			set.Namespaces, err = appendDoc(set.Namespaces, doc)
		case "Service":
			set.Services, err = appendDoc(set.Services, doc)
		case "EndpointSlice":
			set.EndpointSlices, err = appendDoc(set.EndpointSlices, doc)
		case "Secret":
			set.Secrets, err = appendDoc(set.Secrets, doc)
		case "ConfigMap":
			set.ConfigMaps, err = appendDoc(set.ConfigMaps, doc)
		case "BackendTLSPolicy":
			set.BackendTLSPolicies, err = appendDoc(set.BackendTLSPolicies, doc)
		case "ListenerSet":
			set.ListenerSets, err = appendDoc(set.ListenerSets, doc)
		case "Backend":
			set.Backends, err = appendDoc(set.Backends, doc)
		case "HTTPRouteFilter":
			set.HTTPRouteFilters, err = appendDoc(set.HTTPRouteFilters, doc)
		case "EnvoyProxy":
			set.EnvoyProxies, err = appendDoc(set.EnvoyProxies, doc)
		case "":
			continue
		default:
			err = fmt.Errorf("kind %q not handled by the test loader", tm.Kind)
		}
		if err != nil {
			return fmt.Errorf("doc %d (%s): %v", i, strings.TrimSpace(tm.Kind), err)
		}
	}
	return nil
}

func appendDoc[T any](list []*T, doc []byte) ([]*T, error) {
	v := new(T)
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		return list, err
	}
	return append(list, v), nil
}
