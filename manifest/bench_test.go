package manifest

import (
	"bytes"
	"fmt"
	"testing"
)

// routeLines is how many lines genRoutes spends per route (incl. "---").
const routeLines = 22

// genRoutes writes n HTTPRoutes, one per document, like a big real input.
func genRoutes(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-%d
  labels:
    app: app-%d
spec:
  parentRefs:
  - name: gw
    sectionName: http
  hostnames:
  - "host-%d.example.com"
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /api/%d
    backendRefs:
    - name: svc-%d
      port: 8080
      weight: 1
`, i, i, i, i, i)
	}
	return b.Bytes()
}

func BenchmarkLoad(b *testing.B) {
	data := genRoutes(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, _, err := LoadBytes("bench.yaml", data, Options{})
		if err != nil || len(s.HTTPRoutes) != 1000 {
			b.Fatalf("err=%v routes=%d", err, len(s.HTTPRoutes))
		}
	}
}
