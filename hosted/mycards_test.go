package hosted_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/internal/testdb"
)

// openMyCards has kessai sign a link for customer and opens it; it
// returns the page.
func (s *shopper) openMyCards(customer string) page {
	s.e.t.Helper()
	link, _, err := s.e.h.MyCardsLink(s.e.ctx, shopID, customer, shopCardsURL, 0)
	if err != nil {
		s.e.t.Fatal(err)
	}
	p := s.get(link)
	wantStatus(s.e.t, p, http.StatusSeeOther)
	if p.loc != "/hosted/my-cards" {
		s.e.t.Fatalf("link redirects to %s", p.loc)
	}
	return s.follow(p)
}

func TestMyCardsLink(t *testing.T) {
	e := newEnv(t)
	link, exp, err := e.h.MyCardsLink(e.ctx, shopID, "cust_1", shopCardsURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, e.url+"/hosted/my-cards?t=") {
		t.Fatalf("link %s", link)
	}
	if d := exp.Sub(e.clock.Now()); d < 9*time.Minute || d > hosted.DefaultLinkTTL {
		t.Fatalf("expires in %v", d)
	}

	// The link is exchanged for a cookie scoped to the page; the
	// redirect target no longer carries the token.
	s := e.shopper()
	p := s.get(link)
	wantStatus(t, p, http.StatusSeeOther)
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "kessai_mycards" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.Path != "/hosted/my-cards" || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge <= 0 {
		t.Fatalf("session cookie %+v", cookie)
	}
	page := s.follow(p)
	wantStatus(t, page, http.StatusOK)
	wantIn(t, page.body, "クレジットカード登録", "登録済みのカードはありません。", "カードを登録する",
		`href="`+shopCardsURL+`"`, "spsvToken")
	wantCSP(t, page, "'self' "+e.simURL, e.simURL, "'self' "+e.simURL)
	noInlineCode(t, page.body)

	// Without the cookie, or with another browser, nothing is shown.
	wantStatus(t, e.shopper().get("/hosted/my-cards"), http.StatusForbidden)

	// Tampered: another customer in the payload, a changed signature,
	// garbage.
	tok := strings.TrimPrefix(link, e.url+"/hosted/my-cards?t=")
	tok, _ = url.QueryUnescape(tok)
	other, _, _ := e.h.MyCardsLink(e.ctx, shopID, "cust_2", "", 0)
	otherTok, _ := url.QueryUnescape(strings.TrimPrefix(other, e.url+"/hosted/my-cards?t="))
	payload, _, _ := strings.Cut(tok, ".")
	_, otherSig, _ := strings.Cut(otherTok, ".")
	for _, bad := range []string{payload + "." + otherSig, tok + "x", "x" + tok, "nonsense", payload} {
		p := e.shopper().get("/hosted/my-cards?t=" + url.QueryEscape(bad))
		wantStatus(t, p, http.StatusForbidden)
		wantIn(t, p.body, "リンクの有効期限が切れているか")
	}
	// A link signed with another key (another installation).
	e2 := newEnv(t, withHosted(func(c *hosted.Config) { c.Keys = hosted.DerivedKeys([]byte("another key of 32 bytes........")) }))
	foreign, _, _ := e2.h.MyCardsLink(e2.ctx, shopID, "cust_1", "", 0)
	ft := strings.TrimPrefix(foreign, e2.url)
	wantStatus(t, e.shopper().get(ft), http.StatusForbidden)

	// Expired: ten minutes later the link is refused; the session that
	// was opened lasts half an hour.
	e.clock.Advance(hosted.DefaultLinkTTL + time.Second)
	wantStatus(t, e.shopper().get(link), http.StatusForbidden)
	wantStatus(t, s.get("/hosted/my-cards"), http.StatusOK)
	e.clock.Advance(30 * time.Minute)
	wantStatus(t, s.get("/hosted/my-cards"), http.StatusForbidden)

	// A session cookie is not a link, and a link is not a session.
	wantStatus(t, e.shopper().get("/hosted/my-cards?t="+url.QueryEscape(cookie.Value)), http.StatusForbidden)

	// Arguments.
	for _, c := range []struct {
		customer, ret string
		ttl           time.Duration
	}{
		{"", "", 0}, {strings.Repeat("x", 65), "", 0}, {"a b", "", 0},
		{"cust", "http://shop.example/", 0}, {"cust", "", 30 * time.Second}, {"cust", "", 2 * time.Hour},
	} {
		if _, _, err := e.h.MyCardsLink(e.ctx, shopID, c.customer, c.ret, c.ttl); kessai.ErrorKind(err) != kessai.KindInvalid {
			t.Errorf("MyCardsLink(%q, %q, %v): %v", c.customer, c.ret, c.ttl, err)
		}
	}
	e.card("members", false)
	if _, _, err := e.h.MyCardsLink(e.ctx, shopID, "cust_1", "", 0); kessai.ErrorKind(err) != kessai.KindConflict {
		t.Fatalf("members off: %v", err)
	}
}

// TestMyCardsFlow registers, shows, replaces and deletes a saved card,
// with deletion refused while a payment holds it (design A-01), on both
// databases.
func TestMyCardsFlow(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCard("operation", "1Auth"))
		s := e.shopper()
		p := s.openMyCards("cust_1")
		f := e.form(p.body, "card-form").Fields

		// Register.
		f.Set("token", e.token(demoCard))
		r := s.post("/hosted/my-cards", f)
		wantStatus(t, r, http.StatusSeeOther)
		p = s.follow(r)
		wantIn(t, p.body, "カード会員情報を登録しました。", "クレジットカード更新", ">0300<", "4123", "変更を保存",
			"カード会員情報を削除", `data-confirm="カード会員情報を削除してもよろしいですか？"`)

		// Replace.
		f = e.form(p.body, "card-form").Fields
		f.Set("token", e.token(visaOK))
		p = s.follow(s.post("/hosted/my-cards", f))
		wantIn(t, p.body, "カード会員情報を更新しました。", ">0008<")

		// A used token fails with the plugin's message; the page stays.
		f = e.form(p.body, "card-form").Fields
		tok := e.token(jcbOK)
		if _, err := e.payer.SaveCard(e.ctx, shopID, "cust_x", cardpay.SaveCardInput{Token: tok}); err != nil {
			t.Fatal(err)
		}
		f.Set("token", tok)
		r = s.post("/hosted/my-cards", f)
		wantStatus(t, r, http.StatusPaymentRequired)
		wantIn(t, r.body, "更新処理に失敗しました。再度お試しください。", ">0008<")

		// An authorised payment with the card: deletion refused, with
		// the reason.
		o := e.order(5000, forCustomer("cust_1"))
		v := s.checkoutForm(o)
		v.Set("card_choice", "saved")
		s.follow(s.post("/checkout/"+o.ID, v))
		pay := e.payments(o.ID)[0]
		if pay.State != kessai.PaymentAuthorized {
			t.Fatalf("payment %s", pay.State)
		}
		p = s.get("/hosted/my-cards")
		wantIn(t, p.body, `id="delete-refusal"`, "売上計上されていない（与信中の）カード決済があるため")
		wantNotIn(t, p.body, `id="delete-form"`)
		// A forged delete is refused by the same rule.
		del := url.Values{"csrf": {f.Get("csrf")}, "action": {"delete"}}
		r = s.post("/hosted/my-cards", del)
		wantStatus(t, r, http.StatusConflict)
		wantIn(t, r.body, "与信中")

		// Captured: the order is still being processed (A-01 counts
		// open orders too).
		if _, err := e.payer.Operate(e.ctx, shopID, pay.ID, escott.OpCapture, 0); err != nil {
			t.Fatal(err)
		}
		wantIn(t, s.get("/hosted/my-cards").body, "処理中のため、カード情報を削除できません")
		// The shop completes the order: now the card may go.
		if _, err := e.store.SetOrderStatus(e.ctx, shopID, o.ID, nil, kessai.OrderCompleted, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		p = s.get("/hosted/my-cards")
		df := e.form(p.body, "delete-form").Fields
		r = s.post("/hosted/my-cards", df)
		wantStatus(t, r, http.StatusSeeOther)
		p = s.follow(r)
		wantIn(t, p.body, "カード会員情報を削除しました。", "登録済みのカードはありません。")
		if _, ok := e.member("cust_1"); ok {
			t.Fatal("member still stored")
		}
	})
}

func TestMyCardsCSRF(t *testing.T) {
	e := newEnv(t)
	e.saveCard("cust_1", visaOK)
	s := e.shopper()
	p := s.openMyCards("cust_1")
	df := e.form(p.body, "delete-form").Fields
	// Another customer's page token does not work for this customer.
	s2 := e.shopper()
	p2 := s2.openMyCards("cust_2")
	f2 := e.form(p2.body, "card-form").Fields
	bad := url.Values{"csrf": {f2.Get("csrf")}, "action": {"delete"}}
	wantStatus(t, s.post("/hosted/my-cards", bad), http.StatusForbidden)
	df.Del("csrf")
	wantStatus(t, s.post("/hosted/my-cards", df), http.StatusForbidden)
	if _, ok := e.member("cust_1"); !ok {
		t.Fatal("deleted without a valid token")
	}
	// No session at all.
	wantStatus(t, e.shopper().post("/hosted/my-cards", df), http.StatusForbidden)
}

func TestMyCardsThreeDS(t *testing.T) {
	e := newEnv(t, withCard("three_ds", true))
	s := e.shopper()
	p := s.openMyCards("cust_3")
	wantIn(t, p.body, "個人情報の取り扱いに同意する", `name="cardholder_name"`)
	f := e.form(p.body, "card-form").Fields
	f.Set("token", e.token(threeDSOK))
	f.Set("cardholder_name", "TARO YAMADA")
	r := s.post("/hosted/my-cards", f)
	wantStatus(t, r, http.StatusBadRequest)
	wantIn(t, r.body, "「個人情報の取り扱いに同意する」にチェックを入れてください。")

	f = e.form(r.body, "card-form").Fields
	f.Set("token", e.token(threeDSOK))
	f.Set("cardholder_name", "TARO YAMADA")
	f.Set("consent", "1")
	r = s.post("/hosted/my-cards", f)
	wantStatus(t, r, http.StatusOK)
	back := s.through3DS(r, "")
	wantStatus(t, back, http.StatusSeeOther)
	if !strings.HasPrefix(back.loc, e.url+"/hosted/my-cards?") {
		t.Fatalf("back to %s", back.loc)
	}
	p = s.follow(back)
	wantIn(t, p.body, "カード会員情報を更新しました。", ">3006<")

	// A failed authentication keeps the old card.
	f = e.form(p.body, "card-form").Fields
	f.Set("token", e.token(threeDSNG))
	f.Set("cardholder_name", "TARO YAMADA")
	f.Set("consent", "1")
	p = s.follow(s.through3DS(s.post("/hosted/my-cards", f), ""))
	wantIn(t, p.body, "3D セキュア認証ができませんでした。", ">3006<")
}

func TestMyCardsEnglishAndOff(t *testing.T) {
	e := newEnv(t)
	s := e.shopper()
	link, _, err := e.h.MyCardsLink(e.ctx, shopID, "cust_1", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	p := s.follow(s.get(link + "&lang=en"))
	wantIn(t, p.body, `<html lang="en">`, "Register a card", "Save the card")
	wantNotIn(t, p.body, "Back to the shop")
	e.card("members", false)
	wantIn(t, s.get("/hosted/my-cards").body, "This shop does not keep saved cards.")
}
