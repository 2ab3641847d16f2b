package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
)

func init() {
	register(map[string][2]string{
		// order page
		"orders_detail_number":        {"注文番号", "Order number"},
		"orders_detail_id":            {"kessai 注文ID", "kessai order ID"},
		"orders_detail_created":       {"注文日時", "Ordered at"},
		"orders_detail_updated":       {"更新日時", "Updated at"},
		"orders_detail_status":        {"注文ステータス", "Status"},
		"orders_detail_amount":        {"合計金額", "Total"},
		"orders_detail_customer":      {"お客様ID", "Customer ID"},
		"orders_detail_items":         {"注文商品", "Items"},
		"orders_detail_item_name":     {"商品", "Item"},
		"orders_detail_item_qty":      {"数量", "Quantity"},
		"orders_detail_item_unit":     {"単価", "Unit price"},
		"orders_detail_item_total":    {"小計", "Subtotal"},
		"orders_detail_item_virtual":  {"仮想商品", "virtual"},
		"orders_detail_item_fee":      {"決済手数料", "settlement fee"},
		"orders_detail_billing":       {"請求先", "Billing"},
		"orders_detail_name":          {"氏名", "Name"},
		"orders_detail_kana":          {"フリガナ", "Name (kana)"},
		"orders_detail_email":         {"メールアドレス", "E-mail"},
		"orders_detail_phone":         {"電話番号", "Phone"},
		"orders_detail_metadata":      {"メタデータ", "Metadata"},
		"orders_detail_back":          {"注文一覧へ戻る", "Back to the orders"},
		"orders_box_title":            {"ソニーペイメント", "Sony Payment"},
		"orders_box_none":             {"この注文には決済がありません。", "This order has no payment."},
		"orders_box_method":           {"支払方法", "Method"},
		"orders_box_at":               {"決済日時", "Payment date"},
		"orders_box_code":             {"決済コード", "Transaction code"},
		"orders_box_3ds":              {"3D認証結果", "3-D Secure result"},
		"orders_box_consent":          {"個人情報の取扱", "Personal data"},
		"orders_box_agreed":           {"同意済", "agreed"},
		"orders_box_paytype":          {"支払回数", "Payment type"},
		"orders_box_due":              {"支払期日", "Due date"},
		"orders_box_amount":           {"決済金額", "Amount"},
		"orders_detail_info_button":   {"決済情報", "Payment info"},
		"orders_detail_previous":      {"以前の決済", "Earlier payments"},
		"orders_detail_prev_codes":    {"エラーコード", "Error codes"},
		"orders_detail_prev_created":  {"作成日時", "Created"},
		"orders_detail_light_console": {"決済の操作（売上計上・取消・変更）は e-SCOTT 管理画面で行ってください。", "Capture, cancel and changes are done in the e-SCOTT merchant console."},
		"orders_detail_admin17_pro": {"ショップで注文の金額を変更したり、注文をキャンセル・削除しても、ソニーペイメントの決済は変更・取消されません。決済の変更・取消は、注文を削除する前に「決済情報」から行ってください（削除後は e-SCOTT 管理画面での操作が必要です）。売上計上・取消・利用額変更を e-SCOTT 管理画面で行うと、ショップと決済の状態が食い違うため行わないでください。",
			"Changing, cancelling or deleting the order in the shop does not change or cancel the Sony Payment transaction. Change or cancel the payment from 「Payment info」 before deleting an order (after deletion, only the e-SCOTT console can). Do not capture, cancel or change amounts in the e-SCOTT console, or the shop and the gateway will disagree."},
		"orders_detail_admin17_light": {"ショップで注文の金額を変更したり、注文をキャンセル・削除しても、ソニーペイメントの決済は変更・取消されません。決済の変更・取消は e-SCOTT 管理画面で行ってください。",
			"Changing, cancelling or deleting the order in the shop does not change or cancel the Sony Payment transaction. Change or cancel payments in the e-SCOTT merchant console."},

		// dialog
		"orders_dialog_close":      {"閉じる", "Close"},
		"orders_dialog_state":      {"状態", "State"},
		"orders_dialog_amount":     {"利用金額 (¥)", "Amount (¥)"},
		"orders_dialog_sales":      {"売上計上日", "Sales date"},
		"orders_dialog_due":        {"支払期日", "Due date"},
		"orders_dialog_due_help":   {"YYYYMMDD（8桁）", "YYYYMMDD (8 digits)"},
		"orders_dialog_cvs_amt":    {"支払い金額 (¥)", "Amount to pay (¥)"},
		"orders_dialog_recv":       {"受付番号", "Receipt number"},
		"orders_dialog_paid_at":    {"入金日時", "Paid at"},
		"orders_dialog_store":      {"収納機関", "Paid at (channel)"},
		"orders_dialog_link":       {"お支払いURL", "Payment link"},
		"orders_dialog_history":    {"処理履歴", "History"},
		"orders_dialog_h_at":       {"処理日時", "Date"},
		"orders_dialog_h_txn":      {"処理連番", "Transaction ID"},
		"orders_dialog_h_op":       {"処理区分", "Operation"},
		"orders_dialog_h_result":   {"処理結果", "Result"},
		"orders_dialog_h_amount":   {"金額", "Amount"},
		"orders_dialog_no_hist":    {"履歴はありません。", "No history."},
		"orders_dialog_new":        {"新規", "New"},
		"orders_dialog_light":      {"light 版では決済の操作はできません。売上計上・取消・変更は e-SCOTT 管理画面で行ってください。", "The light plan has no payment operations here: capture, cancel and change in the e-SCOTT merchant console."},
		"orders_dialog_readonly":   {"閲覧のみの権限のため、操作ボタンは表示されません。", "Read-only users see no operation buttons."},
		"orders_dialog_60days":     {"決済の操作（売上計上・取消・利用額変更・再オーソリ・変更）は、取引日から約60日以内に限り可能です。期限を過ぎると決済代行会社が受け付けず「期限切れ」と表示されます。", "Payment operations are possible only within about 60 days of the transaction date; after that the gateway refuses them and the payment shows as expired."},
		"orders_dialog_deadline":   {"操作期限の目安", "Operations possible until about"},
		"orders_detail_k12":        {"K12 : 取り扱いできる期限を過ぎています。", "K12 : the handling period has passed."},
		"orders_detail_ref_failed": {"取引参照に失敗したため、現在の状態を確認できません。", "The reference failed, so the current state could not be confirmed."},
		"orders_new_card":          {"クレジットカード（登録済みカードで決済）", "Credit card (saved card)"},
		"orders_new_no_member":     {"カード会員情報未登録", "The customer has no saved card"},
		"orders_new_cvs":           {"オンライン収納代行（登録）", "Online collection (register)"},
		"orders_new_none":          {"この注文に使える決済方法がありません（カード会員情報未登録、オンライン収納代行は利用できません）。", "No payment method can be used for this order (no saved card, online collection not available)."},
		"orders_new_paid":          {"この注文はすでに支払い済み、またはキャンセル済みのため、新規の決済はできません。", "This order is paid or cancelled: no new payment can be made."},

		// buttons and confirmations (ADMIN-05 … ADMIN-15)
		"orders_btn_reauth":       {"再オーソリ", "Re-authorise"},
		"orders_btn_capture":      {"売上計上", "Capture"},
		"orders_btn_cancel":       {"取消", "Cancel"},
		"orders_btn_change":       {"利用額変更", "Change amount"},
		"orders_btn_cvs_change":   {"変更", "Change"},
		"orders_btn_auth":         {"与信", "Authorise"},
		"orders_btn_gathering":    {"与信売上計上", "Authorise and capture"},
		"orders_btn_register":     {"登録", "Register"},
		"orders_confirm_reauth":   {"再オーソリ処理を実行します。よろしいですか？", "Run a re-authorisation?"},
		"orders_confirm_capture":  {"売上計上処理を実行します。よろしいですか？", "Run the capture?"},
		"orders_confirm_cancel":   {"取消処理を実行します。よろしいですか？", "Run the cancellation?"},
		"orders_confirm_change":   {"利用金額の変更処理を実行します。よろしいですか？", "Change the amount?"},
		"orders_confirm_cvs_chg":  {"支払期限・支払額の変更処理を実行します。よろしいですか？", "Change the due date and amount?"},
		"orders_confirm_auth":     {"与信処理を実行します。よろしいですか？", "Run an authorisation?"},
		"orders_confirm_gather":   {"与信売上計上処理を実行します。よろしいですか？", "Run an authorisation with capture?"},
		"orders_confirm_register": {"登録処理を実行します。よろしいですか？", "Run the registration?"},

		// unknown outcome (design gap #25)
		"orders_resolve_title": {"結果不明の決済", "Payment of unknown outcome"},
		"orders_resolve_help": {"決済代行会社の応答が失われたため、この決済の結果は確定していません（二重決済を防ぐため再送はしていません）。e-SCOTT 管理画面で下記の決済コード（MerchantFree1）の取引を検索し、取引があればその ProcessId と ProcessPass を入力して「取引ありで確定」を、取引がなければ「失敗として確定」を押してください。",
			"The gateway's answer was lost, so this payment's outcome is not known (it was not sent again, to avoid a double charge). Search the e-SCOTT console for the transaction code (MerchantFree1) below: if the transaction exists, enter its ProcessId and ProcessPass and confirm it; if not, mark the payment failed."},
		"orders_resolve_code":     {"決済コード（MerchantFree1）", "Transaction code (MerchantFree1)"},
		"orders_resolve_pid":      {"ProcessId", "ProcessId"},
		"orders_resolve_pass":     {"ProcessPass", "ProcessPass"},
		"orders_resolve_free":     {"支払番号（FreeArea、分かる場合）", "Payment code (FreeArea, if known)"},
		"orders_resolve_ok":       {"取引ありで確定", "Confirm the transaction"},
		"orders_resolve_failed":   {"失敗として確定", "Mark failed"},
		"orders_resolve_confirm":  {"入力した取引でこの決済を確定します。よろしいですか？", "Confirm this payment with the transaction entered?"},
		"orders_resolve_fconfirm": {"この決済を失敗として確定します。よろしいですか？", "Mark this payment as failed?"},
		"orders_resolve_readonly": {"結果の確定は管理者が行います。", "An admin resolves the outcome."},
	})
}

// ---- page data ----

type orderBody struct {
	Order    *kessai.Order
	Status   string
	Metadata []ordersOption
	Light    bool
	Box      *orderBox
	Previous []orderPrev
	// Resolve is the resolution form of an unknown payment, shown on the
	// page when the dialog does not show it.
	Resolve *orderResolve
	// DialogURL is the 決済情報 button's target ("" when not offered).
	DialogURL string
	Dialog    *orderDialog
}

// ResolveForm is the resolution form shown: the dialog's when it has one,
// else the page's.
func (b *orderBody) ResolveForm() *orderResolve {
	if b.Dialog != nil && b.Dialog.Resolve != nil {
		return b.Dialog.Resolve
	}
	return b.Resolve
}

// orderBox is the side box 「ソニーペイメント」 (ADMIN-02).
type orderBox struct {
	PaymentID    string
	MethodTitle  string
	Badge        *ordersBadge
	At           time.Time
	Code         string
	SecureResult string
	Consent      bool
	PayType      string
	Amount       int64
	DueAt        time.Time
}

type orderPrev struct {
	ID        string
	Method    string
	Badge     *ordersBadge
	Amount    int64
	Code      string
	Codes     []string
	CreatedAt time.Time
}

type orderResolve struct {
	Action     string
	Collection bool
	Code       string
	// View is where the form was shown (dialog or page): the answer goes
	// back there.
	View      string
	ProcessID string
	FreeArea  string
}

// orderDialog is the 決済情報 dialog (ADMIN-03 … ADMIN-16).
type orderDialog struct {
	Title    string
	CloseURL string
	Notice   string
	Errors   []string

	PaymentID string
	Card      bool
	Badge     *ordersBadge
	// K12 is set when the card's handling period has passed (ADMIN-16).
	K12 bool
	// RefFailed: the live reference failed; RefCodes are its codes and
	// RefMessage its text when it had none (ADMIN-04: 「エラー」).
	RefFailed  bool
	RefCodes   []string
	RefMessage string
	// GatewayCodes are codes the reference answered with although the
	// view could be shown (a collection's K12 for one kessai did not
	// cancel).
	GatewayCodes []string

	Amount    string
	SalesDate string
	Ops       []orderOp

	// collection
	DueAt      time.Time
	PayLimit   string
	Unpaid     bool
	Cancelled  bool
	Paid       *orderPaid
	PaymentURL string
	CvsAmount  int64

	History  []orderHistRow
	Deadline time.Time
	Resolve  *orderResolve
	New      *orderNew
	Light    bool
}

type orderOp struct {
	ID, Action, Label, Confirm string
	Danger                     bool
}

type orderPaid struct {
	RecvNum string
	PaidAt  time.Time
	Store   string
	Amount  int64
}

type orderHistRow struct {
	N             int
	At            time.Time
	TransactionID string
	Op            string
	Result        string
	Codes         []string
	NG            bool
	Amount        int64
}

// orderNew is the dialog of an order without a payment: a new charge on
// the saved card (ADMIN-09) and/or a registration (ADMIN-15).
type orderNew struct {
	Card       bool
	NoMember   bool
	CardAmount string
	Collection bool
	CvsAmount  string
	PayLimit   string
	None       bool
	Closed     bool
}

// dialogReq asks showOrder for the dialog.
type dialogReq struct {
	// PaymentID is the payment shown; "" for the order's current one, or
	// the new-payment dialog when it has none.
	PaymentID string
	// Live runs the gateway reference (on opening, ADMIN-04/12); a
	// re-render after a refused form shows the stored state instead.
	Live bool
	// Inputs are the operator's entries, kept on a re-render.
	Inputs url.Values
}

// orderPaymentURL is the dialog's address for a payment.
func orderPaymentURL(orderID, paymentID string) string {
	u := BasePath + "/orders/" + url.PathEscape(orderID) + "/payment"
	if paymentID != "" {
		u += "?payment=" + url.QueryEscape(paymentID)
	}
	return u
}

func orderURL(orderID string) string { return BasePath + "/orders/" + url.PathEscape(orderID) }

// ---- handlers ----

func (h *Handler) orderPage(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "orders", "orders_detail_title")
	h.showOrder(w, r, rq, p, http.StatusOK, r.PathValue("id"), nil)
}

func (h *Handler) orderDialog(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "orders", "orders_detail_title")
	h.showOrder(w, r, rq, p, http.StatusOK, r.PathValue("id"), &dialogReq{PaymentID: r.URL.Query().Get("payment"), Live: true})
}

// paymentView is a payment as either method's operator view shows it.
type paymentView struct {
	pay  *kessai.Payment
	card *cardpay.View
	cvs  *cvspay.View
}

func (v *paymentView) history() []kessai.HistoryEntry {
	if v.card != nil {
		return v.card.History
	}
	return v.cvs.History
}

func (v *paymentView) operations() []escott.OperateID {
	if v.card != nil {
		return v.card.Operations
	}
	return v.cvs.Operations
}

// getView reads a payment's operator view without calling the gateway.
func (h *Handler) getView(ctx context.Context, shopID string, pay *kessai.Payment) (*paymentView, error) {
	if pay.Method == kessai.MethodCard {
		v, err := h.cards.Get(ctx, shopID, pay.ID)
		if err != nil {
			return nil, err
		}
		return &paymentView{pay: v.Payment, card: v}, nil
	}
	v, err := h.cvs.Get(ctx, shopID, pay.ID)
	if err != nil {
		return nil, err
	}
	return &paymentView{pay: v.Payment, cvs: v}, nil
}

// referable reports whether the gateway can be asked about a payment: it
// has a transaction (not new, failed or unknown) and the plan is pro
// (the light plan has no dialog operations, the reference included).
func referable(pay *kessai.Payment, plan kessai.Plan) bool {
	if plan != kessai.PlanPro {
		return false
	}
	switch pay.State {
	case kessai.PaymentNew, kessai.PaymentFailed, kessai.PaymentUnknown:
		return false
	}
	return true
}

// liveView runs the reference (ADMIN-04 card, ADMIN-12 collection). A
// refusal is not an error of the page: the dialog then shows 「エラー」
// with the codes (refErr), over the stored state.
func (h *Handler) liveView(ctx context.Context, shopID string, pay *kessai.Payment) (v *paymentView, refErr error, err error) {
	if pay.Method == kessai.MethodCard {
		cv, rerr := h.cards.Reference(ctx, shopID, pay.ID)
		if rerr == nil {
			return &paymentView{pay: cv.Payment, card: cv}, nil, nil
		}
		refErr = rerr
	} else {
		cv, rerr := h.cvs.Reference(ctx, shopID, pay.ID)
		if rerr == nil {
			return &paymentView{pay: cv.Payment, cvs: cv}, nil, nil
		}
		refErr = rerr
	}
	if kindOf(refErr) == kessai.KindInternal {
		return nil, nil, refErr
	}
	v, err = h.getView(ctx, shopID, pay)
	return v, refErr, err
}

// showOrder renders the order page, with the dialog when dlg is set.
func (h *Handler) showOrder(w http.ResponseWriter, r *http.Request, rq *request, p *page, status int, orderID string, dlg *dialogReq) {
	ctx := r.Context()
	o, err := h.svc.GetOrder(ctx, rq.ShopID, orderID)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	set, _, err := h.svc.GetSettings(ctx, rq.ShopID)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	pays, err := h.svc.ListPayments(ctx, rq.ShopID, o.ID)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	pro := set.Plan == kessai.PlanPro
	body := &orderBody{Order: o, Status: orderStatusLabel(o.Status, rq.Lang), Light: !pro}
	keys := make([]string, 0, len(o.Metadata))
	for k := range o.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		body.Metadata = append(body.Metadata, ordersOption{Value: o.Metadata[k], Label: k})
	}

	// The current payment is the newest one that did not fail; failed
	// attempts are listed below it (ADMIN-02 shows the current state).
	var cur *kessai.Payment
	for i := len(pays) - 1; i >= 0; i-- {
		if pays[i].State != kessai.PaymentFailed {
			cur = &pays[i]
			break
		}
	}
	now := h.now()
	for i := len(pays) - 1; i >= 0; i-- {
		pp := &pays[i]
		if cur != nil && pp.ID == cur.ID {
			continue
		}
		body.Previous = append(body.Previous, orderPrev{ID: pp.ID, Method: ordersMethodTitle(&set, pp.Method, rq.Lang),
			Badge: ordersListBadge(pp, kessai.PlanPro, now, rq.Lang), Amount: pp.Amount, Code: pp.TransactionCode,
			Codes: pp.FailureCodes, CreatedAt: pp.CreatedAt})
	}

	var curView *paymentView
	if cur != nil {
		if curView, err = h.getView(ctx, rq.ShopID, cur); err != nil {
			h.fail(w, r, rq, err)
			return
		}
		body.Box = h.orderBox(&set, curView, rq.Lang)
		if cur.State == kessai.PaymentUnknown {
			body.Resolve = orderResolveForm(cur, "page")
		}
	}
	if pro {
		body.DialogURL = orderPaymentURL(o.ID, "")
		if cur != nil {
			body.DialogURL = orderPaymentURL(o.ID, cur.ID)
		}
	}

	if dlg != nil {
		d, err := h.orderDialogData(r, rq, p, &set, o, pays, cur, curView, dlg)
		if err != nil {
			h.fail(w, r, rq, err)
			return
		}
		body.Dialog = d
		if d.Resolve != nil {
			body.Resolve = nil // one form, in the dialog
		}
		// The dialog shows the notice and errors itself: behind a
		// modal they would be out of sight.
		d.Notice, d.Errors = p.Notice, p.Errors
		p.Notice, p.Errors = "", nil
		p.Scripts = append(p.Scripts, assetURL("orders.js"))
	}
	p.Body = body
	h.render(w, r, status, "order", p)
}

// orderBadge is the badge of a payment's derived state (ADMIN-02/04/12,
// ADMIN-20). Card badges are hidden on the light plan (ADMIN-18).
func orderBadge(v *paymentView, plan kessai.Plan, lang string) *ordersBadge {
	pay := v.pay
	switch pay.State {
	case kessai.PaymentUnknown:
		return &ordersBadge{Label: text(lang, "orders_badge_unknown"), Colour: "orange"}
	case kessai.PaymentNew:
		return &ordersBadge{Label: text(lang, "orders_badge_new"), Colour: "grey"}
	}
	if v.card != nil {
		if plan != kessai.PlanPro {
			return nil
		}
		if pay.State == kessai.PaymentFailed {
			return &ordersBadge{Label: text(lang, "orders_badge_failed"), Colour: "red"}
		}
		st := v.card.State
		label := st.LabelJa
		if lang == langEn {
			label = st.LabelEn
		}
		return &ordersBadge{Label: label, Colour: stateColour(st.Kind)}
	}
	st := v.cvs.State
	label := st.LabelJa
	if lang == langEn {
		label = st.LabelEn
	}
	colour := stateColour(st.Kind)
	if st.Kind == kessai.PaymentPending {
		colour = "red" // 未入金 is red (ADMIN-01)
	}
	return &ordersBadge{Label: label, Colour: colour}
}

func stateColour(k kessai.PaymentState) string {
	switch k {
	case kessai.PaymentAuthorized:
		return "green"
	case kessai.PaymentCaptured, kessai.PaymentPaid:
		return "blue"
	case kessai.PaymentExpired, kessai.PaymentFailed, kessai.PaymentPending:
		return "red"
	case kessai.PaymentUnknown:
		return "orange"
	}
	return "grey"
}

// stateEntryAt is the time of the record that decides the state (決済日時,
// ADMIN-02): the state entry, else the newest record, else the
// payment's creation.
func stateEntryAt(v *paymentView) time.Time {
	hist := v.history()
	var entry *kessai.HistoryEntry
	if v.card != nil {
		entry = card.DeriveState(hist).Entry
	} else {
		entry = card.DeriveCollectionState(hist).Entry
	}
	switch {
	case entry != nil:
		return entry.At
	case len(hist) > 0:
		return hist[len(hist)-1].At
	}
	return v.pay.CreatedAt
}

// orderBox builds the side box (ADMIN-02).
func (h *Handler) orderBox(set *kessai.Settings, v *paymentView, lang string) *orderBox {
	pay := v.pay
	b := &orderBox{PaymentID: pay.ID, MethodTitle: ordersMethodTitle(set, pay.Method, lang), Badge: orderBadge(v, set.Plan, lang),
		At: stateEntryAt(v), Code: pay.TransactionCode, Amount: pay.Amount}
	if v.card != nil {
		b.SecureResult = pay.SecureResultCode
		b.Consent = pay.Consent
		if pay.PayType != "" && pay.PayType != escott.PayLump {
			b.PayType = pay.PayType.Label()
			if lang == langEn {
				b.PayType = pay.PayType.LabelEn()
			}
		}
		if v.card.State.Amount > 0 {
			b.Amount = v.card.State.Amount
		}
	} else {
		if k := v.cvs.State.Kind; k == kessai.PaymentPending || k == kessai.PaymentExpired {
			b.DueAt = v.cvs.State.DueAt
		}
		if v.cvs.State.Amount > 0 {
			b.Amount = v.cvs.State.Amount
		}
	}
	return b
}

func orderResolveForm(pay *kessai.Payment, view string) *orderResolve {
	return &orderResolve{Action: BasePath + "/payments/" + url.PathEscape(pay.ID) + "/resolve",
		Collection: pay.Method == kessai.MethodCollection, Code: pay.TransactionCode, View: view}
}

// orderDialogData builds the dialog.
func (h *Handler) orderDialogData(r *http.Request, rq *request, p *page, set *kessai.Settings, o *kessai.Order,
	pays []kessai.Payment, cur *kessai.Payment, curView *paymentView, dlg *dialogReq) (*orderDialog, error) {
	ctx := r.Context()
	lang := rq.Lang
	pro := set.Plan == kessai.PlanPro
	d := &orderDialog{CloseURL: orderURL(o.ID), Light: !pro}
	in := dlg.Inputs
	if in == nil {
		in = url.Values{}
	}

	pid := dlg.PaymentID
	if pid == "" && cur != nil {
		pid = cur.ID
	}
	if pid == "" {
		d.Title = text(lang, "orders_dialog_new")
		d.New = h.orderNewData(ctx, rq, set, o, in)
		return d, nil
	}
	var pay *kessai.Payment
	for i := range pays {
		if pays[i].ID == pid {
			pay = &pays[i]
		}
	}
	if pay == nil {
		return nil, kessai.Errorf(kessai.KindNotFound, "payment_not_found", "決済が見つかりません。", "Payment not found.")
	}
	d.PaymentID, d.Card = pay.ID, pay.Method == kessai.MethodCard
	d.Title = ordersMethodTitle(set, pay.Method, lang)

	var v *paymentView
	var refErr, err error
	switch {
	case dlg.Live && referable(pay, set.Plan):
		v, refErr, err = h.liveView(ctx, rq.ShopID, pay)
	case curView != nil && curView.pay.ID == pay.ID:
		v = curView
	default:
		v, err = h.getView(ctx, rq.ShopID, pay)
	}
	if err != nil {
		return nil, err
	}
	pay = v.pay
	d.Badge = orderBadge(v, set.Plan, lang)
	if refErr != nil {
		d.RefFailed = true
		var cf *cardpay.Failure
		var vf *cvspay.Failure
		switch {
		case errors.As(refErr, &cf) && len(cf.Codes) > 0:
			d.RefCodes = cf.Codes
		case errors.As(refErr, &vf) && len(vf.Codes) > 0:
			d.RefCodes = vf.Codes
		default:
			d.RefMessage = kessai.AsError(refErr).Message(lang)
		}
	}

	// History, newest first, numbered down to 1 (ADMIN-10).
	hist := v.history()
	for i := len(hist) - 1; i >= 0; i-- {
		e := hist[i]
		row := orderHistRow{N: i + 1, At: e.At, TransactionID: e.TransactionID, Op: opName(e.Operation, lang), Amount: e.Amount}
		if e.ResponseCd == escott.CodeOK || e.ResponseCd == "" {
			row.Result = escott.CodeOK
		} else {
			row.NG, row.Result, row.Codes = true, e.ResponseCd, escott.SplitCodes(e.ResponseCd)
		}
		d.History = append(d.History, row)
	}

	if pay.State == kessai.PaymentUnknown {
		d.Resolve = orderResolveForm(pay, "dialog")
		d.Resolve.ProcessID, d.Resolve.FreeArea = in.Get("process_id"), in.Get("free_area")
		return d, nil
	}

	// Buttons: exactly the operations the payment package allows now;
	// none on the light plan (empty there), for read-only users, or
	// when the reference could not confirm the state.
	var ops []escott.OperateID
	if pro && !d.RefFailed && p.CanWrite() {
		ops = v.operations()
	}
	base := BasePath + "/payments/" + url.PathEscape(pay.ID)
	if v.card != nil {
		st := v.card.State
		d.K12 = st.Expired
		amount := st.Amount
		if v.card.Gateway != nil {
			if v.card.Gateway.Amount > 0 {
				amount = v.card.Gateway.Amount
			}
			d.SalesDate = ymd(v.card.Gateway.SalesDate)
		}
		if amount == 0 {
			amount = pay.Amount
		}
		d.Amount = inputOr(in, "amount", amount)
		for _, op := range ops {
			d.Ops = append(d.Ops, cardButton(op, base, lang))
		}
		if opened := card.DeriveState(hist).Opened(); !opened.IsZero() && st.Kind != kessai.PaymentExpired {
			d.Deadline = opened.AddDate(0, 0, card.HandlingDays)
		}
		return d, nil
	}

	cv := v.cvs
	st := cv.State
	d.DueAt, d.CvsAmount = st.DueAt, st.Amount
	d.Unpaid = st.Kind == kessai.PaymentPending || st.Kind == kessai.PaymentExpired
	d.Cancelled = st.Kind == kessai.PaymentCancelled
	if cv.Gateway != nil && !d.Cancelled && len(cv.Gateway.Codes) > 0 {
		d.GatewayCodes = cv.Gateway.Codes
	}
	if st.Kind == kessai.PaymentPaid {
		d.Paid = paidDetails(cv, pay)
	}
	if cv.Collection != nil {
		d.PaymentURL = cv.Collection.PaymentURL
	}
	if d.Unpaid {
		pl := ""
		if len(pay.PayLimit) >= 8 {
			pl = pay.PayLimit[:8]
		}
		d.PayLimit = in.Get("pay_limit")
		if _, ok := in["pay_limit"]; !ok {
			d.PayLimit = pl
		}
		d.Amount = inputOr(in, "amount", st.Amount)
	}
	for _, op := range ops {
		d.Ops = append(d.Ops, cvsButton(op, base, lang))
	}
	if opened := card.DeriveCollectionState(hist).Opened(); !opened.IsZero() && d.Unpaid {
		d.Deadline = opened.AddDate(0, 0, card.HandlingDays)
	}
	return d, nil
}

// paidDetails is what the dialog shows of a paid collection (ADMIN-12):
// the reference's figures when it was made, else the recorded ones.
func paidDetails(cv *cvspay.View, pay *kessai.Payment) *orderPaid {
	pd := &orderPaid{PaidAt: pay.PaidAt, Amount: cv.State.Amount}
	cvs := pay.CvsCd
	for i := len(cv.History) - 1; i >= 0; i-- {
		if h := cv.History[i]; h.Operation == card.OpPaid && h.ResponseCd == escott.CodeOK {
			pd.RecvNum = h.Fields["RecvNum"]
			if cvs == "" {
				cvs = h.Fields["CvsCd"]
			}
			break
		}
	}
	if g := cv.Gateway; g != nil && g.Paid {
		if g.RecvNum != "" {
			pd.RecvNum = g.RecvNum
		}
		if !g.PaidAt.IsZero() {
			pd.PaidAt = g.PaidAt
		}
		if g.CvsCd != "" {
			cvs = g.CvsCd
		}
		if g.Amount > 0 {
			pd.Amount = g.Amount
		}
	}
	if cvs != "" {
		pd.Store = escott.CvsName(cvs)
	}
	return pd
}

// orderNewData is the dialog of an order without a payment: a new charge
// when the customer has a saved card (ADMIN-09), a registration when the
// collection method is available (ADMIN-15).
func (h *Handler) orderNewData(ctx context.Context, rq *request, set *kessai.Settings, o *kessai.Order, in url.Values) *orderNew {
	n := &orderNew{}
	if set.Plan != kessai.PlanPro {
		return n
	}
	switch o.Status {
	case kessai.OrderProcessing, kessai.OrderCompleted, kessai.OrderCancelled:
		n.Closed = true
		return n
	}
	if o.CustomerID != "" {
		if _, err := h.svc.Store().GetMember(ctx, rq.ShopID, o.CustomerID); err == nil {
			n.Card = true
		}
	}
	n.NoMember = !n.Card
	if n.Card {
		n.CardAmount = inputOr(in, "amount", o.Amount)
	}
	if ok, _ := set.CollectionAvailable(); ok {
		n.Collection = true
		n.CvsAmount = inputOr(in, "amount", o.Amount)
		if pl, err := collection.PayLimitForDueDays(h.now(), set.Collection.DueDays); err == nil && len(pl) >= 8 {
			n.PayLimit = pl[:8]
		}
		if v, ok := in["pay_limit"]; ok && len(v) > 0 {
			n.PayLimit = v[0]
		}
	}
	n.None = !n.Card && !n.Collection
	return n
}

func inputOr(in url.Values, key string, def int64) string {
	if v, ok := in[key]; ok && len(v) > 0 {
		return v[0]
	}
	return itoa(def)
}

func itoa(n int64) string {
	return strings.ReplaceAll(comma(n), ",", "")
}

// ymd shows a gateway date YYYYMMDD as YYYY-MM-DD.
func ymd(s string) string {
	if len(s) == 8 {
		return s[:4] + "-" + s[4:6] + "-" + s[6:]
	}
	return s
}

func cardButton(op escott.OperateID, base, lang string) orderOp {
	switch op {
	case escott.OpReAuth:
		return orderOp{ID: "reauthorize-button", Action: base + "/reauthorize", Label: text(lang, "orders_btn_reauth"), Confirm: text(lang, "orders_confirm_reauth")}
	case escott.OpCapture:
		return orderOp{ID: "capture-button", Action: base + "/capture", Label: text(lang, "orders_btn_capture"), Confirm: text(lang, "orders_confirm_capture")}
	case escott.OpDelete:
		return orderOp{ID: "cancel-button", Action: base + "/cancel", Label: text(lang, "orders_btn_cancel"), Confirm: text(lang, "orders_confirm_cancel"), Danger: true}
	case escott.OpChange:
		return orderOp{ID: "change-amount-button", Action: base + "/change_amount", Label: text(lang, "orders_btn_change"), Confirm: text(lang, "orders_confirm_change")}
	}
	return orderOp{ID: "op-" + string(op), Action: base, Label: opName(op, lang)}
}

func cvsButton(op escott.OperateID, base, lang string) orderOp {
	switch op {
	case escott.OpCvsDel:
		return orderOp{ID: "collection-cancel-button", Action: base + "/collection_cancel", Label: text(lang, "orders_btn_cancel"), Confirm: text(lang, "orders_confirm_cancel"), Danger: true}
	case escott.OpCvsChg:
		return orderOp{ID: "change-due-button", Action: base + "/change_due", Label: text(lang, "orders_btn_cvs_change"), Confirm: text(lang, "orders_confirm_cvs_chg")}
	}
	return orderOp{ID: "op-" + string(op), Action: base, Label: opName(op, lang)}
}

// opName names an operation in the history table (処理区分): the
// Japanese labels of escott, including kessai's pseudo operations paid
// and expired.
func opName(op escott.OperateID, lang string) string {
	if lang != langEn {
		return op.Label()
	}
	if n, ok := opNamesEn[op]; ok {
		return n
	}
	return string(op)
}

var opNamesEn = map[escott.OperateID]string{
	escott.OpAuth: "Authorisation", escott.OpGathering: "Authorisation and capture", escott.OpCapture: "Capture",
	escott.OpChange: "Amount change", escott.OpDelete: "Cancellation", escott.OpReAuth: "Re-authorisation",
	escott.OpSearch: "Reference", escott.OpCvsAdd: "Registration", escott.OpCvsChg: "Change", escott.OpCvsDel: "Deletion",
	escott.OpCvsRef: "Reference", card.OpPaid: "Paid", card.OpExpired: "Expired",
}
