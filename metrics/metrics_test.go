package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	m := New(Gauges{
		WebhookBacklog: func(context.Context) (int, error) { return 7, nil },
		JobQueueDepth:  func(context.Context) (int, error) { return 0, errors.New("db down") },
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	h := m.Middleware(mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/orders/ord_123", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	m.ObserveGateway(context.Background(), escott.LogEntry{Op: escott.OpAuth, Codes: []string{"G55"}, Duration: 20 * time.Millisecond})
	m.ObserveGateway(context.Background(), escott.LogEntry{Op: escott.OpAuth, Duration: time.Second})

	out := scrape(t, m)
	for _, want := range []string{
		`kessai_http_requests_total{code="404",route="GET /v1/orders/{id}"} 1`,
		`kessai_http_requests_total{code="404",route="unmatched"} 1`,
		`kessai_gateway_calls_total{code="G55",operation="1Auth"} 1`,
		`kessai_gateway_calls_total{code="NG",operation="1Auth"} 1`,
		`kessai_webhook_backlog 7`,
		`kessai_job_queue_depth -1`,
		`kessai_gateway_call_duration_seconds_count{operation="1Auth"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(out, "ord_123") {
		t.Error("raw path leaked into labels")
	}
}
