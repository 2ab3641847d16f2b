package console

// The orders screen (ADMIN-01 … ADMIN-18, ADMIN-20, CARD-15, CVS-10/11,
// design gap #25): the order list with its payment-status column, the
// order page with the 「ソニーペイメント」 side box, the 決済情報 dialog
// (rendered by the server as <dialog open>, so it works without
// JavaScript) and the form targets of the dialog's operations.
//
// The console decides nothing about payments itself: which operations a
// payment allows comes from cardpay/cvspay (View.Operations), and every
// operation is run by them, which check the plan, the state and the
// 60-day period again on the server.

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// ordersPageSize is the order list's page (50 orders, newest first).
const ordersPageSize = 50

func (h *Handler) orderRoutes() []route {
	return []route{
		{"GET", "/orders", viewer, h.ordersList},
		{"GET", "/orders/{id}", viewer, h.orderPage},
		{"GET", "/orders/{id}/payment", viewer, h.orderDialog},
		{"POST", "/orders/{id}/charge", writer, h.orderCharge},
		{"POST", "/orders/{id}/collection", writer, h.orderRegister},
		{"POST", "/payments/{pid}/capture", writer, h.paymentCardOp(escott.OpCapture)},
		{"POST", "/payments/{pid}/cancel", writer, h.paymentCancel},
		{"POST", "/payments/{pid}/change_amount", writer, h.paymentCardOp(escott.OpChange)},
		{"POST", "/payments/{pid}/reauthorize", writer, h.paymentCardOp(escott.OpReAuth)},
		{"POST", "/payments/{pid}/change_due", writer, h.paymentChangeDue},
		{"POST", "/payments/{pid}/collection_cancel", writer, h.paymentCollectionCancel},
		{"POST", "/payments/{pid}/resolve", writer, h.paymentResolve},
	}
}

func init() {
	register(map[string][2]string{
		"orders_title":         {"注文", "Orders"},
		"orders_unknown_title": {"結果不明の決済がある注文", "Orders with a payment of unknown outcome"},
		"orders_detail_title":  {"注文詳細", "Order"},

		// list
		"orders_q":                {"注文番号・決済コード・お客様ID", "Order number, transaction code or customer ID"},
		"orders_q_help":           {"kessai の注文ID、ショップの注文番号、12桁の決済コード、お客様IDのいずれかで検索します。", "Searches kessai's order ID, the shop's order number, the 12-digit transaction code or the customer ID."},
		"orders_status":           {"注文ステータス", "Order status"},
		"orders_method":           {"支払方法", "Payment method"},
		"orders_from":             {"注文日（から）", "Ordered from"},
		"orders_to":               {"注文日（まで）", "Ordered until"},
		"orders_all":              {"すべて", "All"},
		"orders_method_card":      {"クレジットカード", "Credit card"},
		"orders_method_cvs":       {"オンライン収納代行", "Online collection"},
		"orders_show_unknown":     {"結果不明の決済がある注文", "Orders with an unknown payment"},
		"orders_show_all":         {"すべての注文", "All orders"},
		"orders_col_number":       {"注文番号", "Order"},
		"orders_col_date":         {"日時", "Date"},
		"orders_col_customer":     {"お客様", "Customer"},
		"orders_col_amount":       {"金額", "Amount"},
		"orders_col_status":       {"注文ステータス", "Status"},
		"orders_col_method":       {"支払方法", "Method"},
		"orders_col_payment":      {"決済ステータス", "Payment status"},
		"orders_col_payment_lt":   {"入金ステータス", "Collection status"},
		"orders_not_found":        {"該当する注文はありません。", "No order matches."},
		"orders_empty":            {"注文はまだありません。", "No orders yet."},
		"orders_bad_status":       {"注文ステータスの指定が正しくありません。", "The order status filter is not valid."},
		"orders_bad_method":       {"支払方法の指定が正しくありません。", "The payment method filter is not valid."},
		"orders_bad_date":         {"日付は YYYY-MM-DD の形式で入力してください。", "Enter dates as YYYY-MM-DD."},
		"orders_bad_range":        {"注文日（まで）は注文日（から）以降の日付にしてください。", "The end date must not be before the start date."},
		"orders_bad_cursor":       {"ページの指定が正しくありません。", "The page is not valid."},
		"orders_unknown_help":     {"決済代行会社の応答が失われ、結果が確定していない決済です。注文を開いて結果を確定してください。", "The gateway's answer to these payments was lost. Open each order and resolve the outcome."},
		"orders_guest":            {"ゲスト", "guest"},
		"orders_badge_auth":       {"与信", "authorised"},
		"orders_badge_capture":    {"売上計上", "captured"},
		"orders_badge_gathering":  {"与信売上計上", "authorised and captured"},
		"orders_badge_cancel":     {"取消", "cancelled"},
		"orders_badge_expired":    {"期限切れ", "expired"},
		"orders_badge_unpaid":     {"未入金", "unpaid"},
		"orders_badge_paid":       {"入金済", "paid"},
		"orders_badge_cvs_cancel": {"取消済み", "cancelled"},
		"orders_badge_unknown":    {"結果不明", "unknown"},
		"orders_badge_failed":     {"失敗", "failed"},
		"orders_badge_new":        {"処理中", "in progress"},
	})
}

// ordersBadge is a payment-status badge: its text and colour class
// (green, blue, grey, red, orange: console.css).
type ordersBadge struct {
	Label  string
	Colour string
}

// ordersListBadge is the list's badge of an order's latest payment
// (ADMIN-01), from the stored state alone (one query for the whole page):
// the stored state is the one derived from the history at the last
// change (ADMIN-20). A collection still unpaid after its due date shows
// 期限切れ before the expiry job has run (CVS-11). Card badges are hidden
// on the light plan (ADMIN-18).
func ordersListBadge(p *kessai.Payment, plan kessai.Plan, now time.Time, lang string) *ordersBadge {
	b := func(key, colour string) *ordersBadge { return &ordersBadge{Label: text(lang, key), Colour: colour} }
	switch p.State {
	case kessai.PaymentUnknown:
		return b("orders_badge_unknown", "orange")
	case kessai.PaymentFailed:
		return b("orders_badge_failed", "red")
	case kessai.PaymentNew:
		return b("orders_badge_new", "grey")
	}
	if p.Method == kessai.MethodCollection {
		switch p.State {
		case kessai.PaymentPending:
			if ordersPastDue(p.PayLimit, now) {
				return b("orders_badge_expired", "red")
			}
			return b("orders_badge_unpaid", "red")
		case kessai.PaymentExpired:
			return b("orders_badge_expired", "red")
		case kessai.PaymentCancelled:
			return b("orders_badge_cvs_cancel", "grey")
		case kessai.PaymentPaid:
			return b("orders_badge_paid", "blue")
		}
		return nil
	}
	if plan != kessai.PlanPro {
		return nil
	}
	switch p.State {
	case kessai.PaymentAuthorized:
		return b("orders_badge_auth", "green")
	case kessai.PaymentCaptured:
		// The two captured states keep their own names (ADMIN-01):
		// the payment's original operation tells them apart, also
		// after a re-authorisation, which restores the original's state.
		if p.Operation == escott.OpGathering {
			return b("orders_badge_gathering", "blue")
		}
		return b("orders_badge_capture", "blue")
	case kessai.PaymentCancelled:
		return b("orders_badge_cancel", "grey")
	case kessai.PaymentExpired:
		return b("orders_badge_expired", "red")
	}
	return nil
}

// ordersPastDue reports whether an unpaid collection's due date (to the
// minute) has passed (CVS-11).
func ordersPastDue(payLimit string, now time.Time) bool {
	end, err := escott.ParsePayLimit(payLimit)
	return err == nil && now.After(end)
}

// ordersMethodTitle is the method's title as the shop's settings name it.
func ordersMethodTitle(set *kessai.Settings, m kessai.Method, lang string) string {
	switch m {
	case kessai.MethodCard:
		if set != nil && set.Card.Title != "" {
			return set.Card.Title
		}
		return text(lang, "orders_method_card")
	case kessai.MethodCollection:
		if set != nil && set.Collection.Title != "" {
			return set.Collection.Title
		}
		return text(lang, "orders_method_cvs")
	}
	return string(m)
}

type ordersListBody struct {
	Q, Status, Method, From, To string
	Unknown                     bool
	Light                       bool
	Rows                        []ordersRow
	// Next is the URL of the next page ("" on the last).
	Next string
	// Searched: the list answers a search or filter (an empty list then
	// says "not found" rather than "no orders yet").
	Searched bool
	More     bool
	Statuses []ordersOption
}

type ordersOption struct {
	Value, Label string
}

type ordersRow struct {
	Order  kessai.Order
	Status string
	Method string
	Badge  *ordersBadge
}

// ordersFilter reads the list's filters. Dates are JST days; "to" is
// inclusive, so the store's exclusive bound is the next midnight.
func ordersFilter(q url.Values, lang string) (kessai.OrderFilter, []string) {
	var f kessai.OrderFilter
	var msgs []string
	if s := q.Get("status"); s != "" {
		if !kessai.OrderStatus(s).Valid() {
			msgs = append(msgs, text(lang, "orders_bad_status"))
		} else {
			f.Status = kessai.OrderStatus(s)
		}
	}
	switch m := kessai.Method(q.Get("method")); m {
	case "":
	case kessai.MethodCard, kessai.MethodCollection:
		f.Method = m
	default:
		msgs = append(msgs, text(lang, "orders_bad_method"))
	}
	day := func(s string) (time.Time, bool) {
		t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), jst)
		return t, err == nil
	}
	badDate := false
	if s := q.Get("from"); s != "" {
		if t, ok := day(s); ok {
			f.CreatedFrom = t
		} else {
			badDate = true
		}
	}
	if s := q.Get("to"); s != "" {
		if t, ok := day(s); ok {
			f.CreatedTo = t.AddDate(0, 0, 1)
		} else {
			badDate = true
		}
	}
	if badDate {
		msgs = append(msgs, text(lang, "orders_bad_date"))
	} else if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && !f.CreatedFrom.Before(f.CreatedTo) {
		msgs = append(msgs, text(lang, "orders_bad_range"))
	}
	return f, msgs
}

func (h *Handler) ordersList(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	q := r.URL.Query()
	set, _, err := h.svc.GetSettings(ctx, rq.ShopID)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	body := &ordersListBody{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Method: q.Get("method"),
		From: q.Get("from"), To: q.Get("to"), Unknown: q.Get("state") == string(kessai.PaymentUnknown),
		Light: set.Plan != kessai.PlanPro}
	for _, s := range []kessai.OrderStatus{kessai.OrderPending, kessai.OrderOnHold, kessai.OrderProcessing,
		kessai.OrderCompleted, kessai.OrderFailed, kessai.OrderCancelled} {
		body.Statuses = append(body.Statuses, ordersOption{Value: string(s), Label: orderStatusLabel(s, rq.Lang)})
	}
	title := "orders_title"
	if body.Unknown {
		title = "orders_unknown_title"
	}
	p := h.newPage(r, rq, "orders", title)
	p.Body = body
	status := http.StatusOK

	var orders []kessai.Order
	switch {
	case body.Unknown:
		orders, err = h.ordersUnknown(r, rq, body)
	default:
		f, msgs := ordersFilter(q, rq.Lang)
		if len(msgs) > 0 {
			p.Errors = append(p.Errors, msgs...)
			h.render(w, r, http.StatusBadRequest, "orders", p)
			return
		}
		body.Searched = body.Q != "" || f != (kessai.OrderFilter{})
		orders, err = h.ordersSearch(r, rq, body, f, q.Get("after"))
	}
	var ve kessai.ValidationErrors
	if errors.As(err, &ve) {
		// A cursor or filter the service refuses is the operator's
		// (or a hand-edited URL's) mistake: say so, no error page.
		p.Errors = append(p.Errors, text(rq.Lang, "orders_bad_cursor"))
		status = http.StatusBadRequest
	} else if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if err := h.ordersRows(r, rq, &set, body, orders); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.render(w, r, status, "orders", p)
}

// ordersSearch runs the list's query. A search term q is tried, in order,
// as kessai's order ID, the shop's order number, a 12-digit transaction
// code (決済コード) and finally a customer ID, the only one that still
// combines with the filters.
func (h *Handler) ordersSearch(r *http.Request, rq *request, body *ordersListBody, f kessai.OrderFilter, after string) ([]kessai.Order, error) {
	ctx := r.Context()
	if q := body.Q; q != "" {
		if kessai.ValidID(orderIDPrefix, q) {
			if o, err := h.svc.GetOrder(ctx, rq.ShopID, q); err == nil {
				return []kessai.Order{*o}, nil
			} else if kindOf(err) != kessai.KindNotFound {
				return nil, err
			}
		}
		if o, err := h.svc.GetOrderByShopOrderID(ctx, rq.ShopID, q); err == nil {
			return []kessai.Order{*o}, nil
		} else if kindOf(err) != kessai.KindNotFound {
			return nil, err
		}
		if ordersIsCode(q) {
			pay, err := h.svc.Store().FindPaymentByTransactionCode(ctx, rq.ShopID, q)
			switch {
			case err == nil:
				o, err := h.svc.GetOrder(ctx, rq.ShopID, pay.OrderID)
				if err != nil {
					return nil, err
				}
				return []kessai.Order{*o}, nil
			case !errors.Is(err, kessai.ErrNotFound):
				return nil, err
			}
		}
		f.CustomerID = q
	}
	list, err := h.svc.ListOrders(ctx, rq.ShopID, f, kessai.Page{Limit: ordersPageSize, After: after})
	if err != nil {
		var ve kessai.ValidationErrors
		if f.CustomerID != "" && errors.As(err, &ve) && len(ve) == 1 && ve[0].Field == "customer_id" {
			// Not a possible customer ID either: nothing matches.
			return nil, nil
		}
		return nil, err
	}
	if list.HasMore && len(list.Orders) > 0 {
		next := url.Values{}
		for _, k := range []string{"q", "status", "method", "from", "to"} {
			if v := r.URL.Query().Get(k); v != "" {
				next.Set(k, v)
			}
		}
		next.Set("after", list.Orders[len(list.Orders)-1].ID)
		body.Next = BasePath + "/orders?" + next.Encode()
	}
	return list.Orders, nil
}

// orderIDPrefix starts kessai's order IDs (service.OrderIDPrefix).
const orderIDPrefix = "ord"

// ordersIsCode reports whether s looks like a transaction code
// (MerchantFree1): 12 ASCII digits.
func ordersIsCode(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ordersUnknown lists the orders of payments whose outcome is unknown
// (design gap #25), oldest payment first: the operator's to-do list. The
// cursor is a payment ID.
func (h *Handler) ordersUnknown(r *http.Request, rq *request, body *ordersListBody) ([]kessai.Order, error) {
	ctx := r.Context()
	after := r.URL.Query().Get("after")
	if after != "" && !kessai.ValidID(paymentIDPrefix, after) {
		return nil, kessai.ValidationErrors{kessai.FieldError("after", "invalid_cursor", "", "")}
	}
	pays, err := h.svc.Store().ListPaymentsByState(ctx, rq.ShopID, kessai.PaymentUnknown, kessai.Page{Limit: ordersPageSize + 1, After: after})
	if err != nil {
		return nil, err
	}
	if len(pays) > ordersPageSize {
		pays = pays[:ordersPageSize]
		body.Next = BasePath + "/orders?" + url.Values{"state": {string(kessai.PaymentUnknown)}, "after": {pays[len(pays)-1].ID}}.Encode()
	}
	var out []kessai.Order
	seen := map[string]bool{}
	for _, p := range pays {
		if seen[p.OrderID] {
			continue
		}
		seen[p.OrderID] = true
		o, err := h.svc.GetOrder(ctx, rq.ShopID, p.OrderID)
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	return out, nil
}

// paymentIDPrefix starts every payment's ID (payflow.PaymentIDPrefix).
const paymentIDPrefix = "pay"

// ordersRows fills the rows with each order's latest payment: one query
// for the page (ListPaymentsOfOrders).
func (h *Handler) ordersRows(r *http.Request, rq *request, set *kessai.Settings, body *ordersListBody, orders []kessai.Order) error {
	if len(orders) == 0 {
		return nil
	}
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	pays, err := h.svc.Store().ListPaymentsOfOrders(r.Context(), rq.ShopID, ids)
	if err != nil {
		return err
	}
	latest := map[string]*kessai.Payment{}
	for i := range pays { // oldest first: the last one wins
		latest[pays[i].OrderID] = &pays[i]
	}
	now := h.now()
	for _, o := range orders {
		row := ordersRow{Order: o, Status: orderStatusLabel(o.Status, rq.Lang)}
		if p := latest[o.ID]; p != nil {
			row.Method = ordersMethodTitle(set, p.Method, rq.Lang)
			row.Badge = ordersListBadge(p, set.Plan, now, rq.Lang)
		}
		body.Rows = append(body.Rows, row)
	}
	return nil
}

// orderStatusLabel names an order status in the page's language.
func orderStatusLabel(s kessai.OrderStatus, lang string) string {
	if lang != langEn {
		return s.Label()
	}
	switch s {
	case kessai.OrderPending:
		return "Pending payment"
	case kessai.OrderOnHold:
		return "On hold"
	case kessai.OrderProcessing:
		return "Processing"
	case kessai.OrderCompleted:
		return "Completed"
	case kessai.OrderFailed:
		return "Failed"
	case kessai.OrderCancelled:
		return "Cancelled"
	}
	return string(s)
}
