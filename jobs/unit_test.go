package jobs

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/kessai/kessai"
)

// TestDefaultSchedule pins the published schedule (docs/webhooks.md) and
// the design's promise of retries for at least three days.
func TestDefaultSchedule(t *testing.T) {
	want := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 10 * time.Hour, 12 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	if len(DefaultSchedule) != len(want) {
		t.Fatalf("DefaultSchedule has %d delays, docs publish %d", len(DefaultSchedule), len(want))
	}
	var total time.Duration
	for i, d := range DefaultSchedule {
		if d != want[i] {
			t.Errorf("delay %d = %v, docs publish %v", i+1, d, want[i])
		}
		total += d
	}
	if total < 72*time.Hour {
		t.Errorf("retries span %v, less than three days", total)
	}
	if total != 87*time.Hour+36*time.Minute {
		t.Errorf("retries span %v; docs say 3 days 15 hours 36 minutes", total)
	}
}

func TestNextRetryFollowsSchedule(t *testing.T) {
	sched := []time.Duration{time.Minute, time.Hour, 24 * time.Hour}
	w := &deliverWorker{r: &Runner{schedule: sched}}
	for errs, want := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 24 * time.Hour} {
		job := &river.Job[deliverArgs]{JobRow: &rivertype.JobRow{Attempt: errs + 1, Errors: make([]rivertype.AttemptError, errs)}}
		before := time.Now()
		got := w.NextRetry(job)
		if got.Before(before.Add(want)) || got.After(time.Now().Add(want)) {
			t.Errorf("after %d failures, next retry in %v, want %v", errs+1, got.Sub(before), want)
		}
	}
	r := &Runner{schedule: sched}
	if o := r.deliverInsertOpts(true); o.MaxAttempts != len(sched)+1 || !o.UniqueOpts.ByArgs || len(o.UniqueOpts.ByState) != 8 {
		t.Errorf("dispatched delivery options = %+v", o)
	}
	if o := r.deliverInsertOpts(false); o.MaxAttempts != len(sched)+1 || o.UniqueOpts.ByArgs || o.UniqueOpts.ByState != nil {
		t.Errorf("resend options = %+v, want no uniqueness", o)
	}
}

func TestOptionsValidation(t *testing.T) {
	store := kessai.Store(nil)
	if _, err := NewSQLite(nil, store, Options{}); err == nil {
		t.Error("NewSQLite without a database succeeded")
	}
	db := openSQLite(t)
	if _, err := NewSQLite(db.SQL(), nil, Options{}); err == nil {
		t.Error("NewSQLite without a store succeeded")
	}
	for _, o := range []Options{
		{Schedule: []time.Duration{time.Minute, 0}},
		{Schedule: []time.Duration{-time.Second}},
		{DispatchInterval: 100 * time.Millisecond},
	} {
		if _, err := NewSQLite(db.SQL(), db, o); err == nil {
			t.Errorf("NewSQLite(%+v) succeeded", o)
		}
	}
	r, err := NewSQLite(db.SQL(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.schedule) != len(DefaultSchedule) {
		t.Errorf("default schedule not applied: %v", r.schedule)
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		enabled bool
		types   []string
		typ     string
		want    bool
	}{
		{true, nil, kessai.EventPaymentPaid, true},
		{true, []string{}, kessai.EventOrderCreated, true},
		{true, []string{kessai.EventPaymentPaid}, kessai.EventPaymentPaid, true},
		{true, []string{kessai.EventPaymentPaid}, kessai.EventPaymentPending, false},
		{false, nil, kessai.EventPaymentPaid, false},
		{false, []string{kessai.EventPaymentPaid}, kessai.EventPaymentPaid, false},
	}
	for _, tc := range tests {
		ep := &kessai.WebhookEndpoint{Enabled: tc.enabled, EventTypes: tc.types}
		if got := wants(ep, tc.typ); got != tc.want {
			t.Errorf("wants(enabled %v, %v, %s) = %v", tc.enabled, tc.types, tc.typ, got)
		}
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("あ", 300) // 3 bytes each
	got := truncate(long, 500)
	if len(got) > 500 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("truncate: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := truncate("short", 500); got != "short" {
		t.Errorf("truncate(short) = %q", got)
	}
	if got := truncate("bad \xff byte", 500); !utf8.ValidString(got) {
		t.Errorf("truncate kept invalid UTF-8: %q", got)
	}
	if got := snippet([]byte("<html>\n  <body>Internal\tError</body>\n</html>")); got != "<html> <body>Internal Error</body> </html>" {
		t.Errorf("snippet = %q", got)
	}
	if got := errorText(errors.New(strings.Repeat("x", 2000))); len(got) > maxErrorText {
		t.Errorf("errorText kept %d bytes", len(got))
	}
}

// TestDeliveryClientRefusesRedirects: even a caller's client that follows
// redirects is copied into one that does not, and the caller's own client
// is left untouched.
func TestDeliveryClientRefusesRedirects(t *testing.T) {
	var hits sync.Map
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Store("target", true) }))
	defer target.Close()
	redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirector.Close()

	own := &http.Client{Timeout: 3 * time.Second}
	for _, c := range []*http.Client{deliveryClient(nil), deliveryClient(own)} {
		resp, err := c.Post(redirector.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("status %d, want the 307 itself", resp.StatusCode)
		}
	}
	if _, ok := hits.Load("target"); ok {
		t.Error("a redirect was followed")
	}
	if own.CheckRedirect != nil {
		t.Error("the caller's client was modified")
	}
}

// TestConcurrentMigrate: instances starting together on one PostgreSQL
// schema migrate one after the other under the advisory lock instead of
// colliding on CREATE TABLE.
func TestConcurrentMigrate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		if b.name != "postgres" {
			t.Skip("a SQLite file has one owning process")
		}
		open := b.open(t)
		var insts []*instance
		for range 3 {
			insts = append(insts, open(t, testOptions(t)))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(insts))
		for i, in := range insts {
			wg.Go(func() { errs[i] = in.runner.Migrate(t.Context()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		}
		if n, err := insts[0].runner.QueueDepth(t.Context()); err != nil || n != 0 {
			t.Errorf("after migrating, queue depth = %d, %v", n, err)
		}
	})
}
