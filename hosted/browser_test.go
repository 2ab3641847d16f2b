package hosted_test

// Real-browser tests: Debian's chromium, headless, drives the hosted
// pages, the gateway's token script and the simulator's 3-D Secure page,
// as a shopper would. They skip when chromium is not installed, except in
// CI (CI=true), where a missing browser is a failure.
//
//	apt-get install -y chromium fonts-noto-cjk
//
// A failing test leaves a screenshot of the page in its artifact directory
// (go test -artifacts, or $KESSAI_ARTIFACTS).

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/browsertest"
)

// TestMain ends with the leak scan of what the browser tests made kessai
// write (leak_test.go).
func TestMain(m *testing.M) {
	leaks = browsertest.StartScan(leakRules())
	code := m.Run()
	browsertest.Stop()
	os.Exit(leaks.Finish(code))
}

// The other brands' numbers the installment test types.
const (
	mastercardOK = "5123000000000001"
	discoverOK   = "6011000000000004"
)

// tab is one browser tab of a test (package internal/browsertest) with
// the shop's env.
type tab struct {
	*browsertest.Tab
	e *env
}

// newTab opens a tab in a fresh browser context. The env joins the leak
// scan first, so that its log is taken once the tab is closed.
func newTab(t *testing.T, e *env) *tab {
	t.Helper()
	trackLeaks(leaks, t, e)
	return &tab{Tab: browsertest.NewTab(t, e.url), e: e}
}

func run[T any](b *tab, a chromedp.Action[T]) T {
	b.T.Helper()
	return browsertest.Run(b.Tab, a)
}

// card types a card into the form.
func (b *tab) card(number, mm, yy, csc, name string) {
	b.T.Helper()
	b.TypeInto("cc-number", number)
	b.TypeInto("cc-exp-mm", mm)
	b.TypeInto("cc-exp-yy", yy)
	if csc != "" {
		b.TypeInto("cc-csc", csc)
	}
	b.TypeInto("cc-name", name)
}

// payTypes returns the values of the installment select.
func (b *tab) payTypes() []string {
	b.T.Helper()
	return run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#pay-type option')).map(function (o) { return o.value; })`))
}

// waitPaid waits for the thank-you page and returns its message.
func (b *tab) waitPaid() string {
	b.T.Helper()
	return b.Text("#paid-message")
}

// noCardDataSeen fails when a card number reached kessai's server.
func noCardDataSeen(t *testing.T, e *env, numbers ...string) {
	t.Helper()
	seen := e.seen.String()
	for _, n := range numbers {
		if strings.Contains(seen, n) {
			t.Fatalf("kessai received the card number %s:\n%s", n, seen)
		}
	}
	// The demo card's security code as a form or query value (a bare
	// "8888" could be part of a port or a random id).
	if strings.Contains(strings.ToLower(seen), "seccd") || regexp.MustCompile(`=8888(&|\s|$)`).MatchString(seen) {
		t.Fatalf("kessai received a security code:\n%s", seen)
	}
}

func TestBrowserBuy(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500)
	b := newTab(t, e)
	b.Open("/checkout/" + o.ID)
	if h1 := b.Text("h1"); h1 != "お支払い" {
		t.Fatalf("h1 %q", h1)
	}
	// The browser's own check comes first: nothing is sent.
	before := strings.Count(e.seen.String(), "POST ")
	b.Click("submit-button")
	if msg := b.WaitError(); !strings.Contains(msg, "クレジットカード情報に誤りがあります。") {
		t.Fatalf("validation message %q", msg)
	}
	if strings.Count(e.seen.String(), "POST ") != before {
		t.Fatal("an invalid form was posted")
	}
	b.card(demoCard, "12", "28", demoSecCd, "")
	// The keyboard is enough: Enter in the last field places the order.
	b.TypeInto("cc-name", "TARO YAMADA\n")
	if msg := b.waitPaid(); msg != "お支払いが完了しました。" {
		t.Fatalf("thank-you message %q", msg)
	}
	if st := e.getOrder(o.ID).Status; st != kessai.OrderProcessing {
		t.Fatalf("order %s", st)
	}
	b.shot("thank-you")
	if got := b.Text("#order-total"); got != "5,500円" {
		t.Fatalf("total %q", got)
	}
	href := run(b, chromedp.AttributeValue(chromedp.ID("back-to-shop"), "href"))
	if !strings.HasPrefix(href.Value, shopReturnURL+"?") || !strings.Contains(href.Value, "status=succeeded") {
		t.Fatalf("back link %q", href.Value)
	}
	noCardDataSeen(t, e, demoCard)
}

func TestBrowserDeclineAndRetry(t *testing.T) {
	e := newEnv(t, withCard("installments", "installments"))
	o := e.order(30000)
	b := newTab(t, e)
	b.Open("/checkout/" + o.ID)
	b.card(declineCd, "12", "28", "123", "TARO YAMADA")
	b.Do(chromedp.SetValue(chromedp.ID("pay-type"), "03"))
	b.Click("submit-button")
	msg := b.WaitError()
	if !strings.Contains(msg, "限度額") || strings.Contains(msg, "G55") {
		t.Fatalf("decline message %q", msg)
	}
	// The choice is kept; the card fields are empty (never sent).
	if v := b.Value("pay-type"); v != "03" {
		t.Fatalf("pay type after the decline %q", v)
	}
	if v := b.Value("cc-number"); v != "" {
		t.Fatalf("card number field %q", v)
	}
	b.card(visaOK, "12", "28", "123", "TARO YAMADA")
	if v := b.Value("pay-type"); v != "03" {
		t.Fatalf("pay type after typing a VISA %q", v)
	}
	b.Click("submit-button")
	if msg := b.waitPaid(); msg != "お支払いが完了しました。" {
		t.Fatalf("thank-you %q", msg)
	}
	var paid *kessai.Payment
	for _, p := range e.payments(o.ID) {
		if p.State == kessai.PaymentCaptured {
			paid = &p
		}
	}
	if paid == nil || paid.PayType != escott.PayInstall3 {
		t.Fatalf("payments %+v", e.payments(o.ID))
	}
	noCardDataSeen(t, e, declineCd, visaOK)
}

func TestBrowserThreeDS(t *testing.T) {
	e := newEnv(t, withCard("three_ds", true))
	b := newTab(t, e)

	// Passed challenge.
	o := e.order(4000)
	b.Open("/checkout/" + o.ID)
	b.card(demoCard, "12", "28", demoSecCd, "TARO YAMADA")
	b.Click("submit-button")
	if msg := b.WaitError(); !strings.Contains(msg, "個人情報の取り扱いに同意する") {
		t.Fatalf("consent message %q", msg)
	}
	b.Click("consent")
	b.Click("submit-button")
	// The simulator's challenge page (another origin).
	b.Do(chromedp.WaitVisible(chromedp.CSS(`button[name="outcome"][value="0"]`)),
		chromedp.Click(chromedp.CSS(`button[name="outcome"][value="0"]`)))
	if msg := b.waitPaid(); msg != "お支払いが完了しました。" {
		t.Fatalf("thank-you %q", msg)
	}
	if p := e.payments(o.ID); len(p) != 1 || p[0].SecureResultCode != "0" || !p[0].Consent {
		t.Fatalf("payment %+v", p)
	}

	// Failed challenge: back on the form with the message.
	o = e.order(4000)
	b.Open("/checkout/" + o.ID)
	b.card(demoCard, "12", "28", demoSecCd, "TARO YAMADA")
	b.Click("consent")
	b.Click("submit-button")
	b.Do(chromedp.WaitVisible(chromedp.CSS(`button[name="outcome"][value="1"]`)),
		chromedp.Click(chromedp.CSS(`button[name="outcome"][value="1"]`)))
	if msg := b.WaitError(); !strings.Contains(msg, "3D セキュア認証ができませんでした。") {
		t.Fatalf("3DS failure message %q", msg)
	}
	b.shot("three-ds-failed")
	if st := e.getOrder(o.ID).Status; st == kessai.OrderProcessing {
		t.Fatal("paid after a failed challenge")
	}
	noCardDataSeen(t, e, demoCard)
}

func TestBrowserSavedCard(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)

	// Save the card while paying.
	o := e.order(2000, forCustomer("cust_b"))
	b.Open("/checkout/" + o.ID)
	b.card(demoCard, "12", "28", demoSecCd, "TARO YAMADA")
	b.Click("save-card")
	b.Click("submit-button")
	b.waitPaid()
	if _, ok := e.member("cust_b"); !ok {
		t.Fatal("card not saved")
	}

	// Pay with the saved card: pre-selected, no card fields.
	o = e.order(2100, forCustomer("cust_b"))
	b.Open("/checkout/" + o.ID)
	if got := b.Text("#saved-last4"); got != "0300" {
		t.Fatalf("last 4 %q", got)
	}
	if !run(b, chromedp.Evaluate[bool](`document.getElementById('choice-saved').checked && document.getElementById('card-fields').hidden`)) {
		t.Fatal("the saved card is not pre-selected, or the card fields show")
	}
	b.Click("submit-button")
	b.waitPaid()
	if p := e.payments(o.ID); len(p) != 1 || !p[0].WithMember {
		t.Fatalf("payment %+v", p)
	}

	// Change the card and pay.
	o = e.order(2200, forCustomer("cust_b"))
	b.Open("/checkout/" + o.ID)
	b.Click("choice-change")
	b.card(visaOK, "12", "28", "123", "TARO YAMADA")
	b.Click("submit-button")
	b.waitPaid()
	c, err := e.payer.GetCard(e.ctx, shopID, "cust_b")
	if err != nil || c.Last4 != "0008" {
		t.Fatalf("saved card %+v %v", c, err)
	}
	noCardDataSeen(t, e, demoCard, visaOK)
}

func TestBrowserInstallments(t *testing.T) {
	e := newEnv(t, withCard("installments", "installments"))
	o := e.order(30000)
	b := newTab(t, e)
	b.Open("/checkout/" + o.ID)
	if got := b.payTypes(); !slices.Equal(got, []string{"01"}) {
		t.Fatalf("before typing: %v", got)
	}
	all := []string{"01", "02", "03", "05", "06", "10", "12", "15", "18", "20", "24", "88"}
	for _, c := range []struct {
		number string
		want   []string
	}{
		{visaOK, all},
		{mastercardOK, all},
		{jcbOK, all},
		{amexOK, []string{"01", "03", "05", "06", "10", "12", "15", "18", "20", "24"}},
		{dinersOK, []string{"01", "88"}},
		{discoverOK, []string{"01"}},
	} {
		b.TypeInto("cc-number", c.number)
		got := b.payTypes()
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.number, got, c.want)
		}
	}
	// Labels as shoppers know them.
	b.TypeInto("cc-number", amexOK)
	labels := run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#pay-type option')).map(function (o) { return o.textContent; })`))
	if slices.Contains(labels, "2回払い") || slices.Contains(labels, "リボ払い") || !slices.Contains(labels, "3回払い") {
		t.Fatalf("AMEX labels %v", labels)
	}
	// Link type: no choice at all.
	e.card("link_type", true)
	b.Open("/checkout/" + o.ID)
	b.Do(chromedp.WaitVisible(chromedp.ID("submit-button")))
	if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll('#pay-type, #cc-number').length`)); n != 0 {
		t.Fatalf("link type shows %d card inputs", n)
	}
	if got := b.Text("#submit-button"); got != "支払いを続ける" {
		t.Fatalf("button %q", got)
	}
}

func TestBrowserMyCards(t *testing.T) {
	e := newEnv(t, withCard("operation", "1Auth"))
	b := newTab(t, e)
	link, _, err := e.h.MyCardsLink(e.ctx, shopID, "cust_m", shopCardsURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Navigate(link))
	if h1 := b.Text("h1"); h1 != "クレジットカード登録" {
		t.Fatalf("h1 %q", h1)
	}
	if loc := run(b, chromedp.Location()); strings.Contains(loc, "t=") {
		t.Fatalf("the link's token stays in the address bar: %s", loc)
	}
	b.card(demoCard, "12", "28", demoSecCd, "TARO YAMADA")
	b.Click("submit-button")
	b.WaitNotice("カード会員情報を登録しました。")
	if got := b.Text("#saved-last4"); got != "0300" {
		t.Fatalf("last 4 %q", got)
	}

	// An authorised payment with the card: no delete button, the reason.
	o := e.order(3000, forCustomer("cust_m"))
	res, err := e.payer.Pay(e.ctx, shopID, o.ID, cardpay.PayInput{UseSavedCard: true})
	if err != nil || res.Payment.State != kessai.PaymentAuthorized {
		t.Fatalf("pay: %v %+v", err, res)
	}
	b.Do(chromedp.Reload())
	if msg := b.Text("#delete-refusal"); !strings.Contains(msg, "与信中") {
		t.Fatalf("refusal %q", msg)
	}
	b.shot("my-cards-refusal")
	if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll('#delete-button').length`)); n != 0 {
		t.Fatal("delete button shown while an authorisation is open")
	}

	// Captured, and the shop completed the order: the card may go.
	if _, err := e.payer.Operate(e.ctx, shopID, res.Payment.ID, escott.OpCapture, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SetOrderStatus(e.ctx, shopID, o.ID, nil, kessai.OrderCompleted, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b.Do(chromedp.Reload())
	// Accept the confirmation dialog when it opens.
	dialogs := chromedp.Events(b.Ctx, cdppage.JavascriptDialogOpening)
	accepted := make(chan string, 1)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			accepted <- ev.Message
			_, _ = chromedp.Call(b.Ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
			return
		}
	}()
	b.Click("delete-button")
	select {
	case m := <-accepted:
		if m != "カード会員情報を削除してもよろしいですか？" {
			t.Fatalf("dialog %q", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no confirmation dialog")
	}
	b.WaitNotice("カード会員情報を削除しました。")
	if _, ok := e.member("cust_m"); ok {
		t.Fatal("member still stored")
	}
	noCardDataSeen(t, e, demoCard)
}

// TestBrowserCollection is a collection as the shopper lives it: choose
// the method, see the fee, be told what is missing, type the kana and the
// phone, land on the agent's page (the simulator's), come back to the
// thank-you page with what to pay, pay at a store, and find the order paid
// — the simulator's notification having reached the receiver.
func TestBrowserCollection(t *testing.T) {
	e := newEnv(t, withCollection("fee_enabled", true, "fee_rows", feeRows))
	o := e.order(5500)
	b := newTab(t, e)
	b.Open("/checkout/" + o.ID)
	b.Click("method-collection")
	if got := b.Text("#submit-button"); got != "支払いを続ける" {
		t.Fatalf("button %q", got)
	}
	if got := b.Text("#cvs-fee-notice"); got != "※決済時に決済手数料 ¥330 が加算されます。" {
		t.Fatalf("fee notice %q", got)
	}
	if !run(b, chromedp.Evaluate[bool](`document.querySelector('[data-panel="card"]').hidden`)) {
		t.Fatal("the card panel shows while the collection is chosen")
	}

	// Empty fields: the browser says so (CVS-02), nothing is sent.
	before := strings.Count(e.seen.String(), "POST ")
	b.Click("submit-button")
	msg := b.WaitError()
	if !strings.Contains(msg, "請求先姓（カナ）を入力してください。") || !strings.Contains(msg, "請求先名（カナ）を入力してください。") {
		t.Fatalf("validation message %q", msg)
	}
	if got := b.Text("#cvs-first-name-kana-error"); got != "請求先名（カナ）を入力してください。" {
		t.Fatalf("field message %q", got)
	}
	if strings.Count(e.seen.String(), "POST ") != before {
		t.Fatal("an incomplete form was posted")
	}
	b.shot("collection-errors")

	// A phone the server refuses comes back beside its field, the kana
	// kept.
	b.TypeInto("cvs-last-name-kana", "やまだ")
	b.TypeInto("cvs-first-name-kana", "ﾀﾛｳ")
	b.TypeInto("cvs-phone", "090-1234")
	b.Click("submit-button")
	b.WaitTrue(`(function () { var e = document.getElementById('cvs-phone-error'); return !!e && !e.hidden && e.textContent.indexOf('10桁または11桁') >= 0; })()`)
	if v := b.Value("cvs-last-name-kana"); v != "やまだ" {
		t.Fatalf("kana after the refusal %q", v)
	}
	b.TypeInto("cvs-phone", "090-1234-5678\n")

	// The agent's page (another origin): back to the shop first.
	back := `a[href="` + e.url + `/checkout/` + o.ID + `"]`
	b.Do(chromedp.WaitVisible(chromedp.CSS(`button[name="cvs"][value="LSN"]`)))
	if got := e.getOrder(o.ID); got.Status != kessai.OrderOnHold || got.Billing.LastNameKana != "ヤマダ" || got.Billing.FirstNameKana != "タロウ" {
		t.Fatalf("order %s %+v", got.Status, got.Billing)
	}
	b.Do(chromedp.Click(chromedp.CSS(back)))
	if got := b.Text("#cvs-amount"); got != "5,830円" {
		t.Fatalf("amount %q", got)
	}
	if got := b.Text("#cvs-due"); got != "2026年4月8日 23:59" {
		t.Fatalf("due %q", got)
	}
	b.shot("collection-thank-you")

	// The payment link, a store, the receipt, and back once more.
	b.Click("cvs-payment-link")
	b.Do(chromedp.WaitVisible(chromedp.CSS(`button[name="cvs"][value="LSN"]`)),
		chromedp.Click(chromedp.CSS(`button[name="cvs"][value="LSN"]`)))
	// The receipt (the agent's page has a link back too).
	receiptBack := `.box.ok ` + back
	b.Do(chromedp.WaitVisible(chromedp.CSS(receiptBack)))
	e.flush()
	if st := e.getOrder(o.ID).Status; st != kessai.OrderProcessing {
		t.Fatalf("order after paying at the store: %s", st)
	}
	b.Do(chromedp.Click(chromedp.CSS(receiptBack)))
	if msg := b.waitPaid(); msg != "お支払いが完了しました。" {
		t.Fatalf("thank-you %q", msg)
	}
	if got := b.Text("#paid-method"); got != "コンビニ・電子マネー・Pay-easy (ローソン)" {
		t.Fatalf("method %q", got)
	}
}

// TestBrowserPhone renders the checkout on a phone-sized screen: nothing
// overflows sideways.
func TestBrowserPhone(t *testing.T) {
	e := newEnv(t, withCard("three_ds", true, "installments", "installments"))
	o := e.order(12800, forCustomer("cust_p"))
	b := newTab(t, e)
	b.Do(chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.Open("/checkout/" + o.ID)
	b.Do(chromedp.WaitVisible(chromedp.ID("cc-number")))
	if w := run(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
		t.Fatalf("page is %dpx wide on a 375px screen", w)
	}
	b.shot("checkout-phone")
}

// shot saves a screenshot of a page worth looking at when
// $KESSAI_ARTIFACTS asks for them (a run for a review or the docs).
func (b *tab) shot(name string) {
	if os.Getenv("KESSAI_ARTIFACTS") != "" {
		b.Screenshot(name)
	}
}
