package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeEnvoy serves canned admin answers (captured from Envoy 1.40) by path.
type fakeEnvoy struct {
	t       *testing.T
	routes  map[string]func(w http.ResponseWriter, r *http.Request)
	lastURL atomic.Value
}

func newFake(t *testing.T) (*fakeEnvoy, *Client) {
	f := &fakeEnvoy{t: t, routes: map[string]func(http.ResponseWriter, *http.Request){}}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.lastURL.Store(r.URL.String())
		h, ok := f.routes[r.URL.Path]
		if !ok {
			http.Error(w, "invalid path. admin commands are:", http.StatusNotFound)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	c, err := New(strings.TrimPrefix(s.URL, "http://"), WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func jsonAnswer(body []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

func TestConfigDumpDecodesEveryType(t *testing.T) {
	f, c := newFake(t)
	f.routes["/config_dump"] = jsonAnswer(fixture(t, "config_dump.json"))
	d, err := c.ConfigDump(context.Background(), "", "", true)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.lastURL.Load().(string); got != "/config_dump?include_eds=" {
		t.Errorf("requested %s", got)
	}
	if len(d.GetConfigs()) != 7 {
		t.Fatalf("%d configs, want 7", len(d.GetConfigs()))
	}
	var ld adminv3.ListenersConfigDump
	for _, a := range d.GetConfigs() {
		if a.MessageIs(&ld) {
			if err := a.UnmarshalTo(&ld); err != nil {
				t.Fatal(err)
			}
		}
	}
	var l listenerv3.Listener
	if err := ld.GetStaticListeners()[0].GetListener().UnmarshalTo(&l); err != nil {
		t.Fatal(err)
	}
	if l.GetName() != "egctl_test_listener" {
		t.Errorf("listener name %q", l.GetName())
	}
	// The HCM's typed_config (an Any inside an Any) resolved too.
	hcm := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig()
	if !strings.HasSuffix(hcm.GetTypeUrl(), "HttpConnectionManager") || len(hcm.GetValue()) == 0 {
		t.Errorf("HCM typed_config not decoded: %v", hcm)
	}
}

func TestConfigDumpQuery(t *testing.T) {
	f, c := newFake(t)
	f.routes["/config_dump"] = jsonAnswer([]byte(`{"configs":[]}`))
	if _, err := c.ConfigDump(context.Background(), "dynamic_listeners", "name", false); err != nil {
		t.Fatal(err)
	}
	if got := f.lastURL.Load().(string); got != "/config_dump?mask=name&resource=dynamic_listeners" {
		t.Errorf("requested %s", got)
	}
}

func TestConfigDumpUnknownTypeIsPartial(t *testing.T) {
	f, c := newFake(t)
	f.routes["/config_dump"] = jsonAnswer(fixture(t, "config_dump_unknown_type.json"))
	d, err := c.ConfigDump(context.Background(), "", "", false)
	var pe *PartialError
	if !errors.As(err, &pe) || !IsPartial(err) {
		t.Fatalf("err = %v, want *PartialError", err)
	}
	if d == nil || len(d.GetConfigs()) != 7 {
		t.Fatal("partial dump not returned")
	}
	if len(pe.UnknownTypes) != 1 || pe.UnknownTypes[0] != "type.googleapis.com/acme.filters.http.magic.v1.Magic" {
		t.Errorf("unknown types %v", pe.UnknownTypes)
	}
	// The dump still marshals, the unknown value keeping its type name.
	out, err := MarshalOptions.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "acme.filters.http.magic.v1.Magic") || strings.Contains(string(out), "abracadabra") {
		t.Errorf("placeholder not marshalled as expected")
	}
}

func TestServerInfoReadyListenersStats(t *testing.T) {
	f, c := newFake(t)
	f.routes["/server_info"] = jsonAnswer(fixture(t, "server_info.json"))
	f.routes["/listeners"] = jsonAnswer(fixture(t, "listeners.json"))
	f.routes["/stats"] = jsonAnswer(fixture(t, "stats.json"))
	state := "LIVE"
	f.routes["/ready"] = func(w http.ResponseWriter, _ *http.Request) {
		if state != "LIVE" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Write([]byte(state + "\n"))
	}
	ctx := context.Background()

	si, err := c.ServerInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(si.GetVersion(), "/1.40.0/") || si.GetState() != adminv3.ServerInfo_LIVE {
		t.Errorf("server info %s %s", si.GetVersion(), si.GetState())
	}

	if s, err := c.Ready(ctx); err != nil || s != "LIVE" {
		t.Errorf("ready: %q %v", s, err)
	}
	state = "PRE_INITIALIZING"
	s, err := c.Ready(ctx)
	var nr *NotReadyError
	if !errors.As(err, &nr) || s != "PRE_INITIALIZING" || !strings.Contains(err.Error(), "not ready: state PRE_INITIALIZING") {
		t.Errorf("not ready: %q %v", s, err)
	}

	ls, err := c.Listeners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := ls.GetListenerStatuses(); len(n) != 1 || n[0].GetName() != "egctl_test_listener" || n[0].GetLocalAddress().GetSocketAddress().GetPortValue() == 0 {
		t.Errorf("listeners %v", ls)
	}

	st, err := c.Stats(ctx, `^server\.`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.lastURL.Load().(string), "filter=%5Eserver%5C.") {
		t.Errorf("filter not passed: %s", f.lastURL.Load())
	}
	if st.Values["server.version"] != 10376576 || len(st.Values) != 4 {
		t.Errorf("stats %v", st.Values)
	}
}

func TestStatsTextAndHistograms(t *testing.T) {
	f, c := newFake(t)
	f.routes["/stats"] = jsonAnswer([]byte(`{"stats":[{"name":"a","value":18446744073709551615},{"name":"t","value":"hello"},
		{"histograms":{"supported_quantiles":[0,50],"computed_quantiles":[{"name":"h1","values":[]}]}}]}`))
	st, err := c.Stats(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Values["a"] != 1<<64-1 || st.Text["t"] != "hello" || len(st.Histograms) != 1 || st.Histograms[0] != "h1" {
		t.Errorf("%+v", st)
	}
}

func TestClustersHealth(t *testing.T) {
	f, c := newFake(t)
	body := string(fixture(t, "clusters.json"))
	// A second, failing host next to the captured healthy one.
	body = strings.Replace(body, `"host_statuses": [`, `"host_statuses": [
    {"address": {"socket_address": {"address": "127.0.0.2", "port_value": 8080}},
     "health_status": {"failed_outlier_check": true, "eds_health_status": "HEALTHY"}},
    {"address": {"socket_address": {"address": "127.0.0.3", "port_value": 8080}},
     "health_status": {"eds_health_status": "DEGRADED"}},`, 1)
	f.routes["/clusters"] = jsonAnswer([]byte(body))
	cl, err := c.Clusters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := f.lastURL.Load().(string); got != "/clusters?format=json" {
		t.Errorf("requested %s", got)
	}
	h := Health(cl)
	if len(h) != 3 {
		t.Fatalf("%d hosts: %+v", len(h), h)
	}
	want := []struct {
		addr    string
		healthy bool
		reasons string
	}{
		{"127.0.0.1:9", true, ""},
		{"127.0.0.2:8080", false, "failed_outlier_check"},
		{"127.0.0.3:8080", true, "eds_health_status=DEGRADED"},
	}
	for i, w := range want {
		if h[i].Cluster != "egctl_test_cluster" || h[i].Address != w.addr || h[i].Healthy != w.healthy || strings.Join(h[i].Reasons, ",") != w.reasons {
			t.Errorf("host %d = %+v, want %+v", i, h[i], w)
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c, _ := New(addr)
		_, err = c.ConfigDump(ctx, "", "", false)
		if !errors.Is(err, ErrUnreachable) || err.Error() != "no Envoy admin at "+addr+": connection refused" {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		block := make(chan struct{})
		s := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
		t.Cleanup(s.Close)
		t.Cleanup(func() { close(block) })
		c, _ := New(s.URL, WithTimeout(200*time.Millisecond))
		start := time.Now()
		_, err := c.ServerInfo(ctx)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "within 200ms") {
			t.Errorf("err = %v", err)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("took %s", time.Since(start))
		}
	})

	t.Run("not envoy: html", func(t *testing.T) {
		f, c := newFake(t)
		f.routes["/config_dump"] = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>hello</html>"))
		}
		_, err := c.ConfigDump(ctx, "", "", false)
		if !errors.Is(err, ErrNotEnvoy) || !strings.Contains(err.Error(), `content-type "text/html"`) || !strings.Contains(err.Error(), "<html>hello") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("not envoy: other json", func(t *testing.T) {
		f, c := newFake(t)
		f.routes["/config_dump"] = jsonAnswer([]byte(`{"status":"ok"}`))
		f.routes["/server_info"] = jsonAnswer([]byte(`{"status":"ok"}`))
		f.routes["/stats"] = jsonAnswer([]byte(`{"status":"ok"}`))
		f.routes["/ready"] = func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }
		if _, err := c.ConfigDump(ctx, "", "", false); !errors.Is(err, ErrNotEnvoy) {
			t.Errorf("config_dump: %v", err)
		}
		if _, err := c.ServerInfo(ctx); !errors.Is(err, ErrNotEnvoy) {
			t.Errorf("server_info: %v", err)
		}
		if _, err := c.Stats(ctx, ""); !errors.Is(err, ErrNotEnvoy) {
			t.Errorf("stats: %v", err)
		}
		if _, err := c.Ready(ctx); !errors.Is(err, ErrNotEnvoy) {
			t.Errorf("ready: %v", err)
		}
	})

	t.Run("http error", func(t *testing.T) {
		_, c := newFake(t)
		_, err := c.Listeners(ctx)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != 404 || !strings.Contains(err.Error(), "GET /listeners?format=json: 404 Not Found: invalid path") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("truncated", func(t *testing.T) {
		full := fixture(t, "config_dump.json")
		f, c := newFake(t)
		f.routes["/config_dump"] = jsonAnswer(full[:len(full)/2])
		_, err := c.ConfigDump(ctx, "", "", false)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("connection cut mid-body", func(t *testing.T) {
		f, c := newFake(t)
		f.routes["/config_dump"] = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "100000")
			w.Write([]byte(`{"configs":[`))
			// Returning with fewer bytes than promised makes the server cut the connection.
		}
		_, err := c.ConfigDump(ctx, "", "", false)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("bad address", func(t *testing.T) {
		if _, err := New("localhost"); err == nil || !strings.Contains(err.Error(), "HOST:PORT") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestEach(t *testing.T) {
	f, c := newFake(t)
	f.routes["/ready"] = func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("LIVE")) }
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	addrs := []string{c.Address(), dead, "nonsense", c.Address()}
	res := Each(context.Background(), addrs, []Option{WithTimeout(time.Second)}, func(ctx context.Context, c *Client) (string, error) {
		return c.Ready(ctx)
	})
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	if r := res[c.Address()]; r.Err != nil || r.Value != "LIVE" {
		t.Errorf("live proxy: %+v", r)
	}
	if r := res[dead]; !errors.Is(r.Err, ErrUnreachable) {
		t.Errorf("dead proxy: %+v", r)
	}
	if r := res["nonsense"]; r.Err == nil {
		t.Errorf("bad address: %+v", r)
	}
}

// Guard against the resolver confusing a known type for a placeholder.
func TestKnownTypesAreNotPlaceholders(t *testing.T) {
	a, err := anypb.New(&listenerv3.Listener{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if u := unknownTypes(&adminv3.ConfigDump{Configs: []*anypb.Any{a}}); len(u) != 0 {
		t.Errorf("unknown: %v", u)
	}
}
