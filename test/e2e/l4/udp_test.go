package l4

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/egctl/egctl/test/e2e"
)

// udpEcho answers every datagram with "name: " + datagram.
func udpEcho(t *testing.T, name string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(append([]byte(name+": "), buf[:n]...), from)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// udpRoundTrip sends one datagram to addr and waits briefly for the answer.
func udpRoundTrip(addr, msg string) (string, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

// TestUDPRoute: a datagram through a UDP listener is echoed by the backend
// of the oldest UDPRoute attached to it.
func TestUDPRoute(t *testing.T) {
	one, two := udpEcho(t, "one"), udpEcho(t, "two")
	port := e2e.FreeUDPPort(t)
	route := func(name, created, backend string) string {
		return fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: %s, namespace: default, creationTimestamp: "%s"}
spec:
  parentRefs: [{name: eg}]
  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: %s}]}]
`, name, created, backend)
	}
	startEnvoy(t, gatewayYAML(fmt.Sprintf("    - {name: udp, protocol: UDP, port: %d}", port))+
		backendYAML("one", one)+backendYAML("two", two)+
		route("newer", "2024-02-01T00:00:00Z", "one")+
		route("older", "2024-01-01T00:00:00Z", "two"))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	e2e.Eventually(t, 10*time.Second, func() error {
		got, err := udpRoundTrip(addr, "ping")
		if err != nil {
			return err
		}
		if got != "two: ping" {
			return fmt.Errorf("answer %q, want %q", got, "two: ping")
		}
		return nil
	})
	for i := 0; i < 5; i++ {
		if got, err := udpRoundTrip(addr, fmt.Sprintf("p%d", i)); err != nil || got != fmt.Sprintf("two: p%d", i) {
			t.Fatalf("datagram %d: %q (%v)", i, got, err)
		}
	}
}
