package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/xds"
)

// LoopbackBootstrap writes to out (JSON, which Envoy picks by the .json
// extension) the bootstrap at in with every static listener that binds a
// wildcard address (0.0.0.0 or ::) bound to 127.0.0.1 instead. egctl binds
// Gateway listeners on all interfaces, as a proxy in a cluster must; tests
// keep everything on loopback. Only listener addresses change.
func LoopbackBootstrap(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return fmt.Errorf("%s is not YAML: %w", in, err)
	}
	// Numbers stay json.Number so no large integer is rounded.
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	static, _ := field(doc, "static_resources", "staticResources").(map[string]any)
	listeners, _ := field(static, "listeners").([]any)
	for _, l := range listeners {
		lm, _ := l.(map[string]any)
		addr, _ := field(lm, "address").(map[string]any)
		sock, _ := field(addr, "socket_address", "socketAddress").(map[string]any)
		if sock == nil {
			continue
		}
		if a, _ := sock["address"].(string); a == "0.0.0.0" || a == "::" {
			sock["address"] = "127.0.0.1"
			// An IPv4 address cannot also accept IPv6.
			delete(sock, "ipv4_compat")
			delete(sock, "ipv4Compat")
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// field returns m's value under the first of the names it has: Envoy
// accepts both the proto (snake_case) and the JSON (camelCase) spelling.
func field(m map[string]any, names ...string) any {
	for _, n := range names {
		if v, ok := m[n]; ok {
			return v
		}
	}
	return nil
}

// fixedDefaultPorts says which static listener of the bootstrap at path
// binds the fixed port of a listener Envoy Gateway's defaults add: the
// Prometheus stats listener (19001) or the readiness listener (19003).
// Parallel tests would collide there; DefaultListenerPorts gives free ones.
func fixedDefaultPorts(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return fmt.Errorf("%s is not YAML: %w", path, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	static, _ := field(doc, "static_resources", "staticResources").(map[string]any)
	listeners, _ := field(static, "listeners").([]any)
	for _, l := range listeners {
		lm, _ := l.(map[string]any)
		addr, _ := field(lm, "address").(map[string]any)
		sock, _ := field(addr, "socket_address", "socketAddress").(map[string]any)
		port, _ := field(sock, "port_value", "portValue").(float64)
		if port == xds.DefaultStatsPort || port == translate.DefaultReadyPort {
			return fmt.Errorf("bootstrap %s: listener %v binds the fixed port %v, which parallel tests share: "+
				"pass egctl DefaultListenerPorts(t, args) (--stats-port, --ready-port) or --lean", path, field(lm, "name"), port)
		}
	}
	return nil
}
