package version

import (
	"os"
	"strings"
	"testing"
)

// TestPinnedMatchGoMod keeps the fallback versions equal to go.mod's.
func TestPinnedMatchGoMod(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(b)
	for path, v := range map[string]string{
		"github.com/envoyproxy/go-control-plane/envoy": pinnedEnvoyAPI,
		"sigs.k8s.io/gateway-api":                      pinnedGatewayAPI,
		"github.com/envoyproxy/gateway":                pinnedEnvoyGatewayAPI,
	} {
		if !strings.Contains(mod, "\t"+path+" "+v+"\n") && !strings.Contains(mod, "\t"+path+" "+v+" ") {
			t.Errorf("go.mod does not pin %s %s; update version.go", path, v)
		}
	}
}

func TestGet(t *testing.T) {
	info := Get()
	if info.Version == "" || info.GoVersion == "" || info.EnvoyAPI == "" || info.GatewayAPI == "" {
		t.Fatalf("incomplete version info: %+v", info)
	}
}
