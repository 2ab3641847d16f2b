package api

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/testdb"
)

// The collection routes (collections.go) and the routes shared with card
// payments (reference, cancel, resolve) over a real cvspay.Collector and
// cardpay.Payer, a real store and the in-process gateway simulator, whose
// payment notifications reach this API's own receiver. As for cards, these
// tests cover the API layer — routing, dispatch by method, decoding, error
// rendering, idempotency — and one flow end to end; the collection rules
// are cvspay's and collection's.
//
// TestCollectionRoutes is also the OpenAPI check of collectionRoutes:
// every answer is validated against docs/openapi.yaml, and every route
// must have been answered with a success and an error.

// colEnv is the API with both payment engines over one simulator.
type colEnv struct {
	*env
	sim *sim.Server
}

// colBilling is a billing identity a collection accepts (CVS-02).
var colBilling = map[string]any{"last_name": "山田", "first_name": "太郎", "last_name_kana": "ヤマダ",
	"first_name_kana": "タロウ", "email": "taro@example.jp", "phone": "090-1234-5678"}

// newColEnv starts the API with cards and collections for the simulator's
// demo merchant (as cmd/kessai's useDemoMerchant does) on the pro plan,
// with due days 7 and the fee table of TestOpenAPI (110 yen up to 1000,
// 220 above), then applies patch.
//
// The simulator's clock is the env's, so due dates and the simulator's
// own deadline agree. It sends notifications to a front server that
// hands them to the API once it exists: the simulator needs its
// NotifyURL before the API can be built around the engines that call it.
func newColEnv(t *testing.T, db testdb.Backend, patch map[string]any) *colEnv {
	t.Helper()
	var handler atomic.Pointer[http.Handler]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	var s *sim.Server
	e := newEnv(t, db, func(cfg *Config) {
		m := sim.DemoMerchant
		m.NotifyURL = front.URL + "/escott/notify"
		var err error
		s, err = sim.New(sim.Config{Merchants: []sim.Merchant{m}, Now: cfg.Now,
			NotifyRetry: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		simSrv := httptest.NewServer(s)
		t.Cleanup(simSrv.Close)
		gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, Now: cfg.Now, Logger: cfg.Logger})
		cfg.Cards = cardpay.New(cardpay.Config{Service: cfg.Service, Gateways: gw,
			ReturnURL: "http://127.0.0.1/escott/notify", Logger: cfg.Logger})
		cfg.Collections = cvspay.New(cvspay.Config{Service: cfg.Service, Gateways: gw, Logger: cfg.Logger})
		cfg.Notifications = NotificationHandlers{Collection: cfg.Collections.Notify}
	})
	var h http.Handler = e.api
	handler.Store(&h)
	ce := &colEnv{env: e, sim: s}
	d := sim.DemoMerchant
	ce.settings(t, map[string]any{
		"environment": "simulator",
		"plan":        "pro",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
		},
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"due_days": 7, "fee_enabled": true, "fee_rows": []any{
				map[string]any{"from": 0, "to": 1000, "fee": 110}, map[string]any{"from": 1001, "to": "*", "fee": 220}},
		},
	})
	if patch != nil {
		ce.settings(t, patch)
	}
	return ce
}

// settings applies a settings merge patch (cardEnv's, for this env).
func (e *colEnv) settings(t testing.TB, patch map[string]any) {
	t.Helper()
	(&cardEnv{env: e.env, sim: e.sim}).settings(t, patch)
}

// order creates an order of amount yen whose billing a collection accepts;
// extra fields replace the defaults.
func (e *colEnv) order(t testing.TB, sid string, amount int64, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"amount": amount, "billing": colBilling,
		"items": []any{map[string]any{"name": "緑茶", "quantity": 1, "unit_amount": amount}}}
	for k, v := range extra {
		body[k] = v
	}
	return e.createOrder(t, sid, body)["id"].(string)
}

// collect registers an order through the API and returns the answer.
func (e *colEnv) collect(t testing.TB, s *spec, orderID string) map[string]any {
	t.Helper()
	return s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + orderID + "/collect"}).must(t, 200).json(t)
}

// flush waits until the simulator delivered every queued notification.
func (e *colEnv) flush(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.sim.FlushNotifications(ctx); err != nil {
		t.Fatal(err)
	}
}

// simCollection is the simulator's record of an order's collection.
func (e *colEnv) simCollection(t testing.TB, orderID string) sim.CollectionView {
	t.Helper()
	var found []sim.CollectionView
	for _, c := range e.sim.Collections(sim.DemoMerchant.MerchantID, "test") {
		if c.MerchantFree2 == orderID {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the simulator has %d collections of %s, want 1", len(found), orderID)
	}
	return found[0]
}

// notify posts notification fields to the receiver as the gateway (or a
// forger) would; the answer must be 200 with an empty body whatever they
// say (NOTIFY-02).
func (e *colEnv) notify(t testing.TB, path string, fields url.Values) {
	t.Helper()
	r := e.post(t, path, fields, "")
	if r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("receiver answered %d %q to a notification; want 200 and no body", r.status, r.body)
	}
}

// eventsAbout lists, oldest first, the types of the events whose data is
// the object id, read through the API.
func (e *colEnv) eventsAbout(t testing.TB, s *spec, id string) []string {
	t.Helper()
	list := s.do(t, e.env, req{method: "GET", path: "/v1/events?limit=100"}).must(t, 200).json(t)
	var out []string
	for _, ev := range list["data"].([]any) {
		m := ev.(map[string]any)
		if d, _ := m["data"].(map[string]any); d != nil && d["id"] == id {
			out = append([]string{m["type"].(string)}, out...)
		}
	}
	return out
}

// lastEvent returns the data of the newest event of typ about id.
func (e *colEnv) lastEvent(t testing.TB, s *spec, typ, id string) map[string]any {
	t.Helper()
	list := s.do(t, e.env, req{method: "GET", path: "/v1/events?limit=100"}).must(t, 200).json(t)
	for _, ev := range list["data"].([]any) {
		m := ev.(map[string]any)
		if d, _ := m["data"].(map[string]any); d != nil && d["id"] == id && m["type"] == typ {
			return d
		}
	}
	t.Fatalf("no %s event about %s", typ, id)
	return nil
}

// validation checks a 400 validation answer: its fields in order, a
// message for each, and the message language.
func validation(t testing.TB, r *resp, lang string, fields ...string) {
	t.Helper()
	eo := errObj(t, r)
	fe, _ := eo["errors"].([]any)
	if eo["type"] != "invalid" || eo["code"] != "validation_failed" || len(fe) != len(fields) || eo["field"] != fields[0] {
		t.Fatalf("validation answer %s, want fields %v", r.body, fields)
	}
	for i, f := range fields {
		m := fe[i].(map[string]any)
		msg, _ := m["message"].(string)
		if m["field"] != f || m["code"] == "" || msg == "" || japanese(msg) != (lang == "ja") {
			t.Fatalf("field error %d = %v, want field %s with a %s message", i, m, f, lang)
		}
	}
	if msg := str(eo, "message"); japanese(msg) != (lang == "ja") {
		t.Fatalf("message %q is not in %s", msg, lang)
	}
	if r.header.Get("Content-Language") != lang {
		t.Fatalf("Content-Language %q, want %s", r.header.Get("Content-Language"), lang)
	}
}

// japanese reports whether s has kana, kanji or Japanese punctuation
// (English messages may still carry "¥" or quoted input).
func japanese(s string) bool {
	for _, r := range s {
		if r >= 0x3000 && r <= 0x9fff || r >= 0xff00 && r <= 0xffef {
			return true
		}
	}
	return false
}

func TestCollectionRoutes(t *testing.T) {
	loadSpec(t) // the document itself, once
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		s := loadSpec(t) // a validator per backend: the subtests run in parallel
		t.Run("collect", func(t *testing.T) { testCollect(t, s, newColEnv(t, db, nil)) })
		t.Run("end to end", func(t *testing.T) { testCollectionEndToEnd(t, s, newColEnv(t, db, nil)) })
		t.Run("operations", func(t *testing.T) { testCollectionOperations(t, s, newColEnv(t, db, nil)) })
		t.Run("admin registration", func(t *testing.T) { testCollectionAdminRegistration(t, s, newColEnv(t, db, nil)) })
		t.Run("expiry", func(t *testing.T) {
			testCollectionExpiry(t, s, newColEnv(t, db, map[string]any{"collection": map[string]any{"expire_cancels_order": true}}))
		})
		t.Run("unknown", func(t *testing.T) { testCollectionUnknown(t, s, newColEnv(t, db, nil)) })
		t.Run("dispatch", func(t *testing.T) { testCollectionDispatch(t, s, newColEnv(t, db, nil)) })
		t.Run("unavailable", func(t *testing.T) { testCollectionsUnavailable(t, s, newEnv(t, db)) })

		s.covers(t, (&API{}).collectionRoutes())
	})
}

// testCollect: a registration with its fee and details, its replays, a
// refusal, a zero-yen order, and the input checks.
func testCollect(t *testing.T, s *spec, e *colEnv) {
	oid := e.order(t, "CC-1", 1100, nil)
	q := req{method: "POST", path: "/v1/orders/" + oid + "/collect", header: map[string]string{"Idempotency-Key": "col-1"},
		body: map[string]any{"return_url": "https://shop.example.jp/thanks/CC-1"}}
	r := s.do(t, e.env, q).must(t, 200)
	m := r.json(t)
	pid := str(m, "payment", "id")
	col, _ := m["collection"].(map[string]any)
	na, _ := m["next_action"].(map[string]any)
	// CVS-04: 1100 yen → fee 220, added once as a line of its own.
	if m["status"] != "pending" || str(m, "order", "status") != "on-hold" || str(m, "payment", "state") != "pending" ||
		str(m, "payment", "method") != "collection" || m["replayed"] != nil || col == nil || na == nil {
		t.Fatalf("collect: %s", r.body)
	}
	if m["order"].(map[string]any)["amount"] != 1320.0 || m["payment"].(map[string]any)["fee"] != 220.0 ||
		col["amount"] != 1320.0 || col["fee"] != 220.0 || len(m["order"].(map[string]any)["items"].([]any)) != 2 {
		t.Fatalf("fee: %s", r.body)
	}
	// CVS-05 and A-06: due today (2025-01-02 JST) + 7 days at 23:59; the
	// link for e-mails (rkbn=2) and the redirect (rkbn=1) name the same
	// payment code; the e-mail text carries the link in both languages.
	link := str(col, "payment_url")
	if str(m, "payment", "pay_limit") != "202501092359" || col["pay_limit"] != "202501092359" || col["due"] != "2025年1月9日 23:59" ||
		!strings.Contains(link, "rkbn=2") || na["type"] != "redirect" || na["reason"] != "collection" || na["method"] != "GET" ||
		str(na, "url") != strings.Replace(link, "rkbn=2", "rkbn=1", 1) ||
		!strings.Contains(str(col, "instructions"), link) || !strings.Contains(str(col, "instructions"), "お支払い") ||
		!strings.Contains(str(col, "instructions_en"), link) || japanese(str(col, "instructions_en")) {
		t.Fatalf("details: %s", r.body)
	}
	if sc := e.simCollection(t, oid); sc.Amount != 1320 || sc.ReturnURL != "https://shop.example.jp/thanks/CC-1" ||
		sc.NameKana != "ヤマダタロウ" || sc.TelNo != "090-1234-5678" {
		t.Fatalf("2Add: %+v", sc)
	}
	// payment.pending carries the details, so a shop can send its e-mail
	// from the webhook alone (CVS-08).
	if ev := e.lastEvent(t, s, "payment.pending", pid); str(ev, "collection", "payment_url") != link {
		t.Fatalf("payment.pending: %v", ev)
	}

	// The same key replays the stored answer; without a key the order's
	// registration is answered again (replayed), and the gateway saw one
	// registration in all.
	if rr := s.do(t, e.env, q).must(t, 200); rr.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(rr.body, r.body) {
		t.Fatalf("replay: %v %s", rr.header, rr.body)
	}
	again := e.collect(t, s, oid)
	if again["replayed"] != true || str(again, "payment", "id") != pid || str(again, "collection", "payment_url") != link {
		t.Fatalf("collect again: %v", again)
	}
	e.simCollection(t, oid)
	s.do(t, e.env, req{method: "POST", path: q.path, header: q.header, body: `{}`}).must(t, 422)
	v := s.do(t, e.env, req{method: "GET", path: "/v1/payments/" + pid + "/collection"}).must(t, 200).json(t)
	if str(v, "state", "kind") != "pending" || fmt.Sprint(v["operations"]) != "[2Del 2Chg]" || str(v, "collection", "payment_url") != link {
		t.Fatalf("view: %v", v)
	}

	// A refusal: 402 with the shopper's message and the records' fields,
	// replayed as stored; the order is failed, without the fee line, and
	// may be registered again.
	oid2 := e.order(t, "CC-2", 5000, nil)
	e.sim.AddFault(sim.Fault{Op: escott.OpCvsAdd, Kind: sim.FaultResponseCode, ResponseCd: "K50", Times: 1})
	decl := req{method: "POST", path: "/v1/orders/" + oid2 + "/collect", header: map[string]string{"Idempotency-Key": "col-2"}}
	r = s.do(t, e.env, decl).must(t, 402)
	eo := errObj(t, r)
	if eo["type"] != "declined" || eo["code"] != "payment_failed" || eo["order_id"] != oid2 ||
		!strings.HasPrefix(str(eo, "payment_id"), "pay_") || fmt.Sprint(eo["gateway_codes"]) != "[K50]" || strings.Contains(str(eo, "message"), "K50") {
		t.Fatalf("refusal: %s", r.body)
	}
	if rr := s.do(t, e.env, decl).must(t, 402); rr.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(rr.body, r.body) {
		t.Fatalf("replay of 402: %v %s", rr.header, rr.body)
	}
	o := s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid2}).must(t, 200).json(t)
	if o["status"] != "failed" || o["amount"] != 5000.0 || len(o["items"].([]any)) != 1 {
		t.Fatalf("refused order: %v", o)
	}
	if m := e.collect(t, s, oid2); m["status"] != "pending" || m["collection"].(map[string]any)["amount"] != 5220.0 {
		t.Fatalf("second try: %v", m)
	}

	// An order of 0 yen is paid without a registration (CVS-12); then it
	// cannot be collected again.
	oid3 := e.order(t, "CC-3", 0, map[string]any{"items": []any{}})
	if m := e.collect(t, s, oid3); m["status"] != "succeeded" || str(m, "order", "status") != "processing" || m["payment"] != nil || m["next_action"] != nil {
		t.Fatalf("zero: %v", m)
	}
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid3 + "/collect"}).must(t, 409).errCode(t); c != "order_not_payable" {
		t.Fatalf("collect a paid order: %s", c)
	}

	// Input checks (on an order without a registration: a registered
	// one is answered with its registration before anything else). The
	// billing identity (CVS-02) is named field by field, in the caller's
	// language.
	oid4 := e.order(t, "CC-4", 1000, map[string]any{"billing": map[string]any{"last_name": "山田", "first_name": "太郎"}})
	path := "/v1/orders/" + oid4 + "/collect"
	want := []string{"billing.last_name_kana", "billing.first_name_kana", "billing.phone"}
	validation(t, s.do(t, e.env, req{method: "POST", path: path, header: map[string]string{"Accept-Language": "en"}}).must(t, 400), "en", want...)
	validation(t, s.do(t, e.env, req{method: "POST", path: path}).must(t, 400), "ja", want...)
	for _, tc := range []struct {
		name, body, field, code string
	}{
		{"return url", `{"return_url":"ftp://shop.example.jp/"}`, "return_url", ""},
		{"unknown field", `{"token":"x"}`, "token", "unknown_field"},
		{"wrong type", `{"lang":1}`, "lang", "invalid_type"},
	} {
		r := s.do(t, e.env, req{method: "POST", path: path, body: tc.body}).must(t, 400)
		eo := errObj(t, r)
		fe, _ := eo["errors"].([]any)
		if eo["field"] != tc.field || len(fe) != 1 || (tc.code != "" && fe[0].(map[string]any)["code"] != tc.code) || eo["payment_id"] != nil {
			t.Errorf("%s: %s", tc.name, r.body)
		}
	}
	if c := s.do(t, e.env, req{method: "POST", path: path, body: `{"lang":`}).must(t, 400).errCode(t); c != "invalid_json" {
		t.Errorf("malformed: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/orders/ord_missing/collect"}).must(t, 404)
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + strings.Repeat("x", 65) + "/collect"}).must(t, 404).errCode(t); c != "order_not_found" {
		t.Errorf("implausible id: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: path, key: e.pk}).must(t, 403)
	if r := e.do(t, req{method: "GET", path: path}).must(t, 405); r.header.Get("Allow") != "POST" {
		t.Errorf("405 Allow: %v", r.header)
	}

	// A disabled method refuses new checkouts (SET-19).
	e.settings(t, map[string]any{"collection": map[string]any{"enabled": false}})
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + e.order(t, "CC-5", 1000, nil) + "/collect"}).must(t, 409).errCode(t); c != "collection_unavailable" {
		t.Fatalf("disabled: %s", c)
	}
}

// agentForm reads the simulator's agent page (E8) as a browser would and
// returns where its form posts and its hidden fields.
var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	formHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

func agentForm(t testing.TB, page string) (string, url.Values) {
	t.Helper()
	res, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`value="SEV"`)) {
		t.Fatalf("agent page %s: %d\n%s", page, res.StatusCode, b)
	}
	m := formAction.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no form on the agent page:\n%s", b)
	}
	base, _ := url.Parse(page)
	action, err := base.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for _, h := range formHidden.FindAllSubmatch(b, -1) {
		form.Set(string(h[1]), html.UnescapeString(string(h[2])))
	}
	return action.String(), form
}

// testCollectionEndToEnd: register, follow next_action to the agent's
// page and pay at a store there; the simulator's notification reaches the
// receiver, is confirmed (2Ref) and pays the order once. Duplicates and
// forgeries through the receiver change nothing.
func testCollectionEndToEnd(t *testing.T, s *spec, e *colEnv) {
	oid := e.order(t, "CE-1", 3000, nil)
	m := e.collect(t, s, oid)
	pid := str(m, "payment", "id")

	action, form := agentForm(t, str(m, "next_action", "url"))
	form.Set("cvs", "SEV")
	res, err := http.PostForm(action, form)
	if err != nil {
		t.Fatal(err)
	}
	receipt, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if sc := e.simCollection(t, oid); res.StatusCode != http.StatusOK || sc.Status != "PAID" ||
		!bytes.Contains(receipt, []byte("お支払いが完了しました")) || !bytes.Contains(receipt, []byte(sc.RecvNum)) {
		t.Fatalf("paying on the agent page: %d %+v\n%s", res.StatusCode, sc, receipt)
	}
	e.flush(t)
	ns := e.sim.Notifications()
	if len(ns) != 1 || !ns[0].Delivered || !strings.HasSuffix(ns[0].URL, "/escott/notify") {
		t.Fatalf("notifications: %+v", ns)
	}

	paid := func() {
		t.Helper()
		if o := s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid}).must(t, 200).json(t); o["status"] != "processing" {
			t.Fatalf("order after payment: %v", o["status"])
		}
		v := s.do(t, e.env, req{method: "GET", path: "/v1/payments/" + pid + "/collection"}).must(t, 200).json(t)
		if str(v, "payment", "state") != "paid" || str(v, "state", "kind") != "paid" || str(v, "state", "label_ja") != "入金済" ||
			str(v, "payment", "cvs_code") != "SEV" || len(v["operations"].([]any)) != 0 || v["collection"] != nil || len(v["history"].([]any)) != 2 {
			t.Fatalf("paid view: %v", v)
		}
		if got := e.eventsAbout(t, s, pid); fmt.Sprint(got) != "[payment.pending payment.paid]" {
			t.Fatalf("payment events %v", got)
		}
	}
	paid()
	if ev := e.lastEvent(t, s, "payment.paid", pid); ev["state"] != "paid" || ev["collection"] != nil {
		t.Fatalf("payment.paid: %v", ev)
	}

	// The same notification again, on both receiver URLs: 200, nothing
	// new.
	n := url.Values{}
	for k, v := range ns[0].Fields {
		n.Set(k, v)
	}
	e.notify(t, "/escott/notify", n)
	e.notify(t, "/?wc-api=wc_sonypayment", n)
	paid()

	// Forgeries: another merchant, a transaction code of nobody,
	// another order's code, and a true code whose collection is unpaid —
	// which the gateway's 2Ref does not confirm. All answered 200; the
	// unpaid collection stays unpaid.
	oid2 := e.order(t, "CE-2", 2000, nil)
	m2 := e.collect(t, s, oid2)
	pid2 := str(m2, "payment", "id")
	code2 := str(m2, "payment", "transaction_code")
	forge := func(kv ...string) url.Values {
		f := url.Values{"MerchantId": {sim.DemoMerchant.MerchantID}, "TransactionId": {"1000000000999"}, "RecvNum": {"123456789012"},
			"NyukinDate": {"20250102130000"}, "MerchantFree1": {code2}, "MerchantFree2": {oid2}, "CvsCd": {"LSN"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, f := range []url.Values{
		forge("MerchantId", "999999999"),
		forge("MerchantFree1", "000000000001"),
		forge("MerchantFree2", oid),
		forge(),
	} {
		e.notify(t, "/escott/notify", f)
	}
	paid()
	v := s.do(t, e.env, req{method: "GET", path: "/v1/payments/" + pid2 + "/collection"}).must(t, 200).json(t)
	if str(v, "state", "kind") != "pending" || len(v["history"].([]any)) != 1 {
		t.Fatalf("forged notification changed %s: %v", pid2, v)
	}
	if got := e.eventsAbout(t, s, pid2); fmt.Sprint(got) != "[payment.pending]" {
		t.Fatalf("events after forgeries: %v", got)
	}
	if st := str(s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid2}).must(t, 200).json(t), "status"); st != "on-hold" {
		t.Fatalf("order after forgeries: %s", st)
	}

	// The operator's reference of the paid collection shows the gateway's
	// record; a paid collection can be neither changed nor cancelled.
	r := s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + pid + "/reference"}).must(t, 200)
	if g, _ := r.json(t)["gateway"].(map[string]any); g == nil || g["paid"] != true || g["cvs_code"] != "SEV" || g["cvs_name"] != "セブンイレブン" ||
		g["amount"] != 3220.0 || str(g, "recv_num") == "" {
		t.Fatalf("reference: %s", r.body)
	}
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + pid + "/cancel"}).must(t, 409).errCode(t); c != "operation_not_allowed" {
		t.Fatalf("cancel paid: %s", c)
	}
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + pid + "/change_due", body: `{"amount":100}`}).must(t, 409).errCode(t); c != "operation_not_allowed" {
		t.Fatalf("change paid: %s", c)
	}
	paid()
}

// testCollectionOperations: the view, a change (once), a reference, a
// cancel, their input checks and refusals, and the light plan.
func testCollectionOperations(t *testing.T, s *spec, e *colEnv) {
	oid := e.order(t, "CO-1", 1100, nil)
	m := e.collect(t, s, oid)
	pid := str(m, "payment", "id")
	base := "/v1/payments/" + pid
	link := str(m, "collection", "payment_url")

	en := map[string]string{"Accept-Language": "en"}
	for _, tc := range []struct {
		body, code, field string
		header            map[string]string
	}{
		{"", "body_required", "", nil},
		{`{"due_date":"2025-13-01"}`, "validation_failed", "due_date", nil},
		{`{"due_date":"20250101"}`, "validation_failed", "due_date", en}, // before today
		{`{"due_date":"2025/01/20"}`, "validation_failed", "due_date", nil},
		{`{"amount":10000000}`, "validation_failed", "amount", en},
		{`{"amount":"900"}`, "validation_failed", "amount", nil},
		{`{"pay_limit":"202501202359"}`, "validation_failed", "pay_limit", nil},
	} {
		r := s.do(t, e.env, req{method: "POST", path: base + "/change_due", body: tc.body, header: tc.header}).must(t, 400)
		eo := errObj(t, r)
		if eo["code"] != tc.code || str(eo, "field") != tc.field || japanese(str(eo, "message")) != (tc.header == nil) {
			t.Errorf("change %s: %s", tc.body, r.body)
		}
	}
	if v := s.do(t, e.env, req{method: "POST", path: base + "/change_due", body: `{}`}).must(t, 200).json(t); v["noop"] != true {
		t.Fatalf("empty change: %v", v)
	}

	// The change (ADMIN-13): a new due date and amount, a new payment
	// code, payment.pending again with the new details and
	// payment.amount_changed; only the cancel is offered afterwards.
	chg := req{method: "POST", path: base + "/change_due", header: map[string]string{"Idempotency-Key": "chg-1"},
		body: map[string]any{"due_date": "2025-01-20", "amount": 1500}}
	r := s.do(t, e.env, chg).must(t, 200)
	v := r.json(t)
	st := v["state"].(map[string]any)
	if str(v, "payment", "state") != "pending" || st["changed"] != true || st["amount"] != 1500.0 || st["pay_limit"] != "202501202359" ||
		fmt.Sprint(v["operations"]) != "[2Del]" || str(v, "collection", "payment_url") == link || v["collection"].(map[string]any)["amount"] != 1500.0 {
		t.Fatalf("change: %s", r.body)
	}
	if rr := s.do(t, e.env, chg).must(t, 200); rr.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("change not replayed")
	}
	if c := s.do(t, e.env, req{method: "POST", path: base + "/change_due", body: `{"due_date":"20250125"}`}).must(t, 409).errCode(t); c != "already_changed" {
		t.Fatalf("second change: %s", c)
	}
	if got := e.eventsAbout(t, s, pid); fmt.Sprint(got) != "[payment.pending payment.pending payment.amount_changed]" {
		t.Fatalf("events after the change: %v", got)
	}
	if ev := e.lastEvent(t, s, "payment.pending", pid); str(ev, "collection", "payment_url") != str(v, "collection", "payment_url") {
		t.Fatalf("payment.pending after the change: %v", ev)
	}

	// Reference: unpaid at the gateway, with the changed amount.
	r = s.do(t, e.env, req{method: "POST", path: base + "/reference", body: `{}`}).must(t, 200)
	if g, _ := r.json(t)["gateway"].(map[string]any); g == nil || g["paid"] != false || g["amount"] != 1500.0 || g["pay_limit"] != "202501202359" {
		t.Fatalf("reference: %s", r.body)
	}
	s.do(t, e.env, req{method: "POST", path: base + "/reference", body: `{"x":1}`}).must(t, 400)

	// Cancel (ADMIN-14): final, the order's status unchanged.
	cancel := req{method: "POST", path: base + "/cancel", header: map[string]string{"Idempotency-Key": "cancel-1"}}
	r = s.do(t, e.env, cancel).must(t, 200)
	if v := r.json(t); str(v, "state", "kind") != "cancelled" || str(v, "payment", "state") != "cancelled" || len(v["operations"].([]any)) != 0 || v["collection"] != nil {
		t.Fatalf("cancel: %s", r.body)
	}
	if rr := s.do(t, e.env, cancel).must(t, 200); rr.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(rr.body, r.body) {
		t.Fatal("cancel not replayed")
	}
	if c := s.do(t, e.env, req{method: "POST", path: base + "/cancel"}).must(t, 409).errCode(t); c != "operation_not_allowed" {
		t.Fatalf("cancel twice: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: base + "/cancel", body: `{"force":true}`}).must(t, 400)
	if e.simCollection(t, oid).Status != "DELETED" {
		t.Fatal("the gateway still has the collection")
	}
	if st := str(s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid}).must(t, 200).json(t), "status"); st != "on-hold" {
		t.Fatalf("order after cancel: %s", st)
	}
	if got := e.eventsAbout(t, s, pid); got[len(got)-1] != "payment.canceled" {
		t.Fatalf("events after cancel: %v", got)
	}
	// K12 after a cancel is the cancelled state, not an error.
	if g, _ := s.do(t, e.env, req{method: "POST", path: base + "/reference"}).must(t, 200).json(t)["gateway"].(map[string]any); g == nil || fmt.Sprint(g["codes"]) != "[K12]" {
		t.Fatalf("reference after cancel: %v", g)
	}

	// Path ids and query strings.
	s.do(t, e.env, req{method: "GET", path: "/v1/payments/pay_missing/collection"}).must(t, 404)
	s.do(t, e.env, req{method: "GET", path: "/v1/payments/" + strings.Repeat("p", 65) + "/collection"}).must(t, 404)
	s.do(t, e.env, req{method: "POST", path: "/v1/payments/pay_missing/change_due", body: `{}`}).must(t, 404)
	for _, op := range []string{"reference", "cancel"} {
		s.do(t, e.env, req{method: "POST", path: "/v1/payments/pay_missing/" + op}).must(t, 404)
	}
	s.do(t, e.env, req{method: "GET", path: base + "/collection?expand=history"}).must(t, 400)
	s.do(t, e.env, req{method: "GET", path: base + "/collection", key: e.pk}).must(t, 403)

	// The light plan: collections are taken at checkout, but
	// operated in the e-SCOTT console; the view lists no operations.
	e.settings(t, map[string]any{"plan": "light"})
	oid2 := e.order(t, "CO-2", 2000, nil)
	pid2 := str(e.collect(t, s, oid2), "payment", "id")
	base2 := "/v1/payments/" + pid2
	for _, q := range []req{
		{method: "POST", path: base2 + "/change_due", body: `{"amount":1000}`},
		{method: "POST", path: base2 + "/reference"},
		{method: "POST", path: base2 + "/cancel"},
		{method: "POST", path: "/v1/orders/" + e.order(t, "CO-3", 2000, nil) + "/collection"},
	} {
		r := s.do(t, e.env, q).must(t, 403)
		if eo := errObj(t, r); eo["code"] != "light_plan" || !strings.Contains(str(eo, "message"), "e-SCOTT") {
			t.Fatalf("light plan %s: %s", q.path, r.body)
		}
	}
	if v := s.do(t, e.env, req{method: "GET", path: base2 + "/collection"}).must(t, 200).json(t); len(v["operations"].([]any)) != 0 || v["collection"] == nil {
		t.Fatalf("light plan view: %v", v)
	}
}

// testCollectionAdminRegistration: the operator's registration (ADMIN-15)
// of an order without a collection, its defaults, checks and refusals.
func testCollectionAdminRegistration(t *testing.T, s *spec, e *colEnv) {
	// The kana names may be empty on this path (the kanji name is sent).
	oid := e.order(t, "CA-1", 1100, map[string]any{"billing": map[string]any{"last_name": "山田", "first_name": "太郎", "phone": "0312345678"}})
	path := "/v1/orders/" + oid + "/collection"
	for _, tc := range []struct {
		body, field string
	}{
		{`{"due_date":"x"}`, "due_date"},
		{`{"due_date":"20250401"}`, "due_date"}, // more than 60 days ahead
		{`{"amount":-1}`, "amount"},
		{`{"amount":1,"return_url":"https://x.example"}`, "return_url"},
	} {
		r := s.do(t, e.env, req{method: "POST", path: path, body: tc.body}).must(t, 400)
		if eo := errObj(t, r); eo["code"] != "validation_failed" || eo["field"] != tc.field {
			t.Errorf("%s: %s", tc.body, r.body)
		}
	}
	q := req{method: "POST", path: path, header: map[string]string{"Idempotency-Key": "reg-1"}, body: map[string]any{"due_date": "20250110", "amount": 900}}
	r := s.do(t, e.env, q).must(t, 201)
	v := r.json(t)
	pid := str(v, "payment", "id")
	// No fee, the order's status unchanged.
	if r.header.Get("Location") != "/v1/payments/"+pid+"/collection" || str(v, "state", "kind") != "pending" ||
		v["payment"].(map[string]any)["amount"] != 900.0 || v["payment"].(map[string]any)["fee"] != nil ||
		str(v, "payment", "pay_limit") != "202501102359" || fmt.Sprint(v["operations"]) != "[2Del 2Chg]" || v["collection"] == nil {
		t.Fatalf("admin registration: %v %s", r.header, r.body)
	}
	if o := s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid}).must(t, 200).json(t); o["status"] != "pending" || o["amount"] != 1100.0 {
		t.Fatalf("order after an admin registration: %v", o)
	}
	if sc := e.simCollection(t, oid); sc.NameKana != "山田太郎" || sc.Amount != 900 || sc.ReturnURL != "" {
		t.Fatalf("2Add from the back office: %+v", sc)
	}
	if rr := s.do(t, e.env, q).must(t, 201); rr.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("admin registration not replayed")
	}
	// Registered: a second registration is refused, as it is once the
	// collection was cancelled (no re-registration, [MANUAL]).
	if c := s.do(t, e.env, req{method: "POST", path: path}).must(t, 409).errCode(t); c != "transaction_exists" {
		t.Fatalf("second registration: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + pid + "/cancel"}).must(t, 200)
	if c := s.do(t, e.env, req{method: "POST", path: path, body: `{}`}).must(t, 409).errCode(t); c != "transaction_exists" {
		t.Fatalf("registration after a cancel: %s", c)
	}

	// Defaults: today + due days, the order's total. Works while the
	// method is disabled for new checkouts.
	e.settings(t, map[string]any{"collection": map[string]any{"enabled": false}})
	oid2 := e.order(t, "CA-2", 2500, nil)
	v = s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid2 + "/collection"}).must(t, 201).json(t)
	if str(v, "payment", "pay_limit") != "202501092359" || v["payment"].(map[string]any)["amount"] != 2500.0 {
		t.Fatalf("defaults: %v", v)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/orders/ord_missing/collection"}).must(t, 404)
	e.settings(t, map[string]any{"collection": map[string]any{"enabled": true}})
	oid3 := e.order(t, "CA-3", 0, map[string]any{"items": []any{}})
	e.collect(t, s, oid3) // 0 yen: paid at once
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid3 + "/collection", body: `{"amount":100}`}).must(t, 409).errCode(t); c != "order_already_paid" {
		t.Fatalf("a paid order: %s", c)
	}
}

// testCollectionExpiry: past its due date a collection is shown as such,
// cannot be collected again, and after the recovery job's check is
// expired, with its order cancelled (the shop's choice here); a change
// with a new due date makes it payable again and reopens the order.
func testCollectionExpiry(t *testing.T, s *spec, e *colEnv) {
	oid := e.order(t, "CX-1", 1100, nil)
	pid := str(e.collect(t, s, oid), "payment", "id")
	base := "/v1/payments/" + pid
	e.clock.Advance(8 * 24 * time.Hour) // due 2025-01-09 23:59 JST; now 2025-01-10 12:04

	v := s.do(t, e.env, req{method: "GET", path: base + "/collection"}).must(t, 200).json(t)
	if str(v, "state", "kind") != "pending" || v["state"].(map[string]any)["past_due"] != true || str(v, "state", "label_ja") != "未入金（期限切れ）" {
		t.Fatalf("past due: %v", v["state"])
	}
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/collect"}).must(t, 409).errCode(t); c != "collection_past_due" {
		t.Fatalf("collect past due: %s", c)
	}
	if _, err := e.api.cols.Sweep(context.Background(), kessai.DefaultShopID); err != nil {
		t.Fatal(err)
	}
	v = s.do(t, e.env, req{method: "GET", path: base + "/collection"}).must(t, 200).json(t)
	if str(v, "payment", "state") != "expired" || str(v, "state", "kind") != "expired" || fmt.Sprint(v["operations"]) != "[2Del 2Chg]" {
		t.Fatalf("expired: %v", v)
	}
	if got := e.eventsAbout(t, s, pid); fmt.Sprint(got) != "[payment.pending payment.expired]" {
		t.Fatalf("events after expiry: %v", got)
	}
	if st := str(s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid}).must(t, 200).json(t), "status"); st != "cancelled" {
		t.Fatalf("order after expiry: %s", st)
	}
	// An amount change alone needs a new due date: the old one has passed.
	r := s.do(t, e.env, req{method: "POST", path: base + "/change_due", body: `{"amount":1000}`, header: map[string]string{"Accept-Language": "en"}}).must(t, 400)
	validation(t, r, "en", "due_date")
	v = s.do(t, e.env, req{method: "POST", path: base + "/change_due", body: `{"due_date":"2025-01-17"}`}).must(t, 200).json(t)
	if str(v, "payment", "state") != "pending" || str(v, "state", "pay_limit") != "202501172359" || v["collection"] == nil {
		t.Fatalf("changed after expiry: %v", v)
	}
	if st := str(s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid}).must(t, 200).json(t), "status"); st != "on-hold" {
		t.Fatalf("order after the change: %s", st)
	}
}

// testCollectionUnknown: a lost answer to 2Add is 202 with the payment,
// replayed as stored, blocks the order, and is settled through the
// resolve route shared with cards.
func testCollectionUnknown(t *testing.T, s *spec, e *colEnv) {
	oid := e.order(t, "CU-1", 1100, nil)
	e.sim.AddFault(sim.Fault{Op: escott.OpCvsAdd, Kind: sim.FaultReset, After: true, Times: 1})
	q := req{method: "POST", path: "/v1/orders/" + oid + "/collect", header: map[string]string{"Idempotency-Key": "col-u"}}
	r := s.do(t, e.env, q).must(t, 202)
	eo := errObj(t, r)
	pid := str(eo, "payment_id")
	if eo["type"] != "unknown_outcome" || eo["code"] != "payment_unknown" || eo["order_id"] != oid || pid == "" ||
		fmt.Sprint(eo["gateway_codes"]) != "[NG]" {
		t.Fatalf("unknown: %s", r.body)
	}
	if rr := s.do(t, e.env, q).must(t, 202); rr.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(rr.body, r.body) {
		t.Fatalf("replay of 202: %v %s", rr.header, rr.body)
	}
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/collect"}).must(t, 409).errCode(t); c != "payment_unknown" {
		t.Fatalf("collect while unknown: %s", c)
	}
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + pid + "/cancel"}).must(t, 409).errCode(t); c != "payment_unknown" {
		t.Fatalf("cancel while unknown: %s", c)
	}
	if v := s.do(t, e.env, req{method: "GET", path: "/v1/payments/" + pid + "/collection"}).must(t, 200).json(t); str(v, "state", "kind") != "unknown" {
		t.Fatalf("unknown view: %v", v)
	}

	path := "/v1/payments/" + pid + "/resolve"
	s.do(t, e.env, req{method: "POST", path: path}).must(t, 400)
	validation(t, s.do(t, e.env, req{method: "POST", path: path, body: `{"outcome":"maybe"}`, header: map[string]string{"Accept-Language": "en"}}).must(t, 400), "en", "outcome")
	validation(t, s.do(t, e.env, req{method: "POST", path: path, body: `{"outcome":"succeeded"}`}).must(t, 400), "ja", "process_id", "process_pass")
	if c := s.do(t, e.env, req{method: "POST", path: path, body: map[string]any{"outcome": "succeeded", "process_id": "nope", "process_pass": "nope"}}).must(t, 400).errCode(t); c != "process_not_found" {
		t.Fatalf("wrong handle: %s", c)
	}
	sc := e.simCollection(t, oid)
	v := s.do(t, e.env, req{method: "POST", path: path, header: map[string]string{"Idempotency-Key": "resolve-1"},
		body: map[string]any{"outcome": "succeeded", "process_id": sc.ProcessID, "process_pass": sc.ProcessPass, "free_area": sc.FreeArea}}).must(t, 200).json(t)
	if str(v, "payment", "state") != "pending" || str(v, "state", "kind") != "pending" || !strings.Contains(str(v, "collection", "payment_url"), sc.FreeArea) {
		t.Fatalf("resolved: %v", v)
	}
	if c := s.do(t, e.env, req{method: "POST", path: path, body: `{"outcome":"failed"}`}).must(t, 409).errCode(t); c != "payment_not_unknown" {
		t.Fatalf("resolve again: %s", c)
	}
	if st := str(s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid}).must(t, 200).json(t), "status"); st != "on-hold" {
		t.Fatalf("order after resolve: %s", st)
	}

	// Not at the gateway: failed, and the order may be paid again.
	oid2 := e.order(t, "CU-2", 1100, nil)
	e.sim.AddFault(sim.Fault{Op: escott.OpCvsAdd, Kind: sim.FaultReset, Times: 1})
	pid2 := str(errObj(t, s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid2 + "/collect"}).must(t, 202)), "payment_id")
	v = s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + pid2 + "/resolve", body: `{"outcome":"failed"}`}).must(t, 200).json(t)
	if str(v, "payment", "state") != "failed" || str(v, "state", "kind") != "failed" {
		t.Fatalf("resolved failed: %v", v)
	}
	if o := s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid2}).must(t, 200).json(t); o["status"] != "failed" || o["amount"] != 1100.0 {
		t.Fatalf("order after resolve failed: %v", o)
	}
	e.collect(t, s, oid2)
}

// testCollectionDispatch: the shared routes still serve card payments as
// before, and each engine's own routes refuse the other's payments.
func testCollectionDispatch(t *testing.T, s *spec, e *colEnv) {
	co := e.createOrder(t, "CD-1", nil)["id"].(string)
	tok, err := e.sim.IssueToken(sim.DemoMerchant.MerchantID, "test", approveCard, "3012", "", "")
	if err != nil {
		t.Fatal(err)
	}
	card := str(s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + co + "/pay", body: map[string]any{"token": tok}}).must(t, 200).json(t), "payment", "id")
	col := str(e.collect(t, s, e.order(t, "CD-2", 1000, nil)), "payment", "id")

	r := s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + card + "/reference"}).must(t, 200)
	if g, _ := r.json(t)["gateway"].(map[string]any); g == nil || g["paid"] != nil || g["amount"] != 1100.0 {
		t.Fatalf("card reference through the shared route: %s", r.body)
	}
	r = s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + col + "/reference"}).must(t, 200)
	if g, _ := r.json(t)["gateway"].(map[string]any); g == nil || g["paid"] != false {
		t.Fatalf("collection reference through the shared route: %s", r.body)
	}
	// Each body is the engine's own: free_area is a collection's.
	if f := str(errObj(t, s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + card + "/resolve",
		body: `{"outcome":"failed","free_area":"x"}`}).must(t, 400)), "field"); f != "free_area" {
		t.Fatalf("card resolve with free_area names %q", f)
	}
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + col + "/resolve", body: `{"outcome":"failed"}`}).must(t, 409).errCode(t); c != "payment_not_unknown" {
		t.Fatalf("resolve a pending collection: %s", c)
	}
	for _, q := range []req{
		{method: "POST", path: "/v1/payments/" + card + "/change_due", body: `{"amount":1000}`},
		{method: "GET", path: "/v1/payments/" + card + "/collection"},
	} {
		if c := s.do(t, e.env, q).must(t, 400).errCode(t); c != "not_a_collection" {
			t.Errorf("%s %s: %s", q.method, q.path, c)
		}
	}
	for _, q := range []req{
		{method: "GET", path: "/v1/payments/" + col + "/card"},
		{method: "POST", path: "/v1/payments/" + col + "/capture"},
		{method: "POST", path: "/v1/payments/" + col + "/change_amount", body: `{"amount":900}`},
	} {
		if c := s.do(t, e.env, q).must(t, 400).errCode(t); c != "not_a_card_payment" {
			t.Errorf("%s %s: %s", q.method, q.path, c)
		}
	}
	if v := s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + card + "/cancel"}).must(t, 200).json(t); str(v, "state", "kind") != "cancelled" {
		t.Fatalf("card cancel through the shared route: %v", v)
	}
}

// testCollectionsUnavailable: without a collection engine every collection
// route, and the shared routes for a collection payment, answer 503
// collections_unavailable, and such an answer is not stored.
func testCollectionsUnavailable(t *testing.T, s *spec, e *env) {
	oid := e.createOrder(t, "NC-1", nil)["id"].(string)
	for _, rt := range e.api.collectionRoutes() {
		p := strings.Replace(rt.pattern, "{id}", "x1", 1)
		if strings.HasPrefix(rt.pattern, "/v1/orders/") {
			p = strings.Replace(rt.pattern, "{id}", oid, 1)
		}
		r := s.do(t, e, req{method: rt.method, path: p, header: map[string]string{"Accept-Language": "en"}}).must(t, 503)
		eo := errObj(t, r)
		if eo["type"] != "unavailable" || eo["code"] != "collections_unavailable" || !strings.Contains(str(eo, "message"), "Convenience store") {
			t.Errorf("%s %s: %s", rt.method, p, r.body)
		}
	}
	now := e.clock.Now()
	pay := &kessai.Payment{ID: kessai.NewID("pay", now), ShopID: kessai.DefaultShopID, OrderID: oid, Method: kessai.MethodCollection,
		State: kessai.PaymentPending, Amount: 1100, Currency: "JPY", TransactionCode: "000482917366", Operation: escott.OpCvsAdd,
		PayLimit: "202501092359", CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreatePayment(context.Background(), pay); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"reference", "cancel", "resolve"} {
		if c := s.do(t, e, req{method: "POST", path: "/v1/payments/" + pay.ID + "/" + op, body: `{}`}).must(t, 503).errCode(t); c != "collections_unavailable" {
			t.Errorf("%s of a collection: %s", op, c)
		}
	}
	q := req{method: "POST", path: "/v1/orders/" + oid + "/collect", header: map[string]string{"Idempotency-Key": "nc"}}
	for range 2 {
		if r := s.do(t, e, q).must(t, 503); r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("503 replayed: %v", r.header)
		}
	}
}
