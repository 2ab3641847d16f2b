package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/service"
)

// The card members screen (ADMIN-19, MEMBER-07/08, design A-01): the
// shop's saved cards, one customer's card as the gateway reports it, the
// deletion rules as warnings before the operator tries, and the deletion
// itself with its outcome shown (the plugin only logged failures).
//
// kessai keeps only the member ids; the card (last 4 digits, expiry,
// brand) is looked up live at the gateway (4MemRefM) on each visit of a
// customer's page. KaiinId and KaiinPass never reach a template: the
// pages get view structs without them.

func (h *Handler) customerRoutes() []route {
	return []route{
		{"GET", "/customers", viewer, h.customersPage},
		{"GET", "/customers/{id}", viewer, h.customersDetailPage},
		{"POST", "/customers/{id}/delete", writer, h.customersDelete},
	}
}

// customersPageSize is the number of members a list page shows.
const customersPageSize = 50

// customersOrdersShown is how many of a customer's newest orders the
// customer's page lists.
const customersOrdersShown = 20

func init() {
	register(map[string][2]string{
		"customers_title":        {"カード会員", "Card members"},
		"customers_intro":        {"カード情報を登録（カード会員登録）した顧客の一覧です。カード番号は決済代行会社（ソニーペイメントサービス）が保管し、kessai には保存されません。", "Customers who saved a card (card members). The card itself is kept by the gateway (Sony Payment Services), never by kessai."},
		"customers_lookup":       {"顧客IDで検索", "Find by customer id"},
		"customers_lookup_label": {"顧客ID", "Customer id"},
		"customers_customer_id":  {"顧客ID", "Customer id"},
		"customers_registered":   {"登録日時", "Registered"},
		"customers_updated":      {"更新日時", "Updated"},
		"customers_none":         {"カード会員はいません。", "No card members yet."},
		"customers_pager":        {"ページ送り", "Pages"},
		"customers_first_page":   {"最初のページ", "First page"},
		"customers_show":         {"詳細", "Details"},
		"customers_invalid_id": {"顧客IDは 64 文字以内の半角英数字・_・- で入力してください。",
			"A customer id is at most 64 characters of A-Z, a-z, 0-9, _ and -."},
		"customers_invalid_cursor": {"ページの指定が正しくないため、最初のページを表示しています。", "The page asked for is not valid: showing the first page."},
		"customers_members_off": {"クレジットカード設定で「カード会員」が無効になっているため、新しいカードは登録されません。登録済みのカード会員情報は引き続き表示・削除できます。",
			"Saved cards (card members) are switched off in the card settings: no new cards are saved. Existing card members can still be viewed and deleted."},

		"customers_detail_title":          {"カード会員", "Card member"},
		"customers_section":               {"ソニーペイメントカード会員", "Sony Payment card member"},
		"customers_no_member":             {"この顧客のカード会員情報は登録されていません。", "This customer has no saved card."},
		"customers_last4":                 {"登録済みカード番号下4桁", "Last 4 digits of the saved card"},
		"customers_card_number":           {"カード番号（マスク）", "Card number (masked)"},
		"customers_expiry":                {"有効期限", "Expiry"},
		"customers_brand":                 {"カードブランド", "Card brand"},
		"customers_card_status":           {"会員の状態", "Member status"},
		"customers_valid":                 {"有効", "valid"},
		"customers_invalidated":           {"無効（ゲートウェイで無効化されています）", "invalidated at the gateway"},
		"customers_brand_visa_master_jcb": {"VISA・Mastercard・JCB", "Visa, Mastercard or JCB"},
		"customers_brand_amex":            {"American Express", "American Express"},
		"customers_brand_diners":          {"Diners Club", "Diners Club"},
		"customers_brand_other":           {"その他", "other"},
		"customers_lookup_failed": {"ゲートウェイでカード会員情報を照会できませんでした（会員参照 4MemRefM）。",
			"The card could not be looked up at the gateway (member reference, 4MemRefM)."},
		"customers_lookup_not_found": {"kessai には会員IDが保存されていますが、ゲートウェイがこの会員を見つけられません。テストモードで登録した会員は2か月で無効になり（K71）、テスト環境の会員は本番環境では使えません。下のボタンで削除し、購入者にカードを登録し直してもらってください。",
			"kessai holds member ids for this customer, but the gateway does not find the member. Members registered in test mode expire after two months (K71), and test members do not work in production. Delete it with the button below and ask the shopper to register the card again."},
		"customers_lookup_unavailable": {"ゲートウェイから応答がありませんでした。時間をおいて再読み込みしてください。続く場合はネットワークと e-SCOTT 管理画面の IP アドレス制限を確認してください。",
			"The gateway gave no answer. Reload later; if it persists, check the network and the IP restriction in the e-SCOTT console."},
		"customers_gateway_codes": {"ゲートウェイのコード", "Gateway codes"},

		"customers_delete_title":   {"カード会員情報を削除", "Delete the saved card"},
		"customers_delete_confirm": {"ソニーペイメントに登録したカード会員情報を削除します。", "Delete the card member registered with Sony Payment."},
		"customers_delete_note":    {"売上計上されていないときと、定期購入商品の継続中は、削除しないでください。", "Do not delete while a payment is not captured yet or a subscription is ongoing."},
		"customers_delete_rules": {"kessai は、この顧客に 90 日以内の与信中（売上計上前）のカード決済、処理中の決済、未完了の注文、継続中の定期購入があるときは削除しません（設計 A-01）。",
			"kessai refuses the deletion while the customer has a card payment authorised but not captured in the last 90 days, a payment in progress, an unfinished order or an active subscription (design A-01)."},
		"customers_delete_button":    {"カード会員情報を削除", "Delete saved card"},
		"customers_delete_ask":       {"カード会員情報を削除してもよろしいですか？", "Delete this saved card?"},
		"customers_delete_unchecked": {"削除する場合は「ソニーペイメントに登録したカード会員情報を削除します。」にチェックを入れてください。", "Tick the box to confirm the deletion."},
		"customers_delete_refused":   {"現在、このカード会員情報は削除できません。", "This saved card cannot be deleted now."},
		"customers_delete_warning":   {"削除できない理由", "Why it cannot be deleted"},
		"customers_delete_readonly":  {"削除は管理者のみが行えます。", "Only admins can delete saved cards."},
		"customers_delete_failed": {"カード会員情報の削除に失敗しました。ゲートウェイが削除を受け付けませんでした。時間をおいて再度お試しいただき、続く場合は e-SCOTT 管理画面で会員の状態を確認してください。",
			"The saved card could not be deleted: the gateway refused. Try again later; if it persists, check the member in the e-SCOTT console."},
		"done_customers_deleted": {"カード会員情報を削除しました。", "The saved card was deleted."},

		"customers_orders":            {"この顧客の最近の注文", "This customer's recent orders"},
		"customers_orders_none":       {"注文はありません。", "No orders."},
		"customers_orders_all":        {"この顧客の注文をすべて見る", "All orders of this customer"},
		"customers_order":             {"注文番号", "Order"},
		"customers_order_date":        {"注文日時", "Date"},
		"customers_order_amount":      {"金額", "Amount"},
		"customers_order_status":      {"注文ステータス", "Order status"},
		"customers_order_payment":     {"決済", "Payment"},
		"customers_method_card":       {"クレジットカード", "Card"},
		"customers_method_collection": {"オンライン収納代行", "Collection"},
		"customers_status_pending":    {"支払い待ち", "pending payment"},
		"customers_status_on-hold":    {"保留中", "on hold"},
		"customers_status_processing": {"処理中", "processing"},
		"customers_status_completed":  {"完了", "completed"},
		"customers_status_failed":     {"失敗", "failed"},
		"customers_status_cancelled":  {"キャンセル済み", "cancelled"},
		"customers_state_new":         {"処理中", "in progress"},
		"customers_state_authorized":  {"与信", "authorised"},
		"customers_state_captured":    {"売上計上", "captured"},
		"customers_state_cancelled":   {"取消", "cancelled"},
		"customers_state_pending":     {"未入金", "unpaid"},
		"customers_state_paid":        {"入金済", "paid"},
		"customers_state_expired":     {"期限切れ", "expired"},
		"customers_state_failed":      {"失敗", "failed"},
		"customers_state_unknown":     {"結果不明", "unknown"},
	})
}

// customersRow is one member in the list: never the member ids.
type customersRow struct {
	CustomerID string
	Registered time.Time
	Updated    time.Time
}

type customersBody struct {
	Rows       []customersRow
	Next       string // URL of the next page, "" on the last
	Paged      bool   // not the first page
	Lookup     string
	MembersOff bool
}

// customersValidID is the service's rule for customer ids (order input):
// the only ids a member can have.
func customersValidID(id string) bool {
	if id == "" || len(id) > service.MaxCustomerIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// customersMembersOff reports whether the shop has card members switched off.
func (h *Handler) customersMembersOff(ctx context.Context, shopID string) bool {
	set, _, err := h.svc.GetSettings(ctx, shopID)
	return err == nil && !set.Card.Members
}

func (h *Handler) customersPage(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	p := h.newPage(r, rq, "customers", "customers_title")
	body := customersBody{MembersOff: h.customersMembersOff(r.Context(), rq.ShopID)}
	// The lookup box: a valid id goes to the customer's page, whether or
	// not the customer has a card (the page says so).
	if id, ok := q["customer_id"]; ok {
		body.Lookup = strings.TrimSpace(id[0])
		if customersValidID(body.Lookup) {
			http.Redirect(w, r, BasePath+"/customers/"+url.PathEscape(body.Lookup), http.StatusSeeOther)
			return
		}
		p.FieldErrors = map[string]string{"customer_id": text(rq.Lang, "customers_invalid_id")}
		p.Errors = append(p.Errors, text(rq.Lang, "customers_invalid_id"))
	}
	after := q.Get("after")
	if after != "" && !customersValidID(after) {
		p.Errors = append(p.Errors, text(rq.Lang, "customers_invalid_cursor"))
		after = ""
	}
	body.Paged = after != ""
	members, err := h.svc.Store().ListMembers(r.Context(), rq.ShopID, kessai.Page{Limit: customersPageSize + 1, After: after})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if len(members) > customersPageSize {
		members = members[:customersPageSize]
		body.Next = BasePath + "/customers?after=" + url.QueryEscape(members[len(members)-1].CustomerID)
	}
	for _, m := range members {
		body.Rows = append(body.Rows, customersRow{CustomerID: m.CustomerID, Registered: m.CreatedAt, Updated: m.UpdatedAt})
	}
	p.Body = body
	status := http.StatusOK
	if p.FieldErrors != nil {
		status = http.StatusBadRequest
	}
	h.render(w, r, status, "customers", p)
}

// customersCard is the saved card as the page shows it.
type customersCard struct {
	CardNumber string
	Last4      string
	Expiry     string
	Brand      string
	Valid      bool
	// Refusal is why deletion would be refused now, "" when it is
	// allowed.
	Refusal string
}

// customersOrder is one of the customer's orders with its latest payment.
type customersOrder struct {
	ID          string
	ShopOrderID string
	Created     time.Time
	Amount      int64
	Status      string
	Method      string
	State       string
	StateKey    string
}

type customersDetail struct {
	CustomerID string
	// Member is set when kessai holds member ids for the customer.
	Member     *customersRow
	Card       *customersCard
	LookupErr  string
	LookupCode []string // described gateway codes of a failed lookup
	MembersOff bool
	Orders     []customersOrder
	MoreOrders bool
}

func (h *Handler) customersDetailPage(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	if !customersValidID(id) {
		h.renderError(w, r, rq, http.StatusNotFound, "customers_invalid_id")
		return
	}
	p := h.newPage(r, rq, "customers", "customers_detail_title")
	h.customersShow(w, r, rq, p, id, http.StatusOK)
}

// customersShow renders a customer's page: the member, the card looked up
// at the gateway, the A-01 warnings and the recent orders.
func (h *Handler) customersShow(w http.ResponseWriter, r *http.Request, rq *request, p *page, id string, status int) {
	ctx := r.Context()
	p.Title = text(rq.Lang, "customers_detail_title") + "：" + id
	body := customersDetail{CustomerID: id, MembersOff: h.customersMembersOff(ctx, rq.ShopID)}
	m, err := h.svc.Store().GetMember(ctx, rq.ShopID, id)
	switch {
	case errors.Is(err, kessai.ErrNotFound):
	case err != nil:
		h.fail(w, r, rq, err)
		return
	default:
		body.Member = &customersRow{CustomerID: m.CustomerID, Registered: m.CreatedAt, Updated: m.UpdatedAt}
	}
	if body.Member != nil && h.cards == nil {
		// A console wired without card payments cannot look the card up.
		body.LookupErr = text(rq.Lang, "customers_lookup_failed")
	} else if body.Member != nil {
		card, err := h.cards.GetCard(ctx, rq.ShopID, id)
		if err != nil {
			if kindOf(err) == kessai.KindInternal {
				// The rest of the page is still useful: say the lookup
				// failed, keep the details in the server log.
				h.log.ErrorContext(ctx, "console: card lookup", "customer", id, "err", err)
			}
			body.LookupErr, body.LookupCode = h.customersLookupError(err, rq.Lang)
		} else {
			body.Card = &customersCard{CardNumber: card.CardNumber, Last4: card.Last4, Expiry: card.Expiry,
				Brand: text(rq.Lang, "customers_brand_"+card.Brand), Valid: card.Valid}
			if card.DeleteRefusal != nil {
				body.Card.Refusal = card.DeleteRefusal.Message(rq.Lang)
			}
		}
	}
	orders, err := h.svc.Store().ListOrders(ctx, rq.ShopID, kessai.OrderFilter{CustomerID: id},
		kessai.Page{Limit: customersOrdersShown + 1})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if len(orders) > customersOrdersShown {
		orders, body.MoreOrders = orders[:customersOrdersShown], true
	}
	if body.Orders, err = h.customersOrders(ctx, rq, orders); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	p.Body = body
	h.render(w, r, status, "customer", p)
}

// customersLookupError explains a failed card lookup: the message, and
// the gateway's codes described when the error carries them.
func (h *Handler) customersLookupError(err error, lang string) (msg string, codes []string) {
	if ge, ok := escott.AsError(err); ok {
		codes = customersDescribe(ge.Codes, lang)
	}
	switch kindOf(err) {
	case kessai.KindNotFound:
		return text(lang, "customers_lookup_not_found"), codes
	case kessai.KindUnavailable:
		return text(lang, "customers_lookup_failed") + " " + text(lang, "customers_lookup_unavailable"), codes
	case kessai.KindInternal:
		return text(lang, "customers_lookup_failed") + " " + text(lang, "error_internal"), codes
	}
	return text(lang, "customers_lookup_failed") + " " + kessai.AsError(err).Message(lang), codes
}

// customersDescribe renders each gateway code as 「コード : 説明」 (ERR-02).
func customersDescribe(codes []string, lang string) []string {
	var out []string
	for _, c := range codes {
		if d := escott.DescribeCodes([]string{c}, lang); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// customersOrders adds each order's latest payment, read in one query.
func (h *Handler) customersOrders(ctx context.Context, rq *request, orders []kessai.Order) ([]customersOrder, error) {
	if len(orders) == 0 {
		return nil, nil
	}
	idList := make([]string, len(orders))
	for i, o := range orders {
		idList[i] = o.ID
	}
	pays, err := h.svc.Store().ListPaymentsOfOrders(ctx, rq.ShopID, idList)
	if err != nil {
		return nil, err
	}
	latest := map[string]kessai.Payment{}
	for _, pay := range pays { // oldest first: the last one wins
		latest[pay.OrderID] = pay
	}
	out := make([]customersOrder, len(orders))
	for i, o := range orders {
		out[i] = customersOrder{ID: o.ID, ShopOrderID: o.ShopOrderID, Created: o.CreatedAt, Amount: o.Amount,
			Status: text(rq.Lang, "customers_status_"+string(o.Status))}
		if out[i].ShopOrderID == "" {
			out[i].ShopOrderID = o.ID
		}
		if pay, ok := latest[o.ID]; ok {
			out[i].Method = text(rq.Lang, "customers_method_"+string(pay.Method))
			out[i].State = text(rq.Lang, "customers_state_"+string(pay.State))
			out[i].StateKey = string(pay.State)
		}
	}
	return out, nil
}

// customersDelete deletes a customer's saved card (ADMIN-19 through
// cardpay.DeleteCard: the A-01 checks, then 4MemRefM, 4MemInval,
// 4MemDel). The operator sees the outcome: a notice on success, the
// reasons of a refusal, or the gateway's failure.
func (h *Handler) customersDelete(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	if !customersValidID(id) {
		h.renderError(w, r, rq, http.StatusNotFound, "customers_invalid_id")
		return
	}
	p := h.newPage(r, rq, "customers", "customers_detail_title")
	if r.PostFormValue("confirm") != "1" {
		p.FieldErrors = map[string]string{"confirm": text(rq.Lang, "customers_delete_unchecked")}
		p.Errors = append(p.Errors, text(rq.Lang, "customers_delete_unchecked"))
		h.customersShow(w, r, rq, p, id, http.StatusBadRequest)
		return
	}
	if h.cards == nil {
		h.fail(w, r, rq, errors.New("console: no card payer configured"))
		return
	}
	err := h.cards.DeleteCard(r.Context(), rq.ShopID, id)
	if err == nil {
		h.log.InfoContext(r.Context(), "console: saved card deleted", "user", rq.User.ID, "customer", id)
		redirect(w, r, BasePath+"/customers", "customers_deleted")
		return
	}
	var ke *kessai.Error
	if !errors.As(err, &ke) || ke.Kind == kessai.KindInternal {
		h.fail(w, r, rq, err)
		return
	}
	h.log.WarnContext(r.Context(), "console: saved card not deleted", "user", rq.User.ID, "customer", id, "code", ke.Code)
	status := ke.Kind.HTTPStatus()
	switch ke.Kind {
	case kessai.KindConflict:
		// the reason says which rule applies.
		p.Errors = append(p.Errors, text(rq.Lang, "customers_delete_refused"), ke.Message(rq.Lang))
	case kessai.KindDeclined:
		p.Errors = append(p.Errors, text(rq.Lang, "customers_delete_failed"))
		status = http.StatusBadGateway
	case kessai.KindUnavailable:
		p.Errors = append(p.Errors, ke.Message(rq.Lang), text(rq.Lang, "customers_lookup_unavailable"))
	default:
		p.Errors = append(p.Errors, ke.Message(rq.Lang))
	}
	if ge, ok := escott.AsError(err); ok {
		for _, d := range customersDescribe(ge.Codes, rq.Lang) {
			p.Errors = append(p.Errors, text(rq.Lang, "customers_gateway_codes")+"："+d)
		}
	}
	h.customersShow(w, r, rq, p, id, status)
}
