package hosted_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/internal/testdb"
)

// feeRows is the manual's fee table (CVS-04): up to 1,100 yen no fee,
// 1,101–5,500 yen 330 yen, above 550 yen.
var feeRows = []map[string]any{
	{"from": 0, "to": 1100, "fee": 0},
	{"from": 1101, "to": 5500, "fee": 330},
	{"from": 5501, "to": nil, "fee": 550},
}

// fullBilling is a billing identity a registration needs nothing more of.
var fullBilling = kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ", FirstNameKana: "タロウ",
	Email: "taro@example.jp", Phone: "090-1234-5678"}

// collect posts the checkout with the collection method chosen and the
// given fields (name, value pairs).
func (s *shopper) collect(o *kessai.Order, kv ...string) page {
	s.e.t.Helper()
	v := s.checkoutForm(o)
	v.Set("method", string(kessai.MethodCollection))
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return s.post("/checkout/"+o.ID, v)
}

// payAtAgent opens the collection agent's page (the simulator's) behind
// link, presses the channel's button as the shopper would, and waits until
// the payment notification has reached the receiver and been handled.
func (s *shopper) payAtAgent(link, cvs string) page {
	t := s.e.t
	t.Helper()
	p := s.get(link)
	wantStatus(t, p, http.StatusOK)
	var f *htmlForm
	for _, fm := range forms(p.body) {
		for _, in := range fm.Inputs {
			if in["name"] == "cvs" && in["value"] == cvs {
				f = &fm
			}
		}
	}
	if f == nil {
		t.Fatalf("no %s button on the agent's page:\n%s", cvs, p.body)
	}
	base, _ := url.Parse(s.e.simURL + "/")
	action, _ := url.Parse(f.Action)
	f.Fields.Set("cvs", cvs)
	receipt := s.post(base.ResolveReference(action).String(), f.Fields)
	wantStatus(t, receipt, http.StatusOK)
	s.e.flush()
	return receipt
}

// flush waits until the simulator's notifications were delivered.
func (e *env) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if err := e.sim.FlushNotifications(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// events lists the types of the shop's events about id, oldest first.
func (e *env) events(id string) []string {
	e.t.Helper()
	evs, err := e.store.ListEvents(e.ctx, shopID, kessai.Page{Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		if strings.Contains(string(evs[i].Data), `"id":"`+id+`"`) {
			out = append(out, evs[i].Type)
		}
	}
	return out
}

// fieldError returns the text of a field's error element, "" when it is
// hidden.
func fieldError(t testing.TB, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<p class="field-error" id="` + id + `-error"( hidden)?>([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no error element for #%s:\n%s", id, body)
	}
	if m[1] != "" {
		return ""
	}
	return m[2]
}

// TestCollectionPanel is CVS-01/CVS-02 on the page: the method is offered
// when the settings enable it, with their title and description; the panel
// asks only for what the order's billing lacks, never shows the billing
// itself, and the page's policy lets the form lead to the agent's page.
func TestCollectionPanel(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500)
	s := e.shopper()

	// Off (the default): the card alone, as before.
	p := s.get("/checkout/" + o.ID)
	wantNotIn(t, p.body, `data-method="collection"`, "コンビニ", `name="last_name_kana"`)
	wantIn(t, p.body, `<input type="hidden" name="method" value="card">`)

	// On: a choice of two; the collection panel with the kana and the
	// phone the order lacks (its kanji name is there already).
	e.settings(map[string]any{"collection": map[string]any{"enabled": true, "merchant_id": sim.DemoMerchant.MerchantID,
		"merchant_pass_test": sim.DemoMerchant.TestPass}})
	p = s.get("/checkout/" + o.ID)
	wantStatus(t, p, http.StatusOK)
	wantIn(t, p.body, `id="method-card"`, `id="method-collection"`, `data-button="支払いを続ける"`,
		"コンビニ・電子マネー・Pay-easy", "コンビニ・電子マネー・Pay-easy で支払う ※テストモードで稼働中",
		`name="last_name_kana"`, `name="first_name_kana"`, `name="phone"`, `for="cvs-last-name-kana"`, `for="cvs-first-name-kana"`,
		`for="cvs-phone"`, "セイ", "メイ", `data-required="請求先姓（カナ）を入力してください。"`,
		`data-required="請求先名（カナ）を入力してください。"`, "「支払いを続ける」を押すと")
	wantNotIn(t, p.body, `name="last_name"`, `name="first_name"`, `id="cvs-fee-notice"`, "taro@example.jp")
	wantCSP(t, p, "'self' "+e.simURL, e.simURL, "'self' "+e.simURL)
	noInlineCode(t, p.body)
	// The card stays the pre-selected method.
	wantIn(t, p.body, `id="method-card" data-button="注文する" checked`)

	// The operator's texts (SET-14), and English.
	e.collection("title", "コンビニ払い", "description", "お近くのコンビニでお支払いください")
	p = s.get("/checkout/" + o.ID)
	wantIn(t, p.body, "コンビニ払い", "お近くのコンビニでお支払いください ※テストモードで稼働中")
	e.collection("title", kessai.DefaultCollectionTitle, "description", kessai.DefaultCollectionDescription)
	en := s.get("/checkout/" + o.ID + "?lang=en")
	wantIn(t, en.body, "Convenience store, e-money, Pay-easy", "Pay at a convenience store, with e-money or Pay-easy (running in test mode)",
		"Last name (katakana)", `data-required="Enter the billing last name in kana."`, "Continue to payment")
	s.get("/checkout/" + o.ID + "?lang=ja")

	// An order with its whole billing identity: nothing to ask; half a
	// kana name: both halves (they are sent as one value); no kanji
	// name: that too.
	p = s.get("/checkout/" + e.order(5500, withBilling(fullBilling)).ID)
	wantIn(t, p.body, `data-method="collection"`)
	wantNotIn(t, p.body, `name="last_name_kana"`, `name="phone"`, "お支払いの手続きに必要な情報",
		"ヤマダ</", "090-1234-5678\"", `value="タロウ"`)
	half := fullBilling
	half.FirstNameKana = ""
	p = s.get("/checkout/" + e.order(5500, withBilling(half)).ID)
	wantIn(t, p.body, `name="last_name_kana"`, `name="first_name_kana"`)
	wantNotIn(t, p.body, `name="phone"`, `name="last_name"`, `value="ヤマダ"`)
	noName := fullBilling
	noName.LastName, noName.FirstName = "", ""
	p = s.get("/checkout/" + e.order(5500, withBilling(noName)).ID)
	wantIn(t, p.body, `name="last_name"`, `name="first_name"`, `autocomplete="family-name"`)
	wantNotIn(t, p.body, `name="last_name_kana"`)

	// Cards off: the collection alone.
	e.card("enabled", false)
	p = s.get("/checkout/" + o.ID)
	wantIn(t, p.body, `<input type="hidden" name="method" value="collection">`, `id="submit-button" data-busy="処理中です…">支払いを続ける</button>`)
	wantCSP(t, p, "'self'", "'none'", "'self' "+e.simURL)
	e.card("enabled", true)

	// Production: the agent's page is another host than the card
	// gateway, and the form may lead to both.
	e.card("merchant_pass_prod", "prodPass0001")
	e.collection("merchant_pass_prod", sim.DemoMerchant.ProdPass)
	e.settings(map[string]any{"environment": "production"})
	p = s.get("/checkout/" + o.ID)
	wantCSP(t, p, "'self' https://www.e-scott.jp", "https://www.e-scott.jp", "'self' https://www.e-scott.jp https://link.kessai.info")
	wantIn(t, p.body, `data-method="collection"`)
	e.settings(map[string]any{"environment": "simulator"})

	// Switched off, or without a Collector: not offered.
	e.collection("enabled", false)
	wantNotIn(t, s.get("/checkout/"+o.ID).body, `data-method="collection"`)
}

func TestCollectionNeedsCollector(t *testing.T) {
	e := newEnv(t, withCollection(), withHosted(func(c *hosted.Config) { c.Collections = nil }))
	o := e.order(5500)
	s := e.shopper()
	p := s.get("/checkout/" + o.ID)
	wantNotIn(t, p.body, `data-method="collection"`)
	// A POST for the method anyway is refused as an unknown method.
	p = s.collect(o, "last_name_kana", "ヤマダ")
	wantStatus(t, p, http.StatusBadRequest)
	wantIn(t, p.body, "お支払い方法を選択してください。")
	if n := len(e.payments(o.ID)); n != 0 {
		t.Fatalf("%d payments", n)
	}
}

// TestCollectionFeePreview is CVS-01 with CVS-04's calculation: the fee
// the page announces for totals around the table's boundaries, and the fee
// the registration then charges is the one announced.
func TestCollectionFeePreview(t *testing.T) {
	e := newEnv(t, withCollection("fee_enabled", true, "fee_rows", feeRows))
	s := e.shopper()
	for _, c := range []struct {
		total, fee int64
	}{
		{1, 0}, {1100, 0}, {1101, 330}, {5500, 330}, {5501, 550}, {300000, 550},
	} {
		o := e.order(c.total, withBilling(fullBilling))
		p := s.get("/checkout/" + o.ID)
		if c.fee == 0 {
			wantNotIn(t, p.body, `id="cvs-fee-notice"`, `id="cvs-total"`)
		} else {
			wantIn(t, p.body, `<p class="fee-notice" id="cvs-fee-notice">※決済時に決済手数料 <strong id="cvs-fee">¥`+itoa(c.fee)+`</strong> が加算されます。</p>`,
				`<strong id="cvs-total">`+itoa(c.total+c.fee)+`円</strong>`)
		}
		// The order's own total is unchanged until a registration.
		wantIn(t, p.body, `<strong id="order-total">`+itoa(c.total)+`円</strong>`)
	}
	en := s.get("/checkout/" + e.order(5501, withBilling(fullBilling)).ID + "?lang=en")
	wantIn(t, en.body, `※ A settlement fee of <strong id="cvs-fee">¥550</strong> is added at payment.`, `<strong id="cvs-total">¥6,051</strong>`)
	s.get("/checkout/" + e.order(1, withBilling(fullBilling)).ID + "?lang=ja")

	// What is announced is charged.
	o := e.order(5501, withBilling(fullBilling))
	wantIn(t, s.get("/checkout/"+o.ID).body, `¥550`)
	wantStatus(t, s.collect(o), http.StatusSeeOther)
	pays := e.payments(o.ID)
	if len(pays) != 1 || pays[0].Amount != 6051 || pays[0].Fee != 550 {
		t.Fatalf("payments %+v", pays)
	}
	if got := e.getOrder(o.ID); got.Amount != 6051 || collection.CurrentFee(got) != 550 {
		t.Fatalf("order amount %d fee %d", got.Amount, collection.CurrentFee(got))
	}

	// The fee switched off: no notice.
	e.collection("fee_enabled", false)
	wantNotIn(t, s.get("/checkout/"+e.order(5501, withBilling(fullBilling)).ID).body, `id="cvs-fee-notice"`)
}

// TestCollectionFieldErrors is CVS-02 on the server: the fields are
// checked with the registration's own rules (collection.Validate), each
// problem is shown beside its field in the page's language and above the
// form, what was typed is kept, and nothing is registered or written.
func TestCollectionFieldErrors(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection())
		o := e.order(5500)
		s := e.shopper()

		p := s.collect(o)
		wantStatus(t, p, http.StatusBadRequest)
		if got := fieldError(t, p.body, "cvs-last-name-kana"); got != "請求先姓（カナ）を入力してください。" {
			t.Fatalf("last name kana error %q", got)
		}
		if got := fieldError(t, p.body, "cvs-first-name-kana"); got != "請求先名（カナ）を入力してください。" {
			t.Fatalf("first name kana error %q", got)
		}
		if got := fieldError(t, p.body, "cvs-phone"); got != "請求先電話番号を入力してください。" {
			t.Fatalf("phone error %q", got)
		}
		wantIn(t, p.body, `<li>請求先姓（カナ）を入力してください。</li>`, `aria-invalid="true"`,
			// The collection stays the chosen method.
			`id="method-collection" data-button="支払いを続ける" checked`, `id="submit-button" data-busy="処理中です…">支払いを続ける</button>`)

		// Half right: the good value is kept, only the others complain.
		p = s.collect(o, "last_name_kana", "ﾔﾏﾀﾞ", "first_name_kana", "　", "phone", "03-1234-567")
		wantStatus(t, p, http.StatusBadRequest)
		wantIn(t, p.body, `value="ﾔﾏﾀﾞ"`, `value="03-1234-567"`)
		if got := fieldError(t, p.body, "cvs-last-name-kana"); got != "" {
			t.Fatalf("error on a good field: %q", got)
		}
		if got := fieldError(t, p.body, "cvs-first-name-kana"); got != "請求先名（カナ）を入力してください。" {
			t.Fatalf("blank first name kana: %q", got)
		}
		if got := fieldError(t, p.body, "cvs-phone"); !strings.Contains(got, "10桁または11桁") {
			t.Fatalf("short phone: %q", got)
		}

		// Characters a gateway field cannot carry, a name too long to send.
		p = s.collect(o, "last_name_kana", "ヤマ\u0007ダ", "first_name_kana", strings.Repeat("タ", 40), "phone", "09012345678")
		wantStatus(t, p, http.StatusBadRequest)
		if got := fieldError(t, p.body, "cvs-last-name-kana"); got != "請求先姓（カナ）に使用できない文字が含まれています。" {
			t.Fatalf("control character: %q", got)
		}
		p = s.collect(o, "last_name_kana", "ヤマダ", "first_name_kana", strings.Repeat("タ", 38), "phone", "09012345678")
		if got := fieldError(t, p.body, "cvs-last-name-kana"); !strings.Contains(got, "40文字以内") {
			t.Fatalf("too long: %q", got)
		}

		// English.
		p = s.collect(o, "lang", "en")
		wantIn(t, p.body, `<html lang="en">`)
		if got := fieldError(t, p.body, "cvs-first-name-kana"); got != "Enter the billing first name in kana." {
			t.Fatalf("English error %q", got)
		}

		if n := len(e.payments(o.ID)); n != 0 {
			t.Fatalf("%d payments after refused forms", n)
		}
		got := e.getOrder(o.ID)
		if got.Status != kessai.OrderPending || got.Billing != o.Billing {
			t.Fatalf("order changed by refused forms: %s %+v", got.Status, got.Billing)
		}
	})
}

// TestCollectionCheckout is the collection end to end on both databases
// (CVS-02 … CVS-06, CVS-10, A-06): the form's kana and phone go into the
// order's billing, the registration sends the browser to the agent's page,
// the agent's page links back to the thank-you page with what to pay, and
// paying at a store there (the simulator's notification through the
// receiver) makes the order paid.
func TestCollectionCheckout(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("fee_enabled", true, "fee_rows", feeRows))
		o := e.order(5500)
		s := e.shopper()

		// Hiragana, half-width kana and a phone typed with an IME.
		p := s.collect(o, "last_name_kana", " やまだ ", "first_name_kana", "ﾀﾛｳ", "phone", "０９０ー１２３４ー５６７８",
			"last_name", "偽名") // not asked for: ignored
		wantStatus(t, p, http.StatusSeeOther)
		agent := e.simURL + escott.PathAgentTest + "?"
		if !strings.HasPrefix(p.loc, agent) || !strings.Contains(p.loc, "rkbn=1") {
			t.Fatalf("redirect to %s, want the agent's page %s…rkbn=1", p.loc, agent)
		}

		got := e.getOrder(o.ID)
		want := kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ", FirstNameKana: "タロウ",
			Email: "taro@example.jp", Phone: "090-1234-5678"}
		if got.Billing != want {
			t.Fatalf("billing %+v, want %+v", got.Billing, want)
		}
		if got.Status != kessai.OrderOnHold || got.Amount != 5830 || collection.CurrentFee(got) != 330 {
			t.Fatalf("order %s amount %d fee %d", got.Status, got.Amount, collection.CurrentFee(got))
		}
		pays := e.payments(o.ID)
		if len(pays) != 1 || pays[0].Method != kessai.MethodCollection || pays[0].State != kessai.PaymentPending {
			t.Fatalf("payments %+v", pays)
		}
		pay := pays[0]
		var sc sim.CollectionView
		for _, c := range e.sim.Collections(demoID, "test") {
			if c.MerchantFree2 == o.ID {
				sc = c
			}
		}
		if sc.NameKanji != "山田太郎" || sc.NameKana != "ヤマダタロウ" || sc.TelNo != "090-1234-5678" || sc.Amount != 5830 {
			t.Fatalf("gateway collection %+v", sc)
		}
		// The agent's page links back to this checkout.
		if sc.ReturnURL != e.url+"/checkout/"+o.ID {
			t.Fatalf("agent's return URL %q", sc.ReturnURL)
		}
		if evs := e.events(o.ID); !strings.Contains(strings.Join(evs, " "), "order.updated") {
			t.Fatalf("no order.updated for the billing: %v", evs)
		}

		// The shopper comes back from the agent's page: the thank-you page
		// with what to pay (design A-06).
		thanks := s.get("/checkout/" + o.ID)
		wantStatus(t, thanks, http.StatusOK)
		wantIn(t, thanks.body, "ご注文ありがとうございます", `data-state="collection_pending"`, "お支払い期限までに",
			`<dd id="cvs-amount">5,830円</dd>`, `<dd id="cvs-fee">330円</dd>`, `<dd id="cvs-due">2026年4月8日 23:59</dd>`,
			`<dd id="cvs-method">コンビニ・電子マネー・Pay-easy</dd>`, "決済手数料", "お支払いページへ進む")
		link := regexp.MustCompile(`id="cvs-payment-link" href="([^"]+)"`).FindStringSubmatch(thanks.body)
		if link == nil {
			t.Fatalf("no payment link:\n%s", thanks.body)
		}
		payURL := strings.ReplaceAll(link[1], "&amp;", "&")
		if !strings.HasPrefix(payURL, agent) || !strings.Contains(payURL, "code="+sc.FreeArea) || !strings.Contains(payURL, "rkbn=2") {
			t.Fatalf("payment link %s", payURL)
		}
		back := shopReturnURL + "?order_id=" + o.ID + "&amp;payment_id=" + pay.ID + "&amp;status=pending"
		wantIn(t, thanks.body, `id="back-to-shop" href="`+back+`"`)
		wantCSP(t, thanks, "'self'", "'none'", "'self'")
		noInlineCode(t, thanks.body)
		en := s.get("/checkout/" + o.ID + "?lang=en")
		wantIn(t, en.body, `<dd id="cvs-due">April 8, 2026 23:59 (JST)</dd>`, `<dd id="cvs-amount">¥5,830</dd>`, "Go to the payment page")
		s.get("/checkout/" + o.ID + "?lang=ja")

		// A second POST of the old form (a double click) registers
		// nothing new: the order is on hold, the page shows it.
		v := url.Values{"csrf": {"x"}, "method": {"collection"}}
		wantStatus(t, s.post("/checkout/"+o.ID, v), http.StatusSeeOther)
		if n := len(e.payments(o.ID)); n != 1 {
			t.Fatalf("%d payments after a second POST", n)
		}

		// Paid at a store on the agent's page: the notification reaches
		// the receiver, the Collector verifies it with 2Ref, the order is
		// paid (CVS-10).
		receipt := s.payAtAgent(payURL, "FAM")
		wantIn(t, receipt.body, "お支払いが完了しました", e.url+"/checkout/"+o.ID)
		if st := e.getOrder(o.ID).Status; st != kessai.OrderProcessing {
			t.Fatalf("order after payment: %s", st)
		}
		if p := e.payments(o.ID)[0]; p.State != kessai.PaymentPaid || p.CvsCd != "FAM" {
			t.Fatalf("payment after payment: %+v", p)
		}
		paid := s.get("/checkout/" + o.ID)
		wantIn(t, paid.body, `data-state="paid"`, "お支払いが完了しました。",
			`<dd id="paid-method">コンビニ・電子マネー・Pay-easy (ファミリーマート)</dd>`,
			`id="back-to-shop" href="`+strings.Replace(back, "status=pending", "status=succeeded", 1)+`"`)
		wantNotIn(t, paid.body, "cvs-payment-link", "お支払い期限")
	})
}

// TestCollectionRefused is CVS-07: a refused registration fails the order
// and shows the form again with the plugins' message, ready for another
// try (the fee is not left on the order); a lost answer tells the shopper
// not to try again.
func TestCollectionRefused(t *testing.T) {
	e := newEnv(t, withCollection("fee_enabled", true, "fee_rows", feeRows))
	o := e.order(3000, withBilling(fullBilling))
	s := e.shopper()
	e.sim.AddFault(sim.Fault{Op: escott.OpCvsAdd, Kind: sim.FaultResponseCode, ResponseCd: "W02", Times: 1})
	p := s.collect(o)
	wantStatus(t, p, http.StatusPaymentRequired)
	wantIn(t, p.body, "支払い処理に失敗しました。再度お試しください。", `id="method-collection" data-button="支払いを続ける" checked`)
	wantNotIn(t, p.body, "W02")
	if got := e.getOrder(o.ID); got.Status != kessai.OrderFailed || got.Amount != 3000 {
		t.Fatalf("order after the refusal: %s %d", got.Status, got.Amount)
	}
	// Again, and through.
	p = s.collect(o)
	wantStatus(t, p, http.StatusSeeOther)
	if got := e.getOrder(o.ID); got.Status != kessai.OrderOnHold || got.Amount != 3330 {
		t.Fatalf("order after the retry: %s %d", got.Status, got.Amount)
	}

	// The answer lost: the shopper must not register again.
	o = e.order(3000, withBilling(fullBilling))
	e.sim.AddFault(sim.Fault{Op: escott.OpCvsAdd, Kind: sim.FaultEmptyBody, After: true, Times: 1})
	p = s.collect(o)
	wantStatus(t, p, http.StatusOK)
	wantIn(t, p.body, "二重決済を防ぐため")
	wantIn(t, s.get("/checkout/"+o.ID).body, "二重決済を防ぐため")
}

// TestCollectionPastDue: once the due date has passed the thank-you page
// no longer links to the agent's page (it refuses the payment) and says
// to contact the shop.
func TestCollectionPastDue(t *testing.T) {
	e := newEnv(t, withCollection())
	o := e.order(2000, withBilling(fullBilling))
	s := e.shopper()
	wantStatus(t, s.collect(o), http.StatusSeeOther)
	wantIn(t, s.get("/checkout/"+o.ID).body, `id="cvs-payment-link"`)
	e.clock.Advance(8 * 24 * time.Hour) // 9 April, noon: past 8 April 23:59
	p := s.get("/checkout/" + o.ID)
	wantIn(t, p.body, `data-state="collection_expired"`, "お支払い期限を過ぎたため", `<dd id="cvs-due">2026年4月8日 23:59</dd>`)
	wantNotIn(t, p.body, "cvs-payment-link")
	// Expired by the recovery job, the order left on hold: the same.
	if out, err := e.col.Sweep(e.ctx, shopID); err != nil || out.Expired != 1 {
		t.Fatalf("sweep %+v %v", out, err)
	}
	if st := e.getOrder(o.ID).Status; st != kessai.OrderOnHold {
		t.Fatalf("order %s", st)
	}
	p = s.get("/checkout/" + o.ID)
	wantIn(t, p.body, `data-state="collection_expired"`, "お支払い期限を過ぎたため")
	wantNotIn(t, p.body, "cvs-payment-link")
}

// TestCollectionZeroTotal is CVS-12 from the page: nothing to pay, no
// registration, the order is paid at once.
func TestCollectionZeroTotal(t *testing.T) {
	e := newEnv(t, withCollection())
	e.card("enabled", false)
	o := e.order(0, withBilling(fullBilling))
	s := e.shopper()
	p := s.get("/checkout/" + o.ID)
	wantIn(t, p.body, "お支払い金額は0円です。", ">注文を確定する</button>")
	thanks := s.follow(s.collect(o))
	wantIn(t, thanks.body, "ご注文が完了しました。")
	if st := e.getOrder(o.ID).Status; st != kessai.OrderProcessing || len(e.payments(o.ID)) != 0 {
		t.Fatalf("zero-total order %s, %d payments", st, len(e.payments(o.ID)))
	}
}

// itoa formats n with thousands separators, as the pages do.
func itoa(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
