package hosted_test

// The harness of package hosted: a real store (SQLite, or PostgreSQL
// through internal/testdb), the service, an in-process simulator on its
// own origin, the card Payer and the collection Collector, and one kessai
// server serving the hosted pages next to the API's gateway receiver,
// exactly as cmd/kessai wires them: the simulator's payment notifications
// reach the receiver, which hands them to the Collector. A test plays the shopper with a cookie-keeping HTTP client (or a
// real browser, see browser_test.go) and the shop's backend with direct
// calls.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/internal/htmlform"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

// baseTime is where both clocks start (noon JST, as in cardpay's tests).
var baseTime = time.Date(2026, 4, 1, 12, 0, 0, 0, escott.JST)

const (
	shopID = kessai.DefaultShopID

	demoCard  = sim.DemoCard // 4123000000000300, security code 8888
	demoSecCd = "8888"
	demoExp   = "2812" // YYMM: 12/28
	visaOK    = "4012000000000008"
	amexOK    = "370000000000002"
	dinersOK  = "36000000000008"
	jcbOK     = "3530000000000003"
	declineCd = "4000000000000556" // G55
	threeDSOK = "4000000000003006" // frictionless, SecureResultCode 0
	threeDSNG = "4000000000003105" // SecureResultCode 1: stops the payment

	shopReturnURL = "https://shop.example/thanks"
	shopCardsURL  = "https://shop.example/account"
)

var demoID = sim.DemoMerchant.MerchantID

// clock is the service's clock: it moves 1 ms per reading (so that ids
// made in a row sort) and by Advance.
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

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer collects every log line of the handler (to prove what is
// never logged).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one shop with cards over its own simulator and store.
type env struct {
	t      testing.TB
	ctx    context.Context
	clock  *clock
	store  kessai.Store
	svc    *service.Service
	sim    *sim.Server
	simURL string
	payer  *cardpay.Payer
	col    *cvspay.Collector
	h      *hosted.Handler
	url    string // kessai's base URL
	logs   *logBuffer
	// seen is every request kessai's server received (URL and body), to
	// prove that no card data ever reached it.
	seen requestLog
	seq  atomic.Int64
}

// requestLog records requests.
type requestLog struct{ logBuffer }

func (l *requestLog) record(r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	fmt.Fprintf(&l.logBuffer, "%s %s\n%s\n", r.Method, r.URL, body)
}

type options struct {
	db         testdb.Backend
	card       map[string]any
	collection map[string]any // nil: collections left off
	top        map[string]any
	hostCfg    func(*hosted.Config)
}

type option func(*options)

func onDB(b testdb.Backend) option { return func(o *options) { o.db = b } }

// withCard sets card settings (key, value pairs).
func withCard(kv ...any) option {
	return func(o *options) {
		for i := 0; i+1 < len(kv); i += 2 {
			o.card[kv[i].(string)] = kv[i+1]
		}
	}
}

// withCollection turns collections on with the demo merchant (due days
// 7, no fee), then sets the given collection settings (key, value pairs).
func withCollection(kv ...any) option {
	return func(o *options) {
		if o.collection == nil {
			d := sim.DemoMerchant
			o.collection = map[string]any{"enabled": true, "merchant_id": d.MerchantID,
				"merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass, "due_days": 7}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			o.collection[kv[i].(string)] = kv[i+1]
		}
	}
}

// withTop sets top-level settings (plan, environment).
func withTop(kv ...any) option {
	return func(o *options) {
		for i := 0; i+1 < len(kv); i += 2 {
			o.top[kv[i].(string)] = kv[i+1]
		}
	}
}

func withHosted(f func(*hosted.Config)) option { return func(o *options) { o.hostCfg = f } }

// newEnv starts a shop with the demo merchant in the simulator
// environment: cards on (token type, no 3-D Secure, 1Gathering, security
// code on, card members on but not always registered, lump sum only),
// then the options.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	o := options{db: testdb.SQLite, card: map[string]any{}, top: map[string]any{}}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	logs := &logBuffer{}
	lg := slog.New(slog.NewTextHandler(io.MultiWriter(logs, failLog{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &env{t: t, ctx: ctx, clock: &clock{t: baseTime.UTC()}, logs: logs}

	// kessai's server first: its URL is the simulator's notification URL,
	// the Payer's return URL and the hosted pages' public URL.
	var handler atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	e.url = srv.URL

	merchant := sim.DemoMerchant
	merchant.NotifyURL = srv.URL + "/escott/notify"
	s, err := sim.New(sim.Config{Merchants: []sim.Merchant{merchant}, Now: func() time.Time { return baseTime },
		Logger: slog.New(slog.DiscardHandler)})
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
	if err := e.store.CreateShop(ctx, &kessai.Shop{ID: shopID, Name: "テスト商店", CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// The gateway client logs every call (masked): the browser suite's leak
	// scan reads those lines too.
	gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, Now: s.Now, Logger: lg})
	e.payer = cardpay.New(cardpay.Config{Service: e.svc, Gateways: gw, ReturnURL: srv.URL + "/escott/notify", Logger: lg})
	e.col = cvspay.New(cvspay.Config{Service: e.svc, Gateways: gw, Logger: lg})
	hcfg := hosted.Config{Service: e.svc, Cards: e.payer, Collections: e.col, PublicURL: srv.URL, SimulatorURL: simSrv.URL,
		Logger: lg, Keys: hosted.DerivedKeys([]byte("0123456789abcdef0123456789abcdef"))}
	if o.hostCfg != nil {
		o.hostCfg(&hcfg)
	}
	e.h = hosted.New(hcfg)
	mux := http.NewServeMux()
	for _, p := range hosted.Patterns {
		mux.Handle(p, e.h)
	}
	mux.Handle("/", api.New(api.Config{Service: e.svc, Logger: lg, Now: e.clock.Now, PublicURL: srv.URL, Cards: e.payer,
		Collections: e.col,
		Notifications: api.NotificationHandlers{ThreeDS: e.payer.ThreeDSReturn, ThreeDSMember: e.payer.ThreeDSMemberReturn,
			Link: e.payer.LinkReturn, Collection: e.col.Notify}}))
	handler.Store(http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.seen.record(r)
		mux.ServeHTTP(w, r)
	})))

	d := sim.DemoMerchant
	c := map[string]any{
		"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
		"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
		"always_register": false,
	}
	for k, v := range o.card {
		c[k] = v
	}
	patch := map[string]any{"environment": "simulator", "card": c}
	if o.collection != nil {
		patch["collection"] = o.collection
	}
	for k, v := range o.top {
		patch[k] = v
	}
	e.settings(patch)
	return e
}

// failLog shows the handler's warnings in a failing test's output.
type failLog struct{ t testing.TB }

func (w failLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("level=WARN")) || bytes.Contains(p, []byte("level=ERROR")) {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

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

// card changes card settings (key, value pairs).
func (e *env) card(kv ...any) {
	e.t.Helper()
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	e.settings(map[string]any{"card": m})
}

// collection changes collection settings (key, value pairs).
func (e *env) collection(kv ...any) {
	e.t.Helper()
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	e.settings(map[string]any{"collection": m})
}

type orderOpt func(*service.OrderInput)

func forCustomer(id string) orderOpt { return func(in *service.OrderInput) { in.CustomerID = id } }
func noReturnURL() orderOpt          { return func(in *service.OrderInput) { in.ReturnURL = "" } }

// withBilling replaces the order's billing (the default has the kanji
// name and an e-mail address, no kana and no phone).
func withBilling(b kessai.Billing) orderOpt { return func(in *service.OrderInput) { in.Billing = &b } }

// order creates a pending order of amount yen with one item.
func (e *env) order(amount int64, opts ...orderOpt) *kessai.Order {
	e.t.Helper()
	in := service.OrderInput{ShopOrderID: fmt.Sprintf("ORD-%04d", e.seq.Add(1)), Amount: &amount, ReturnURL: shopReturnURL,
		Items:   []service.ItemInput{{Name: "緑茶 100g", Quantity: 1, UnitAmount: amount}},
		Billing: &kessai.Billing{LastName: "山田", FirstName: "太郎", Email: "taro@example.jp"}}
	if amount == 0 {
		in.Items = nil
	}
	for _, f := range opts {
		f(&in)
	}
	o, err := e.svc.CreateOrder(e.ctx, shopID, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) getOrder(id string) *kessai.Order {
	e.t.Helper()
	o, err := e.store.GetOrder(e.ctx, shopID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) payments(orderID string) []kessai.Payment {
	e.t.Helper()
	ps, err := e.store.ListPayments(e.ctx, shopID, orderID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ps
}

// token issues a one-time token as the gateway's script would.
func (e *env) token(number string) string {
	e.t.Helper()
	sec := ""
	if number == demoCard {
		sec = demoSecCd
	}
	tok, err := e.sim.IssueToken(demoID, "test", number, demoExp, sec, "")
	if err != nil {
		e.t.Fatalf("IssueToken(%s): %v", number, err)
	}
	return tok
}

// member returns the customer's stored member, if any.
func (e *env) member(customerID string) (*kessai.Member, bool) {
	m, err := e.store.GetMember(e.ctx, shopID, customerID)
	return m, err == nil
}

// saveCard registers a card for a customer directly (the shop's backend).
func (e *env) saveCard(customerID, number string) {
	e.t.Helper()
	if _, err := e.payer.SaveCard(e.ctx, shopID, customerID, cardpay.SaveCardInput{Token: e.token(number)}); err != nil {
		e.t.Fatalf("SaveCard: %v", err)
	}
}

// ---- the shopper's HTTP client ----

// shopper is a browser without JavaScript: it keeps cookies and does not
// follow redirects.
type shopper struct {
	e *env
	c *http.Client
}

func (e *env) shopper() *shopper {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &shopper{e: e, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is one answer.
type page struct {
	status int
	body   string
	header http.Header
	loc    string
}

func (s *shopper) do(method, target string, form url.Values) page {
	s.e.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = s.e.url + target
	}
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(s.e.ctx, method, target, body)
	if err != nil {
		s.e.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := s.c.Do(req)
	if err != nil {
		s.e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.e.t.Fatal(err)
	}
	return page{status: res.StatusCode, body: string(b), header: res.Header, loc: res.Header.Get("Location")}
}

func (s *shopper) get(target string) page { return s.do(http.MethodGet, target, nil) }
func (s *shopper) post(target string, form url.Values) page {
	return s.do(http.MethodPost, target, form)
}

// follow follows redirects (GET) until a page is shown.
func (s *shopper) follow(p page) page {
	s.e.t.Helper()
	for range 10 {
		if p.status != http.StatusSeeOther && p.status != http.StatusFound {
			return p
		}
		p = s.get(p.loc)
	}
	s.e.t.Fatal("too many redirects")
	return p
}

// ---- reading pages ----

type htmlForm struct {
	Action string
	ID     string
	Fields url.Values
	Inputs []map[string]string
}

func forms(body string) []htmlForm {
	var out []htmlForm
	for _, r := range htmlform.Scan(body) {
		f := htmlForm{Action: r.Attrs["action"], ID: r.Attrs["id"], Fields: url.Values{}}
		for _, c := range r.Controls {
			ia := c.Attrs
			f.Inputs = append(f.Inputs, ia)
			if ia["name"] != "" && (ia["type"] == "hidden") {
				f.Fields.Set(ia["name"], ia["value"])
			}
		}
		out = append(out, f)
	}
	return out
}

// form returns the form with id, failing the test when there is none.
func (e *env) form(body, id string) htmlForm {
	e.t.Helper()
	for _, f := range forms(body) {
		if f.ID == id {
			return f
		}
	}
	e.t.Fatalf("no form #%s in:\n%s", id, body)
	return htmlForm{}
}

// checkoutForm opens an order's checkout page and returns its form's
// hidden fields (csrf, lang, method) ready to be completed.
func (s *shopper) checkoutForm(o *kessai.Order) url.Values {
	s.e.t.Helper()
	p := s.get("/checkout/" + o.ID)
	if p.status != http.StatusOK {
		s.e.t.Fatalf("checkout page: HTTP %d\n%s", p.status, p.body)
	}
	f := s.e.form(p.body, "checkout-form")
	return f.Fields
}

// payWith posts the checkout with a fresh token of number, as the page's
// script does after the token script answered.
func (s *shopper) payWith(o *kessai.Order, number string, extra ...string) page {
	s.e.t.Helper()
	v := s.checkoutForm(o)
	v.Set("token", s.e.token(number))
	v.Set("card_prefix", number[:6])
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return s.post("/checkout/"+o.ID, v)
}

// wantIn fails unless body contains every s.
func wantIn(t testing.TB, body string, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if !strings.Contains(body, s) {
			t.Fatalf("page lacks %q:\n%s", s, body)
		}
	}
}

func wantNotIn(t testing.TB, body string, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if strings.Contains(body, s) {
			t.Fatalf("page contains %q:\n%s", s, body)
		}
	}
}

func wantStatus(t testing.TB, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("HTTP %d, want %d (Location %q)\n%s", p.status, status, p.loc, p.body)
	}
}

// autoForm returns the action and fields of the hand-off page's
// auto-submitted form (ours, or the simulator's).
func autoForm(t testing.TB, body, id string) (string, url.Values) {
	t.Helper()
	for _, f := range forms(body) {
		if f.ID == id {
			return f.Action, f.Fields
		}
	}
	t.Fatalf("no auto-submitted form #%s:\n%s", id, body)
	return "", nil
}

// through3DS follows kessai's hand-off page through the simulator's 3-D
// Secure page (answering outcome when it asks, "" for a card that decides
// alone) and back through the receiver; it returns the receiver's answer.
func (s *shopper) through3DS(handoff page, outcome string) page {
	t := s.e.t
	t.Helper()
	action, fields := autoForm(t, handoff.body, "kessai-autosubmit")
	p := s.post(action, fields)
	wantStatus(t, p, http.StatusOK)
	if outcome != "" {
		var target string
		for _, f := range forms(p.body) {
			for _, in := range f.Inputs {
				if in["name"] == "outcome" && in["value"] == outcome {
					target = f.Action
				}
			}
		}
		if target == "" {
			t.Fatalf("no outcome %s on the challenge page:\n%s", outcome, p.body)
		}
		u, _ := url.Parse(s.e.simURL + "/")
		ref, _ := url.Parse(target)
		p = s.post(u.ResolveReference(ref).String(), url.Values{"outcome": {outcome}})
		wantStatus(t, p, http.StatusOK)
	}
	back, ev := autoForm(t, p.body, "sim-autosubmit")
	return s.post(back, ev)
}
