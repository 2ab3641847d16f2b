package console_test

// The orders screen (issue item 3): the list with its filters and search
// (ADMIN-01), the order page (ADMIN-02, ADMIN-17), the 決済情報 dialog and
// its operations against the simulator (ADMIN-03 … ADMIN-16), unknown
// outcomes (design gap #25), read-only users and the light plan
// (ADMIN-18).

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
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
)

// ---- helpers ----

// ordersRow returns the list's row of an order ("" when absent).
func ordersRow(page, orderID string) string {
	start := strings.Index(page, `<tr id="order-`+orderID+`">`)
	if start < 0 {
		return ""
	}
	rest := page[start:]
	return rest[:strings.Index(rest, "</tr>")]
}

// ordersWantRows checks which of the orders the list shows.
func ordersWantRows(t *testing.T, page string, shown []*kessai.Order, hidden ...*kessai.Order) {
	t.Helper()
	for _, o := range shown {
		if ordersRow(page, o.ID) == "" {
			t.Errorf("order %s (%s) not listed", o.ShopOrderID, o.ID)
		}
	}
	for _, o := range hidden {
		if ordersRow(page, o.ID) != "" {
			t.Errorf("order %s (%s) listed", o.ShopOrderID, o.ID)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}
}

// ordersDialogURL is the dialog of a payment.
func ordersDialogURL(orderID, paymentID string) string {
	return "/admin/orders/" + orderID + "/payment?payment=" + paymentID
}

// ordersSimCard returns the simulator's card transaction of an order
// (MerchantFree2 is the order id).
func (e *env) ordersSimCard(orderID string) sim.TransactionView {
	e.T.Helper()
	var out []sim.TransactionView
	for _, tx := range e.Sim.Transactions(paytest.DemoID, "test") {
		if tx.MerchantFree2 == orderID {
			out = append(out, tx)
		}
	}
	if len(out) != 1 {
		e.T.Fatalf("simulator card transactions of %s: %+v", orderID, out)
	}
	return out[0]
}

// ordersSimCollection returns the simulator's collection of an order.
func (e *env) ordersSimCollection(orderID string) sim.CollectionView {
	e.T.Helper()
	var out []sim.CollectionView
	for _, c := range e.Sim.Collections(paytest.DemoID, "test") {
		if c.MerchantFree2 == orderID {
			out = append(out, c)
		}
	}
	if len(out) != 1 {
		e.T.Fatalf("simulator collections of %s: %+v", orderID, out)
	}
	return out[0]
}

// ordersHistoryOps lists the 処理区分 column of the dialog's history,
// newest first, with the result: "売上計上 OK".
func ordersHistoryOps(t *testing.T, page string) []string {
	t.Helper()
	start := strings.Index(page, `id="payment-history"`)
	if start < 0 {
		t.Fatalf("no history table:\n%s", page)
	}
	body := page[start:]
	body = body[strings.Index(body, "<tbody>"):strings.Index(body, "</tbody>")]
	cell := regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tag := regexp.MustCompile(`<[^>]+>`)
	var out []string
	for _, tr := range strings.Split(body, "<tr")[1:] {
		cells := cell.FindAllStringSubmatch(tr, -1)
		if len(cells) < 5 {
			t.Fatalf("history row %q", tr)
		}
		result := cells[4][1]
		if i := strings.Index(result, `<span class="help">`); i >= 0 {
			result = result[:i]
		}
		out = append(out, strings.TrimSpace(cells[0][1])+" "+strings.TrimSpace(cells[3][1])+" "+strings.TrimSpace(tag.ReplaceAllString(result, "")))
	}
	return out
}

func ordersWantHistory(t *testing.T, page string, want ...string) {
	t.Helper()
	got := ordersHistoryOps(t, page)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// ordersButtons lists the ids of the dialog's operation buttons.
func ordersButtons(page string) []string {
	ids := []string{"reauthorize-button", "capture-button", "cancel-button", "change-amount-button",
		"collection-cancel-button", "change-due-button", "charge-auth-button", "charge-capture-button", "register-button",
		"resolve-succeeded-button", "resolve-failed-button"}
	var out []string
	for _, id := range ids {
		if strings.Contains(page, `id="`+id+`"`) {
			out = append(out, id)
		}
	}
	return out
}

func ordersWantButtons(t *testing.T, page string, want ...string) {
	t.Helper()
	if got := ordersButtons(page); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("buttons %v, want %v\n%s", got, want, page)
	}
}

// ordersDo posts an operation from the dialog and follows the redirect
// back to it, returning the dialog page.
func (b *browser) ordersDo(dialog, path string, form url.Values, done string) string {
	b.e.T.Helper()
	r := b.post(dialog, path, form)
	wantRedirect(b.e.T, r, dialog)
	if !strings.Contains(r.Loc, "done="+done) {
		b.e.T.Fatalf("redirect %q, want done=%s", r.Loc, done)
	}
	return b.page(r.Loc)
}

// ordersPayInput pays with a token of the card number.
func ordersPayInput(tok, number string) cardpay.PayInput {
	return cardpay.PayInput{Token: tok, CardPrefix: number[:6]}
}

// ordersToday is today's JST date as the dialog's due date input wants it.
func (e *env) ordersToday() string {
	return e.Clock.Now().In(escott.JST).Format("20060102")
}

// ---- the list (ADMIN-01) ----

func TestOrdersListFiltersAndSearch(t *testing.T) {
	e := newEnv(t)
	card := e.order(5500, forCustomer("c1"))
	cardPay := e.payCard(card, false)
	cvs := e.order(3000, forCustomer("c2"))
	cvsPay := e.register(cvs).Payment
	none := e.order(1200)
	e.Advance(48 * time.Hour) // 2026-04-03 JST
	later := e.order(800, forCustomer("c1"))

	b := e.asAdmin()
	page := b.page("/admin/orders")
	ordersWantRows(t, page, []*kessai.Order{card, cvs, none, later})
	wantContains(t, page, "決済ステータス", "2026-04-01 12:00") // JST
	if row := ordersRow(page, card.ID); !strings.Contains(row, `<span class="badge green">与信</span>`) ||
		!strings.Contains(row, card.ShopOrderID) || !strings.Contains(row, "5,500円") || !strings.Contains(row, "クレジットカード") ||
		!strings.Contains(row, "山田 太郎") || !strings.Contains(row, "c1") {
		t.Errorf("card row %s", row)
	}
	if row := ordersRow(page, cvs.ID); !strings.Contains(row, `<span class="badge red">未入金</span>`) || !strings.Contains(row, "保留中") {
		t.Errorf("collection row %s", row)
	}
	if row := ordersRow(page, none.ID); strings.Contains(row, "badge") {
		t.Errorf("an order without payment has a badge: %s", row)
	}
	// Newest first.
	if strings.Index(page, later.ID) > strings.Index(page, card.ID) {
		t.Error("not newest first")
	}

	all := []*kessai.Order{card, cvs, none, later}
	others := func(keep ...*kessai.Order) []*kessai.Order {
		var out []*kessai.Order
		for _, o := range all {
			found := false
			for _, k := range keep {
				found = found || k == o
			}
			if !found {
				out = append(out, o)
			}
		}
		return out
	}
	for _, c := range []struct {
		name  string
		query string
		want  []*kessai.Order
	}{
		{"status", "status=on-hold", []*kessai.Order{cvs}},
		{"method card", "method=card", []*kessai.Order{card}},
		{"method collection", "method=collection", []*kessai.Order{cvs}},
		{"first day", "from=2026-04-01&to=2026-04-01", []*kessai.Order{card, cvs, none}},
		{"from the third", "from=2026-04-03", []*kessai.Order{later}},
		{"to the second", "to=2026-04-02", []*kessai.Order{card, cvs, none}},
		{"kessai id", "q=" + cvs.ID, []*kessai.Order{cvs}},
		{"shop order id", "q=" + none.ShopOrderID, []*kessai.Order{none}},
		{"transaction code", "q=" + cvsPay.TransactionCode, []*kessai.Order{cvs}},
		{"card code", "q=" + cardPay.TransactionCode, []*kessai.Order{card}},
		{"customer", "q=c1", []*kessai.Order{card, later}},
		{"customer and status", "q=c1&status=processing", []*kessai.Order{card}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := b.page("/admin/orders?" + c.query)
			ordersWantRows(t, page, c.want, others(c.want...)...)
		})
	}

	// Nothing found is said so.
	for _, q := range []string{"q=nosuch", "q=999999999999", "q=" + url.QueryEscape("山田"), "q=c1&method=collection"} {
		page := b.page("/admin/orders?" + q)
		wantContains(t, page, `id="orders-empty"`, "該当する注文はありません。")
		ordersWantRows(t, page, nil, all...)
	}

	// Bad filters are a message, not an error page.
	for _, c := range []struct{ query, msg string }{
		{"status=shipped", "注文ステータスの指定が正しくありません。"},
		{"method=cash", "支払方法の指定が正しくありません。"},
		{"from=2026-13-01", "日付は YYYY-MM-DD の形式で入力してください。"},
		{"from=2026-04-03&to=2026-04-01", "注文日（まで）は注文日（から）以降の日付にしてください。"},
		{"after=bogus", "ページの指定が正しくありません。"},
	} {
		r := b.get("/admin/orders?" + c.query)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d", c.query, r.Status)
		}
		wantContains(t, r.Body, c.msg, `id="orders-filter"`)
	}

	// A collection past its due date shows 期限切れ before any job ran
	// (CVS-11); a captured card 売上計上.
	if _, err := e.payer.Operate(e.Ctx, shopID, cardPay.ID, escott.OpCapture, 0); err != nil {
		t.Fatal(err)
	}
	e.Advance(8 * 24 * time.Hour)
	b = e.asAdmin() // the session ended meanwhile
	page = b.page("/admin/orders")
	if row := ordersRow(page, cvs.ID); !strings.Contains(row, `<span class="badge red">期限切れ</span>`) {
		t.Errorf("past-due row %s", row)
	}
	if row := ordersRow(page, card.ID); !strings.Contains(row, `<span class="badge blue">売上計上</span>`) {
		t.Errorf("captured row %s", row)
	}
}

func TestOrdersListPaging(t *testing.T) {
	e := newEnv(t)
	var orders []*kessai.Order
	for i := 0; i < 52; i++ {
		orders = append(orders, e.order(int64(100+i), forCustomer("pager")))
	}
	b := e.asAdmin()
	page := b.page("/admin/orders?q=pager")
	if n := strings.Count(page, `<tr id="order-`); n != 50 {
		t.Fatalf("first page has %d rows", n)
	}
	ordersWantRows(t, page, []*kessai.Order{orders[51], orders[2]}, orders[1], orders[0])
	m := regexp.MustCompile(`href="([^"]+)" id="orders-next"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no next link:\n%s", page)
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.Contains(next, "q=pager") || !strings.Contains(next, "after="+orders[2].ID) {
		t.Fatalf("next link %s", next)
	}
	page = b.page(next)
	if n := strings.Count(page, `<tr id="order-`); n != 2 {
		t.Fatalf("second page has %d rows", n)
	}
	ordersWantRows(t, page, []*kessai.Order{orders[1], orders[0]}, orders[2])
	wantNotContains(t, page, `id="orders-next"`)
}

// ---- the order page (ADMIN-02, ADMIN-17) ----

func TestOrdersOrderPage(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500, forCustomer("c1"))
	// A declined attempt, then a payment that goes through.
	tok, err := e.Sim.IssueToken(paytest.DemoID, "test", "4000000000000127", "2812", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.payer.Pay(e.Ctx, shopID, o.ID, ordersPayInput(tok, "4000000000000127")); err == nil {
		t.Fatal("G12 card approved")
	}
	pay := e.payCard(e.GetOrder(o.ID), false)

	b := e.asAdmin()
	page := b.page("/admin/orders/" + o.ID)
	wantContains(t, page, "ソニーペイメント", `id="payment-box-badge">与信</span>`, pay.TransactionCode, "Tシャツ", "5,500円",
		`href="/admin/orders/`+o.ID+`/payment?payment=`+pay.ID+`" id="payment-info-button">決済情報</a>`,
		"決済の変更・取消は、注文を削除する前に「決済情報」から行ってください", // ADMIN-17
		`id="order-previous"`, "G12", "処理中")
	wantNotContains(t, page, "支払回数", "支払期日", `<dialog`)

	// A collection: 支払期日 while unpaid.
	c := e.order(3000)
	cp := e.register(c).Payment
	page = b.page("/admin/orders/" + c.ID)
	wantContains(t, page, `id="payment-box-badge">未入金</span>`, "支払期日", "2026-04-08 23:59:59", cp.TransactionCode)

	// An order without a payment: the button opens the new-payment dialog.
	n := e.order(700)
	page = b.page("/admin/orders/" + n.ID)
	wantContains(t, page, "この注文には決済がありません。", `href="/admin/orders/`+n.ID+`/payment" id="payment-info-button"`)

	r := b.get("/admin/orders/ord_nosuch")
	if r.Status != http.StatusNotFound {
		t.Fatalf("missing order: HTTP %d", r.Status)
	}
	r = b.get(ordersDialogURL(o.ID, cp.ID)) // a payment of another order
	if r.Status != http.StatusNotFound {
		t.Fatalf("payment of another order: HTTP %d", r.Status)
	}
}

// ---- card operations (ADMIN-04 … ADMIN-08, ADMIN-10) ----

func TestOrdersCardDialog(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500, forCustomer("c1"))
	pay := e.payCard(o, false)
	base := "/admin/payments/" + pay.ID
	dialog := ordersDialogURL(o.ID, pay.ID)
	b := e.asAdmin()

	page := b.page(dialog)
	wantContains(t, page, `<dialog open`, `id="dialog-badge">与信</span>`, `name="amount" inputmode="numeric" value="5500"`,
		`formaction="`+base+`/capture" id="capture-button" data-confirm="売上計上処理を実行します。よろしいですか？"`,
		`formaction="`+base+`/cancel" id="cancel-button" data-confirm="取消処理を実行します。よろしいですか？"`,
		`formaction="`+base+`/change_amount" id="change-amount-button" data-confirm="利用金額の変更処理を実行します。よろしいですか？"`,
		`formaction="`+base+`/reauthorize" id="reauthorize-button" data-confirm="再オーソリ処理を実行します。よろしいですか？"`,
		`href="/admin/orders/`+o.ID+`" class="button" id="dialog-close">閉じる</a>`,
		"取引日から約60日以内", "操作期限の目安", "2026-05-31", "決済情報」から行ってください")
	ordersWantButtons(t, page, "reauthorize-button", "capture-button", "cancel-button", "change-amount-button")
	ordersWantHistory(t, page, "1 与信 OK")

	// Capture (ADMIN-05).
	page = b.ordersDo(dialog, base+"/capture", nil, "orders_capture")
	wantContains(t, page, "売上計上が完了しました。", `id="dialog-badge">売上計上</span>`)
	ordersWantButtons(t, page, "cancel-button", "change-amount-button")
	ordersWantHistory(t, page, "2 売上計上 OK", "1 与信 OK")
	if tx := e.ordersSimCard(o.ID); tx.Status != "CAPTURED" || tx.SalesDate == "" {
		t.Fatalf("simulator %+v", tx)
	}
	wantContains(t, page, "売上計上日")

	// The same amount changes nothing (ADMIN-07).
	calls := e.Calls.Count(escott.OpChange)
	page = b.ordersDo(dialog, base+"/change_amount", url.Values{"amount": {"5500"}}, "orders_noop_amount")
	wantContains(t, page, "利用金額が現在と同じため、変更は行いませんでした。")
	if e.Calls.Count(escott.OpChange) != calls {
		t.Fatal("a no-op amount change reached the gateway")
	}

	// Empty, zero or non-numeric: the plugin's message, nothing sent.
	for _, bad := range []string{"", "0", "abc", "-5", "1.5"} {
		r := b.post(dialog, base+"/change_amount", url.Values{"amount": {bad}})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("amount %q: HTTP %d", bad, r.Status)
		}
		wantContains(t, r.Body, "利用金額の形式が不正です。数値で入力してください。", `<dialog open`, `value="`+bad+`"`)
	}
	if e.Calls.Count(escott.OpChange) != calls {
		t.Fatal("an invalid amount reached the gateway")
	}

	// Amount change: the state stays (ADMIN-07).
	page = b.ordersDo(dialog, base+"/change_amount", url.Values{"amount": {"4,000"}}, "orders_change_amount")
	wantContains(t, page, "利用額変更が完了しました。", `id="dialog-badge">売上計上</span>`, `value="4000"`)
	if tx := e.ordersSimCard(o.ID); tx.Amount != 4000 || tx.Status != "CAPTURED" {
		t.Fatalf("simulator %+v", tx)
	}
	ordersWantHistory(t, page, "3 利用額変更 OK", "2 売上計上 OK", "1 与信 OK")

	// Cancel (ADMIN-06): only 再オーソリ is left; the order is untouched.
	page = b.ordersDo(dialog, base+"/cancel", nil, "orders_cancel")
	wantContains(t, page, "取消が完了しました。", `id="dialog-badge">取消</span>`)
	ordersWantButtons(t, page, "reauthorize-button")
	if tx := e.ordersSimCard(o.ID); tx.Status != "CANCELLED" {
		t.Fatalf("simulator %+v", tx)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)

	// Re-authorisation (ADMIN-08): back to the original 与信.
	page = b.ordersDo(dialog, base+"/reauthorize", url.Values{"amount": {"3000"}}, "orders_reauthorize")
	wantContains(t, page, "再オーソリが完了しました。", `id="dialog-badge">与信</span>`)
	ordersWantButtons(t, page, "reauthorize-button", "capture-button", "cancel-button", "change-amount-button")
	if tx := e.ordersSimCard(o.ID); tx.Amount != 3000 || tx.Status != "AUTH" {
		t.Fatalf("simulator %+v", tx)
	}
	paytest.WantState(t, e.GetPayment(pay.ID), kessai.PaymentAuthorized)
	ordersWantHistory(t, page, "5 再オーソリ OK", "4 取消 OK", "3 利用額変更 OK", "2 売上計上 OK", "1 与信 OK")

	// A gateway refusal: the dialog again, with the code described and
	// the NG row in the history.
	e.Sim.AddFault(sim.Fault{Op: escott.OpCapture, Kind: sim.FaultResponseCode, ResponseCd: "K14", Times: 1})
	r := b.post(dialog, base+"/capture", nil)
	if r.Status != http.StatusConflict {
		t.Fatalf("refused capture: HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, `<dialog open`, "売上計上に失敗しました。", escott.DescribeCodes([]string{"K14"}, "ja"),
		`<tr class="ng">`, `<strong class="result-ng">K14</strong>`, ">エラー<")
	ordersWantHistory(t, r.Body, "6 売上計上 K14", "5 再オーソリ OK", "4 取消 OK", "3 利用額変更 OK", "2 売上計上 OK", "1 与信 OK")
	if tx := e.ordersSimCard(o.ID); tx.Status != "AUTH" {
		t.Fatalf("simulator %+v", tx)
	}

	// An operation the state does not allow is refused before the gateway.
	n := e.Calls.Count(escott.OpChange)
	r = b.post(dialog, base+"/change_amount", url.Values{"amount": {"999999999"}})
	if r.Status != http.StatusBadRequest || e.Calls.Count(escott.OpChange) != n {
		t.Fatalf("too large an amount: HTTP %d, %d calls", r.Status, e.Calls.Count(escott.OpChange)-n)
	}
	wantContains(t, r.Body, "金額は")
}

// TestOrdersCardExpired: past the handling period the reference answers
// K12, shown as 期限切れ with no buttons (ADMIN-16).
func TestOrdersCardExpired(t *testing.T) {
	e := newEnv(t)
	o := e.order(2000)
	pay := e.payCard(o, false)
	e.Advance(62 * 24 * time.Hour)
	b := e.asAdmin()
	page := b.page(ordersDialogURL(o.ID, pay.ID))
	wantContains(t, page, `id="dialog-badge">期限切れ</span>`, "K12 : 取り扱いできる期限を過ぎています。")
	ordersWantButtons(t, page)
	wantNotContains(t, page, "操作期限の目安")
	paytest.WantState(t, e.GetPayment(pay.ID), kessai.PaymentExpired)
	if row := ordersRow(b.page("/admin/orders"), o.ID); !strings.Contains(row, "期限切れ") {
		t.Fatalf("list row %s", row)
	}
}

// TestOrdersReferenceError: a refused reference shows 「エラー」 with the
// codes and no buttons (ADMIN-04).
func TestOrdersReferenceError(t *testing.T) {
	e := newEnv(t)
	o := e.order(2000)
	pay := e.payCard(o, false)
	e.Sim.AddFault(sim.Fault{Op: escott.OpSearch, Kind: sim.FaultResponseCode, ResponseCd: "E90", Times: 1})
	b := e.asAdmin()
	page := b.page(ordersDialogURL(o.ID, pay.ID))
	wantContains(t, page, `id="dialog-ref-error"`, ">エラー<", escott.DescribeCodes([]string{"E90"}, "ja"), `id="dialog-badge">与信</span>`)
	ordersWantButtons(t, page)
	// Opened again, the reference works and the buttons are back.
	ordersWantButtons(t, b.page(ordersDialogURL(o.ID, pay.ID)), "reauthorize-button", "capture-button", "cancel-button", "change-amount-button")
}

// ---- collections (ADMIN-12 … ADMIN-14) ----

func TestOrdersCollectionDialog(t *testing.T) {
	e := newEnv(t)
	o := e.order(3000)
	pay := e.register(o).Payment
	base := "/admin/payments/" + pay.ID
	dialog := ordersDialogURL(o.ID, pay.ID)
	b := e.asAdmin()

	page := b.page(dialog)
	wantContains(t, page, `id="dialog-badge">未入金</span>`, `name="pay_limit" inputmode="numeric" maxlength="10" value="20260408"`,
		`name="amount" inputmode="numeric" value="`+strconv.FormatInt(pay.Amount, 10)+`"`,
		`formaction="`+base+`/collection_cancel" id="collection-cancel-button" data-confirm="取消処理を実行します。よろしいですか？"`,
		`formaction="`+base+`/change_due" id="change-due-button" data-confirm="支払期限・支払額の変更処理を実行します。よろしいですか？"`,
		`id="dialog-payment-url"`)
	ordersWantButtons(t, page, "collection-cancel-button", "change-due-button")
	ordersWantHistory(t, page, "1 登録 OK")

	// Unchanged: nothing happens.
	calls := e.Calls.Count(escott.OpCvsChg)
	page = b.ordersDo(dialog, base+"/change_due", url.Values{"pay_limit": {"20260408"}, "amount": {strconv.FormatInt(pay.Amount, 10)}}, "orders_noop_due")
	wantContains(t, page, "支払期日・支払い金額が現在と同じため、変更は行いませんでした。")

	// ADMIN-13's checks, before any call.
	for _, c := range []struct{ due, amount, msg string }{
		{"2026041", "3000", "支払期限の形式が不正です。８桁の数字で入力してください。"},
		{"", "3000", "支払期限の形式が不正です。８桁の数字で入力してください。"},
		{"20260331", "3000", "支払期限が不正です。本日より前の日付は指定できません。"},
		{"20260408", "", "支払額の形式が不正です。数値で入力してください。"},
		{"20260408", "0", "支払額の形式が不正です。数値で入力してください。"},
		{"20260408", "abc", "支払額の形式が不正です。数値で入力してください。"},
	} {
		r := b.post(dialog, base+"/change_due", url.Values{"pay_limit": {c.due}, "amount": {c.amount}})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("%+v: HTTP %d", c, r.Status)
		}
		wantContains(t, r.Body, c.msg, `<dialog open`)
	}
	if e.Calls.Count(escott.OpCvsChg) != calls {
		t.Fatal("a refused change reached the gateway")
	}

	// Change to today (design A-26) and a new amount: once only.
	page = b.ordersDo(dialog, base+"/change_due", url.Values{"pay_limit": {e.ordersToday()}, "amount": {"3500"}}, "orders_change_due")
	wantContains(t, page, "変更が完了しました。", `id="dialog-badge">未入金</span>`, `value="20260401"`, `value="3500"`)
	ordersWantButtons(t, page, "collection-cancel-button")
	ordersWantHistory(t, page, "2 変更 OK", "1 登録 OK")
	if sc := e.ordersSimCollection(o.ID); sc.Amount != 3500 || !sc.Changed || !strings.HasPrefix(sc.PayLimit, "20260401") {
		t.Fatalf("simulator %+v", sc)
	}

	// Cancel (ADMIN-14): 取消済み with due date and amount, no buttons.
	page = b.ordersDo(dialog, base+"/collection_cancel", nil, "orders_collection_cancel")
	wantContains(t, page, "削除が完了しました。", `id="dialog-badge">取消済み</span>`, `id="dialog-due">2026-04-01 23:59:59`, "3,500円")
	ordersWantButtons(t, page)
	if sc := e.ordersSimCollection(o.ID); sc.Status != "DELETED" {
		t.Fatalf("simulator %+v", sc)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderOnHold) // not changed (ADMIN-14)
	// Opened again: the reference's K12 after a cancel is the cancelled
	// state, not an error.
	page = b.page(dialog)
	wantContains(t, page, `id="dialog-badge">取消済み</span>`)
	wantNotContains(t, page, `id="dialog-ref-error"`, `id="dialog-gateway-codes"`)
}

func TestOrdersCollectionPaid(t *testing.T) {
	e := newEnv(t)
	o := e.order(3000)
	pay := e.register(o).Payment
	if err := e.Sim.PayCollection(paytest.DemoID, "test", pay.FreeArea, "LSN"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.Ctx, 10*time.Second)
	defer cancel()
	if err := e.Sim.FlushNotifications(ctx); err != nil {
		t.Fatal(err)
	}
	b := e.asAdmin()
	page := b.page(ordersDialogURL(o.ID, pay.ID))
	sc := e.ordersSimCollection(o.ID)
	wantContains(t, page, `id="dialog-badge">入金済</span>`, `id="dialog-recv">`+sc.RecvNum+`<`, `id="dialog-store">ローソン<`, "入金日時")
	ordersWantButtons(t, page)
	if row := ordersRow(b.page("/admin/orders"), o.ID); !strings.Contains(row, `<span class="badge blue">入金済</span>`) {
		t.Fatalf("list row %s", row)
	}
}

// ---- orders without a payment (ADMIN-09, ADMIN-15) ----

func TestOrdersNewCharge(t *testing.T) {
	e := newEnv(t)
	e.payCard(e.order(1000, forCustomer("member")), true) // saves the card
	o := e.order(2000, forCustomer("member"))
	b := e.asAdmin()
	dialog := "/admin/orders/" + o.ID + "/payment"
	page := b.page(dialog)
	wantContains(t, page, `id="charge-amount" name="amount" inputmode="numeric" value="2000"`,
		`id="charge-auth-button" data-confirm="与信処理を実行します。よろしいですか？"`,
		`id="charge-capture-button" data-confirm="与信売上計上処理を実行します。よろしいですか？"`,
		`id="register-button" data-confirm="登録処理を実行します。よろしいですか？"`)

	r := b.post(dialog, "/admin/orders/"+o.ID+"/charge", url.Values{"amount": {"x"}, "capture": {"1"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "利用金額の形式が不正です。数値で入力してください。")

	r = b.post(dialog, "/admin/orders/"+o.ID+"/charge", url.Values{"amount": {"1800"}, "capture": {"1"}})
	pays := e.Payments(o.ID)
	if len(pays) != 1 {
		t.Fatalf("payments %+v", pays)
	}
	wantRedirect(t, r, ordersDialogURL(o.ID, pays[0].ID)+"&done=orders_gathering")
	page = b.page(r.Loc)
	wantContains(t, page, "与信売上計上が完了しました。", `id="dialog-badge">与信売上計上</span>`)
	ordersWantButtons(t, page, "cancel-button", "change-amount-button")
	tx := e.ordersSimCard(o.ID)
	if tx.Status != "CAPTURED" || tx.Amount != 1800 || tx.KaiinID == "" || tx.OriginalOp != escott.OpGathering {
		t.Fatalf("simulator %+v", tx)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)

	// A customer without a saved card: 「カード会員情報未登録」, no charge.
	g := e.order(900, forCustomer("nocard"))
	page = b.page("/admin/orders/" + g.ID + "/payment")
	wantContains(t, page, `id="dialog-no-member"`, "カード会員情報未登録")
	ordersWantButtons(t, page, "register-button")

	// A lost answer: the outcome is unknown and the order is listed for
	// resolution.
	u := e.order(1500, forCustomer("member"))
	e.Sim.AddFault(sim.Fault{Op: escott.OpAuth, Kind: sim.FaultReset, After: true, Times: 1})
	r = b.post("/admin/orders/"+u.ID+"/payment", "/admin/orders/"+u.ID+"/charge", url.Values{"amount": {"1500"}, "capture": {"0"}})
	if r.Status != http.StatusConflict {
		t.Fatalf("lost answer: HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, "処理結果が不明です", "結果不明の決済がある注文", `id="resolve-form"`)
	ordersWantRows(t, b.page("/admin/orders?state=unknown"), []*kessai.Order{u}, o)
}

func TestOrdersAdminRegistration(t *testing.T) {
	e := newEnv(t)
	o := e.order(4400)
	b := e.asAdmin()
	dialog := "/admin/orders/" + o.ID + "/payment"
	page := b.page(dialog)
	wantContains(t, page, `id="new-pay-limit" name="pay_limit" inputmode="numeric" maxlength="10" value="20260408"`,
		`id="new-cvs-amount" name="amount" inputmode="numeric" value="4400"`, "カード会員情報未登録")
	ordersWantButtons(t, page, "register-button")

	r := b.post(dialog, "/admin/orders/"+o.ID+"/collection", url.Values{"pay_limit": {"20260301"}, "amount": {"4400"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "支払期限が不正です。本日より前の日付は指定できません。", `value="20260301"`)
	if n := len(e.Payments(o.ID)); n != 0 {
		t.Fatalf("%d payments after a refused registration", n)
	}

	r = b.post(dialog, "/admin/orders/"+o.ID+"/collection", url.Values{"pay_limit": {"20260410"}, "amount": {"4000"}})
	pays := e.Payments(o.ID)
	if len(pays) != 1 {
		t.Fatalf("payments %+v", pays)
	}
	wantRedirect(t, r, ordersDialogURL(o.ID, pays[0].ID)+"&done=orders_register")
	page = b.page(r.Loc)
	wantContains(t, page, "登録が完了しました。", `id="dialog-badge">未入金</span>`, `value="20260410"`)
	ordersWantButtons(t, page, "collection-cancel-button", "change-due-button")
	sc := e.ordersSimCollection(o.ID)
	if sc.Amount != 4000 || !strings.HasPrefix(sc.PayLimit, "20260410") || sc.Status != "UNPAID" {
		t.Fatalf("simulator %+v", sc)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderPending) // not changed (ADMIN-15)
}

// ---- unknown outcomes (design gap #25) ----

func TestOrdersResolveUnknown(t *testing.T) {
	e := newEnv(t)
	o := e.order(6600)
	e.Sim.AddFault(sim.Fault{Op: escott.OpAuth, Kind: sim.FaultReset, After: true, Times: 1})
	tok, err := e.Sim.IssueToken(paytest.DemoID, "test", sim.DemoCard, "2812", "8888", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.payer.Pay(e.Ctx, shopID, o.ID, ordersPayInput(tok, sim.DemoCard)); kessai.ErrorKind(err) != kessai.KindUnknown {
		t.Fatalf("want an unknown outcome, got %v", err)
	}
	pay := e.Payments(o.ID)[0]
	paytest.WantState(t, &pay, kessai.PaymentUnknown)
	other := e.order(700)

	b := e.asAdmin()
	list := b.page("/admin/orders?state=unknown")
	ordersWantRows(t, list, []*kessai.Order{o}, other)
	if row := ordersRow(list, o.ID); !strings.Contains(row, `<span class="badge orange">結果不明</span>`) {
		t.Fatalf("row %s", row)
	}

	page := b.page("/admin/orders/" + o.ID)
	wantContains(t, page, `id="payment-box-badge">結果不明</span>`, `id="resolve-form"`, "e-SCOTT 管理画面で下記の決済コード",
		`id="resolve-code">`+pay.TransactionCode+`<`)
	dialog := ordersDialogURL(o.ID, pay.ID)
	page = b.page(dialog)
	ordersWantButtons(t, page, "resolve-succeeded-button", "resolve-failed-button")
	if strings.Count(page, `id="resolve-form"`) != 1 {
		t.Fatal("resolution form twice")
	}

	// A handle the gateway does not confirm is refused.
	r := b.post(dialog, "/admin/payments/"+pay.ID+"/resolve", url.Values{"outcome": {"succeeded"}, "process_id": {"nosuch"},
		"process_pass": {"nosuch"}, "view": {"dialog"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "指定の取引を e-SCOTT で確認できませんでした。", `<dialog open`)
	r = b.post(dialog, "/admin/payments/"+pay.ID+"/resolve", url.Values{"outcome": {"succeeded"}, "view": {"dialog"}})
	wantContains(t, r.Body, "process_id（e-SCOTT の管理画面に表示される取引の ProcessId）を指定してください。")

	tx := e.ordersSimCard(o.ID)
	page = b.ordersDo(dialog, "/admin/payments/"+pay.ID+"/resolve", url.Values{"outcome": {"succeeded"},
		"process_id": {tx.ProcessID}, "process_pass": {tx.ProcessPass}, "view": {"dialog"}}, "orders_resolved")
	wantContains(t, page, "決済の結果を確定しました。", `id="dialog-badge">与信</span>`)
	ordersWantButtons(t, page, "reauthorize-button", "capture-button", "cancel-button", "change-amount-button")
	paytest.WantState(t, e.GetPayment(pay.ID), kessai.PaymentAuthorized)
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
	ordersWantRows(t, b.page("/admin/orders?state=unknown"), nil, o)

	// Marked failed from the order page: the order is free again.
	f := e.order(900)
	e.Sim.AddFault(sim.Fault{Op: escott.OpAuth, Kind: sim.FaultReset, Times: 1})
	e.Sim.AddFault(sim.Fault{Op: escott.OpAuth, Kind: sim.FaultEmptyBody, After: true, Times: 1})
	tok, err = e.Sim.IssueToken(paytest.DemoID, "test", sim.DemoCard, "2812", "8888", "")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = e.payer.Pay(e.Ctx, shopID, f.ID, ordersPayInput(tok, sim.DemoCard))
	fp := e.Payments(f.ID)
	if len(fp) != 1 || fp[0].State != kessai.PaymentUnknown {
		t.Fatalf("payments %+v", fp)
	}
	r = b.post("/admin/orders/"+f.ID, "/admin/payments/"+fp[0].ID+"/resolve", url.Values{"outcome": {"failed"}, "view": {"page"}})
	wantRedirect(t, r, "/admin/orders/"+f.ID+"?done=orders_resolved")
	paytest.WantState(t, e.GetPayment(fp[0].ID), kessai.PaymentFailed)
	page = b.page(r.Loc)
	wantContains(t, page, "決済の結果を確定しました。", "この注文には決済がありません。", `id="order-previous"`)
	wantNotContains(t, page, `id="resolve-form"`)
}

// ---- who may do what (ADMIN-03, ADMIN-18) ----

func TestOrdersReadOnly(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500)
	pay := e.payCard(o, false)
	c := e.order(3000)
	cp := e.register(c).Payment
	n := e.order(800)

	b := e.asReader()
	page := b.page(ordersDialogURL(o.ID, pay.ID))
	wantContains(t, page, `id="dialog-badge">与信</span>`, "閲覧のみの権限のため、操作ボタンは表示されません。")
	ordersWantButtons(t, page)
	ordersWantButtons(t, b.page(ordersDialogURL(c.ID, cp.ID)))
	ordersWantButtons(t, b.page("/admin/orders/"+n.ID+"/payment"))

	calls := e.Calls.Count("")
	for _, c := range []struct{ path string }{
		{"/admin/payments/" + pay.ID + "/capture"},
		{"/admin/payments/" + pay.ID + "/cancel"},
		{"/admin/payments/" + pay.ID + "/change_amount"},
		{"/admin/payments/" + pay.ID + "/reauthorize"},
		{"/admin/payments/" + cp.ID + "/change_due"},
		{"/admin/payments/" + cp.ID + "/collection_cancel"},
		{"/admin/payments/" + pay.ID + "/resolve"},
		{"/admin/orders/" + n.ID + "/charge"},
		{"/admin/orders/" + n.ID + "/collection"},
	} {
		r := b.post("/admin/orders", c.path, url.Values{"amount": {"1000"}, "pay_limit": {"20260410"}})
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: HTTP %d", c.path, r.Status)
		}
		wantContains(t, r.Body, "閲覧のみの権限では変更できません。")
	}
	if e.Calls.Count("") != calls {
		t.Fatalf("read-only posts reached the gateway: %v", e.Calls.Since(calls))
	}
	if tx := e.ordersSimCard(o.ID); tx.Status != "AUTH" || tx.Amount != 5500 {
		t.Fatalf("simulator %+v", tx)
	}
}

func TestOrdersLightPlan(t *testing.T) {
	e := newEnv(t, withSettings(map[string]any{"plan": "light"}))
	o := e.order(5500)
	pay := e.payCard(o, false)
	c := e.order(3000)
	e.register(c)

	b := e.asAdmin()
	list := b.page("/admin/orders")
	wantContains(t, list, "入金ステータス")
	wantNotContains(t, list, "決済ステータス")
	if row := ordersRow(list, o.ID); strings.Contains(row, "badge") {
		t.Errorf("light card row has a badge: %s", row)
	}
	if row := ordersRow(list, c.ID); !strings.Contains(row, `<span class="badge red">未入金</span>`) {
		t.Errorf("light collection row %s", row)
	}

	page := b.page("/admin/orders/" + o.ID)
	wantContains(t, page, "ソニーペイメント", pay.TransactionCode, "決済日時", "e-SCOTT 管理画面で行ってください")
	wantNotContains(t, page, `id="payment-info-button"`, `id="payment-box-badge"`)

	page = b.page(ordersDialogURL(o.ID, pay.ID))
	wantContains(t, page, "light 版では決済の操作はできません。")
	ordersWantButtons(t, page)
	calls := e.Calls.Count("")
	r := b.post(ordersDialogURL(o.ID, pay.ID), "/admin/payments/"+pay.ID+"/capture", nil)
	if r.Status != http.StatusForbidden {
		t.Fatalf("light capture: HTTP %d", r.Status)
	}
	if e.Calls.Count("") != calls {
		t.Fatal("a light-plan operation reached the gateway")
	}
	if tx := e.ordersSimCard(o.ID); tx.Status != "AUTH" {
		t.Fatalf("simulator %+v", tx)
	}
}

// TestOrdersEnglish: the screens follow the language switch.
func TestOrdersEnglish(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500)
	pay := e.payCard(o, false)
	b := e.asAdmin()
	page := b.page("/admin/orders?lang=en")
	wantContains(t, page, "Payment status", `<span class="badge green">authorised</span>`, "Processing")
	page = b.page(ordersDialogURL(o.ID, pay.ID))
	wantContains(t, page, "Capture", "Run the capture?", "Authorisation")
}
