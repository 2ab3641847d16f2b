package demoshop

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/webhook"
)

// TestShopFlow walks a logged-in customer through the shop: browse, cart,
// login, checkout (the order checked through the API), the redirect to
// checkout_url, the thank-you page before and after paying, order
// history, and the webhooks kessai delivered to the shop.
func TestShopFlow(t *testing.T) {
	t.Parallel()
	// completed_status "completed": an all-virtual order paid by
	// 1Gathering completes, a mixed one only reaches processing. The
	// virtual flags the shop sends decide which.
	e := newEnv(t, envOptions{webhooks: true, settings: map[string]any{"card": map[string]any{"completed_status": "completed"}}})
	b := e.browser()

	home := b.get("/demo/").must(t, http.StatusOK)
	for _, want := range []string{"静岡県産 深蒸し煎茶 100g", "¥1,296", "電子書籍「はじめての日本茶」", "配送なし"} {
		if !strings.Contains(home.body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	csp := home.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(home.body, "<script") || strings.Contains(home.body, "style=") {
		t.Error("the page has a script or an inline style")
	}
	detail := b.get("/demo/products/sencha").must(t, http.StatusOK)
	if !strings.Contains(detail.body, "¥1,296") || !strings.Contains(detail.body, `<label for="quantity">`) {
		t.Errorf("product page:\n%s", detail.body)
	}
	b.get("/demo/products/nothing").must(t, http.StatusNotFound)

	b.addToCart("sencha", 2)
	b.addToCart("ebook", 1)
	cart := b.get("/demo/cart").must(t, http.StatusOK)
	// 2 × 1,296 + 1,320 + shipping 660 (the goods to ship cost less than
	// 5,500) = 4,572.
	for _, want := range []string{"¥2,592", "¥660", "¥4,572", "8%対象 ¥2,592"} {
		if !strings.Contains(cart.body, want) {
			t.Errorf("cart lacks %q:\n%s", want, cart.body)
		}
	}

	// Login: a wrong password is refused without saying which part was
	// wrong; the right one goes on to next.
	bad := b.login("taro@example.jp", "wrong", "").must(t, http.StatusUnauthorized)
	if !strings.Contains(bad.body, "メールアドレスまたはパスワードが正しくありません") {
		t.Errorf("login failure page:\n%s", bad.body)
	}
	if loc := b.login("taro@example.jp", "taro-demo-1", "/demo/checkout").must(t, http.StatusSeeOther).location(); loc != "/demo/checkout" {
		t.Fatalf("login went to %q", loc)
	}

	// Checkout: the form is prefilled for the customer; the order is
	// created through the API and the browser sent to its checkout_url.
	form := b.get("/demo/checkout").must(t, http.StatusOK)
	if v := form.input(t, "last_name_kana"); v != "ヤマダ" {
		t.Errorf("prefilled kana %q", v)
	}
	var submitted url.Values
	res := b.checkout(func(f url.Values) { submitted = f }).must(t, http.StatusSeeOther)
	list := e.orders("demo_cust_001")
	if len(list) != 1 {
		t.Fatalf("%d orders of the customer, want 1", len(list))
	}
	o := list[0]
	if res.location() != o.CheckoutURL || !strings.HasPrefix(o.CheckoutURL, e.url+"/checkout/") {
		t.Fatalf("redirect to %q, checkout_url %q", res.location(), o.CheckoutURL)
	}
	wantItems := []apiItem{
		{Name: "静岡県産 深蒸し煎茶 100g", Quantity: 2, UnitAmount: 1296, Virtual: false},
		{Name: "電子書籍「はじめての日本茶」", Quantity: 1, UnitAmount: 1320, Virtual: true},
		{Name: "送料", Quantity: 1, UnitAmount: 660, Virtual: false},
	}
	if !slices.Equal(o.Items, wantItems) {
		t.Errorf("items %+v\nwant %+v", o.Items, wantItems)
	}
	wantBilling := apiBilling{LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ", FirstNameKana: "タロウ",
		Email: "taro@example.jp", Phone: "090-1234-5678"}
	if o.Amount != 4572 || o.CustomerID != "demo_cust_001" || o.Billing != wantBilling || o.Status != "pending" ||
		o.ReturnURL != e.shopURL+"/thanks" || !strings.HasPrefix(o.ShopOrderID, "DEMO-") || o.Metadata["source"] != "demoshop" {
		t.Errorf("order %+v", o)
	}

	// A double submission (same attempt, same form) is the same order.
	again := b.post("/demo/checkout", submitted).must(t, http.StatusSeeOther)
	if again.location() != o.CheckoutURL || len(e.orders("")) != 1 {
		t.Errorf("second submission: %q, %d orders", again.location(), len(e.orders("")))
	}

	// The thank-you page believes the API, not the query.
	lie := b.get("/demo/thanks?status=succeeded&order_id="+o.ID+"&payment_id=pay_x").must(t, http.StatusOK)
	if !strings.Contains(lie.body, `data-status="pending"`) || !strings.Contains(lie.body, "支払い待ち") ||
		!strings.Contains(lie.body, "一致しません") || strings.Contains(lie.body, "ご注文ありがとうございます") {
		t.Errorf("thank-you page for an unpaid order claimed paid:\n%s", lie.body)
	}
	if !strings.Contains(lie.body, `class="badge"`) {
		t.Error("the cart was emptied before the order was paid")
	}

	e.pay(o.ID)
	paid := b.get("/demo/thanks?status=succeeded&order_id="+o.ID).must(t, http.StatusOK)
	if !strings.Contains(paid.body, `data-status="processing"`) || !strings.Contains(paid.body, "ご注文ありがとうございます") ||
		strings.Contains(paid.body, "一致しません") {
		t.Errorf("thank-you page after payment:\n%s", paid.body)
	}
	if empty := b.get("/demo/cart").must(t, http.StatusOK); !strings.Contains(empty.body, "カートに商品が入っていません") {
		t.Error("the cart was not emptied after the payment")
	}

	// An all-virtual order: every line virtual, no shipping, and paid it
	// completes at once.
	b.addToCart("lesson", 1)
	b.addToCart("wallpaper", 2)
	b.checkout(nil).must(t, http.StatusSeeOther)
	list = e.orders("demo_cust_001")
	if len(list) != 2 {
		t.Fatalf("%d orders, want 2", len(list))
	}
	v := list[0] // newest first
	if v.Amount != 3960 || len(v.Items) != 2 || !v.Items[0].Virtual || !v.Items[1].Virtual {
		t.Fatalf("virtual order %+v", v)
	}
	e.pay(v.ID)
	if st := e.order(v.ID).Status; st != "completed" {
		t.Fatalf("paid all-virtual order is %s, want completed", st)
	}
	if p := b.get("/demo/thanks?status=succeeded&order_id="+v.ID).must(t, http.StatusOK); !strings.Contains(p.body, `data-status="completed"`) {
		t.Errorf("thank-you page of the virtual order:\n%s", p.body)
	}

	// Orders of others: another customer's (made through the API) and a
	// guest's (through the shop).
	e.api(http.MethodPost, "/v1/orders", map[string]any{"shop_order_id": "OTHER-1", "amount": 1000, "customer_id": "demo_cust_002"}, nil, http.StatusCreated)
	g := e.browser()
	g.addToCart("tenugui", 1)
	g.checkout(func(f url.Values) {
		f.Set("last_name", "田中")
		f.Set("first_name", "次郎")
		f.Set("last_name_kana", "タナカ")
		f.Set("first_name_kana", "ジロウ")
		f.Set("email", "jiro@example.jp")
		f.Set("phone", "03-1234-5678")
	}).must(t, http.StatusSeeOther)
	if n := len(e.orders("")); n != 4 {
		t.Fatalf("%d orders in the shop, want 4", n)
	}
	acct := b.get("/demo/account").must(t, http.StatusOK)
	got := regexp.MustCompile(`data-order-id="([^"]+)"`).FindAllStringSubmatch(acct.body, -1)
	var ids []string
	for _, m := range got {
		ids = append(ids, m[1])
	}
	if want := []string{v.ID, o.ID}; !slices.Equal(ids, want) {
		t.Errorf("history lists %v, want %v", ids, want)
	}

	// The customer's own order is visible from another browser once
	// logged in; a guest's is not.
	other := e.browser()
	other.get("/demo/thanks?order_id="+o.ID).must(t, http.StatusNotFound)
	other.login("hanako@example.jp", "hanako-demo-2", "").must(t, http.StatusSeeOther)
	other.get("/demo/thanks?order_id="+o.ID).must(t, http.StatusNotFound)
	b2 := e.browser()
	b2.login("taro@example.jp", "taro-demo-1", "").must(t, http.StatusSeeOther)
	b2.get("/demo/thanks?order_id="+o.ID).must(t, http.StatusOK)

	// kessai delivered the events, signed; the shop verified and listed
	// them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ev := b.get("/demo/events").must(t, http.StatusOK)
		if strings.Contains(ev.body, "order.created") && strings.Contains(ev.body, o.ID) && strings.Contains(ev.body, "payment.captured") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no webhooks arrived:\n%s", ev.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if p := b.get("/demo/thanks?order_id="+o.ID).must(t, http.StatusOK); !strings.Contains(p.body, "<code>order.created</code>") {
		t.Errorf("thank-you page lists no events of the order:\n%s", p.body)
	}

	// Logout forgets the customer.
	acct = b.get("/demo/account").must(t, http.StatusOK)
	b.post("/demo/logout", url.Values{"csrf": {acct.csrf(t)}}).must(t, http.StatusSeeOther)
	if loc := b.get("/demo/account").must(t, http.StatusSeeOther).location(); !strings.HasPrefix(loc, "/demo/login?next=") {
		t.Errorf("account after logout went to %q", loc)
	}
}

// TestGuestCheckout: no customer id, inputs normalised the way Japanese
// keyboards need, free shipping above the threshold.
func TestGuestCheckout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.addToCart("yunomi", 2)
	b.addToCart("wallpaper", 1)
	res := b.checkout(func(f url.Values) {
		f.Set("last_name", " 高橋 ")
		f.Set("first_name", "美咲")
		f.Set("last_name_kana", "たかはし") // hiragana: made katakana
		f.Set("first_name_kana", "ミサキ")
		f.Set("email", "ｍｉｓａｋｉ@example.jp") // full-width: made ASCII
		f.Set("phone", "０８０ー１１１１ー２２２２")
	}).must(t, http.StatusSeeOther)
	list := e.orders("")
	if len(list) != 1 {
		t.Fatalf("%d orders", len(list))
	}
	o := list[0]
	if res.location() != o.CheckoutURL {
		t.Errorf("redirect %q, checkout_url %q", res.location(), o.CheckoutURL)
	}
	want := apiBilling{LastName: "高橋", FirstName: "美咲", LastNameKana: "タカハシ", FirstNameKana: "ミサキ",
		Email: "misaki@example.jp", Phone: "080-1111-2222"}
	if o.CustomerID != "" || o.Billing != want || o.Amount != 5830 || len(o.Items) != 2 {
		t.Errorf("guest order %+v", o)
	}
	// A guest has no account page.
	if loc := b.get("/demo/account").must(t, http.StatusSeeOther).location(); loc != "/demo/login?next=%2Fdemo%2Faccount" {
		t.Errorf("guest account page went to %q", loc)
	}
	// The browser that placed the order sees it; another does not.
	c := b.get("/demo/thanks?status=cancelled&order_id="+o.ID).must(t, http.StatusOK)
	if !strings.Contains(c.body, "決済画面でお支払いが中止されました") || !strings.Contains(c.body, `href="`+o.CheckoutURL+`"`) {
		t.Errorf("cancelled return:\n%s", c.body)
	}
	// Something added after the checkout is not part of the order: the
	// paid order leaves it in the cart.
	b.addToCart("matcha", 1)
	e.pay(o.ID)
	paid := b.get("/demo/thanks?status=succeeded&order_id="+o.ID).must(t, http.StatusOK)
	if !strings.Contains(paid.body, `data-status="processing"`) {
		t.Errorf("paid order:\n%s", paid.body)
	}
	cart := b.get("/demo/cart").must(t, http.StatusOK)
	if !strings.Contains(cart.body, "宇治抹茶") {
		t.Fatalf("items added after the checkout were dropped:\n%s", cart.body)
	}
	b.post("/demo/cart/update", url.Values{"csrf": {cart.csrf(t)}, "remove": {"yunomi"}}).must(t, http.StatusSeeOther)
	b.post("/demo/cart/update", url.Values{"csrf": {cart.csrf(t)}, "qty-wallpaper": {"0"}, "qty-matcha": {"3"}}).must(t, http.StatusSeeOther)
	cart = b.get("/demo/cart").must(t, http.StatusOK)
	if strings.Contains(cart.body, "有田焼") || strings.Contains(cart.body, "デジタル壁紙") || !strings.Contains(cart.body, "¥6,480") {
		t.Errorf("cart after the updates:\n%s", cart.body)
	}
	e.browser().get("/demo/thanks?order_id="+o.ID).must(t, http.StatusNotFound)
	b.get("/demo/thanks?order_id=ord_doesnotexist").must(t, http.StatusNotFound)
	b.get("/demo/thanks?order_id=../../v1/orders").must(t, http.StatusBadRequest)
}

// TestCheckoutValidation: the form reports every problem and no order is
// made.
func TestCheckoutValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	// An empty cart has nothing to check out.
	if loc := b.get("/demo/checkout").must(t, http.StatusSeeOther).location(); loc != "/demo/cart" {
		t.Errorf("empty checkout went to %q", loc)
	}
	b.addToCart("matcha", 1)
	p := b.checkout(func(f url.Values) {
		f.Set("last_name", "")
		f.Set("last_name_kana", "Yamada")
		f.Set("email", "taro@example")
		f.Set("phone", "12345")
	}).must(t, http.StatusBadRequest)
	for _, want := range []string{"姓を入力してください", "セイは全角カタカナで入力してください", "メールアドレスの形式が正しくありません",
		"電話番号は半角数字", `aria-invalid="true"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	if n := len(e.orders("")); n != 0 {
		t.Errorf("%d orders after an invalid form", n)
	}
}

// TestCSRF: every form POST needs the token of the browser's session.
func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	p := b.get("/demo/products/kyusu").must(t, http.StatusOK)
	b.post("/demo/cart/add", url.Values{"product": {"kyusu"}, "quantity": {"1"}}).must(t, http.StatusForbidden)
	other := e.browser()
	tok := other.get("/demo/products/kyusu").must(t, http.StatusOK).csrf(t)
	b.post("/demo/cart/add", url.Values{"csrf": {tok}, "product": {"kyusu"}, "quantity": {"1"}}).must(t, http.StatusForbidden)
	b.post("/demo/cart/add", url.Values{"csrf": {p.csrf(t)}, "product": {"kyusu"}, "quantity": {"1"}}).must(t, http.StatusSeeOther)
	// A login changes the token: a form rendered before no longer works.
	b.login("ichiro@example.jp", "ichiro-demo-3", "").must(t, http.StatusSeeOther)
	b.post("/demo/cart/add", url.Values{"csrf": {p.csrf(t)}, "product": {"kyusu"}, "quantity": {"1"}}).must(t, http.StatusForbidden)
	// Nothing else is allowed to redirect anywhere.
	if loc := b.login("ichiro@example.jp", "ichiro-demo-3", "https://evil.example/").must(t, http.StatusSeeOther).location(); loc != "/demo/account" {
		t.Errorf("login with a foreign next went to %q", loc)
	}
}

// TestCartCookieTampering: the cart is signed; an edited cookie is an
// empty cart, never a cheaper one.
func TestCartCookieTampering(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.addToCart("kyusu", 1)
	u, _ := url.Parse(e.url + "/demo/")
	var val string
	for _, c := range b.jar.Cookies(u) {
		if c.Name == cartCookie {
			val = c.Value
		}
	}
	if val == "" {
		t.Fatal("no cart cookie")
	}
	payload, sig, _ := strings.Cut(val, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || !strings.Contains(string(raw), "kyusu") {
		t.Fatalf("cart cookie %q: %v", raw, err)
	}
	// The same cart with a cheaper product, under the old signature.
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "kyusu", "wallpaper", 1))) + "." + sig
	b.jar.SetCookies(u, []*http.Cookie{{Name: cartCookie, Value: forged, Path: "/demo/"}})
	if p := b.get("/demo/cart").must(t, http.StatusOK); !strings.Contains(p.body, "カートに商品が入っていません") {
		t.Errorf("a forged cart was accepted:\n%s", p.body)
	}
}

// TestWebhookSignature: the endpoint accepts kessai's signature and
// refuses anything else with 400.
func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	secret := "whsec_test_secret"
	h, err := New(Config{APIBaseURL: e.url, APIKey: e.sk, WebhookSecret: secret, PublicURL: e.url + "/shop2"})
	if err != nil {
		t.Fatal(err)
	}
	e.mux.Handle("/shop2/", h)
	body := []byte(`{"id":"evt_1","type":"order.created","created_at":"2025-01-02T03:04:05Z","data":{"id":"ord_1","status":"pending","amount":5500,"metadata":{"source":"demoshop"}}}`)
	send := func(sig string, b []byte) int {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/shop2/webhook", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set(webhook.HeaderSignature, sig)
		}
		req.Header.Set(webhook.HeaderDeliveryAttempt, "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now()
	if c := send(webhook.Sign([]byte(secret), now, body), body); c != http.StatusNoContent {
		t.Fatalf("genuine delivery: %d", c)
	}
	if c := send(webhook.Sign([]byte(secret), now, body), body); c != http.StatusNoContent {
		t.Fatalf("redelivery: %d", c)
	}
	tampered := []byte(strings.Replace(string(body), "5500", "1", 1))
	for name, c := range map[string]int{
		"no signature":   send("", body),
		"other secret":   send(webhook.Sign([]byte("whsec_other"), now, body), body),
		"tampered body":  send(webhook.Sign([]byte(secret), now, body), tampered),
		"old timestamp":  send(webhook.Sign([]byte(secret), now.Add(-time.Hour), body), body),
		"garbage header": send("t=abc,v1=zz", body),
	} {
		if c != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, c)
		}
	}
	// Events of other orders of the kessai shop are received but not
	// shown on the public page; a payment of the demo's order is.
	for i, b := range []string{
		`{"id":"evt_2","type":"order.created","created_at":"2025-01-02T03:04:06Z","data":{"id":"ord_2","status":"pending","amount":100}}`,
		`{"id":"evt_3","type":"payment.captured","created_at":"2025-01-02T03:04:07Z","data":{"id":"pay_3","order_id":"ord_2","state":"captured","amount":100}}`,
		`{"id":"evt_4","type":"payment.captured","created_at":"2025-01-02T03:04:08Z","data":{"id":"pay_4","order_id":"ord_1","state":"captured","amount":5500}}`,
	} {
		if c := send(webhook.Sign([]byte(secret), now, []byte(b)), []byte(b)); c != http.StatusNoContent {
			t.Fatalf("event %d: %d", i+2, c)
		}
	}
	ev := e.browser().get("/shop2/events").must(t, http.StatusOK)
	if !strings.Contains(ev.body, `data-event-id="evt_1"`) || !strings.Contains(ev.body, `data-event-id="evt_4"`) ||
		strings.Count(ev.body, "data-event-id=") != 2 ||
		!strings.Contains(ev.body, "¥5,500") || !strings.Contains(ev.body, "<td data-label=\"受信回数\">2") {
		t.Errorf("events page:\n%s", ev.body)
	}

	// Without a secret nothing can be verified: 503, so kessai retries
	// once the shop is configured.
	h3, err := New(Config{APIBaseURL: e.url, APIKey: e.sk, PublicURL: e.url + "/shop3"})
	if err != nil {
		t.Fatal(err)
	}
	e.mux.Handle("/shop3/", h3)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/shop3/webhook", strings.NewReader(string(body)))
	req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(secret), now, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("unconfigured webhook: %d", resp.StatusCode)
	}
}

// TestCardsLink: the "登録カードの管理" link is offered only when kessai
// makes one, and following it asks for a fresh link.
func TestCardsLink(t *testing.T) {
	t.Parallel()
	t.Run("kessai makes links", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		b := e.browser()
		b.login("taro@example.jp", "taro-demo-1", "").must(t, http.StatusSeeOther)
		if p := b.get("/demo/account").must(t, http.StatusOK); !strings.Contains(p.body, "登録カードの管理") {
			t.Errorf("no link:\n%s", p.body)
		}
		r := b.get("/demo/account/cards").must(t, http.StatusSeeOther)
		if !strings.HasPrefix(r.location(), e.url+"/hosted/my-cards?t=") {
			t.Fatalf("my cards went to %q", r.location())
		}
		// kessai takes the link and opens the page.
		if loc := b.get(strings.TrimPrefix(r.location(), e.url)).must(t, http.StatusSeeOther).location(); !strings.HasSuffix(loc, "/hosted/my-cards") {
			t.Errorf("the link led to %q", loc)
		}
	})
	t.Run("saved cards off", func(t *testing.T) {
		// kessai refuses the link (409 members_disabled): no link, and
		// a stale one leads back with a notice.
		e := newEnv(t, envOptions{settings: map[string]any{"card": map[string]any{"members": false}}})
		b := e.browser()
		b.login("taro@example.jp", "taro-demo-1", "").must(t, http.StatusSeeOther)
		if p := b.get("/demo/account").must(t, http.StatusOK); strings.Contains(p.body, "登録カードの管理") {
			t.Errorf("link shown:\n%s", p.body)
		}
		r := b.get("/demo/account/cards").must(t, http.StatusSeeOther)
		if r.location() != "/demo/account?cards=unavailable" {
			t.Fatalf("my cards without a link went to %q", r.location())
		}
		if p := b.get(r.location()).must(t, http.StatusOK); !strings.Contains(p.body, "登録カードの管理はご利用いただけません") {
			t.Errorf("no notice:\n%s", p.body)
		}
	})
	t.Run("what the shop sends", func(t *testing.T) {
		var calls []string
		e := newEnv(t, envOptions{beforeShop: func(e *env) {
			e.mux.HandleFunc("POST /v1/customers/{id}/card_link", func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer "+e.sk {
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return
				}
				var in struct {
					ReturnURL  string `json:"return_url"`
					TTLSeconds int    `json:"ttl_seconds"`
				}
				_ = json.NewDecoder(r.Body).Decode(&in)
				calls = append(calls, fmt.Sprintf("%s %s %d", r.PathValue("id"), in.ReturnURL, in.TTLSeconds))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				_ = json.NewEncoder(w).Encode(map[string]any{"url": e.url + "/hosted/my-cards?link=signed", "expires_at": time.Now().Add(10 * time.Minute)})
			})
		}})
		b := e.browser()
		b.login("taro@example.jp", "taro-demo-1", "").must(t, http.StatusSeeOther)
		p := b.get("/demo/account").must(t, http.StatusOK)
		if !strings.Contains(p.body, `href="/demo/account/cards">登録カードの管理`) {
			t.Errorf("no link:\n%s", p.body)
		}
		if loc := b.get("/demo/account/cards").must(t, http.StatusSeeOther).location(); loc != e.url+"/hosted/my-cards?link=signed" {
			t.Errorf("my cards went to %q", loc)
		}
		base := "demo_cust_001 " + e.shopURL + "/account"
		if len(calls) != 2 || calls[0] != base+" 60" || calls[1] != base+" 300" {
			t.Errorf("card_link calls %q", calls)
		}
	})
}

// TestNew: the configuration is checked at start.
func TestNew(t *testing.T) {
	t.Parallel()
	ok := Config{APIBaseURL: "http://127.0.0.1:8080", APIKey: "sk_x", PublicURL: "http://127.0.0.1:8080/demo"}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"no API URL":      {APIKey: "sk_x", PublicURL: ok.PublicURL},
		"relative API":    {APIBaseURL: "/v1", APIKey: "sk_x", PublicURL: ok.PublicURL},
		"no key":          {APIBaseURL: ok.APIBaseURL, PublicURL: ok.PublicURL},
		"publishable key": {APIBaseURL: ok.APIBaseURL, APIKey: "pk_x", PublicURL: ok.PublicURL},
		"no public URL":   {APIBaseURL: ok.APIBaseURL, APIKey: "sk_x"},
		"query":           {APIBaseURL: ok.APIBaseURL, APIKey: "sk_x", PublicURL: ok.PublicURL + "?a=b"},
		"ftp":             {APIBaseURL: ok.APIBaseURL, APIKey: "sk_x", PublicURL: "ftp://x/demo"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestAtRoot: a shop whose PublicURL has no path serves at the root.
func TestAtRoot(t *testing.T) {
	t.Parallel()
	h, err := New(Config{APIBaseURL: "http://127.0.0.1:1", APIKey: "sk_x", PublicURL: "https://shop.example.jp"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/": 200, "/products/matcha": 200, "/static/style.css": 200, "/nothing": 404, "/static/": 404} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
		if path == "/" {
			for _, c := range rec.Result().Cookies() {
				if !c.Secure || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie %+v", c)
				}
			}
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/static/style.css", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("style.css is %q", ct)
	}
	// The API is on another origin: the checkout form may lead there.
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "form-action 'self' http://127.0.0.1:1") {
		t.Errorf("CSP %q", csp)
	}
}

// TestPasswords: the demo customers' hashes belong to the passwords the
// login page shows; nothing else logs in.
func TestPasswords(t *testing.T) {
	t.Parallel()
	for _, c := range customers {
		if got, ok := authenticate(strings.ToUpper(c.Email), c.Password); !ok || got.ID != c.ID {
			t.Errorf("%s cannot log in", c.Email)
		}
		if c.Hash == c.Password || !strings.HasPrefix(c.Hash, "$2a$10$") {
			t.Errorf("%s: not a bcrypt hash", c.Email)
		}
	}
	if _, ok := authenticate("taro@example.jp", "hanako-demo-2"); ok {
		t.Error("another customer's password logged in")
	}
	if _, ok := authenticate("nobody@example.jp", "taro-demo-1"); ok {
		t.Error("unknown e-mail logged in")
	}
	if _, ok := authenticate("taro@example.jp", strings.Repeat("a", 100)); ok {
		t.Error("overlong password logged in")
	}
}

// TestPriceCart checks the sums and the tax per rate.
func TestPriceCart(t *testing.T) {
	t.Parallel()
	q := priceCart(&cart{Lines: []cartLine{{"sencha", 1}, {"kyusu", 1}}})
	// 1,296 + 6,600 = 7,896 ≥ 5,500: no shipping.
	if q.Total != 7896 || q.Shipping != 0 || q.Base8 != 1296 || q.Tax8 != 96 || q.Base10 != 6600 || q.Tax10 != 600 {
		t.Errorf("%+v", q)
	}
	q = priceCart(&cart{Lines: []cartLine{{"ebook", 1}}})
	if q.Total != 1320 || q.NeedsShipping || !q.AllVirtual || len(q.items()) != 1 {
		t.Errorf("%+v", q)
	}
	if yen(1234567) != "¥1,234,567" || yen(0) != "¥0" || yen(999) != "¥999" {
		t.Error("yen")
	}
}

// TestProductionRefused: the demo takes no orders while kessai is set up
// for the live gateway.
func TestProductionRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{settings: map[string]any{"environment": "production"}})
	b := e.browser()
	b.login("taro@example.jp", "taro-demo-1", "").must(t, http.StatusSeeOther)
	b.addToCart("sencha", 1)
	p := b.checkout(nil).must(t, http.StatusServiceUnavailable)
	if !strings.Contains(p.body, "本番環境では注文を受け付けません") {
		t.Errorf("page:\n%s", p.body)
	}
	if n := len(e.orders("")); n != 0 {
		t.Errorf("%d orders in production", n)
	}
}

// TestRegisterWebhook: the endpoint is made once and its secret rotated
// on the next start.
func TestRegisterWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	cfg := Config{APIBaseURL: e.url, APIKey: e.sk, PublicURL: e.url + "/elsewhere/"}
	s1, err := RegisterWebhook(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := RegisterWebhook(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s1, webhook.SecretPrefix) || !strings.HasPrefix(s2, webhook.SecretPrefix) || s1 == s2 {
		t.Errorf("secrets %q, %q", s1, s2)
	}
	var l struct {
		Data []struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	e.api(http.MethodGet, "/v1/webhook_endpoints", nil, &l, http.StatusOK)
	if len(l.Data) != 1 || l.Data[0].URL != e.url+"/elsewhere/webhook" {
		t.Errorf("endpoints %+v", l.Data)
	}
	if _, err := RegisterWebhook(t.Context(), Config{APIBaseURL: e.url, APIKey: "sk_wrong", PublicURL: cfg.PublicURL}); err == nil {
		t.Error("a wrong key registered an endpoint")
	}
}

// TestCheckoutOnAnotherOrigin: when kessai's public origin is neither the
// shop's nor the API's address, the browser is sent on by a page of the
// shop's (the checkout form's form-action would block a redirect).
func TestCheckoutOnAnotherOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{apiPublicURL: "https://pay.example.jp"})
	b := e.browser()
	b.login("taro@example.jp", "taro-demo-1", "").must(t, http.StatusSeeOther)
	b.addToCart("sencha", 1)
	form := b.get("/demo/checkout").must(t, http.StatusOK)
	if csp := form.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self';") && !strings.HasSuffix(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
	p := b.checkout(nil).must(t, http.StatusOK)
	o := e.orders("demo_cust_001")[0]
	if !strings.HasPrefix(o.CheckoutURL, "https://pay.example.jp/checkout/") ||
		!strings.Contains(p.body, `<meta http-equiv="refresh" content="0; url=`+o.CheckoutURL+`">`) ||
		!strings.Contains(p.body, `href="`+o.CheckoutURL+`"`) {
		t.Errorf("interstitial for %s:\n%s", o.CheckoutURL, p.body)
	}
}
