// Package metrics defines kessai's Prometheus metrics in one registry:
// HTTP requests, gateway calls by operation and response code, latency
// histograms, the webhook backlog and the job queue depth.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kessai/kessai/escott"
)

// Metrics is kessai's registry and its collectors.
type Metrics struct {
	Registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	gatewayCalls *prometheus.CounterVec
	gatewayTime  *prometheus.HistogramVec
}

// Gauges are read when /metrics is scraped, so they are always current
// and cost nothing between scrapes.
type Gauges struct {
	// WebhookBacklog returns the number of webhook deliveries waiting.
	WebhookBacklog func(ctx context.Context) (int, error)
	// JobQueueDepth returns the number of jobs not yet finished.
	JobQueueDepth func(ctx context.Context) (int, error)
}

// latencyBuckets spans sub-millisecond local work to the gateway's 60 s
// timeout.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// New creates the registry with Go runtime and process collectors.
func New(g Gauges) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kessai_http_requests_total", Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kessai_http_request_duration_seconds", Help: "Time to serve an HTTP request, by route pattern.", Buckets: latencyBuckets,
		}, []string{"route"}),
		gatewayCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kessai_gateway_calls_total", Help: "e-SCOTT calls, by OperateId and first response code (NG = no usable answer).",
		}, []string{"operation", "code"}),
		gatewayTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kessai_gateway_call_duration_seconds", Help: "e-SCOTT call latency, by OperateId.", Buckets: latencyBuckets,
		}, []string{"operation"}),
	}
	reg.MustRegister(m.httpRequests, m.httpDuration, m.gatewayCalls, m.gatewayTime)
	gauge := func(name, help string, f func(context.Context) (int, error)) {
		if f == nil {
			return
		}
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := f(ctx)
			if err != nil {
				return -1 // visible in dashboards as "could not measure"
			}
			return float64(n)
		}))
	}
	gauge("kessai_webhook_backlog", "Webhook deliveries waiting to be sent or retried.", g.WebhookBacklog)
	gauge("kessai_job_queue_depth", "Background jobs not yet finished.", g.JobQueueDepth)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveGateway records one gateway call; it fits escott.Config.Log.
func (m *Metrics) ObserveGateway(_ context.Context, e escott.LogEntry) {
	code := escott.CodeNG
	if len(e.Codes) > 0 {
		code = e.Codes[0]
	}
	if len(code) > 8 { // bound label cardinality against odd answers
		code = "other"
	}
	m.gatewayCalls.WithLabelValues(string(e.Op), code).Inc()
	m.gatewayTime.WithLabelValues(string(e.Op)).Observe(e.Duration.Seconds())
}

// statusRecorder captures the status code written by a handler.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Middleware counts and times requests by their ServeMux pattern (never by
// raw path, which would put IDs into label values).
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
