package console_test

// Real-browser tests of the console (internal/browsertest): Debian's
// chromium, headless, as an operator would use it — logging in, filling
// forms, answering the confirmation prompts. Skipped without chromium
// unless CI=true.

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kessai/kessai"
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

// Passwords the login and CSRF tests type besides adminPassword: they
// must not be kept or logged either.
const (
	wrongPassword = "wrong password!"
	newPassphrase = "a brand new passphrase"
)

// tab is an operator's browser tab on the env's console.
type tab struct {
	*browsertest.Tab
	e *env
}

// newTab opens a tab on the env's console. The env joins the leak scan
// first, so that its log is taken once the tab is closed.
func newTab(t *testing.T, e *env) *tab {
	t.Helper()
	trackLeaks(leaks, t, e)
	return &tab{Tab: browsertest.NewTab(t, e.url), e: e}
}

func run[T any](b *tab, a chromedp.Action[T]) T {
	b.T.Helper()
	return browsertest.Run(b.Tab, a)
}

// login fills the login form and waits for the page it leads to.
func (b *tab) login(email string) {
	b.T.Helper()
	b.Open("/admin/login")
	b.TypeInto("email", email)
	b.TypeInto("password", adminPassword+"\n")
	b.WaitTrue(`!!document.getElementById('logout')`)
}

// path is the tab's current path and query.
func (b *tab) path() string {
	b.T.Helper()
	return run(b, chromedp.Evaluate[string](`location.pathname + location.search`))
}

func TestBrowserLoginLogout(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.Open("/admin/password")
	// Sent to the login page, and back to the page asked for after it.
	if p := b.path(); !strings.HasPrefix(p, "/admin/login?next=") {
		t.Fatalf("not sent to the login page: %s", p)
	}
	b.TypeInto("email", adminEmail)
	b.TypeInto("password", wrongPassword)
	b.Click("login-submit")
	if msg := b.WaitError(); !strings.Contains(msg, "ログイン名またはパスワードが正しくありません。") {
		t.Fatalf("error %q", msg)
	}
	b.TypeInto("password", adminPassword+"\n")
	b.WaitTrue(`location.pathname === '/admin/password'`)
	if u := b.Text("#current-user"); u != "担当 admin" {
		t.Fatalf("user %q", u)
	}
	b.Click("logout")
	b.WaitNotice("ログアウトしました。")
	b.Open("/admin/password")
	if p := b.path(); !strings.HasPrefix(p, "/admin/login") {
		t.Fatalf("still logged in after logout: %s", p)
	}
}

func TestBrowserCSRFRejected(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.login(adminEmail)
	b.Open("/admin/password")
	// A form whose token is not the session's (a forged cross-site post
	// carries none or a guessed one) is refused and changes nothing.
	b.Do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#password-form input[name=csrf]').value = 'forged'`))
	b.TypeInto("current_password", adminPassword)
	b.TypeInto("new_password", newPassphrase)
	b.TypeInto("confirm_password", newPassphrase+"\n")
	if msg := b.Text("#error-message"); !strings.Contains(msg, "不正なリクエスト") {
		t.Fatalf("forged form: %q", msg)
	}
	if _, err := e.Svc.AuthenticateAdmin(e.Ctx, shopID, adminEmail, adminPassword); err != nil {
		t.Fatalf("the password changed through a forged form: %v", err)
	}
}

// historyOps is the 処理区分 and 処理結果 of the dialog's history rows,
// newest first.
func (b *tab) historyOps() []string {
	b.T.Helper()
	return run(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#payment-history tbody tr')).map(function (tr) {
		var c = tr.querySelectorAll('td'); return c[3].textContent.trim() + ' ' + c[4].textContent.trim(); })`))
}

// operate submits the dialog with one operation's button, accepting its
// confirmation, and waits for the notice.
func (b *tab) operate(button, notice string) {
	b.T.Helper()
	b.Click(button)
	b.WaitNotice(notice)
}

// TestBrowserCardOperations runs every card operation from the 決済情報
// dialog as an operator would (ADMIN-04 … ADMIN-08, ADMIN-10): each asks
// first, reaches the gateway once, and the history grows by its row.
func TestBrowserCardOperations(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500)
	pay := e.payCard(o, false)
	b := newTab(t, e)
	b.login(adminEmail)
	prompts := b.AnswerDialogs(true)
	b.Open("/admin/orders/" + o.ID)
	b.Click("payment-info-button")
	if got := b.Text("#dialog-state"); !strings.Contains(got, "与信") {
		t.Fatalf("state %q", got)
	}

	b.operate("capture-button", "売上計上が完了しました。")
	if tx := e.ordersSimCard(o.ID); tx.Status != "CAPTURED" {
		t.Fatalf("after capture: %+v", tx)
	}
	if ops := b.historyOps(); len(ops) == 0 || !strings.HasPrefix(ops[0], "売上計上 OK") {
		t.Fatalf("history after capture %q", ops)
	}

	b.TypeInto("amount", "4800")
	b.operate("change-amount-button", "利用額変更が完了しました。")
	if tx := e.ordersSimCard(o.ID); tx.Amount != 4800 {
		t.Fatalf("after the amount change: %+v", tx)
	}

	b.operate("cancel-button", "取消が完了しました。")
	if tx := e.ordersSimCard(o.ID); tx.Status != "CANCELLED" {
		t.Fatalf("after cancel: %+v", tx)
	}
	// Cancelled: re-authorisation is the one operation left (ADMIN-04).
	if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll('#operation-form button[formaction]').length`)); n != 1 {
		t.Fatalf("%d buttons after cancel", n)
	}
	b.TypeInto("amount", "4800")
	b.operate("reauthorize-button", "再オーソリが完了しました。")
	if tx := e.ordersSimCard(o.ID); tx.Status == "CANCELLED" {
		t.Fatalf("after re-auth: %+v", tx)
	}
	ops := b.historyOps()
	for i, want := range []string{"再オーソリ OK", "取消 OK", "利用額変更 OK", "売上計上 OK"} {
		if i >= len(ops) || !strings.HasPrefix(ops[i], want) {
			t.Fatalf("history %q, want %q first", ops, want)
		}
	}
	if got := prompts.Messages(); len(got) != 4 {
		t.Fatalf("confirmations %q", got)
	}
	if st := e.GetPayment(pay.ID).State; st != kessai.PaymentAuthorized {
		t.Fatalf("payment %s after re-auth of a 与信", st)
	}
}

// TestBrowserCollectionChangeOnce changes a collection's due date and
// amount from the dialog, after which 変更 is no longer offered
// (ADMIN-13).
func TestBrowserCollectionChangeOnce(t *testing.T) {
	e := newEnv(t)
	o := e.order(3300)
	e.register(o)
	b := newTab(t, e)
	b.login(adminEmail)
	b.AnswerDialogs(true)
	b.Open("/admin/orders/" + o.ID)
	b.Click("payment-info-button")
	due := e.Clock.Now().In(escott.JST).AddDate(0, 0, 10).Format("20060102")
	b.TypeInto("pay_limit", due)
	b.TypeInto("amount", "3500")
	b.operate("change-due-button", "変更が完了しました。")
	pay := e.Payments(o.ID)[0]
	if pay.Amount != 3500 || !strings.HasPrefix(pay.PayLimit, due) {
		t.Fatalf("payment after the change: amount %d, limit %s", pay.Amount, pay.PayLimit)
	}
	b.WaitTrue(`!!document.getElementById('collection-cancel-button') && !document.getElementById('change-due-button')`)
}

// TestBrowserSettingsInvalidThenValid saves the card settings with a
// wrong merchant ID (refused next to the field, nothing saved), then a
// valid one (SET-23).
func TestBrowserSettingsInvalidThenValid(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.login(adminEmail)
	b.Open("/admin/settings/card")
	b.TypeInto("card-merchant_id", "abc")
	b.Click("settings-save")
	if msg := b.Text("#card-merchant_id-error"); msg == "" {
		t.Fatal("no message next to the merchant ID")
	}
	set, _, err := e.Svc.GetSettings(e.Ctx, shopID)
	if err != nil {
		t.Fatal(err)
	}
	if set.Card.MerchantID == "abc" {
		t.Fatal("an invalid merchant ID was saved")
	}
	b.TypeInto("card-merchant_id", "12345678")
	b.Click("settings-save")
	b.WaitNotice("クレジットカード設定を保存しました。")
	if set, _, _ = e.Svc.GetSettings(e.Ctx, shopID); set.Card.MerchantID != "12345678" {
		t.Fatalf("merchant ID %q", set.Card.MerchantID)
	}
}

// TestBrowserReadOnlyCannotOperate: a read-only user sees the dialog with
// no operation, and a capture posted anyway (with the session's own CSRF
// token, as a tampered page would) is refused and reaches no gateway.
func TestBrowserReadOnlyCannotOperate(t *testing.T) {
	e := newEnv(t)
	o := e.order(5500)
	pay := e.payCard(o, false)
	b := newTab(t, e)
	b.login(readerEmail)
	b.Open("/admin/orders/" + o.ID + "/payment?payment=" + pay.ID)
	b.Text("#dialog-readonly")
	if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll('#payment-dialog button[formaction]').length`)); n != 0 {
		t.Fatalf("%d operation buttons for a read-only user", n)
	}
	// The page's fetch and XHR are blocked by the console's CSP
	// (connect-src 'none'), so the tampered page posts a form.
	b.Do(chromedp.Evaluate[chromedp.Void](`(function () {
		var f = document.createElement('form'); f.method = 'post'; f.action = '/admin/payments/` + pay.ID + `/capture';
		var i = document.createElement('input'); i.type = 'hidden'; i.name = 'csrf';
		i.value = document.querySelector('input[name=csrf]').value; f.appendChild(i);
		document.body.appendChild(f); f.submit(); })()`))
	if msg := b.Text("#error-message"); !strings.Contains(msg, "閲覧のみの権限では変更できません。") {
		t.Fatalf("capture by a read-only user: %q", msg)
	}
	if tx := e.ordersSimCard(o.ID); tx.Status == "CAPTURED" {
		t.Fatal("a read-only user's capture reached the gateway")
	}
}
