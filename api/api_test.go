package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/testdb"
)

func TestPingAndAuth(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		m := e.do(t, req{method: "GET", path: "/v1/ping"}).must(t, 200).json(t)
		if m["shop_id"] != kessai.DefaultShopID || m["key_kind"] != "secret" || m["ok"] != true {
			t.Fatalf("ping: %v", m)
		}
		// A publishable key may ping: the route is marked publishable.
		m = e.do(t, req{method: "GET", path: "/v1/ping", key: e.pk}).must(t, 200).json(t)
		if m["key_kind"] != "publishable" {
			t.Fatalf("ping with pk: %v", m)
		}

		r := e.do(t, req{method: "GET", path: "/v1/ping", noKey: true}).must(t, 401)
		if r.errCode(t) != "api_key_missing" || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("no key: %s %v", r.body, r.header)
		}
		for _, h := range []string{"Bearer sk_wrong", "Bearer " + e.sk + "x", "Bearer sk_" + strings.Repeat("A", 43), "Token " + e.sk, "Basic %%%"} {
			r := e.do(t, req{method: "GET", path: "/v1/ping", noKey: true, header: map[string]string{"Authorization": h}}).must(t, 401)
			if c := r.errCode(t); c != "api_key_invalid" && c != "api_key_missing" {
				t.Errorf("%q: code %s", h, c)
			}
			if r.json(t)["error"].(map[string]any)["type"] != "unauthorized" {
				t.Errorf("%q: %s", h, r.body)
			}
		}
		// HTTP Basic with the key as user name, as curl -u sk_…: sends.
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(e.sk+":"))
		e.do(t, req{method: "GET", path: "/v1/ping", noKey: true, header: map[string]string{"Authorization": basic}}).must(t, 200)

		// A publishable key on a secret route is forbidden, not unauthorized.
		r = e.do(t, req{method: "POST", path: "/v1/orders", key: e.pk, body: map[string]any{"shop_order_id": "1", "amount": 1}}).must(t, 403)
		if r.errCode(t) != "publishable_key_forbidden" {
			t.Fatalf("pk on secret route: %s", r.body)
		}
		e.do(t, req{method: "GET", path: "/v1/orders", key: e.pk}).must(t, 403)
	})
}

func TestKeyRotation(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		ctx := context.Background()
		keys, err := e.svc.ListAPIKeys(ctx, kessai.DefaultShopID)
		if err != nil {
			t.Fatal(err)
		}
		var skID string
		for _, k := range keys {
			if k.Kind == kessai.KeySecret {
				skID = k.ID
			}
		}
		newKey, nk, err := e.svc.RotateAPIKey(ctx, kessai.DefaultShopID, skID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(newKey, "sk_") || len(newKey) != 46 || nk.Kind != kessai.KeySecret {
			t.Fatalf("new key %q %+v", newKey, nk)
		}
		// During the grace period both keys work: no downtime.
		e.do(t, req{method: "GET", path: "/v1/ping", key: e.sk}).must(t, 200)
		e.do(t, req{method: "GET", path: "/v1/ping", key: newKey}).must(t, 200)
		e.clock.Advance(time.Hour + time.Second)
		r := e.do(t, req{method: "GET", path: "/v1/ping", key: e.sk}).must(t, 401)
		if r.errCode(t) != "api_key_expired" {
			t.Fatalf("old key after grace: %s", r.body)
		}
		e.do(t, req{method: "GET", path: "/v1/ping", key: newKey}).must(t, 200)
		// The expired key cannot be rotated again.
		if _, _, err := e.svc.RotateAPIKey(ctx, kessai.DefaultShopID, skID, 0); kessai.ErrorKind(err) != kessai.KindNotFound {
			t.Fatalf("rotate expired: %v", err)
		}
		var ve kessai.ValidationErrors
		if _, _, err := e.svc.RotateAPIKey(ctx, kessai.DefaultShopID, nk.ID, -time.Second); !errors.As(err, &ve) {
			t.Fatalf("negative grace: %v", err)
		}
	})
}

func TestCreateAndGetOrder(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		body := map[string]any{
			"shop_order_id": "ORD-1001",
			"amount":        5500,
			"currency":      "JPY",
			"items":         []any{map[string]any{"name": "緑茶 100g", "quantity": 2, "unit_amount": 2000}, map[string]any{"name": "ダウンロード版", "quantity": 1, "unit_amount": 500, "virtual": true}},
			"customer_id":   "cust_42",
			"billing":       map[string]any{"last_name": "山田", "first_name": "太郎", "last_name_kana": "ヤマダ", "first_name_kana": "タロウ", "email": "taro@example.jp", "phone": "090-1234-5678"},
			"return_url":    "https://shop.example.jp/thanks",
			"metadata":      map[string]any{"cart": "abc"},
		}
		before := e.kicks.Load()
		r := e.do(t, req{method: "POST", path: "/v1/orders", body: body}).must(t, 201)
		o := r.json(t)
		id, _ := o["id"].(string)
		if !kessai.ValidID("ord", id) || o["status"] != "pending" || o["currency"] != "JPY" || o["amount"] != 5500.0 {
			t.Fatalf("order: %s", r.body)
		}
		if o["checkout_url"] != "https://pay.example.jp/checkout/"+id {
			t.Fatalf("checkout_url %v", o["checkout_url"])
		}
		if r.header.Get("Location") != "/v1/orders/"+id || r.header.Get("Request-Id") == "" {
			t.Fatalf("headers %v", r.header)
		}
		if e.kicks.Load() != before+1 {
			t.Fatalf("AfterEvent not called once")
		}
		got := e.do(t, req{method: "GET", path: "/v1/orders/" + id}).must(t, 200).json(t)
		if got["shop_order_id"] != "ORD-1001" || len(got["items"].([]any)) != 2 || got["billing"].(map[string]any)["last_name_kana"] != "ヤマダ" {
			t.Fatalf("get: %v", got)
		}
		// The order.created event was written with the order.
		evs := e.do(t, req{method: "GET", path: "/v1/events"}).must(t, 200).json(t)
		data := evs["data"].([]any)
		if len(data) != 1 || data[0].(map[string]any)["type"] != "order.created" ||
			data[0].(map[string]any)["data"].(map[string]any)["id"] != id {
			t.Fatalf("events: %v", evs)
		}

		// Zero-total orders are allowed; currency is optional and any case.
		z := e.createOrder(t, "ORD-ZERO", map[string]any{"amount": 0, "currency": "jpy"})
		if z["amount"] != 0.0 || z["currency"] != "JPY" || len(z["items"].([]any)) != 0 {
			t.Fatalf("zero order: %v", z)
		}

		// The same shop order id again is a conflict.
		r = e.do(t, req{method: "POST", path: "/v1/orders", body: body}).must(t, 409)
		if r.errCode(t) != "order_exists" {
			t.Fatalf("duplicate: %s", r.body)
		}

		for _, p := range []string{"/v1/orders/ord_nope", "/v1/orders/" + strings.Repeat("x", 500), "/v1/orders/" + kessai.NewID("ord", time.Now())} {
			r := e.do(t, req{method: "GET", path: p}).must(t, 404)
			if r.errCode(t) != "order_not_found" {
				t.Fatalf("%s: %s", p, r.body)
			}
		}
	})
}

func TestOrderValidation(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		body := map[string]any{
			"shop_order_id": "bad\tid",
			"amount":        -1,
			"currency":      "USD",
			"items":         []any{map[string]any{"name": "", "quantity": 1, "unit_amount": 1}, map[string]any{"name": "x", "quantity": 0, "unit_amount": -5}},
			"customer_id":   "a b",
			"billing":       map[string]any{"email": "not-an-email", "phone": "+81 90", "last_name": strings.Repeat("あ", 51)},
			"return_url":    "http://shop.example.jp/",
			"metadata":      map[string]any{"k": strings.Repeat("v", 501)},
		}
		wantFields := []string{"shop_order_id", "amount", "currency", "items[0].name", "items[1].quantity", "items[1].unit_amount",
			"customer_id", "billing.last_name", "billing.email", "billing.phone", "return_url", "metadata.k"}
		check := func(lang string, r *resp) map[string]string {
			t.Helper()
			r.must(t, 400)
			eo := r.json(t)["error"].(map[string]any)
			if eo["type"] != "invalid" || eo["code"] != "validation_failed" || eo["request_id"] != r.header.Get("Request-Id") {
				t.Fatalf("%s: %s", lang, r.body)
			}
			msgs := map[string]string{}
			for _, fe := range eo["errors"].([]any) {
				f := fe.(map[string]any)
				msgs[f["field"].(string)] = f["message"].(string)
			}
			for _, f := range wantFields {
				if msgs[f] == "" {
					t.Errorf("%s: no error for %s in %s", lang, f, r.body)
				}
			}
			return msgs
		}
		ja := check("ja", e.do(t, req{method: "POST", path: "/v1/orders", body: body}))
		en := check("en", e.do(t, req{method: "POST", path: "/v1/orders", body: body, header: map[string]string{"Accept-Language": "en-US,en;q=0.9,ja;q=0.5"}}))
		if !strings.Contains(ja["currency"], "JPY のみ") || en["currency"] != "Only JPY is supported." {
			t.Fatalf("messages: ja %q en %q", ja["currency"], en["currency"])
		}
		// Japanese wins when preferred, tied, or when the header names neither.
		for _, h := range []string{"ja,en;q=0.8", "fr", "*", "en;q=0, ja"} {
			r := e.do(t, req{method: "POST", path: "/v1/orders", body: body, header: map[string]string{"Accept-Language": h}})
			if m := check(h, r); m["currency"] != ja["currency"] {
				t.Errorf("Accept-Language %q gave %q", h, m["currency"])
			}
		}

		cases := []struct {
			name, body, code, field string
		}{
			{"required", `{}`, "validation_failed", "shop_order_id"},
			{"amount missing", `{"shop_order_id":"a"}`, "validation_failed", "amount"},
			{"items over amount", `{"shop_order_id":"a","amount":100,"items":[{"name":"x","quantity":2,"unit_amount":60}]}`, "validation_failed", "amount"},
			{"too large", `{"shop_order_id":"a","amount":10000000}`, "validation_failed", "amount"},
			{"unknown field", `{"shop_order_id":"a","amount":1,"colour":"red"}`, "validation_failed", "colour"},
			{"nested unknown", `{"shop_order_id":"a","amount":1,"items":[{"name":"x","quantity":1,"unit_amount":1,"sku":"s"}]}`, "validation_failed", "items[0].sku"},
			{"case matters", `{"shop_order_id":"a","Amount":1}`, "validation_failed", "Amount"},
			{"wrong type", `{"shop_order_id":"a","amount":"1100"}`, "validation_failed", "amount"},
			{"fraction", `{"shop_order_id":"a","amount":1100.5}`, "validation_failed", "amount"},
			{"nested type", `{"shop_order_id":"a","amount":1,"items":[{"name":"x","quantity":"2","unit_amount":1}]}`, "validation_failed", "items[0].quantity"},
			{"metadata value type", `{"shop_order_id":"a","amount":1,"metadata":{"n":1}}`, "validation_failed", "metadata.n"},
			{"malformed", "{\n  \"shop_order_id\": \"a\",\n  \"amount\": 1,,\n}", "invalid_json", ""},
			{"truncated", `{"shop_order_id":"a"`, "invalid_json", ""},
			{"trailing", `{"shop_order_id":"a","amount":1} {}`, "invalid_json", ""},
			{"array", `[1,2]`, "invalid_body", ""},
			{"empty", ``, "body_required", ""},
			{"too many metadata", `{"shop_order_id":"a","amount":1,"metadata":{` + metadataN(21) + `}}`, "validation_failed", "metadata"},
			{"bad email", `{"shop_order_id":"a","amount":1,"billing":{"email":"Taro <t@example.jp>"}}`, "validation_failed", "billing.email"},
			{"loopback http ok but ftp not", `{"shop_order_id":"a","amount":1,"return_url":"ftp://x.example/"}`, "validation_failed", "return_url"},
		}
		for _, c := range cases {
			r := e.do(t, req{method: "POST", path: "/v1/orders", body: c.body}).must(t, 400)
			eo := r.json(t)["error"].(map[string]any)
			if eo["code"] != c.code {
				t.Errorf("%s: code %v, want %s: %s", c.name, eo["code"], c.code, r.body)
			}
			if c.field != "" && eo["field"] != c.field {
				t.Errorf("%s: field %v, want %s: %s", c.name, eo["field"], c.field, r.body)
			}
		}
		// Malformed JSON names the line and column.
		r := e.do(t, req{method: "POST", path: "/v1/orders", body: "{\n  \"a\": 1,,\n}", header: map[string]string{"Accept-Language": "en"}}).must(t, 400)
		if msg := r.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "line 2") {
			t.Errorf("position: %s", msg)
		}
		// http to a loopback host is fine for development.
		e.createOrder(t, "loop", map[string]any{"return_url": "http://127.0.0.1:8080/done"})
	})
}

func metadataN(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return strings.Join(parts, ",")
}

func TestBodyLimits(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		big := `{"shop_order_id":"a","amount":1,"metadata":{"k":"` + strings.Repeat("x", maxBody) + `"}}`
		r := e.do(t, req{method: "POST", path: "/v1/orders", body: big}).must(t, 413)
		if r.errCode(t) != "body_too_large" {
			t.Fatal(string(r.body))
		}
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "garbage;;"} {
			r = e.do(t, req{method: "POST", path: "/v1/orders", body: `{"shop_order_id":"a","amount":1}`, header: map[string]string{"Content-Type": ct}}).must(t, 415)
			if r.errCode(t) != "unsupported_media_type" {
				t.Fatal(string(r.body))
			}
		}
		e.do(t, req{method: "POST", path: "/v1/orders", body: `{"shop_order_id":"a","amount":1}`, header: map[string]string{"Content-Type": "application/json; charset=UTF-8"}}).must(t, 201)
		// Unknown routes and methods answer JSON too.
		r = e.do(t, req{method: "GET", path: "/v1/nothing"}).must(t, 404)
		if r.errCode(t) != "route_not_found" {
			t.Fatal(string(r.body))
		}
		r = e.do(t, req{method: "DELETE", path: "/v1/orders"}).must(t, 405)
		if r.errCode(t) != "method_not_allowed" || !strings.Contains(r.header.Get("Allow"), "POST") {
			t.Fatalf("%s %v", r.body, r.header)
		}
	})
}

func TestListOrders(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		var ids []string
		for i := range 5 {
			extra := map[string]any{}
			if i%2 == 0 {
				extra["customer_id"] = "even"
			}
			ids = append(ids, e.createOrder(t, fmt.Sprintf("S-%d", i), extra)["id"].(string))
		}
		// Newest first, two per page, following next_cursor.
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			p := "/v1/orders?limit=2"
			if cursor != "" {
				p += "&starting_after=" + cursor
			}
			m := e.do(t, req{method: "GET", path: p}).must(t, 200).json(t)
			for _, o := range m["data"].([]any) {
				seen = append(seen, o.(map[string]any)["id"].(string))
				if o.(map[string]any)["checkout_url"] == "" {
					t.Fatal("list item without checkout_url")
				}
			}
			if m["has_more"] != true {
				if _, ok := m["next_cursor"]; ok {
					t.Fatalf("next_cursor on the last page: %v", m)
				}
				break
			}
			cursor = m["next_cursor"].(string)
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if len(seen) != 5 {
			t.Fatalf("seen %v", seen)
		}
		for i := range seen {
			if seen[i] != ids[len(ids)-1-i] {
				t.Fatalf("order %v, want newest first of %v", seen, ids)
			}
		}
		count := func(q string) int {
			t.Helper()
			return len(e.do(t, req{method: "GET", path: "/v1/orders?" + q}).must(t, 200).json(t)["data"].([]any))
		}
		if n := count("customer_id=even"); n != 3 {
			t.Errorf("customer filter: %d", n)
		}
		if n := count("shop_order_id=S-3"); n != 1 {
			t.Errorf("shop_order_id filter: %d", n)
		}
		if n := count("status=pending"); n != 5 {
			t.Errorf("status filter: %d", n)
		}
		if n := count("status=completed"); n != 0 {
			t.Errorf("status filter: %d", n)
		}
		if n := count("created_from=2025-01-02&created_to=2025-01-03"); n != 5 {
			t.Errorf("date range: %d", n)
		}
		if n := count("created_from=2030-01-01T00:00:00Z"); n != 0 {
			t.Errorf("future range: %d", n)
		}
		for q, field := range map[string]string{
			"limit=0": "limit", "limit=101": "limit", "limit=x": "limit", "starting_after=evt_x": "starting_after",
			"status=paid": "status", "created_from=yesterday": "created_from", "stauts=pending": "stauts",
			"created_from=2025-02-01&created_to=2025-01-01": "created_to", "limit=1&limit=2": "limit",
		} {
			r := e.do(t, req{method: "GET", path: "/v1/orders?" + q}).must(t, 400)
			if f := r.json(t)["error"].(map[string]any)["field"]; f != field {
				t.Errorf("%s: field %v: %s", q, f, r.body)
			}
		}
	})
}

func TestPayments(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		o := e.createOrder(t, "P-1", nil)
		oid := o["id"].(string)
		empty := e.do(t, req{method: "GET", path: "/v1/orders/" + oid + "/payments"}).must(t, 200).json(t)
		if len(empty["data"].([]any)) != 0 || empty["has_more"] != false {
			t.Fatalf("no payments yet: %v", empty)
		}
		p := e.seedPayment(t, oid)
		list := e.do(t, req{method: "GET", path: "/v1/orders/" + oid + "/payments"}).must(t, 200).json(t)
		if d := list["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != p.ID {
			t.Fatalf("payments: %v", list)
		}
		r := e.do(t, req{method: "GET", path: "/v1/payments/" + p.ID}).must(t, 200)
		got := r.json(t)
		if got["state"] != "captured" || len(got["history"].([]any)) != 1 || len(got["attempts"].([]any)) != 1 {
			t.Fatalf("payment: %s", r.body)
		}
		if strings.Contains(string(r.body), "ppass") {
			t.Fatal("ProcessPass leaked")
		}
		e.do(t, req{method: "GET", path: "/v1/payments/pay_nope"}).must(t, 404)
		if c := e.do(t, req{method: "GET", path: "/v1/orders/ord_nope/payments"}).must(t, 404).errCode(t); c != "order_not_found" {
			t.Fatal(c)
		}
	})
}

func TestSettings(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		r := e.do(t, req{method: "GET", path: "/v1/settings"}).must(t, 200)
		m := r.json(t)
		v := m["version"].(float64)
		if v < 1 || r.header.Get("ETag") != fmt.Sprintf(`"%d"`, int64(v)) {
			t.Fatalf("settings %v etag %q", m["version"], r.header.Get("ETag"))
		}
		patch := map[string]any{"card": map[string]any{"aes_key": "ABCDEFGHIJKLMNOP", "aes_iv": "0123456789abcdef", "merchant_id": "030000001"}}
		r = e.do(t, req{method: "PATCH", path: "/v1/settings", body: map[string]any{"settings": patch},
			header: map[string]string{"If-Match": r.header.Get("ETag")}}).must(t, 200)
		m = r.json(t)
		if m["version"].(float64) != v+1 {
			t.Fatalf("version after patch: %v", m["version"])
		}
		if strings.Contains(string(r.body), "ABCDEFGHIJKLMNOP") || m["settings"].(map[string]any)["card"].(map[string]any)["aes_key"].(map[string]any)["set"] != true {
			t.Fatalf("secret shown or not set: %s", r.body)
		}
		// A stale version is a conflict, by header or by body.
		r = e.do(t, req{method: "PATCH", path: "/v1/settings", body: map[string]any{"settings": map[string]any{"notify_log": false}},
			header: map[string]string{"If-Match": fmt.Sprintf(`"%d"`, int64(v))}}).must(t, 409)
		if r.errCode(t) != "settings_version_conflict" {
			t.Fatal(string(r.body))
		}
		e.do(t, req{method: "PATCH", path: "/v1/settings", body: map[string]any{"version": v, "settings": map[string]any{"notify_log": false}}}).must(t, 409)
		// Without a version the patch applies to the current one.
		m = e.do(t, req{method: "PATCH", path: "/v1/settings", body: map[string]any{"settings": map[string]any{"notify_log": false}}}).must(t, 200).json(t)
		if m["settings"].(map[string]any)["notify_log"] != false {
			t.Fatalf("notify_log: %v", m)
		}
		// Validation errors carry the full path in the envelope.
		r = e.do(t, req{method: "PATCH", path: "/v1/settings", body: `{"settings":{"collection":{"due_days":99},"card":{"merchnt_id":"x"}}}`}).must(t, 400)
		fields := map[string]bool{}
		for _, fe := range r.json(t)["error"].(map[string]any)["errors"].([]any) {
			fields[fe.(map[string]any)["field"].(string)] = true
		}
		if !fields["settings.card.merchnt_id"] {
			t.Fatalf("fields %v: %s", fields, r.body)
		}
		r = e.do(t, req{method: "PATCH", path: "/v1/settings", body: `{"settings":{"collection":{"due_days":99}}}`}).must(t, 400)
		if f := r.json(t)["error"].(map[string]any)["field"]; f != "settings.collection.due_days" {
			t.Fatalf("field %v: %s", f, r.body)
		}
		for _, b := range []string{`{}`, `{"settings":null}`, `{"settings":[1]}`, `{"settings":{},"extra":1}`} {
			e.do(t, req{method: "PATCH", path: "/v1/settings", body: b}).must(t, 400)
		}
		e.do(t, req{method: "PATCH", path: "/v1/settings", body: `{"settings":{}}`, header: map[string]string{"If-Match": "abc"}}).must(t, 400)
		e.do(t, req{method: "PATCH", path: "/v1/settings", body: `{"version":1,"settings":{}}`, header: map[string]string{"If-Match": `"2"`}}).must(t, 400)
	})
}

func TestWebhookEndpoints(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		r := e.do(t, req{method: "POST", path: "/v1/webhook_endpoints", body: map[string]any{"url": "https://shop.example.jp/hooks", "event_types": []string{"order.created", "payment.paid", "order.created"}}}).must(t, 201)
		ep := r.json(t)
		id := ep["id"].(string)
		secret1, _ := ep["secret"].(string)
		if !strings.HasPrefix(secret1, "whsec_") || ep["enabled"] != true || len(ep["event_types"].([]any)) != 2 {
			t.Fatalf("create: %s", r.body)
		}
		got := e.do(t, req{method: "GET", path: "/v1/webhook_endpoints/" + id}).must(t, 200)
		if strings.Contains(string(got.body), "whsec_") {
			t.Fatal("secret shown after creation")
		}
		list := e.do(t, req{method: "GET", path: "/v1/webhook_endpoints"}).must(t, 200).json(t)
		if len(list["data"].([]any)) != 1 {
			t.Fatalf("list: %v", list)
		}
		up := e.do(t, req{method: "PATCH", path: "/v1/webhook_endpoints/" + id, body: map[string]any{"enabled": false, "event_types": []string{}}}).must(t, 200).json(t)
		if up["enabled"] != false || len(up["event_types"].([]any)) != 0 || up["url"] != "https://shop.example.jp/hooks" {
			t.Fatalf("update: %v", up)
		}
		rot := e.do(t, req{method: "POST", path: "/v1/webhook_endpoints/" + id + "/rotate_secret"}).must(t, 200).json(t)
		if s, _ := rot["secret"].(string); !strings.HasPrefix(s, "whsec_") || s == secret1 {
			t.Fatalf("rotate: %v", rot)
		}
		bad := []struct{ body, field string }{
			{`{"url":"http://shop.example.jp/hooks"}`, "url"},
			{`{"url":"/relative"}`, "url"},
			{`{"url":"https://user:pw@shop.example.jp/"}`, "url"},
			{`{}`, "url"},
			{`{"url":"https://shop.example.jp/","event_types":["order.created","nope"]}`, "event_types[1]"},
			{`{"url":"https://shop.example.jp/","enabled":"yes"}`, "enabled"},
		}
		for _, b := range bad {
			r := e.do(t, req{method: "POST", path: "/v1/webhook_endpoints", body: b.body}).must(t, 400)
			if f := r.json(t)["error"].(map[string]any)["field"]; f != b.field {
				t.Errorf("%s: field %v: %s", b.body, f, r.body)
			}
		}
		e.do(t, req{method: "POST", path: "/v1/webhook_endpoints", body: `{"url":"http://localhost:3000/hook"}`}).must(t, 201)
		e.do(t, req{method: "PATCH", path: "/v1/webhook_endpoints/" + id, body: `{"url":"ftp://x"}`}).must(t, 400)
		e.do(t, req{method: "PATCH", path: "/v1/webhook_endpoints/we_nope", body: `{}`}).must(t, 404)
		e.do(t, req{method: "POST", path: "/v1/webhook_endpoints/we_nope/rotate_secret"}).must(t, 404)
		del := e.do(t, req{method: "DELETE", path: "/v1/webhook_endpoints/" + id}).must(t, 200).json(t)
		if del["deleted"] != true || del["id"] != id {
			t.Fatalf("delete: %v", del)
		}
		e.do(t, req{method: "GET", path: "/v1/webhook_endpoints/" + id}).must(t, 404)
		e.do(t, req{method: "DELETE", path: "/v1/webhook_endpoints/" + id}).must(t, 404)
	})
}

func TestEventsAndResend(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		e.createOrder(t, "E-1", nil)
		e.createOrder(t, "E-2", nil)
		evs := e.do(t, req{method: "GET", path: "/v1/events?limit=1"}).must(t, 200).json(t)
		if evs["has_more"] != true || len(evs["data"].([]any)) != 1 {
			t.Fatalf("events: %v", evs)
		}
		next := e.do(t, req{method: "GET", path: "/v1/events?limit=1&starting_after=" + evs["next_cursor"].(string)}).must(t, 200).json(t)
		if next["has_more"] != false || len(next["data"].([]any)) != 1 {
			t.Fatalf("events page 2: %v", next)
		}
		evID := evs["data"].([]any)[0].(map[string]any)["id"].(string)
		ev := e.do(t, req{method: "GET", path: "/v1/events/" + evID}).must(t, 200).json(t)
		if ev["type"] != "order.created" {
			t.Fatalf("event: %v", ev)
		}
		if c := e.do(t, req{method: "GET", path: "/v1/events/evt_nope"}).must(t, 404).errCode(t); c != "event_not_found" {
			t.Fatal(c)
		}

		// Nothing to resend to yet.
		if c := e.do(t, req{method: "POST", path: "/v1/events/" + evID + "/resend"}).must(t, 409).errCode(t); c != "no_endpoints" {
			t.Fatal(c)
		}
		ep := e.do(t, req{method: "POST", path: "/v1/webhook_endpoints", body: `{"url":"https://shop.example.jp/h"}`}).must(t, 201).json(t)
		epID := ep["id"].(string)
		// Deliveries: record one as the job runner would.
		d := &kessai.WebhookDelivery{ID: kessai.NewID("whd", e.clock.Now()), ShopID: kessai.DefaultShopID, EventID: evID, EndpointID: epID,
			Attempt: 1, Status: kessai.DeliveryFailed, HTTPStatus: 500, Error: "server error", DurationMS: 12, At: e.clock.Now()}
		if err := e.store.RecordDelivery(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		ds := e.do(t, req{method: "GET", path: "/v1/events/" + evID + "/deliveries"}).must(t, 200).json(t)
		if len(ds["data"].([]any)) != 1 {
			t.Fatalf("deliveries: %v", ds)
		}
		ds = e.do(t, req{method: "GET", path: "/v1/events/" + evID + "/deliveries?endpoint_id=" + epID}).must(t, 200).json(t)
		if len(ds["data"].([]any)) != 1 {
			t.Fatalf("deliveries by endpoint: %v", ds)
		}
		e.do(t, req{method: "GET", path: "/v1/events/evt_nope/deliveries"}).must(t, 404)
		e.do(t, req{method: "GET", path: "/v1/events/" + evID + "/deliveries?endpoint_id=we_nope"}).must(t, 404)

		rs := e.do(t, req{method: "POST", path: "/v1/events/" + evID + "/resend", body: map[string]any{"endpoint_id": epID}}).must(t, 202).json(t)
		if rs["event_id"] != evID || len(rs["endpoint_ids"].([]any)) != 1 {
			t.Fatalf("resend: %v", rs)
		}
		e.do(t, req{method: "POST", path: "/v1/events/" + evID + "/resend"}).must(t, 202)
		if len(e.resender.calls) != 2 || e.resender.calls[0] != kessai.DefaultShopID+"/"+evID+"/"+epID {
			t.Fatalf("resender calls %v", e.resender.calls)
		}
		r := e.do(t, req{method: "POST", path: "/v1/events/" + evID + "/resend", body: map[string]any{"endpoint_id": "we_nope"}}).must(t, 400)
		if f := r.json(t)["error"].(map[string]any)["field"]; f != "endpoint_id" {
			t.Fatal(string(r.body))
		}
		e.do(t, req{method: "POST", path: "/v1/events/evt_nope/resend"}).must(t, 404)
		e.do(t, req{method: "PATCH", path: "/v1/webhook_endpoints/" + epID, body: `{"enabled":false}`}).must(t, 200)
		if c := e.do(t, req{method: "POST", path: "/v1/events/" + evID + "/resend", body: map[string]any{"endpoint_id": epID}}).must(t, 409).errCode(t); c != "endpoint_disabled" {
			t.Fatal(c)
		}
	})
}

func TestRecoverMiddleware(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		h := e.api.serve(route{method: "POST", pattern: "/v1/boom", h: func(c *call) (int, any, error) {
			panic("boom")
		}})
		r := httptest.NewRequest("POST", "/v1/boom", strings.NewReader(`{}`))
		r.Header.Set("Authorization", "Bearer "+e.sk)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Idempotency-Key", "panic-key")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 500 || !strings.Contains(w.Body.String(), `"internal_error"`) || strings.Contains(w.Body.String(), "boom") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if !strings.Contains(e.logText(), "boom") {
			t.Fatal("panic not logged")
		}
		// The key was released: the same request may run again.
		rec, err := e.svc.BeginIdempotency(context.Background(), kessai.DefaultShopID, "panic-key", "x")
		if err != nil || rec != nil {
			t.Fatalf("key still held: %+v %v", rec, err)
		}
	})
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		e.resender.err = fmt.Errorf("queue exploded: secret detail")
		e.createOrder(t, "I-1", nil)
		ep := e.do(t, req{method: "POST", path: "/v1/webhook_endpoints", body: `{"url":"https://shop.example.jp/h"}`}).must(t, 201).json(t)
		evs := e.do(t, req{method: "GET", path: "/v1/events"}).must(t, 200).json(t)
		evID := evs["data"].([]any)[0].(map[string]any)["id"].(string)
		key := map[string]string{"Idempotency-Key": "resend-1"}
		r := e.do(t, req{method: "POST", path: "/v1/events/" + evID + "/resend", body: map[string]any{"endpoint_id": ep["id"]}, header: key}).must(t, 500)
		if strings.Contains(string(r.body), "secret detail") || r.errCode(t) != "internal_error" {
			t.Fatalf("leak: %s", r.body)
		}
		if !strings.Contains(e.logText(), "secret detail") || !strings.Contains(e.logText(), r.json(t)["error"].(map[string]any)["request_id"].(string)) {
			t.Fatal("internal error not logged with its request id")
		}
		// A 5xx releases the idempotency key: the retry runs (and now works).
		e.resender.err = nil
		r = e.do(t, req{method: "POST", path: "/v1/events/" + evID + "/resend", body: map[string]any{"endpoint_id": ep["id"]}, header: key}).must(t, 202)
		if r.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("a failed request was replayed")
		}
		if len(e.resender.calls) != 2 {
			t.Fatalf("calls %v", e.resender.calls)
		}
	})
}
