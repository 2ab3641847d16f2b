package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/password"
	"github.com/kessai/kessai/service"
)

// clock is a test clock that moves 1 ms on every reading, so IDs made in
// a row sort in creation order (NewID has millisecond resolution), and
// that a test can move forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// resender records Resend calls.
type resender struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (r *resender) Resend(_ context.Context, shopID, eventID, endpointID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, shopID+"/"+eventID+"/"+endpointID)
	return r.err
}

// env is a running API over a real store.
type env struct {
	t        *testing.T
	store    kessai.Store
	svc      *service.Service
	api      *API
	srv      *httptest.Server
	clock    *clock
	sk, pk   string
	kicks    atomic.Int64
	resender *resender
	logs     *bytes.Buffer
	logMu    *sync.Mutex
}

// testPasswordParams make the first admin's password hash, which every
// Bootstrap makes, cheap: argon2id's production cost is about a second
// per env under the race detector.
var testPasswordParams = password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

type envOption func(*Config)

// newEnv starts the API over a fresh store of backend db (see
// internal/testdb; tests run on every backend with testdb.Run).
func newEnv(t testing.TB, db testdb.Backend, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	store := db.Open(t)
	e := &env{store: store, clock: newClock(), resender: &resender{}, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	if tt, ok := t.(*testing.T); ok {
		e.t = tt
	}
	log := slog.New(slog.NewTextHandler(&lockedWriter{mu: e.logMu, w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.svc = service.New(service.Config{Store: store, Now: e.clock.Now, Logger: log,
		AfterEvent: func() { e.kicks.Add(1) }, Resender: e.resender, PasswordParams: testPasswordParams})
	keys, err := e.svc.Bootstrap(ctx)
	if err != nil || keys == nil {
		t.Fatalf("bootstrap: %v %v", keys, err)
	}
	e.sk, e.pk = keys.SecretKey, keys.PublishableKey
	cfg := Config{Service: e.svc, Logger: log, Now: e.clock.Now, PublicURL: "https://pay.example.jp/"}
	for _, o := range opts {
		o(&cfg)
	}
	e.api = newAPI(cfg)
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) logText() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}

// resp is an answer of the test server.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as an object.
func (r *resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// errCode returns error.code of an error answer.
func (r *resp) errCode(t testing.TB) string {
	t.Helper()
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	code, _ := e["code"].(string)
	return code
}

// req describes a request.
type req struct {
	method, path string
	body         any // string and []byte are sent as they are; anything else as JSON
	key          string
	noKey        bool
	header       map[string]string
}

func (e *env) do(t testing.TB, q req) *resp {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := q.body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	r, err := http.NewRequest(q.method, e.srv.URL+q.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if !q.noKey {
		k := q.key
		if k == "" {
			k = e.sk
		}
		r.Header.Set("Authorization", "Bearer "+k)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

// must fails unless the answer has status want.
func (r *resp) must(t testing.TB, want int) *resp {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

// createOrder creates an order with shop order id sid and returns it.
func (e *env) createOrder(t testing.TB, sid string, extra map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"shop_order_id": sid, "amount": 1100}
	for k, v := range extra {
		body[k] = v
	}
	return e.do(t, req{method: "POST", path: "/v1/orders", body: body}).must(t, 201).json(t)
}

// seedPayment stores a payment with one attempt and one history row for
// an order, as the card flow will.
func (e *env) seedPayment(t testing.TB, orderID string) *kessai.Payment {
	t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	p := &kessai.Payment{ID: kessai.NewID("pay", now), ShopID: kessai.DefaultShopID, OrderID: orderID, Method: kessai.MethodCard,
		State: kessai.PaymentCaptured, Amount: 1100, Currency: "JPY", TransactionCode: "000482917365",
		Operation: escott.OpGathering, PayType: "01", ProcessID: "pid", ProcessPass: "ppass", CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreatePayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	a := &kessai.Attempt{ID: kessai.NewID("att", now), ShopID: kessai.DefaultShopID, PaymentID: p.ID, Operation: escott.OpGathering,
		MerchantFree1: "000482917365", Amount: 1100, Status: kessai.AttemptPending, CreatedAt: now}
	if err := e.store.CreateAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	a.Status, a.Codes, a.FinishedAt = kessai.AttemptSucceeded, []string{"OK"}, e.clock.Now()
	if err := e.store.FinishAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	h := &kessai.HistoryEntry{ID: kessai.NewID("his", now), ShopID: kessai.DefaultShopID, PaymentID: p.ID, At: now,
		TransactionID: "12345678", Operation: escott.OpGathering, ResponseCd: "OK", Amount: 1100,
		Fields: map[string]string{"ProcessPass": escott.Masked}}
	if err := e.store.AppendHistory(ctx, h); err != nil {
		t.Fatal(err)
	}
	return p
}
