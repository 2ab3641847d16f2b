package console_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

// The payment result log: LOG-01/02/04, ERR-02, ERR-04…ERR-09.

// logsPayWith pays an order with a simulator card and returns the error
// (nil on success).
func logsPayWith(e *env, o *kessai.Order, number string) error {
	e.T.Helper()
	tok, err := e.Sim.IssueToken(paytest.DemoID, "test", number, "2812", "123", "")
	if err != nil {
		e.T.Fatal(err)
	}
	_, err = e.payer.Pay(e.Ctx, shopID, o.ID, cardpay.PayInput{Token: tok, CardPrefix: number[:6]})
	return err
}

// logsAttempts writes attempts straight to the store, one second apart
// from start, each with its own order and (failed) payment: the log's
// rendering does not depend on how they came about.
func logsAttempts(e *env, start time.Time, rows ...kessai.Attempt) []kessai.Attempt {
	e.T.Helper()
	var out []kessai.Attempt
	for i, a := range rows {
		when := start.Add(time.Duration(i) * time.Second)
		o := e.order(1000 + int64(i))
		code := fmt.Sprintf("9%011d", i+1)
		if a.MerchantFree1 != "" {
			code = a.MerchantFree1
		}
		pay := &kessai.Payment{ID: kessai.NewID("pay", when), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCard,
			State: kessai.PaymentFailed, Amount: o.Amount, Currency: kessai.Currency, TransactionCode: code,
			CreatedAt: when, UpdatedAt: when}
		if err := e.Store.CreatePayment(e.Ctx, pay); err != nil {
			e.T.Fatal(err)
		}
		a.ID, a.ShopID, a.PaymentID, a.MerchantFree1, a.CreatedAt = kessai.NewID("att", when), shopID, pay.ID, code, when
		if a.Operation == "" {
			a.Operation = escott.OpAuth
		}
		if a.Status == "" {
			a.Status = kessai.AttemptFailed
		}
		if a.Amount == 0 {
			a.Amount = o.Amount
		}
		if err := e.Store.CreateAttempt(e.Ctx, &a); err != nil {
			e.T.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// logsRowIDs returns the attempt ids of a log page's rows, in order.
var logsRowRE = regexp.MustCompile(`<tr id="log-(att_[0-9a-z]+)">`)

func logsRowIDs(page string) []string {
	var out []string
	for _, m := range logsRowRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// logsRow returns the HTML of one attempt's row.
func logsRow(t *testing.T, page, attemptID string) string {
	t.Helper()
	i := strings.Index(page, `<tr id="log-`+attemptID+`">`)
	if i < 0 {
		t.Fatalf("no row for %s in:\n%s", attemptID, page)
	}
	j := strings.Index(page[i:], "</tr>")
	return page[i : i+j]
}

// TestLogsFromPayments: real checkouts on the simulator, including a
// decline, a K71 and a lost answer, as the operator sees them.
func TestLogsFromPayments(t *testing.T) {
	e := newEnv(t)
	ok := e.order(5500, forCustomer("c1"))
	pay := e.payCard(ok, true)
	e.Advance(time.Minute)

	declined := e.order(1200)
	if err := logsPayWith(e, declined, "4000000000000127"); err == nil { // G12
		t.Fatal("declined card paid")
	}
	e.Advance(time.Minute)

	k71 := e.order(1300)
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpAuth, ResponseCd: "K71", Times: 1})
	if err := logsPayWith(e, k71, sim.DemoCard); err == nil {
		t.Fatal("K71 paid")
	}
	e.Advance(time.Minute)

	lost := e.order(1400)
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultEmptyBody, Op: escott.OpAuth, After: true, Times: 1})
	if err := logsPayWith(e, lost, sim.DemoCard); err == nil {
		t.Fatal("lost answer paid")
	}

	atts := func(o *kessai.Order) kessai.Attempt {
		t.Helper()
		ps := e.Payments(o.ID)
		if len(ps) == 0 {
			t.Fatalf("order %s has no payment", o.ID)
		}
		as := e.Attempts(ps[len(ps)-1].ID)
		if len(as) != 1 {
			t.Fatalf("order %s: %d attempts", o.ID, len(as))
		}
		return as[0]
	}
	aOK, aG12, aK71, aLost := atts(ok), atts(declined), atts(k71), atts(lost)

	b := e.asAdmin()
	page := b.page("/admin/logs")
	if got, want := logsRowIDs(page), []string{aLost.ID, aK71.ID, aG12.ID, aOK.ID}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rows %v, want newest first %v", got, want)
	}
	wantContains(t, logsRow(t, page, aOK.ID), "2026-04-01 12:00:00", `href="/admin/orders/`+ok.ID+`"`, aOK.MerchantFree1,
		"<td>与信</td>", "5,500円", `badge green">成功<`)
	wantContains(t, logsRow(t, page, aG12.ID), `href="/admin/orders/`+declined.ID+`"`, `badge red">失敗<`,
		"G12</span> : カード使用不可", "対処方法", "カード会社が取引をお断りしました")
	wantContains(t, logsRow(t, page, aK71.ID), "K71</span> : 会員ID認証エラー", "<summary>対処方法</summary>",
		"カード会員情報の不整合です", `href="/admin/customers"`)
	wantContains(t, logsRow(t, page, aLost.ID), `badge orange">結果不明<`, "NG</span> : ゲートウェイから応答がありませんでした",
		"同じ決済をやり直さず")
	// ERR-09 at the bottom.
	wantContains(t, page, `id="logs-checklist"`, "SSL 証明書が有効か確認してください", "Basic 認証や IP アドレス制限")

	// Nothing secret appears (LOG-04): the payment's ProcessPass, the
	// member's password, the card number.
	stored, err := e.Store.GetPayment(e.Ctx, shopID, pay.ID)
	if err != nil || stored.ProcessPass == "" {
		t.Fatalf("payment %+v %v", stored, err)
	}
	m := customersMember(e, "c1")
	wantNotContains(t, page, stored.ProcessPass, m.KaiinPass, m.KaiinID, sim.DemoCard, "ProcessPass", "KaiinPass")

	// English.
	en := b.page("/admin/logs?lang=en")
	wantContains(t, en, "Payment log", "K71</span> : Member id / password authentication failed", "What to do",
		"authorisation", "¥5,500", ">succeeded<", "Checklist for")
}

// TestLogsFilters runs on both databases: the filters are the store's
// (ListAttemptLog), and the page must give the same rows on each.
func TestLogsFilters(t *testing.T) {
	for _, db := range testdb.All {
		t.Run(db.Name, func(t *testing.T) { logsFilters(t, newEnv(t, onDB(db))) })
	}
}

func logsFilters(t *testing.T, e *env) {
	day1 := time.Date(2026, 4, 1, 23, 59, 58, 0, kessai.JST) // two rows before JST midnight, the rest after
	atts := logsAttempts(e, day1,
		kessai.Attempt{Codes: []string{"G12"}},
		kessai.Attempt{Status: kessai.AttemptSucceeded},
		kessai.Attempt{Codes: []string{"K71"}},
		kessai.Attempt{Operation: escott.OpCapture, Codes: []string{"K81", "K12"}},
		kessai.Attempt{Status: kessai.AttemptUnknown, Codes: []string{"NG"}, MerchantFree1: "123456789012"},
		kessai.Attempt{Operation: escott.OpCvsAdd, Codes: []string{"K710"}},
	)
	b := e.asAdmin()
	ids := func(idx ...int) []string {
		var out []string
		for i := len(idx) - 1; i >= 0; i-- {
			out = append(out, atts[idx[i]].ID)
		}
		return out
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"", ids(0, 1, 2, 3, 4, 5)},
		{"status=failed", ids(0, 2, 3, 5)},
		{"status=unknown", ids(4)},
		{"status=succeeded", ids(1)},
		{"code=K71", ids(2)},
		{"code=k12", ids(3)}, // typed in lower case
		{"code=+NG+", ids(4)},
		{"tx=123456789012", ids(4)},
		{"op=1Capture", ids(3)},
		{"op=2Add", ids(5)},
		{"from=2026-04-02", ids(2, 3, 4, 5)},
		{"to=2026-04-01", ids(0, 1)},
		{"from=2026-04-01&to=2026-04-01", ids(0, 1)},
		{"from=2026-04-02&to=2026-04-02&status=failed", ids(2, 3, 5)},
		{"from=2026-04-03", nil},
		{"code=K99", nil},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			page := b.page("/admin/logs?" + c.query)
			if got := logsRowIDs(page); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("rows %v, want %v", got, c.want)
			}
			if len(c.want) == 0 {
				wantContains(t, page, "該当する決済ログはありません。")
			}
		})
	}
	// The filter keeps what was typed.
	page := b.page("/admin/logs?status=failed&code=k71&op=1Auth&from=2026-04-01")
	wantContains(t, page, `<option value="failed" selected>`, `value="K71"`, `<option value="1Auth" selected>`, `value="2026-04-01"`)

	// Bad input is a message next to the field, never an error page.
	bad := []struct {
		query, field, msg string
	}{
		{"code=K7%25", "code", "コードは 16 文字以内の半角英数字で入力してください"},
		{"code=%22K71%22", "code", "コードは 16 文字以内の半角英数字で入力してください"},
		{"code=K71_", "code", "コードは 16 文字以内の半角英数字で入力してください"},
		{"code=" + strings.Repeat("K", 17), "code", "コードは 16 文字以内の半角英数字で入力してください"},
		{"tx=12345", "tx", "決済コードは 12 桁の数字で入力してください。"},
		{"tx=abcdefghijkl", "tx", "決済コードは 12 桁の数字で入力してください。"},
		{"status=maybe", "status", "結果の指定が正しくありません。"},
		{"op=4MemDel", "op", "処理区分の指定が正しくありません。"},
		{"from=2026-13-01", "from", "日付は YYYY-MM-DD の形式で入力してください。"},
		{"to=yesterday", "to", "日付は YYYY-MM-DD の形式で入力してください。"},
		{"from=2026-04-02&to=2026-04-01", "to", "終了日は開始日以降の日付にしてください。"},
		{"payment=%27%3B--", "payment", "決済の指定が正しくありません。"},
	}
	for _, c := range bad {
		t.Run("invalid "+c.query, func(t *testing.T) {
			r := b.get("/admin/logs?" + c.query)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("HTTP %d", r.Status)
			}
			wantContains(t, r.Body, c.msg, "絞り込みの条件に誤りがあるため", `id="logs-filter"`)
			if ids := logsRowIDs(r.Body); len(ids) != 0 {
				t.Fatalf("rows listed with an invalid filter: %v", ids)
			}
		})
	}
	en := b.get("/admin/logs?lang=en&code=K-1")
	wantContains(t, en.Body, "A code is at most 16 letters and digits")
}

func TestLogsPaging(t *testing.T) {
	e := newEnv(t)
	var rows []kessai.Attempt
	for i := range 63 {
		st := kessai.AttemptFailed
		if i%3 == 0 {
			st = kessai.AttemptSucceeded
		}
		rows = append(rows, kessai.Attempt{Status: st, Codes: []string{"G12"}})
	}
	atts := logsAttempts(e, e.Clock.Now(), rows...)
	b := e.asAdmin()

	first := b.page("/admin/logs")
	ids := logsRowIDs(first)
	if len(ids) != 50 || ids[0] != atts[62].ID || ids[49] != atts[13].ID {
		t.Fatalf("first page: %d rows, %v…", len(ids), ids[:1])
	}
	next := "/admin/logs?after=" + atts[13].ID
	wantContains(t, first, `id="logs-next"`, `href="`+next+`"`)
	wantNotContains(t, first, `id="logs-first"`)
	second := b.page(next)
	ids = logsRowIDs(second)
	if len(ids) != 13 || ids[0] != atts[12].ID || ids[12] != atts[0].ID {
		t.Fatalf("second page: %d rows", len(ids))
	}
	wantContains(t, second, `id="logs-first"`)
	wantNotContains(t, second, `id="logs-next"`)

	// Paging keeps the filter: 42 failed attempts, 50 a page.
	failed := b.page("/admin/logs?status=failed")
	if n := len(logsRowIDs(failed)); n != 42 {
		t.Fatalf("failed: %d rows", n)
	}
	wantNotContains(t, failed, `id="logs-next"`)
	succeeded := b.page("/admin/logs?status=succeeded&after=" + atts[30].ID)
	ids = logsRowIDs(succeeded)
	if len(ids) != 10 || ids[0] != atts[27].ID {
		t.Fatalf("succeeded after 30: %v", ids)
	}
	wantContains(t, succeeded, `href="/admin/logs?status=succeeded"`) // back to the newest, filter kept
	// A broken cursor is a message, and the newest entries.
	broken := b.page("/admin/logs?after=%27%20OR%201%3D1")
	wantContains(t, broken, "ページの指定が正しくないため")
	if n := len(logsRowIDs(broken)); n != 50 {
		t.Fatalf("broken cursor: %d rows", n)
	}
}

// TestLogsGuidance: each code with operator guidance shows it next to the
// code (ERR-04…ERR-08), the link where the remedy is done, and the
// resolution of an unknown attempt.
func TestLogsGuidance(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		code, guidance, link string
	}{
		{"K71", "カード会員情報を削除し、購入者にカードを登録し直してもらってください", "/admin/customers"},
		{"K99", "IP アドレス制限にこのサーバーの送信元 IP アドレスが含まれていない", ""},
		{"K06", "SPS での 3Dセキュアの利用開始（審査・有効化）が済んでいない", "/admin/settings/card"},
		{"K12", "取扱期間（与信から60日など）が過ぎています", ""},
		{"K81", "会員ID・パスワードを付けずに1回だけ自動で再送します", ""},
		{"KI2", "トークンは1回限り・有効期限付きです", ""},
		{"KI3", "トークンは1回限り・有効期限付きです", ""},
		{"NG", "ゲートウェイから応答がありませんでした（TLS 1.2 で接続できない、60秒のタイムアウト", ""},
	}
	var rows []kessai.Attempt
	for _, c := range cases {
		rows = append(rows, kessai.Attempt{Codes: []string{c.code}})
	}
	atts := logsAttempts(e, e.Clock.Now(), rows...)
	b := e.asAdmin()
	page := b.page("/admin/logs")
	for i, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			row := logsRow(t, page, atts[i].ID)
			wantContains(t, row, c.code+"</span> : "+escott.LookupCode(c.code).Ja, `<details class="logs-guide">`, c.guidance)
			if c.link != "" {
				wantContains(t, row, `href="`+c.link+`"`)
			}
		})
	}
	// K06 mentions the shop's own 3-D Secure setting when it is on.
	wantNotContains(t, page, "この店舗では現在 3Dセキュアが有効になっています。")
	e.Settings(map[string]any{"card": map[string]any{"three_ds": true}})
	wantContains(t, logsRow(t, b.page("/admin/logs?code=K06"), atts[2].ID), "この店舗では現在 3Dセキュアが有効になっています。")

	// A code without advice has no <details>.
	plain := logsAttempts(e, e.Clock.Now().Add(time.Minute), kessai.Attempt{Codes: []string{"K23"}})
	wantNotContains(t, logsRow(t, b.page("/admin/logs?code=K23"), plain[0].ID), "<details")

	// An unknown attempt resolved by an operator says how.
	res := logsAttempts(e, e.Clock.Now().Add(2*time.Minute),
		kessai.Attempt{Status: kessai.AttemptSucceeded, Codes: []string{"NG"}, Resolution: "operator: confirmed with ProcessId 4711"},
		kessai.Attempt{Status: kessai.AttemptFailed, Codes: []string{"NG"}, Resolution: "operator: no transaction at the gateway"})
	page = b.page("/admin/logs?code=NG")
	wantContains(t, logsRow(t, page, res[0].ID), "担当者が確定：取引を確認（成功）ProcessId 4711")
	wantContains(t, logsRow(t, page, res[1].ID), "担当者が確定：ゲートウェイに取引なし（失敗）")
}

func TestLogsCodeLookup(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	page := b.page("/admin/logs/codes?code=K71")
	wantContains(t, page, `id="logs-code-result"`, "会員ID認証エラー", "カード会員", "カード会員情報の不整合です",
		`href="/admin/logs?code=K71"`, `id="logs-all-codes"`, "G12")
	// Lower case and spaces are forgiven.
	wantContains(t, b.page("/admin/logs/codes?code=+k12+"), "項目「ProcessId」または「ProcessPass」不整合エラー", "取扱期間")
	// A code without specific advice still gets its description.
	wantContains(t, b.page("/admin/logs/codes?code=K23"), "項目「Amount」精査エラー", "このコードに固有の対処方法はありません。")
	// Not in the catalogue.
	wantContains(t, b.page("/admin/logs/codes?code=ZZ9"), "このコードは登録されていません")
	// Symbols are refused with a message.
	r := b.get("/admin/logs/codes?code=K7%25")
	if r.Status != http.StatusBadRequest {
		t.Fatalf("HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "コードは 16 文字以内の半角英数字で入力してください")
	wantNotContains(t, r.Body, `id="logs-code-result"`)
	// The empty form lists the codes with advice.
	wantContains(t, b.page("/admin/logs/codes"), `id="logs-guided"`, `href="/admin/logs/codes?code=K99"`)
	en := b.page("/admin/logs/codes?code=K99&lang=en")
	wantContains(t, en, "Response codes", "IP address restriction", "shop settings or contract")
	// Read-only staff may read everything here.
	wantContains(t, e.asReader().page("/admin/logs/codes?code=K71"), "会員ID認証エラー")
	wantContains(t, e.asReader().page("/admin/logs"), `id="logs-filter"`)
}
