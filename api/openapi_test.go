package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/testdb"
)

// TestOpenAPI checks docs/openapi.yaml against the OpenAPI 3.1 schema and
// validates REAL answers of the test server against it: at least one
// success and one error for every route of routeTable, so neither the code
// nor the document can drift without this test failing. Response schemas
// forbid undocumented properties, so a new field must be documented too.
func TestOpenAPI(t *testing.T) {
	loadSpec(t) // the document itself, once
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		doc := loadSpec(t) // a validator per backend: the backends run in parallel
		check := func(q req) *resp {
			t.Helper()
			return doc.do(t, e, q)
		}
		en := map[string]string{"Accept-Language": "en"}

		// ping
		check(req{method: "GET", path: "/v1/ping"}).must(t, 200)
		check(req{method: "GET", path: "/v1/ping", key: e.pk}).must(t, 200)
		check(req{method: "GET", path: "/v1/ping", noKey: true}).must(t, 401)

		// orders
		full := map[string]any{
			"shop_order_id": "OA-1", "amount": 5500, "currency": "JPY",
			"items":       []any{map[string]any{"name": "緑茶", "quantity": 2, "unit_amount": 2000, "virtual": true}},
			"customer_id": "c1", "billing": map[string]any{"last_name": "山田", "email": "taro@example.jp"},
			"return_url": "https://shop.example.jp/done", "metadata": map[string]any{"k": "v"},
		}
		idem := map[string]string{"Idempotency-Key": "oa-1"}
		o := check(req{method: "POST", path: "/v1/orders", body: full, header: idem}).must(t, 201).json(t)
		if r := check(req{method: "POST", path: "/v1/orders", body: full, header: idem}).must(t, 201); r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("no replay")
		}
		check(req{method: "POST", path: "/v1/orders", body: map[string]any{"shop_order_id": "OA-2", "amount": 1}, header: idem}).must(t, 422)
		oid := o["id"].(string)
		check(req{method: "POST", path: "/v1/orders", body: map[string]any{"shop_order_id": "OA-0", "amount": 0}}).must(t, 201)
		check(req{method: "POST", path: "/v1/orders", body: `{"amount":-1,"x":1}`, header: en}).must(t, 400)
		check(req{method: "POST", path: "/v1/orders", body: `{`}).must(t, 400)
		check(req{method: "POST", path: "/v1/orders", body: full}).must(t, 409)
		check(req{method: "POST", path: "/v1/orders", body: full, key: e.pk}).must(t, 403)
		check(req{method: "POST", path: "/v1/orders", body: strings.Repeat(" ", maxBody+1)}).must(t, 413)
		check(req{method: "POST", path: "/v1/orders", body: `{}`, header: map[string]string{"Content-Type": "text/plain"}}).must(t, 415)
		list := check(req{method: "GET", path: "/v1/orders?limit=1"}).must(t, 200).json(t)
		check(req{method: "GET", path: "/v1/orders?limit=1&starting_after=" + list["next_cursor"].(string) + "&status=pending&created_from=2025-01-01"}).must(t, 200)
		check(req{method: "GET", path: "/v1/orders?limit=500"}).must(t, 400)
		check(req{method: "GET", path: "/v1/orders/" + oid}).must(t, 200)
		check(req{method: "GET", path: "/v1/orders/ord_missing"}).must(t, 404)

		// payments
		check(req{method: "GET", path: "/v1/orders/" + oid + "/payments"}).must(t, 200)
		p := e.seedPayment(t, oid)
		check(req{method: "GET", path: "/v1/orders/" + oid + "/payments"}).must(t, 200)
		check(req{method: "GET", path: "/v1/orders/ord_missing/payments"}).must(t, 404)
		check(req{method: "GET", path: "/v1/payments/" + p.ID}).must(t, 200)
		check(req{method: "GET", path: "/v1/payments/pay_missing"}).must(t, 404)

		// settings
		s := check(req{method: "GET", path: "/v1/settings"}).must(t, 200)
		check(req{method: "GET", path: "/v1/settings", noKey: true}).must(t, 401)
		fee := map[string]any{"collection": map[string]any{"fee_enabled": true, "fee_rows": []any{
			map[string]any{"from": 0, "to": 1000, "fee": 110}, map[string]any{"from": 1001, "to": "*", "fee": 220}}},
			"card": map[string]any{"merchant_pass_test": "secretpass1", "aes_key": "ABCDEFGHIJKLMNOP"}}
		check(req{method: "PATCH", path: "/v1/settings", body: map[string]any{"settings": fee}, header: map[string]string{"If-Match": s.header.Get("ETag")}}).must(t, 200)
		check(req{method: "PATCH", path: "/v1/settings", body: map[string]any{"settings": fee}, header: map[string]string{"If-Match": s.header.Get("ETag")}}).must(t, 409)
		check(req{method: "PATCH", path: "/v1/settings", body: `{"settings":{"collection":{"due_days":0}}}`}).must(t, 400)
		check(req{method: "GET", path: "/v1/settings"}).must(t, 200)

		// webhook endpoints
		ep := check(req{method: "POST", path: "/v1/webhook_endpoints", body: `{"url":"https://shop.example.jp/h","event_types":["order.created"]}`}).must(t, 201).json(t)
		epID := ep["id"].(string)
		check(req{method: "POST", path: "/v1/webhook_endpoints", body: `{"url":"http://shop.example.jp/h"}`}).must(t, 400)
		check(req{method: "GET", path: "/v1/webhook_endpoints"}).must(t, 200)
		check(req{method: "GET", path: "/v1/webhook_endpoints", key: e.pk}).must(t, 403)
		check(req{method: "GET", path: "/v1/webhook_endpoints/" + epID}).must(t, 200)
		check(req{method: "GET", path: "/v1/webhook_endpoints/we_missing"}).must(t, 404)
		check(req{method: "PATCH", path: "/v1/webhook_endpoints/" + epID, body: `{"enabled":true,"event_types":[]}`}).must(t, 200)
		check(req{method: "PATCH", path: "/v1/webhook_endpoints/" + epID, body: `{"event_types":["nope"]}`}).must(t, 400)
		check(req{method: "POST", path: "/v1/webhook_endpoints/" + epID + "/rotate_secret"}).must(t, 200)
		check(req{method: "POST", path: "/v1/webhook_endpoints/we_missing/rotate_secret"}).must(t, 404)

		// events
		evs := check(req{method: "GET", path: "/v1/events?limit=1"}).must(t, 200).json(t)
		check(req{method: "GET", path: "/v1/events?starting_after=nope"}).must(t, 400)
		evID := evs["data"].([]any)[0].(map[string]any)["id"].(string)
		check(req{method: "GET", path: "/v1/events/" + evID}).must(t, 200)
		check(req{method: "GET", path: "/v1/events/evt_missing"}).must(t, 404)
		d := &kessai.WebhookDelivery{ID: kessai.NewID("whd", e.clock.Now()), ShopID: kessai.DefaultShopID, EventID: evID, EndpointID: epID,
			Attempt: 1, Status: kessai.DeliverySucceeded, HTTPStatus: 200, DurationMS: 5, At: e.clock.Now()}
		if err := e.store.RecordDelivery(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		check(req{method: "GET", path: "/v1/events/" + evID + "/deliveries?endpoint_id=" + epID}).must(t, 200)
		check(req{method: "GET", path: "/v1/events/evt_missing/deliveries"}).must(t, 404)
		check(req{method: "POST", path: "/v1/events/" + evID + "/resend", body: map[string]any{"endpoint_id": epID}}).must(t, 202)
		check(req{method: "POST", path: "/v1/events/" + evID + "/resend"}).must(t, 202)
		check(req{method: "POST", path: "/v1/events/evt_missing/resend"}).must(t, 404)
		e.resender.err = fmt.Errorf("queue down")
		check(req{method: "POST", path: "/v1/events/" + evID + "/resend"}).must(t, 500)
		e.resender.err = nil

		check(req{method: "DELETE", path: "/v1/webhook_endpoints/" + epID, header: map[string]string{"Idempotency-Key": "del"}}).must(t, 200)
		check(req{method: "DELETE", path: "/v1/webhook_endpoints/" + epID}).must(t, 404)
		check(req{method: "POST", path: "/v1/events/" + evID + "/resend"}).must(t, 409)

		doc.covers(t, e.api.routeTable())
	})
}

// covers fails t for each route that is missing from the document or was
// not seen answering both a success and an error: a route table cannot
// grow without its routes being documented and exercised.
func (s *spec) covers(t testing.TB, routes []route) {
	t.Helper()
	for _, rt := range routes {
		pattern := rt.method + " " + rt.pattern
		if !documented(s.doc, rt.method, rt.pattern) {
			t.Errorf("%s is not in docs/openapi.yaml", pattern)
		}
		if seen := s.seen[pattern]; !seen["2xx"] || !(seen["4xx"] || seen["5xx"]) {
			t.Errorf("%s: checked %v; want a success and an error", pattern, seen)
		}
	}
}

// documented reports whether the document has the operation.
func documented(doc libopenapi.Document, method, path string) bool {
	m, err := doc.BuildV3Model()
	if err != nil || m == nil {
		return false
	}
	item, ok := m.Model.Paths.PathItems.Get(path)
	if !ok {
		return false
	}
	ops := item.GetOperations()
	_, ok = ops.Get(strings.ToLower(method))
	return ok
}

// doRaw sends q like do and also returns an equivalent request, which
// the validator uses to find the operation.
func (e *env) doRaw(t testing.TB, q req) (*http.Request, *resp) {
	t.Helper()
	res := e.do(t, q)
	r, err := http.NewRequest(q.method, e.srv.URL+q.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	return r, res
}
