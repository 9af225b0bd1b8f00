package translate

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/gateway-api/pkg/features"
)

const featuresDoc = "../docs/features.md"

// TestFeaturesDoc keeps docs/features.md in step with SupportedFeatures.
func TestFeaturesDoc(t *testing.T) {
	for name := range SupportedFeatures {
		if features.GetFeature(name).Name != name {
			t.Errorf("SupportedFeatures names %q, which is not a Gateway API feature", name)
		}
	}
	for name := range featureGaps {
		if _, both := SupportedFeatures[name]; both {
			t.Errorf("%q is both supported and a gap", name)
		}
	}
	want := FeaturesMarkdown()
	if *update {
		if err := os.WriteFile(featuresDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(featuresDoc)
	if err != nil {
		t.Fatalf("%v; run go test ./translate -run TestFeaturesDoc -update", err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale; run go test ./translate -run TestFeaturesDoc -update", filepath.Clean(featuresDoc))
	}
}
