package translate

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/xds"
)

// TestTranslateLeavesInputUnchanged holds the translator to what
// manifest.Cache relies on: egctl x serve hands the objects of unchanged
// files to the next translation, so translating must not write to them.
// Every golden input is decoded twice, one copy translated (with and
// without Envoy Gateway's defaults) and built into Envoy resources, and
// compared with the other.
func TestTranslateLeavesInputUnchanged(t *testing.T) {
	var ins []string
	for _, g := range []string{"../testdata/translate/in/*.yaml", "testdata/golden/*.in.yaml"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, m...)
	}
	if len(ins) < 50 {
		t.Fatalf("found %d inputs; the golden directories moved?", len(ins))
	}
	for _, in := range ins {
		t.Run(filepath.Base(in), func(t *testing.T) {
			// Inputs a cluster would refuse are golden inputs too: decode
			// as the translator's own defences are tested.
			opts := manifest.Options{SkipAPIValidation: true}
			used, _, _ := manifest.Load([]string{in}, opts)
			fresh, _, _ := manifest.Load([]string{in}, opts)
			if len(used.Origins) == 0 {
				t.Fatalf("%s decoded to nothing", in)
			}
			for _, egDefaults := range []bool{false, true} {
				res, err := Translate(used, Options{EnvoyGatewayDefaults: egDefaults})
				if err == nil && res.IR.Validate() == nil {
					// The Envoy resources are built from IR that may
					// point into the objects (secret bytes, say).
					_, _ = xds.Translate(res.IR)
				}
			}
			if !reflect.DeepEqual(used, fresh) {
				t.Errorf("translating changed the decoded objects of %s", in)
			}
		})
	}
}
