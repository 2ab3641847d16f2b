package cardpay_test

// The end-to-end harness of package cardpay: a real store (SQLite, or
// PostgreSQL through internal/testdb), the service, the gateway factory
// pointed at an in-process simulator, the Payer, and the receiver (package
// api) serving the browser returns. A test plays the shop's backend (Pay,
// Operate, …) and the shopper's browser (plain HTTP against the
// simulator's pages and the receiver, redirects not followed).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

// baseTime is where both clocks start: noon JST, so that no test crosses
// a JST midnight by accident and every date is reproducible. The
// simulator's clock only moves through Advance; the service's moves 1 ms
// per reading (IDs made in a row sort in creation order) and by Advance.
var baseTime = time.Date(2026, 4, 1, 12, 0, 0, 0, escott.JST)

const (
	shopID = kessai.DefaultShopID
	// cardExp is far enough ahead that moving the clocks by months never
	// expires a card.
	cardExp   = "3012"
	demoSecCd = "8888"

	visaOK    = "4012000000000008"
	masterOK  = "5123000000000001"
	amexOK    = "370000000000002"
	threeDSOK = "4000000000003006" // frictionless, SecureResultCode 0
	declineCd = "4000000000000556" // G55

	// shopReturnURL is the shop's thank-you page: the receiver sends the
	// browser there with the outcome in the query.
	shopReturnURL = "https://shop.example/thanks"
)

var demoID = sim.DemoMerchant.MerchantID

// clock is the service's clock.
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

// gwCalls records every gateway call the Payer makes (gateway.Config.Observe).
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

// since returns the operations called after the first n calls.
func (g *gwCalls) since(n int) []escott.OperateID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.ops[n:])
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
	recv   string // the receiver's base URL (api server)
	calls  *gwCalls
	seq    atomic.Int64
}

type options struct {
	db       testdb.Backend
	patch    map[string]any
	simCfg   func(*sim.Config)
	payerCfg func(*cardpay.Config)
	// transport wraps the gateway's HTTP transport (fault injection on
	// the client side).
	transport func(http.RoundTripper) http.RoundTripper
}

type option func(*options)

// onDB runs the env on a backend (default SQLite).
func onDB(b testdb.Backend) option { return func(o *options) { o.db = b } }

// withCard adds card fields (key, value pairs) to that patch; later
// options win.
func withCard(kv ...any) option {
	return func(o *options) {
		if o.patch == nil {
			o.patch = map[string]any{}
		}
		c, _ := o.patch["card"].(map[string]any)
		if c == nil {
			c = map[string]any{}
			o.patch["card"] = c
		}
		for k, v := range kvMap(kv) {
			c[k] = v
		}
	}
}

func withSim(f func(*sim.Config)) option       { return func(o *options) { o.simCfg = f } }
func withPayer(f func(*cardpay.Config)) option { return func(o *options) { o.payerCfg = f } }
func withTransport(f func(http.RoundTripper) http.RoundTripper) option {
	return func(o *options) { o.transport = f }
}

func kvMap(kv []any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
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

// newEnv starts a shop with the demo merchant in the simulator
// environment, cards enabled (token type, no 3-D Secure, 1Gathering, card
// members on but not always registered), then applies the options.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	o := options{db: testdb.SQLite}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	lg := testLogger(t)
	e := &env{t: t, ctx: ctx, clock: &clock{t: baseTime.UTC()}, calls: &gwCalls{}}

	// The receiver first (its URL is the sim's NotifyURL and the
	// Payer's ReturnURL); its handler is set once everything exists.
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
	scfg := sim.Config{Merchants: []sim.Merchant{merchant}, Now: func() time.Time { return baseTime }}
	if o.simCfg != nil {
		o.simCfg(&scfg)
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
	e.sim, e.simURL = s, simSrv.URL

	e.store = o.db.Open(t)
	e.svc = service.New(service.Config{Store: e.store, Now: e.clock.Now, Logger: lg})
	if err := e.store.CreateShop(ctx, &kessai.Shop{ID: shopID, Name: "test", CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	var rt http.RoundTripper = escott.NewTransport(escott.TransportOptions{})
	if o.transport != nil {
		rt = o.transport(rt)
	}
	gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, HTTPClient: &http.Client{Transport: rt},
		Now: s.Now, Observe: e.calls.observe, Logger: slog.New(slog.DiscardHandler)})
	pcfg := cardpay.Config{Service: e.svc, Gateways: gw, ReturnURL: recv.URL + "/escott/notify", Logger: lg}
	if o.payerCfg != nil {
		o.payerCfg(&pcfg)
	}
	e.payer = cardpay.New(pcfg)
	handler.Store(api.New(api.Config{Service: e.svc, Logger: lg, Now: e.clock.Now, Cards: e.payer,
		Notifications: api.NotificationHandlers{ThreeDS: e.payer.ThreeDSReturn, ThreeDSMember: e.payer.ThreeDSMemberReturn,
			Link: e.payer.LinkReturn}}))

	d := sim.DemoMerchant
	e.settings(map[string]any{
		"environment": "simulator",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
			"always_register": false,
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

// card applies card settings given as key, value pairs: e.g.
// e.card("three_ds", true, "operation", "1Auth").
func (e *env) card(kv ...any) { e.t.Helper(); e.settings(map[string]any{"card": kvMap(kv)}) }

// advance moves both clocks (service and simulator).
func (e *env) advance(d time.Duration) {
	e.clock.Advance(d)
	e.sim.Advance(d)
}

// ---- orders, tokens, payments ----

type orderOpt func(*service.OrderInput)

func forCustomer(id string) orderOpt { return func(in *service.OrderInput) { in.CustomerID = id } }

// items sets the order's line items, all virtual or not, summing to the
// order's amount.
func items(virtual ...bool) orderOpt {
	return func(in *service.OrderInput) {
		in.Items = nil
		for i, v := range virtual {
			in.Items = append(in.Items, service.ItemInput{Name: fmt.Sprintf("item %d", i), Quantity: 1, Virtual: v})
		}
		if len(in.Items) > 0 {
			in.Items[0].UnitAmount = *in.Amount
		}
	}
}

func noReturnURL() orderOpt { return func(in *service.OrderInput) { in.ReturnURL = "" } }

// order creates a pending order of amount yen.
func (e *env) order(amount int64, opts ...orderOpt) *kessai.Order {
	e.t.Helper()
	in := service.OrderInput{ShopOrderID: fmt.Sprintf("so-%d", e.seq.Add(1)), Amount: &amount, ReturnURL: shopReturnURL,
		Billing: &kessai.Billing{LastName: "山田", FirstName: "太郎", Email: "taro@example.jp"}}
	for _, f := range opts {
		f(&in)
	}
	o, err := e.svc.CreateOrder(e.ctx, shopID, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// token issues a one-time token for number as the gateway's script would.
func (e *env) token(number string) string {
	e.t.Helper()
	sec := ""
	if number == sim.DemoCard {
		sec = demoSecCd
	}
	tok, err := e.sim.IssueToken(demoID, "test", number, cardExp, sec, "")
	if err != nil {
		e.t.Fatalf("IssueToken(%s): %v", number, err)
	}
	return tok
}

// tok is a PayInput with a fresh token of number.
func (e *env) tok(number string) cardpay.PayInput {
	return cardpay.PayInput{Token: e.token(number), CardPrefix: number[:6]}
}

func (e *env) pay(o *kessai.Order, in cardpay.PayInput) (*cardpay.Result, error) {
	return e.payer.Pay(e.ctx, shopID, o.ID, in)
}

// mustPay pays and wants a succeeded checkout.
func (e *env) mustPay(o *kessai.Order, in cardpay.PayInput) *cardpay.Result {
	e.t.Helper()
	res, err := e.pay(o, in)
	if err != nil {
		e.t.Fatalf("Pay(%s): %v", o.ID, err)
	}
	if res.Status != cardpay.StatusSucceeded || res.Payment == nil {
		e.t.Fatalf("Pay(%s): status %s, payment %v", o.ID, res.Status, res.Payment)
	}
	return res
}

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

// payments lists the payments of an order, oldest first.
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
	h, err := e.store.ListHistory(e.ctx, shopID, paymentID)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func (e *env) attempts(paymentID string) []kessai.Attempt {
	e.t.Helper()
	a, err := e.store.ListAttempts(e.ctx, shopID, paymentID)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// state derives the payment's state from its stored history.
func (e *env) state(paymentID string) card.State { return card.DeriveState(e.history(paymentID)) }

// events returns the types of the shop's events, oldest first.
func (e *env) events() []string {
	e.t.Helper()
	evs, err := e.store.ListEvents(e.ctx, shopID, kessai.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Type)
	}
	return out
}

// eventsAbout returns the types of the events whose data has id (an order
// or payment id), oldest first.
func (e *env) eventsAbout(id string) []string {
	e.t.Helper()
	evs, err := e.store.ListEvents(e.ctx, shopID, kessai.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		var d struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(evs[i].Data, &d)
		if d.ID == id {
			out = append(out, evs[i].Type)
		}
	}
	return out
}

func (e *env) member(customerID string) (*kessai.Member, bool) {
	e.t.Helper()
	m, err := e.store.GetMember(e.ctx, shopID, customerID)
	if errors.Is(err, kessai.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return m, true
}

// ---- the simulator's view ----

func (e *env) simTxns() []sim.TransactionView { return e.sim.Transactions(demoID, "test") }

// simTxnsOf returns the simulator's card transactions of an order
// (MerchantFree2 is the order id).
func (e *env) simTxnsOf(orderID string) []sim.TransactionView {
	var out []sim.TransactionView
	for _, t := range e.simTxns() {
		if t.MerchantFree2 == orderID {
			out = append(out, t)
		}
	}
	return out
}

// simTxn returns the simulator's transaction with ProcessId id.
func (e *env) simTxn(processID string) sim.TransactionView {
	e.t.Helper()
	for _, t := range e.simTxns() {
		if t.ProcessID == processID {
			return t
		}
	}
	e.t.Fatalf("the simulator has no transaction %q", processID)
	return sim.TransactionView{}
}

// oneSimTxn wants exactly one simulator transaction for the order.
func (e *env) oneSimTxn(orderID string) sim.TransactionView {
	e.t.Helper()
	ts := e.simTxnsOf(orderID)
	if len(ts) != 1 {
		e.t.Fatalf("simulator transactions of %s: %d, want 1: %+v", orderID, len(ts), ts)
	}
	return ts[0]
}

func (e *env) simMember(kaiinID string) (sim.MemberView, bool) {
	for _, m := range e.sim.Members(demoID, "test") {
		if m.KaiinID == kaiinID {
			return m, true
		}
	}
	return sim.MemberView{}, false
}

// ---- error assertions ----

// wantErr wants a kinded error with code (any code when "").
func wantErr(t testing.TB, err error, kind kessai.Kind, code string) *kessai.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v %s, got no error", kind, code)
	}
	var ke *kessai.Error
	if !errors.As(err, &ke) {
		t.Fatalf("want %v %s, got %T %v", kind, code, err, err)
	}
	if ke.Kind != kind || (code != "" && ke.Code != code) {
		t.Fatalf("want %v %s, got %v %s: %v", kind, code, ke.Kind, ke.Code, err)
	}
	return ke
}

// wantField wants a validation error on field with code.
func wantField(t testing.TB, err error, field, code string) {
	t.Helper()
	var v kessai.ValidationErrors
	if errors.As(err, &v) {
		for _, fe := range v {
			if fe.Field == field && (code == "" || fe.Code == code) {
				if fe.Kind != kessai.KindInvalid {
					t.Fatalf("%s: kind %v", field, fe.Kind)
				}
				return
			}
		}
	}
	var ke *kessai.Error
	if errors.As(err, &ke) && ke.Field == field && (code == "" || ke.Code == code) && ke.Kind == kessai.KindInvalid {
		return
	}
	t.Fatalf("want invalid %s (%s), got %v", field, code, err)
}

// wantFailure wants a *cardpay.Failure of kind with code.
func wantFailure(t testing.TB, err error, kind kessai.Kind, code string) *cardpay.Failure {
	t.Helper()
	var f *cardpay.Failure
	if !errors.As(err, &f) {
		t.Fatalf("want *cardpay.Failure %v %s, got %T %v", kind, code, err, err)
	}
	if f.Err.Kind != kind || f.Err.Code != code {
		t.Fatalf("want failure %v %s, got %v %s (%v)", kind, code, f.Err.Kind, f.Err.Code, f.Codes)
	}
	return f
}

func wantStatus(t testing.TB, o *kessai.Order, want kessai.OrderStatus) {
	t.Helper()
	if o.Status != want {
		t.Fatalf("order %s status %s, want %s", o.ID, o.Status, want)
	}
}

func wantState(t testing.TB, p *kessai.Payment, want kessai.PaymentState) {
	t.Helper()
	if p.State != want {
		t.Fatalf("payment %s state %s, want %s (codes %v)", p.ID, p.State, want, p.FailureCodes)
	}
}

// ---- the shopper's browser ----

// resp is one browser answer, redirects not followed.
type resp struct {
	status int
	body   string
	loc    string
}

var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

// browse sends one browser request.
func (e *env) browse(method, target string, form url.Values) resp {
	e.t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(e.ctx, method, target, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, body: string(b), loc: res.Header.Get("Location")}
}

// open follows a checkout's next action to the gateway's page and
// returns that page (3-D Secure: the challenge or, for a frictionless
// card, the hand-back; link type: the card form).
func (e *env) open(na *cardpay.NextAction) string {
	e.t.Helper()
	if na == nil {
		e.t.Fatal("no next action")
	}
	var r resp
	switch na.Type {
	case "redirect_form":
		if na.Method != http.MethodPost || na.Reason != "three_d_secure" {
			e.t.Fatalf("next action %+v", na)
		}
		form := url.Values{}
		for k, v := range na.Fields {
			form.Set(k, v)
		}
		r = e.browse(http.MethodPost, na.URL, form)
	case "redirect":
		if na.Method != http.MethodGet || na.Reason != "link" {
			e.t.Fatalf("next action %+v", na)
		}
		r = e.browse(http.MethodGet, na.URL, nil)
	default:
		e.t.Fatalf("next action type %q", na.Type)
	}
	if r.status != http.StatusOK {
		e.t.Fatalf("gateway page: HTTP %d\n%s", r.status, r.body)
	}
	if !strings.HasPrefix(na.URL, e.simURL) {
		e.t.Fatalf("next action goes to %s, not the simulator %s", na.URL, e.simURL)
	}
	return r.body
}

// challenge answers the simulator's 3-D Secure challenge page with an
// outcome (SecureResultCode or U code) and returns the hand-back page.
func (e *env) challenge(page, outcome string) string {
	e.t.Helper()
	for _, f := range parseForms(page) {
		for _, b := range f.Buttons {
			if b.Get("outcome") == outcome {
				r := e.browse(http.MethodPost, e.resolve(f.Action), url.Values{"outcome": {outcome}})
				if r.status != http.StatusOK {
					e.t.Fatalf("challenge %s: HTTP %d\n%s", outcome, r.status, r.body)
				}
				return r.body
			}
		}
	}
	e.t.Fatalf("no challenge outcome %s on the page:\n%s", outcome, page)
	return ""
}

// payOnLinkPage types a card into the simulator's card page.
func (e *env) payOnLinkPage(page, number string) string {
	e.t.Helper()
	for _, f := range parseForms(page) {
		if !slices.Contains(f.Names, "cardno") {
			continue
		}
		v := f.Fields
		v.Set("cardno", number)
		v.Set("expmm", cardExp[2:])
		v.Set("expyy", cardExp[:2])
		if number == sim.DemoCard {
			v.Set("seccd", demoSecCd)
		}
		v.Set("holder", "TARO YAMADA")
		r := e.browse(http.MethodPost, e.resolve(f.Action), v)
		if r.status != http.StatusOK {
			e.t.Fatalf("card form: HTTP %d\n%s", r.status, r.body)
		}
		return r.body
	}
	e.t.Fatalf("no card form on the link page:\n%s", page)
	return ""
}

// pressOnLinkPage presses the card page's button action=value ("cancel",
// "saved").
func (e *env) pressOnLinkPage(page, value string) string {
	e.t.Helper()
	for _, f := range parseForms(page) {
		for _, b := range f.Buttons {
			if b.Get("action") == value {
				r := e.browse(http.MethodPost, e.resolve(f.Action), b)
				if r.status != http.StatusOK {
					e.t.Fatalf("%s: HTTP %d\n%s", value, r.status, r.body)
				}
				return r.body
			}
		}
	}
	e.t.Fatalf("no %q button on the link page:\n%s", value, page)
	return ""
}

// back posts a hand-back page's EncryptValue to the receiver, as its
// auto-submit script does, and follows the receiver's redirects into the
// simulator (the link type's second hop) until the browser is sent
// elsewhere or shown a page. It returns that last answer.
func (e *env) back(page string) resp {
	e.t.Helper()
	for range 5 {
		action, ev := autoSubmitted(e.t, page)
		if action != e.recv+"/escott/notify" {
			e.t.Fatalf("hand-back posts to %s, want the receiver %s/escott/notify", action, e.recv)
		}
		r := e.browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, e.simURL) {
			return r
		}
		g := e.browse(http.MethodGet, r.loc, nil)
		if g.status != http.StatusOK {
			e.t.Fatalf("second hop: HTTP %d\n%s", g.status, g.body)
		}
		page = g.body
	}
	e.t.Fatal("too many hops")
	return resp{}
}

// outcome reads where the receiver sent the browser: the shop's return
// URL, with status, order_id, payment_id, customer_id and error.
func outcome(t testing.TB, r resp) url.Values {
	t.Helper()
	if r.status != http.StatusSeeOther {
		t.Fatalf("receiver answered %d, want a redirect to the shop:\n%s", r.status, r.body)
	}
	u, err := url.Parse(r.loc)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != shopReturnURL {
		t.Fatalf("redirect to %s, want %s", r.loc, shopReturnURL)
	}
	return u.Query()
}

// resolve makes a form action of a simulator page absolute.
func (e *env) resolve(action string) string {
	u, err := url.Parse(action)
	if err != nil {
		e.t.Fatalf("bad action %q: %v", action, err)
	}
	base, _ := url.Parse(e.simURL + "/")
	return base.ResolveReference(u).String()
}

// ---- HTML of the simulator's pages (as in escott/conformance) ----

var (
	reForm  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	reInput = regexp.MustCompile(`(?is)<(?:input|button)\b([^>]*)>`)
	reAttr  = regexp.MustCompile(`(?is)([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
)

type htmlForm struct {
	Action  string
	Fields  url.Values
	Buttons []url.Values
	Names   []string
}

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range reAttr.FindAllStringSubmatch(s, -1) {
		v := m[2]
		if v == "" {
			v = m[3]
		}
		if v == "" {
			v = m[4]
		}
		out[strings.ToLower(m[1])] = html.UnescapeString(v)
	}
	return out
}

func parseForms(page string) []htmlForm {
	var out []htmlForm
	for _, fm := range reForm.FindAllStringSubmatch(page, -1) {
		f := htmlForm{Action: attrs(fm[1])["action"], Fields: url.Values{}}
		for _, im := range reInput.FindAllStringSubmatch(fm[2], -1) {
			ia := attrs(im[1])
			name := ia["name"]
			if name == "" {
				continue
			}
			f.Names = append(f.Names, name)
			if strings.HasPrefix(strings.ToLower(im[0]), "<button") || strings.ToLower(ia["type"]) == "submit" {
				f.Buttons = append(f.Buttons, url.Values{name: {ia["value"]}})
				continue
			}
			f.Fields.Set(name, ia["value"])
		}
		out = append(out, f)
	}
	return out
}

// autoSubmitted returns the action and EncryptValue of the simulator's
// hand-back page.
func autoSubmitted(t testing.TB, page string) (action, encryptValue string) {
	t.Helper()
	for _, f := range parseForms(page) {
		if v := f.Fields.Get("EncryptValue"); v != "" {
			return f.Action, v
		}
	}
	t.Fatalf("no auto-submitted EncryptValue in page:\n%s", page)
	return "", ""
}

// demoCipher is the demo merchant's EncryptValue cipher.
func demoCipher(t testing.TB) *escott.Cipher {
	t.Helper()
	ci, err := escott.NewCipher(sim.DemoMerchant.AESKey, sim.DemoMerchant.AESIV)
	if err != nil {
		t.Fatal(err)
	}
	return ci
}
