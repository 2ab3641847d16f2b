package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/subscription"
)

// One subscription's page and its actions (see subscriptions.go).

// subscriptionsAction is an operator action: the engine call that does
// it, and the pure State method that says whether it is allowed now (the
// engine runs the same method, so a button shown is an action the rules
// accept unless the subscription changes before the click).
type subscriptionsAction struct {
	// name is the route's last segment and the suffix of the label and
	// confirmation keys.
	name   string
	danger bool
	check  func(subscription.State, time.Time) (subscription.State, []string, error)
	run    func(e *renewal.Engine, ctx context.Context, shopID, id string) (*kessai.Subscription, error)
}

// subscriptionsActions in the order the page shows their buttons.
var subscriptionsActions = []subscriptionsAction{
	{name: "pause", check: subscription.State.Pause,
		run: func(e *renewal.Engine, ctx context.Context, shop, id string) (*kessai.Subscription, error) {
			return e.Pause(ctx, shop, id)
		}},
	{name: "resume", check: subscription.State.Resume,
		run: func(e *renewal.Engine, ctx context.Context, shop, id string) (*kessai.Subscription, error) {
			return e.Resume(ctx, shop, id)
		}},
	{name: "cancel_at_period_end", check: subscription.State.ScheduleCancel,
		run: func(e *renewal.Engine, ctx context.Context, shop, id string) (*kessai.Subscription, error) {
			return e.Cancel(ctx, shop, id, true)
		}},
	{name: "keep", check: subscription.State.WithdrawCancel,
		run: func(e *renewal.Engine, ctx context.Context, shop, id string) (*kessai.Subscription, error) {
			return e.KeepActive(ctx, shop, id)
		}},
	{name: "cancel", danger: true, check: subscription.State.Cancel,
		run: func(e *renewal.Engine, ctx context.Context, shop, id string) (*kessai.Subscription, error) {
			return e.Cancel(ctx, shop, id, false)
		}},
}

func init() {
	register(map[string][2]string{
		"subscriptions_action_pause":                {"一時停止", "Pause"},
		"subscriptions_action_resume":               {"再開", "Resume"},
		"subscriptions_action_cancel_at_period_end": {"期間終了時に解約", "Cancel at period end"},
		"subscriptions_action_keep":                 {"解約の取り消し", "Withdraw the cancellation"},
		"subscriptions_action_cancel":               {"今すぐ解約", "Cancel now"},
		"subscriptions_confirm_pause": {"この定期購入を一時停止しますか？再開するまで請求されません。",
			"Pause this subscription? Nothing is charged until it is resumed."},
		"subscriptions_confirm_resume": {"この定期購入を再開しますか？停止中に過ぎた請求日の分は請求せず、次の請求日から請求します。",
			"Resume this subscription? Billing dates missed while on hold are skipped; billing goes on from the next one."},
		"subscriptions_confirm_cancel_at_period_end": {"支払済みの期間が終わる %s に解約し、以降は請求しません。よろしいですか？",
			"Cancel at %s, when the paid period ends, with no further charge?"},
		"subscriptions_confirm_cancel_at_period_end_now": {"支払済みの期間はすでに終了しているため、すぐに解約されます。よろしいですか？",
			"The paid period is already over, so the subscription is cancelled now. Continue?"},
		"subscriptions_confirm_keep": {"期間終了時の解約を取り消し、継続課金を続けますか？",
			"Withdraw the scheduled cancellation and keep renewing?"},
		"subscriptions_confirm_cancel": {"この定期購入を今すぐ解約しますか？以降は請求されず、元に戻せません。",
			"Cancel this subscription now? It is not charged again, and this cannot be undone."},
		"done_subscriptions_paused":           {"定期購入を一時停止しました。", "The subscription was paused."},
		"done_subscriptions_resumed":          {"定期購入を再開しました。", "The subscription was resumed."},
		"done_subscriptions_cancel_scheduled": {"期間終了時の解約を予約しました。", "The subscription will be cancelled at the end of the paid period."},
		"done_subscriptions_kept":             {"解約の予約を取り消しました。", "The scheduled cancellation was withdrawn."},
		"done_subscriptions_cancelled":        {"定期購入を解約しました。", "The subscription was cancelled."},
	})
}

// subscriptionsButton is an allowed action's form.
type subscriptionsButton struct {
	Action  string // form action URL
	ID      string
	Label   string
	Confirm string
	Danger  bool
}

type subscriptionsRenewalRow struct {
	Period   int
	From, To time.Time
	Due      time.Time
	OrderID  string
	Status   subscriptionsBadge
	Attempts int
	Codes    []string
}

type subscriptionsDetail struct {
	Sub      *kessai.Subscription
	Status   subscriptionsBadge
	Hold     string
	Interval string
	Next     time.Time
	// NextNone says why there is no next payment when the subscription
	// ends first; EndsNotice is that end as a sentence.
	NextNone   string
	EndsNotice string
	PeriodEnd  time.Time
	// The notices of a hold or a failing renewal.
	Paused       bool
	GraceNotice  string
	RetryNotice  string
	CardRequired bool
	// UnconfirmedOrder is the renewal order whose charge's outcome is
	// unknown: its payment dialog resolves it.
	Unconfirmed      bool
	UnconfirmedOrder string
	UnconfirmedLink  string
	Renewals         []subscriptionsRenewalRow
	Actions          []subscriptionsButton
	Final            bool
	Light            bool
	NoEngine         bool
}

// subscriptionsRenewalColours: a renewal's result as a badge.
var subscriptionsRenewalColours = map[string]string{
	kessai.RenewalSucceeded: "green",
	kessai.RenewalFailed:    "red",
	kessai.RenewalUnknown:   "orange",
	kessai.RenewalPending:   "blue",
}

func (h *Handler) subscriptionsDetailPage(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	if !kessai.ValidID(renewal.IDPrefix, id) {
		h.renderError(w, r, rq, http.StatusNotFound, "subscriptions_not_found")
		return
	}
	p := h.newPage(r, rq, "subscriptions", "subscriptions_detail_title")
	h.subscriptionsShow(w, r, rq, p, id, http.StatusOK)
}

// subscriptionsGet reads a subscription and its renewals through the
// engine, or from the store when the console runs without one.
func (h *Handler) subscriptionsGet(ctx context.Context, shopID, id string) (*kessai.Subscription, []kessai.Renewal, error) {
	if h.subs != nil {
		return h.subs.Get(ctx, shopID, id)
	}
	sub, err := h.svc.Store().GetSubscription(ctx, shopID, id)
	if errors.Is(err, kessai.ErrNotFound) {
		return nil, nil, kessai.Errorf(kessai.KindNotFound, "not_found", text(langJa, "subscriptions_not_found"), text(langEn, "subscriptions_not_found"))
	}
	if err != nil {
		return nil, nil, err
	}
	rs, err := h.svc.Store().ListRenewals(ctx, shopID, id)
	return sub, rs, err
}

// subscriptionsShow renders a subscription's page with status (a refused
// action's page carries its errors already).
func (h *Handler) subscriptionsShow(w http.ResponseWriter, r *http.Request, rq *request, p *page, id string, status int) {
	sub, renewals, err := h.subscriptionsGet(r.Context(), rq.ShopID, id)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	lang := rq.Lang
	now := h.now()
	p.Title = text(lang, "subscriptions_detail_title") + "：" + sub.ID
	if r.Method == http.MethodPost {
		// A refused action's page is the subscription's: its language
		// switch goes there, not to the form's address.
		p.LangSwitch = BasePath + "/subscriptions/" + sub.ID + "?lang=" + langEn
		if lang == langEn {
			p.LangSwitch = BasePath + "/subscriptions/" + sub.ID + "?lang=" + langJa
		}
	}
	st := renewal.StateOf(sub)
	b := &subscriptionsDetail{Sub: sub, Status: subscriptionsStatusBadge(sub, lang), Hold: subscriptionsHold(sub, lang),
		Interval: subscriptionsInterval(sub, lang), Final: st.Status.Final(), Light: !p.Pro(), NoEngine: h.subs == nil,
		Unconfirmed: sub.Unconfirmed}
	live := sub.Status == kessai.SubscriptionActive || sub.Status == kessai.SubscriptionOnHold
	if live {
		b.PeriodEnd = st.Due()
	}
	var ends string
	var endAt time.Time
	b.Next, ends, endAt = subscriptionsNext(sub)
	switch ends {
	case "cancel":
		b.NextNone = text(lang, "subscriptions_next_none_cancel")
		b.EndsNotice = fmt.Sprintf(text(lang, "subscriptions_cancel_scheduled"), subscriptionsWhen(endAt))
	case "end":
		b.NextNone = text(lang, "subscriptions_next_none_end")
		b.EndsNotice = fmt.Sprintf(text(lang, "subscriptions_ends"), subscriptionsWhen(endAt))
	}
	if live && !sub.Unconfirmed {
		switch {
		case sub.Hold == string(subscription.HoldPaused):
			b.Paused = true
		case sub.Hold == string(subscription.HoldPaymentFailed):
			if !sub.CancelAt.IsZero() {
				b.GraceNotice = fmt.Sprintf(text(lang, "subscriptions_grace"), subscriptionsWhen(sub.CancelAt))
			}
			b.CardRequired = sub.NextAttempt.IsZero()
		}
		if sub.Failures > 0 && !sub.NextAttempt.IsZero() && ends == "" {
			b.RetryNotice = fmt.Sprintf(text(lang, "subscriptions_retrying"), sub.Failures, subscriptionsWhen(sub.NextAttempt))
		}
	}
	for _, rn := range renewals {
		colour := subscriptionsRenewalColours[rn.Status]
		if colour == "" {
			colour = "grey"
		}
		label := rn.Status
		if k := "subscriptions_renewal_" + rn.Status; known(k) {
			label = text(lang, k)
		}
		b.Renewals = append(b.Renewals, subscriptionsRenewalRow{Period: rn.Period,
			From: st.Interval.Date(st.First, rn.Period), To: st.Interval.Date(st.First, rn.Period+1),
			Due: rn.DueAt, OrderID: rn.OrderID, Status: subscriptionsBadge{Label: label, Colour: colour},
			Attempts: rn.Attempts, Codes: rn.Codes})
	}
	if sub.Unconfirmed {
		b.UnconfirmedOrder = subscriptionsUnconfirmedOrder(sub, renewals)
		if b.UnconfirmedOrder != "" {
			b.UnconfirmedLink = fmt.Sprintf(text(lang, "subscriptions_unconfirmed_link"), b.UnconfirmedOrder)
		}
	}
	if !b.Light && !b.NoEngine {
		b.Actions = subscriptionsButtons(sub, st, now, lang)
	}
	p.Body = b
	h.render(w, r, status, "subscription", p)
}

// subscriptionsUnconfirmedOrder is the renewal order whose charge awaits
// resolution: the newest renewal of unknown outcome, else the renewal of
// the period due (a charge in flight when the process died).
func subscriptionsUnconfirmedOrder(sub *kessai.Subscription, renewals []kessai.Renewal) string {
	for _, rn := range renewals { // newest first
		if rn.Status == kessai.RenewalUnknown {
			return rn.OrderID
		}
	}
	for _, rn := range renewals {
		if rn.Period == sub.Period {
			return rn.OrderID
		}
	}
	return ""
}

// subscriptionsButtons are the forms of the actions the rules allow now.
func subscriptionsButtons(sub *kessai.Subscription, st subscription.State, now time.Time, lang string) []subscriptionsButton {
	var out []subscriptionsButton
	for _, a := range subscriptionsActions {
		if _, _, err := a.check(st, now); err != nil {
			continue
		}
		confirm := text(lang, "subscriptions_confirm_"+a.name)
		if a.name == "cancel_at_period_end" {
			// The rules cancel at once when the paid period is over (a
			// failing renewal): the prompt says which will happen.
			if due := st.Due(); now.Before(due) {
				confirm = fmt.Sprintf(confirm, subscriptionsWhen(due))
			} else {
				confirm = text(lang, "subscriptions_confirm_cancel_at_period_end_now")
			}
		}
		out = append(out, subscriptionsButton{Action: BasePath + "/subscriptions/" + sub.ID + "/" + a.name,
			ID: "subscription-" + strings.ReplaceAll(a.name, "_", "-"), Label: text(lang, "subscriptions_action_"+a.name),
			Confirm: confirm, Danger: a.danger})
	}
	return out
}

// subscriptionsDo runs an action. Success redirects to the page with a
// notice; a refusal (the rules, the plan, a race) shows the page again
// with the reason and the status of its kind (409 for the rules).
func (h *Handler) subscriptionsDo(a subscriptionsAction) func(w http.ResponseWriter, r *http.Request, rq *request) {
	return func(w http.ResponseWriter, r *http.Request, rq *request) {
		id := r.PathValue("id")
		if !kessai.ValidID(renewal.IDPrefix, id) {
			h.renderError(w, r, rq, http.StatusNotFound, "subscriptions_not_found")
			return
		}
		p := h.newPage(r, rq, "subscriptions", "subscriptions_detail_title")
		if h.subs == nil {
			p.Errors = append(p.Errors, text(rq.Lang, "subscriptions_no_engine"))
			h.subscriptionsShow(w, r, rq, p, id, http.StatusServiceUnavailable)
			return
		}
		sub, err := a.run(h.subs, r.Context(), rq.ShopID, id)
		if err == nil {
			h.log.InfoContext(r.Context(), "console: subscription changed", "user", rq.User.ID, "subscription", id,
				"action", a.name, "status", sub.Status)
			redirect(w, r, BasePath+"/subscriptions/"+id, subscriptionsDone(a.name, sub))
			return
		}
		if k := kindOf(err); k == kessai.KindInternal || k == kessai.KindNotFound {
			h.fail(w, r, rq, err)
			return
		}
		h.log.WarnContext(r.Context(), "console: subscription action refused", "user", rq.User.ID, "subscription", id,
			"action", a.name, "code", kessai.AsError(err).Code)
		formErrors(p, err, rq.Lang)
		h.subscriptionsShow(w, r, rq, p, id, kindOf(err).HTTPStatus())
	}
}

// subscriptionsDone names the notice of a successful action: a
// cancellation at the period's end that had no paid period left
// cancelled at once, and says so.
func subscriptionsDone(action string, sub *kessai.Subscription) string {
	switch action {
	case "pause":
		return "subscriptions_paused"
	case "resume":
		return "subscriptions_resumed"
	case "keep":
		return "subscriptions_kept"
	case "cancel_at_period_end":
		if sub.Status != kessai.SubscriptionCancelled {
			return "subscriptions_cancel_scheduled"
		}
	}
	return "subscriptions_cancelled"
}
