package console_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/paytest"
)

// TestBrowserOrdersDialog operates the 決済情報 dialog in Chromium: it
// opens modal, every operation asks first (ADMIN-03), a declined prompt
// sends nothing, Enter in the amount field starts nothing, and the page
// keeps to the Content-Security-Policy (checked by the tab).
func TestBrowserOrdersDialog(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500)
	pay := e.payCard(o, false)
	b := newTab(t, e)
	b.login(adminEmail)

	b.Open("/admin/orders/" + o.ID)
	b.Click("payment-info-button")
	b.WaitTrue(`!!document.getElementById('payment-dialog') && document.getElementById('payment-dialog').matches(':modal')`)
	b.Tab.Screenshot("dialog")

	// Enter in the amount field: nothing is submitted.
	b.TypeInto("amount", "5000\n")
	time.Sleep(300 * time.Millisecond)
	if tx := e.ordersSimCard(o.ID); tx.Amount != 5500 {
		t.Fatalf("Enter changed the amount: %+v", tx)
	}

	// Declined: nothing happens.
	d := b.AnswerDialogs(false)
	b.Click("capture-button")
	b.WaitTrue(`true`)
	time.Sleep(300 * time.Millisecond)
	if got := d.Messages(); !slices.Equal(got, []string{"売上計上処理を実行します。よろしいですか？"}) {
		t.Fatalf("prompts %q", got)
	}
	paytest.WantState(t, e.GetPayment(pay.ID), kessai.PaymentAuthorized)
	b.Do(chromedp.Navigate(e.url + ordersDialogURL(o.ID, pay.ID)))
	b.WaitTrue(`!!document.getElementById('capture-button')`)

	// Accepted: captured, the dialog comes back with the notice.
	tab2 := newTab(t, e)
	tab2.login(adminEmail)
	tab2.Open(ordersDialogURL(o.ID, pay.ID))
	d2 := tab2.AnswerDialogs(true)
	tab2.Click("capture-button")
	tab2.WaitNotice("売上計上が完了しました。")
	if got := d2.Messages(); !slices.Equal(got, []string{"売上計上処理を実行します。よろしいですか？"}) {
		t.Fatalf("prompts %q", got)
	}
	if tx := e.ordersSimCard(o.ID); tx.Status != "CAPTURED" {
		t.Fatalf("simulator %+v", tx)
	}
	tab2.Screenshot("captured")

	// Escape closes the dialog: back on the order page.
	tab2.Do(chromedp.KeyEvent("\x1b"))
	tab2.WaitTrue(`location.pathname === '/admin/orders/` + o.ID + `' && !document.getElementById('payment-dialog')`)
}
