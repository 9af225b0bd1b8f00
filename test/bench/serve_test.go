package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/internal/freeport"
	"github.com/egctl/egctl/serve/servetest"
	"github.com/egctl/egctl/test/bench/gen"
)

// TestServeFleet measures `egctl x serve` with a fleet: a serve process
// holding the bench workload split into one file per namespace, N xDS
// clients (this package's ADS client, which subscribes and acknowledges as
// Envoy does), then edits of one route file: the time from the file write
// to every client holding the new route configuration, and serve's memory
// per connected client. It reports; it asserts nothing about speed. Run by
// `make bench` (EGCTL_SERVE_BENCH=1); skipped otherwise.
//
//	EGCTL_SERVE_BENCH=1 go test -run TestServeFleet -v ./test/bench/
//
// EGCTL_SERVE_ROUTES (default 10000), EGCTL_SERVE_CLIENTS (100) and
// EGCTL_SERVE_EDITS (20) set the sizes; EGCTL_BIN the egctl to run.
func TestServeFleet(t *testing.T) {
	if os.Getenv("EGCTL_SERVE_BENCH") != "1" {
		t.Skip("set EGCTL_SERVE_BENCH=1 (make bench does)")
	}
	routes, clients, edits := envInt("EGCTL_SERVE_ROUTES", 10000), envInt("EGCTL_SERVE_CLIENTS", 100), envInt("EGCTL_SERVE_EDITS", 20)
	bin := os.Getenv("EGCTL_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "egctl")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/egctl")
		cmd.Dir = envoytest.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	dir := t.TempDir()
	routeFiles := writeSplitWorkload(t, dir, routes)

	xdsAddr, statusAddr := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, _ := os.Create(logPath)
	cmd := exec.Command(bin, "x", "serve", "-f", dir, "--xds-address", xdsAddr, "--status-address", statusAddr, "--debounce", "50ms")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("serve log:\n%s", b)
		}
	}()
	start := time.Now()
	waitHealthy(t, statusAddr, 2*time.Minute)
	t.Logf("serve ready after %s (first compile of %d routes)", time.Since(start).Round(time.Millisecond), routes)
	rssIdle := rssKB(t, cmd.Process.Pid)

	var cs []*servetest.Client
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	connect := time.Now()
	for i := range clients {
		c, err := servetest.Dial(xdsAddr, fmt.Sprintf("client-%d", i), "default/eg", deltaClient(i))
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	routeName := "default/eg/http"
	hasRoutes := func(c *servetest.Client) bool { return c.Resource(resource.RouteType, routeName) != nil }
	waitAll(t, cs, 5*time.Minute, hasRoutes)
	t.Logf("%d clients (half state of the world, half delta) hold the configuration %s after connecting",
		clients, time.Since(connect).Round(time.Millisecond))
	rssFleet := rssKB(t, cmd.Process.Pid)

	var lat []time.Duration
	for e := range edits {
		f := routeFiles[e%len(routeFiles)]
		old, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// One hostname changes: one virtual host of the route
		// configuration, nothing else.
		marker := fmt.Sprintf("edit-%d", e)
		i := bytes.Index(old, []byte(".example.com"))
		edited := append(append(append([]byte{}, old[:i]...), []byte("-"+marker)...), old[i:]...)
		before := make([]string, len(cs))
		for j, c := range cs {
			before[j] = c.Versions()[resource.RouteType]
		}
		wrote := time.Now()
		if err := os.WriteFile(f, edited, 0o644); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var last time.Time
		for j, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := c.Wait(2*time.Minute, func(c *servetest.Client) bool { return c.Versions()[resource.RouteType] != before[j] })
				now := time.Now()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("edit %d: client %d: %v", e, j, err)
				}
				if now.After(last) {
					last = now
				}
			}()
		}
		wg.Wait()
		lat = append(lat, last.Sub(wrote))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }
	t.Logf("file write → all %d clients hold the new routes, over %d edits: p50 %s  p99 %s  max %s",
		clients, edits, pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	t.Logf("serve RSS: %.1f MB idle, %.1f MB with %d clients: %.0f KB per client",
		float64(rssIdle)/1024, float64(rssFleet)/1024, clients, float64(rssFleet-rssIdle)/float64(clients))
	fmt.Printf("serve  routes=%d clients=%d edits=%d  push_p50_ms=%d push_p99_ms=%d  rss_idle_mb=%.1f rss_fleet_mb=%.1f kb_per_client=%.0f\n",
		routes, clients, edits, pct(0.5).Milliseconds(), pct(0.99).Milliseconds(),
		float64(rssIdle)/1024, float64(rssFleet)/1024, float64(rssFleet-rssIdle)/float64(clients))
	if b, err := os.ReadFile(logPath); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "compile (changed") {
				t.Logf("last recompile: %s", l)
			}
		}
	}
}

// writeSplitWorkload writes the bench workload with the shared objects in
// base.yaml and the routes in one file per namespace, and returns the route
// files.
func writeSplitWorkload(t *testing.T, dir string, routes int) []string {
	var all bytes.Buffer
	if err := gen.Write(&all, routes); err != nil {
		t.Fatal(err)
	}
	byFile := map[string]*bytes.Buffer{}
	var order []string
	for _, doc := range strings.Split(all.String(), "\n---\n") {
		name := "base.yaml"
		if strings.Contains(doc, "kind: HTTPRoute") {
			sc := bufio.NewScanner(strings.NewReader(doc))
			for sc.Scan() {
				if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "namespace: ") {
					name = "routes-" + strings.TrimPrefix(l, "namespace: ") + ".yaml"
					break
				}
			}
		}
		b := byFile[name]
		if b == nil {
			b = &bytes.Buffer{}
			byFile[name] = b
			order = append(order, name)
		}
		if b.Len() > 0 {
			b.WriteString("\n---\n")
		}
		b.WriteString(doc)
	}
	var routeFiles []string
	for _, n := range order {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, byFile[n].Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if n != "base.yaml" {
			routeFiles = append(routeFiles, p)
		}
	}
	return routeFiles
}

func waitAll(t *testing.T, cs []*servetest.Client, d time.Duration, cond func(*servetest.Client) bool) {
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Wait(d, cond); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func waitHealthy(t *testing.T, addr string, d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not healthy after %s: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rssKB(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func freePort(t *testing.T) string {
	t.Helper()
	p, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(p)
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// deltaClient says which clients use delta xDS: every other one, unless
// EGCTL_SERVE_DELTA is "none" or "all".
func deltaClient(i int) bool {
	switch os.Getenv("EGCTL_SERVE_DELTA") {
	case "none":
		return false
	case "all":
		return true
	}
	return i%2 == 1
}
