package serve

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are serve's Prometheus metrics, on /metrics. A registry of its
// own keeps Go's process metrics and serve's apart from any other user of
// the default one (tests run several servers in one process).
type metrics struct {
	reg            *prometheus.Registry
	compileSeconds prometheus.Histogram
	pushLatency    prometheus.Histogram
	compiles       *prometheus.CounterVec
	nacks          prometheus.Counter
	gateways       prometheus.Gauge
	proxies        prometheus.GaugeFunc
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.compileSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "egctl_serve_compile_seconds",
		Help:    "Time to load, translate and build the snapshots of the manifests.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	})
	m.pushLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "egctl_serve_push_seconds",
		Help:    "Time from a new snapshot to a proxy acknowledging every resource type it subscribed to.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	m.compiles = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "egctl_serve_compiles_total",
		Help: "Compilations by result: applied, or held (did not build, or brought new problems).",
	}, []string{"result"})
	m.nacks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "egctl_serve_nacks_total",
		Help: "Configurations a proxy rejected.",
	})
	m.gateways = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "egctl_serve_gateways",
		Help: "Gateways (snapshots) served.",
	})
	m.reg.MustRegister(m.compileSeconds, m.pushLatency, m.compiles, m.nacks, m.gateways,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// watchProxies adds the connected-proxies gauge, read from the fleet.
func (m *metrics) watchProxies(f *fleet) {
	m.proxies = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "egctl_serve_connected_proxies",
		Help: "Envoys with an open ADS stream.",
	}, func() float64 { return float64(f.count()) })
	m.reg.MustRegister(m.proxies)
}
