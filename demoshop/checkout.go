package demoshop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// quoteLine is a cart line priced from the catalog.
type quoteLine struct {
	Product  *product
	Quantity int64
	Total    int64
}

// quote is the cart priced: lines, shipping, total and the tax contained
// in it per rate (the breakdown Japanese receipts show).
type quote struct {
	Lines    []quoteLine
	Subtotal int64
	// Shipping is charged when something is shipped and the goods to
	// ship cost less than freeShippingThreshold.
	Shipping      int64
	NeedsShipping bool
	// FreeShippingGap is how much more would make shipping free.
	FreeShippingGap int64
	Total           int64
	// Base8/Tax8 and Base10/Tax10 are the amounts (tax included) at
	// each rate and the tax they contain.
	Base8, Tax8, Base10, Tax10 int64
	AllVirtual                 bool
}

// includedTax is the consumption tax contained in a tax-included amount,
// rounded down (the usual rounding; once per rate and receipt).
func includedTax(amount, rate int64) int64 { return amount * rate / (100 + rate) }

// priceCart prices the cart with the catalog's current prices.
func priceCart(ct *cart) *quote {
	q := &quote{AllVirtual: true}
	var physical int64
	for _, l := range ct.Lines {
		p, ok := productByID(l.ProductID)
		if !ok {
			continue
		}
		t := p.Price * l.Quantity
		q.Lines = append(q.Lines, quoteLine{Product: p, Quantity: l.Quantity, Total: t})
		q.Subtotal += t
		if p.TaxRate == 8 {
			q.Base8 += t
		} else {
			q.Base10 += t
		}
		if !p.Virtual {
			q.NeedsShipping, q.AllVirtual = true, false
			physical += t
		}
	}
	if len(q.Lines) == 0 {
		q.AllVirtual = false
	}
	if q.NeedsShipping {
		if physical < freeShippingThreshold {
			q.Shipping = shippingFee
			q.FreeShippingGap = freeShippingThreshold - physical
			q.Base10 += shippingFee
		}
	}
	q.Total = q.Subtotal + q.Shipping
	q.Tax8, q.Tax10 = includedTax(q.Base8, 8), includedTax(q.Base10, 10)
	return q
}

// items are the order lines sent to kessai: one per product with its
// virtual flag, and shipping as a line of its own (not virtual: it is
// only there when something is shipped).
func (q *quote) items() []apiItem {
	out := make([]apiItem, 0, len(q.Lines)+1)
	for _, l := range q.Lines {
		out = append(out, apiItem{Name: l.Product.Name, Quantity: l.Quantity, UnitAmount: l.Product.Price, Virtual: l.Product.Virtual})
	}
	if q.Shipping > 0 {
		out = append(out, apiItem{Name: shippingLineName, Quantity: 1, UnitAmount: q.Shipping})
	}
	return out
}

// checkoutForm is the billing form; field names are those of kessai's
// billing object, so the API's field errors ("billing.email") land on
// the right input.
type checkoutForm struct {
	LastName      string
	FirstName     string
	LastNameKana  string
	FirstNameKana string
	Email         string
	Phone         string
	// Attempt identifies this checkout: the shop order id is made from
	// it, so a double submission cannot create two orders.
	Attempt string
	Errors  map[string]string
	// Message is an error about the whole form.
	Message string
}

func (f *checkoutForm) fail(field, msg string) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if _, ok := f.Errors[field]; !ok {
		f.Errors[field] = msg
	}
}

// attemptRE is the form of an attempt id: the date in Japan and eight
// random base32 characters. The date makes the order ids readable in the
// admin console; the randomness keeps them unique.
var attemptRE = regexp.MustCompile(`^[0-9]{8}-[A-Z2-7]{8}$`)

func (s *shop) newAttempt() string {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		panic("demoshop: no randomness: " + err.Error())
	}
	return s.now().In(jst).Format("20060102") + "-" + base32.StdEncoding.EncodeToString(b)
}

// Limits of the billing fields (kessai's own, so the API never refuses
// what the form accepted).
const (
	maxNameRunes = 50
	maxEmailLen  = 254
	maxPhoneLen  = 20
)

// normalize trims the fields and turns what Japanese keyboards commonly
// produce into what kessai and the gateway take: full-width letters,
// digits and hyphens into ASCII (e-mail, phone), hiragana into katakana
// (kana names).
func (f *checkoutForm) normalize() {
	trim := func(s string) string { return strings.TrimFunc(s, unicode.IsSpace) }
	f.LastName, f.FirstName = trim(f.LastName), trim(f.FirstName)
	f.LastNameKana, f.FirstNameKana = toKatakana(trim(f.LastNameKana)), toKatakana(trim(f.FirstNameKana))
	f.Email = narrow(trim(f.Email))
	f.Phone = narrow(trim(f.Phone))
}

// narrow maps full-width ASCII (U+FF01…U+FF5E) to ASCII and the dashes
// people type in phone numbers to "-".
func narrow(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == 'ー' || r == '−' || r == '‐' || r == '－' || r == '―' || r == '–' || r == '—':
			return '-'
		case r == '\u3000':
			return ' '
		}
		return r
	}, s)
}

// toKatakana turns hiragana into katakana.
func toKatakana(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'ぁ' && r <= 'ゖ' {
			return r + 0x60
		}
		return r
	}, s)
}

// isKatakana accepts full-width katakana, the long vowel mark and the
// middle dot (for foreign names).
func isKatakana(s string) bool {
	for _, r := range s {
		if (r < 'ァ' || r > 'ヺ') && r != 'ー' && r != '・' && r != 'ヽ' && r != 'ヾ' {
			return false
		}
	}
	return true
}

// validate checks every field and records every problem.
func (f *checkoutForm) validate() bool {
	name := func(field, label, v string) {
		switch {
		case v == "":
			f.fail(field, label+"を入力してください。")
		case utf8.RuneCountInString(v) > maxNameRunes:
			f.fail(field, label+"は50文字以内で入力してください。")
		case strings.IndexFunc(v, unicode.IsControl) >= 0 || !utf8.ValidString(v):
			f.fail(field, label+"に使用できない文字が含まれています。")
		}
	}
	name("last_name", "姓", f.LastName)
	name("first_name", "名", f.FirstName)
	name("last_name_kana", "セイ", f.LastNameKana)
	name("first_name_kana", "メイ", f.FirstNameKana)
	if f.LastNameKana != "" && !isKatakana(f.LastNameKana) {
		f.fail("last_name_kana", "セイは全角カタカナで入力してください。")
	}
	if f.FirstNameKana != "" && !isKatakana(f.FirstNameKana) {
		f.fail("first_name_kana", "メイは全角カタカナで入力してください。")
	}
	switch {
	case f.Email == "":
		f.fail("email", "メールアドレスを入力してください。")
	case !validEmail(f.Email):
		f.fail("email", "メールアドレスの形式が正しくありません。")
	}
	digits := 0
	for _, r := range f.Phone {
		if r >= '0' && r <= '9' {
			digits++
		} else if r != '-' {
			digits = -1
			break
		}
	}
	switch {
	case f.Phone == "":
		f.fail("phone", "電話番号を入力してください。")
	case digits < 10 || digits > 11 || len(f.Phone) > maxPhoneLen:
		f.fail("phone", "電話番号は半角数字（ハイフン可）10〜11桁で入力してください。")
	}
	return len(f.Errors) == 0
}

// validEmail accepts a plain address (no display name) with a dotted
// domain, as kessai does.
func validEmail(s string) bool {
	if len(s) > maxEmailLen || strings.ContainsAny(s, " <>") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	d := s[at+1:]
	return at > 0 && strings.Contains(d, ".") && !strings.HasPrefix(d, ".") && !strings.HasSuffix(d, ".")
}

// orderSource is the metadata "source" of the demo's orders: it tells
// them apart from other orders of the same kessai shop (in the admin
// console, and on the events page).
const orderSource = "demoshop"

// checkoutBody is the checkout page.
type checkoutBody struct {
	Quote  *quote
	Form   *checkoutForm
	Fields []field
}

// field is one labelled input of a form.
type field struct {
	Name, Label, English   string
	Type, Autocomplete     string
	InputMode, Placeholder string
	Value, Error           string
	MaxLength              int
}

// fields are the billing inputs, in the order of the page.
func (f *checkoutForm) fields() []field {
	return []field{
		{Name: "last_name", Label: "姓", English: "Last name", Type: "text", Autocomplete: "family-name", Value: f.LastName,
			Placeholder: "山田", MaxLength: maxNameRunes},
		{Name: "first_name", Label: "名", English: "First name", Type: "text", Autocomplete: "given-name", Value: f.FirstName,
			Placeholder: "太郎", MaxLength: maxNameRunes},
		{Name: "last_name_kana", Label: "セイ（全角カナ）", Type: "text", Autocomplete: "off", Value: f.LastNameKana,
			Placeholder: "ヤマダ", MaxLength: maxNameRunes},
		{Name: "first_name_kana", Label: "メイ（全角カナ）", Type: "text", Autocomplete: "off", Value: f.FirstNameKana,
			Placeholder: "タロウ", MaxLength: maxNameRunes},
		{Name: "email", Label: "メールアドレス", English: "E-mail", Type: "email", Autocomplete: "email", InputMode: "email",
			Value: f.Email, Placeholder: "taro@example.jp", MaxLength: maxEmailLen},
		{Name: "phone", Label: "電話番号", English: "Phone", Type: "tel", Autocomplete: "tel", InputMode: "tel",
			Value: f.Phone, Placeholder: "090-1234-5678", MaxLength: maxPhoneLen},
	}
}

func (s *shop) checkoutPage(w http.ResponseWriter, r *http.Request) {
	sess, ct := s.visit(w, r)
	if len(ct.Lines) == 0 {
		s.redirect(w, r, pathCart)
		return
	}
	f := &checkoutForm{Attempt: s.newAttempt()}
	if c, ok := customerByID(sess.Customer); ok {
		f.LastName, f.FirstName, f.LastNameKana, f.FirstNameKana = c.LastName, c.FirstName, c.LastNameKana, c.FirstNameKana
		f.Email, f.Phone = c.Email, c.Phone
	}
	s.renderCheckout(w, r, sess, ct, http.StatusOK, f)
}

func (s *shop) renderCheckout(w http.ResponseWriter, r *http.Request, sess *session, ct *cart, status int, f *checkoutForm) {
	v := s.view(sess, ct, "ご注文手続き", "cart")
	fs := f.fields()
	for i := range fs {
		fs[i].Error = f.Errors[fs[i].Name]
	}
	v.Body = &checkoutBody{Quote: priceCart(ct), Form: f, Fields: fs}
	s.render(w, r, status, "checkout", v)
}

// checkout creates the order in kessai and sends the browser to its
// checkout_url. The cart stays until the thank-you page sees the order
// paid: a shopper who abandons the payment page still has it.
func (s *shop) checkout(w http.ResponseWriter, r *http.Request) {
	sess, ct, ok := s.post(w, r)
	if !ok {
		return
	}
	if len(ct.Lines) == 0 {
		s.redirect(w, r, pathCart)
		return
	}
	f := &checkoutForm{
		LastName: r.PostFormValue("last_name"), FirstName: r.PostFormValue("first_name"),
		LastNameKana: r.PostFormValue("last_name_kana"), FirstNameKana: r.PostFormValue("first_name_kana"),
		Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone"), Attempt: r.PostFormValue("attempt"),
	}
	if !attemptRE.MatchString(f.Attempt) {
		f.Attempt = s.newAttempt()
	}
	f.normalize()
	if !f.validate() {
		s.renderCheckout(w, r, sess, ct, http.StatusBadRequest, f)
		return
	}
	q := priceCart(ct)
	req := &createOrderRequest{
		ShopOrderID: "DEMO-" + f.Attempt,
		Amount:      q.Total,
		Items:       q.items(),
		Billing: apiBilling{LastName: f.LastName, FirstName: f.FirstName, LastNameKana: f.LastNameKana,
			FirstNameKana: f.FirstNameKana, Email: f.Email, Phone: f.Phone},
		ReturnURL: s.public + pathThanks,
		Metadata:  map[string]string{"source": orderSource},
	}
	if c, ok := customerByID(sess.Customer); ok {
		req.CustomerID = c.ID
	}
	// The key covers the attempt and the exact body: a double click
	// replays the first answer (one order), while a corrected form is a
	// new request. Its shop order id is the same, so kessai refuses a
	// second order for an attempt that already made one (order_exists).
	body, _ := json.Marshal(req)
	sum := sha256.Sum256(body)
	idem := "demoshop-" + req.ShopOrderID + "-" + hex.EncodeToString(sum[:8])

	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	// Anyone may shop here, so the demo must never reach a live gateway:
	// it takes orders only while kessai runs on the simulator or SPS's
	// test environment.
	switch env, err := s.environment(ctx); {
	case err != nil:
		s.checkoutFailed(w, r, sess, ct, f, err)
		return
	case env == "production":
		s.log.Error("demoshop: refusing to take orders: the shop's gateway environment is production")
		f.Message = "このデモショップは本番環境では注文を受け付けません。"
		s.renderCheckout(w, r, sess, ct, http.StatusServiceUnavailable, f)
		return
	}
	o, err := s.api.createOrder(ctx, req, idem)
	if err != nil {
		s.checkoutFailed(w, r, sess, ct, f, err)
		return
	}
	u, err := url.Parse(o.CheckoutURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		s.log.Error("demoshop: order without a usable checkout_url", "order_id", o.ID, "checkout_url", o.CheckoutURL)
		f.Message = "決済画面を開けませんでした。時間をおいて再度お試しください。"
		s.renderCheckout(w, r, sess, ct, http.StatusBadGateway, f)
		return
	}
	s.events.markOrder(o.ID)
	sess.addOrder(o.ID)
	sess.CheckoutOrder, sess.CheckoutCart = o.ID, ct.fingerprint()
	s.cookies.saveSession(w, sess)
	s.log.Info("demoshop: order created", "order_id", o.ID, "shop_order_id", o.ShopOrderID, "amount", o.Amount, "customer_id", o.CustomerID)
	if slices.Contains(s.redirectOrigins, origin(u)) {
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	// kessai's public origin is neither the shop's nor the one the
	// backend calls it at (a proxy in front of it): the form's
	// form-action would block a redirect there, so the browser goes on
	// from a page of its own, by a link and a meta refresh (a new
	// navigation, which form-action does not govern).
	v := s.view(sess, ct, "決済画面へ移動します", "cart")
	v.Refresh = u.String()
	v.Body = &messageBody{Heading: "決済画面へ移動します", Text: "自動的に移動しない場合は、下のボタンを押してください。",
		Link: u.String(), LinkText: "決済画面へ進む"}
	s.render(w, r, http.StatusOK, "message", v)
}

// checkoutFailed shows the form again after the API refused or could not
// be reached.
func (s *shop) checkoutFailed(w http.ResponseWriter, r *http.Request, sess *session, ct *cart, f *checkoutForm, err error) {
	var ae *apiError
	errors.As(err, &ae)
	status := http.StatusBadGateway
	switch {
	case ae != nil && ae.Status == http.StatusBadRequest && len(ae.Fields) > 0:
		status = http.StatusBadRequest
		for field, msg := range ae.Fields {
			if name, ok := strings.CutPrefix(field, "billing."); ok {
				f.fail(name, msg)
			} else {
				// Items or amount: the shop's fault, not the shopper's.
				s.log.Error("demoshop: kessai refused the order", "field", field, "message", msg)
				f.Message = "ご注文を作成できませんでした。お手数ですがショップまでお問い合わせください。"
			}
		}
	case ae != nil && ae.Code == "order_exists":
		// This attempt already made an order (the form was sent again
		// with other details after the first one went through): start a
		// new attempt rather than reuse an order the shopper may have
		// left on the payment page.
		status = http.StatusConflict
		f.Attempt = s.newAttempt()
		f.Message = "ご注文内容が変更されました。内容をご確認のうえ、もう一度「注文を確定して支払いへ」を押してください。"
	case ae != nil && ae.Code == "idempotency_in_progress":
		status = http.StatusConflict
		f.Message = "ご注文を処理しています。しばらくしてから再度お試しください。"
	case ae != nil && ae.Code == "idempotency_interrupted":
		// The first try of this attempt died with the payment service:
		// its key can never finish. A new attempt (and key) lets the
		// shopper go on; an order the first try made stays unpaid.
		status = http.StatusConflict
		f.Attempt = s.newAttempt()
		f.Message = "前回のご注文処理が中断されました。内容をご確認のうえ、もう一度「注文を確定して支払いへ」を押してください。"
	default:
		s.log.Error("demoshop: create order", "err", err)
		f.Message = "決済サービスに接続できませんでした。時間をおいて再度お試しください。"
	}
	s.renderCheckout(w, r, sess, ct, status, f)
}

// thanksBody is the thank-you page.
type thanksBody struct {
	Order   *apiOrder
	Heading string
	Text    string
	// Tone is "ok", "wait" or "ng", for the page's colour.
	Tone string
	// Returned is the status the browser came back with, shown only as
	// what it is: a claim of the query string.
	Returned string
	// Mismatch is set when Returned disagrees with the order's status
	// as the API reports it.
	Mismatch bool
	// PayURL offers paying again, when the order may still be paid.
	PayURL string
	Events []receivedEvent
}

// orderIDRE is what a kessai order id looks like; anything else is not
// sent to the API.
var orderIDRE = regexp.MustCompile(`^ord_[A-Za-z0-9]{1,60}$`)

// thanks is the return_url's page. It reads status, order_id, payment_id
// and error from the query, but the query is not signed: what the page
// says about the order comes from GET /v1/orders/{id}.
func (s *shop) thanks(w http.ResponseWriter, r *http.Request) {
	sess, ct := s.visit(w, r)
	q := r.URL.Query()
	id := q.Get("order_id")
	if !orderIDRE.MatchString(id) {
		s.message(w, r, http.StatusBadRequest, "注文が指定されていません", "ご注文の確認はマイページからお願いします。", pathAccount, "マイページへ")
		return
	}
	// An order is shown to the browser that placed it, or to its
	// customer when logged in: order ids travel in URLs, and the page
	// shows a name and what was bought.
	mine := sess.hasOrder(id)
	if !mine && sess.Customer == "" {
		s.message(w, r, http.StatusNotFound, "ご注文を表示できません",
			"このブラウザーでのご注文ではありません。ログインするとマイページでご注文を確認できます。", pathLogin+"?next="+url.QueryEscape(s.path(pathAccount)), "ログイン")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	o, err := s.api.getOrder(ctx, id)
	if err != nil || (!mine && o.CustomerID != sess.Customer) {
		if err != nil && apiStatus(err) != http.StatusNotFound {
			s.log.Error("demoshop: read order", "order_id", id, "err", err)
			s.message(w, r, http.StatusBadGateway, "ご注文を確認できませんでした",
				"時間をおいてこのページを再読み込みしてください。", pathAccount, "マイページへ")
			return
		}
		s.message(w, r, http.StatusNotFound, "ご注文が見つかりません", "ご注文の確認はマイページからお願いします。", pathAccount, "マイページへ")
		return
	}
	b := &thanksBody{Order: o, Returned: q.Get("status")}
	s.describe(ctx, b, q.Get("error"))
	b.Events = s.events.list(o.ID)
	// Paid, or waiting for a convenience-store payment: the cart has
	// become this order. Only if the cart is still the one the order was
	// made from, in the browser that made it: items added since, or the
	// cart of another browser looking at an old order, stay.
	if mine && sess.CheckoutOrder == o.ID && (o.Status == "processing" || o.Status == "completed" || o.Status == "on-hold") {
		if ct.fingerprint() == sess.CheckoutCart {
			ct = &cart{}
			s.cookies.saveCart(w, ct)
		}
		sess.CheckoutOrder, sess.CheckoutCart = "", ""
		s.cookies.saveSession(w, sess)
	}
	v := s.view(sess, ct, "ご注文の状況", "")
	v.Body = b
	s.render(w, r, http.StatusOK, "thanks", v)
}

// describe fills the page's heading and text from the order's status
// (the API's), with the returned status and error only as hints about
// why an unpaid order is unpaid.
func (s *shop) describe(ctx context.Context, b *thanksBody, errCode string) {
	o := b.Order
	switch o.Status {
	case "processing", "completed":
		b.Tone, b.Heading = "ok", "ご注文ありがとうございます"
		b.Text = "お支払いが完了しました。"
		if allVirtual(o.Items) {
			b.Text += "ダウンロード・ご参加のご案内をメールでお送りします。"
		} else {
			b.Text += "商品の発送準備を始めます。"
		}
	case "on-hold":
		b.Tone, b.Heading = "ok", "ご注文を承りました"
		b.Text = "お支払いをお待ちしています。ご案内に従ってお支払いください。"
	case "failed":
		b.Tone, b.Heading = "ng", "お支払いが完了しませんでした"
		b.Text = failureText(errCode)
		b.PayURL = o.CheckoutURL
	case "cancelled":
		b.Tone, b.Heading = "ng", "このご注文はキャンセルされました"
	default: // pending
		b.Tone = "wait"
		switch {
		case s.hasUnknownPayment(ctx, o.ID) || b.Returned == "unknown":
			b.Heading = "お支払いの結果を確認しています"
			b.Text = "決済の結果を確認できませんでした。二重のお支払いを避けるため、再度お支払いにならず、ショップからのご連絡をお待ちください。"
		case b.Returned == "cancelled":
			b.Heading = "お支払いは完了していません"
			b.Text = "決済画面でお支払いが中止されました。ご注文は保存されています。"
			b.PayURL = o.CheckoutURL
		case b.Returned == "succeeded":
			b.Heading = "お支払いを確認しています"
			b.Text = "確認が取れるまで、しばらくしてからこのページを再読み込みしてください。"
		default:
			b.Heading = "お支払いをお待ちしています"
			b.Text = "お支払いがまだ完了していません。"
			b.PayURL = o.CheckoutURL
		}
	}
	paid := o.Status == "processing" || o.Status == "completed" || o.Status == "on-hold"
	switch b.Returned {
	case "succeeded":
		b.Mismatch = !paid
	case "failed", "cancelled", "unknown":
		b.Mismatch = paid
	}
}

// hasUnknownPayment reports whether one of the order's payments has an
// undecided outcome (its answer was lost): the order must not be paid
// again until kessai's operator resolves it.
func (s *shop) hasUnknownPayment(ctx context.Context, orderID string) bool {
	var l struct {
		Data []struct {
			State string `json:"state"`
		} `json:"data"`
	}
	if err := s.api.do(ctx, http.MethodGet, "/v1/orders/"+url.PathEscape(orderID)+"/payments", nil, nil, "", &l); err != nil {
		s.log.Warn("demoshop: list payments", "order_id", orderID, "err", err)
		return false
	}
	for _, p := range l.Data {
		if p.State == "unknown" {
			return true
		}
	}
	return false
}

// allVirtual reports whether every product line is virtual.
func allVirtual(items []apiItem) bool {
	n := 0
	for _, it := range items {
		if it.Fee {
			continue
		}
		if !it.Virtual {
			return false
		}
		n++
	}
	return n > 0
}

// failureText is the shopper's message for the error code of a failed
// return. The code comes from the query: it only chooses among fixed
// texts and is never shown as given.
func failureText(code string) string {
	switch code {
	case "payment_failed":
		return "カードがご利用いただけませんでした。別のカードでお試しいただくか、カード会社にお問い合わせください。"
	case "three_d_secure_failed":
		return "本人認証（3Dセキュア）が完了しませんでした。もう一度お試しください。"
	}
	return "お支払いを完了できませんでした。もう一度お試しください。"
}
