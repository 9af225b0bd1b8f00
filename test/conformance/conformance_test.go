//go:build conformance

// The official suite pulls in modules (testify, gorilla/websocket,
// miekg/dns, ...) that only this test needs, hence the build tag:
//
//	cd test/conformance && EGCTL_CONFORMANCE=1 go test -tags conformance -count=1 -timeout 25m -run '^TestConformance$'
//
// (no package argument: go test then streams the per-test lines). Without
// EGCTL_CONFORMANCE=1 the test skips. EGCTL_CONFORMANCE_RUN=<ShortName>
// runs one test; EGCTL_CONFORMANCE_SKIP and EGCTL_CONFORMANCE_FEATURES
// (comma-separated) replace the skip list and the declared features.

package conformance

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwconformance "sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/consts"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"

	"github.com/egctl/egctl/internal/envoytest"
	"github.com/egctl/egctl/translate"
	"github.com/egctl/egctl/version"
)

const gatewayClassName = "egctl"

// declaredFeatures are the features egctl declares it implements:
// translate.SupportedFeatures, the single list docs/features.md is built
// from. EGCTL_CONFORMANCE_FEATURES replaces it.
func declaredFeatures() []features.FeatureName {
	if s := os.Getenv("EGCTL_CONFORMANCE_FEATURES"); s != "" {
		var out []features.FeatureName
		for _, f := range strings.Split(s, ",") {
			out = append(out, features.FeatureName(strings.TrimSpace(f)))
		}
		return out
	}
	out := make([]features.FeatureName, 0, len(translate.SupportedFeatures))
	for f := range translate.SupportedFeatures {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// profilesFor returns the Gateway profiles whose core features are all
// declared: naming a profile makes the suite assume its core features, so
// a profile egctl does not fully cover must not be named.
func profilesFor(declared []features.FeatureName) []suite.ConformanceProfileName {
	have := map[features.FeatureName]bool{}
	for _, f := range declared {
		have[f] = true
	}
	var out []suite.ConformanceProfileName
	for _, p := range []suite.ConformanceProfile{
		suite.GatewayHTTPConformanceProfile, suite.GatewayGRPCConformanceProfile, suite.GatewayTLSConformanceProfile,
		suite.GatewayTCPConformanceProfile, suite.GatewayUDPConformanceProfile,
	} {
		ok := true
		for f := range p.CoreFeatures {
			ok = ok && have[f]
		}
		if ok {
			out = append(out, p.Name)
		}
	}
	return out
}

// result is one test's outcome as the suite's hook saw it.
type result struct {
	name, outcome, why string
}

func TestConformance(t *testing.T) {
	if os.Getenv("EGCTL_CONFORMANCE") != "1" {
		t.Skip("set EGCTL_CONFORMANCE=1 (make conformance) to run the Gateway API conformance suite")
	}
	envoy := envoytest.Find(t)
	if w := privilegedPortsWarning(); w != "" {
		fmt.Println("=== WARNING: " + w)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dir := t.TempDir()
	echo, err := BuildEcho(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var logMu sync.Mutex
	var harnessLog []string
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		harnessLog = append(harnessLog, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
	}
	h, err := StartHarness(Options{EnvoyBin: envoy, EchoBin: echo, Dir: dir, Logf: logf, Resync: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanup, not defer: the suite's own cleanups (deleting what it
	// applied) must run while the harness still serves them.
	t.Cleanup(h.Close)
	if err := seed(ctx, h.Store); err != nil {
		t.Fatal(err)
	}

	cfg := h.API.RESTConfig()
	c, err := client.New(cfg, h.API.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	feats := declaredFeatures()
	profiles := profilesFor(feats)
	var skip []string
	if s := os.Getenv("EGCTL_CONFORMANCE_SKIP"); s != "" {
		skip = strings.Split(s, ",")
	}

	var resMu sync.Mutex
	var results []result
	opts := suite.ConformanceOptions{
		ConfigurableOptions: suite.ConfigurableOptions{
			GatewayClassName:     gatewayClassName,
			CleanupBaseResources: true,
			CleanupTestResources: true,
			SupportedFeatures:    feats,
			ConformanceProfiles:  profiles,
			SkipTests:            skip,
			// Static addresses (addresses.go): the usable ones are ours to
			// bind; the unusable one is only written into a Gateway spec.
			UsableNetworkAddresses:   SpecAddresses(UsableAddresses),
			UnusableNetworkAddresses: SpecAddresses(UnusableAddresses),
			RunTest:                  os.Getenv("EGCTL_CONFORMANCE_RUN"),
			TimeoutConfig:            timeouts(),
			Mode:                     "default",
			Implementation: confv1.Implementation{
				Organization: "egctl",
				Project:      "egctl",
				URL:          "https://github.com/egctl/egctl",
				Version:      implVersion(),
				Contact:      []string{"https://github.com/egctl/egctl/issues"},
			},
		},
		Client:        c,
		ClientOptions: h.API.ClientOptions(),
		Clientset:     cs,
		RestConfig:    cfg,
		ManifestFS:    []fs.FS{&gwconformance.Manifests},
		Hook: func(st *testing.T, test suite.ConformanceTest, s *suite.ConformanceTestSuite) {
			r := result{name: test.ShortName, outcome: "PASS"}
			switch {
			case st.Failed():
				r.outcome = "FAIL"
			case st.Skipped():
				r.outcome = "SKIP"
				var missing []string
				for _, f := range test.Features {
					if !s.SupportedFeatures.Has(f) {
						missing = append(missing, string(f))
					}
				}
				switch {
				case len(missing) > 0:
					r.why = "unsupported: " + strings.Join(missing, ",")
				case test.Provisional && s.SkipProvisionalTests:
					r.why = "provisional"
				default:
					r.why = "skipped by option"
				}
			}
			resMu.Lock()
			results = append(results, r)
			resMu.Unlock()
		},
	}
	cSuite, err := suite.NewConformanceTestSuite(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		resMu.Lock()
		defer resMu.Unlock()
		summarize(t, results, time.Since(start))
		fmt.Printf("=== harness: %d distinct reconcile errors, %d distinct Envoy NACKs (details in test/conformance/diagnostics.txt)\n",
			len(h.Errors()), len(h.DataPlane.NACKs()))
		writeReport(t, cSuite)
		writeDiagnostics(t, h, harnessLog, &logMu)
	})
	cSuite.Setup(t, tests.ConformanceTests)
	if err := cSuite.Run(t, tests.ConformanceTests); err != nil {
		t.Fatal(err)
	}
}

// seed creates the GatewayClass the suite is told to use, as an
// implementation's installation would.
func seed(ctx context.Context, st *Store) error {
	return st.Create(ctx, &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: gatewayClassName},
		Spec:       gwv1.GatewayClassSpec{ControllerName: ControllerName},
	})
}

// timeouts are the suite's defaults with the waits for status shortened:
// everything runs in-process, and a test that cannot pass should fail in
// seconds, not minutes, so the whole run stays well under 30 minutes.
func timeouts() config.TimeoutConfig {
	tc := config.DefaultTimeoutConfig()
	short := 30 * time.Second
	for _, d := range []*time.Duration{
		&tc.CreateTimeout, &tc.GatewayMustHaveAddress, &tc.GatewayMustHaveCondition, &tc.GatewayStatusMustHaveListeners,
		&tc.GatewayListenersMustHaveConditions, &tc.ListenerSetMustHaveCondition, &tc.ListenerSetListenersMustHaveConditions,
		&tc.GWCMustBeAccepted, &tc.HTTPRouteMustNotHaveParents, &tc.HTTPRouteMustHaveCondition, &tc.TLSRouteMustHaveCondition,
		&tc.TCPRouteMustHaveCondition, &tc.UDPRouteMustHaveCondition, &tc.RouteMustHaveParents, &tc.LatestObservedGenerationSet,
		&tc.DefaultTestTimeout,
	} {
		*d = short
	}
	tc.NamespacesMustBeReady = 90 * time.Second
	return tc
}

// privilegedPortsWarning says why Envoy may fail to bind the suite's ports
// 80 and 443 (translation keeps them as written, as a real Gateway would).
func privilegedPortsWarning() string {
	if os.Geteuid() == 0 {
		return ""
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n <= 80 {
			return ""
		}
	}
	return "not root and net.ipv4.ip_unprivileged_port_start > 80: Envoy cannot bind ports 80/443 unless its binary has CAP_NET_BIND_SERVICE; Gateway tests will fail"
}

func implVersion() string {
	if v := version.Get().Version; v != "" {
		return v
	}
	return "dev"
}

// summarize prints one line per test and the totals.
func summarize(t *testing.T, results []result, took time.Duration) {
	sort.Slice(results, func(i, j int) bool { return results[i].name < results[j].name })
	count := map[string]int{}
	var b strings.Builder
	b.WriteString("\n=== Gateway API conformance (" + consts.BundleVersion + ") against egctl + Envoy\n")
	for _, r := range results {
		count[r.outcome]++
		line := fmt.Sprintf("%-4s %s", r.outcome, r.name)
		if r.why != "" {
			line += "  (" + r.why + ")"
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "=== %d tests: %d passed, %d failed, %d skipped in %v\n",
		len(results), count["PASS"], count["FAIL"], count["SKIP"], took.Round(time.Second))
	fmt.Print(b.String())
}

func writeReport(t *testing.T, s *suite.ConformanceTestSuite) {
	rep, err := s.Report()
	if err != nil {
		t.Errorf("conformance report: %v", err)
		return
	}
	out, err := yaml.Marshal(rep)
	if err != nil {
		t.Errorf("conformance report: %v", err)
		return
	}
	if err := os.WriteFile("report.yaml", out, 0o644); err != nil {
		t.Errorf("writing report.yaml: %v", err)
		return
	}
	fmt.Println("=== conformance report written to test/conformance/report.yaml")
}

// writeDiagnostics keeps what a failure needs to be routed: the harness
// log, reconcile and data-plane errors, and the last translation's problems.
func writeDiagnostics(t *testing.T, h *Harness, harnessLog []string, mu *sync.Mutex) {
	var b strings.Builder
	b.WriteString("# reconcile errors (count)\n")
	errs := h.Errors()
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%d\t%s\n", errs[k], k)
	}
	b.WriteString("\n# configurations Envoy rejected (count)\n")
	nacks := h.DataPlane.NACKs()
	keys = keys[:0]
	for k := range nacks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%d\t%s\n", nacks[k], k)
	}
	b.WriteString("\n# data-plane errors\n")
	for _, e := range h.DataPlane.Errors() {
		b.WriteString(e + "\n")
	}
	b.WriteString("\n# every problem translation reported during the run (first seen)\n")
	for _, p := range h.Controller.AllProblems() {
		b.WriteString(p + "\n")
	}
	b.WriteString("\n# harness log\n")
	mu.Lock()
	for _, l := range harnessLog {
		b.WriteString(l + "\n")
	}
	mu.Unlock()
	if err := os.WriteFile("diagnostics.txt", []byte(b.String()), 0o644); err != nil {
		t.Errorf("writing diagnostics.txt: %v", err)
	}
}
