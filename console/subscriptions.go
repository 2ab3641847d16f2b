package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/subscription"
)

// The subscriptions screen (SUB-01 … SUB-08, pro plan): the list of the
// shop's subscriptions, one subscription with its schedule, the history
// of its renewal charges, and the operator's actions (pause, resume,
// cancel now or at the end of the paid period, withdraw a scheduled
// cancellation), run by the renewal engine.
//
// What a subscription will do next is read from its stored schedule with
// package subscription's rules (the same State the engine decides with),
// so the page never promises a charge the engine will not make: a
// subscription set to cancel, or at its end, shows no next payment.
// Buttons are shown only for the actions the rules allow now; the engine
// checks again on POST, and a refusal (another operator, the engine or
// the customer changed it meanwhile) is shown on the page.

func (h *Handler) subscriptionRoutes() []route {
	routes := []route{
		{"GET", "/subscriptions", viewer, h.subscriptionsList},
		{"GET", "/subscriptions/{id}", viewer, h.subscriptionsDetailPage},
	}
	for _, a := range subscriptionsActions {
		routes = append(routes, route{"POST", "/subscriptions/{id}/" + a.name, writer, h.subscriptionsDo(a)})
	}
	return routes
}

// subscriptionsPageSize is the number of subscriptions a list page shows.
const subscriptionsPageSize = 50

func init() {
	register(map[string][2]string{
		"subscriptions_title":        {"定期購入", "Subscriptions"},
		"subscriptions_detail_title": {"定期購入", "Subscription"},
		"subscriptions_intro": {"お客様の登録カードに定期的に請求する定期購入の一覧です（新しい順）。",
			"Recurring charges on customers' saved cards, newest first."},
		"subscriptions_light": {"定期購入は pro 版の機能です。light 版では定期購入の請求も操作も行われません。",
			"Subscriptions are a pro plan feature: on the light plan nothing is charged and no action is possible."},
		"subscriptions_no_engine": {"このサーバーでは定期購入の処理（継続課金）が構成されていないため、表示のみで操作はできません。",
			"Subscription processing (renewals) is not configured on this server: you can view subscriptions but not change them."},
		"subscriptions_filter_status":   {"ステータス", "Status"},
		"subscriptions_filter_customer": {"顧客ID", "Customer id"},
		"subscriptions_all":             {"すべて", "All"},
		"subscriptions_bad_status":      {"ステータスの指定が正しくありません。", "The status filter is not valid."},
		"subscriptions_bad_customer": {"顧客IDは 64 文字以内の半角英数字・_・- で入力してください。",
			"A customer id is at most 64 characters of A-Z, a-z, 0-9, _ and -."},
		"subscriptions_bad_cursor": {"ページの指定が正しくないため、最初のページを表示しています。",
			"The page asked for is not valid: showing the first page."},
		"subscriptions_col_id":          {"定期購入ID", "Subscription"},
		"subscriptions_col_customer":    {"顧客ID", "Customer"},
		"subscriptions_col_description": {"商品名", "Description"},
		"subscriptions_col_amount":      {"金額", "Amount"},
		"subscriptions_col_interval":    {"請求周期", "Interval"},
		"subscriptions_col_status":      {"ステータス", "Status"},
		"subscriptions_col_next":        {"次回の請求", "Next payment"},
		"subscriptions_col_failures":    {"失敗回数", "Failures"},
		"subscriptions_none":            {"定期購入はまだありません。", "No subscriptions yet."},
		"subscriptions_not_found_list":  {"該当する定期購入はありません。", "No subscription matches."},
		"subscriptions_pager":           {"ページ送り", "Pages"},
		"subscriptions_first_page":      {"最初のページ", "First page"},

		"subscriptions_hold_paused":         {"一時停止", "paused"},
		"subscriptions_hold_payment_failed": {"支払失敗", "payment failed"},
		"subscriptions_next_cancel":         {"期間終了時に解約", "cancels at period end"},
		"subscriptions_next_end":            {"終了予定", "ends"},

		// Intervals: %d is the count, %s a day of the month or a date.
		"subscriptions_every_day":     {"毎日", "Every day"},
		"subscriptions_every_week":    {"毎週", "Every week"},
		"subscriptions_every_month":   {"毎月", "Every month"},
		"subscriptions_every_year":    {"毎年", "Every year"},
		"subscriptions_every_n_day":   {"%d日ごと", "Every %d days"},
		"subscriptions_every_n_week":  {"%d週間ごと", "Every %d weeks"},
		"subscriptions_every_n_month": {"%dか月ごと", "Every %d months"},
		"subscriptions_every_n_year":  {"%d年ごと", "Every %d years"},
		"subscriptions_anchor_month":  {"毎月%s日", "Every month on the %s"},
		"subscriptions_anchor_n":      {"%s（%s日）", "%s, on the %s"},
		"subscriptions_anchor_year":   {"毎年%d月%s日", "Every year on %[2]s %[1]s"},
		"subscriptions_anchor_n_year": {"%s（%d月%s日）", "%s, on %[3]s %[2]s"},

		"subscriptions_section":          {"契約内容", "Details"},
		"subscriptions_id":               {"定期購入ID", "Subscription id"},
		"subscriptions_customer":         {"顧客ID", "Customer id"},
		"subscriptions_customer_subs":    {"この顧客の定期購入", "This customer's subscriptions"},
		"subscriptions_description":      {"商品名", "Description"},
		"subscriptions_amount":           {"金額（1回あたり）", "Amount per payment"},
		"subscriptions_interval":         {"請求周期", "Interval"},
		"subscriptions_status":           {"ステータス", "Status"},
		"subscriptions_virtual":          {"商品の種類", "Item"},
		"subscriptions_virtual_yes":      {"仮想商品（発送なし）", "virtual (not shipped)"},
		"subscriptions_virtual_no":       {"発送あり", "shipped"},
		"subscriptions_created":          {"作成日時", "Created"},
		"subscriptions_start":            {"開始日時", "Starts"},
		"subscriptions_trial_end":        {"お試し期間の終了", "Trial ends"},
		"subscriptions_end_at":           {"終了日時", "Ends"},
		"subscriptions_end_at_help":      {"この日時以降の請求日には請求しません", "billing dates from then on are not charged"},
		"subscriptions_max_payments":     {"支払回数の上限", "Payment limit"},
		"subscriptions_times":            {"%d回", "%d"},
		"subscriptions_first_billing":    {"初回の請求日", "First billing date"},
		"subscriptions_paid":             {"支払済み回数", "Payments made"},
		"subscriptions_next":             {"次回の請求", "Next payment"},
		"subscriptions_period_end":       {"支払済み期間の終了", "Paid period ends"},
		"subscriptions_failures":         {"連続失敗回数", "Consecutive failures"},
		"subscriptions_grace_end":        {"猶予期間の終了（解約予定）", "Grace period ends (cancellation)"},
		"subscriptions_initial_order":    {"初回の注文", "Initial order"},
		"subscriptions_metadata":         {"メタデータ", "Metadata"},
		"subscriptions_next_none_cancel": {"なし（期間終了時に解約）", "none (cancels at the end of the period)"},
		"subscriptions_next_none_end":    {"なし（終了予定）", "none (the subscription ends)"},

		"subscriptions_cancel_scheduled": {"期間終了時の解約が予約されています。%s に解約され、以降は請求されません。",
			"The subscription is set to cancel at the end of the paid period: it is cancelled at %s and not charged again."},
		"subscriptions_ends": {"終了日時または支払回数の上限に達するため、%s に終了し、以降は請求されません。",
			"The subscription reaches its end date or payment limit: it ends at %s and is not charged again."},
		"subscriptions_paused_note": {"一時停止中のため請求されません。再開すると、停止中に過ぎた請求日の分は請求せず、次の請求日から請求します。",
			"Paused: nothing is charged. When resumed, billing dates missed while paused are skipped and billing goes on from the next one."},
		"subscriptions_grace": {"継続課金の支払いに失敗したため一時停止中です。%s までに支払いが成功しない場合は解約されます。",
			"On hold after failed renewal payments: it is cancelled at %s unless a payment succeeds."},
		"subscriptions_retrying": {"継続課金の支払いに失敗しています（%d回）。%s に再請求します。",
			"Renewal payments failed (%d times): the next attempt is at %s."},
		"subscriptions_card_required": {"カードが利用できないため再請求は行われません。お客様にカードの変更を依頼してください。カードが変更されると直ちに再請求します。",
			"The card cannot be charged, so no retry is scheduled. Ask the customer to change the card: it is charged at once when they do."},
		"subscriptions_unconfirmed": {"前回の継続課金の結果が不明です。結果が確定するまで、請求も一時停止・再開も行われません。注文の決済情報で結果を確認して確定してください。",
			"The outcome of the last renewal charge is unknown. Until it is resolved nothing is charged and the subscription cannot be paused or resumed. Check the payment in the order's payment dialog and resolve it."},
		"subscriptions_unconfirmed_link": {"決済情報を開く（注文 %s）", "Open the payment (order %s)"},
		"subscriptions_final_note":       {"この定期購入は終了しているため、操作はできません。", "The subscription has ended: no action is possible."},

		"subscriptions_renewals":          {"継続課金の履歴", "Renewals"},
		"subscriptions_renewals_none":     {"継続課金はまだありません。", "No renewals yet."},
		"subscriptions_r_period":          {"対象期間", "Period"},
		"subscriptions_r_due":             {"請求日", "Due"},
		"subscriptions_r_order":           {"注文", "Order"},
		"subscriptions_r_status":          {"結果", "Result"},
		"subscriptions_r_attempts":        {"試行回数", "Attempts"},
		"subscriptions_r_codes":           {"ゲートウェイのコード", "Gateway codes"},
		"subscriptions_renewal_succeeded": {"成功", "succeeded"},
		"subscriptions_renewal_failed":    {"失敗", "failed"},
		"subscriptions_renewal_unknown":   {"結果不明", "unknown"},
		"subscriptions_renewal_pending":   {"処理中", "in progress"},

		"subscriptions_not_found":  {"定期購入が見つかりません。", "No such subscription."},
		"subscriptions_back":       {"定期購入の一覧に戻る", "Back to subscriptions"},
		"subscriptions_actions":    {"操作", "Actions"},
		"subscriptions_actions_ro": {"操作は管理者のみが行えます。", "Only admins can change subscriptions."},
		"subscriptions_actions_no": {"現在できる操作はありません。", "No action is possible now."},
	})
}

// subscriptionsBadge is a coloured status label.
type subscriptionsBadge struct {
	Label, Colour string
}

// subscriptionsStatusBadge: active green, on hold orange, the rest grey
// (pending has not started; cancelled and expired are over).
func subscriptionsStatusBadge(s *kessai.Subscription, lang string) subscriptionsBadge {
	b := subscriptionsBadge{Label: subscription.Status(s.Status).Label(lang), Colour: "grey"}
	switch s.Status {
	case kessai.SubscriptionActive:
		b.Colour = "green"
	case kessai.SubscriptionOnHold:
		b.Colour = "orange"
	}
	return b
}

// subscriptionsHold names why an on-hold subscription is on hold ("" when
// it is not).
func subscriptionsHold(s *kessai.Subscription, lang string) string {
	if s.Status != kessai.SubscriptionOnHold || s.Hold == "" {
		return ""
	}
	key := "subscriptions_hold_" + s.Hold
	if !known(key) {
		return s.Hold
	}
	return text(lang, key)
}

// subscriptionsNext is the next charge as the operator should read it.
// NextAttempt is when the engine looks next, but a subscription set to
// cancel at the period's end, or ending by its end date or payment limit
// before then, is cancelled or expired at that moment instead of charged:
// then there is no next payment and ends says why ("cancel" or "end") and
// when.
func subscriptionsNext(s *kessai.Subscription) (next time.Time, ends string, at time.Time) {
	if s.Status != kessai.SubscriptionActive && s.Status != kessai.SubscriptionOnHold {
		return time.Time{}, "", time.Time{}
	}
	st := renewal.StateOf(s)
	due := st.Due()
	if s.CancelAtPeriodEnd {
		return time.Time{}, "cancel", due
	}
	if !st.End.Allows(due, s.Paid) {
		end := due
		if !s.EndAt.IsZero() && s.EndAt.Before(end) {
			end = s.EndAt
		}
		return time.Time{}, "end", end
	}
	if !s.EndAt.IsZero() && !s.NextAttempt.IsZero() && !s.NextAttempt.Before(s.EndAt) {
		// A retry pushed past the end date: it expires first.
		return time.Time{}, "end", s.EndAt
	}
	return s.NextAttempt, "", time.Time{}
}

// subscriptionsInterval says how often a subscription is billed, in
// words: 毎月, 3か月ごと, 毎月25日, 毎年3月25日 (the month of a yearly
// anchored schedule is its first billing date's).
func subscriptionsInterval(s *kessai.Subscription, lang string) string {
	u, n := subscription.Unit(s.IntervalUnit), s.IntervalCount
	if subscription.MaxCount(u) == 0 || n < 1 {
		return fmt.Sprintf("%d %s", n, s.IntervalUnit)
	}
	base := text(lang, "subscriptions_every_"+string(u))
	if n > 1 {
		base = fmt.Sprintf(text(lang, "subscriptions_every_n_"+string(u)), n)
	}
	a := s.AnchorDay
	if a < 1 || a > 31 || (u != subscription.Month && u != subscription.Year) {
		return base
	}
	day := subscriptionsDay(a, lang)
	switch {
	case u == subscription.Month && n == 1:
		return fmt.Sprintf(text(lang, "subscriptions_anchor_month"), day)
	case u == subscription.Month:
		return fmt.Sprintf(text(lang, "subscriptions_anchor_n"), base, day)
	}
	m := s.First.In(jst).Month()
	if lang == langEn {
		// English names the month: "on 25 March".
		if n == 1 {
			return fmt.Sprintf(text(lang, "subscriptions_anchor_year"), m.String(), fmt.Sprint(a))
		}
		return fmt.Sprintf(text(lang, "subscriptions_anchor_n_year"), base, m.String(), fmt.Sprint(a))
	}
	if n == 1 {
		return fmt.Sprintf(text(lang, "subscriptions_anchor_year"), int(m), day)
	}
	return fmt.Sprintf(text(lang, "subscriptions_anchor_n_year"), base, int(m), day)
}

// subscriptionsDay is a day of the month: 25 in Japanese (before 日), 25th
// in English.
func subscriptionsDay(d int, lang string) string {
	if lang != langEn {
		return fmt.Sprint(d)
	}
	suffix := "th"
	if d < 11 || d > 13 {
		switch d % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprint(d) + suffix
}

// subscriptionsWhen formats a time for a sentence (JST, to the minute).
func subscriptionsWhen(t time.Time) string { return t.In(jst).Format("2006-01-02 15:04") }

// ---- the list ----

type subscriptionsRow struct {
	ID          string
	CustomerID  string
	Description string
	Amount      int64
	Interval    string
	Status      subscriptionsBadge
	Hold        string
	Next        time.Time
	// NextNote replaces the next payment when the subscription ends
	// first.
	NextNote string
	Failures int
}

type subscriptionsListBody struct {
	Status     string
	CustomerID string
	Statuses   []ordersOption
	Rows       []subscriptionsRow
	Searched   bool
	Paged      bool
	Next       string
	Light      bool
}

func (h *Handler) subscriptionsList(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	p := h.newPage(r, rq, "subscriptions", "subscriptions_title")
	body := &subscriptionsListBody{Status: q.Get("status"), CustomerID: strings.TrimSpace(q.Get("customer_id")), Light: !p.Pro()}
	for _, s := range subscription.Statuses {
		body.Statuses = append(body.Statuses, ordersOption{Value: string(s), Label: s.Label(rq.Lang)})
	}
	p.Body = body
	var f kessai.SubscriptionFilter
	if body.Status != "" {
		if !subscription.Status(body.Status).Valid() {
			p.FieldErrors = map[string]string{"status": text(rq.Lang, "subscriptions_bad_status")}
			p.Errors = append(p.Errors, text(rq.Lang, "subscriptions_bad_status"))
		}
		f.Status = body.Status
	}
	if body.CustomerID != "" {
		if !customersValidID(body.CustomerID) {
			if p.FieldErrors == nil {
				p.FieldErrors = map[string]string{}
			}
			p.FieldErrors["customer_id"] = text(rq.Lang, "subscriptions_bad_customer")
			p.Errors = append(p.Errors, text(rq.Lang, "subscriptions_bad_customer"))
		}
		f.CustomerID = body.CustomerID
	}
	if p.FieldErrors != nil {
		h.render(w, r, http.StatusBadRequest, "subscriptions", p)
		return
	}
	body.Searched = f != (kessai.SubscriptionFilter{})
	status := http.StatusOK
	after := q.Get("after")
	if after != "" && !kessai.ValidID(renewal.IDPrefix, after) {
		p.Errors = append(p.Errors, text(rq.Lang, "subscriptions_bad_cursor"))
		status, after = http.StatusBadRequest, ""
	}
	body.Paged = after != ""
	subs, err := h.subscriptionsListed(r, rq, f, kessai.Page{Limit: subscriptionsPageSize + 1, After: after})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if len(subs) > subscriptionsPageSize {
		subs = subs[:subscriptionsPageSize]
		nq := url.Values{}
		if f.Status != "" {
			nq.Set("status", f.Status)
		}
		if f.CustomerID != "" {
			nq.Set("customer_id", f.CustomerID)
		}
		nq.Set("after", subs[len(subs)-1].ID)
		body.Next = BasePath + "/subscriptions?" + nq.Encode()
	}
	for i := range subs {
		s := &subs[i]
		row := subscriptionsRow{ID: s.ID, CustomerID: s.CustomerID, Description: s.Description, Amount: s.Amount,
			Interval: subscriptionsInterval(s, rq.Lang), Status: subscriptionsStatusBadge(s, rq.Lang),
			Hold: subscriptionsHold(s, rq.Lang), Failures: s.Failures}
		var ends string
		row.Next, ends, _ = subscriptionsNext(s)
		if ends != "" {
			row.NextNote = text(rq.Lang, "subscriptions_next_"+ends)
		}
		body.Rows = append(body.Rows, row)
	}
	h.render(w, r, status, "subscriptions", p)
}

// subscriptionsListed lists through the engine, or straight from the
// store when the console runs without one (reading needs no engine).
func (h *Handler) subscriptionsListed(r *http.Request, rq *request, f kessai.SubscriptionFilter, pg kessai.Page) ([]kessai.Subscription, error) {
	if h.subs != nil {
		return h.subs.List(r.Context(), rq.ShopID, f, pg)
	}
	return h.svc.Store().ListSubscriptions(r.Context(), rq.ShopID, f, pg)
}
