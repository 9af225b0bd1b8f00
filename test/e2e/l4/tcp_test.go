package l4

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
)

// tcpEcho serves on loopback: every line read is written back prefixed by
// "name: ".
func tcpEcho(t *testing.T, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e2e.ServeConns(t, l, 10*time.Second, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := io.WriteString(c, name+": "+line); err != nil {
				return
			}
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// tcpRoundTrip sends one line through addr and returns the answer line.
func tcpRoundTrip(addr, line string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

// TestTCPRoute sends bytes through two TCP listeners: "single" forwards to
// backend one (its weight-0 second backend gets nothing); "contested" has
// two routes, and only the older one carries traffic.
func TestTCPRoute(t *testing.T) {
	one, two := tcpEcho(t, "one"), tcpEcho(t, "two")
	single, contested := e2e.FreePort(t), e2e.FreePort(t)
	route := func(name, created, section string, backends string) string {
		return fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: %s, namespace: default, creationTimestamp: "%s"}
spec:
  parentRefs: [{name: eg, sectionName: %s}]
  rules: [{backendRefs: [%s]}]
`, name, created, section, backends)
	}
	be := func(name string, weight int) string {
		return fmt.Sprintf("{group: gateway.envoyproxy.io, kind: Backend, name: %s, weight: %d}", name, weight)
	}
	startEnvoy(t, gatewayYAML(fmt.Sprintf(`    - {name: single, protocol: TCP, port: %d}
    - {name: contested, protocol: TCP, port: %d}`, single, contested))+
		backendYAML("one", one)+backendYAML("two", two)+
		route("single", "2024-01-01T00:00:00Z", "single", be("one", 1)+", "+be("two", 0))+
		route("newer", "2024-03-01T00:00:00Z", "contested", be("one", 1))+
		route("older", "2024-02-01T00:00:00Z", "contested", be("two", 1)), single, contested)

	for _, tc := range []struct {
		port int
		want string
	}{{single, "one: hello"}, {contested, "two: hello"}} {
		addr := fmt.Sprintf("127.0.0.1:%d", tc.port)
		e2e.Eventually(t, 10*time.Second, func() error {
			got, err := tcpRoundTrip(addr, "hello")
			if err != nil {
				return err
			}
			if got != tc.want {
				return fmt.Errorf("%s answered %q, want %q", addr, got, tc.want)
			}
			return nil
		})
		// Several connections: the weight-0 / newer backend never answers.
		for i := 0; i < 5; i++ {
			if got, err := tcpRoundTrip(addr, "hello"); err != nil || got != tc.want {
				t.Fatalf("%s: connection %d answered %q (%v), want %q", addr, i, got, err, tc.want)
			}
		}
	}
}

// TestTCPRouteWeights splits connections between two backends by weight.
func TestTCPRouteWeights(t *testing.T) {
	one, two := tcpEcho(t, "one"), tcpEcho(t, "two")
	port := e2e.FreePort(t)
	startEnvoy(t, gatewayYAML(fmt.Sprintf("    - {name: tcp, protocol: TCP, port: %d}", port))+
		backendYAML("one", one)+backendYAML("two", two)+`---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: eg}]
  rules:
  - backendRefs:
    - {group: gateway.envoyproxy.io, kind: Backend, name: one, weight: 1}
    - {group: gateway.envoyproxy.io, kind: Backend, name: two, weight: 1}
`, port)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	seen := map[string]int{}
	e2e.Eventually(t, 15*time.Second, func() error {
		got, err := tcpRoundTrip(addr, "x")
		if err != nil {
			return err
		}
		seen[got]++
		if seen["one: x"] == 0 || seen["two: x"] == 0 {
			return fmt.Errorf("answers so far %v, want both backends", seen)
		}
		return nil
	})
	for k := range seen {
		if k != "one: x" && k != "two: x" {
			t.Errorf("unexpected answer %q", k)
		}
	}
}
