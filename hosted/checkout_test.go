package hosted_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/internal/testdb"
)

// wantCSP checks the page's Content-Security-Policy: nothing but kessai's
// own origin, plus the gateway exactly where the page needs it.
func wantCSP(t testing.TB, p page, script, connect, formAction string) {
	t.Helper()
	got := p.header.Get("Content-Security-Policy")
	want := "default-src 'none'; script-src " + script + "; style-src 'self'; img-src 'self' data:; connect-src " + connect +
		"; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
	if got != want {
		t.Fatalf("Content-Security-Policy\n got %s\nwant %s", got, want)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", p.header)
	}
}

// noInlineCode checks what the CSP forbids anyway, so that a page that
// relies on it is caught here and not in a shopper's console.
func noInlineCode(t testing.TB, body string) {
	t.Helper()
	for _, tag := range regexp.MustCompile(`(?is)<script\b[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, "src=") {
			t.Fatalf("inline script %s", tag)
		}
	}
	if regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=`).MatchString(body) {
		t.Fatalf("inline style or event handler in:\n%s", body)
	}
}

func TestCheckoutPage(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500)
	s := e.shopper()
	p := s.get("/checkout/" + o.ID)
	wantStatus(t, p, http.StatusOK)
	wantCSP(t, p, "'self' "+e.simURL, e.simURL, "'self' "+e.simURL)
	noInlineCode(t, p.body)
	wantIn(t, p.body, `<html lang="ja">`, "テスト商店", "ORD-0001", "緑茶 100g", "5,500円",
		"クレジットカード", "クレジットカードで支払う ※テストモードで稼働中", "テスト環境で稼働中です",
		"カード番号", "有効期限(月/年)", "セキュリティーコード", "カード名義", "注文する",
		// E7 exactly as a shop page loads it (spec §7.1).
		`<script src="`+e.simURL+escott.PathTokenJS+`?k_TokenNinsyoCode=DEMOTOKENCODE001" callBackFunc="kessaiTokenCallback" class="spsvToken"></script>`,
		`/hosted/assets/checkout.js?v=`, `/hosted/assets/hosted.css?v=`)
	// Lump sum only by default: no installment select; no consent
	// without 3-D Secure; no saved-card choices for a guest.
	wantNotIn(t, p.body, `id="pay-type"`, `name="consent"`, `name="card_choice"`, `name="save_card"`)

	// The card inputs have no name: the browser cannot post them to kessai.
	for _, f := range forms(p.body) {
		for _, in := range f.Inputs {
			if strings.HasPrefix(in["id"], "cc-") && in["type"] != "hidden" && in["name"] != "" {
				t.Fatalf("card input %s has a name (%s)", in["id"], in["name"])
			}
		}
	}
	// Every visible input is labelled.
	for _, id := range []string{"cc-number", "cc-exp-mm", "cc-exp-yy", "cc-csc", "cc-name"} {
		wantIn(t, p.body, `for="`+id+`"`, `id="`+id+`"`)
	}

	// English on request, remembered by a cookie.
	en := s.get("/checkout/" + o.ID + "?lang=en")
	wantIn(t, en.body, `<html lang="en">`, "Card number", "Credit card", "Pay by credit card (running in test mode)", "¥5,500", "Place order")
	again := s.get("/checkout/" + o.ID)
	wantIn(t, again.body, `<html lang="en">`)
	ja := s.get("/checkout/" + o.ID + "?lang=ja")
	wantIn(t, ja.body, `<html lang="ja">`)

	// Security code off (SET-08): no field.
	e.card("security_code", false)
	wantNotIn(t, s.get("/checkout/"+o.ID).body, `id="cc-csc"`)

	// Production: no test notice, the real gateway's script origin.
	e.card("merchant_pass_prod", "prodPass0001")
	e.settings(map[string]any{"environment": "production"})
	p = s.get("/checkout/" + o.ID)
	wantCSP(t, p, "'self' https://www.e-scott.jp", "https://www.e-scott.jp", "'self' https://www.e-scott.jp")
	wantIn(t, p.body, `src="https://www.e-scott.jp/euser/stn/CdGetJavaScript.do?k_TokenNinsyoCode=DEMOTOKENCODE001"`)
	wantNotIn(t, p.body, "テストモード", "テスト環境")
	e.settings(map[string]any{"environment": "test"})
	wantCSP(t, s.get("/checkout/"+o.ID), "'self' https://www.test.e-scott.jp", "https://www.test.e-scott.jp", "'self' https://www.test.e-scott.jp")
}

func TestCheckoutUnknownOrder(t *testing.T) {
	e := newEnv(t)
	s := e.shopper()
	p := s.get("/checkout/ord_0000000000000000000000000a")
	wantStatus(t, p, http.StatusNotFound)
	wantIn(t, p.body, "ご注文が見つかりません")
	wantCSP(t, p, "'self'", "'none'", "'self'")
	wantStatus(t, s.get("/checkout/nonsense"), http.StatusNotFound)
	wantStatus(t, s.get("/hosted/nothing"), http.StatusNotFound)
}

// TestCheckoutPays runs the token checkout end to end on both databases:
// the page, the POST with the token, the thank-you page.
func TestCheckoutPays(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		o := e.order(5500)
		s := e.shopper()
		p := s.payWith(o, demoCard)
		wantStatus(t, p, http.StatusSeeOther)
		if p.loc != "/checkout/"+o.ID+"?lang=ja" {
			t.Fatalf("redirect to %s", p.loc)
		}
		if st := e.getOrder(o.ID).Status; st != kessai.OrderProcessing {
			t.Fatalf("order %s", st)
		}
		thanks := s.follow(p)
		wantStatus(t, thanks, http.StatusOK)
		wantIn(t, thanks.body, "ご注文ありがとうございます", "お支払いが完了しました。", `data-state="captured"`, "5,500円", "ORD-0001")
		pays := e.payments(o.ID)
		link := shopReturnURL + "?order_id=" + o.ID + "&amp;payment_id=" + pays[0].ID + "&amp;status=succeeded"
		wantIn(t, thanks.body, `href="`+link+`"`)
		wantCSP(t, thanks, "'self'", "'none'", "'self'")
		noInlineCode(t, thanks.body)

		// A second POST of the same page cannot pay twice: the order is
		// paid, the shopper is shown it.
		v := url.Values{"csrf": {"x"}, "method": {"card"}, "token": {e.token(visaOK)}}
		wantStatus(t, s.post("/checkout/"+o.ID, v), http.StatusSeeOther)
		if n := len(e.payments(o.ID)); n != 1 {
			t.Fatalf("%d payments", n)
		}
	})
}

func TestCheckoutAuthorisedAndZero(t *testing.T) {
	e := newEnv(t, withCard("operation", "1Auth"))
	s := e.shopper()
	o := e.order(1200)
	thanks := s.follow(s.payWith(o, visaOK))
	wantIn(t, thanks.body, `data-state="authorized"`, "与信")

	z := e.order(0)
	p := s.get("/checkout/" + z.ID)
	wantIn(t, p.body, "お支払い金額は0円です", "注文を確定する")
	wantNotIn(t, p.body, `id="cc-number"`)
	v := e.form(p.body, "checkout-form").Fields
	thanks = s.follow(s.post("/checkout/"+z.ID, v))
	wantIn(t, thanks.body, "ご注文が完了しました。")
}

func TestCheckoutCSRF(t *testing.T) {
	e := newEnv(t)
	o := e.order(3000)
	other := e.order(3000)
	s := e.shopper()
	good := s.checkoutForm(o)

	post := func(v url.Values) page {
		v = cloneValues(v)
		v.Set("token", e.token(visaOK))
		v.Set("card_prefix", "401200")
		return s.post("/checkout/"+o.ID, v)
	}
	// No token.
	v := cloneValues(good)
	v.Del("csrf")
	p := post(v)
	wantStatus(t, p, http.StatusForbidden)
	wantIn(t, p.body, "ページの有効期限が切れました")
	// Another order's token.
	v.Set("csrf", s.checkoutForm(other).Get("csrf"))
	wantStatus(t, post(v), http.StatusForbidden)
	// Another browser (no cookie, or another cookie).
	stranger := e.shopper()
	stranger.get("/checkout/" + o.ID)
	v = cloneValues(good)
	v.Set("token", e.token(visaOK))
	wantStatus(t, stranger.post("/checkout/"+o.ID, v), http.StatusForbidden)
	if n := len(e.payments(o.ID)); n != 0 {
		t.Fatalf("refused POSTs made %d payments", n)
	}
	// The page shown with the refusal has a fresh token that works.
	retry := e.form(p.body, "checkout-form").Fields
	wantStatus(t, post(retry), http.StatusSeeOther)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestCardDataRefused: whatever a request carries that looks like card
// data, kessai refuses it whole, pays nothing, and logs none of it.
func TestCardDataRefused(t *testing.T) {
	e := newEnv(t)
	o := e.order(3000)
	s := e.shopper()
	base := s.checkoutForm(o)
	cases := []struct {
		name string
		set  map[string]string
	}{
		{"cardno", map[string]string{"cardno": demoCard}},
		{"card_number", map[string]string{"card_number": "4012 0000 0000 0008"}},
		{"seccd", map[string]string{"seccd": "8888"}},
		{"cvv", map[string]string{"cvv": "123"}},
		{"expiry", map[string]string{"expmm": "12", "expyy": "28"}},
		{"number in the name", map[string]string{"cardholder_name": "TARO 4123000000000300"}},
		{"number in another field", map[string]string{"pay_type": "4123-0000-0000-0300"}},
		{"full-width digits", map[string]string{"cardholder_name": "４１２３０００００００００３００"}},
		{"card number as prefix", map[string]string{"card_prefix": demoCard}},
		{"card number as token", map[string]string{"token": demoCard}},
		{"card number as a field name", map[string]string{demoCard: "x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := cloneValues(base)
			v.Set("token", e.token(visaOK))
			for k, val := range c.set {
				v.Set(k, val)
			}
			p := s.post("/checkout/"+o.ID, v)
			wantStatus(t, p, http.StatusBadRequest)
			wantIn(t, p.body, "カード情報はこのページに送信できません")
			wantCSP(t, p, "'self'", "'none'", "'self'")
		})
	}
	// In a query string too, on any page.
	p := s.get("/checkout/" + o.ID + "?cardno=" + demoCard)
	wantStatus(t, p, http.StatusBadRequest)
	wantNotIn(t, p.body, demoCard, "cardno")
	p = s.get("/hosted/my-cards?pan=" + visaOK)
	wantStatus(t, p, http.StatusBadRequest)
	wantNotIn(t, p.body, visaOK)
	p = s.get("/checkout/" + visaOK + "?x=1")
	wantStatus(t, p, http.StatusNotFound)
	wantNotIn(t, p.body, visaOK)
	// A numeric customer id is a customer id.
	wantStatus(t, s.get("/hosted/result?status=succeeded&customer_id=20260401000012345"), http.StatusOK)
	// An order id with many digits is an order id.
	p = s.get("/hosted/result?status=failed&order_id=ord_0000000000000000000000000a")
	wantStatus(t, p, http.StatusSeeOther)

	if n := len(e.payments(o.ID)); n != 0 {
		t.Fatalf("%d payments", n)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "card data refused") {
		t.Fatalf("refusals not logged:\n%s", logs)
	}
	for _, secret := range []string{demoCard, visaOK, "4012 0000 0000 0008", "４１２３", "cardno", "seccd"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains %q:\n%s", secret, logs)
		}
	}
	if regexp.MustCompile(`=8888(&|\s|$)`).MatchString(logs) {
		t.Fatalf("log contains the security code:\n%s", logs)
	}
}

// TestDeclineKeepsValues: a refused card shows the message of its class
// (never the gateway code), keeps the shopper's choices (the card fields
// stay empty: they were never sent), and a retry with a new card works.
func TestDeclineKeepsValues(t *testing.T) {
	e := newEnv(t, withCard("installments", "installments", "three_ds", true))
	o := e.order(30000, forCustomer("cust_1"))
	s := e.shopper()
	p := s.payWith(o, declineCd, "pay_type", "03", "save_card", "1", "consent", "1", "cardholder_name", "taro yamada")
	// 3-D Secure first: the decline comes at the authorisation.
	wantStatus(t, p, http.StatusOK)
	back := s.through3DS(p, "0")
	wantStatus(t, back, http.StatusSeeOther)
	if !strings.Contains(back.loc, "/checkout/"+o.ID) || !strings.Contains(back.loc, "status=failed") {
		t.Fatalf("back to %s", back.loc)
	}
	page := s.follow(back)
	wantStatus(t, page, http.StatusOK)
	wantIn(t, page.body, "限度額")
	wantNotIn(t, page.body, "G55")

	// The same without 3-D Secure: the form comes back at once, with the
	// values kept.
	e.card("three_ds", false)
	p = s.payWith(o, declineCd, "pay_type", "03", "save_card", "1")
	wantStatus(t, p, http.StatusPaymentRequired)
	// The declined card was registered before the authorisation (spec
	// §7.5), so the choices appear, with "change and pay" kept.
	wantIn(t, p.body, "限度額", `id="form-errors"`, `<option value="03" selected>3回払い</option>`,
		`value="change" id="choice-change" checked`, `data-initial-prefix="400000"`)
	wantNotIn(t, p.body, "G55", declineCd)
	if st := e.getOrder(o.ID).Status; st != kessai.OrderFailed {
		t.Fatalf("order %s", st)
	}
	// Retry from the page shown, with a good card.
	v := e.form(p.body, "checkout-form").Fields
	v.Set("token", e.token(visaOK))
	v.Set("card_prefix", visaOK[:6])
	v.Set("pay_type", "03")
	thanks := s.follow(s.post("/checkout/"+o.ID, v))
	wantIn(t, thanks.body, "お支払いが完了しました。", "3回払い")
}

func TestCheckoutErrors(t *testing.T) {
	e := newEnv(t, withCard("installments", "installments"))
	o := e.order(3000)
	s := e.shopper()
	// AMEX has no 2回: the server refuses what the page never offers.
	p := s.payWith(o, amexOK, "pay_type", "02")
	wantStatus(t, p, http.StatusBadRequest)
	wantIn(t, p.body, "ご利用のカードでは「2回払い」はご利用いただけません")
	// No token (JavaScript off).
	v := s.checkoutForm(o)
	p = s.post("/checkout/"+o.ID, v)
	wantStatus(t, p, http.StatusBadRequest)
	wantIn(t, p.body, "JavaScript を有効にして")
	// A used token.
	tok := e.token(visaOK)
	v = s.checkoutForm(o)
	v.Set("token", tok)
	wantStatus(t, s.post("/checkout/"+o.ID, v), http.StatusSeeOther)
	o2 := e.order(3000)
	v = s.checkoutForm(o2)
	v.Set("token", tok)
	p = s.post("/checkout/"+o2.ID, v)
	wantStatus(t, p, http.StatusPaymentRequired)
	wantIn(t, p.body, `id="form-errors"`)
	// An unknown method.
	v = s.checkoutForm(o2)
	v.Set("method", "bitcoin")
	wantStatus(t, s.post("/checkout/"+o2.ID, v), http.StatusBadRequest)
}

// TestInstallmentRules: the rules rendered for the script are exactly the
// server's (escott.AllowedPayTypes): VISA/Mastercard/JCB all, AMEX without
// 2回 and リボ, Diners 一括 and リボ, other lump sum; bonus only with the
// bonus setting; nothing in link type.
func TestInstallmentRules(t *testing.T) {
	e := newEnv(t, withCard("installments", "installments"))
	o := e.order(30000)
	s := e.shopper()
	rules := func() map[string][]string {
		p := s.get("/checkout/" + o.ID)
		m := regexp.MustCompile(`data-paytypes="([^"]*)"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no rules:\n%s", p.body)
		}
		var r struct {
			Groups map[string][]struct{ V, L string }
		}
		if err := json.Unmarshal([]byte(htmlUnescape(m[1])), &r); err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for g, l := range r.Groups {
			for _, o := range l {
				out[g] = append(out[g], o.V)
			}
		}
		return out
	}
	r := rules()
	want := map[string]string{
		"vmj":    "01 02 03 05 06 10 12 15 18 20 24 88",
		"amex":   "01 03 05 06 10 12 15 18 20 24",
		"diners": "01 88",
		"other":  "01",
	}
	for g, w := range want {
		if got := strings.Join(r[g], " "); got != w {
			t.Errorf("%s: %s, want %s", g, got, w)
		}
	}
	e.card("installments", "installments_bonus")
	if got := strings.Join(rules()["diners"], " "); got != "01 88 80" {
		t.Errorf("diners with bonus: %s", got)
	}
	// Link type (pro plan): lump sum only, no select and no card fields.
	e.card("link_type", true)
	p := s.get("/checkout/" + o.ID)
	wantNotIn(t, p.body, `id="pay-type"`, `id="cc-number"`, "spsvToken")
	wantIn(t, p.body, "支払いを続ける", "個人情報の取り扱いに同意する")
	wantCSP(t, p, "'self'", "'none'", "'self' "+e.simURL)
}

func htmlUnescape(s string) string {
	r := strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'", "&#43;", "+")
	return r.Replace(s)
}

func TestThreeDS(t *testing.T) {
	e := newEnv(t, withCard("three_ds", true))
	s := e.shopper()

	o := e.order(4000)
	p := s.get("/checkout/" + o.ID)
	wantIn(t, p.body, "個人情報の取り扱いについて", "■利用上の注意", `name="consent"`, `name="cardholder_name"`)
	// No consent: refused before anything happens.
	p = s.payWith(o, threeDSOK, "cardholder_name", "TARO YAMADA")
	wantStatus(t, p, http.StatusBadRequest)
	wantIn(t, p.body, "「個人情報の取り扱いに同意する」にチェックを入れてください。")

	p = s.payWith(o, threeDSOK, "cardholder_name", "TARO YAMADA", "consent", "1")
	wantStatus(t, p, http.StatusOK)
	wantCSP(t, p, "'self'", "'none'", "'self' "+e.simURL)
	noInlineCode(t, p.body)
	action, _ := autoForm(t, p.body, "kessai-autosubmit")
	if !strings.HasPrefix(action, e.simURL) {
		t.Fatalf("hand-off to %s", action)
	}
	wantIn(t, p.body, "/hosted/assets/autosubmit.js?v=")
	back := s.through3DS(p, "")
	wantStatus(t, back, http.StatusSeeOther)
	if !strings.HasPrefix(back.loc, e.url+"/checkout/"+o.ID+"?") {
		t.Fatalf("receiver sent the browser to %s", back.loc)
	}
	wantIn(t, s.follow(back).body, "お支払いが完了しました。")

	// Failed authentication: back on the form with the message.
	o = e.order(4000)
	p = s.payWith(o, threeDSNG, "cardholder_name", "TARO YAMADA", "consent", "1")
	back = s.through3DS(p, "")
	page := s.follow(back)
	wantIn(t, page.body, "3D セキュア認証ができませんでした。", `id="checkout-form"`)
	if st := e.getOrder(o.ID).Status; st == kessai.OrderProcessing {
		t.Fatal("paid after failed 3-D Secure")
	}
}

func TestSavedCardCheckout(t *testing.T) {
	e := newEnv(t)
	s := e.shopper()
	// A guest checkout of a signed-in customer may save the card.
	o := e.order(2000, forCustomer("cust_9"))
	p := s.get("/checkout/" + o.ID)
	wantIn(t, p.body, "お支払い情報を登録します。次回のご利用からカード番号の入力の必要がなくなります。")
	s.follow(s.payWith(o, demoCard, "save_card", "1"))
	if _, ok := e.member("cust_9"); !ok {
		t.Fatal("card not saved")
	}

	// Next order: the saved card is offered and pre-selected.
	o = e.order(2500, forCustomer("cust_9"))
	p = s.get("/checkout/" + o.ID)
	wantIn(t, p.body, "登録済みのカードで支払う", "登録済みのカード番号の下4桁：", ">0300<",
		`value="saved" id="choice-saved" checked`, "登録済みのカードを変更して支払う", "新しいカードを使用する")
	v := e.form(p.body, "checkout-form").Fields
	v.Set("card_choice", "saved")
	thanks := s.follow(s.post("/checkout/"+o.ID, v))
	wantIn(t, thanks.body, "お支払いが完了しました。")
	if !e.payments(o.ID)[0].WithMember {
		t.Fatal("not paid with the member")
	}

	// Change the saved card and pay (design A-02).
	o = e.order(2600, forCustomer("cust_9"))
	v = s.checkoutForm(o)
	v.Set("card_choice", "change")
	v.Set("token", e.token(visaOK))
	v.Set("card_prefix", visaOK[:6])
	wantIn(t, s.follow(s.post("/checkout/"+o.ID, v)).body, "お支払いが完了しました。")
	c, err := e.payer.GetCard(e.ctx, shopID, "cust_9")
	if err != nil || c.Last4 != "0008" {
		t.Fatalf("saved card after change: %+v %v", c, err)
	}

	// Always register: no "new card once" choice, a note instead of the
	// checkbox for a new customer.
	e.card("always_register", true)
	o = e.order(2600, forCustomer("cust_9"))
	wantNotIn(t, s.get("/checkout/"+o.ID).body, `value="new"`)
	o = e.order(2600, forCustomer("cust_10"))
	p = s.get("/checkout/" + o.ID)
	wantIn(t, p.body, "このカードは次回のお支払いのために登録されます。")
	wantNotIn(t, p.body, `name="save_card"`)
}

func TestLinkTypeCheckout(t *testing.T) {
	e := newEnv(t, withCard("link_type", true))
	o := e.order(4000)
	s := e.shopper()
	v := s.checkoutForm(o)
	p := s.post("/checkout/"+o.ID, v)
	wantStatus(t, p, http.StatusBadRequest)
	wantIn(t, p.body, "「個人情報の取り扱いに同意する」にチェックを入れてください。")
	v = e.form(p.body, "checkout-form").Fields
	v.Set("consent", "1")
	p = s.post("/checkout/"+o.ID, v)
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.loc, e.simURL+escott.PathLink) {
		t.Fatalf("redirect to %s", p.loc)
	}
}

func TestResultPage(t *testing.T) {
	e := newEnv(t)
	s := e.shopper()
	o := e.order(1000)
	p := s.get("/hosted/result?status=failed&order_id=" + o.ID + "&error=three_d_secure_failed&payment_id=pay_x")
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.loc, "/checkout/"+o.ID+"?") || !strings.Contains(p.loc, "error=three_d_secure_failed") {
		t.Fatalf("forwarded to %s", p.loc)
	}
	wantIn(t, s.follow(p).body, "3D セキュア認証ができませんでした。")

	p = s.get("/hosted/result?status=succeeded&customer_id=cust_1")
	wantStatus(t, p, http.StatusOK)
	wantIn(t, p.body, "カード情報を登録しました。")
	p = s.get("/hosted/result?status=failed&customer_id=cust_1&error=three_d_secure_failed")
	wantIn(t, p.body, "3D セキュア認証ができませんでした。")
	p = s.get("/hosted/result?status=unknown&customer_id=cust_1")
	wantIn(t, p.body, "再度のお支払いはしないでください")
	wantStatus(t, s.get("/hosted/result"), http.StatusNotFound)
}

func TestAssets(t *testing.T) {
	e := newEnv(t)
	s := e.shopper()
	p := s.get("/checkout/" + e.order(100).ID)
	for _, name := range []string{"checkout.js", "hosted.css"} {
		m := regexp.MustCompile(`/hosted/assets/` + regexp.QuoteMeta(name) + `\?v=([0-9a-f]+)`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("%s not linked", name)
		}
		a := s.get(m[0])
		wantStatus(t, a, http.StatusOK)
		if cc := a.header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Fatalf("%s: Cache-Control %q", name, cc)
		}
		if a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("ETag") != `"`+m[1]+`"` {
			t.Fatalf("%s: headers %v", name, a.header)
		}
		ct := a.header.Get("Content-Type")
		if (strings.HasSuffix(name, ".js") && !strings.HasPrefix(ct, "text/javascript")) ||
			(strings.HasSuffix(name, ".css") && !strings.HasPrefix(ct, "text/css")) {
			t.Fatalf("%s: Content-Type %q", name, ct)
		}
		if cc := s.get("/hosted/assets/" + name).header.Get("Cache-Control"); cc != "public, max-age=300" {
			t.Fatalf("unversioned %s: %q", name, cc)
		}
		req, _ := http.NewRequest(http.MethodGet, e.url+m[0], nil)
		req.Header.Set("If-None-Match", `"`+m[1]+`"`)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotModified {
			t.Fatalf("conditional GET: %d", res.StatusCode)
		}
	}
	wantStatus(t, s.get("/hosted/assets/nothing.js"), http.StatusNotFound)
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, withHosted(func(c *hosted.Config) { c.RateLimit = 2 }))
	o := e.order(1000)
	s := e.shopper()
	v := s.checkoutForm(o)
	v.Del("csrf")
	for i := range 3 {
		p := s.post("/checkout/"+o.ID, v)
		if i < 2 && p.status != http.StatusForbidden {
			t.Fatalf("POST %d: %d", i, p.status)
		}
		if i == 2 {
			wantStatus(t, p, http.StatusTooManyRequests)
			wantIn(t, p.body, "しばらくしてから再度お試しください")
		}
	}
}

func TestUnknownPaymentBlocksCheckout(t *testing.T) {
	e := newEnv(t)
	o := e.order(1000)
	now := e.clock.Now()
	pay := &kessai.Payment{ID: kessai.NewID("pay", now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCard,
		State: kessai.PaymentUnknown, Amount: 1000, Currency: "JPY", TransactionCode: "000000000001", CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreatePayment(e.ctx, pay); err != nil {
		t.Fatal(err)
	}
	p := e.shopper().get("/checkout/" + o.ID)
	wantStatus(t, p, http.StatusOK)
	wantIn(t, p.body, "再度のお支払いはしないでください")
	wantNotIn(t, p.body, `id="checkout-form"`)
}
