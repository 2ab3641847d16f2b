package subscription

import (
	"fmt"
	"slices"

	"github.com/kessai/kessai"
)

// Status is the state of a subscription.
type Status string

// The statuses. Cancelled and expired are final: nothing leaves them.
const (
	// StatusPending: created at checkout, not confirmed yet. The row is
	// written before the checkout's gateway call (design principle 3), so
	// it exists while the first payment (or, for a trial or an anchored
	// start, the card registration) is in flight or its outcome unknown;
	// the renewal engine never charges it, it does not block deleting the
	// card, and a checkout that fails or is abandoned cancels it without
	// any event, so the shop never hears of it.
	StatusPending Status = "pending"
	// StatusActive: confirmed and billed on schedule, including during a
	// trial and while a failed renewal is being retried.
	StatusActive Status = "active"
	// StatusOnHold: not billed on schedule, either paused by the customer
	// or the shop, or after failed renewals (see HoldReason).
	StatusOnHold Status = "on_hold"
	// StatusCancelled: stopped by the customer, the shop, or the grace
	// period after failed renewals.
	StatusCancelled Status = "cancelled"
	// StatusExpired: ran out by its end date or payment limit.
	StatusExpired Status = "expired"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusPending, StatusActive, StatusOnHold, StatusCancelled, StatusExpired}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Final reports whether s is cancelled or expired.
func (s Status) Final() bool { return s == StatusCancelled || s == StatusExpired }

// Label is the status for people: Japanese for "ja" (and anything else,
// the product's default), English for "en". On hold is 一時停止中 rather
// than 保留中, which is already the order status on-hold (awaiting a
// collection payment).
func (s Status) Label(lang string) string {
	l, ok := statusLabels[s]
	if !ok {
		return string(s)
	}
	if lang == "en" {
		return l.en
	}
	return l.ja
}

var statusLabels = map[Status]struct{ ja, en string }{
	StatusPending:   {"開始待ち", "Pending"},
	StatusActive:    {"有効", "Active"},
	StatusOnHold:    {"一時停止中", "On hold"},
	StatusCancelled: {"キャンセル済み", "Cancelled"},
	StatusExpired:   {"期限切れ", "Expired"},
}

// HoldReason says why a subscription is on hold; it decides what happens
// next.
type HoldReason string

// The hold reasons.
const (
	// HoldPaused: paused on purpose. Nothing is charged and nothing
	// happens until it is resumed or cancelled.
	HoldPaused HoldReason = "paused"
	// HoldPaymentFailed: renewals failed. Retries that the policy still
	// allows go on, a card change triggers an attempt at once, a
	// successful payment makes it active again, and it is cancelled when
	// the policy's grace period ends.
	HoldPaymentFailed HoldReason = "payment_failed"
)

// Action is something that moves a subscription between statuses.
type Action string

// The actions.
const (
	ActionActivate          Action = "activate"             // pending → active: the checkout succeeded
	ActionPause             Action = "pause"                // active → on_hold (paused)
	ActionResume            Action = "resume"               // on_hold → active
	ActionCancel            Action = "cancel"               // → cancelled, now
	ActionCancelAtPeriodEnd Action = "cancel_at_period_end" // stays as it is; cancelled when the paid period ends
	ActionWithdrawCancel    Action = "withdraw_cancel"      // undo cancel_at_period_end
	ActionExpire            Action = "expire"               // → expired: the end is reached
	ActionRenewalSucceeded  Action = "renewal_succeeded"    // a charge succeeded: next period
	ActionRenewalFailed     Action = "renewal_failed"       // a charge failed: retry, hold or reconcile
)

// transitions is the status machine as data: the actions each status
// allows, in the order a console shows its buttons. Conditions beyond the
// status (a scheduled cancellation to withdraw, an unconfirmed charge, an
// end that is reached) are checked by the State methods.
var transitions = map[Status][]Action{
	StatusPending: {ActionActivate, ActionCancel},
	StatusActive: {ActionPause, ActionCancelAtPeriodEnd, ActionWithdrawCancel, ActionCancel,
		ActionExpire, ActionRenewalSucceeded, ActionRenewalFailed},
	StatusOnHold: {ActionResume, ActionCancelAtPeriodEnd, ActionWithdrawCancel, ActionCancel,
		ActionExpire, ActionRenewalSucceeded, ActionRenewalFailed},
	StatusCancelled: nil,
	StatusExpired:   nil,
}

// Actions lists the actions status allows (none for final and unknown
// statuses). The slice is a copy.
func Actions(from Status) []Action {
	return slices.Clone(transitions[from])
}

// Stable error codes of refused actions (kessai.Error.Code, all
// KindConflict). Clients branch on them; the messages are for people.
const (
	CodeSubscriptionPending    = "subscription_pending"     // not started yet
	CodeSubscriptionNotPending = "subscription_not_pending" // activate: already started
	CodeSubscriptionOnHold     = "subscription_on_hold"     // pause: already on hold
	CodeSubscriptionNotOnHold  = "subscription_not_on_hold" // resume: not on hold
	CodeSubscriptionCancelled  = "subscription_cancelled"   // final
	CodeSubscriptionExpired    = "subscription_expired"     // final
	CodeCancelScheduled        = "cancel_already_scheduled" // cancel_at_period_end twice
	CodeCancelNotScheduled     = "cancel_not_scheduled"     // withdraw_cancel without one
	CodeRenewalUnconfirmed     = "renewal_unconfirmed"      // the last charge's outcome is unknown
	CodeSubscriptionNotEnded   = "subscription_not_ended"   // expire before the end
)

// actionLabels name the actions in messages.
var actionLabels = map[Action]struct{ ja, en string }{
	ActionActivate:          {"開始", "start it"},
	ActionPause:             {"一時停止", "pause it"},
	ActionResume:            {"再開", "resume it"},
	ActionCancel:            {"キャンセル", "cancel it"},
	ActionCancelAtPeriodEnd: {"期間終了時のキャンセル", "cancel it at the end of the period"},
	ActionWithdrawCancel:    {"キャンセル予約の取り消し", "withdraw the scheduled cancellation"},
	ActionExpire:            {"期限切れへの変更", "expire it"},
	ActionRenewalSucceeded:  {"継続課金の成功の記録", "record a successful renewal"},
	ActionRenewalFailed:     {"継続課金の失敗の記録", "record a failed renewal"},
}

// Allowed returns nil when the status allows the action, else a
// KindConflict *kessai.Error saying why in Japanese and English (an
// unknown status or action is a KindInternal error: a bug or a corrupt
// row, not something a user can fix).
func Allowed(from Status, a Action) error {
	l, known := actionLabels[a]
	if !known {
		return kessai.Internal(fmt.Errorf("subscription: unknown action %q", a))
	}
	if !from.Valid() {
		return kessai.Internal(fmt.Errorf("subscription: unknown status %q", from))
	}
	if slices.Contains(transitions[from], a) {
		return nil
	}
	conflict := func(code, ja, en string) error {
		return kessai.Errorf(kessai.KindConflict, code, ja, en)
	}
	switch {
	case from == StatusCancelled:
		return conflict(CodeSubscriptionCancelled,
			fmt.Sprintf("この定期購入はキャンセル済みのため、%sはできません。", l.ja),
			fmt.Sprintf("The subscription has been cancelled: you cannot %s.", l.en))
	case from == StatusExpired:
		return conflict(CodeSubscriptionExpired,
			fmt.Sprintf("この定期購入は期限切れ（終了済み）のため、%sはできません。", l.ja),
			fmt.Sprintf("The subscription has expired: you cannot %s.", l.en))
	case a == ActionActivate:
		return conflict(CodeSubscriptionNotPending,
			"この定期購入はすでに開始しています。",
			"The subscription has already started.")
	case from == StatusPending:
		return conflict(CodeSubscriptionPending,
			fmt.Sprintf("この定期購入はまだ開始していない（初回の手続きが完了していない）ため、%sはできません。", l.ja),
			fmt.Sprintf("The subscription has not started yet (its checkout has not completed): you cannot %s.", l.en))
	case a == ActionPause: // on hold
		return conflict(CodeSubscriptionOnHold,
			"この定期購入はすでに一時停止中です。",
			"The subscription is already on hold.")
	default: // resume of an active subscription
		return conflict(CodeSubscriptionNotOnHold,
			"この定期購入は一時停止中ではないため、再開できません。",
			"The subscription is not on hold, so it cannot be resumed.")
	}
}
