package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

// The card routes (cards.go) over a real cardpay.Payer, a real store and
// the in-process gateway simulator. These tests cover the API layer —
// routing, decoding, path ids, error rendering, idempotency — not the
// payment rules, which are cardpay's and card's.
//
// TestCardRoutes is also the OpenAPI check of cardRoutes: every answer is
// validated against docs/openapi.yaml, and every card route must have been
// answered with a success and an error (TestOpenAPI does the same for
// routeTable, with a server that has no card engine).

// approveCard and declineCard are simulator test cards (sim.TestCards).
const (
	approveCard = "4012000000000008"
	declineCard = "4000000000000127" // G12: card cannot be used
)

// cardEnv is the API with a card engine over its own simulator.
type cardEnv struct {
	*env
	sim *sim.Server
}

// newCardEnv starts the API with cards enabled for the simulator's demo
// merchant (as cmd/kessai's useDemoMerchant does), then applies patch.
func newCardEnv(t *testing.T, db testdb.Backend, patch map[string]any) *cardEnv {
	t.Helper()
	s, err := sim.New(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	simSrv := httptest.NewServer(s)
	t.Cleanup(simSrv.Close)
	e := newEnv(t, db, func(cfg *Config) {
		gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, Logger: cfg.Logger})
		cfg.Cards = cardpay.New(cardpay.Config{Service: cfg.Service, Gateways: gw,
			ReturnURL: "http://127.0.0.1/escott/notify", Logger: cfg.Logger})
		pages := hosted.New(hosted.Config{Service: cfg.Service, Cards: cfg.Cards, PublicURL: "https://pay.example.jp",
			SimulatorURL: simSrv.URL, Logger: cfg.Logger})
		cfg.MyCardsLink = pages.MyCardsLink
	})
	ce := &cardEnv{env: e, sim: s}
	d := sim.DemoMerchant
	ce.settings(t, map[string]any{
		"environment": "simulator",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
		},
	})
	if patch != nil {
		ce.settings(t, patch)
	}
	return ce
}

// settings applies a settings merge patch.
func (e *cardEnv) settings(t testing.TB, patch map[string]any) {
	t.Helper()
	b, err := json.Marshal(patch)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.UpdateSettings(context.Background(), kessai.DefaultShopID, b, service.AnyVersion); err != nil {
		t.Fatalf("settings %s: %v", b, err)
	}
}

// token issues a card token as the gateway's script would.
func (e *cardEnv) token(t testing.TB, number string) string {
	t.Helper()
	tok, err := e.sim.IssueToken(sim.DemoMerchant.MerchantID, "test", number, "3012", "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// errObj returns the error object of an error answer.
func errObj(t testing.TB, r *resp) map[string]any {
	t.Helper()
	m, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.body)
	}
	return m
}

// str reads a string at a path of nested objects.
func str(m map[string]any, path ...string) string {
	var v any = m
	for _, k := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = o[k]
	}
	s, _ := v.(string)
	return s
}

// spec validates answers against docs/openapi.yaml and records which
// routes answered a success and an error.
type spec struct {
	doc  libopenapi.Document
	v    validator.Validator
	mu   sync.Mutex
	seen map[string]map[string]bool // "METHOD pattern" → "2xx"/"4xx"/"5xx"
}

func loadSpec(t testing.TB) *spec {
	t.Helper()
	b, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
		}
		t.FailNow()
	}
	return &spec{doc: doc, v: v, seen: map[string]map[string]bool{}}
}

// do sends q to e, validates the answer and records the route.
func (s *spec) do(t testing.TB, e *env, q req) *resp {
	t.Helper()
	r, res := e.doRaw(t, q)
	_, pattern := e.api.mux.Handler(r)
	hr := &http.Response{StatusCode: res.status, Header: res.header, Body: io.NopCloser(bytes.NewReader(res.body)), Request: r}
	s.mu.Lock()
	if s.seen[pattern] == nil {
		s.seen[pattern] = map[string]bool{}
	}
	s.seen[pattern][fmt.Sprintf("%dxx", res.status/100)] = true
	ok, verrs := s.v.ValidateHttpResponse(r, hr)
	s.mu.Unlock()
	if !ok {
		for _, ve := range verrs {
			detail := ""
			for _, se := range ve.SchemaValidationErrors {
				detail += fmt.Sprintf("\n    %s at %s", se.Reason, se.FieldPath)
			}
			t.Errorf("%s %s → %d: %s: %s%s\n  body: %s", q.method, q.path, res.status, ve.Message, ve.Reason, detail, res.body)
		}
	}
	return res
}

func TestCardRoutes(t *testing.T) {
	loadSpec(t) // the document itself, once
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		s := loadSpec(t) // a validator per backend: the subtests run in parallel
		t.Run("pay", func(t *testing.T) { testCardPay(t, s, newCardEnv(t, db, nil)) })
		t.Run("unknown", func(t *testing.T) { testCardUnknown(t, s, newCardEnv(t, db, nil)) })
		t.Run("operations", func(t *testing.T) {
			testCardOperations(t, s, newCardEnv(t, db, map[string]any{"card": map[string]any{"operation": "1Auth"}}))
		})
		t.Run("saved cards", func(t *testing.T) { testSavedCards(t, s, newCardEnv(t, db, nil)) })
		t.Run("card link", func(t *testing.T) { testCardLink(t, s, newCardEnv(t, db, nil)) })
		t.Run("unavailable", func(t *testing.T) { testCardsUnavailable(t, s, newEnv(t, db)) })

		s.covers(t, (&API{}).cardRoutes())
	})
}

// testCardPay: a token payment, a decline and its idempotent replay, and
// the input checks.
func testCardPay(t *testing.T, s *spec, e *cardEnv) {
	o := e.createOrder(t, "CP-1", nil)
	oid := o["id"].(string)
	r := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/pay", header: map[string]string{"Idempotency-Key": "pay-1"},
		body: map[string]any{"token": e.token(t, approveCard), "card_prefix": "401200"}}).must(t, 200)
	m := r.json(t)
	if m["status"] != "succeeded" || str(m, "order", "status") != "processing" || str(m, "payment", "state") != "captured" ||
		str(m, "order", "checkout_url") == "" || m["next_action"] != nil {
		t.Fatalf("pay: %s", r.body)
	}
	pid := str(m, "payment", "id")
	v := s.do(t, e.env, req{method: "GET", path: "/v1/payments/" + pid + "/card"}).must(t, 200).json(t)
	if str(v, "state", "kind") != "captured" || fmt.Sprint(v["operations"]) != "[1Delete 1Change]" {
		t.Fatalf("card view: %v", v)
	}
	// Paid: a second checkout is a conflict, and so is a replay of the
	// first one's key with another body.
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/pay",
		body: map[string]any{"token": e.token(t, approveCard)}}).must(t, 409).errCode(t); c != "order_not_payable" {
		t.Fatalf("second pay: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/pay", header: map[string]string{"Idempotency-Key": "pay-1"},
		body: map[string]any{"token": "other"}}).must(t, 422)

	// A decline: 402 with the shopper's message and the records' fields;
	// the replay gives the same answer and charges nothing more.
	o2 := e.createOrder(t, "CP-2", nil)
	oid2 := o2["id"].(string)
	decl := req{method: "POST", path: "/v1/orders/" + oid2 + "/pay", header: map[string]string{"Idempotency-Key": "pay-2"},
		body: map[string]any{"token": e.token(t, declineCard)}}
	r = s.do(t, e.env, decl).must(t, 402)
	eo := errObj(t, r)
	codes, _ := eo["gateway_codes"].([]any)
	if eo["type"] != "declined" || eo["code"] != "payment_failed" || eo["order_id"] != oid2 ||
		!strings.HasPrefix(str(eo, "payment_id"), "pay_") || len(codes) != 1 || codes[0] != "G12" {
		t.Fatalf("decline: %s", r.body)
	}
	if msg := str(eo, "message"); msg == "" || strings.Contains(msg, "G12") {
		t.Fatalf("the shopper's message must not show gateway codes: %q", msg)
	}
	rr := s.do(t, e.env, decl).must(t, 402)
	if rr.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(rr.body, r.body) {
		t.Fatalf("replay: %v\n%s\n%s", rr.header, rr.body, r.body)
	}
	ps := s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid2 + "/payments"}).must(t, 200).json(t)
	if n := len(ps["data"].([]any)); n != 1 {
		t.Fatalf("%d payments after a replayed decline, want 1", n)
	}
	if st := str(s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid2}).must(t, 200).json(t), "status"); st != "failed" {
		t.Fatalf("declined order: %s", st)
	}

	// Input checks (the failed order may be paid again, CARD-17).
	en := map[string]string{"Accept-Language": "en"}
	pay := func(body any, h map[string]string) *resp {
		return s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid2 + "/pay", body: body, header: h})
	}
	for _, tc := range []struct {
		name        string
		body        any
		field, code string
	}{
		{"no body", nil, "token", "required"},
		{"no token", `{}`, "token", "required"},
		{"card number as prefix", map[string]any{"token": "tok", "card_prefix": approveCard}, "card_prefix", "invalid_card_prefix"},
		{"unknown field", map[string]any{"token": "tok", "card_number": approveCard}, "card_number", "unknown_field"},
		{"recurring not a boolean", map[string]any{"token": "tok", "recurring": "yes"}, "recurring", "invalid_type"},
		{"wrong type", map[string]any{"token": 5}, "token", "invalid_type"},
	} {
		r := pay(tc.body, en).must(t, 400)
		eo := errObj(t, r)
		fe, _ := eo["errors"].([]any)
		if eo["code"] != "validation_failed" || eo["field"] != tc.field || len(fe) == 0 || fe[0].(map[string]any)["code"] != tc.code {
			t.Errorf("%s: %s", tc.name, r.body)
		}
		if eo["gateway_codes"] != nil || eo["payment_id"] != nil {
			t.Errorf("%s: card failure fields on a validation error: %s", tc.name, r.body)
		}
	}
	if c := pay(`{"token":`, nil).must(t, 400).errCode(t); c != "invalid_json" {
		t.Errorf("malformed: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/orders/ord_missing/pay", body: `{"token":"x"}`}).must(t, 404)
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + strings.Repeat("x", 65) + "/pay"}).must(t, 404).errCode(t); c != "order_not_found" {
		t.Errorf("implausible id: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid2 + "/pay", key: e.pk, body: `{}`}).must(t, 403)
	if r := e.do(t, req{method: "GET", path: "/v1/orders/" + oid2 + "/pay"}).must(t, 405); r.header.Get("Allow") != "POST" { // not an operation: not validated
		t.Errorf("405 Allow: %v", r.header)
	}
	// And now it goes through.
	s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid2 + "/pay", body: map[string]any{"token": e.token(t, approveCard)}}).must(t, 200)
}

// testCardUnknown: a lost answer is 202 with the payment, replayed as
// stored, blocks the order, and is settled by /resolve.
func testCardUnknown(t *testing.T, s *spec, e *cardEnv) {
	o := e.createOrder(t, "CU-1", nil)
	oid := o["id"].(string)
	e.sim.AddFault(sim.Fault{Op: escott.OpGathering, Kind: sim.FaultReset, After: true, Times: 1})
	q := req{method: "POST", path: "/v1/orders/" + oid + "/pay", header: map[string]string{"Idempotency-Key": "pay-u"},
		body: map[string]any{"token": e.token(t, approveCard)}}
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
	// Paying again is refused while the outcome is unknown; so are
	// operations.
	if c := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/pay",
		body: map[string]any{"token": e.token(t, approveCard)}}).must(t, 409).errCode(t); c != "payment_unknown" {
		t.Fatalf("pay while unknown: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/payments/" + pid + "/cancel"}).must(t, 409)

	// Resolve with the transaction the gateway did make.
	path := "/v1/payments/" + pid + "/resolve"
	s.do(t, e.env, req{method: "POST", path: path}).must(t, 400)
	s.do(t, e.env, req{method: "POST", path: path, body: `{"outcome":"maybe"}`}).must(t, 400)
	s.do(t, e.env, req{method: "POST", path: path, body: map[string]any{"outcome": "succeeded", "process_id": "nope", "process_pass": "nope"}}).must(t, 400)
	var tx *sim.TransactionView
	for _, x := range e.sim.Transactions(sim.DemoMerchant.MerchantID, "test") {
		if x.MerchantFree2 == oid {
			tx = &x
		}
	}
	if tx == nil {
		t.Fatal("the simulator has no transaction of the order")
	}
	v := s.do(t, e.env, req{method: "POST", path: path, header: map[string]string{"Idempotency-Key": "resolve-1"},
		body: map[string]any{"outcome": "succeeded", "process_id": tx.ProcessID, "process_pass": tx.ProcessPass}}).must(t, 200).json(t)
	if str(v, "payment", "state") != "captured" || str(v, "state", "kind") != "captured" {
		t.Fatalf("resolved: %v", v)
	}
	if c := s.do(t, e.env, req{method: "POST", path: path, body: `{"outcome":"failed"}`}).must(t, 409).errCode(t); c != "payment_not_unknown" {
		t.Fatalf("resolve again: %s", c)
	}
	if st := str(s.do(t, e.env, req{method: "GET", path: "/v1/orders/" + oid}).must(t, 200).json(t), "status"); st != "processing" {
		t.Fatalf("order after resolve: %s", st)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/payments/pay_missing/resolve", body: `{"outcome":"failed"}`}).must(t, 404)
}

// testCardOperations: capture, amount change, re-auth, cancel and
// reference on an authorised payment (shop set to 1Auth), their input
// checks and refusals, and the light plan.
func testCardOperations(t *testing.T, s *spec, e *cardEnv) {
	o := e.createOrder(t, "CO-1", nil)
	m := s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + o["id"].(string) + "/pay",
		body: map[string]any{"token": e.token(t, approveCard)}}).must(t, 200).json(t)
	pid := str(m, "payment", "id")
	if str(m, "payment", "state") != "authorized" {
		t.Fatalf("1Auth pay: %v", m)
	}
	base := "/v1/payments/" + pid
	state := func(r *resp) string { return str(r.json(t), "state", "kind") }

	for _, tc := range []struct {
		op, body, code, field string
	}{
		{"change_amount", "", "body_required", ""},
		{"change_amount", `{}`, "validation_failed", "amount"},
		{"change_amount", `{"amount":"900"}`, "validation_failed", "amount"},
		{"reauthorize", `{"amount":0}`, "invalid_amount", "amount"},
		{"reauthorize", `{"amount":10000000}`, "amount_too_large", "amount"},
		{"capture", `{"amount":1}`, "validation_failed", "amount"}, // capture takes no amount
	} {
		r := s.do(t, e.env, req{method: "POST", path: base + "/" + tc.op, body: tc.body}).must(t, 400)
		if eo := errObj(t, r); eo["code"] != tc.code || str(eo, "field") != tc.field {
			t.Errorf("%s %s: %s", tc.op, tc.body, r.body)
		}
	}

	r := s.do(t, e.env, req{method: "POST", path: base + "/change_amount", body: `{"amount":900}`}).must(t, 200)
	if v := r.json(t); state(r) != "authorized" || str(v, "payment", "state") != "authorized" || v["state"].(map[string]any)["amount"] != 900.0 {
		t.Fatalf("change: %s", r.body)
	}
	if v := s.do(t, e.env, req{method: "POST", path: base + "/change_amount", body: `{"amount":900}`}).must(t, 200).json(t); v["noop"] != true {
		t.Fatalf("same amount: %v", v)
	}
	r = s.do(t, e.env, req{method: "POST", path: base + "/reauthorize", body: `{"amount":800}`}).must(t, 200)
	if state(r) != "authorized" || r.json(t)["state"].(map[string]any)["reauthorized"] != true {
		t.Fatalf("reauth: %s", r.body)
	}
	capt := req{method: "POST", path: base + "/capture", header: map[string]string{"Idempotency-Key": "cap-1"}}
	r = s.do(t, e.env, capt).must(t, 200)
	if state(r) != "captured" || str(r.json(t), "payment", "state") != "captured" {
		t.Fatalf("capture: %s", r.body)
	}
	if rr := s.do(t, e.env, capt).must(t, 200); rr.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("capture not replayed")
	}
	if c := s.do(t, e.env, req{method: "POST", path: base + "/capture", body: `{}`}).must(t, 409).errCode(t); c != "operation_not_allowed" {
		t.Fatalf("capture twice: %s", c)
	}
	s.do(t, e.env, req{method: "POST", path: base + "/reauthorize", body: `{"amount":700}`}).must(t, 409)
	r = s.do(t, e.env, req{method: "POST", path: base + "/reference"}).must(t, 200)
	if g, _ := r.json(t)["gateway"].(map[string]any); g == nil || g["amount"] != 800.0 {
		t.Fatalf("reference: %s", r.body)
	}
	if state(s.do(t, e.env, req{method: "POST", path: base + "/cancel", body: `{}`}).must(t, 200)) != "cancelled" {
		t.Fatal("cancel")
	}
	s.do(t, e.env, req{method: "POST", path: base + "/cancel"}).must(t, 409)
	for _, op := range []string{"capture", "cancel", "reference"} {
		s.do(t, e.env, req{method: "POST", path: "/v1/payments/pay_missing/" + op}).must(t, 404)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/payments/pay_missing/change_amount", body: `{"amount":1}`}).must(t, 404)
	s.do(t, e.env, req{method: "POST", path: "/v1/payments/pay_missing/reauthorize", body: `{"amount":1}`}).must(t, 404)
	s.do(t, e.env, req{method: "GET", path: "/v1/payments/pay_missing/card"}).must(t, 404)
	s.do(t, e.env, req{method: "GET", path: base + "/card?expand=1"}).must(t, 400)

	// The light plan: no operations in kessai, and the message says
	// where to go instead.
	e.settings(t, map[string]any{"plan": "light"})
	r = s.do(t, e.env, req{method: "POST", path: base + "/reauthorize", body: `{"amount":500}`}).must(t, 403)
	if eo := errObj(t, r); eo["code"] != "light_plan" || !strings.Contains(str(eo, "message"), "e-SCOTT") {
		t.Fatalf("light plan: %s", r.body)
	}
	s.do(t, e.env, req{method: "POST", path: base + "/reference"}).must(t, 403)
	if v := s.do(t, e.env, req{method: "GET", path: base + "/card"}).must(t, 200).json(t); len(v["operations"].([]any)) != 0 {
		t.Fatalf("light plan lists operations: %v", v["operations"])
	}
}

// testSavedCards: save, read, charge with, and delete a saved card; the
// deletion refusal while it is in use; path ids.
func testSavedCards(t *testing.T, s *spec, e *cardEnv) {
	const cust = "cust_1"
	path := "/v1/customers/" + cust + "/card"
	if c := s.do(t, e.env, req{method: "GET", path: path}).must(t, 404).errCode(t); c != "card_not_found" {
		t.Fatalf("no card: %s", c)
	}
	s.do(t, e.env, req{method: "DELETE", path: path}).must(t, 404)
	s.do(t, e.env, req{method: "GET", path: "/v1/customers/bad%20id/card"}).must(t, 404)
	if f := str(errObj(t, s.do(t, e.env, req{method: "POST", path: "/v1/customers/" + strings.Repeat("c", 65) + "/card",
		body: `{"token":"x"}`}).must(t, 400)), "field"); f != "customer_id" {
		t.Fatalf("bad customer id names %q", f)
	}
	if f := str(errObj(t, s.do(t, e.env, req{method: "POST", path: path}).must(t, 400)), "field"); f != "token" {
		t.Fatalf("save without token names %q", f)
	}

	r := s.do(t, e.env, req{method: "POST", path: path, header: map[string]string{"Idempotency-Key": "save-1"},
		body: map[string]any{"token": e.token(t, approveCard)}}).must(t, 200)
	if m := r.json(t); m["status"] != "succeeded" || str(m, "card", "last4") != "0008" || str(m, "card", "customer_id") != cust {
		t.Fatalf("save: %s", r.body)
	}
	c := s.do(t, e.env, req{method: "GET", path: path}).must(t, 200).json(t)
	if c["deletable"] != true || c["brand"] != "visa_master_jcb" || strings.Contains(str(c, "card_number"), approveCard) {
		t.Fatalf("card: %v", c)
	}

	// A new charge of an order of the customer, then the card may not
	// be deleted (A-01: an authorised payment).
	o := e.createOrder(t, "SC-1", map[string]any{"customer_id": cust})
	oid := o["id"].(string)
	s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/charge"}).must(t, 400)
	if f := str(errObj(t, s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/charge", body: `{"capture":true}`}).must(t, 400)), "field"); f != "amount" {
		t.Fatalf("charge without amount names %q", f)
	}
	s.do(t, e.env, req{method: "POST", path: "/v1/orders/ord_missing/charge", body: `{"amount":1000}`}).must(t, 404)
	r = s.do(t, e.env, req{method: "POST", path: "/v1/orders/" + oid + "/charge", body: `{"amount":1000}`}).must(t, 201)
	v := r.json(t)
	if str(v, "state", "kind") != "authorized" || r.header.Get("Location") != "/v1/payments/"+str(v, "payment", "id")+"/card" ||
		v["payment"].(map[string]any)["with_member"] != true {
		t.Fatalf("charge: %v %s", r.header, r.body)
	}
	c = s.do(t, e.env, req{method: "GET", path: path}).must(t, 200).json(t)
	if c["deletable"] != false || str(c, "delete_refusal", "code") != "card_in_use_authorized" {
		t.Fatalf("card in use: %v", c)
	}
	r = s.do(t, e.env, req{method: "DELETE", path: path}).must(t, 409)
	if c := r.errCode(t); c != "card_in_use_authorized" {
		t.Fatalf("delete in use: %s", r.body)
	}

	// Another customer's card is deleted.
	path2 := "/v1/customers/cust-2/card"
	s.do(t, e.env, req{method: "POST", path: path2, body: map[string]any{"token": e.token(t, approveCard)}}).must(t, 200)
	del := req{method: "DELETE", path: path2, header: map[string]string{"Idempotency-Key": "del-1"}}
	r = s.do(t, e.env, del).must(t, 200)
	if m := r.json(t); m["deleted"] != true || m["customer_id"] != "cust-2" {
		t.Fatalf("delete: %s", r.body)
	}
	if rr := s.do(t, e.env, del).must(t, 200); rr.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(rr.body, r.body) {
		t.Fatal("delete not replayed")
	}
	s.do(t, e.env, req{method: "GET", path: path2}).must(t, 404)
	s.do(t, e.env, req{method: "DELETE", path: path2, body: `{"force":true}`}).must(t, 400)
}

// testCardsUnavailable: without a card engine every card route answers
// 503 cards_unavailable, and such an answer is not stored.
func testCardsUnavailable(t *testing.T, s *spec, e *env) {
	o := e.createOrder(t, "NC-1", nil)
	oid := o["id"].(string)
	for _, rt := range e.api.cardRoutes() {
		p := strings.Replace(rt.pattern, "{id}", "x1", 1)
		if strings.HasPrefix(rt.pattern, "/v1/orders/") {
			p = strings.Replace(rt.pattern, "{id}", oid, 1)
		}
		r := s.do(t, e, req{method: rt.method, path: p, header: map[string]string{"Accept-Language": "en"}}).must(t, 503)
		eo := errObj(t, r)
		if eo["type"] != "unavailable" || eo["code"] != "cards_unavailable" || !strings.Contains(str(eo, "message"), "Card payments") {
			t.Errorf("%s %s: %s", rt.method, p, r.body)
		}
	}
	q := req{method: "POST", path: "/v1/orders/" + oid + "/pay", body: `{"token":"t"}`, header: map[string]string{"Idempotency-Key": "nc"}}
	for range 2 {
		if r := s.do(t, e, q).must(t, 503); r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("503 replayed: %v", r.header)
		}
	}
}

// testCardLink: the signed link to the hosted "my cards" page (MEMBER-02):
// its URL and expiry, the lifetime bounds, and the refusal when saved
// cards are off.
func testCardLink(t *testing.T, s *spec, e *cardEnv) {
	path := "/v1/customers/cust_7/card_link"
	m := s.do(t, e.env, req{method: "POST", path: path, body: map[string]any{"return_url": "https://shop.example/account"}}).must(t, 200).json(t)
	u := str(m, "url")
	if !strings.HasPrefix(u, "https://pay.example.jp/hosted/") {
		t.Fatalf("link %q", u)
	}
	exp, err := time.Parse(time.RFC3339, str(m, "expires_at"))
	if err != nil {
		t.Fatal(err)
	}
	if d := exp.Sub(e.svc.Now()); d < 5*time.Minute || d > 11*time.Minute {
		t.Fatalf("default lifetime %v", d)
	}
	for _, ttl := range []any{7200, 59, -1, int64(1) << 62} {
		if f := str(errObj(t, s.do(t, e.env, req{method: "POST", path: path, body: map[string]any{"ttl_seconds": ttl}}).must(t, 400)), "field"); f != "ttl_seconds" {
			t.Fatalf("lifetime %v names %q", ttl, f)
		}
	}
	if m := s.do(t, e.env, req{method: "POST", path: path, body: map[string]any{"ttl_seconds": 60}}).must(t, 200).json(t); str(m, "url") == "" {
		t.Fatal("60 s link refused")
	}
	if f := str(errObj(t, s.do(t, e.env, req{method: "POST", path: path, body: map[string]any{"return_url": "javascript:alert(1)"}}).must(t, 400)), "field"); f != "return_url" {
		t.Fatalf("bad return_url names %q", f)
	}
	e.settings(t, map[string]any{"card": map[string]any{"members": false}})
	if c := s.do(t, e.env, req{method: "POST", path: path}).must(t, 409).errCode(t); c != "members_disabled" {
		t.Fatalf("members off: %s", c)
	}
}
