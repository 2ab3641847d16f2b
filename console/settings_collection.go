package console

// オンライン収納代行設定 (SET-14 … SET-17, design ): the
// collection method's fields, the settlement fee table and the
// notification URL to register with SPS.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/kessai/kessai"
)

var settingsCollectionScreen = settingsScreen{
	method: kessai.MethodCollection, path: "/settings/collection", page: "settings_collection", nav: "settings_collection",
	title: "settings_collection_title", done: "settings_collection",
	secrets: []settingsSecretDef{
		{"collection.merchant_pass_test", "settings_card_pass_test", "settings_card_pass_test_help",
			func(s *kessai.Settings) kessai.Secret { return s.Collection.MerchantPassTest }},
		{"collection.merchant_pass_prod", "settings_card_pass_prod", "settings_card_pass_prod_help",
			func(s *kessai.Settings) kessai.Secret { return s.Collection.MerchantPassProd }},
	},
}

// settingsEmptyFeeRows is how many blank rows the fee table offers
// without JavaScript (with it, 「行を挿入」 adds rows).
const settingsEmptyFeeRows = 2

// settingsFeeRow is one row of the fee table editor, as typed.
type settingsFeeRow struct {
	From, To, Fee string
	// Index is the row's position in the saved table, -1 for a blank
	// row: messages name rows by it ("collection.fee_rows[2].to").
	Index int
}

// FieldName is the message key of one of the row's cells.
func (r settingsFeeRow) FieldName(cell string) string {
	if r.Index < 0 {
		return ""
	}
	return fmt.Sprintf("collection.fee_rows[%d].%s", r.Index, cell)
}

// RowField is the key of messages about the whole row.
func (r settingsFeeRow) RowField() string {
	if r.Index < 0 {
		return ""
	}
	return fmt.Sprintf("collection.fee_rows[%d]", r.Index)
}

type settingsCollectionValues struct {
	Enabled            bool
	Title              string
	Description        string
	MerchantID         string
	DueDays            string
	FeeEnabled         bool
	FeeRows            []settingsFeeRow
	CompletedStatus    string
	ExpireCancelsOrder bool
}

type settingsCollectionBody struct {
	settingsBody
	Collection settingsCollectionValues
	// FeeTableField is the key of messages about the table as a whole.
	FeeTableField string
}

func settingsCollectionFrom(s *kessai.Settings) settingsCollectionValues {
	c := s.Collection
	v := settingsCollectionValues{Enabled: c.Enabled, Title: c.Title, Description: c.Description, MerchantID: c.MerchantID,
		DueDays: strconv.Itoa(c.DueDays), FeeEnabled: c.FeeEnabled, CompletedStatus: string(c.CompletedStatus),
		ExpireCancelsOrder: c.ExpireCancelsOrder}
	for i, r := range c.FeeRows {
		row := settingsFeeRow{From: strconv.FormatInt(r.From, 10), Fee: strconv.FormatInt(r.Fee, 10), Index: i}
		if r.To != nil {
			row.To = strconv.FormatInt(*r.To, 10)
		}
		v.FeeRows = append(v.FeeRows, row)
	}
	return v
}

func settingsCollectionForm(r *http.Request) settingsCollectionValues {
	f := r.PostForm
	v := settingsCollectionValues{
		Enabled: settingsChecked(f.Get("collection.enabled")), Title: strings.TrimSpace(f.Get("collection.title")),
		Description: strings.TrimSpace(f.Get("collection.description")), MerchantID: settingsNarrow(f.Get("collection.merchant_id")),
		DueDays: strings.TrimSpace(f.Get("collection.due_days")), FeeEnabled: settingsChecked(f.Get("collection.fee_enabled")),
		CompletedStatus: f.Get("collection.completed_status"), ExpireCancelsOrder: settingsChecked(f.Get("collection.expire_cancels_order")),
	}
	froms, tos, fees := f[settingsFeeFrom], f[settingsFeeTo], f[settingsFeeFee]
	n := max(len(froms), len(tos), len(fees))
	cell := func(list []string, i int) string {
		if i < len(list) {
			return strings.TrimSpace(list[i])
		}
		return ""
	}
	for i := range n {
		row := settingsFeeRow{From: cell(froms, i), To: cell(tos, i), Fee: cell(fees, i), Index: -1}
		// A row whose three cells are empty is no row: the blank rows
		// the form offers, or a row the operator cleared to delete it.
		if row.From == "" && row.To == "" && row.Fee == "" {
			continue
		}
		row.Index = len(v.FeeRows)
		v.FeeRows = append(v.FeeRows, row)
	}
	return v
}

func (v settingsCollectionValues) patch(p *settingsPatch) {
	c := p.section
	c["enabled"] = v.Enabled
	c["title"] = v.Title
	c["description"] = v.Description
	c["merchant_id"] = v.MerchantID
	c["fee_enabled"] = v.FeeEnabled
	c["completed_status"] = v.CompletedStatus
	c["expire_cancels_order"] = v.ExpireCancelsOrder
	if n, ok := settingsInt(v.DueDays); ok {
		c["due_days"] = n
	} else {
		p.fieldError("collection.due_days", "invalid_type", "settings_number", "settings_due_days")
	}
	rows := make([]map[string]any, 0, len(v.FeeRows))
	bad := false
	for _, r := range v.FeeRows {
		row := map[string]any{"to": nil}
		for _, x := range []struct {
			cell, val, label string
			bound            bool
		}{{"from", r.From, "settings_fee_from", false}, {"to", r.To, "settings_fee_to", true}, {"fee", r.Fee, "settings_fee_fee", false}} {
			val := settingsNarrow(x.val)
			switch n, ok := settingsInt(val); {
			case x.bound && (val == "" || val == "*"):
				// No upper bound (design A-04): sent as null.
			case val == "":
				p.fieldError(r.FieldName(x.cell), "required", "settings_required", x.label)
				bad = true
			case !ok:
				p.fieldError(r.FieldName(x.cell), "invalid_type", "settings_number", x.label)
				bad = true
			default:
				row[x.cell] = n
			}
		}
		rows = append(rows, row)
	}
	if bad {
		// The table is sent only when every cell is a number; the dry
		// run then checks the stored table, whose messages would point at
		// the wrong rows.
		p.skipPrefix = append(p.skipPrefix, "collection.fee_rows")
		return
	}
	c["fee_rows"] = rows
}

func (h *Handler) settingsCollectionPage(w http.ResponseWriter, r *http.Request, rq *request) {
	st, err := h.loadSettings(r, rq)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	p := h.newPage(r, rq, settingsCollectionScreen.nav, settingsCollectionScreen.title)
	b := &settingsCollectionBody{settingsBody: settingsBody{Version: st.version, Shop: settingsShopFrom(&st.stored)},
		Collection: settingsCollectionFrom(&st.stored)}
	h.renderSettingsCollection(w, r, rq, p, http.StatusOK, b, st, nil)
}

func (h *Handler) settingsCollectionSave(w http.ResponseWriter, r *http.Request, rq *request) {
	st, err := h.loadSettings(r, rq)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	shop := settingsShopForm(r)
	col := settingsCollectionForm(r)
	pt := newSettingsPatch("collection")
	pt.shop(shop, st.stored.Environment)
	col.patch(pt)
	pt.secrets(r, settingsCollectionScreen.secrets)
	err = h.saveSettingsPatch(r, rq, st, pt)
	if err == nil {
		redirect(w, r, BasePath+settingsCollectionScreen.path, settingsCollectionScreen.done)
		return
	}
	p := h.newPage(r, rq, settingsCollectionScreen.nav, settingsCollectionScreen.title)
	status, conflict, ok := settingsFailStatus(p, err, rq.Lang)
	if !ok {
		h.fail(w, r, rq, err)
		return
	}
	version, _ := settingsInt(r.PostForm.Get(settingsFieldVersion))
	b := &settingsCollectionBody{settingsBody: settingsBody{Version: version, Shop: shop, Retype: pt.retype, Conflict: conflict},
		Collection: col}
	h.renderSettingsCollection(w, r, rq, p, status, b, st, settingsDeleted(r, settingsCollectionScreen.secrets))
}

func (h *Handler) renderSettingsCollection(w http.ResponseWriter, r *http.Request, rq *request, p *page, status int,
	b *settingsCollectionBody, st settingsState, deleted map[string]bool) {
	h.fillCommon(r, rq, p, &settingsCollectionScreen, &b.settingsBody, st, deleted)
	b.FeeTableField = "collection.fee_rows"
	for range settingsEmptyFeeRows {
		b.Collection.FeeRows = append(b.Collection.FeeRows, settingsFeeRow{Index: -1})
	}
	p.Body = b
	h.render(w, r, status, settingsCollectionScreen.page, p)
}

func init() {
	register(map[string][2]string{
		"settings_collection_title": {"オンライン収納代行設定", "Online payment collection settings"},
		"done_settings_collection":  {"オンライン収納代行設定を保存しました。", "The collection settings were saved."},
		"settings_collection_intro": {"コンビニ・電子マネー・Pay-easy（銀行ATM・ネットバンキング）でのお支払いを受け付けます。オンライン収納代行は法人のみお申し込みいただけます（個人事業主は不可）。",
			"Accepts payment at convenience stores, by e-money and Pay-easy (bank ATM and online banking). Only companies can apply for online payment collection (not sole proprietors)."},
		"settings_collection_legend": {"オンライン収納代行", "Online payment collection"},
		"settings_collection_enabled_check": {"ソニーペイメント オンライン収納代行サービスを有効化",
			"Enable Sony Payment online payment collection"},
		"settings_collection_pass_note": {"オンライン収納代行には店舗コードはありません。", "Online payment collection has no store code."},

		"settings_due_days": {"支払期限日数", "Due days"},
		"settings_due_days_help": {"購入日から指定した日数後の 23:59 までが支払期限です（1 なら翌日の 23:59:59 まで）。1〜60日で指定してください。",
			"Payment is due at 23:59 on the day this many days after the purchase (1 = until 23:59:59 the next day). From 1 to 60 days."},
		"settings_days": {"日", "days"},

		"settings_fee":       {"決済手数料", "Settlement fee"},
		"settings_fee_check": {"決済手数料を設定する", "Charge a settlement fee"},
		"settings_fee_help":  {"決済手数料として合計金額に加算します。", "Added to the total as a settlement fee."},
		"settings_fee_explain": {"決済手数料は税込金額で入力してください。送料と消費税を含む注文の合計金額が範囲に入る行の手数料を、オンライン収納代行の請求金額に加算します。「～まで」が空欄または「*」の行は上限なしです（最後の行だけにしてください）。どの行にも当てはまらない金額の手数料は0円です。例: 0〜1100 → 0円、1101〜5500 → 330円、5501〜* → 550円。",
			"Enter fees including consumption tax. The fee of the row whose range contains the order total (including shipping and tax) is added to the amount collected. A blank or “*” in “to” means no upper bound (last row only). Totals that match no row pay no fee. Example: 0–1100 → ¥0, 1101–5500 → ¥330, 5501–* → ¥550."},
		"settings_fee_from":    {"合計金額（～から）", "Total from"},
		"settings_fee_to":      {"合計金額（～まで）", "Total to"},
		"settings_fee_fee":     {"決済手数料（税込）", "Fee (tax incl.)"},
		"settings_fee_insert":  {"行を挿入", "Insert row"},
		"settings_fee_delete":  {"行を削除", "Delete row"},
		"settings_fee_row":     {"行", "Row"},
		"settings_fee_actions": {"操作", "Actions"},
		"settings_fee_nojs": {"行を追加するには空の行に入力してください。行を削除するには、その行の3つの欄をすべて空にして保存してください。",
			"To add a row, fill in an empty row. To delete a row, clear its three fields and save."},
		"settings_fee_off_note": {"手数料の表は「決済手数料を設定する」がオフの間も保存されますが、適用されません。",
			"The fee table is kept while the fee is off, but not applied."},

		"settings_collection_done_pro": {"入金後「処理中」にする", "Set to processing when paid"},
		"settings_collection_done_com": {"入金後「完了」にする", "Set to completed when paid"},
		"settings_collection_completed_help": {"「完了」を選んでも、配送が必要な商品を含む注文は「処理中」になります。",
			"Even with “completed”, orders with an item that needs shipping become processing."},
		"settings_expire":       {"期限切れで注文をキャンセル", "Cancel on expiry"},
		"settings_expire_check": {"支払期限を過ぎた未入金の注文をキャンセルする", "Cancel orders left unpaid past their due date"},
		"settings_expire_help": {"期限切れは照会（2Ref）で未入金を確かめてから記録します。チェックしない場合、期限切れの注文は「保留中」のまま残ります。",
			"An expiry is recorded after an inquiry (2Ref) confirms the collection is unpaid. When unticked, expired orders stay on hold."},
		"settings_collection_notify_note": {"入金の通知はこのURLに届きます。登録されていないと、入金されても注文が「入金済」になりません。",
			"Payment notifications arrive at this URL; without the registration, paid collections never become paid here."},
	})
}
