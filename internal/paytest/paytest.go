// Package paytest is the end-to-end test harness that the payment packages
// (cardpay, cvspay) share: a real store (SQLite, or PostgreSQL through
// internal/testdb), the service on a test clock, an in-process e-SCOTT
// simulator with the gateway factory pointed at it, and a receiver server
// whose handler (package api, wired by the test) the simulator's browser
// hand-backs and payment notifications reach. A package's test wires its
// payer into that and plays the shop's backend, the shopper's browser
// (Browse, ParseForms) and the job runner.
package paytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/password"
	"github.com/kessai/kessai/service"
)

// BaseTime is where the clocks start: noon JST, so that no test crosses a
// JST midnight by accident and every date is reproducible. The
// simulator's clock only moves through Env.Advance and Env.SetTime; the
// service's moves 1 ms per reading (IDs made in a row sort in creation
// order) and with them.
var BaseTime = time.Date(2026, 4, 1, 12, 0, 0, 0, escott.JST)

// CheapPasswords are argon2id parameters that make admin password hashes
// instant: tests log in often, and nothing here measures the hash's cost.
var CheapPasswords = password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// ShopID is the one shop of an Env.
const ShopID = kessai.DefaultShopID

// ShopReturnURL is the shop's thank-you page, the orders' return URL: the
// receiver sends the browser there with the outcome in the query.
const ShopReturnURL = "https://shop.example/thanks"

// DemoID is the simulator's demo merchant, the shop's merchant.
var DemoID = sim.DemoMerchant.MerchantID

// Clock is the service's clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now moves the clock by a millisecond and returns it.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Calls records every gateway call (gateway.Config.Observe).
type Calls struct {
	mu  sync.Mutex
	ops []escott.OperateID
}

// Observe is the gateway.Config.Observe hook.
func (g *Calls) Observe(_ context.Context, e escott.LogEntry) {
	g.mu.Lock()
	g.ops = append(g.ops, e.Op)
	g.mu.Unlock()
}

// Count returns the number of calls of op so far ("" = every call).
func (g *Calls) Count(op escott.OperateID) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, o := range g.ops {
		if op == "" || o == op {
			n++
		}
	}
	return n
}

// Since returns the operations called after the first n calls.
func (g *Calls) Since(n int) []escott.OperateID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.ops[n:])
}

// Logger writes warnings and errors to the test log (shown on failure).
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Env is one shop over its own simulator and store.
type Env struct {
	T      testing.TB
	Ctx    context.Context
	Clock  *Clock
	Store  kessai.Store
	Svc    *service.Service
	Sim    *sim.Server
	SimURL string
	// Recv is the receiver's base URL; the simulator's merchant sends its
	// notifications to Recv + "/escott/notify".
	Recv  string
	Calls *Calls
	// Gateways is the gateway factory for the payer under test.
	Gateways *gateway.Factory
	// Log is the test's logger (Logger).
	Log *slog.Logger

	handler atomic.Value // http.Handler
	seq     atomic.Int64
}

// Options shape an Env.
type Options struct {
	// DB is the store's backend; SQLite when unset.
	DB testdb.Backend
	// Sim adjusts the simulator's configuration (the demo merchant, its
	// clock at BaseTime) before it starts.
	Sim func(*sim.Config)
	// Transport wraps the gateway's HTTP transport (fault injection on
	// the client side).
	Transport func(http.RoundTripper) http.RoundTripper
}

// Start starts the receiver, the simulator with the demo merchant, the
// store, the service and the shop (no settings yet), and the gateway
// factory. The caller builds its payer on Gateways, hands the receiver its
// handler (Serve) and applies the shop's settings (Settings).
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	if o.DB.Open == nil {
		o.DB = testdb.SQLite
	}
	ctx := context.Background()
	e := &Env{T: t, Ctx: ctx, Clock: NewClock(BaseTime.UTC()), Calls: &Calls{}, Log: Logger(t)}

	// The receiver first (its URL is the simulator's NotifyURL and the
	// payer's return URL); its handler is set by Serve.
	recv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	recv.Config.ErrorLog = log.New(io.Discard, "", 0)
	recv.Start()
	t.Cleanup(recv.Close)
	e.Recv = recv.URL

	merchant := sim.DemoMerchant
	merchant.NotifyURL = recv.URL + "/escott/notify"
	scfg := sim.Config{Merchants: []sim.Merchant{merchant}, Now: func() time.Time { return BaseTime }}
	if o.Sim != nil {
		o.Sim(&scfg)
	}
	s, err := sim.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	simSrv := httptest.NewUnstartedServer(s)
	simSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	simSrv.Start()
	t.Cleanup(simSrv.Close)
	e.Sim, e.SimURL = s, simSrv.URL

	e.Store = o.DB.Open(t)
	e.Svc = service.New(service.Config{Store: e.Store, Now: e.Clock.Now, Logger: e.Log, PasswordParams: CheapPasswords})
	if err := e.Store.CreateShop(ctx, &kessai.Shop{ID: ShopID, Name: "test", CreatedAt: e.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	var rt http.RoundTripper = escott.NewTransport(escott.TransportOptions{})
	if o.Transport != nil {
		rt = o.Transport(rt)
	}
	e.Gateways = gateway.New(gateway.Config{SimulatorURL: simSrv.URL, HTTPClient: &http.Client{Transport: rt},
		Now: s.Now, Observe: e.Calls.Observe, Logger: e.Log}) // e.Log: the browser suites' leak scan reads the masked call lines
	return e
}

// Serve makes h the receiver's handler.
func (e *Env) Serve(h http.Handler) { e.handler.Store(h) }

// Settings applies a settings merge patch.
func (e *Env) Settings(patch map[string]any) {
	e.T.Helper()
	b, err := json.Marshal(patch)
	if err != nil {
		e.T.Fatal(err)
	}
	if _, _, err := e.Svc.UpdateSettings(e.Ctx, ShopID, b, service.AnyVersion); err != nil {
		e.T.Fatalf("settings %s: %v", b, err)
	}
}

// KV makes a map of key, value pairs (a settings section).
func KV(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// WithSection adds key, value pairs to a section ("card", "collection") of
// a settings patch, which it creates when nil, and returns the patch;
// later pairs win.
func WithSection(patch map[string]any, section string, kv ...any) map[string]any {
	if patch == nil {
		patch = map[string]any{}
	}
	m, _ := patch[section].(map[string]any)
	if m == nil {
		m = map[string]any{}
		patch[section] = m
	}
	for k, v := range KV(kv...) {
		m[k] = v
	}
	return patch
}

// OrderOpt adjusts an order before it is created (CreateOrder).
type OrderOpt func(*service.OrderInput)

// CreateOrder creates an order: in, with a fresh shop order number and the
// shop's return URL, changed by opts.
func (e *Env) CreateOrder(in service.OrderInput, opts ...OrderOpt) *kessai.Order {
	e.T.Helper()
	in.ShopOrderID, in.ReturnURL = fmt.Sprintf("so-%d", e.seq.Add(1)), ShopReturnURL
	for _, f := range opts {
		f(&in)
	}
	o, err := e.Svc.CreateOrder(e.Ctx, ShopID, in)
	if err != nil {
		e.T.Fatal(err)
	}
	return o
}

// Advance moves both clocks (service and simulator).
func (e *Env) Advance(d time.Duration) {
	e.Clock.Advance(d)
	e.Sim.Advance(d)
}

// SetTime puts both clocks at t.
func (e *Env) SetTime(t time.Time) {
	e.Clock.Set(t.UTC())
	e.Sim.SetTime(t)
}
