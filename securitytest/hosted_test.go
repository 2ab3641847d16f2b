package securitytest

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The hosted pages' refusals (hosted/messages.go).
const (
	msgCheckoutCSRF = "ページの有効期限が切れました。もう一度お試しください。"
	msgCardData     = "カード番号などのカード情報はこのページに送信できません。カード情報はカード会社へ直接送られます。"
)

// TestCheckoutRefusesForgedFormsAndCardData attacks the hosted checkout the
// way a cross-site page or a careless integration could (docs/
// hosted-checkout.md): a POST without the CSRF cookie, with another
// browser's token, or with another order's token is 403 and reaches no
// gateway; and a request carrying a card number — a form field, a query
// parameter, a field name, a "token" that is a card number — is 400,
// processed by nothing, and the number appears nowhere in kessai's log.
func TestCheckoutRefusesForgedFormsAndCardData(t *testing.T) {
	t.Parallel()
	in := start(t)
	a, b := in.createOrder(t, "HOSTED-A", 1100, nil), in.createOrder(t, "HOSTED-B", 1100, nil)
	shopper, other := newBrowser(t), newBrowser(t)
	tokenA := csrfOf(t, shopper.get(t, in.API+"/checkout/"+a.ID))
	tokenB := csrfOf(t, shopper.get(t, in.API+"/checkout/"+b.ID))
	otherA := csrfOf(t, other.get(t, in.API+"/checkout/"+a.ID))
	form := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "method": {"card"}, "token": {in.simToken(t, "4123000000000300", "8888")},
			"card_prefix": {"412300"}, "pay_type": {"01"}}
	}
	served := in.simServed(t)
	for _, c := range []struct {
		name string
		b    *browser
		csrf string
	}{
		{"no cookie (a cross-site form) with the shopper's token", newBrowser(t), tokenA},
		{"no token", shopper, ""},
		{"another order's token", shopper, tokenB},
		{"another browser's token", other, tokenA},
		{"the other browser's own token, the shopper's cookie", shopper, otherA},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.b.post(t, in.API+"/checkout/"+a.ID, form(c.csrf))
			if r.Status != http.StatusForbidden || !bytes.Contains(r.Body, []byte(msgCheckoutCSRF)) {
				t.Errorf("HTTP %d (want 403) without %q", r.Status, msgCheckoutCSRF)
			}
		})
	}
	if calls := in.simServed(t) - served; calls != 0 {
		t.Errorf("forged checkout forms cost %d gateway calls", calls)
	}
	if o := in.order(t, a.ID); o.Status != "pending" {
		t.Errorf("order %s after forged forms, want pending", o.Status)
	}

	const pan = "4123000000000300"
	for _, c := range []struct {
		name, method, query string
		form                url.Values
	}{
		{"a card number field", "POST", "", url.Values{"csrf": {tokenA}, "method": {"card"}, "cardno": {pan}, "seccd": {"8888"}}},
		{"a card number under an innocent name", "POST", "", url.Values{"csrf": {tokenA}, "method": {"card"}, "note": {"4123 0000 0000 0300"}}},
		{"a card number as the field name", "POST", "", url.Values{"csrf": {tokenA}, pan: {"1"}}},
		{"a card number as the token", "POST", "", url.Values{"csrf": {tokenA}, "method": {"card"}, "token": {pan}, "card_prefix": {"412300"}}},
		{"a full card number as the prefix", "POST", "", url.Values{"csrf": {tokenA}, "method": {"card"}, "token": {"tok"}, "card_prefix": {pan}}},
		{"a card number in the query", "GET", "?card_number=" + pan, nil},
		{"a card number in the query of a POST", "POST", "?q=" + pan, url.Values{"csrf": {tokenA}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r *answer
			if c.method == "GET" {
				r = shopper.get(t, in.API+"/checkout/"+a.ID+c.query)
			} else {
				r = shopper.post(t, in.API+"/checkout/"+a.ID+c.query, c.form)
			}
			if r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte(msgCardData)) {
				t.Errorf("HTTP %d (want 400) without %q", r.Status, msgCardData)
			}
			if bytes.Contains(r.Body, []byte(pan)) || bytes.Contains(r.Body, []byte("4123 0000")) {
				t.Error("the refusal echoes the card number")
			}
		})
	}
	if calls := in.simServed(t) - served; calls != 0 {
		t.Errorf("requests with card data cost %d gateway calls", calls)
	}
	if logs := in.logs(); strings.Contains(logs, pan) || strings.Contains(logs, "4123 0000") || strings.Contains(logs, "4123+0000") {
		t.Error("a card number sent to the hosted checkout was written to the log")
	}
}
