package console_test

// The settings screens (issue item 2): クレジットカード設定, オンライン収納代行設定
// and the go-live checklist (SET-01 … SET-23, OPS-01, OPS-04, OPS-09,
// NOTIFY-01; design ).

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/htmlform"
)

const (
	settingsCardPath = "/admin/settings/card"
	settingsColPath  = "/admin/settings/collection"
	settingsGoLive   = "/admin/settings/golive"
)

var (
	settingsSelectRE   = regexp.MustCompile(`(?is)<select\b([^>]*)>(.*?)</select>`)
	settingsOptionRE   = regexp.MustCompile(`(?is)<option\b([^>]*)>`)
	settingsTextareaRE = regexp.MustCompile(`(?is)<textarea\b([^>]*)>(.*?)</textarea>`)
	settingsCheckedRE  = regexp.MustCompile(`(?i)\schecked(\s|>|$)`)
	settingsDisabledRE = regexp.MustCompile(`(?i)\sdisabled(\s|>|$)`)
	settingsSelectedRE = regexp.MustCompile(`(?i)\sselected(\s|>|$)`)
	// A field's container: class="field" or class="field settings-…".
	settingsNextFieldRE = regexp.MustCompile(`class="field[" ]`)
)

// settingsFormOf reads the settings form of a page as a browser would
// submit it: ticked boxes and radios only, the selected option of each
// select, textareas, no disabled controls, no buttons, no CSRF token
// (browser.post adds it).
func settingsFormOf(t testing.TB, page string) url.Values {
	t.Helper()
	for _, f := range htmlform.Scan(page) {
		if f.Attrs["id"] != "settings-form" {
			continue
		}
		out := url.Values{}
		for _, c := range f.Controls {
			name := c.Attrs["name"]
			typ := strings.ToLower(c.Attrs["type"])
			if c.Tag != "input" || name == "" || name == "csrf" || settingsDisabledRE.MatchString(c.Src) {
				continue
			}
			switch typ {
			case "submit", "button":
			case "checkbox", "radio":
				if settingsCheckedRE.MatchString(c.Src) {
					out.Add(name, c.Attrs["value"])
				}
			default:
				out.Add(name, c.Attrs["value"])
			}
		}
		for _, m := range settingsSelectRE.FindAllStringSubmatch(f.Body, -1) {
			attrs := htmlform.Attrs(m[1])
			if settingsDisabledRE.MatchString("<select" + m[1] + ">") {
				continue
			}
			opts := settingsOptionRE.FindAllStringSubmatch(m[2], -1)
			if len(opts) == 0 {
				continue
			}
			chosen := htmlform.Attrs(opts[0][1])["value"]
			for _, o := range opts {
				if settingsSelectedRE.MatchString("<option" + o[1] + ">") {
					chosen = htmlform.Attrs(o[1])["value"]
				}
			}
			out.Set(attrs["name"], chosen)
		}
		for _, m := range settingsTextareaRE.FindAllStringSubmatch(f.Body, -1) {
			out.Set(htmlform.Attrs(m[1])["name"], html.UnescapeString(m[2]))
		}
		return out
	}
	t.Fatalf("no settings form in page:\n%s", page)
	return nil
}

// settingsNear returns the HTML of a form field: from the element with
// the id to the start of the next field, so that a message found in it
// is shown next to that input.
func settingsNear(t testing.TB, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element #%s in page:\n%s", id, page)
	}
	rest := page[i:]
	if loc := settingsNextFieldRE.FindStringIndex(rest[1:]); loc != nil {
		rest = rest[:loc[0]+1]
	}
	return rest
}

func (e *env) settings() (kessai.Settings, int64) {
	e.T.Helper()
	s, v, err := e.Svc.GetSettings(e.Ctx, shopID)
	if err != nil {
		e.T.Fatal(err)
	}
	return s, v
}

// settingsSave loads a settings page, changes its form and submits it.
func (b *browser) settingsSave(path string, change func(url.Values)) resp {
	b.e.T.Helper()
	form := settingsFormOf(b.e.T, b.page(path))
	change(form)
	return b.post(path, path, form)
}

// settingsFeeRows sets the fee table inputs: each row is from, to, fee.
func settingsFeeRows(f url.Values, rows ...[3]string) {
	f.Del("collection.fee_rows.from")
	f.Del("collection.fee_rows.to")
	f.Del("collection.fee_rows.fee")
	for _, r := range rows {
		f.Add("collection.fee_rows.from", r[0])
		f.Add("collection.fee_rows.to", r[1])
		f.Add("collection.fee_rows.fee", r[2])
	}
}

func settingsPtr(n int64) *int64 { return &n }

func TestSettingsCardPageShowsFieldsInOrder(t *testing.T) {
	e := newEnv(t)
	page := e.asAdmin().page(settingsCardPath)
	// The manuals' screen order (SET-01 … SET-13), environment and plan
	// on top (SET-21, SET-22).
	order := []string{"環境", "契約プラン", "ソニーペイメントを有効化", "タイトル", "説明", "外部リンク型で接続する",
		"マーチャントID", "マーチャントパスワード（テスト環境）", "マーチャントパスワード（本番環境）", "店舗コード",
		"3Dセキュア認証を利用する", "暗号化キー", "初期化ベクトル", "トークン決済認証コード", "セキュリティコードの認証を利用する",
		"登録済みカードでの支払いを有効化", "常にカード会員に登録", "処理区分", "定期購入処理区分", "支払回数", "注文ステータス",
		"支払い結果通知ログを保存"}
	at := 0
	for _, s := range order {
		i := strings.Index(page[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order\n%s", s, page)
		}
		at += i
	}
	wantContains(t, page, "【チャージバックに関する留意事項】", "【3Dセキュアについて】", "シミュレーター",
		"ショップ全体で1つ", // SET-13's one flag, said so
		"light 版はトークン決済型のみです", `id="settings-env-warning"`, `id="confirm_production"`,
		"✓ チェックアウトに表示されています", e.url+"/escott/notify", `data-hide-when="card.link_type"`,
		`data-show-when="card.three_ds card.link_type"`, "/admin/assets/settings.js?v=", `id="settings-save"`)
	f := settingsFormOf(t, page)
	for name, want := range map[string]string{"card.merchant_id": sim.DemoMerchant.MerchantID, "card.tenant_id": "0001",
		"card.operation": "1Auth", "card.installments": "lump_sum_only", "environment": "simulator", "plan": "pro",
		"card.title": kessai.DefaultCardTitle, "card.description": kessai.DefaultCardDescription, "card.enabled": "1"} {
		if got := f.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// Secrets are write-only: no page shows them, not even in part.
func TestSettingsSecretsNeverRendered(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	d := sim.DemoMerchant
	secrets := []string{d.TestPass, d.ProdPass, d.TokenAuthCode, d.AESKey, d.AESIV}
	for _, path := range []string{settingsCardPath, settingsColPath, settingsGoLive, settingsCardPath + "?lang=en"} {
		page := b.page(path)
		wantNotContains(t, page, secrets...)
		wantNotContains(t, page, "•••", "****", "[redacted]")
	}
	page := b.page(settingsCardPath + "?lang=ja")
	for _, id := range []string{"card-merchant_pass_test", "card-merchant_pass_prod", "card-token_auth_code", "card-aes_key", "card-aes_iv"} {
		near := settingsNear(t, page, id+"-field")
		wantContains(t, near, `type="password"`, `value=""`, "設定済み", `name="`+strings.Replace(id, "-", ".", 1)+`.delete"`)
	}
	// A refused form does not echo a typed secret either.
	r := b.settingsSave(settingsCardPath, func(f url.Values) {
		f.Set("card.merchant_id", "abc")
		f.Set("card.merchant_pass_test", "typedSecret123")
	})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("HTTP %d", r.Status)
	}
	wantNotContains(t, r.Body, "typedSecret123")
	wantNotContains(t, r.Body, secrets...)
	wantContains(t, r.Body, "安全のため再表示していません")
}

func TestSettingsCardRefusedThenSaved(t *testing.T) {
	cases := []struct {
		name   string
		change func(url.Values)
		field  string // id of the element the message must be next to
		msg    string
	}{
		{"merchant id not digits", func(f url.Values) { f.Set("card.merchant_id", "abc") },
			"card-merchant_id", "マーチャントIDは半角数字で入力してください。"},
		{"store code not digits", func(f url.Values) { f.Set("card.tenant_id", "A1") },
			"card-tenant_id", "店舗コードは半角数字で入力してください（通常は0001）。"},
		{"AES key too short", func(f url.Values) { f.Set("card.aes_key", "short1") },
			"card-aes_key-field", "暗号化キーは半角英数字16文字で入力してください。"},
		{"token code cleared while enabled", func(f url.Values) { f.Set("card.token_auth_code.delete", "1") },
			"card-token_auth_code-field", "トークン決済型ではトークン決済認証コードが必要です。"},
		{"secret typed and deleted", func(f url.Values) {
			f.Set("card.merchant_pass_test", "other1234")
			f.Set("card.merchant_pass_test.delete", "1")
		}, "card-merchant_pass_test-field", "マーチャントパスワード（テスト環境）: 新しい値の入力と「削除」を同時には指定できません。"},
		{"link type on light", func(f url.Values) { f.Set("plan", "light"); f.Set("card.link_type", "1") },
			"card-link_type", "外部リンク型はpro版でのみ利用できます。"},
		{"unknown processing type", func(f url.Values) { f.Set("card.operation", "2Add") },
			"card-operation", "処理区分は「与信」(1Auth)または「与信売上計上」(1Gathering)を選んでください。"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.asAdmin()
			before, v0 := e.settings()
			r := b.settingsSave(settingsCardPath, func(f url.Values) {
				f.Set("card.title", "カード払い") // a valid change, not saved either
				c.change(f)
			})
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("HTTP %d, want 422\n%s", r.Status, r.Body)
			}
			wantContains(t, settingsNear(t, r.Body, c.field), c.msg)
			wantContains(t, r.Body, `id="form-errors"`)
			// What the operator typed is kept.
			if got := settingsFormOf(t, r.Body).Get("card.title"); got != "カード払い" {
				t.Errorf("typed title not kept: %q", got)
			}
			after, v1 := e.settings()
			if v1 != v0 || after.Card.Title != before.Card.Title || after.Card.MerchantID != before.Card.MerchantID {
				t.Fatalf("settings changed by a refused form: v%d → v%d", v0, v1)
			}
		})
	}

	e := newEnv(t)
	b := e.asAdmin()
	r := b.settingsSave(settingsCardPath, func(f url.Values) {
		f.Set("card.merchant_id", "０３００００００２") // full-width digits from an IME
		f.Set("card.title", "カード払い")
		f.Set("card.operation", "1Gathering")
		f.Set("card.three_ds", "1")
		f.Del("card.always_register")
	})
	wantRedirect(t, r, settingsCardPath+"?done=settings_card")
	wantContains(t, b.page(r.Loc), "クレジットカード設定を保存しました。")
	s, _ := e.settings()
	if s.Card.MerchantID != "030000002" || s.Card.Title != "カード払い" || s.Card.Operation != "1Gathering" ||
		!s.Card.ThreeDS || s.Card.AlwaysRegister {
		t.Fatalf("card settings not saved: %+v", s.Card)
	}
	// The screen's patch touched nothing of the other method.
	if s.Collection.MerchantID != sim.DemoMerchant.MerchantID || s.Collection.DueDays != 7 || !s.Collection.Enabled {
		t.Fatalf("collection settings changed by the card screen: %+v", s.Collection)
	}
}

func TestSettingsSecretsKeepReplaceDelete(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	d := sim.DemoMerchant

	// Empty inputs keep every stored secret.
	wantRedirect(t, b.settingsSave(settingsCardPath, func(f url.Values) { f.Set("card.title", "x") }), settingsCardPath)
	s, _ := e.settings()
	if s.Card.MerchantPassTest.Reveal() != d.TestPass || s.Card.MerchantPassProd.Reveal() != d.ProdPass ||
		s.Card.TokenAuthCode.Reveal() != d.TokenAuthCode || s.Card.AESKey.Reveal() != d.AESKey || s.Card.AESIV.Reveal() != d.AESIV {
		t.Fatal("an empty secret input changed the stored secret")
	}

	// A typed value replaces one; 削除 clears another.
	wantRedirect(t, b.settingsSave(settingsCardPath, func(f url.Values) {
		f.Set("card.merchant_pass_prod", " newProdPass9 ")
		f.Set("card.aes_iv.delete", "1")
		f.Set("card.aes_key.delete", "1")
	}), settingsCardPath)
	s, _ = e.settings()
	if s.Card.MerchantPassProd.Reveal() != "newProdPass9" || s.Card.AESIV.IsSet() || s.Card.AESKey.IsSet() ||
		s.Card.MerchantPassTest.Reveal() != d.TestPass {
		t.Fatalf("replace/delete: prod %v iv %v key %v", s.Card.MerchantPassProd.Reveal() == "newProdPass9", s.Card.AESIV.IsSet(), s.Card.AESKey.IsSet())
	}
	page := b.page(settingsCardPath)
	wantContains(t, settingsNear(t, page, "card-aes_iv-field"), "未設定")
	wantNotContains(t, settingsNear(t, page, "card-aes_iv-field"), "card.aes_iv.delete")
	wantNotContains(t, page, "newProdPass9")

	// The collection screen's secrets are its own.
	wantRedirect(t, b.settingsSave(settingsColPath, func(f url.Values) { f.Set("collection.merchant_pass_prod.delete", "1") }), settingsColPath)
	s, _ = e.settings()
	if s.Collection.MerchantPassProd.IsSet() || s.Card.MerchantPassProd.Reveal() != "newProdPass9" {
		t.Fatal("collection delete went wrong")
	}
}

func TestSettingsCollectionRefusals(t *testing.T) {
	cases := []struct {
		name   string
		change func(url.Values)
		field  string
		msg    string
	}{
		{"due days 0", func(f url.Values) { f.Set("collection.due_days", "0") },
			"collection-due_days", "支払期限日数は1から60までの整数で入力してください。"},
		{"due days 61", func(f url.Values) { f.Set("collection.due_days", "61") },
			"collection-due_days", "支払期限日数は1から60までの整数で入力してください。"},
		{"due days not a number", func(f url.Values) { f.Set("collection.due_days", "seven") },
			"collection-due_days", "支払期限日数は半角数字（整数）で入力してください。"},
		{"due days fraction", func(f url.Values) { f.Set("collection.due_days", "7.5") },
			"collection-due_days", "支払期限日数は半角数字（整数）で入力してください。"},
		{"due days empty", func(f url.Values) { f.Set("collection.due_days", "") },
			"collection-due_days", "支払期限日数は半角数字（整数）で入力してください。"},
		{"merchant id", func(f url.Values) { f.Set("collection.merchant_id", "abc") },
			"collection-merchant_id", "マーチャントIDは半角数字で入力してください。"},
		{"fee on without rows", func(f url.Values) { f.Set("collection.fee_enabled", "1"); settingsFeeRows(f) },
			"fee-table-error", "決済手数料を設定する場合は、手数料の行を1行以上入力してください。"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.asAdmin()
			_, v0 := e.settings()
			r := b.settingsSave(settingsColPath, c.change)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("HTTP %d, want 422\n%s", r.Status, r.Body)
			}
			wantContains(t, settingsNear(t, r.Body, c.field), c.msg)
			if _, v1 := e.settings(); v1 != v0 {
				t.Fatal("a refused form was saved")
			}
		})
	}
}

// Fee rows: errors next to the right cell, by the row's place in the
// saved table (blank rows do not count).
func TestSettingsFeeRowErrors(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	_, v0 := e.settings()
	r := b.settingsSave(settingsColPath, func(f url.Values) {
		f.Set("collection.fee_enabled", "1")
		f.Set("collection.due_days", "0")
		settingsFeeRows(f, [3]string{"0", "1100", "0"}, [3]string{"", "", ""}, [3]string{"1000", "5500", "330"},
			[3]string{"5501", "*", "550"})
	})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("HTTP %d\n%s", r.Status, r.Body)
	}
	rows := settingsFeeRowsOf(r.Body)
	// The blank row was dropped; the overlapping row is row 2 (index 1),
	// and the due-days problem is reported at the same time.
	if len(rows) != 3+2 || rows[1][0] != "1000" {
		t.Fatalf("rows %v", rows)
	}
	wantContains(t, settingsFeeRowHTML(t, r.Body, 1), "決済手数料 2行目: 前の行と金額の範囲が重なっています。", `aria-invalid="true"`)
	wantNotContains(t, settingsFeeRowHTML(t, r.Body, 0), "field-error")
	wantContains(t, settingsNear(t, r.Body, "collection-due_days"), "支払期限日数は1から60までの整数で入力してください。")

	// A cell that is not a number: its own message, the others' too.
	r = b.settingsSave(settingsColPath, func(f url.Values) {
		f.Set("collection.fee_enabled", "1")
		f.Set("collection.merchant_id", "x")
		settingsFeeRows(f, [3]string{"0", "1100", "0"}, [3]string{"1101", "", "三百"}, [3]string{"", "", "10"})
	})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, settingsFeeRowHTML(t, r.Body, 1), "決済手数料 2行目: 決済手数料（税込）は半角数字（整数）で入力してください。")
	wantContains(t, settingsFeeRowHTML(t, r.Body, 2), "決済手数料 3行目: 合計金額（～から）を入力してください。")
	// The list at the top says which row and cell.
	wantContains(t, r.Body[strings.Index(r.Body, `id="form-errors"`):strings.Index(r.Body, `id="settings-form"`)],
		"決済手数料 2行目: 決済手数料（税込）は半角数字（整数）で入力してください。")
	wantContains(t, settingsNear(t, r.Body, "collection-merchant_id"), "マーチャントIDは半角数字で入力してください。")
	if got := settingsFeeRowsOf(r.Body)[1]; got != [3]string{"1101", "", "三百"} {
		t.Errorf("typed row not kept: %v", got)
	}
	if _, v1 := e.settings(); v1 != v0 {
		t.Fatal("a refused form was saved")
	}
}

var settingsRowRE = regexp.MustCompile(`(?s)<tr class="settings-fee-row">.*?</tr>`)

func settingsFeeRowHTML(t testing.TB, page string, i int) string {
	t.Helper()
	rows := settingsRowRE.FindAllString(page, -1)
	if i >= len(rows) {
		t.Fatalf("no fee row %d in page", i)
	}
	return rows[i]
}

// settingsFeeRowsOf reads the fee table's inputs, row by row.
func settingsFeeRowsOf(page string) [][3]string {
	var out [][3]string
	for _, row := range settingsRowRE.FindAllString(page, -1) {
		var r [3]string
		for i, name := range []string{"from", "to", "fee"} {
			m := regexp.MustCompile(`name="collection\.fee_rows\.` + name + `" value="([^"]*)"`).FindStringSubmatch(row)
			if m != nil {
				r[i] = html.UnescapeString(m[1])
			}
		}
		out = append(out, r)
	}
	return out
}

func TestSettingsFeeRowsRoundTrip(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	// Without JavaScript: no saved rows, two blank ones.
	if rows := settingsFeeRowsOf(b.page(settingsColPath)); len(rows) != 2 || rows[0] != [3]string{} {
		t.Fatalf("blank table: %v", rows)
	}
	r := b.settingsSave(settingsColPath, func(f url.Values) {
		f.Set("collection.fee_enabled", "1")
		// The manual's example; "*" and a blank "to" both mean no bound,
		// full-width digits and a digit-group comma are accepted.
		settingsFeeRows(f, [3]string{"0", "1,100", "0"}, [3]string{"", "", ""}, [3]string{"１１０１", "5500", "330"},
			[3]string{"5501", "*", "550"}, [3]string{" ", "", ""})
	})
	wantRedirect(t, r, settingsColPath+"?done=settings_collection")
	s, _ := e.settings()
	want := kessai.FeeTable{{From: 0, To: settingsPtr(1100), Fee: 0}, {From: 1101, To: settingsPtr(5500), Fee: 330}, {From: 5501, Fee: 550}}
	if !s.Collection.FeeEnabled || !settingsSameRows(s.Collection.FeeRows, want) {
		t.Fatalf("rows %+v", s.Collection.FeeRows)
	}
	if s.Collection.Fee(6000) != 550 || s.Collection.Fee(1100) != 0 {
		t.Fatal("fee lookup")
	}
	page := b.page(settingsColPath)
	rows := settingsFeeRowsOf(page)
	wantRows := [][3]string{{"0", "1100", "0"}, {"1101", "5500", "330"}, {"5501", "", "550"}, {}, {}}
	if len(rows) != len(wantRows) {
		t.Fatalf("rows shown %v", rows)
	}
	for i := range rows {
		if rows[i] != wantRows[i] {
			t.Fatalf("row %d shown %v, want %v", i, rows[i], wantRows[i])
		}
	}
	wantContains(t, page, "行を挿入", "行を削除", "合計金額（～から）", "合計金額（～まで）", "決済手数料（税込）", "税込",
		"送料と消費税を含む", `placeholder="*"`)

	// Clearing a row's three cells deletes it; a blank row adds one.
	r = b.settingsSave(settingsColPath, func(f url.Values) {
		settingsFeeRows(f, [3]string{"0", "1100", "0"}, [3]string{"", "", ""}, [3]string{"1101", "", "440"})
	})
	wantRedirect(t, r, settingsColPath)
	s, _ = e.settings()
	if !settingsSameRows(s.Collection.FeeRows, kessai.FeeTable{{From: 0, To: settingsPtr(1100)}, {From: 1101, Fee: 440}}) {
		t.Fatalf("rows %+v", s.Collection.FeeRows)
	}
	// Turning the fee off keeps the table (SET-16) and checkout adds none.
	wantRedirect(t, b.settingsSave(settingsColPath, func(f url.Values) { f.Del("collection.fee_enabled") }), settingsColPath)
	s, _ = e.settings()
	if s.Collection.FeeEnabled || len(s.Collection.FeeRows) != 2 || s.Collection.Fee(5000) != 0 {
		t.Fatalf("fee off: %+v", s.Collection)
	}
}

func settingsSameRows(a, b kessai.FeeTable) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].From != b[i].From || a[i].Fee != b[i].Fee || (a[i].To == nil) != (b[i].To == nil) ||
			(a[i].To != nil && *a[i].To != *b[i].To) {
			return false
		}
	}
	return true
}

func TestSettingsCollectionSaved(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	r := b.settingsSave(settingsColPath, func(f url.Values) {
		f.Set("collection.due_days", "60")
		f.Set("collection.expire_cancels_order", "1")
		f.Set("collection.completed_status", "completed")
		f.Set("collection.title", "コンビニ払い")
		f.Del("notify_log")
	})
	wantRedirect(t, r, settingsColPath+"?done=settings_collection")
	wantContains(t, b.page(r.Loc), "オンライン収納代行設定を保存しました。")
	s, _ := e.settings()
	if s.Collection.DueDays != 60 || !s.Collection.ExpireCancelsOrder || s.Collection.CompletedStatus != kessai.OrderCompleted ||
		s.Collection.Title != "コンビニ払い" || s.NotifyLog {
		t.Fatalf("not saved: %+v notify_log=%v", s.Collection, s.NotifyLog)
	}
	// SET-13 is one flag: the card screen shows the same state.
	if f := settingsFormOf(t, b.page(settingsCardPath)); f.Has("notify_log") {
		t.Fatal("card screen shows its own log flag")
	}
	if s.Card.Title != kessai.DefaultCardTitle || s.Card.Operation != "1Auth" {
		t.Fatalf("card settings changed by the collection screen: %+v", s.Card)
	}
}

func TestSettingsVersionConflict(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	stale := settingsFormOf(t, b.page(settingsCardPath))
	// A colleague saves meanwhile.
	e.Settings(map[string]any{"card": map[string]any{"title": "同僚の変更"}})
	stale.Set("card.title", "私の変更")
	r := b.post(settingsCardPath, settingsCardPath, stale)
	if r.Status != http.StatusConflict {
		t.Fatalf("HTTP %d, want 409\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, "ほかの担当者がこの間に設定を保存しました。", `id="settings-conflict"`, "再読み込み")
	if s, _ := e.settings(); s.Card.Title != "同僚の変更" {
		t.Fatalf("the colleague's change was overwritten: %q", s.Card.Title)
	}
	// Resubmitting the same stale form still conflicts.
	if r := b.post(settingsCardPath, settingsCardPath, settingsFormOf(t, r.Body)); r.Status != http.StatusConflict {
		t.Fatalf("resubmitted stale form: HTTP %d", r.Status)
	}
	// A form without a version cannot be checked: refused the same way.
	f := settingsFormOf(t, b.page(settingsCardPath))
	f.Del("version")
	if r := b.post(settingsCardPath, settingsCardPath, f); r.Status != http.StatusConflict {
		t.Fatalf("no version: HTTP %d", r.Status)
	}
	// After a reload the change goes through.
	wantRedirect(t, b.settingsSave(settingsCardPath, func(f url.Values) { f.Set("card.title", "私の変更") }), settingsCardPath)
	if s, _ := e.settings(); s.Card.Title != "私の変更" {
		t.Fatal("not saved after reload")
	}
}

func TestSettingsReadOnlyUser(t *testing.T) {
	e := newEnv(t)
	b := e.asReader()
	for _, path := range []string{settingsCardPath, settingsColPath} {
		page := b.page(path)
		wantContains(t, page, `<fieldset class="settings-fieldset" disabled>`, "閲覧のみの権限", "設定済み")
		wantNotContains(t, page, `id="settings-save"`, `type="submit" class="primary"`)
		_, v0 := e.settings()
		r := b.post(path, path, url.Values{"card.title": {"x"}, "collection.due_days": {"3"}, "version": {strconv.FormatInt(v0, 10)}})
		if r.Status != http.StatusForbidden {
			t.Fatalf("POST %s by a read-only user: HTTP %d", path, r.Status)
		}
		wantContains(t, r.Body, "閲覧のみの権限では変更できません。")
		if _, v1 := e.settings(); v1 != v0 {
			t.Fatal("a read-only user changed the settings")
		}
	}
	wantContains(t, b.page(settingsGoLive), "本番切替チェック")
}

func TestSettingsEnglish(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	wantContains(t, b.page(settingsCardPath+"?lang=en"), "Card settings", "Shop-wide settings", "Merchant ID",
		"Merchant password (production)", "Store code", "Processing type", "Installments", "Save settings",
		"Offered at checkout", "not in production", "Notification URL")
	wantContains(t, b.page(settingsColPath), "Online payment collection settings", "Due days", "Settlement fee",
		"Insert row", "Cancel on expiry", "including consumption tax")
	wantContains(t, b.page(settingsGoLive), "Go-live checklist", "The environment is production", "needs action")
	r := b.settingsSave(settingsColPath, func(f url.Values) { f.Set("collection.due_days", "61") })
	wantContains(t, settingsNear(t, r.Body, "collection-due_days"), "due_days must be an integer from 1 to 60")
	e.Settings(map[string]any{"collection": map[string]any{"enabled": false}})
	wantContains(t, b.page(settingsColPath), "Not offered at checkout", "Online payment collection is not enabled.")
}

func TestSettingsProductionSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	page := b.page(settingsCardPath)
	wantContains(t, page, "本番環境ではありません", "本番に切り替える前に確認してください", "本番用のマーチャントパスワード",
		`data-show-when="environment=production"`)

	// Without the confirmation box: refused, nothing saved, even the
	// other changes of the form.
	r := b.settingsSave(settingsCardPath, func(f url.Values) {
		f.Set("environment", "production")
		f.Set("card.title", "本番")
	})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, settingsNear(t, r.Body, "environment-production"), "本番環境に切り替えるには、確認のチェックを入れてください。")
	if s, _ := e.settings(); s.Environment != kessai.EnvSimulator || s.Card.Title == "本番" {
		t.Fatalf("switched without confirmation: %s", s.Environment)
	}
	// The production password is required by then (SET-23).
	e.Settings(map[string]any{"collection": map[string]any{"merchant_pass_prod": nil}})
	r = b.settingsSave(settingsCardPath, func(f url.Values) {
		f.Set("environment", "production")
		f.Set("confirm_production", "1")
	})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, "本番環境のマーチャントパスワードを入力してください。")
	// From the collection screen, with the password typed in: switched.
	r = b.settingsSave(settingsColPath, func(f url.Values) {
		f.Set("environment", "production")
		f.Set("confirm_production", "1")
		f.Set("collection.merchant_pass_prod", sim.DemoMerchant.ProdPass)
	})
	wantRedirect(t, r, settingsColPath)
	s, _ := e.settings()
	if s.Environment != kessai.EnvProduction {
		t.Fatalf("environment %s", s.Environment)
	}
	page = b.page(settingsCardPath)
	wantNotContains(t, page, `id="settings-env-warning"`, `id="confirm_production"`, `id="env-banner"`)
	// Staying in production needs no confirmation; leaving it neither.
	wantRedirect(t, b.settingsSave(settingsCardPath, func(f url.Values) { f.Set("card.title", "本番") }), settingsCardPath)
	wantRedirect(t, b.settingsSave(settingsCardPath, func(f url.Values) { f.Set("environment", "test") }), settingsCardPath)
	if s, _ := e.settings(); s.Environment != kessai.EnvTest {
		t.Fatalf("environment %s", s.Environment)
	}
}

func TestSettingsAvailabilityShown(t *testing.T) {
	e := newEnv(t, withSettings(map[string]any{"card": map[string]any{"enabled": false}}))
	b := e.asAdmin()
	wantContains(t, settingsNear(t, b.page(settingsCardPath), "settings-availability"), "チェックアウトに表示されていません",
		"クレジットカード決済が有効化されていません。")
	wantContains(t, b.page(settingsColPath), "✓ チェックアウトに表示されています")
	// Enabling it without a credential it needs is refused: stored
	// settings are valid, so "not enabled" is what the page explains.
	r := b.settingsSave(settingsCardPath, func(f url.Values) {
		f.Set("card.enabled", "1")
		f.Set("card.token_auth_code.delete", "1")
	})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("HTTP %d", r.Status)
	}
	wantContains(t, settingsNear(t, r.Body, "card-token_auth_code-field"), "トークン決済型ではトークン決済認証コードが必要です。")
}

func TestSettingsNotifyURL(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	want := `value="` + e.url + `/escott/notify" readonly`
	wantContains(t, settingsNear(t, b.page(settingsColPath), "collection-notify"), want, "入金結果通知URL",
		"テスト・ステージング環境のURLは登録できません")
	wantContains(t, settingsNear(t, b.page(settingsCardPath), "card-notify"), want, "3Dセキュアと外部リンク型の戻り先")
}

func TestSettingsGoLiveChecklist(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	status := func(page, id string) string {
		t.Helper()
		m := regexp.MustCompile(`<tr id="` + id + `" class="[^"]*" data-status="([a-z]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no check %s in page:\n%s", id, page)
		}
		return m[1]
	}
	page := b.page(settingsGoLive)
	for id, want := range map[string]string{
		"check-environment": "fail", "check-method": "ok",
		"check-card-merchant-id": "ok", "check-card-prod-pass": "ok", "check-card-token-code": "ok",
		"check-card-aes": "na", "check-card-available": "ok",
		"check-collection-merchant-id": "ok", "check-collection-prod-pass": "ok", "check-collection-available": "ok",
		"check-notify-url": "fail", // the test server is http://127.0.0.1
		"check-members":    "ok", "check-payment": "warn",
	} {
		if got := status(page, id); got != want {
			t.Errorf("%s = %s, want %s", id, got, want)
		}
	}
	wantContains(t, page, "✗", "✓", "https ではありません", "ローカルまたはテスト用のホストです", "実際のカードで購入",
		"実際の店舗で入金", "対応が必要な項目が 2 件あります。")

	// A test-era card member and a payment.
	o := e.order(1200, forCustomer("c1"))
	e.payCard(o, true)
	e.Settings(map[string]any{"card": map[string]any{"merchant_pass_prod": nil, "three_ds": true}})
	page = b.page(settingsGoLive)
	for id, want := range map[string]string{"check-members": "warn", "check-payment": "ok", "check-card-prod-pass": "fail",
		"check-card-aes": "ok", "check-card-available": "fail"} {
		if got := status(page, id); got != want {
			t.Errorf("%s = %s, want %s", id, got, want)
		}
	}
	wantContains(t, page, "テスト環境のカード会員", "本番環境のマーチャントパスワードを入力してください。")
	// The settings screen warns about them before the switch too.
	wantContains(t, b.page(settingsCardPath), `id="settings-test-members"`)

	e.Settings(map[string]any{"collection": map[string]any{"enabled": false}})
	if got := status(b.page(settingsGoLive), "check-collection-enabled"); got != "na" {
		t.Errorf("disabled collection: %s", got)
	}
}

// The light plan (SET-22, A-20): link type and the subscription
// processing type are pro features.
func TestSettingsLightPlan(t *testing.T) {
	e := newEnv(t, withSettings(map[string]any{"plan": "light"}))
	b := e.asAdmin()
	page := b.page(settingsCardPath)
	wantContains(t, page, "light 版では外部リンク型は使えません", `id="card-link_type" value="1" disabled`,
		`id="card-subscription_operation" aria-describedby="card-subscription_operation-help" disabled`, "light 版で稼働中")
	// Saving keeps the stored subscription processing type (the
	// disabled select is not posted).
	wantRedirect(t, b.settingsSave(settingsCardPath, func(f url.Values) { f.Set("card.title", "カード") }), settingsCardPath)
	s, _ := e.settings()
	if s.Plan != kessai.PlanLight || s.Card.SubscriptionOperation != "1Gathering" || s.Card.LinkType || s.Card.Title != "カード" {
		t.Fatalf("light save: plan %s %+v", s.Plan, s.Card)
	}
	// Pro again: link type becomes available.
	wantRedirect(t, b.settingsSave(settingsCardPath, func(f url.Values) { f.Set("plan", "pro") }), settingsCardPath)
	wantRedirect(t, b.settingsSave(settingsCardPath, func(f url.Values) {
		f.Set("card.link_type", "1")
		f.Set("card.subscription_operation", "1Auth")
	}), settingsCardPath)
	s, _ = e.settings()
	if s.Plan != kessai.PlanPro || !s.Card.LinkType || s.Card.SubscriptionOperation != "1Auth" {
		t.Fatalf("pro save: %+v", s.Card)
	}
	// Back to light with link type still on: refused next to the box.
	r := b.settingsSave(settingsCardPath, func(f url.Values) { f.Set("plan", "light") })
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("HTTP %d", r.Status)
	}
	wantContains(t, settingsNear(t, r.Body, "card-link_type"), "外部リンク型はpro版でのみ利用できます。")
}
