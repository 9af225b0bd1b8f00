package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// healthPayloadBackend answers Envoy's TCP health probe (the bytes 00 01
// 02) with reply, and any other connection's first line with
// "name: line".
func healthPayloadBackend(t *testing.T, name string, reply []byte) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	probe := []byte{0, 1, 2}
	ServeConns(t, l, 10*time.Second, func(c net.Conn) {
		rd := bufio.NewReader(c)
		for {
			head, err := rd.Peek(len(probe))
			if err != nil {
				return
			}
			if !bytes.Equal(head, probe) {
				break
			}
			_, _ = rd.Discard(len(probe))
			if _, err := c.Write(reply); err != nil {
				return
			}
		}
		line, err := rd.ReadString('\n')
		if err == nil {
			_, _ = io.WriteString(c, name+": "+line)
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// TestHealthCheckBinaryPayload: a TCP health check whose send and receive
// payloads are given as binary (written to Envoy as bytes, as Envoy
// Gateway writes them) takes out the endpoint that answers the probe with
// other bytes. Both backends are one TCPRoute rule, hence one cluster with
// a locality each.
func TestHealthCheckBinaryPayload(t *testing.T) {
	envoyTest(t)
	good := healthPayloadBackend(t, "good", []byte{0xAA, 0xBB})
	bad := healthPayloadBackend(t, "bad", []byte{0xCC, 0xDD})
	port := FreePort(t)
	manifests := RenderManifests(t, `{{ gatewayClass }}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: eg
  listeners: [{name: tcp, protocol: TCP, port: {{ .Port }}}]
---
{{ backend "good" .Good }}---
{{ backend "bad" .Bad }}---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: pair, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs:
    - {group: gateway.envoyproxy.io, kind: Backend, name: good}
    - {group: gateway.envoyproxy.io, kind: Backend, name: bad}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: probe, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: pair}]
  healthCheck:
    active:
      type: TCP
      interval: 200ms
      timeout: 150ms
      unhealthyThreshold: 1
      healthyThreshold: 1
      tcp:
        send: {type: Binary, binary: AAEC}
        receive: {type: Binary, binary: qrs=}
`, map[string]any{"Port": port, "Good": good, "Bad": bad})
	StartProxy(t, DeployOptions{}, manifests, port)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	ask := func() (string, error) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, "hi\n"); err != nil {
			return "", err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSuffix(line, "\n"), err
	}
	Eventually(t, 10*time.Second, func() error {
		for i := range 10 {
			got, err := ask()
			if err != nil {
				return err
			}
			if got != "good: hi" {
				return fmt.Errorf("connection %d answered %q, want only the healthy backend", i, got)
			}
		}
		return nil
	})
}
