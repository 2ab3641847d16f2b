package subscription

import (
	"errors"
	"slices"
	"time"

	"github.com/kessai/kessai"
)

// State is what the renewal engine stores of a subscription's billing, and
// all it needs to decide what to do next. Its methods are the lifecycle:
// each returns the new State and the events to emit, or a KindConflict
// *kessai.Error and the State unchanged; none of them changes its
// receiver, reads a clock or performs I/O.
//
// The engine's loop is: at WakeAt, call Tick; when Tick says charge, charge
// the amount for the period due at Due() (the subscription's stored card,
// 定期購入処理区分, a new transaction code: SUB-03), then record the
// outcome with Renewed or RenewalFailed.
type State struct {
	Status   Status
	Interval Interval
	End      End
	// First is the first billing date (see FirstBillingDate): billing date
	// n is Interval.Date(First, n).
	First time.Time
	// Period is the index of the next billing date to be charged; Due()
	// is its date. It moves past dates missed while on hold, never back.
	Period int
	// Paid counts successful payments, the checkout's included.
	Paid int
	// Failures counts consecutive failed attempts for the period due.
	Failures int
	// Hold says why the subscription is on hold; empty otherwise.
	Hold HoldReason
	// NextAttempt is when the next charge is due: Due() on schedule, a
	// retry's time after a failure, zero when nothing may be charged
	// (pending, paused, retries exhausted, outcome unconfirmed, final).
	NextAttempt time.Time
	// CancelAt is the end of the grace period after failed renewals; zero
	// when none runs.
	CancelAt time.Time
	// CancelAtPeriodEnd: cancelled when the paid period ends (at Due()),
	// with no further renewal.
	CancelAtPeriodEnd bool
	// Unconfirmed: the last charge's outcome is unknown. Nothing is
	// charged, and it cannot be paused or resumed, until the charge is
	// reconciled and recorded with Renewed or RenewalFailed.
	Unconfirmed bool
}

// New is a pending subscription started at start, with an optional
// trial ending at trialEnd (zero: none), billed every i until e. All
// input problems are reported at once as kessai.ValidationErrors.
// Activate confirms it after the checkout.
func New(start, trialEnd time.Time, i Interval, e End) (State, error) {
	var v kessai.ValidationErrors
	var ve kessai.ValidationErrors
	if err := i.Validate(); errors.As(err, &ve) {
		v = append(v, ve...)
	}
	if !trialEnd.IsZero() && trialEnd.Before(start) {
		v.Add(FieldTrialEnd, "trial_end_before_start",
			"お試し期間の終了日時は開始日時より後にしてください。",
			"The trial must end after the subscription starts.")
	}
	first := FirstBillingDate(start, trialEnd, i)
	if err := e.Validate(first); errors.As(err, &ve) {
		v = append(v, ve...)
	}
	if err := v.Err(); err != nil {
		return State{}, err
	}
	return State{Status: StatusPending, Interval: i, End: e, First: first}, nil
}

// Due is the next billing date to be charged: the end of the period paid
// last (or of the trial).
func (s State) Due() time.Time { return s.Interval.Date(s.First, s.Period) }

// nextIndex is the index of the first billing date strictly after now.
func (s State) nextIndex(now time.Time) int {
	_, n := Next(now, s.First, s.Interval)
	return n
}

// allowed checks the status machine and, for actions that reschedule,
// that no charge is awaiting reconciliation.
func (s State) allowed(a Action) error {
	if err := Allowed(s.Status, a); err != nil {
		return err
	}
	if s.Unconfirmed && (a == ActionPause || a == ActionResume) {
		return kessai.Errorf(kessai.KindConflict, CodeRenewalUnconfirmed,
			"前回の継続課金の結果を確認中です。決済の照合が終わるまで一時停止・再開はできません。",
			"The outcome of the last renewal charge is being confirmed: the subscription cannot be paused or resumed until the charge is reconciled.")
	}
	return nil
}

// Activate confirms a pending subscription once its checkout succeeded.
// paid says whether the checkout charged the first period (the first
// billing date had come: no trial, no anchor ahead); then it counts as
// the first payment and the next billing date is the following one.
// Otherwise (a trial, or an anchor date ahead, where the checkout only
// registered the card) the first billing date is the next one, charged by
// the engine. Emits EventCreated.
func (s State) Activate(now time.Time, paid bool) (State, []string, error) {
	if err := s.allowed(ActionActivate); err != nil {
		return s, nil, err
	}
	s.Status = StatusActive
	if paid {
		s.Paid = 1
		s.Period = max(1, s.nextIndex(now))
	}
	s.NextAttempt = s.Due()
	return s, []string{EventCreated}, nil
}

// Pause puts an active subscription on hold on purpose: nothing is
// charged until it is resumed. A renewal being retried stops with it. It
// is refused while a charge is unconfirmed. Emits EventOnHold.
func (s State) Pause(now time.Time) (State, []string, error) {
	if err := s.allowed(ActionPause); err != nil {
		return s, nil, err
	}
	s.Status, s.Hold = StatusOnHold, HoldPaused
	s.NextAttempt, s.CancelAt = time.Time{}, time.Time{}
	return s, []string{EventOnHold}, nil
}

// Resume makes an on-hold subscription active again (either reason). The
// next charge is the next billing date of the schedule that is still
// ahead: the paid period goes on if it has not ended, and billing dates
// missed while on hold are skipped, never charged afterwards — also the
// one whose failure caused the hold (its renewal order can still be paid
// by the customer, SUB-04, which counts as Renewed). Failures are
// cleared. Refused while a charge is unconfirmed. Emits EventResumed.
func (s State) Resume(now time.Time) (State, []string, error) {
	if err := s.allowed(ActionResume); err != nil {
		return s, nil, err
	}
	s.Status, s.Hold, s.Failures, s.CancelAt = StatusActive, "", 0, time.Time{}
	s.Period = max(s.Period, s.nextIndex(now))
	s.NextAttempt = s.Due()
	return s, []string{EventResumed}, nil
}

// Cancel cancels now. A pending subscription is dropped silently (its
// checkout failed or was abandoned: the shop never heard of it); any
// other emits EventCancelled. An unconfirmed charge stays to be
// reconciled: the payment is the order's, not the subscription's.
func (s State) Cancel(now time.Time) (State, []string, error) {
	if err := s.allowed(ActionCancel); err != nil {
		return s, nil, err
	}
	var events []string
	if s.Status != StatusPending {
		events = []string{EventCancelled}
	}
	return s.cancelled(), events, nil
}

// cancelled is s cancelled, with nothing left scheduled.
func (s State) cancelled() State {
	s.Status, s.Hold = StatusCancelled, ""
	s.NextAttempt, s.CancelAt = time.Time{}, time.Time{}
	return s
}

// ScheduleCancel cancels at the end of the paid period: the subscription
// stays as it is until Due(), then is cancelled instead of renewed. When
// that moment has passed already (a renewal is failing or was skipped),
// there is no paid period left and it is cancelled now. Emits
// EventUpdated, or EventCancelled when cancelled now.
func (s State) ScheduleCancel(now time.Time) (State, []string, error) {
	if err := s.allowed(ActionCancelAtPeriodEnd); err != nil {
		return s, nil, err
	}
	if s.CancelAtPeriodEnd {
		return s, nil, kessai.Errorf(kessai.KindConflict, CodeCancelScheduled,
			"この定期購入はすでに期間終了時のキャンセルが予約されています。",
			"The subscription is already set to cancel at the end of its period.")
	}
	if !now.Before(s.Due()) {
		return s.cancelled(), []string{EventCancelled}, nil
	}
	s.CancelAtPeriodEnd = true
	return s, []string{EventUpdated}, nil
}

// WithdrawCancel withdraws a scheduled cancellation: renewals go on.
// Emits EventUpdated.
func (s State) WithdrawCancel(now time.Time) (State, []string, error) {
	if err := s.allowed(ActionWithdrawCancel); err != nil {
		return s, nil, err
	}
	if !s.CancelAtPeriodEnd {
		return s, nil, kessai.Errorf(kessai.KindConflict, CodeCancelNotScheduled,
			"この定期購入にはキャンセルの予約がありません。",
			"The subscription is not set to cancel.")
	}
	s.CancelAtPeriodEnd = false
	return s, []string{EventUpdated}, nil
}

// Expire ends a subscription that has run out (see Expired); one that has
// not is refused, since expiry is not something to choose. Tick does this
// by itself. Emits EventExpired.
func (s State) Expire(now time.Time) (State, []string, error) {
	if err := s.allowed(ActionExpire); err != nil {
		return s, nil, err
	}
	if !Expired(s.End, s.Paid, s.Due(), now) {
		return s, nil, kessai.Errorf(kessai.KindConflict, CodeSubscriptionNotEnded,
			"この定期購入はまだ終了日時・支払回数の上限に達していません。",
			"The subscription has not reached its end date or payment limit.")
	}
	s.Status, s.Hold = StatusExpired, ""
	s.NextAttempt, s.CancelAt = time.Time{}, time.Time{}
	return s, []string{EventExpired}, nil
}

// Renewed records a successful charge of the period due (on time, on a
// retry, after a card change, after reconciliation, or the customer
// paying the failed renewal order). Failures and the grace period are
// cleared, and the next period is the next billing date after the paid
// one that is still ahead of now: a late payment does not make the
// following periods due at once. A subscription on hold for failed
// payments is active again (EventRenewed, EventResumed); a paused one
// stays paused (EventRenewed).
func (s State) Renewed(now time.Time) (State, []string, error) {
	if err := s.allowed(ActionRenewalSucceeded); err != nil {
		return s, nil, err
	}
	events := []string{EventRenewed}
	s.Paid++
	s.Failures, s.Unconfirmed, s.CancelAt = 0, false, time.Time{}
	s.Period = max(s.Period+1, s.nextIndex(now))
	if s.Status == StatusOnHold && s.Hold == HoldPaymentFailed {
		s.Status, s.Hold = StatusActive, ""
		events = append(events, EventResumed)
	}
	s.NextAttempt = time.Time{}
	if s.Status == StatusActive {
		s.NextAttempt = s.Due()
	}
	return s, events, nil
}

// RenewalFailed records a failed charge of the period due, with its
// decline class, and applies the policy (see Decide). An unknown outcome
// marks the State Unconfirmed and stops charging without events. A
// subscription already on hold stays on hold (only a payment or a resume
// ends a hold), without a second EventOnHold; a paused one only counts
// the failure — it is not being charged, so it schedules nothing.
func (s State) RenewalFailed(p RetryPolicy, d Decline, now time.Time) (State, []string, error) {
	if err := s.allowed(ActionRenewalFailed); err != nil {
		return s, nil, err
	}
	dec := Decide(p, s.Failures, d, now)
	if dec.Reconcile {
		s.Unconfirmed, s.NextAttempt = true, time.Time{}
		return s, nil, nil
	}
	s.Unconfirmed, s.Failures = false, dec.Failures
	if s.Status == StatusOnHold && s.Hold == HoldPaused {
		return s, []string{EventRenewalFailed}, nil
	}
	events := dec.Events
	if s.Status == StatusOnHold {
		events = slices.DeleteFunc(slices.Clone(events), func(e string) bool { return e == EventOnHold })
	}
	if s.Status == StatusOnHold || dec.Status == StatusOnHold {
		s.Status, s.Hold = StatusOnHold, HoldPaymentFailed
	}
	s.NextAttempt, s.CancelAt = dec.NextAttempt, dec.CancelAt
	return s, events, nil
}

// CardChanged is called for each of a customer's subscriptions when the
// customer registers or changes the stored card (MEMBER-04/05, SUB-06).
// A subscription whose renewal is failing — retrying while active, or on
// hold for failed payments — is charged again at once with the new card,
// and its grace period stops; a failure of that attempt continues the
// count of failures (so the grace period starts again rather than the
// retries). Any other subscription, and one whose charge is unconfirmed,
// is returned unchanged: the card is simply used at the next renewal.
// It never fails and emits nothing itself; the attempt's outcome does.
func (s State) CardChanged(now time.Time) State {
	failing := (s.Status == StatusActive && s.Failures > 0) ||
		(s.Status == StatusOnHold && s.Hold == HoldPaymentFailed)
	if !failing || s.Unconfirmed {
		return s
	}
	s.NextAttempt, s.CancelAt = now, time.Time{}
	return s
}

// Tick applies what time alone does to a subscription at now, in this
// order: a cancellation scheduled for the period's end, expiry (end date
// or payment limit), the end of the grace period after failed renewals.
// It then reports whether a charge is due now (charge is true when the
// subscription is active, or on hold for failed payments with an attempt
// scheduled, NextAttempt has come and no charge is unconfirmed). The
// engine calls it at WakeAt; calling it more often is harmless.
func (s State) Tick(now time.Time) (next State, events []string, charge bool) {
	if s.Status != StatusActive && s.Status != StatusOnHold {
		return s, nil, false
	}
	if s.CancelAtPeriodEnd && !now.Before(s.Due()) {
		return s.cancelled(), []string{EventCancelled}, false
	}
	if Expired(s.End, s.Paid, s.Due(), now) {
		next, events, _ = s.Expire(now)
		return next, events, false
	}
	if s.Status == StatusOnHold && s.Hold == HoldPaymentFailed && !s.CancelAt.IsZero() && !now.Before(s.CancelAt) {
		return s.cancelled(), []string{EventCancelled}, false
	}
	charge = !s.Unconfirmed && s.Hold != HoldPaused && !s.NextAttempt.IsZero() && !now.Before(s.NextAttempt)
	return s, nil, charge
}

// WakeAt is the earliest instant at which Tick may do something: the next
// attempt, a scheduled cancellation, expiry or the end of the grace
// period. Zero when nothing will happen by itself (pending, final,
// paused without an end, or waiting for reconciliation).
func (s State) WakeAt() time.Time {
	if s.Status != StatusActive && s.Status != StatusOnHold {
		return time.Time{}
	}
	var t time.Time
	earliest := func(c time.Time) {
		if !c.IsZero() && (t.IsZero() || c.Before(t)) {
			t = c
		}
	}
	if !s.Unconfirmed && s.Hold != HoldPaused {
		earliest(s.NextAttempt)
	}
	if s.CancelAtPeriodEnd {
		earliest(s.Due())
	}
	earliest(s.End.expiresAt(s.Paid, s.Due()))
	if s.Hold == HoldPaymentFailed {
		earliest(s.CancelAt)
	}
	return t
}
