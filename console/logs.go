package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// The payment result log (LOG-01/02, ERR-02, ERR-04…ERR-09): every gateway
// attempt of the shop, newest first, with each response code explained
// and, where the manuals give one, what the operator can do about it. The
// filters go to the store (ListAttemptLog): the page reads one page of
// rows whatever the log's size.
//
// Attempts hold nothing secret (no ProcessPass, KaiinPass or token), and
// the page shows only the fields listed in logsRowView.

func (h *Handler) logRoutes() []route {
	return []route{
		{"GET", "/logs", viewer, h.logsPage},
		{"GET", "/logs/codes", viewer, h.logsCodesPage},
	}
}

// logsPageSize is the number of attempts a page shows.
const logsPageSize = 50

// logsMaxCodeLen is the store's limit for a code filter (ListAttemptLog).
const logsMaxCodeLen = 16

// logsOperations are the operations kessai records attempts of (money
// moving calls and collection registrations; references and member calls
// are not attempts), in the order of the filter's menu.
var logsOperations = []escott.OperateID{
	escott.OpAuth, escott.OpGathering, escott.OpCapture, escott.OpChange, escott.OpDelete, escott.OpReAuth,
	escott.OpCvsAdd, escott.OpCvsChg, escott.OpCvsDel,
}

// logsOpLabelsEn are the English names of the operations; Japanese comes from
// escott (the labels merchants know from the e-SCOTT console).
var logsOpLabelsEn = map[escott.OperateID]string{
	escott.OpTokenSearch: "token lookup", escott.OpAuth: "authorisation", escott.OpGathering: "authorisation and capture",
	escott.OpCapture: "capture", escott.OpChange: "amount change", escott.OpDelete: "cancel", escott.OpReAuth: "re-authorisation",
	escott.OpSearch: "reference", escott.OpCheck: "card check", escott.OpSecure: "3-D Secure",
	escott.OpMemAdd: "member registration", escott.OpMemChg: "member update", escott.OpMemRefM: "member reference",
	escott.OpMemInval: "member invalidation", escott.OpMemUnInval: "member re-validation", escott.OpMemDel: "member deletion",
	escott.OpCvsAdd: "collection registration", escott.OpCvsChg: "collection change", escott.OpCvsDel: "collection deletion",
	escott.OpCvsRef: "collection reference",
}

// logsOpLabel is an operation's name in lang.
func logsOpLabel(op escott.OperateID, lang string) string {
	if lang == langEn {
		if l, ok := logsOpLabelsEn[op]; ok {
			return l
		}
		return string(op)
	}
	return op.Label()
}

var logsStatuses = []kessai.AttemptStatus{kessai.AttemptSucceeded, kessai.AttemptFailed, kessai.AttemptUnknown, kessai.AttemptPending}

// logsStatusBadge is the badge colour of an attempt status.
var logsStatusBadge = map[kessai.AttemptStatus]string{
	kessai.AttemptSucceeded: "green", kessai.AttemptFailed: "red", kessai.AttemptUnknown: "orange", kessai.AttemptPending: "blue",
}

func init() {
	register(map[string][2]string{
		"logs_title": {"決済ログ", "Payment log"},
		"logs_intro": {"ゲートウェイ（e-SCOTT）への決済処理の結果です。新しい順に表示します。コードの説明の横の「対処方法」を開くと、対応の手順を確認できます。",
			"Results of the payment calls to the gateway (e-SCOTT), newest first. Open “What to do” next to a code for the operator's steps."},
		"logs_filter":        {"絞り込み", "Filter"},
		"logs_status":        {"結果", "Result"},
		"logs_status_any":    {"すべて", "any"},
		"logs_code":          {"コード", "Code"},
		"logs_code_help":     {"例: K71、G12、NG", "e.g. K71, G12, NG"},
		"logs_tx":            {"決済コード", "Transaction code"},
		"logs_tx_help":       {"12 桁の数字（MerchantFree1）", "12 digits (MerchantFree1)"},
		"logs_op":            {"処理区分", "Operation"},
		"logs_op_any":        {"すべて", "any"},
		"logs_from":          {"開始日", "From"},
		"logs_to":            {"終了日", "To"},
		"logs_dates_help":    {"日本時間の日付。終了日を含みます。", "Japan time; the end date is included."},
		"logs_at":            {"日時", "Date"},
		"logs_order":         {"注文", "Order"},
		"logs_amount":        {"金額", "Amount"},
		"logs_result":        {"結果", "Result"},
		"logs_codes":         {"コード", "Codes"},
		"logs_none":          {"該当する決済ログはありません。", "No log entries match."},
		"logs_pager":         {"ページ送り", "Pages"},
		"logs_next":          {"次の 50 件", "Next 50"},
		"logs_first":         {"最新に戻る", "Back to the newest"},
		"logs_guide":         {"対処方法", "What to do"},
		"logs_resolution":    {"解決", "Resolved"},
		"logs_order_missing": {"（削除済み）", "(deleted)"},
		"logs_lookup_link":   {"コードを調べる", "Look up a code"},

		"logs_status_succeeded": {"成功", "succeeded"},
		"logs_status_failed":    {"失敗", "failed"},
		"logs_status_unknown":   {"結果不明", "unknown"},
		"logs_status_pending":   {"処理中", "in progress"},

		"logs_invalid_status": {"結果の指定が正しくありません。", "The result filter is not valid."},
		"logs_invalid_code": {"コードは 16 文字以内の半角英数字で入力してください（例: K71）。",
			"A code is at most 16 letters and digits (e.g. K71)."},
		"logs_invalid_tx":      {"決済コードは 12 桁の数字で入力してください。", "A transaction code is 12 digits."},
		"logs_invalid_op":      {"処理区分の指定が正しくありません。", "The operation filter is not valid."},
		"logs_invalid_date":    {"日付は YYYY-MM-DD の形式で入力してください。", "Enter dates as YYYY-MM-DD."},
		"logs_invalid_range":   {"終了日は開始日以降の日付にしてください。", "The end date must not be before the start date."},
		"logs_invalid_cursor":  {"ページの指定が正しくないため、最新の決済ログを表示しています。", "The page asked for is not valid: showing the newest entries."},
		"logs_invalid_payment": {"決済の指定が正しくありません。", "The payment filter is not valid."},
		"logs_filter_invalid":  {"絞り込みの条件に誤りがあるため、一覧を表示できません。", "The filter has errors, so nothing is listed."},

		"logs_resolved_failed": {"担当者が確定：ゲートウェイに取引なし（失敗）", "Resolved by an operator: no transaction at the gateway (failed)"},
		"logs_resolved_registration_failed": {"担当者が確定：ゲートウェイに登録なし（失敗）",
			"Resolved by an operator: no registration at the gateway (failed)"},
		"logs_resolved_confirmed": {"担当者が確定：取引を確認（成功）ProcessId ", "Resolved by an operator: transaction confirmed (succeeded), ProcessId "},

		"logs_guide_threeds_on": {"この店舗では現在 3Dセキュアが有効になっています。", "3-D Secure is currently switched on for this shop."},
		"logs_checklist":        {"「予期しないエラー」が続くときの確認事項", "Checklist for “unexpected errors”"},
		"logs_checklist_intro": {"原因が分からない失敗が続く場合は、次の点を確認してください（マニュアルのチェックリスト）。",
			"When failures keep happening without a clear cause, check the following (the manual's guidanceChecklist)."},

		"logs_codes_title":       {"コードの説明", "Response codes"},
		"logs_codes_intro":       {"ゲートウェイのレスポンスコードの意味と対処方法を調べます。", "Look up what a gateway response code means and what to do about it."},
		"logs_codes_submit":      {"調べる", "Look up"},
		"logs_codes_description": {"説明", "Description"},
		"logs_codes_class":       {"分類", "Kind"},
		"logs_codes_unknown":     {"このコードは登録されていません（未定義のレスポンスコード）。SPS の仕様書で確認してください。", "This code is not in the catalogue (unknown response code). Check SPS's interface specification."},
		"logs_codes_no_guide":    {"このコードに固有の対処方法はありません。", "There is no specific advice for this code."},
		"logs_codes_in_log":      {"このコードの決済ログを見る", "Show log entries with this code"},
		"logs_codes_guided":      {"対処方法があるコード", "Codes with advice"},
		"logs_codes_all":         {"コード一覧", "All codes"},

		"logs_class_unknown":           {"その他", "other"},
		"logs_class_issuer_decline":    {"カード会社のお断り", "issuer decline"},
		"logs_class_card_input":        {"カード情報の入力誤り", "card details entered wrongly"},
		"logs_class_merchant_config":   {"ショップの設定・契約", "shop settings or contract"},
		"logs_class_temporary":         {"一時的な障害", "temporary failure"},
		"logs_class_three_ds":          {"3Dセキュア", "3-D Secure"},
		"logs_class_collection":        {"オンライン収納代行", "online collection"},
		"logs_class_member":            {"カード会員", "card member"},
		"logs_class_transaction_state": {"取引の状態", "transaction state"},
		"logs_class_token":             {"トークン", "card token"},
		"logs_class_request":           {"要求の項目（システム側）", "request fields (system side)"},
		"logs_class_shopper_cancel":    {"購入者による中止", "cancelled by the shopper"},
		"logs_class_no_answer":         {"応答なし（通信エラー）", "no answer (communication error)"},
	})
}

// logsForm is the filter as typed, for the inputs.
type logsForm struct {
	Status, Code, Tx, Op, From, To, Payment string
}

// values is the filter as a query string (non-empty fields only).
func (f logsForm) values() url.Values {
	q := url.Values{}
	for _, kv := range [][2]string{{"status", f.Status}, {"code", f.Code}, {"tx", f.Tx}, {"op", f.Op},
		{"from", f.From}, {"to", f.To}, {"payment", f.Payment}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	return q
}

// logsOption is an entry of a select.
type logsOption struct {
	Value, Label string
	Selected     bool
}

// logsCodeView is one response code of an attempt, explained.
type logsCodeView struct {
	Code  string
	Text  string
	Guide *guidanceView
}

// logsRowView is one attempt as the log shows it.
type logsRowView struct {
	ID         string
	At         time.Time
	OrderID    string
	OrderGone  bool
	TxCode     string
	Op         string
	Amount     int64
	Status     string
	Badge      string
	Codes      []logsCodeView
	Resolution string
}

type logsBody struct {
	Form       logsForm
	Statuses   []logsOption
	Operations []logsOption
	Rows       []logsRowView
	Next       string
	First      string
	Invalid    bool
	Checklist  []string
}

// parseLogsFilter checks the query's filter. Invalid fields get a message
// next to their input (the store refuses codes with symbols: checked
// here first, so bad input is a message and not an error page).
func parseLogsFilter(q url.Values, lang string) (logsForm, kessai.AttemptFilter, map[string]string) {
	form := logsForm{
		Status: strings.TrimSpace(q.Get("status")), Code: strings.ToUpper(strings.TrimSpace(q.Get("code"))),
		Tx: strings.TrimSpace(q.Get("tx")), Op: strings.TrimSpace(q.Get("op")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Payment: strings.TrimSpace(q.Get("payment")),
	}
	var f kessai.AttemptFilter
	errs := map[string]string{}
	if form.Status != "" {
		if slices.Contains(logsStatuses, kessai.AttemptStatus(form.Status)) {
			f.Status = kessai.AttemptStatus(form.Status)
		} else {
			errs["status"] = text(lang, "logs_invalid_status")
		}
	}
	if form.Code != "" {
		if logsValidCode(form.Code) {
			f.Code = form.Code
		} else {
			errs["code"] = text(lang, "logs_invalid_code")
		}
	}
	if form.Tx != "" {
		if escott.ValidMerchantFree1(form.Tx) {
			f.MerchantFree1 = form.Tx
		} else {
			errs["tx"] = text(lang, "logs_invalid_tx")
		}
	}
	if form.Op != "" {
		if slices.Contains(logsOperations, escott.OperateID(form.Op)) {
			f.Operation = escott.OperateID(form.Op)
		} else {
			errs["op"] = text(lang, "logs_invalid_op")
		}
	}
	if form.Payment != "" {
		if kessai.ValidID("pay", form.Payment) {
			f.PaymentID = form.Payment
		} else {
			errs["payment"] = text(lang, "logs_invalid_payment")
		}
	}
	from, fromOK := logsParseDay(form.From)
	to, toOK := logsParseDay(form.To)
	if !fromOK {
		errs["from"] = text(lang, "logs_invalid_date")
	}
	if !toOK {
		errs["to"] = text(lang, "logs_invalid_date")
	}
	if fromOK && toOK && !from.IsZero() && !to.IsZero() && to.Before(from) {
		errs["to"] = text(lang, "logs_invalid_range")
	}
	f.CreatedFrom = from
	if !to.IsZero() {
		f.CreatedTo = to.AddDate(0, 0, 1) // the end day is included
	}
	return form, f, errs
}

// logsParseDay reads a JST day (YYYY-MM-DD) as its midnight; "" is the zero
// time (no bound).
func logsParseDay(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation("2006-01-02", s, jst)
	if err != nil || t.Year() < 2000 || t.Year() > 2999 {
		return time.Time{}, false
	}
	return t, true
}

// logsValidCode is the store's rule for a code filter: short alphanumerics.
func logsValidCode(c string) bool {
	if c == "" || len(c) > logsMaxCodeLen {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= '0' && b <= '9' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z') {
			return false
		}
	}
	return true
}

func (h *Handler) logsPage(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	q := r.URL.Query()
	p := h.newPage(r, rq, "logs", "logs_title")
	form, filter, errs := parseLogsFilter(q, rq.Lang)
	body := logsBody{Form: form, Checklist: guidanceChecklistIn(rq.Lang)}
	body.Statuses = append(body.Statuses, logsOption{Value: "", Label: text(rq.Lang, "logs_status_any")})
	for _, s := range logsStatuses {
		body.Statuses = append(body.Statuses, logsOption{Value: string(s), Label: text(rq.Lang, "logs_status_"+string(s)), Selected: form.Status == string(s)})
	}
	body.Operations = append(body.Operations, logsOption{Value: "", Label: text(rq.Lang, "logs_op_any")})
	for _, op := range logsOperations {
		body.Operations = append(body.Operations, logsOption{Value: string(op), Label: logsOpLabel(op, rq.Lang), Selected: form.Op == string(op)})
	}
	if len(errs) > 0 {
		p.FieldErrors = errs
		p.Errors = append(p.Errors, text(rq.Lang, "logs_filter_invalid"))
		body.Invalid = true
		p.Body = body
		h.render(w, r, http.StatusBadRequest, "logs", p)
		return
	}
	after := q.Get("after")
	if after != "" && !kessai.ValidID("att", after) {
		p.Errors = append(p.Errors, text(rq.Lang, "logs_invalid_cursor"))
		after = ""
	}
	if after != "" {
		body.First = BasePath + "/logs" + logsQuery(form.values())
	}
	atts, err := h.svc.Store().ListAttemptLog(ctx, rq.ShopID, filter, kessai.Page{Limit: logsPageSize + 1, After: after})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if len(atts) > logsPageSize {
		atts = atts[:logsPageSize]
		next := form.values()
		next.Set("after", atts[len(atts)-1].ID)
		body.Next = BasePath + "/logs" + logsQuery(next)
	}
	orders, err := h.logsOrdersOfAttempts(ctx, rq.ShopID, atts)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	threeDS := false
	if set, _, err := h.svc.GetSettings(ctx, rq.ShopID); err == nil {
		threeDS = set.Card.ThreeDS
	}
	for _, a := range atts {
		row := logsRowView{ID: a.ID, At: a.CreatedAt, TxCode: a.MerchantFree1, Op: logsOpLabel(a.Operation, rq.Lang), Amount: a.Amount,
			Status: text(rq.Lang, "logs_status_"+string(a.Status)), Badge: logsStatusBadge[a.Status],
			Resolution: logsResolutionText(a.Resolution, rq.Lang)}
		if oid, ok := orders[a.PaymentID]; ok {
			row.OrderID, row.OrderGone = oid, oid == ""
		}
		for _, c := range a.Codes {
			if c = strings.TrimSpace(c); c == "" || c == escott.CodeOK {
				continue
			}
			row.Codes = append(row.Codes, logsExplainCode(c, rq.Lang, threeDS))
		}
		body.Rows = append(body.Rows, row)
	}
	p.Body = body
	h.render(w, r, http.StatusOK, "logs", p)
}

// logsQuery is "?" and the encoded query, or "" for none.
func logsQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// logsOrdersOfAttempts maps each attempt's payment to its order id ("" when
// the payment is gone). Attempts of one payment share one look-up, so a
// page costs at most one primary-key read per distinct payment.
func (h *Handler) logsOrdersOfAttempts(ctx context.Context, shopID string, atts []kessai.Attempt) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range atts {
		if _, done := out[a.PaymentID]; done {
			continue
		}
		pay, err := h.svc.Store().GetPayment(ctx, shopID, a.PaymentID)
		switch {
		case errors.Is(err, kessai.ErrNotFound):
			out[a.PaymentID] = ""
		case err != nil:
			return nil, err
		default:
			out[a.PaymentID] = pay.OrderID
		}
	}
	return out, nil
}

// logsExplainCode describes one code with its guidance (ERR-02, ERR-04…08).
func logsExplainCode(code, lang string, threeDS bool) logsCodeView {
	c := escott.LookupCode(code)
	d := c.Ja
	if lang == langEn {
		d = c.En
	}
	return logsCodeView{Code: code, Text: d, Guide: guidanceFor(code, lang, threeDS)}
}

// logsResolutionText translates how an operator settled an unknown attempt
// (cardpay/cvspay Resolve write these texts).
func logsResolutionText(res, lang string) string {
	switch {
	case res == "":
		return ""
	case res == "operator: no transaction at the gateway":
		return text(lang, "logs_resolved_failed")
	case res == "operator: no registration at the gateway":
		return text(lang, "logs_resolved_registration_failed")
	case strings.HasPrefix(res, "operator: confirmed with ProcessId "):
		return text(lang, "logs_resolved_confirmed") + strings.TrimPrefix(res, "operator: confirmed with ProcessId ")
	}
	return res
}

// logsCodeEntry is a catalogue row for the code lookup page.
type logsCodeEntry struct {
	Code  string
	Text  string
	Class string
	Guide *guidanceView
	Known bool
}

type logsCodesBody struct {
	Query   string
	Result  *logsCodeEntry
	Guided  []logsCodeEntry
	All     []logsCodeEntry
	LogLink string
}

// logsCatalogue is the set of catalogued codes.
var logsCatalogue = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range escott.Catalogue() {
		m[c.Code] = true
	}
	return m
}()

// logsCodesPage is the code lookup: description and guidance of any code.
func (h *Handler) logsCodesPage(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "logs", "logs_codes_title")
	threeDS := false
	if set, _, err := h.svc.GetSettings(r.Context(), rq.ShopID); err == nil {
		threeDS = set.Card.ThreeDS
	}
	entry := func(code string) logsCodeEntry {
		c := escott.LookupCode(code)
		e := logsCodeEntry{Code: code, Text: c.Ja, Class: text(rq.Lang, "logs_class_"+c.Class.String()),
			Guide: guidanceFor(code, rq.Lang, threeDS), Known: logsCatalogue[code]}
		if rq.Lang == langEn {
			e.Text = c.En
		}
		return e
	}
	body := logsCodesBody{}
	status := http.StatusOK
	if raw, ok := r.URL.Query()["code"]; ok {
		body.Query = strings.ToUpper(strings.TrimSpace(raw[0]))
		switch {
		case body.Query == "":
		case !logsValidCode(body.Query):
			p.FieldErrors = map[string]string{"code": text(rq.Lang, "logs_invalid_code")}
			p.Errors = append(p.Errors, text(rq.Lang, "logs_invalid_code"))
			status = http.StatusBadRequest
		default:
			e := entry(body.Query)
			body.Result = &e
			body.LogLink = BasePath + "/logs?code=" + url.QueryEscape(body.Query)
		}
	}
	guided := make([]string, 0, len(guidanceByCode))
	for c := range guidanceByCode {
		guided = append(guided, c)
	}
	sort.Strings(guided)
	for _, c := range guided {
		body.Guided = append(body.Guided, entry(c))
	}
	for _, c := range escott.Catalogue() {
		if c.Code == escott.CodeOK {
			continue
		}
		e := logsCodeEntry{Code: c.Code, Text: c.Ja, Known: true}
		if rq.Lang == langEn {
			e.Text = c.En
		}
		body.All = append(body.All, e)
	}
	p.Body = body
	h.render(w, r, status, "logs_codes", p)
}
