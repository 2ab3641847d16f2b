package cvspay_test

// The end-to-end harness of package cvspay: a real store (SQLite and
// PostgreSQL through internal/testdb), the service, the gateway factory
// pointed at an in-process simulator, the Collector, and the real gateway
// receiver (package api) that the simulator's payment notifications reach.
// A test plays the shop's backend (Register, Change, …), the shopper at
// the collection agent's page (plain HTTP against the simulator) and the
// job runner (Expire, Sweep).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

// The receiver's handler type is the signature Notify must have.
var _ = api.NotificationHandlers{Collection: (*cvspay.Collector)(nil).Notify}

// baseTime is where the clocks start: noon JST, so that no test crosses a
// JST midnight by accident.
var baseTime = time.Date(2026, 4, 1, 12, 0, 0, 0, escott.JST)

const (
	shopID        = kessai.DefaultShopID
	shopReturnURL = "https://shop.example/thanks"
)

var demoID = sim.DemoMerchant.MerchantID

// clock is the service's clock: it moves 1 ms per reading (IDs made in a
// row sort in creation order) and by Advance/Set.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// gwCalls records every gateway call (gateway.Config.Observe).
type gwCalls struct {
	mu  sync.Mutex
	ops []escott.OperateID
}

func (g *gwCalls) observe(_ context.Context, e escott.LogEntry) {
	g.mu.Lock()
	g.ops = append(g.ops, e.Op)
	g.mu.Unlock()
}

// count returns the number of calls of op so far ("" = every call).
func (g *gwCalls) count(op escott.OperateID) int {
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

// env is one shop with collections over its own simulator and store.
type env struct {
	t      testing.TB
	ctx    context.Context
	clock  *clock
	store  kessai.Store
	svc    *service.Service
	sim    *sim.Server
	simURL string
	col    *cvspay.Collector
	recv   string // the receiver's base URL
	calls  *gwCalls
	seq    atomic.Int64
}

type options struct {
	db    testdb.Backend
	patch map[string]any
}

type option func(*options)

func onDB(b testdb.Backend) option { return func(o *options) { o.db = b } }

// withCollection adds collection settings (key, value pairs).
func withCollection(kv ...any) option {
	return func(o *options) {
		if o.patch == nil {
			o.patch = map[string]any{}
		}
		c, _ := o.patch["collection"].(map[string]any)
		if c == nil {
			c = map[string]any{}
			o.patch["collection"] = c
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
	}
}

// withPlan sets the shop's plan (SET-22).
func withPlan(p kessai.Plan) option {
	return func(o *options) {
		if o.patch == nil {
			o.patch = map[string]any{}
		}
		o.patch["plan"] = string(p)
	}
}

// testLogger writes warnings and errors to the test log (shown on failure).
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newEnv starts a shop on the pro plan with the demo merchant in the
// simulator environment and collections enabled (due days 7, no fee, order
// status processing after payment), then applies the options.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	o := options{db: testdb.SQLite}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	lg := testLogger(t)
	e := &env{t: t, ctx: ctx, clock: &clock{t: baseTime.UTC()}, calls: &gwCalls{}}

	// The receiver first (its URL is the simulator's NotifyURL); its
	// handler is set once the Collector exists.
	var handler atomic.Value
	recv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	recv.Config.ErrorLog = log.New(io.Discard, "", 0)
	recv.Start()
	t.Cleanup(recv.Close)
	e.recv = recv.URL

	merchant := sim.DemoMerchant
	merchant.NotifyURL = recv.URL + "/escott/notify"
	// The simulator's clock stands at baseTime and moves only with the
	// env's (advance, setTime), so both agree on the JST date.
	s, err := sim.New(sim.Config{Merchants: []sim.Merchant{merchant}, Now: func() time.Time { return baseTime },
		NotifyRetry: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	simSrv := httptest.NewUnstartedServer(s)
	simSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	simSrv.Start()
	t.Cleanup(simSrv.Close)
	e.sim, e.simURL = s, simSrv.URL

	e.store = o.db.Open(t)
	e.svc = service.New(service.Config{Store: e.store, Now: e.clock.Now, Logger: lg})
	if err := e.store.CreateShop(ctx, &kessai.Shop{ID: shopID, Name: "test", CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, Now: s.Now, Observe: e.calls.observe,
		Logger: slog.New(slog.DiscardHandler)})
	e.col = cvspay.New(cvspay.Config{Service: e.svc, Gateways: gw, Logger: lg})
	handler.Store(api.New(api.Config{Service: e.svc, Logger: lg, Now: e.clock.Now,
		Notifications: api.NotificationHandlers{Collection: e.col.Notify}}))

	d := sim.DemoMerchant
	e.settings(map[string]any{
		"environment": "simulator",
		"plan":        "pro",
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"due_days": 7,
		},
	})
	if o.patch != nil {
		e.settings(o.patch)
	}
	return e
}

// settings applies a settings merge patch.
func (e *env) settings(patch map[string]any) {
	e.t.Helper()
	b, err := json.Marshal(patch)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.svc.UpdateSettings(e.ctx, shopID, b, service.AnyVersion); err != nil {
		e.t.Fatalf("settings %s: %v", b, err)
	}
}

// collection applies collection settings given as key, value pairs.
func (e *env) collection(kv ...any) {
	e.t.Helper()
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	e.settings(map[string]any{"collection": m})
}

// advance moves both clocks (service and simulator).
func (e *env) advance(d time.Duration) {
	e.clock.Advance(d)
	e.sim.Advance(d)
}

// setTime puts both clocks at t.
func (e *env) setTime(t time.Time) {
	e.clock.Set(t.UTC())
	e.sim.SetTime(t)
}

// ---- orders and collections ----

type orderOpt func(*service.OrderInput)

// items sets the order's line items, virtual or not, the first carrying
// the whole amount.
func items(virtual ...bool) orderOpt {
	return func(in *service.OrderInput) {
		in.Items = nil
		for i, v := range virtual {
			in.Items = append(in.Items, service.ItemInput{Name: fmt.Sprintf("商品%d", i+1), Quantity: 1, Virtual: v})
		}
		if len(in.Items) > 0 {
			in.Items[0].UnitAmount = *in.Amount
		}
	}
}

func named(names ...string) orderOpt {
	return func(in *service.OrderInput) {
		in.Items = nil
		for _, n := range names {
			in.Items = append(in.Items, service.ItemInput{Name: n, Quantity: 1})
		}
		if len(in.Items) > 0 {
			in.Items[0].UnitAmount = *in.Amount
		}
	}
}

func billing(b kessai.Billing) orderOpt { return func(in *service.OrderInput) { in.Billing = &b } }

// defaultBilling is a complete billing identity (CVS-02).
var defaultBilling = kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ﾔﾏﾀﾞ", FirstNameKana: "たろう",
	Email: "taro@example.jp", Phone: "090-1234-5678"}

// order creates a pending order of amount yen with one physical item.
func (e *env) order(amount int64, opts ...orderOpt) *kessai.Order {
	e.t.Helper()
	b := defaultBilling
	in := service.OrderInput{ShopOrderID: fmt.Sprintf("so-%d", e.seq.Add(1)), Amount: &amount, ReturnURL: shopReturnURL,
		Billing: &b, Items: []service.ItemInput{{Name: "Tシャツ", Quantity: 1, UnitAmount: amount}}}
	for _, f := range opts {
		f(&in)
	}
	o, err := e.svc.CreateOrder(e.ctx, shopID, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// register registers the order at checkout and fails the test on error.
func (e *env) register(o *kessai.Order) *cvspay.Result {
	e.t.Helper()
	r, err := e.col.Register(e.ctx, shopID, o.ID, cvspay.RegisterInput{})
	if err != nil {
		e.t.Fatalf("Register(%s): %v", o.ID, err)
	}
	return r
}

// payAt pays the collection on the simulator's agent page at the given
// channel, as the shopper would (POST to the page behind the link), and
// waits until the payment notification has been delivered and handled.
func (e *env) payAt(link, cvs string) {
	e.t.Helper()
	if code := e.postAgent(link, cvs); code != http.StatusOK {
		e.t.Fatalf("paying %s at %s: HTTP %d", link, cvs, code)
	}
	e.flush()
}

// postAgent posts the agent page's form and returns the HTTP status.
func (e *env) postAgent(link, cvs string) int {
	e.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		e.t.Fatal(err)
	}
	form := u.Query()
	form.Set("cvs", cvs)
	u.RawQuery = ""
	resp, err := http.PostForm(u.String(), form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// getAgent opens a payment link and returns the HTTP status.
func (e *env) getAgent(link string) int {
	e.t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// flush waits until every queued notification was delivered (or given up).
func (e *env) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if err := e.sim.FlushNotifications(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// notify posts notification fields to the receiver, as the gateway (or
// someone pretending to be it) would, and checks the answer is 200.
func (e *env) notify(fields url.Values) {
	e.t.Helper()
	resp, err := http.PostForm(e.recv+"/escott/notify", fields)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		e.t.Fatalf("receiver answered %d %q to a notification; want 200 with an empty body (NOTIFY-02)", resp.StatusCode, body)
	}
}

// lastNotification returns the fields of the newest notification the
// simulator sent.
func (e *env) lastNotification() url.Values {
	e.t.Helper()
	ns := e.sim.Notifications()
	if len(ns) == 0 {
		e.t.Fatal("the simulator sent no notification")
	}
	v := url.Values{}
	for k, val := range ns[len(ns)-1].Fields {
		v.Set(k, val)
	}
	return v
}

// ---- reading state ----

func (e *env) getOrder(id string) *kessai.Order {
	e.t.Helper()
	o, err := e.store.GetOrder(e.ctx, shopID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) getPayment(id string) *kessai.Payment {
	e.t.Helper()
	p, err := e.store.GetPayment(e.ctx, shopID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) payments(orderID string) []kessai.Payment {
	e.t.Helper()
	ps, err := e.store.ListPayments(e.ctx, shopID, orderID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ps
}

func (e *env) history(paymentID string) []kessai.HistoryEntry {
	e.t.Helper()
	hs, err := e.store.ListHistory(e.ctx, shopID, paymentID)
	if err != nil {
		e.t.Fatal(err)
	}
	return hs
}

func (e *env) attempts(paymentID string) []kessai.Attempt {
	e.t.Helper()
	as, err := e.store.ListAttempts(e.ctx, shopID, paymentID)
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

// ops lists the operations of a payment's history, oldest first, with
// their results: "2Add:OK", "paid:OK", "2Chg:K14", …
func (e *env) ops(paymentID string) []string {
	e.t.Helper()
	var out []string
	for _, h := range e.history(paymentID) {
		out = append(out, string(h.Operation)+":"+h.ResponseCd)
	}
	return out
}

func (e *env) state(paymentID string) card.CollectionState {
	return card.DeriveCollectionState(e.history(paymentID))
}

// events lists the shop's event types, oldest first.
func (e *env) events() []string {
	e.t.Helper()
	evs, err := e.store.ListEvents(e.ctx, shopID, kessai.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[len(evs)-1-i] = ev.Type // the store lists newest first
	}
	return out
}

// eventsAbout lists the types of the events whose data has the given id
// (a payment's "id" or an order's), oldest first.
func (e *env) eventsAbout(id string) []string {
	e.t.Helper()
	var out []string
	for _, ev := range e.eventList() {
		var d struct {
			ID      string `json:"id"`
			OrderID string `json:"order_id"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		if d.ID == id {
			out = append(out, ev.Type)
		}
	}
	return out
}

// eventList returns the shop's events, oldest first.
func (e *env) eventList() []kessai.Event {
	e.t.Helper()
	evs, err := e.store.ListEvents(e.ctx, shopID, kessai.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(evs)
	return evs
}

// lastEvent returns the newest event of a type about id.
func (e *env) lastEvent(typ, id string) json.RawMessage {
	e.t.Helper()
	evs := e.eventList()
	for i := len(evs) - 1; i >= 0; i-- {
		var d struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(evs[i].Data, &d)
		if evs[i].Type == typ && d.ID == id {
			return evs[i].Data
		}
	}
	e.t.Fatalf("no %s event about %s; events: %v", typ, id, e.eventsAbout(id))
	return nil
}

// simCollection returns the simulator's record of a transaction code.
func (e *env) simCollection(merchantFree1 string) sim.CollectionView {
	e.t.Helper()
	for _, c := range e.sim.Collections(demoID, "test") {
		if c.MerchantFree1 == merchantFree1 {
			return c
		}
	}
	e.t.Fatalf("the simulator has no collection %s", merchantFree1)
	return sim.CollectionView{}
}

// simCollectionsOf returns the simulator's collections of an order.
func (e *env) simCollectionsOf(orderID string) []sim.CollectionView {
	var out []sim.CollectionView
	for _, c := range e.sim.Collections(demoID, "test") {
		if c.MerchantFree2 == orderID {
			out = append(out, c)
		}
	}
	return out
}

// ---- assertions ----

// wantErr checks err is a *kessai.Error of kind and code.
func wantErr(t testing.TB, err error, kind kessai.Kind, code string) *kessai.Error {
	t.Helper()
	var ke *kessai.Error
	if !errors.As(err, &ke) {
		t.Fatalf("error = %v (%T), want a *kessai.Error %s/%s", err, err, kind, code)
	}
	if ke.Kind != kind || ke.Code != code {
		t.Fatalf("error = %s/%s (%v), want %s/%s", ke.Kind, ke.Code, ke, kind, code)
	}
	if ke.Ja == "" || ke.En == "" {
		t.Fatalf("error %s has no message in both languages: %+v", code, ke)
	}
	return ke
}

// wantFailure checks err is a *cvspay.Failure of kind and code.
func wantFailure(t testing.TB, err error, kind kessai.Kind, code string) *cvspay.Failure {
	t.Helper()
	var f *cvspay.Failure
	if !errors.As(err, &f) {
		t.Fatalf("error = %v (%T), want *cvspay.Failure", err, err)
	}
	wantErr(t, err, kind, code)
	return f
}

func wantStatus(t testing.TB, o *kessai.Order, want kessai.OrderStatus) {
	t.Helper()
	if o.Status != want {
		t.Fatalf("order %s status = %s, want %s", o.ID, o.Status, want)
	}
}

func wantState(t testing.TB, p *kessai.Payment, want kessai.PaymentState) {
	t.Helper()
	if p.State != want {
		t.Fatalf("payment %s state = %s (codes %v), want %s", p.ID, p.State, p.FailureCodes, want)
	}
}

func wantList(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// count returns how many elements of s equal v.
func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
