package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/testclock"
)

// Fuzz targets of the JSON API: every request type is decoded from
// arbitrary bodies by the real handler (api.New's mux, the service, the
// card, collection and subscription engines, a SQLite store and the
// in-process simulator), and the answer must never be a 5xx nor a panic,
// and always the documented JSON error shape. FuzzCreateOrder and
// FuzzReceiver are in fuzz_test.go.
//
// Bodies may hold placeholders that the harness replaces before sending,
// so the fuzzer reaches the paths behind a valid token or id without
// guessing one: @tok (a fresh token of a card the simulator approves),
// @bad (one it declines), @cus (a customer with a saved card), @ord (a
// fresh unpaid order), @paid (an order paid by card).

// fuzzLog is the logger of the fuzz envs: it keeps nothing but counts
// the panics the API and the receiver recover from (and log), so a
// recovered panic fails the iteration like a 5xx does.
type fuzzLog struct {
	panics atomic.Int64
	mu     sync.Mutex
	last   string
}

func (l *fuzzLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }

func (l *fuzzLog) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "panic") {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	l.mu.Lock()
	l.last = b.String()
	l.mu.Unlock()
	l.panics.Add(1)
	return nil
}

func (l *fuzzLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *fuzzLog) WithGroup(string) slog.Handler      { return l }

// fuzzEnv is the whole API of a pro shop on the simulator, with cards
// (token type, 1Auth, members), collections (a fee table) and
// subscriptions (1Gathering) on the simulator's test clock, as
// cmd/kessai wires a demo.
type fuzzEnv struct {
	api    *API
	svc    *service.Service
	store  kessai.Store
	sim    *sim.Server
	tc     *testclock.Clock
	payer  *cardpay.Payer
	col    *cvspay.Collector
	subs   *renewal.Engine
	log    *fuzzLog
	sk, pk string
	// customer has a saved card; paidOrder was paid by card.
	customer, paidOrder string
	seq                 atomic.Int64
}

// newFuzzEnv starts the API. The engines and the test clock are there
// unless bare, which gives the API of a shop without them (only the
// service's routes work), for the settings target: a patch there may
// switch the shop to production, which must not reach SPS's servers.
func newFuzzEnv(tb testing.TB, bare bool) *fuzzEnv {
	tb.Helper()
	ctx := context.Background()
	fe := &fuzzEnv{log: &fuzzLog{}, store: testdb.SQLite.Open(tb)}
	log := slog.New(fe.log)
	base := newClock()
	fe.tc = testclock.New(base.Now)
	fe.svc = service.New(service.Config{Store: fe.store, Now: fe.tc.Now, Logger: log, Resender: &resender{}, PasswordParams: testPasswordParams,
		SettingsChanged: func(_ string, s kessai.Settings) {
			if s.Environment != kessai.EnvSimulator {
				fe.tc.Reset()
			}
		}})
	keys, err := fe.svc.Bootstrap(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	fe.sk, fe.pk = keys.SecretKey, keys.PublishableKey
	cfg := Config{Service: fe.svc, Logger: log, Now: base.Now, PublicURL: "https://pay.example.jp/"}
	if bare {
		fe.api = newAPI(cfg)
		return fe
	}
	// The simulator's payment notifications reach this API's receiver.
	var handler atomic.Pointer[API]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.Load().ServeHTTP(w, r) }))
	tb.Cleanup(front.Close)
	m := sim.DemoMerchant
	m.NotifyURL = front.URL + "/escott/notify"
	fe.sim, err = sim.New(sim.Config{Merchants: []sim.Merchant{m}, Now: fe.tc.Now, NotifyRetry: []time.Duration{10 * time.Millisecond}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fe.sim.Close)
	simSrv := httptest.NewServer(fe.sim)
	tb.Cleanup(simSrv.Close)
	// The gateway's calls reach the simulator in process: sockets would
	// make the coverage that steers the fuzzer depend on timing.
	gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, Now: fe.tc.Now, Logger: log,
		HTTPClient: &http.Client{Transport: inProcess{fe.sim}}})
	var engine *renewal.Engine
	fe.payer = cardpay.New(cardpay.Config{Service: fe.svc, Gateways: gw, ReturnURL: front.URL + "/escott/notify", Logger: log,
		CardSaved: func(ctx context.Context, shop, customer string) { engine.CardChanged(ctx, shop, customer) }})
	fe.col = cvspay.New(cvspay.Config{Service: fe.svc, Gateways: gw, Logger: log})
	engine = renewal.New(renewal.Config{Service: fe.svc, Cards: fe.payer, Logger: log})
	fe.subs = engine
	pages := hosted.New(hosted.Config{Service: fe.svc, Cards: fe.payer, Collections: fe.col, PublicURL: "https://pay.example.jp",
		SimulatorURL: simSrv.URL, Logger: log})
	cfg.Cards, cfg.Collections, cfg.Subscriptions, cfg.TestClock, cfg.MyCardsLink = fe.payer, fe.col, engine, fe.tc, pages.MyCardsLink
	cfg.Notifications = NotificationHandlers{ThreeDS: fe.payer.ThreeDSReturn, ThreeDSMember: fe.payer.ThreeDSMemberReturn,
		Link: fe.payer.LinkReturn, Collection: fe.col.Notify}
	fe.api = newAPI(cfg)
	handler.Store(fe.api)

	d := sim.DemoMerchant
	patch, _ := json.Marshal(map[string]any{
		"environment": "simulator", "plan": "pro",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
			"operation": "1Auth", "subscription_operation": "1Gathering", "always_register": false, "installments": "installments_bonus",
		},
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"due_days": 7, "fee_enabled": true, "fee_rows": []any{
				map[string]any{"from": 0, "to": 1000, "fee": 110}, map[string]any{"from": 1001, "to": "*", "fee": 220}},
		},
	})
	if _, _, err := fe.svc.UpdateSettings(ctx, kessai.DefaultShopID, patch, service.AnyVersion); err != nil {
		tb.Fatalf("settings: %v", err)
	}
	// A customer with a saved card, for charges and subscriptions.
	fe.customer = "cus_fuzz"
	oid, err := fe.order(fe.customer, 1980)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := fe.token(approveCard)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := fe.payer.Pay(ctx, kessai.DefaultShopID, oid, cardpay.PayInput{Token: tok, CardPrefix: approveCard[:6], SaveCard: true, Recurring: true})
	if err != nil || res.Status != cardpay.StatusSucceeded {
		tb.Fatalf("first payment: %+v %v", res, err)
	}
	fe.paidOrder = oid
	return fe
}

// inProcess is a transport that hands each request to a handler.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// order creates an unpaid order whose billing a collection accepts.
func (fe *fuzzEnv) order(customer string, amount int64) (string, error) {
	in := service.OrderInput{ShopOrderID: fmt.Sprintf("fz-%d", fe.seq.Add(1)), Amount: &amount, CustomerID: customer,
		Billing: &kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ", FirstNameKana: "タロウ",
			Email: "taro@example.jp", Phone: "090-1234-5678"},
		Items: []service.ItemInput{{Name: "緑茶", Quantity: 1, UnitAmount: amount}}}
	o, err := fe.svc.CreateOrder(context.Background(), kessai.DefaultShopID, in)
	if err != nil {
		return "", err
	}
	return o.ID, nil
}

// token issues a one-time card token as the gateway's script would.
func (fe *fuzzEnv) token(number string) (string, error) {
	return fe.sim.IssueToken(sim.DemoMerchant.MerchantID, "test", number, "3012", "", "")
}

// expand replaces the placeholders of a body or path (see the top of
// the file), creating what they name.
func (fe *fuzzEnv) expand(t *testing.T, b []byte) []byte {
	t.Helper()
	sub := func(ph string, make func() (string, error)) {
		for bytes.Contains(b, []byte(ph)) {
			v, err := make()
			if err != nil {
				t.Fatalf("%s: %v", ph, err)
			}
			b = bytes.Replace(b, []byte(ph), []byte(v), 1)
		}
	}
	if fe.sim != nil {
		sub("@tok", func() (string, error) { return fe.token(approveCard) })
		sub("@bad", func() (string, error) { return fe.token(declineCard) })
	}
	sub("@cus", func() (string, error) { return fe.customer, nil })
	sub("@paid", func() (string, error) { return fe.paidOrder, nil })
	sub("@ord", func() (string, error) { return fe.order("", 1100) })
	return b
}

// do sends a request to the API and checks the answer.
func (fe *fuzzEnv) do(t *testing.T, method, target string, h http.Header, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "http://kessai.test/", bytes.NewReader(body))
	r.URL.Path, r.URL.RawQuery, _ = strings.Cut(target, "?")
	r.URL.RawPath = ""
	r.RequestURI = r.URL.RequestURI()
	for k, v := range h {
		r.Header[k] = v
	}
	if h == nil {
		r.Header.Set("Authorization", "Bearer "+fe.sk)
		r.Header.Set("Content-Type", "application/json")
	}
	before := fe.log.panics.Load()
	w := httptest.NewRecorder()
	fe.api.ServeHTTP(w, r)
	if n := fe.log.panics.Load(); n != before {
		fe.log.mu.Lock()
		defer fe.log.mu.Unlock()
		t.Fatalf("%s %s %q: recovered panic: %s", method, target, body, fe.log.last)
	}
	if w.Code >= 500 {
		t.Fatalf("%s %s %q: status %d %s", method, target, body, w.Code, w.Body)
	}
	return w
}

// checkJSON wants the documented answer of a /v1 route: a JSON object,
// and on a 4xx the error object with its type, code, message and
// request id.
func checkJSON(t *testing.T, w *httptest.ResponseRecorder, what string) {
	t.Helper()
	if w.Code >= 300 && w.Code < 400 {
		return // ServeMux's redirect of an unclean path
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || !utf8.Valid(w.Body.Bytes()) {
		t.Fatalf("%s: answer %d is not a JSON object: %q", what, w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	if w.Code < 400 {
		return
	}
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("%s: status %d without an error object: %s", what, w.Code, w.Body)
	}
	for _, k := range []string{"type", "code", "message", "request_id"} {
		if s, _ := e[k].(string); s == "" {
			t.Fatalf("%s: error without %s: %s", what, k, w.Body)
		}
	}
	if e["type"] == "internal" {
		t.Fatalf("%s: internal error: %s", what, w.Body)
	}
}

// FuzzPayOrder: POST /v1/orders/{id}/pay with any body, on a fresh
// order each time (by the customer with a saved card when saved is set).
func FuzzPayOrder(f *testing.F) {
	for _, b := range []string{
		`{"token":"@tok","card_prefix":"401200"}`,
		`{"token":"@tok","card_prefix":"401200","pay_type":"10","save_card":true}`,
		`{"token":"@bad","card_prefix":"400000"}`,
		`{"use_saved_card":true,"pay_type":"80"}`,
		`{"token":"@tok","card_prefix":"4012","pay_type":"99","recurring":true,"consent":true,"cardholder_name":"TARO YAMADA"}`,
		`{"token":"@tok","card_prefix":"","return_url":"javascript:alert(1)"}`,
		`{"token":"x","card_prefix":"401200","pay_type":2}`,
		`{"token":null,"use_saved_card":"yes"}`,
		``, `{}`, `[]`, `{"token":"@tok"}{"token":"@tok"}`,
	} {
		f.Add([]byte(b), false)
		f.Add([]byte(b), true)
	}
	fe := newFuzzEnv(f, false)
	f.Fuzz(func(t *testing.T, body []byte, saved bool) {
		customer := ""
		if saved {
			customer = fe.customer
		}
		oid, err := fe.order(customer, 1100)
		if err != nil {
			t.Fatal(err)
		}
		checkJSON(t, fe.do(t, "POST", "/v1/orders/"+oid+"/pay", nil, fe.expand(t, body)), "pay")
	})
}

// opRoutes are the payment operations FuzzPaymentOperation drives: on a
// card payment authorised just before (1Auth), or on a collection
// registered just before, or on the order of one.
var opRoutes = []struct {
	path       string // %s is the payment (or order) id
	collection bool
	order      bool
}{
	{"/v1/payments/%s/capture", false, false},
	{"/v1/payments/%s/cancel", false, false},
	{"/v1/payments/%s/change_amount", false, false},
	{"/v1/payments/%s/reauthorize", false, false},
	{"/v1/payments/%s/resolve", false, false},
	{"/v1/payments/%s/reference", false, false},
	{"/v1/payments/%s/change_due", true, false},
	{"/v1/payments/%s/cancel", true, false},
	{"/v1/payments/%s/resolve", true, false},
	{"/v1/payments/%s/reference", true, false},
	{"/v1/orders/%s/charge", false, true},
	{"/v1/orders/%s/collection", true, true},
}

// FuzzPaymentOperation: the operations on a payment (capture, cancel,
// change_amount, reauthorize, resolve, reference, change_due) and the
// operator's charge and collection registration, with any body.
func FuzzPaymentOperation(f *testing.F) {
	bodies := []string{``, `{}`, `{"amount":500}`, `{"amount":0}`, `{"amount":-1}`, `{"amount":9223372036854775807}`, `{"amount":1e3}`,
		`{"outcome":"succeeded","process_id":"p","process_pass":"q"}`, `{"outcome":"failed"}`, `{"outcome":"x"}`,
		`{"due_date":"20250110"}`, `{"due_date":"2025-01-10","amount":2000}`, `{"amount":500,"capture":true}`,
		`{"due_date":"20250102","amount":1}`, `{"free_area":"x","outcome":"succeeded"}`, `{"amount":"500"}`, `null`}
	for i := range opRoutes {
		for _, b := range bodies {
			f.Add(uint8(i), []byte(b))
		}
	}
	fe := newFuzzEnv(f, false)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		rt := opRoutes[int(op)%len(opRoutes)]
		customer := ""
		if rt.order && !rt.collection {
			customer = fe.customer
		}
		oid, err := fe.order(customer, 2200)
		if err != nil {
			t.Fatal(err)
		}
		id := oid
		if !rt.order {
			if rt.collection {
				res, err := fe.col.Register(ctx, kessai.DefaultShopID, oid, cvspay.RegisterInput{})
				if err != nil || res.Payment == nil {
					t.Fatalf("register: %+v %v", res, err)
				}
				id = res.Payment.ID
			} else {
				tok, err := fe.token(approveCard)
				if err != nil {
					t.Fatal(err)
				}
				res, err := fe.payer.Pay(ctx, kessai.DefaultShopID, oid, cardpay.PayInput{Token: tok, CardPrefix: approveCard[:6]})
				if err != nil || res.Payment == nil {
					t.Fatalf("pay: %+v %v", res, err)
				}
				id = res.Payment.ID
			}
		}
		checkJSON(t, fe.do(t, "POST", fmt.Sprintf(rt.path, id), nil, fe.expand(t, body)), rt.path)
	})
}

// FuzzCollect: POST /v1/orders/{id}/collect (the shopper's checkout) and
// /collection (the operator's registration) with any body.
func FuzzCollect(f *testing.F) {
	for _, b := range []string{``, `{}`, `{"return_url":"https://shop.example/thanks","lang":"en"}`, `{"lang":"fr"}`,
		`{"return_url":"ftp://x"}`, `{"due_date":"20250105","amount":1100}`, `{"amount":-5}`, `{"due_date":20250105}`,
		`{"return_url":"https://shop.example/` + strings.Repeat("a", 300) + `"}`} {
		f.Add(false, []byte(b))
		f.Add(true, []byte(b))
	}
	fe := newFuzzEnv(f, false)
	f.Fuzz(func(t *testing.T, admin bool, body []byte) {
		oid, err := fe.order("", 1500)
		if err != nil {
			t.Fatal(err)
		}
		route := "/collect"
		if admin {
			route = "/collection"
		}
		checkJSON(t, fe.do(t, "POST", "/v1/orders/"+oid+route, nil, fe.expand(t, body)), route)
	})
}

// subRoutes are what FuzzSubscription sends its body to.
var subRoutes = []string{
	"POST /v1/subscriptions",
	"POST /v1/subscriptions/%s/pause",
	"POST /v1/subscriptions/%s/resume",
	"POST /v1/subscriptions/%s/cancel",
	"POST /v1/subscriptions/%s/keep",
	"POST /v1/test_clock/advance",
	"POST /v1/test_clock/reset",
	"POST /v1/customers/%s/card",
	"POST /v1/customers/%s/card_link",
	"DELETE /v1/customers/%s/card",
}

// FuzzSubscription: creating a subscription (over the customer with a
// saved card: @cus), its transitions on a subscription created just
// before, the test clock, and the saved-card routes, with any body.
func FuzzSubscription(f *testing.F) {
	create := []string{
		`{"customer_id":"@cus","description":"コーヒー定期便","amount":1980,"interval":{"unit":"month","count":1},"metadata":{"plan":"beans"}}`,
		`{"customer_id":"@cus","description":"x","amount":100,"interval":{"unit":"week","count":2},"trial_end":"2025-02-01T00:00:00+09:00","max_payments":3}`,
		`{"customer_id":"@cus","description":"x","amount":100,"interval":{"unit":"day","count":0},"start_at":"yesterday"}`,
		`{"customer_id":"@cus","description":"x","amount":100,"interval":{"unit":"year","count":6},"initial_order_id":"@paid"}`,
		`{"customer_id":"nobody","description":"","amount":-1,"interval":{"unit":"month","count":1},"end_at":"2020-01-01T00:00:00Z"}`,
		`{"customer_id":"@cus","description":"x","amount":100,"interval":{"unit":"month","count":1,"day":31},"virtual":true}`,
	}
	for _, b := range create {
		f.Add(uint8(0), []byte(b))
	}
	for i, b := range []string{``, `{}`, `{}`, `{"at_period_end":true}`, `{}`, `{"seconds":86400}`, `{}`,
		`{"token":"@tok","cardholder_name":"TARO YAMADA","consent":true}`, `{"return_url":"https://shop.example/","ttl_seconds":60}`, ``} {
		f.Add(uint8(i+1), []byte(b))
	}
	f.Add(uint8(6), []byte(`{"to":"2030-01-01T00:00:00Z"}`))
	f.Add(uint8(6), []byte(`{"seconds":-1,"to":"x"}`))
	f.Add(uint8(6), []byte(`{"seconds":9223372036854775807}`))
	f.Add(uint8(9), []byte(`{"ttl_seconds":59}`))
	f.Add(uint8(8), []byte(`{"token":"@bad","email":"x"}`))
	fe := newFuzzEnv(f, false)
	sub := `{"customer_id":"` + fe.customer + `","description":"定期便","amount":1980,"interval":{"unit":"month","count":1}}`
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		method, p, _ := strings.Cut(subRoutes[int(route)%len(subRoutes)], " ")
		switch {
		case strings.Contains(p, "/subscriptions/%s"):
			w := fe.do(t, "POST", "/v1/subscriptions", nil, []byte(sub))
			var s struct{ ID string }
			if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &s) != nil {
				t.Fatalf("subscription: %d %s", w.Code, w.Body)
			}
			p = fmt.Sprintf(p, s.ID)
			defer fe.cancel(s.ID)
		case strings.Contains(p, "%s"):
			// Not @cus: deleting its card would end the subscriptions.
			p = fmt.Sprintf(p, "cus_cards")
		}
		w := fe.do(t, method, p, nil, fe.expand(t, body))
		checkJSON(t, w, p)
		fe.settle(t, w)
	})
}

// settle keeps the shop's state from drifting over millions of
// iterations: a subscription an answer created is cancelled (or every
// test clock advance would renew all of them), and the test clock is
// brought back once it is decades ahead.
func (fe *fuzzEnv) settle(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	var s struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	if w.Code == http.StatusCreated && json.Unmarshal(w.Body.Bytes(), &s) == nil && strings.HasPrefix(s.ID, renewal.IDPrefix+"_") {
		fe.cancel(s.ID)
	}
	if fe.tc != nil && fe.tc.Offset() > 20*365*24*time.Hour {
		fe.tc.Reset()
	}
}

func (fe *fuzzEnv) cancel(id string) {
	_, _ = fe.subs.Cancel(context.Background(), kessai.DefaultShopID, id, false)
}

// FuzzPatchSettings: PATCH /v1/settings with any body and If-Match, on a
// shop without payment engines (a patch may switch it to production).
// An accepted patch is what GET then shows, and the settings still load.
func FuzzPatchSettings(f *testing.F) {
	for _, b := range []string{
		`{"settings":{"notify_log":false}}`,
		`{"version":1,"settings":{"card":{"title":"カード","enabled":true}}}`,
		`{"settings":{"card":{"enabled":true,"merchant_id":"030000001","merchant_pass_test":"p","token_auth_code":"t"}}}`,
		`{"settings":{"environment":"production","plan":"light"}}`,
		`{"settings":{"collection":{"fee_rows":[{"from":0,"to":"*","fee":1}],"due_days":61}}}`,
		`{"settings":{"card":{"aes_key":"0123456789abcdef","aes_iv":null}}}`,
		`{"version":-1,"settings":{}}`,
		`{"settings":null}`, `{"settings":[]}`, `{"settings":"{}"}`, `{"version":"1","settings":{}}`, `{}`, ``,
	} {
		f.Add([]byte(b), "")
		f.Add([]byte(b), `"1"`)
	}
	f.Add([]byte(`{"version":2,"settings":{}}`), `"3"`)
	f.Add([]byte(`{"settings":{}}`), `W/"1"`)
	f.Add([]byte(`{"settings":{}}`), `*`)
	fe := newFuzzEnv(f, true)
	f.Fuzz(func(t *testing.T, body []byte, ifMatch string) {
		h := http.Header{"Authorization": {"Bearer " + fe.sk}, "Content-Type": {"application/json"}}
		if ifMatch != "" {
			h.Set("If-Match", ifMatch)
		}
		w := fe.do(t, "PATCH", "/v1/settings", h, body)
		checkJSON(t, w, "PATCH /v1/settings")
		g := fe.do(t, "GET", "/v1/settings", nil, nil)
		if g.Code != http.StatusOK {
			t.Fatalf("GET /v1/settings after %q: %d %s", body, g.Code, g.Body)
		}
		if w.Code == http.StatusOK && !bytes.Equal(w.Body.Bytes(), g.Body.Bytes()) {
			t.Fatalf("PATCH answered\n%s\nGET answers\n%s", w.Body, g.Body)
		}
	})
}

// apiMethods are the methods FuzzAPIRequest picks from.
var apiMethods = []string{"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"}

// FuzzAPIRequest throws arbitrary requests at the whole API: any method,
// path (with placeholders), query, Authorization, Content-Type,
// Idempotency-Key and body. Nothing may answer 5xx or panic, and every
// /v1 answer is the documented JSON. The one route left out is PATCH
// /v1/settings (FuzzPatchSettings has it): a fuzzed patch could move
// this shop to SPS's production servers.
func FuzzAPIRequest(f *testing.F) {
	type seed struct {
		method         uint8
		path, query    string
		auth, ct, idem string
		body           string
	}
	j := "application/json"
	for _, s := range []seed{
		{0, "/v1/ping", "", "Bearer @sk", "", "", ""},
		{0, "/v1/ping", "", "Bearer @pk", "", "", ""},
		{0, "/v1/orders", "limit=2&starting_after=ord_00000000000000000000000000", "Bearer @sk", "", "", ""},
		{0, "/v1/orders", "limit=0&status=paid&created[gte]=x", "Basic @basic", "", "", ""},
		{1, "/v1/orders", "", "Bearer @sk", j, "k1", `{"shop_order_id":"A-1","amount":1100,"customer_id":"@cus"}`},
		{1, "/v1/orders", "", "Bearer @sk", j, "k1", `{"shop_order_id":"A-2","amount":1100}`},
		{1, "/v1/orders/@ord/pay", "", "Bearer @sk", j, "", `{"token":"@tok","card_prefix":"401200"}`},
		{1, "/v1/orders/@ord/collect", "", "Bearer @sk", "application/json; charset=utf-8", "", ``},
		{0, "/v1/orders/@paid", "", "Bearer @sk", "", "", ""},
		{0, "/v1/orders/@paid/payments", "x=1", "Bearer @sk", "", "", ""},
		{1, "/v1/webhook_endpoints", "", "Bearer @sk", j, "", `{"url":"https://shop.example/hooks","event_types":["payment.captured"]}`},
		{1, "/v1/webhook_endpoints", "", "Bearer @sk", j, "", `{"url":"http://127.0.0.1/","event_types":["*","nope"],"enabled":false}`},
		{0, "/v1/webhook_endpoints", "limit=101", "Bearer @sk", "", "", ""},
		{0, "/v1/events", "type=payment.captured&limit=1", "Bearer @sk", "", "", ""},
		{1, "/v1/events/evt_00000000000000000000000000/resend", "", "Bearer @sk", j, "", `{"endpoint_id":"we_1"}`},
		{0, "/v1/subscriptions", "status=active&customer_id=@cus", "Bearer @sk", "", "", ""},
		{0, "/v1/customers/@cus/card", "", "Bearer @sk", "", "", ""},
		{0, "/v1/test_clock", "", "Bearer @sk", "", "", ""},
		{1, "/v1/test_clock/advance", "", "Bearer @sk", "text/plain", "", `{"seconds":60}`},
		{0, "/v1/settings", "", "Bearer @sk", "", "", ""},
		{3, "/v1/orders/@ord", "", "Bearer @sk", "", "", ""},
		{4, "/v1/nothing", "", "Bearer sk_test_wrong", j, "", `{}`},
		{0, "/v1/../v1/ping", "", "", "", "", ""},
		{1, "/v1/orders", "", "Bearer @sk", "multipart/form-data", "", "a=1"},
		{1, "/v1/orders", "", "bearer @sk", j, "\x00", `{"amount":1}`},
		{0, "/escott/notify", "MerchantId=1", "", "", "", ""},
		{1, "/", "wc-api=wc_sonypayment", "", "application/x-www-form-urlencoded", "", "EncryptValue=AAAA"},
	} {
		f.Add(s.method, s.path, s.query, s.auth, s.ct, s.idem, []byte(s.body))
	}
	fe := newFuzzEnv(f, false)
	f.Fuzz(func(t *testing.T, method uint8, p, query, auth, ct, idem string, body []byte) {
		m := apiMethods[int(method)%len(apiMethods)]
		p = string(fe.expand(t, []byte(p)))
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") || !utf8.ValidString(p) {
			return // not a path a client can send
		}
		if (m == "PATCH" || m == "POST" || m == "PUT") && strings.TrimRight(path.Clean(p), "/") == "/v1/settings" {
			return
		}
		if strings.ContainsAny(query, " #") || !validHeaderValue(query) {
			return // not a query a client can send
		}
		auth = strings.ReplaceAll(strings.ReplaceAll(auth, "@sk", fe.sk), "@pk", fe.pk)
		auth = strings.ReplaceAll(auth, "@basic", basic(fe.sk))
		h := http.Header{}
		for k, v := range map[string]string{"Authorization": auth, "Content-Type": ct, "Idempotency-Key": idem} {
			if v != "" && validHeaderValue(v) {
				h.Set(k, v)
			}
		}
		target := p
		if query != "" {
			target += "?" + query
		}
		w := fe.do(t, m, target, h, fe.expand(t, body))
		if strings.HasPrefix(path.Clean(p), "/v1/") && m != "HEAD" {
			checkJSON(t, w, m+" "+target)
		}
		fe.settle(t, w)
	})
}

func basic(key string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(key, "")
	_, v, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return v
}

// validHeaderValue reports whether net/http's client could send v (the
// server never sees anything else).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// decodeTargets are the request types of the API, as the handlers
// decode them.
var decodeTargets = []func() any{
	func() any { return new(service.OrderInput) },
	func() any { return new(cardpay.PayInput) },
	func() any { return new(chargeRequest) },
	func() any { return new(amountRequest) },
	func() any { return new(cardpay.ResolveInput) },
	func() any { return new(cardpay.SaveCardInput) },
	func() any { return new(cvspay.RegisterInput) },
	func() any { return new(cvspay.AdminRegisterInput) },
	func() any { return new(cvspay.ChangeInput) },
	func() any { return new(cvspay.ResolveInput) },
	func() any { return new(renewal.CreateInput) },
	func() any { return new(cancelRequest) },
	func() any { return new(advanceRequest) },
	func() any { return new(settingsPatch) },
	func() any { return new(service.WebhookEndpointInput) },
	func() any { return new(service.WebhookEndpointPatch) },
	func() any { return new(resendRequest) },
	func() any { return new(struct{}) },
}

// FuzzDecodeJSON: decodeJSON, which reads every request body, never
// panics; it refuses with a KindInvalid error whose field paths are
// clipped and whose list is bounded; and what it accepts, written back
// as JSON, decodes again to the same value.
func FuzzDecodeJSON(f *testing.F) {
	for i := range decodeTargets {
		for _, b := range []string{`{}`, ``, ` `, `null`, `[]`, `{"a":1}`, `{"amount":1e400}`, `{"items":[{"quantity":"1"}]}`,
			`{"metadata":{"k":1}}`, "{\n\"x\":\n", `{"interval":{"unit":"month","count":1},"start_at":"2026-04-01T00:00:00+09:00"}`,
			`{"settings":{"a":[1,2,{"b":null}]},"version":3}`, `{"amount":9223372036854775808}`, `{"` + strings.Repeat("k", 200) + `":1}`,
			`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18}`,
			`{"amount":1}{}`, `{"Amount":1}`, "\xff"} {
			f.Add(uint8(i), []byte(b), i%2 == 0)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte, optional bool) {
		mk := decodeTargets[int(which)%len(decodeTargets)]
		dst := mk()
		err := decodeJSON(body, dst, optional)
		if err != nil {
			if kessai.ErrorKind(err) != kessai.KindInvalid {
				t.Fatalf("%T from %q: %v error %v", dst, body, kessai.ErrorKind(err), err)
			}
			var ve kessai.ValidationErrors
			if errors.As(err, &ve) {
				if len(ve) == 0 || len(ve) > 50+len(createTimeFields) {
					t.Fatalf("%d field errors for %q", len(ve), body)
				}
				for _, fe := range ve {
					if fe.Code == "" || fe.Message("en") == "" || utf8.RuneCountInString(fe.Field) > 101 {
						t.Fatalf("field error %+v", fe)
					}
				}
			} else if e := kessai.AsError(err); e.Code == "" || e.Message("ja") == "" {
				t.Fatalf("error %+v", e)
			}
			return
		}
		out, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("%T accepted from %q does not marshal: %v", dst, body, err)
		}
		again := mk()
		if err := decodeJSON(out, again, false); err != nil {
			t.Fatalf("%T: %q accepted, its JSON %s refused: %v", dst, body, out, err)
		}
		if out2, _ := json.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("%T from %q: %s then %s", dst, body, out, out2)
		}
	})
}
