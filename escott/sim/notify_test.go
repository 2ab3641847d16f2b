package sim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

func newTestHTTPServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// flush waits until every pending notification has had its next attempt.
func flush(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.FlushNotifications(ctx); err != nil {
		t.Fatalf("FlushNotifications: %v", err)
	}
}

func testNotification(u string) notification {
	n := notification{MerchantID: DemoMerchant.MerchantID, URL: u}
	n.Fields.Set("MerchantId", DemoMerchant.MerchantID)
	n.Fields.Set("TransactionId", "1000000000001")
	n.Fields.Set("RecvNum", "123456789012")
	n.Fields.Set("NyukinDate", "20241003101530")
	n.Fields.Set("MerchantFree1", "000771020345")
	n.Fields.Set("MerchantFree2", "1235")
	n.Fields.Set("CvsCd", "SEV")
	return n
}

func TestDefaultNotifyRetry(t *testing.T) {
	d := defaultNotifyRetry()
	if len(d)+1 != 24 {
		t.Errorf("%d delays: %d attempts in all, want 24", len(d), len(d)+1)
	}
	want := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour}
	for i, w := range want {
		if d[i] != w {
			t.Errorf("delay %d = %v, want %v", i, d[i], w)
		}
	}
	for i := len(want); i < len(d); i++ {
		if d[i] != time.Hour {
			t.Errorf("delay %d = %v, want 1h", i, d[i])
		}
	}
}

func TestNotifyRetriesUntilAccepted(t *testing.T) {
	recv, u := startReceiver(t, 500, 503, 200)
	b := startBrowserSim(t, withNotifyURL(u))
	b.s.notify(testNotification(""))

	flush(t, b.s)
	recv.next()
	v := b.s.Notifications()[0]
	if v.Delivered || !v.Pending || v.Attempts != 1 || v.LastStatus != "500" || v.URL != u {
		t.Fatalf("after the first attempt: %+v", v)
	}
	if d := time.Until(v.NextAttempt); d < 5*time.Second || d > 11*time.Second {
		t.Errorf("next attempt in %v, want about 10s", d)
	}

	flush(t, b.s) // retry now
	recv.next()
	if v = b.s.Notifications()[0]; v.Attempts != 2 || v.LastStatus != "503" || time.Until(v.NextAttempt) < 20*time.Second {
		t.Fatalf("after the second attempt: %+v", v)
	}

	b.s.RetryNotificationsNow()
	n := recv.next()
	if n.Get("RecvNum") != "123456789012" || n.Get("CvsCd") != "SEV" {
		t.Errorf("retried notification: %v", n)
	}
	flush(t, b.s)
	if v = b.s.Notifications()[0]; !v.Delivered || v.Pending || v.Attempts != 3 || v.LastStatus != "200" || !v.NextAttempt.IsZero() {
		t.Errorf("after delivery: %+v", v)
	}
	if v.Fields["MerchantFree2"] != "1235" || v.Body == "" {
		t.Errorf("view fields: %+v", v)
	}
}

func TestNotifyGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := newTestHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Redirect(w, r, "/elsewhere", http.StatusFound) // redirects are not followed
	}))
	b := startBrowserSim(t, func(c *Config) {
		c.NotifyRetry = []time.Duration{time.Millisecond, time.Millisecond}
	})
	b.s.notify(testNotification(srv.URL))
	deadline := time.Now().Add(5 * time.Second)
	for {
		v := b.s.Notifications()[0]
		if v.GaveUp {
			if v.Attempts != 3 || v.Delivered || v.Pending || v.LastStatus != "302" {
				t.Errorf("gave up: %+v", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never gave up: %+v", v)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if calls.Load() != 3 {
		t.Errorf("%d requests, want 3", calls.Load())
	}
}

func TestNotifyFaults(t *testing.T) {
	recv, u := startReceiver(t, http.StatusOK)
	b := startBrowserSim(t, withNotifyURL(u))

	b.s.AddFault(Fault{Kind: FaultDropNotification, Times: 1})
	code := addCollection(t, b.s, DemoMerchant.TestPass).Get("FreeArea")
	if err := b.s.payCollection(DemoMerchant.MerchantID, envTest, code, "LSN"); err != nil {
		t.Fatal(err)
	}
	flush(t, b.s)
	recv.none()
	if v := b.s.Notifications(); len(v) != 1 || !v[0].Dropped || v[0].Attempts != 0 || v[0].Pending {
		t.Fatalf("dropped: %+v", v)
	}

	b.s.AddFault(Fault{Kind: FaultDuplicateNotification, Times: 1})
	code = addCollection(t, b.s, DemoMerchant.TestPass).Get("FreeArea")
	if err := b.s.payCollection(DemoMerchant.MerchantID, envTest, code, "FAM"); err != nil {
		t.Fatal(err)
	}
	first, second := recv.next(), recv.next()
	if first.Encode() != second.Encode() || first.Get("CvsCd") != "FAM" {
		t.Errorf("duplicate: %v / %v", first, second)
	}
	flush(t, b.s)
	v := b.s.Notifications()
	if len(v) != 3 || !v[1].Delivered || !v[2].Delivered || v[1].Duplicate || !v[2].Duplicate {
		t.Errorf("log after duplicate: %+v", v)
	}

	// The faults were used up: the next one is delivered once.
	code = addCollection(t, b.s, DemoMerchant.TestPass).Get("FreeArea")
	if err := b.s.payCollection(DemoMerchant.MerchantID, envTest, code, "ATM"); err != nil {
		t.Fatal(err)
	}
	recv.next()
	flush(t, b.s)
	recv.none()
}

func TestNotifyWithoutURL(t *testing.T) {
	b := startBrowserSim(t, nil)
	b.s.notify(testNotification(""))
	flush(t, b.s)
	v := b.s.Notifications()
	if len(v) != 1 || !v[0].Skipped || v[0].Pending || v[0].Attempts != 0 {
		t.Errorf("without NotifyURL: %+v", v)
	}
}

func TestNotifyCloseIsPrompt(t *testing.T) {
	started := make(chan struct{}, 1)
	srv := newTestHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		started <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	s, err := New(Config{HTTPClient: &http.Client{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	s.notify(testNotification(srv.URL))
	<-started
	done := make(chan struct{})
	go func() {
		s.Close()
		s.Close() // idempotent
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return promptly")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.FlushNotifications(ctx); err == nil {
		t.Error("FlushNotifications after Close succeeded")
	}
	if v := s.Notifications(); len(v) != 1 || v[0].Delivered {
		t.Errorf("after Close: %+v", v)
	}
}

func TestNotificationControlEndpoints(t *testing.T) {
	recv, u := startReceiver(t, 500, 200)
	b := startBrowserSim(t, withNotifyURL(u))
	b.s.notify(testNotification(""))
	flush(t, b.s) // the first attempt (500) is over, the retry scheduled
	recv.next()

	status, _, body := b.do(http.MethodPost, "/_sim/notifications/flush", url.Values{})
	if status != http.StatusOK {
		t.Fatalf("flush: %d %s", status, body)
	}
	recv.next()
	status, h, body := b.do(http.MethodGet, "/_sim/notifications", nil)
	if status != http.StatusOK || h.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("list: %d %v", status, h)
	}
	var views []NotificationView
	if err := json.Unmarshal([]byte(body), &views); err != nil {
		t.Fatal(err)
	}
	if len(views) != 1 || !views[0].Delivered || views[0].Attempts != 2 || views[0].Fields["CvsCd"] != "SEV" {
		t.Errorf("list: %+v", views)
	}
	status, _, body = b.do(http.MethodPost, "/_sim/notifications/retry", url.Values{})
	if status != http.StatusAccepted || body == "" {
		t.Errorf("retry: %d %s", status, body)
	}
	if status, _, _ := b.do(http.MethodGet, "/_sim/notifications/retry", nil); status != http.StatusMethodNotAllowed {
		t.Errorf("GET retry: %d", status)
	}
}

// TestNotifyViaAgentPageEnv checks that the production agent page pays a
// production collection and notifies the same URL.
func TestNotifyViaAgentPageEnv(t *testing.T) {
	recv, u := startReceiver(t, http.StatusOK)
	b := startBrowserSim(t, withNotifyURL(u))
	code := addCollection(t, b.s, DemoMerchant.ProdPass).Get("FreeArea")
	status, _, _ := b.do(http.MethodPost, escott.PathAgentProd, url.Values{"code": {code}, "rkbn": {"1"}, "cvs": {"JPM"}})
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if n := recv.next(); n.Get("CvsCd") != "JPM" {
		t.Errorf("notification: %v", n)
	}
}
