package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/testclock"
)

// The subscription and test-clock routes (subscriptions.go) over a real
// renewal engine, card payer, store and simulator, all reading one test
// clock, as cmd/kessai wires them. Like TestCardRoutes this is the
// OpenAPI check of its route table: every answer is validated against
// docs/openapi.yaml and every route must answer a success and an error.

// subEnv is the API with subscriptions and the test clock.
type subEnv struct {
	*cardEnv
	tc     *testclock.Clock
	engine *renewal.Engine
	// changes counts SettingsChanged calls.
	changes atomic.Int64
}

// newSubEnv starts kessai as cmd/kessai does for a demo: the service, the
// gateway clients and the simulator all on one testclock.Clock (over the
// tests' own clock), the renewal engine told of saved cards, the clock
// reset when the shop leaves the simulator. The shop is pro, on the
// simulator, 1Auth at checkout and 1Gathering for renewals.
func newSubEnv(t *testing.T, db testdb.Backend) *subEnv {
	t.Helper()
	ctx := context.Background()
	base := newClock()
	se := &subEnv{tc: testclock.New(base.Now)}
	e := &env{store: db.Open(t), clock: base, resender: &resender{}, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}, t: t}
	log := slog.New(slog.NewTextHandler(&lockedWriter{mu: e.logMu, w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.svc = service.New(service.Config{Store: e.store, Now: se.tc.Now, Logger: log,
		AfterEvent: func() { e.kicks.Add(1) }, Resender: e.resender, PasswordParams: testPasswordParams,
		SettingsChanged: func(_ string, s kessai.Settings) {
			se.changes.Add(1)
			if s.Environment != kessai.EnvSimulator {
				se.tc.Reset()
			}
		}})
	keys, err := e.svc.Bootstrap(ctx)
	if err != nil || keys == nil {
		t.Fatalf("bootstrap: %v %v", keys, err)
	}
	e.sk, e.pk = keys.SecretKey, keys.PublishableKey

	s, err := sim.New(sim.Config{Now: se.tc.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	simSrv := httptest.NewServer(s)
	t.Cleanup(simSrv.Close)
	gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, Now: se.tc.Now, Logger: log})
	var engine *renewal.Engine
	payer := cardpay.New(cardpay.Config{Service: e.svc, Gateways: gw, ReturnURL: "http://127.0.0.1/escott/notify", Logger: log,
		CardSaved: func(ctx context.Context, shop, customer string) { engine.CardChanged(ctx, shop, customer) }})
	engine = renewal.New(renewal.Config{Service: e.svc, Cards: payer, Logger: log})
	se.engine = engine
	e.api = newAPI(Config{Service: e.svc, Logger: log, Now: base.Now, PublicURL: "https://pay.example.jp/",
		Cards: payer, Subscriptions: engine, TestClock: se.tc})
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)

	se.cardEnv = &cardEnv{env: e, sim: s}
	d := sim.DemoMerchant
	se.settings(t, map[string]any{
		"environment": "simulator", "plan": "pro",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
			"operation": "1Auth", "subscription_operation": "1Gathering",
		},
	})
	return se
}

// firstOrder creates an order for customer and pays it by card with
// "recurring": true through the API, as a shop starts a subscription
// (SUB-02), and returns the order id.
func (e *subEnv) firstOrder(t *testing.T, s *spec, sid, customer string) string {
	t.Helper()
	o := e.createOrder(t, sid, map[string]any{"customer_id": customer, "amount": 1980,
		"items": []any{map[string]any{"name": "コーヒー定期便", "quantity": 1, "unit_amount": 1980}}})
	oid := o["id"].(string)
	r := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/pay",
		body: map[string]any{"token": e.token(t, approveCard), "card_prefix": "401200", "recurring": true}}).must(t, 200)
	if m := r.json(t); m["status"] != "succeeded" || str(m, "payment", "state") != "authorized" ||
		m["payment"].(map[string]any)["with_member"] != true {
		t.Fatalf("recurring checkout did not save the card: %s", r.body)
	}
	return oid
}

// monthly is the body creating a monthly subscription for customer.
func monthly(customer, initialOrder string) map[string]any {
	b := map[string]any{"customer_id": customer, "description": "コーヒー定期便", "amount": 1980,
		"interval": map[string]any{"unit": "month", "count": 1}, "metadata": map[string]any{"plan": "beans-200g"}}
	if initialOrder != "" {
		b["initial_order_id"] = initialOrder
	}
	return b
}

// fieldCodes lists "field:code" of a validation error answer.
func fieldCodes(t testing.TB, r *resp) []string {
	t.Helper()
	var out []string
	fe, _ := errObj(t, r)["errors"].([]any)
	for _, f := range fe {
		m := f.(map[string]any)
		out = append(out, fmt.Sprint(m["field"], ":", m["code"]))
	}
	return out
}

func TestSubscriptionRoutes(t *testing.T) {
	loadSpec(t) // the document itself, once
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		s := loadSpec(t) // a validator per backend: the subtests run in parallel
		t.Run("create", func(t *testing.T) { testSubscriptionCreate(t, s, newSubEnv(t, db)) })
		t.Run("list and get", func(t *testing.T) { testSubscriptionList(t, s, newSubEnv(t, db)) })
		t.Run("transitions", func(t *testing.T) { testSubscriptionTransitions(t, s, newSubEnv(t, db)) })
		t.Run("test clock", func(t *testing.T) { testTestClock(t, s, newSubEnv(t, db)) })
		t.Run("unavailable", func(t *testing.T) { testSubscriptionsUnavailable(t, s, newEnv(t, db)) })

		s.covers(t, (&API{}).subscriptionRoutes())
	})
}

// testSubscriptionCreate: the saved card is required; the recurring
// checkout saves it and, as initial order, counts as the first payment;
// the input checks name every field; idempotency.
func testSubscriptionCreate(t *testing.T, s *spec, e *subEnv) {
	en := map[string]string{"Accept-Language": "en"}
	// No saved card yet: 409 card_required.
	r := s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: monthly("cust_s1", ""), header: en}).must(t, 409)
	if eo := errObj(t, r); eo["code"] != "card_required" || !strings.Contains(str(eo, "message"), "saved card") {
		t.Fatalf("no card: %s", r.body)
	}

	// recurring is honoured by /pay: lump sum only.
	o := e.createOrder(t, "SUB-PT", map[string]any{"customer_id": "cust_s1"})
	r = s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + o["id"].(string) + "/pay",
		body: map[string]any{"token": e.token(t, approveCard), "pay_type": "03", "recurring": true}}).must(t, 400)
	if fc := fieldCodes(t, r); !slices.Contains(fc, "pay_type:pay_type_subscription") {
		t.Fatalf("installments with recurring: %v", fc)
	}

	oid := e.firstOrder(t, s, "SUB-1", "cust_s1")
	q := req{method: "POST", path: "/v1/subscriptions", body: monthly("cust_s1", oid), header: map[string]string{"Idempotency-Key": "sub-1"}}
	r = s.do(t, e.env, q).must(t, 201)
	m := r.json(t)
	id := str(m, "id")
	if !strings.HasPrefix(id, "sub_") || m["status"] != "active" || m["payments"] != 1.0 || m["period"] != 1.0 ||
		m["initial_order_id"] != oid || m["interval_unit"] != "month" || str(m, "metadata", "plan") != "beans-200g" ||
		r.header.Get("Location") != "/v1/subscriptions/"+id {
		t.Fatalf("create: %v %s", r.header, r.body)
	}
	first, _ := time.Parse(time.RFC3339, str(m, "first_billing_at"))
	end, _ := time.Parse(time.RFC3339, str(m, "current_period_end"))
	if d := end.Sub(first); d < 28*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("the paid period runs %v: %s", d, r.body)
	}
	if rr := s.do(t, e.env, q).must(t, 201); rr.header.Get("Idempotent-Replayed") != "true" || str(rr.json(t), "id") != id {
		t.Fatalf("replay: %v %s", rr.header, rr.body)
	}
	list := s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions?customer_id=cust_s1"}).must(t, 200).json(t)
	if n := len(list["data"].([]any)); n != 1 {
		t.Fatalf("%d subscriptions after a replayed create, want 1", n)
	}
	// The shop heard of it.
	evs := s.do(t, e.env, req{method: "GET", path: "/v1/events?limit=5"}).must(t, 200).json(t)
	found := false
	for _, ev := range evs["data"].([]any) {
		found = found || ev.(map[string]any)["type"] == kessai.EventSubscriptionCreated
	}
	if !found {
		t.Fatalf("no subscription.created: %v", evs)
	}

	// Another customer's order cannot be the initial one.
	s.do(t, e.env, req{method: "POST", path: "/v1/customers/cust_s2/card", body: map[string]any{"token": e.token(t, approveCard)}}).must(t, 200)
	r = s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: monthly("cust_s2", oid)}).must(t, 400)
	if eo := errObj(t, r); eo["code"] != "invalid_initial_order" || eo["field"] != "initial_order_id" {
		t.Fatalf("foreign initial order: %s", r.body)
	}
	// Without an initial order the engine charges the first period on its
	// first billing date: here a trial's end.
	now := e.svc.Now()
	trial := monthly("cust_s2", "")
	trial["trial_end"] = now.Add(14 * 24 * time.Hour).Format(time.RFC3339)
	m = s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: trial}).must(t, 201).json(t)
	if m["status"] != "active" || m["payments"] != 0.0 || m["trial_end"] == nil {
		t.Fatalf("trial: %v", m)
	}

	// Input checks: every problem at once, by field.
	create := func(body any) *resp {
		return s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: body, header: en})
	}
	for _, tc := range []struct {
		name string
		body any
		want []string
	}{
		{"empty object", `{}`, []string{"customer_id:required", "description:required", "amount:invalid_amount", "interval.unit:invalid_interval_unit"}},
		{"bad unit", merge(monthly("cust_s1", ""), "interval", map[string]any{"unit": "fortnight", "count": 1}),
			[]string{"interval.unit:invalid_interval_unit"}},
		{"count too big", merge(monthly("cust_s1", ""), "interval", map[string]any{"unit": "month", "count": 25}),
			[]string{"interval.count:invalid_interval_count"}},
		{"anchor on days", merge(monthly("cust_s1", ""), "interval", map[string]any{"unit": "day", "count": 10, "anchor_day": 5}),
			[]string{"interval.anchor_day:anchor_day_not_allowed"}},
		{"anchor out of range", merge(monthly("cust_s1", ""), "interval", map[string]any{"unit": "month", "count": 1, "anchor_day": 32}),
			[]string{"interval.anchor_day:invalid_anchor_day"}},
		{"end before start", merge(merge(monthly("cust_s1", ""), "start_at", now.Add(10*24*time.Hour).Format(time.RFC3339)),
			"end_at", now.Add(5*24*time.Hour).Format(time.RFC3339)), []string{"end_at:end_before_first_billing"}},
		{"trial before start", merge(merge(monthly("cust_s1", ""), "start_at", now.Add(10*24*time.Hour).Format(time.RFC3339)),
			"trial_end", now.Add(5*24*time.Hour).Format(time.RFC3339)), []string{"trial_end:trial_end_before_start"}},
		{"start in the past", merge(monthly("cust_s1", ""), "start_at", now.Add(-24*time.Hour).Format(time.RFC3339)),
			[]string{"start_at:start_in_past"}},
		{"payment limit", merge(monthly("cust_s1", ""), "max_payments", 10000), []string{"max_payments:invalid_max_payments"}},
		{"bad customer", merge(monthly("cust s1", ""), "amount", 0), []string{"customer_id:invalid_customer_id", "amount:invalid_amount"}},
		{"bad times", merge(merge(monthly("cust_s1", ""), "start_at", "tomorrow"), "trial_end", 5),
			[]string{"start_at:invalid_time", "trial_end:invalid_type"}},
		{"bad time and unknown field", merge(merge(monthly("cust_s1", ""), "end_at", "2026-13-01T00:00:00Z"), "plan", "gold"),
			[]string{"plan:unknown_field", "end_at:invalid_time"}},
		{"wrong types", merge(merge(monthly("cust_s1", ""), "interval", map[string]any{"unit": "month", "count": "1"}), "virtual", "yes"),
			[]string{"interval.count:invalid_type", "virtual:invalid_type"}},
	} {
		r := create(tc.body).must(t, 400)
		eo := errObj(t, r)
		got := fieldCodes(t, r)
		if eo["code"] != "validation_failed" || eo["type"] != "invalid" {
			t.Errorf("%s: %s", tc.name, r.body)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: want %s in %v", tc.name, w, got)
			}
		}
	}
	for body, code := range map[string]string{`{"customer_id":`: "invalid_json", `[1]`: "invalid_body", ``: "body_required", `{} {}`: "invalid_json"} {
		if c := create(body).must(t, 400).errCode(t); c != code {
			t.Errorf("%q: %s, want %s", body, c, code)
		}
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: monthly("cust_s1", oid), key: e.pk}).must(t, 403)
	s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: `{}`, header: map[string]string{"Content-Type": "text/plain"}}).must(t, 415)

	// The light plan has no subscriptions.
	e.settings(t, map[string]any{"plan": "light"})
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: monthly("cust_s1", "")}).must(t, 403).errCode(t); c != "light_plan" {
		t.Fatalf("light plan: %s", c)
	}
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions/" + id + "/pause"}).must(t, 403).errCode(t); c != "light_plan" {
		t.Fatalf("light plan pause: %s", c)
	}
}

// merge returns a copy of m with k set to v.
func merge(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// testSubscriptionList: filters, paging, the subscription with its
// renewals, and path ids.
func testSubscriptionList(t *testing.T, s *spec, e *subEnv) {
	var ids []string
	for i, cust := range []string{"cust_l1", "cust_l1", "cust_l2"} {
		oid := e.firstOrder(t, s, fmt.Sprintf("SUB-L%d", i), cust)
		ids = append(ids, str(s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: monthly(cust, oid)}).must(t, 201).json(t), "id"))
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions/" + ids[0] + "/cancel"}).must(t, 200)

	page1 := s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions?limit=2"}).must(t, 200).json(t)
	data := page1["data"].([]any)
	if len(data) != 2 || page1["has_more"] != true || str(data[0].(map[string]any), "id") != ids[2] || page1["next_cursor"] != ids[1] {
		t.Fatalf("page 1: %v", page1)
	}
	page2 := s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions?limit=2&starting_after=" + ids[1]}).must(t, 200).json(t)
	if data := page2["data"].([]any); len(data) != 1 || page2["has_more"] != false || page2["next_cursor"] != nil ||
		str(data[0].(map[string]any), "id") != ids[0] {
		t.Fatalf("page 2: %v", page2)
	}
	for q, want := range map[string]int{
		"status=active": 2, "status=cancelled": 1, "customer_id=cust_l1": 2, "customer_id=cust_l1&status=active": 1,
		"customer_id=nobody": 0, "status=on_hold": 0,
	} {
		if n := len(s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions?" + q}).must(t, 200).json(t)["data"].([]any)); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
	for q, field := range map[string]string{
		"status=paused": "status", "limit=0": "limit", "limit=101": "limit", "starting_after=ord_x": "starting_after",
		"customer_id=a%20b": "customer_id", "stauts=active": "stauts", "status=active&status=cancelled": "status",
	} {
		if f := str(errObj(t, s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions?" + q}).must(t, 400)), "field"); f != field {
			t.Errorf("%s names %q, want %q", q, f, field)
		}
	}

	d := s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions/" + ids[2]}).must(t, 200).json(t)
	if rs, ok := d["renewals"].([]any); !ok || len(rs) != 0 || d["customer_id"] != "cust_l2" {
		t.Fatalf("get: %v", d)
	}
	if d := s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions/" + ids[0]}).must(t, 200).json(t); d["status"] != "cancelled" ||
		d["current_period_end"] != nil {
		t.Fatalf("cancelled: %v", d)
	}
	for _, p := range []string{"sub_missing", strings.Repeat("s", 65)} {
		if c := s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions/" + p}).must(t, 404).errCode(t); c != "subscription_not_found" {
			t.Errorf("%s: %s", p, c)
		}
	}
	s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions/" + ids[2] + "?expand=renewals"}).must(t, 400)
	s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions", key: e.pk}).must(t, 403)
	if r := e.do(t, req{method: "DELETE", path: "/v1/subscriptions/" + ids[2]}).must(t, 405); r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("405 Allow: %v", r.header)
	}
}

// testSubscriptionTransitions: pause and resume, cancel at the period's
// end and its withdrawal, cancel now; each refused where the status does
// not allow it, with the rules' codes.
func testSubscriptionTransitions(t *testing.T, s *spec, e *subEnv) {
	oid := e.firstOrder(t, s, "SUB-T1", "cust_t1")
	id := str(s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: monthly("cust_t1", oid)}).must(t, 201).json(t), "id")
	base := "/v1/subscriptions/" + id
	act := func(op string, body any, want int) map[string]any {
		t.Helper()
		return s.do(t, e.env, req{method: "POST", path: base + "/" + op, body: body}).must(t, want).json(t)
	}
	code := func(m map[string]any) string { return str(m, "error", "code") }

	if m := act("pause", nil, 200); m["status"] != "on_hold" || m["hold_reason"] != "paused" || m["next_attempt_at"] != nil {
		t.Fatalf("pause: %v", m)
	}
	if c := code(act("pause", `{}`, 409)); c != "subscription_on_hold" {
		t.Fatalf("pause twice: %s", c)
	}
	if m := act("resume", nil, 200); m["status"] != "active" || m["hold_reason"] != nil {
		t.Fatalf("resume: %v", m)
	}
	if c := code(act("resume", nil, 409)); c != "subscription_not_on_hold" {
		t.Fatalf("resume twice: %s", c)
	}
	if c := code(act("keep", nil, 409)); c != "cancel_not_scheduled" {
		t.Fatalf("keep without a scheduled cancel: %s", c)
	}
	if m := act("cancel", map[string]any{"at_period_end": true}, 200); m["status"] != "active" || m["cancel_at_period_end"] != true {
		t.Fatalf("cancel at period end: %v", m)
	}
	if c := code(act("cancel", `{"at_period_end":true}`, 409)); c != "cancel_already_scheduled" {
		t.Fatalf("schedule twice: %s", c)
	}
	if m := act("keep", `{}`, 200); m["status"] != "active" || m["cancel_at_period_end"] != false {
		t.Fatalf("keep: %v", m)
	}
	// Input checks before the engine.
	for _, tc := range []struct{ op, body, field, code string }{
		{"cancel", `{"at_period_end":"yes"}`, "at_period_end", "invalid_type"},
		{"cancel", `{"now":true}`, "now", "unknown_field"},
		{"pause", `{"until":"2026-05-01"}`, "until", "unknown_field"},
	} {
		r := s.do(t, e.env, req{method: "POST", path: base + "/" + tc.op, body: tc.body}).must(t, 400)
		if fc := fieldCodes(t, r); !slices.Contains(fc, tc.field+":"+tc.code) {
			t.Errorf("%s %s: %v", tc.op, tc.body, fc)
		}
	}
	q := req{method: "POST", path: base + "/cancel", header: map[string]string{"Idempotency-Key": "cancel-1"}}
	r := s.do(t, e.env, q).must(t, 200)
	if m := r.json(t); m["status"] != "cancelled" || m["next_attempt_at"] != nil {
		t.Fatalf("cancel: %s", r.body)
	}
	if rr := s.do(t, e.env, q).must(t, 200); rr.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(rr.body, r.body) {
		t.Fatalf("cancel replay: %v", rr.header)
	}
	for _, op := range []string{"pause", "resume", "cancel", "keep"} {
		if c := code(act(op, nil, 409)); c != "subscription_cancelled" {
			t.Errorf("%s after cancel: %s", op, c)
		}
	}
	for _, op := range []string{"pause", "resume", "cancel", "keep"} {
		if c := s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions/sub_missing/" + op}).must(t, 404).errCode(t); c != "subscription_not_found" {
			t.Errorf("%s of a missing subscription: %s", op, c)
		}
	}
}

// testTestClock: reading, advancing (a renewal is charged at the
// simulator, which moved too), the input checks, reset, and the refusals
// outside the simulator — including the reset when the shop leaves it.
func testTestClock(t *testing.T, s *spec, e *subEnv) {
	en := map[string]string{"Accept-Language": "en"}
	c := s.do(t, e.env, req{method: "GET", path: "/v1/test_clock"}).must(t, 200).json(t)
	if c["offset_seconds"] != 0.0 || str(c, "now") == "" {
		t.Fatalf("clock: %v", c)
	}
	oid := e.firstOrder(t, s, "SUB-C1", "cust_c1")
	sub := s.do(t, e.env, req{method: "POST", path: "/v1/subscriptions", body: monthly("cust_c1", oid)}).must(t, 201).json(t)
	id := str(sub, "id")
	periodEnd, err := time.Parse(time.RFC3339, str(sub, "current_period_end"))
	if err != nil {
		t.Fatal(err)
	}

	// A day: nothing is due.
	m := s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/advance", body: `{"seconds":86400}`}).must(t, 200).json(t)
	if m["offset_seconds"] != 86400.0 || m["renewals_woken"] != 0.0 || m["wake_error"] != nil {
		t.Fatalf("a day: %v", m)
	}
	if d := e.sim.Now().Sub(e.clock.Now()); d < 86399*time.Second || d > 86401*time.Second {
		t.Fatalf("the simulator is %v ahead, want a day", d)
	}
	// To the end of the paid period: the renewal is charged.
	adv := req{method: "POST", path: "/v1/test_clock/advance", header: map[string]string{"Idempotency-Key": "adv-1"},
		body: map[string]any{"to": periodEnd.Add(time.Minute).Format(time.RFC3339)}}
	r := s.do(t, e.env, adv).must(t, 200)
	m = r.json(t)
	now, _ := time.Parse(time.RFC3339, str(m, "now"))
	if m["renewals_woken"] != 1.0 || now.Before(periodEnd) {
		t.Fatalf("advance to the renewal: %s", r.body)
	}
	// A retry does not move the clock again. The key is remembered for
	// 24 hours of the shop's clock, which this advance has passed, so
	// the request runs again: "to" is what makes that harmless.
	offset := func() any {
		return s.do(t, e.env, req{method: "GET", path: "/v1/test_clock"}).must(t, 200).json(t)["offset_seconds"]
	}
	if c := s.do(t, e.env, adv).must(t, 400); !slices.Contains(fieldCodes(t, c), "to:to_not_future") || offset() != m["offset_seconds"] {
		t.Fatalf("advance retried: %s", c.body)
	}
	// Within a day the key replays the answer.
	short := req{method: "POST", path: "/v1/test_clock/advance", body: `{"seconds":60}`, header: map[string]string{"Idempotency-Key": "adv-2"}}
	m1 := s.do(t, e.env, short).must(t, 200).json(t)
	if rr := s.do(t, e.env, short).must(t, 200); rr.header.Get("Idempotent-Replayed") != "true" || offset() != m1["offset_seconds"] {
		t.Fatalf("advance replay: %v %s", rr.header, rr.body)
	}
	d := s.do(t, e.env, req{method: "GET", path: "/v1/subscriptions/" + id}).must(t, 200).json(t)
	rs := d["renewals"].([]any)
	if d["status"] != "active" || d["payments"] != 2.0 || d["period"] != 2.0 || len(rs) != 1 {
		t.Fatalf("after the renewal: %v", d)
	}
	ren := rs[0].(map[string]any)
	if ren["status"] != "succeeded" || ren["period"] != 1.0 || ren["attempts"] != 1.0 {
		t.Fatalf("renewal: %v", ren)
	}
	// The simulator charged the renewal order with the saved card and
	// 定期購入処理区分 (1Gathering), after the checkout's 1Auth (SUB-03).
	ops := map[string]escott.OperateID{}
	for _, tx := range e.sim.Transactions(sim.DemoMerchant.MerchantID, "test") {
		if tx.KaiinID == "" {
			t.Errorf("a charge without the saved card: %+v", tx)
		}
		ops[tx.MerchantFree2] = tx.OriginalOp
	}
	if ops[oid] != escott.OpAuth || ops[str(ren, "order_id")] != escott.OpGathering {
		t.Fatalf("gateway operations: %v (initial %s, renewal %s)", ops, oid, str(ren, "order_id"))
	}
	order := s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + str(ren, "order_id")}).must(t, 200).json(t)
	if order["status"] != "processing" || order["customer_id"] != "cust_c1" || order["amount"] != 1980.0 {
		t.Fatalf("renewal order: %v", order)
	}

	// Input checks.
	for _, tc := range []struct {
		body  any
		field string
		code  string
	}{
		{`{}`, "seconds", "required"},
		{`{"seconds":0}`, "seconds", "invalid_seconds"},
		{`{"seconds":-60}`, "seconds", "invalid_seconds"},
		{`{"seconds":157680001}`, "seconds", "invalid_seconds"},
		{`{"seconds":1.5}`, "seconds", "invalid_type"},
		{`{"seconds":"60"}`, "seconds", "invalid_type"},
		{`{"seconds":60,"to":"2099-01-01T00:00:00Z"}`, "to", "seconds_and_to"},
		{`{"to":"next month"}`, "to", "invalid_time"},
		{`{"to":"2020-01-01T00:00:00Z"}`, "to", "to_not_future"},
		{`{"to":"2199-01-01T00:00:00Z"}`, "to", "to_too_far"},
		{`{"days":30}`, "days", "unknown_field"},
	} {
		r := s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/advance", body: tc.body, header: en}).must(t, 400)
		if fc := fieldCodes(t, r); !slices.Contains(fc, tc.field+":"+tc.code) {
			t.Errorf("%v: %v", tc.body, fc)
		}
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/advance"}).must(t, 400)
	s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/reset", body: `{"to":"now"}`}).must(t, 400)
	s.do(t, e.env, req{method: "GET", path: "/v1/test_clock?now=1"}).must(t, 400)

	// Reset: back to real time; the future made meanwhile stays.
	if m := s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/reset"}).must(t, 200).json(t); m["offset_seconds"] != 0.0 {
		t.Fatalf("reset: %v", m)
	}
	if d := e.sim.Now().Sub(e.clock.Now()); d < -time.Second || d > time.Second {
		t.Fatalf("the simulator is %v off after the reset", d)
	}

	// Outside the simulator the clock does not move; leaving the
	// simulator resets it (service.Config.SettingsChanged).
	s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/advance", body: `{"seconds":3600}`}).must(t, 200)
	before := e.changes.Load()
	s.do(t, e.env, req{method: "PATCH", path: "/v1/settings", body: map[string]any{"settings": map[string]any{"environment": "test"}}}).must(t, 200)
	if e.changes.Load() != before+1 || e.tc.Offset() != 0 {
		t.Fatalf("leaving the simulator: %d changes, offset %v", e.changes.Load()-before, e.tc.Offset())
	}
	r = s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/advance", body: `{"seconds":3600}`, header: en}).must(t, 403)
	if eo := errObj(t, r); eo["code"] != "test_clock_simulator_only" || !strings.Contains(str(eo, "message"), "simulator") {
		t.Fatalf("test environment: %s", r.body)
	}
	s.do(t, e.env, req{method: "PATCH", path: "/v1/settings", body: map[string]any{"settings": map[string]any{"environment": "production"}}}).must(t, 200)
	r = s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/advance", body: `{"seconds":3600}`}).must(t, 403)
	if eo := errObj(t, r); eo["code"] != "test_clock_production" || str(eo, "message") != "本番環境のショップではテストクロックを進められません。" {
		t.Fatalf("production: %s", r.body)
	}
	// Reading and resetting stay possible: they never move the clock ahead.
	s.do(t, e.env, req{method: "GET", path: "/v1/test_clock"}).must(t, 200)
	s.do(t, e.env, req{method: "POST", path: "/v1/test_clock/reset", body: `{}`}).must(t, 200)
	if e.tc.Offset() != 0 {
		t.Fatalf("production with an offset of %v", e.tc.Offset())
	}
}

// testSubscriptionsUnavailable: without an engine the subscription routes
// answer 503 subscriptions_unavailable (not stored under an
// Idempotency-Key), and without a clock the test-clock routes 404.
func testSubscriptionsUnavailable(t *testing.T, s *spec, e *env) {
	for _, rt := range e.api.subscriptionRoutes() {
		p := strings.Replace(rt.pattern, "{id}", "sub_x", 1)
		r := s.do(t, e, req{method: rt.method, path: p, header: map[string]string{"Accept-Language": "en"}})
		eo := errObj(t, r)
		if strings.HasPrefix(rt.pattern, "/v1/test_clock") {
			if r.status != 404 || eo["code"] != "test_clock_unavailable" {
				t.Errorf("%s %s: %d %s", rt.method, p, r.status, r.body)
			}
			continue
		}
		if r.status != 503 || eo["type"] != "unavailable" || eo["code"] != "subscriptions_unavailable" || !strings.Contains(str(eo, "message"), "Subscriptions") {
			t.Errorf("%s %s: %d %s", rt.method, p, r.status, r.body)
		}
	}
	q := req{method: "POST", path: "/v1/subscriptions", body: `{}`, header: map[string]string{"Idempotency-Key": "ns"}}
	for range 2 {
		if r := s.do(t, e, q).must(t, 503); r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("503 replayed: %v", r.header)
		}
	}
}

// TestEventTypesDocumented: every event type the code can send is in the
// OpenAPI Event enum and in docs/webhooks.md, so a new one cannot ship
// undocumented.
func TestEventTypesDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n    Event:\n")
	end := strings.Index(doc[start+1:], "\n    WebhookEndpointInput:")
	if start < 0 || end < 0 {
		t.Fatal("no Event schema in docs/openapi.yaml")
	}
	enum := doc[start : start+1+end]
	wh, err := os.ReadFile("../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range kessai.EventTypes {
		if !strings.Contains(enum, "- "+typ+"\n") {
			t.Errorf("%s is not in the Event enum of docs/openapi.yaml", typ)
		}
		if !strings.Contains(string(wh), "| `"+typ+"` |") {
			t.Errorf("%s is not in the event table of docs/webhooks.md", typ)
		}
	}
}
