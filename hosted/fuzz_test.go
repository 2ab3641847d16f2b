package hosted_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/service"
)

var fzCSRF = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// fzPages are what FuzzHostedPages sends: the checkout page of a fresh
// order (GET with any query, POST with any form), the result page, and
// the "my cards" page behind a fresh signed link (GET, POST).
var fzPages = []string{"POST checkout", "GET checkout", "GET result", "POST mycards", "GET mycards"}

// FuzzHostedPages is a shopper's browser sending any query and any form
// (with the page's CSRF cookie and token, as a real browser would) to
// the hosted checkout and "my cards" pages, in a shop with cards and
// collections on. Placeholders: @tok (a fresh token of an approved
// card), @t (the page's signed link token). Nothing may answer 5xx or
// panic, and no page may show an internal error.
func FuzzHostedPages(f *testing.F) {
	for i, s := range []string{
		"method=card&token=@tok&card_prefix=401200&pay_type=01",
		"method=card&token=@tok&card_prefix=401200&pay_type=10&save_card=1&cardholder_name=taro+yamada&consent=1",
		"method=card&card_choice=saved",
		"method=collection&last_name=%E5%B1%B1%E7%94%B0&first_name=%E5%A4%AA%E9%83%8E&last_name_kana=%EF%BE%94%EF%BE%8F%EF%BE%80%EF%BE%9E&first_name_kana=%E3%81%9F%E3%82%8D%E3%81%86&phone=090-1234-5678",
		"method=collection&phone=%2B81",
		"method=cash&lang=en",
		"method=card&token=&card_prefix=x",
		"csrf=forged&method=card&token=@tok",
	} {
		f.Add(uint8(0), "", s)
		if i < 2 {
			f.Add(uint8(3), "", "action=save&"+s)
		}
	}
	f.Add(uint8(1), "lang=en", "")
	f.Add(uint8(1), "status=failed&error=payment_failed&payment_id=pay_00000000000000000000000000", "")
	f.Add(uint8(2), "status=succeeded&order_id=ord_00000000000000000000000000", "")
	f.Add(uint8(2), "status=failed&customer_id=c&error=card_not_found", "")
	f.Add(uint8(3), "", "action=delete")
	f.Add(uint8(3), "", "action=save&token=@tok&consent=1&cardholder_name=TARO")
	f.Add(uint8(4), "t=@t&lang=en&done=saved", "")
	f.Add(uint8(4), "t=@t&status=failed&customer_id=cus_fz&error=x", "")
	f.Add(uint8(4), "t=e30.AAAA", "")
	f.Add(uint8(4), "t=", "")

	tb := paytest.NewFuzzTB(f)
	e := newEnv(tb, withCollection(), withCard("members", true, "installments", "installments_bonus"))
	const customer = "cus_fz"
	e.saveCard(customer, visaOK)
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, page uint8, query, form string) {
		method, which, _ := strings.Cut(fzPages[int(page)%len(fzPages)], " ")
		var target string
		switch which {
		case "checkout":
			amount := int64(1100 + seq.Add(1)%3*1000)
			o, err := e.svc.CreateOrder(e.ctx, shopID, orderInput(amount, customer, seq.Load()))
			if err != nil {
				t.Fatal(err)
			}
			target = hosted.CheckoutPrefix + o.ID
		case "result":
			target = hosted.ResultPath
		case "mycards":
			link, _, err := e.h.MyCardsLink(e.ctx, shopID, customer, shopCardsURL, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			target = u.Path
			query = strings.ReplaceAll(query, "@t", url.QueryEscape(u.Query().Get("t")))
			if method == "POST" {
				target += "?" + u.RawQuery
			}
		}
		if strings.Contains(form, "@tok") {
			tok, err := e.sim.IssueToken(demoID, "test", visaOK, demoExp, "", "")
			if err != nil {
				t.Fatal(err)
			}
			form = strings.ReplaceAll(form, "@tok", tok)
		}
		var cookies []*http.Cookie
		if method == "POST" {
			// The page first, for its CSRF cookie and token (a link
			// is first exchanged for the session cookie).
			get := target
			var g *httptest.ResponseRecorder
			for range 3 {
				g = httptest.NewRecorder()
				req := httptest.NewRequest("GET", e.url+get, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				e.h.ServeHTTP(g, req)
				cookies = append(cookies, g.Result().Cookies()...)
				if g.Code != http.StatusSeeOther {
					break
				}
				get = g.Header().Get("Location")
			}
			m := fzCSRF.FindStringSubmatch(g.Body.String())
			if g.Code != http.StatusOK || m == nil {
				t.Fatalf("GET %s: %d without a form", get, g.Code)
			}
			target = get
			if !strings.Contains(form, "csrf=") {
				form += "&csrf=" + url.QueryEscape(html.UnescapeString(m[1]))
			}
		}
		var r *http.Request
		if method == "GET" {
			r = httptest.NewRequest("GET", e.url+target, nil)
			r.URL.RawQuery = query
		} else {
			r = httptest.NewRequest("POST", e.url+target, strings.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		before := tb.Panics()
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if tb.Panics() != before {
			t.Fatalf("%s %s %q %q: recovered panic: %s", method, target, query, form, tb.LastPanic())
		}
		if w.Code >= 500 || strings.Contains(w.Header().Get("Location"), "internal_error") || strings.Contains(w.Body.String(), "internal_error") {
			t.Fatalf("%s %s %q %q: HTTP %d %s\n%s", method, target, query, form, w.Code, w.Header().Get("Location"), w.Body)
		}
	})
}

// orderInput is an order of the customer with the billing a collection
// needs but no kana (the form then asks for them).
func orderInput(amount int64, customer string, n int64) service.OrderInput {
	return service.OrderInput{ShopOrderID: fmt.Sprintf("FZ-%d", n), Amount: &amount, ReturnURL: shopReturnURL, CustomerID: customer,
		Items:   []service.ItemInput{{Name: "緑茶 100g", Quantity: 1, UnitAmount: amount}},
		Billing: &kessai.Billing{LastName: "山田", FirstName: "太郎", Email: "taro@example.jp"}}
}
