package console_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
)

// The card members screen: ADMIN-19, MEMBER-07/08, design A-01.

// customersMember returns the stored member of a customer (nil if none).
func customersMember(e *env, customerID string) *kessai.Member {
	e.T.Helper()
	m, err := e.Store.GetMember(e.Ctx, shopID, customerID)
	if errors.Is(err, kessai.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.T.Fatal(err)
	}
	return m
}

// customersSaved pays an order of the customer with the demo card, saving
// it; with 1Auth the payment stays authorised (与信).
func customersSaved(e *env, customerID string) (*kessai.Order, *kessai.Payment) {
	e.T.Helper()
	o := e.order(3300, forCustomer(customerID))
	pay := e.payCard(o, true)
	if customersMember(e, customerID) == nil {
		e.T.Fatalf("no member saved for %s", customerID)
	}
	return o, pay
}

// customersAtGateway reports whether the simulator holds the member.
func customersAtGateway(e *env, kaiinID string) bool {
	for _, m := range e.Sim.Members(paytest.DemoID, "test") {
		if m.KaiinID == kaiinID {
			return true
		}
	}
	return false
}

func TestCustomersList(t *testing.T) {
	e := newEnv(t)
	customersSaved(e, "c1")
	e.Advance(time.Hour)
	customersSaved(e, "c2")
	m1, m2 := customersMember(e, "c1"), customersMember(e, "c2")
	b := e.asAdmin()

	page := b.page("/admin/customers")
	wantContains(t, page, `id="customers-table"`, `href="/admin/customers/c1"`, `href="/admin/customers/c2"`,
		// Registered: BaseTime is noon JST.
		"2026-04-01 12:00:00", "2026-04-01 13:00:00", "顧客IDで検索")
	// The member ids never reach the page (LOG-04).
	wantNotContains(t, page, m1.KaiinID, m1.KaiinPass, m2.KaiinID, m2.KaiinPass)
	if strings.Index(page, "/admin/customers/c1") > strings.Index(page, "/admin/customers/c2") {
		t.Error("members not in customer id order")
	}

	// The lookup box goes to the customer's page, card or not.
	wantRedirect(t, b.get("/admin/customers?customer_id=+c2+"), "/admin/customers/c2")
	wantRedirect(t, b.get("/admin/customers?customer_id=nobody"), "/admin/customers/nobody")
	for _, bad := range []string{"a/b", "<script>", strings.Repeat("x", 65), "c 1"} {
		r := b.get("/admin/customers?customer_id=" + url.QueryEscape(bad))
		if r.Status != http.StatusBadRequest {
			t.Fatalf("lookup %q: HTTP %d", bad, r.Status)
		}
		wantContains(t, r.Body, "顧客IDは 64 文字以内の半角英数字")
		wantNotContains(t, r.Body, "<script>")
	}
	// A path that is not a customer id is not found, not an error.
	if r := b.get("/admin/customers/" + url.PathEscape("a b")); r.Status != http.StatusNotFound {
		t.Fatalf("bad id in path: HTTP %d", r.Status)
	}
}

func TestCustomersPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 55 {
		m := &kessai.Member{ShopID: shopID, CustomerID: fmt.Sprintf("cus%02d", i), KaiinID: fmt.Sprintf("kid%02d", i),
			KaiinPass: fmt.Sprintf("kpass%02d", i), CreatedAt: e.Clock.Now(), UpdatedAt: e.Clock.Now()}
		if err := e.Store.PutMember(e.Ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	b := e.asAdmin()
	first := b.page("/admin/customers")
	wantContains(t, first, "/admin/customers/cus00", "/admin/customers/cus49", `href="/admin/customers?after=cus49"`)
	wantNotContains(t, first, "/admin/customers/cus50", `id="customers-first"`, "kpass0")
	second := b.page("/admin/customers?after=cus49")
	wantContains(t, second, "/admin/customers/cus50", "/admin/customers/cus54", `id="customers-first"`)
	wantNotContains(t, second, "/admin/customers/cus49\"", `id="customers-next"`)
	// A broken cursor shows the first page with a message.
	bad := b.page("/admin/customers?after=%27%3B--")
	wantContains(t, bad, "最初のページを表示しています", "/admin/customers/cus00")
}

func TestCustomerPage(t *testing.T) {
	e := newEnv(t)
	o, _ := customersSaved(e, "c1")
	m := customersMember(e, "c1")
	other := e.order(800, forCustomer("c2")) // another customer's order
	b := e.asAdmin()

	page := b.page("/admin/customers/c1")
	wantContains(t, page, "ソニーペイメントカード会員", "登録済みカード番号下4桁",
		`id="customers-last4">0300<`, `id="customers-expiry">12/28<`, "VISA・Mastercard・JCB",
		// A-01 as a warning before the operator tries: 1Auth leaves the payment in 与信.
		`id="customers-refusal"`, "売上計上されていない（与信中の）カード決済があるため",
		// The form: ticked box, the manual's note, a confirmation prompt.
		`id="customers-delete-confirm"`, "ソニーペイメントに登録したカード会員情報を削除します。",
		"売上計上されていないときと、定期購入商品の継続中は、削除しないでください。",
		`data-confirm="カード会員情報を削除してもよろしいですか？"`, `action="/admin/customers/c1/delete"`,
		// The customer's orders, linked.
		`href="/admin/orders/`+o.ID+`"`, o.ShopOrderID, "3,300円", "与信")
	wantNotContains(t, page, m.KaiinID, m.KaiinPass, other.ShopOrderID)

	// A customer without a card: the page says so, orders still listed.
	none := b.page("/admin/customers/c2")
	wantContains(t, none, "この顧客のカード会員情報は登録されていません。", `href="/admin/orders/`+other.ID+`"`)
	wantNotContains(t, none, `id="customers-delete-form"`)

	en := b.page("/admin/customers/c1?lang=en")
	wantContains(t, en, "Sony Payment card member", "Last 4 digits of the saved card", "Delete saved card",
		"authorised payment that is not captured yet", "¥3,300")

	// The newest 20 orders, then a link to the orders list.
	wantNotContains(t, page, `id="customers-orders-all"`)
	e.Advance(time.Second) // ids are time-ordered: these are newer
	for range 20 {
		e.order(100, forCustomer("c1"))
	}
	page = b.page("/admin/customers/c1")
	if n := strings.Count(page, `<a href="/admin/orders/ord_`); n != 20 {
		t.Fatalf("%d orders listed, want 20", n)
	}
	wantContains(t, page, `id="customers-orders-all"`, `href="/admin/orders?q=c1"`)
	wantNotContains(t, page, `href="/admin/orders/`+o.ID+`"`) // the oldest is beyond the 20
}

func TestCustomerDelete(t *testing.T) {
	e := newEnv(t)
	_, pay := customersSaved(e, "c1")
	m := customersMember(e, "c1")
	b := e.asAdmin()
	from := "/admin/customers/c1"

	// Not ticked: nothing happens.
	n := e.Calls.Count("")
	r := b.post(from, "/admin/customers/c1/delete", url.Values{})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("unticked: HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, "削除する場合は「ソニーペイメントに登録したカード会員情報を削除します。」にチェックを入れてください。")
	for _, op := range e.Calls.Since(n) { // the pages' own card lookups only
		if op != escott.OpMemRefM {
			t.Fatalf("gateway call %s for an unticked form", op)
		}
	}

	// an authorised-only payment refuses the deletion, and says why.
	n = e.Calls.Count(escott.OpMemDel)
	r = b.post(from, "/admin/customers/c1/delete", url.Values{"confirm": {"1"}})
	if r.Status != http.StatusConflict {
		t.Fatalf("refused: HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, "現在、このカード会員情報は削除できません。", "売上計上されていない（与信中の）カード決済があるため",
		`id="form-errors"`)
	if customersMember(e, "c1") == nil || e.Calls.Count(escott.OpMemDel) != n {
		t.Fatal("refused deletion removed the member")
	}
	if !customersAtGateway(e, m.KaiinID) {
		t.Fatal("member gone at the gateway after a refusal")
	}

	// Cancel the authorisation: the rule no longer applies.
	if _, err := e.payer.Operate(e.Ctx, shopID, pay.ID, escott.OpDelete, 0); err != nil {
		t.Fatal(err)
	}
	page := b.page(from)
	wantNotContains(t, page, `id="customers-refusal"`)

	// The gateway refuses the deletion: shown, member kept.
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpMemDel, ResponseCd: "K99", Times: 1})
	r = b.post(from, "/admin/customers/c1/delete", url.Values{"confirm": {"1"}})
	if r.Status != http.StatusBadGateway {
		t.Fatalf("gateway refusal: HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, "カード会員情報の削除に失敗しました。")
	if customersMember(e, "c1") == nil {
		t.Fatal("member removed although the gateway refused")
	}

	// No answer: unavailable, member kept.
	// The form page, the deletion and the page shown again: no answer.
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultReset, Op: escott.OpMemRefM, Times: 3})
	r = b.post(from, "/admin/customers/c1/delete", url.Values{"confirm": {"1"}})
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("no answer: HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, "決済代行会社に接続できませんでした。", "IP アドレス制限", `id="customers-lookup-error"`)
	if customersMember(e, "c1") == nil {
		t.Fatal("member removed while the gateway was down")
	}

	// Deleted: 4MemRefM → 4MemInval → 4MemDel, the notice, the list.
	n = e.Calls.Count("")
	r = b.post(from, "/admin/customers/c1/delete", url.Values{"confirm": {"1"}})
	wantRedirect(t, r, "/admin/customers?done=customers_deleted")
	calls := e.Calls.Since(n)
	if len(calls) < 3 || calls[len(calls)-1] != escott.OpMemDel || calls[len(calls)-2] != escott.OpMemInval {
		t.Fatalf("gateway calls %v", calls)
	}
	if customersMember(e, "c1") != nil {
		t.Fatal("member still stored")
	}
	if customersAtGateway(e, m.KaiinID) {
		t.Fatal("member still at the gateway")
	}
	list := b.page(r.Loc)
	wantContains(t, list, `id="notice">カード会員情報を削除しました。<`, "カード会員はいません。")
	wantContains(t, b.page(from), "この顧客のカード会員情報は登録されていません。")
}

func TestCustomerExpiredMember(t *testing.T) {
	e := newEnv(t)
	_, pay := customersSaved(e, "c1")
	if _, err := e.payer.Operate(e.Ctx, shopID, pay.ID, escott.OpDelete, 0); err != nil {
		t.Fatal(err)
	}
	// Test members expire after two months (MEMBER-09): the gateway
	// answers K71; the page explains and the deletion clears it.
	e.Advance(61 * 24 * time.Hour)
	b := e.asAdmin()
	page := b.page("/admin/customers/c1")
	wantContains(t, page, `id="customers-lookup-error"`, "ゲートウェイがこの会員を見つけられません", "K71",
		`id="customers-delete-button"`)
	r := b.post("/admin/customers/c1", "/admin/customers/c1/delete", url.Values{"confirm": {"1"}})
	wantRedirect(t, r, "/admin/customers?done=customers_deleted")
	if customersMember(e, "c1") != nil {
		t.Fatal("expired member not cleared")
	}
}

func TestCustomerReadOnly(t *testing.T) {
	e := newEnv(t)
	_, pay := customersSaved(e, "c1")
	if _, err := e.payer.Operate(e.Ctx, shopID, pay.ID, escott.OpDelete, 0); err != nil {
		t.Fatal(err)
	}
	b := e.asReader()
	page := b.page("/admin/customers/c1")
	wantContains(t, page, `id="customers-last4">0300<`, "削除は管理者のみが行えます。")
	wantNotContains(t, page, `id="customers-delete-button"`, `id="customers-delete-form"`)
	n := e.Calls.Count(escott.OpMemDel)
	r := b.post("/admin/customers/c1", "/admin/customers/c1/delete", url.Values{"confirm": {"1"}})
	if r.Status != http.StatusForbidden {
		t.Fatalf("read-only delete: HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "閲覧のみの権限では変更できません。")
	if customersMember(e, "c1") == nil || e.Calls.Count(escott.OpMemDel) != n {
		t.Fatal("read-only user deleted a card")
	}
}

func TestCustomersMembersOff(t *testing.T) {
	e := newEnv(t)
	customersSaved(e, "c1")
	e.Settings(map[string]any{"card": map[string]any{"members": false}})
	b := e.asAdmin()
	for _, path := range []string{"/admin/customers", "/admin/customers/c1"} {
		wantContains(t, b.page(path), `id="customers-members-off"`, "「カード会員」が無効になっている")
	}
	wantContains(t, b.page("/admin/customers?lang=en"), "Saved cards (card members) are switched off")
}
