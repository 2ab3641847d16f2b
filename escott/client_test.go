package escott

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var testMerchant = Merchant{MerchantID: "030000001", MerchantPass: "pass", TenantID: "0001"}

func fixedNow() time.Time { return time.Date(2026, 3, 31, 15, 30, 0, 0, time.UTC) } // 2026-04-01 00:30 JST

func newTestClient(t *testing.T, base string, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Merchant: testMerchant, Environment: Test, BaseURL: base, Now: fixedNow}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recorder is a fake gateway endpoint that records the request and
// answers with a fixed body.
type recorder struct {
	mu     sync.Mutex
	forms  []url.Values
	paths  []string
	ctypes []string
	answer func(form url.Values) (status int, body string)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	rec.mu.Lock()
	rec.forms = append(rec.forms, r.PostForm)
	rec.paths = append(rec.paths, r.URL.Path)
	rec.ctypes = append(rec.ctypes, r.Header.Get("Content-Type"))
	rec.mu.Unlock()
	status, body := rec.answer(r.PostForm)
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestDoFillsCommonFields(t *testing.T) {
	rec := &recorder{answer: func(url.Values) (int, string) { return 200, "ResponseCd=OK&OperateId=2Add" }}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	if _, err := c.Do(context.Background(), OpCvsAdd, Params{{"MerchantFree1", "000000000001"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), OpAuth, Params{{"Amount", "1"}}); err != nil {
		t.Fatal(err)
	}
	cvs, card := rec.forms[0], rec.forms[1]
	if rec.paths[0] != PathCollection || rec.paths[1] != PathCard {
		t.Fatalf("paths %v", rec.paths)
	}
	if rec.ctypes[0] != "application/x-www-form-urlencoded" {
		t.Fatalf("content type %q", rec.ctypes[0])
	}
	if cvs.Get("MerchantId") != "030000001" || cvs.Get("MerchantPass") != "pass" || cvs.Get("OperateId") != "2Add" || cvs.Get("TransactionDate") != "20260401" {
		t.Fatalf("common fields %v", cvs)
	}
	if cvs.Has("TenantId") {
		t.Fatal("TenantId sent on a collection call")
	}
	if card.Get("TenantId") != "0001" {
		t.Fatal("TenantId missing on a card call")
	}
	if _, err := c.Do(context.Background(), OpSecure, nil); err == nil {
		t.Fatal("3Secure is not a server call")
	}
}

func TestNoUsableAnswerIsNG(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		mayHave bool
	}{
		{"empty body", func(w http.ResponseWriter, r *http.Request) {}, true},
		{"no ResponseCd", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "OperateId=1Auth") }, true},
		{"html error page", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(503)
			io.WriteString(w, "<html>maintenance</html>")
		}, true},
		{"connection reset", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			var logged []LogEntry
			c := newTestClient(t, srv.URL, func(cfg *Config) {
				cfg.Log = func(_ context.Context, e LogEntry) { logged = append(logged, e) }
			})
			resp, err := c.Authorize(context.Background(), AuthRequest{Amount: 100, Token: "tok"})
			e, ok := AsError(err)
			if resp != nil || !ok || !e.NoAnswer() || e.Codes[0] != CodeNG || e.MaySucceeded != tc.mayHave {
				t.Fatalf("resp=%v err=%#v", resp, err)
			}
			if len(logged) != 1 || logged[0].Codes[0] != CodeNG || logged[0].Err == nil {
				t.Fatalf("log %+v", logged)
			}
		})
	}
}

func TestConnectFailureIsCertainlyNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newTestClient(t, "http://"+addr)
	_, err = c.Authorize(context.Background(), AuthRequest{Amount: 100, Token: "tok"})
	e, ok := AsError(err)
	if !ok || !e.NoAnswer() || e.MaySucceeded || IsUncertain(err) {
		t.Fatalf("err = %#v", err)
	}
}

func TestTimeoutIsUncertain(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Authorize(ctx, AuthRequest{Amount: 100, Token: "tok"})
	if !IsUncertain(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestHTTPStatusIsIgnored(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, "ResponseCd=OK&OperateId=1Auth&ProcessId=P&ProcessPass=Q")
	}))
	defer srv.Close()
	res, err := newTestClient(t, srv.URL).Authorize(context.Background(), AuthRequest{Amount: 100, Token: "tok"})
	if err != nil || res.Process.ProcessID != "P" {
		t.Fatalf("res=%v err=%v", res, err)
	}
}

func TestDeclineReturnsAnswerAndError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ResponseCd=G55&OperateId=1Gathering&MerchantFree1=000000000001")
	}))
	defer srv.Close()
	res, err := newTestClient(t, srv.URL).Authorize(context.Background(), AuthRequest{Capture: true, Amount: 100, Token: "tok", Ref: Ref{MerchantFree1: "000000000001"}})
	e, ok := AsError(err)
	if !ok || e.NoAnswer() || !e.HasCode("G55") || res == nil || res.MerchantFree1() != "000000000001" {
		t.Fatalf("res=%v err=%v", res, err)
	}
}

func TestK81RetryWithoutMember(t *testing.T) {
	rec := &recorder{answer: func(f url.Values) (int, string) {
		if f.Get("KaiinId") != "" {
			return 200, "ResponseCd=K81&OperateId=" + f.Get("OperateId")
		}
		return 200, "ResponseCd=OK&OperateId=" + f.Get("OperateId") + "&ProcessId=P&ProcessPass=Q&SalesDate=20260401"
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	f := FollowUp{Ref: Ref{MerchantFree1: "000000000001", MerchantFree3: "15"}, Process: Process{"P", "Q"}, Member: Member{"k15i0000001", "000000000001"}}
	res, err := c.ReAuth(context.Background(), f, 500)
	if err != nil || !res.RetriedWithoutMember || res.SalesDate != "20260401" {
		t.Fatalf("res=%+v err=%v", res, err)
	}
	if len(rec.forms) != 2 || rec.forms[1].Has("KaiinId") || rec.forms[1].Has("MerchantFree3") || rec.forms[1].Get("SalesDate") == "" {
		t.Fatalf("retry form %v", rec.forms)
	}
	// Without member ids there is nothing to retry.
	f.Member = Member{}
	rec.answer = func(url.Values) (int, string) { return 200, "ResponseCd=K81" }
	if res, err := c.Capture(context.Background(), f); err == nil || res.RetriedWithoutMember {
		t.Fatal("retried without member ids")
	}
}

func TestTLS12Only(t *testing.T) {
	ok := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.Version != tls.VersionTLS12 {
			t.Errorf("negotiated %x", r.TLS.Version)
		}
		io.WriteString(w, "ResponseCd=OK")
	}))
	ok.StartTLS()
	defer ok.Close()
	pool := ok.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	hc := &http.Client{Transport: NewTransport(TransportOptions{RootCAs: pool})}
	c := newTestClient(t, ok.URL, func(cfg *Config) { cfg.HTTPClient = hc })
	for range 3 {
		if _, err := c.Do(context.Background(), OpSearch, Params{{"ProcessId", "p"}}); err != nil {
			t.Fatal(err)
		}
	}
	if calls, dialled := c.Stats(); calls != 3 || dialled != 1 {
		t.Fatalf("calls=%d new connections=%d; want the pool reused", calls, dialled)
	}

	only13 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	only13.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	only13.StartTLS()
	defer only13.Close()
	pool13 := only13.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c13 := newTestClient(t, only13.URL, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: NewTransport(TransportOptions{RootCAs: pool13})}
	})
	_, err := c13.Do(context.Background(), OpSearch, nil)
	if e, ok := AsError(err); !ok || !e.NoAnswer() || e.MaySucceeded {
		t.Fatalf("TLS 1.3-only server: %v", err)
	}
}

func TestLogIsMasked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ResponseCd=OK&ProcessId=P&ProcessPass=SECRETPROCESSPASS&KaiinPass=SECRETKAIIN")
	}))
	defer srv.Close()
	var sb strings.Builder
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Log = func(_ context.Context, e LogEntry) {
			sb.WriteString(e.Request.Encode())
			sb.WriteString(e.Response.Encode())
		}
	})
	if _, err := c.Authorize(context.Background(), AuthRequest{Amount: 1, Member: Member{"k1i0000001", "SECRETKAIIN"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TokenSearch(context.Background(), Ref{}, "SECRETTOKEN"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SECRETPROCESSPASS", "SECRETKAIIN", "SECRETTOKEN", "pass&"} {
		if strings.Contains(sb.String(), s) {
			t.Errorf("log contains %q: %s", s, sb.String())
		}
	}
}

func TestRequestValidation(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1")
	ctx := context.Background()
	if _, err := c.Authorize(ctx, AuthRequest{Amount: 0, Token: "t"}); err == nil {
		t.Error("zero amount")
	}
	if _, err := c.Authorize(ctx, AuthRequest{Amount: 1}); err == nil {
		t.Error("no card")
	}
	if _, err := c.Authorize(ctx, AuthRequest{Amount: 1, Token: "t", Member: Member{"a", "b"}}); err == nil {
		t.Error("two cards")
	}
	if _, err := c.Capture(ctx, FollowUp{}); err == nil {
		t.Error("capture without process")
	}
	if _, err := c.RegisterCollection(ctx, CollectionRequest{Amount: 1, PayLimit: "2026"}); err == nil {
		t.Error("bad PayLimit")
	}
	if _, err := c.AddMember(ctx, Ref{}, Member{"a", "b"}, ""); err == nil {
		t.Error("member add without token")
	}
	if _, err := New(Config{Merchant: testMerchant}); err == nil {
		t.Error("no environment")
	}
	if _, err := New(Config{Merchant: testMerchant, Environment: Test, BaseURL: "ftp://x"}); err == nil {
		t.Error("bad base URL")
	}
}
