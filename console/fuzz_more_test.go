package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/console"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/subscription"
)

// fzSim hands every gateway call to the simulator in process, whatever
// the URL: a fuzzed settings form may switch the shop to production, and
// nothing may then reach SPS's servers (nor a socket, whose timing would
// make the fuzzer's coverage noisy).
type fzSim struct{ s *atomic.Pointer[sim.Server] }

func (t fzSim) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	t.s.Load().ServeHTTP(w, r)
	return w.Result(), nil
}

// fzRoutes are the console's pages and forms FuzzConsole drives. Paths
// and forms may hold placeholders: @ord (a fresh unpaid order), @cord (a
// fresh order of @cus), @pay (a card payment authorised just before),
// @col (a collection registered just before), @cus (the customer with a
// saved card), @sub (a subscription created just before), @wh (a
// webhook endpoint created just before), @ver (the settings' version the
// form was rendered from).
// Resending an event is left out: paytest's service has no Resender, so
// the console rightly answers 503 there.
var fzRoutes = []string{
	"GET /admin/",
	"GET /admin/orders",
	"GET /admin/orders/@ord",
	"GET /admin/orders/@ord/payment",
	"GET /admin/logs",
	"GET /admin/logs/codes",
	"GET /admin/customers",
	"GET /admin/customers/@cus",
	"GET /admin/subscriptions",
	"GET /admin/webhooks/events",
	"GET /admin/settings/golive",
	"POST /admin/settings/card",
	"POST /admin/settings/collection",
	"POST /admin/orders/@cord/charge",
	"POST /admin/orders/@ord/collection",
	"POST /admin/payments/@pay/capture",
	"POST /admin/payments/@pay/cancel",
	"POST /admin/payments/@pay/change_amount",
	"POST /admin/payments/@pay/reauthorize",
	"POST /admin/payments/@pay/resolve",
	"POST /admin/payments/@col/change_due",
	"POST /admin/payments/@col/collection_cancel",
	"POST /admin/payments/@col/resolve",
	"POST /admin/subscriptions/@sub/pause",
	"POST /admin/subscriptions/@sub/cancel_at_period_end",
	"POST /admin/subscriptions/@sub/cancel",
	"POST /admin/webhooks",
	"POST /admin/webhooks/@wh",
}

// fzSettings is the shop FuzzConsole starts each iteration from.
func fzSettings() map[string]any {
	d := sim.DemoMerchant
	return map[string]any{
		"environment": "simulator", "plan": "pro",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
			"always_register": false, "operation": "1Auth", "three_ds": false, "link_type": false,
		},
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"due_days": 7, "fee_enabled": false, "fee_rows": []any{},
		},
	}
}

// FuzzConsole is a logged-in admin's browser sending any query to the
// console's lists and pages and any form to its settings screens, order
// and payment operations, subscription actions and webhook forms (with a
// valid CSRF token). Nothing may answer 5xx or panic; a page is HTML, a
// form's answer a page or a redirect within the console.
func FuzzConsole(f *testing.F) {
	seeds := map[string][]string{
		"GET /admin/":                    {"days=7", "from=2026-03-01&to=2026-03-31", "from=2026-04-01&to=2025-01-01", "days=%00"},
		"GET /admin/orders":              {"q=fz-1&status=paid&method=card&from=2026-01-01&to=2026-12-31", "state=unknown&after=ord_x", "q=%E5%B1%B1%E7%94%B0"},
		"GET /admin/orders/@ord":         {"", "done=x"},
		"GET /admin/orders/@ord/payment": {"op=change_amount", "op=%3Cscript%3E"},
		"GET /admin/logs":                {"code=K20&tx=000482917365&op=1Auth&status=failed&from=2026-01-01&to=2026-01-02&payment=pay_1", "after=att_00000000000000000000000000"},
		"GET /admin/logs/codes":          {"q=K2", "class=issuer_decline"},
		"GET /admin/customers":           {"q=cus_", "after=cus%00"},
		"GET /admin/customers/@cus":      {""},
		"GET /admin/subscriptions":       {"status=active&after=sub_0"},
		"GET /admin/webhooks/events":     {"type=payment.paid&after=evt_1"},
		"GET /admin/settings/golive":     {""},
		"POST /admin/settings/card": {
			"environment=simulator&plan=pro&notify_log=1&card.enabled=1&card.title=%E3%82%AB%E3%83%BC%E3%83%89&card.merchant_id=%EF%BC%90%EF%BC%93&card.tenant_id=0001&card.operation=1Gathering&card.installments=installments&card.completed_status=processing&version=@ver",
			"environment=production&plan=light&card.enabled=1&card.merchant_pass_test=x&card.merchant_pass_test.delete=1&card.aes_key=short&version=@ver",
			"environment=production&confirm_production=1&plan=pro&card.link_type=1&card.three_ds=1&version=abc",
			"environment=production&confirm_production=1&plan=pro&card.enabled=1&card.merchant_id=030000001&card.tenant_id=0001&card.operation=1Auth&card.installments=lump_sum_only&card.completed_status=processing&version=@ver",
		},
		"POST /admin/settings/collection": {
			"environment=simulator&plan=pro&collection.enabled=1&collection.merchant_id=030000001&collection.due_days=%EF%BC%97&collection.fee_enabled=1&collection.fee_rows.from=0&collection.fee_rows.to=1%2C000&collection.fee_rows.fee=110&collection.fee_rows.from=1001&collection.fee_rows.to=*&collection.fee_rows.fee=220&collection.completed_status=processing&version=@ver",
			"collection.due_days=61&collection.fee_rows.from=x&collection.fee_rows.to=&collection.fee_rows.fee=-1&collection.fee_rows.from=&collection.fee_rows.to=5&version=@ver",
			"collection.due_days=9223372036854775808&collection.completed_status=nope",
		},
		"POST /admin/orders/@cord/charge":                     {"amount=1%2C100&capture=1", "amount=0", "amount=%EF%BC%91%EF%BC%90%EF%BC%90"},
		"POST /admin/orders/@ord/collection":                  {"pay_limit=20260405&amount=1100", "pay_limit=2026-04-05&amount=-1", "pay_limit="},
		"POST /admin/payments/@pay/capture":                   {""},
		"POST /admin/payments/@pay/cancel":                    {"", "view=dialog"},
		"POST /admin/payments/@pay/change_amount":             {"amount=500", "amount=99999999999999999999", "amount=1.5"},
		"POST /admin/payments/@pay/reauthorize":               {"amount=2000"},
		"POST /admin/payments/@pay/resolve":                   {"outcome=succeeded&process_id=p&process_pass=q", "outcome=failed"},
		"POST /admin/payments/@col/change_due":                {"pay_limit=20260410&amount=1100", "pay_limit=20260230"},
		"POST /admin/payments/@col/collection_cancel":         {""},
		"POST /admin/payments/@col/resolve":                   {"outcome=succeeded&process_id=p&process_pass=q&free_area=f"},
		"POST /admin/subscriptions/@sub/pause":                {""},
		"POST /admin/subscriptions/@sub/cancel_at_period_end": {""},
		"POST /admin/subscriptions/@sub/cancel":               {"confirm=1"},
		"POST /admin/webhooks": {"url=https%3A%2F%2Fshop.example%2Fhooks&event_types=payment.paid&event_types=order.created&enabled=1",
			"url=https%3A%2F%2Fshop.example%2Fhooks&event_types=payment.paid&event_types=order.paid&enabled=1", "url=javascript%3Aalert(1)", "url=http%3A%2F%2F127.0.0.1%2F&event_types=nope"},
		"POST /admin/webhooks/@wh": {"url=https%3A%2F%2Fshop.example%2Fnew&enabled=", "url="},
	}
	for i, rt := range fzRoutes {
		for _, s := range seeds[rt] {
			f.Add(uint8(i), s, false)
		}
		f.Add(uint8(i), "", true)
	}

	tb := paytest.NewFuzzTB(f)
	var s atomic.Pointer[sim.Server]
	e := paytest.Start(tb, paytest.Options{Transport: func(http.RoundTripper) http.RoundTripper { return fzSim{&s} }})
	s.Store(e.Sim)
	payer := cardpay.New(cardpay.Config{Service: e.Svc, Gateways: e.Gateways, ReturnURL: e.Recv + "/escott/notify", Logger: e.Log})
	col := cvspay.New(cvspay.Config{Service: e.Svc, Gateways: e.Gateways, Logger: e.Log})
	subs := renewal.New(renewal.Config{Service: e.Svc, Cards: payer, Logger: e.Log})
	h := console.New(console.Config{Service: e.Svc, Cards: payer, Collections: col, Subscriptions: subs, ShopID: shopID,
		PublicURL: e.Recv, Logger: e.Log})
	mux := http.NewServeMux()
	mux.Handle(console.Pattern, h)
	e.Serve(mux)
	base, _ := json.Marshal(fzSettings())
	ctx := context.Background()
	if _, _, err := e.Svc.UpdateSettings(ctx, shopID, base, service.AnyVersion); err != nil {
		f.Fatal(err)
	}
	admin, err := e.Svc.CreateAdminUser(ctx, shopID, adminEmail, "担当", kessai.RoleAdmin, adminPassword)
	if err != nil {
		f.Fatal(err)
	}
	var seq atomic.Int64
	order := func(customer string) (string, error) {
		amount := int64(2200)
		o, err := e.Svc.CreateOrder(ctx, shopID, service.OrderInput{ShopOrderID: fmt.Sprintf("fz-%d", seq.Add(1)), Amount: &amount,
			CustomerID: customer, Billing: &defaultBilling, Items: []service.ItemInput{{Name: "Tシャツ", Quantity: 1, UnitAmount: amount}}})
		if err != nil {
			return "", err
		}
		return o.ID, nil
	}
	pay := func(customer string, save bool) (*cardpay.Result, error) {
		oid, err := order(customer)
		if err != nil {
			return nil, err
		}
		tok, err := e.Sim.IssueToken(paytest.DemoID, "test", sim.DemoCard, "3012", "8888", "")
		if err != nil {
			return nil, err
		}
		return payer.Pay(ctx, shopID, oid, cardpay.PayInput{Token: tok, CardPrefix: sim.DemoCard[:6], SaveCard: save})
	}
	const customer = "cus_fuzz"
	if res, err := pay(customer, true); err != nil || res.Status != cardpay.StatusSucceeded {
		f.Fatalf("first payment: %+v %v", res, err)
	}

	f.Fuzz(func(t *testing.T, route uint8, form string, en bool) {
		method, target, _ := strings.Cut(fzRoutes[int(route)%len(fzRoutes)], " ")
		// Each iteration starts from the same shop.
		if _, _, err := e.Svc.UpdateSettings(ctx, shopID, base, service.AnyVersion); err != nil {
			t.Fatal(err)
		}
		var cleanup []func()
		defer func() {
			for _, c := range cleanup {
				c()
			}
		}()
		makers := map[string]func() (string, error){
			"@ord":  func() (string, error) { return order("") },
			"@cus":  func() (string, error) { return customer, nil },
			"@cord": func() (string, error) { return order(customer) },
			"@ver": func() (string, error) {
				_, v, err := e.Svc.GetSettings(ctx, shopID)
				return strconv.FormatInt(v, 10), err
			},
			"@pay": func() (string, error) {
				res, err := pay("", false)
				if err != nil || res.Payment == nil {
					return "", fmt.Errorf("pay: %+v %v", res, err)
				}
				return res.Payment.ID, nil
			},
			"@col": func() (string, error) {
				oid, err := order("")
				if err != nil {
					return "", err
				}
				res, err := col.Register(ctx, shopID, oid, cvspay.RegisterInput{})
				if err != nil || res.Payment == nil {
					return "", fmt.Errorf("register: %+v %v", res, err)
				}
				return res.Payment.ID, nil
			},
			"@sub": func() (string, error) {
				sub, err := subs.Create(ctx, shopID, renewal.CreateInput{CustomerID: customer, Description: "定期便", Amount: 1980,
					Interval: subscription.Interval{Unit: subscription.Month, Count: 1}})
				if err != nil {
					return "", err
				}
				cleanup = append(cleanup, func() { _, _ = subs.Cancel(ctx, shopID, sub.ID, false) })
				return sub.ID, nil
			},
			"@wh": func() (string, error) {
				ep, _, err := e.Svc.CreateWebhookEndpoint(ctx, shopID, service.WebhookEndpointInput{URL: "https://shop.example/hooks"})
				if err != nil {
					return "", err
				}
				cleanup = append(cleanup, func() { _ = e.Svc.DeleteWebhookEndpoint(ctx, shopID, ep.ID) })
				return ep.ID, nil
			},
		}
		values := map[string]string{}
		expand := func(s string) string {
			for ph, mk := range makers {
				if !strings.Contains(s, ph) {
					continue
				}
				v, ok := values[ph]
				if !ok {
					var err error
					if v, err = mk(); err != nil {
						t.Fatalf("%s: %v", ph, err)
					}
					values[ph] = v
				}
				s = strings.ReplaceAll(s, ph, v)
			}
			return s
		}
		target, form = expand(target), expand(form)
		token, sess, err := e.Svc.StartAdminSession(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		var r *http.Request
		if method == "GET" {
			r = httptest.NewRequest("GET", e.Recv+target, nil)
			r.URL.RawQuery = form
		} else {
			body := form
			if !strings.Contains(form, "csrf=") {
				body += "&csrf=" + url.QueryEscape(sess.CSRFToken)
			}
			r = httptest.NewRequest("POST", e.Recv+target, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		r.AddCookie(&http.Cookie{Name: "kessai_admin", Value: token})
		if en {
			r.AddCookie(&http.Cookie{Name: "kessai_admin_lang", Value: "en"})
		}
		before := tb.Panics()
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if tb.Panics() != before {
			t.Fatalf("%s %s %q: recovered panic: %s", method, target, form, tb.LastPanic())
		}
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: HTTP %d\n%s", method, target, form, w.Code, w.Body)
		}
		switch loc := w.Header().Get("Location"); {
		case w.Code >= 300 && w.Code < 400:
			// Never to the login page: the session is fresh.
			if !strings.HasPrefix(loc, console.BasePath) || strings.HasPrefix(loc, console.BasePath+"/login") {
				t.Fatalf("%s %s %q: redirect to %q", method, target, form, loc)
			}
		case !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html"):
			t.Fatalf("%s %s %q: HTTP %d %s", method, target, form, w.Code, w.Header().Get("Content-Type"))
		}
	})
}
