package translate

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/resource"
)

// conformanceDir finds the Gateway API conformance module in the module
// cache; the test skips when it is not available.
func conformanceDir(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api/conformance").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("gateway-api conformance module not found: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tests")); err != nil {
		t.Skipf("conformance manifests missing: %v", err)
	}
	return dir
}

// loadConformance reads the suite's base manifests plus one test's
// manifests, keeping the kinds translate handles today.
func loadConformance(t *testing.T, dir, file string) *resource.Set {
	t.Helper()
	base, err := os.ReadFile(filepath.Join(dir, "base", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	all := bytes.ReplaceAll(append(append(base, "\n---\n"...), data...), []byte("{GATEWAY_CLASS_NAME}"), []byte("eg"))
	set := parseSet(t, gwYAML(""))
	set.Gateways = nil
	for _, doc := range bytes.Split(all, []byte("\n---")) {
		var tm struct{ Kind string }
		if yaml.Unmarshal(doc, &tm) != nil {
			continue
		}
		switch tm.Kind {
		case "Gateway", "HTTPRoute", "ReferenceGrant", "Namespace", "Service", "Secret":
			if err := decodeInto(set, doc); err != nil {
				t.Fatalf("%s: %v", filepath.Base(file), err)
			}
		}
	}
	return set
}

// TestConformanceManifests translates every manifest of the official
// conformance suite (no error, no panic) and checks the route statuses the
// suite asserts for the HTTPRoute tests whose outcome is decided statically.
func TestConformanceManifests(t *testing.T) {
	dir := conformanceDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "tests", "*.yaml"))
	if len(files) == 0 {
		t.Skip("no conformance manifests")
	}
	want := map[string]map[string]string{ // file → route → "Condition/Status/Reason"
		"httproute-disallowed-kind.yaml":                                  {"disallowed-kind": "Accepted/False/NotAllowedByListeners"},
		"httproute-invalid-cross-namespace-parent-ref.yaml":               {"invalid-cross-namespace-parent-ref": "Accepted/False/NotAllowedByListeners"},
		"httproute-invalid-parentref-not-matching-listener-port.yaml":     {"httproute-listener-not-matching-route-port": "Accepted/False/NoMatchingParent"},
		"httproute-invalid-parentref-not-matching-section-name.yaml":      {"httproute-listener-not-matching-section-name": "Accepted/False/NoMatchingParent"},
		"httproute-invalid-parentref-section-name-not-matching-port.yaml": {"httproute-listener-section-name-not-matching-port": "Accepted/False/NoMatchingParent"},
		"httproute-hostname-intersection.yaml":                            {"no-intersecting-hosts": "Accepted/False/NoMatchingListenerHostname"},
		"httproute-invalid-backendref-unknown-kind.yaml":                  {"invalid-backend-ref-unknown-kind": "ResolvedRefs/False/InvalidKind"},
		"httproute-invalid-nonexistent-backendref.yaml":                   {"invalid-nonexistent-backend-ref": "ResolvedRefs/False/BackendNotFound"},
		"httproute-invalid-cross-namespace-backend-ref.yaml":              {"invalid-cross-namespace-backend-ref": "ResolvedRefs/False/RefNotPermitted"},
		"httproute-partially-invalid-via-invalid-reference-grant.yaml":    {"invalid-reference-grant": "ResolvedRefs/False/RefNotPermitted"},
		"gateway-with-attached-routes.yaml":                               {"http-route-not-accepted": "Accepted/False/NoMatchingListenerHostname", "http-route-4": "ResolvedRefs/False/BackendNotFound"},
		"httproute-simple-same-namespace.yaml":                            {"gateway-conformance-infra-test": "Accepted/True/Accepted"},
	}
	checked := 0
	for _, f := range files {
		name := filepath.Base(f)
		res, err := Translate(loadConformance(t, dir, f), Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for route, exp := range want[name] {
			parts := strings.Split(exp, "/")
			found := false
			for _, r := range res.Status.HTTPRoutes {
				if r.Name != route {
					continue
				}
				found = true
				for _, p := range r.Status.Parents {
					c := cond(t, p.Conditions, parts[0])
					if string(c.Status) != parts[1] || c.Reason != parts[2] {
						t.Errorf("%s: HTTPRoute %s parent %s: %s = %s/%s (%s), want %s", name, route, p.ParentRef.Name, parts[0], c.Status, c.Reason, c.Message, exp)
					}
				}
			}
			if !found {
				t.Errorf("%s: no HTTPRoute %s", name, route)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d expectations checked; did the suite's file names change?", checked)
	}
}
