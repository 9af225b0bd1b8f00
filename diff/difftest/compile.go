package difftest

import (
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"

	"github.com/egctl/egctl/manifest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// StaticBootstrap compiles manifests (one Gateway) the way
// `egctl x translate --to bootstrap` does, with the admin API on
// 127.0.0.1:adminPort.
func StaticBootstrap(t testing.TB, manifests []byte, adminPort int) *bootstrapv3.Bootstrap {
	t.Helper()
	set, _, err := manifest.LoadBytes("manifests.yaml", manifests, manifest.Options{})
	if err != nil {
		t.Fatalf("manifests: %v", err)
	}
	res, err := translate.Translate(set, translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("manifests have problems: %v", res.Problems)
	}
	all, err := xds.Translate(res.IR)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("manifests compile to %d proxies, want 1", len(all))
	}
	b, err := xds.StaticBootstrap(all[0], xds.BootstrapOptions{AdminAddress: "127.0.0.1", AdminPort: uint32(adminPort)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Marshal renders a bootstrap as YAML for Envoy.
func Marshal(t testing.TB, b *bootstrapv3.Bootstrap) []byte {
	t.Helper()
	y, err := xds.Marshal(b, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	return y
}
