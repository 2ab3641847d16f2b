package subscription

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kessai/kessai"
)

const day = 24 * time.Hour

var monthly = Interval{Unit: Month, Count: 1}

// newActive is a monthly subscription started (and charged at checkout)
// at 10:00 JST on 31 January 2026: next due 28 February.
func newActive(t *testing.T, e End) State {
	t.Helper()
	start := jst(2026, 1, 31, 10, 0)
	s, err := New(start, time.Time{}, monthly, e)
	if err != nil {
		t.Fatal(err)
	}
	return must(t, "activate", []string{EventCreated})(s.Activate(start, true))
}

// must returns a checker of a State method's results: no error and the
// wanted events.
func must(t *testing.T, what string, events []string) func(State, []string, error) State {
	t.Helper()
	return func(s State, got []string, err error) State {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !slices.Equal(got, events) {
			t.Fatalf("%s: events %v; want %v", what, got, events)
		}
		return s
	}
}

// refused checks that a method refused with a conflict code and left the
// State alone.
func refused(t *testing.T, what string, before State, code string) func(State, []string, error) {
	t.Helper()
	return func(s State, events []string, err error) {
		t.Helper()
		e, ok := err.(*kessai.Error)
		if !ok || e.Kind != kessai.KindConflict || e.Code != code || e.Ja == "" || e.En == "" {
			t.Fatalf("%s: error %#v; want conflict %s", what, err, code)
		}
		if events != nil || !reflect.DeepEqual(s, before) {
			t.Fatalf("%s: refused but changed the state or emitted %v", what, events)
		}
	}
}

// tick checks Tick's results.
func tick(t *testing.T, s State, now time.Time, charge bool, events ...string) State {
	t.Helper()
	next, got, c := s.Tick(now)
	if c != charge || !slices.Equal(got, events) {
		t.Fatalf("Tick(%v) = charge %v, events %v; want %v, %v (state %+v)", now, c, got, charge, events, s)
	}
	return next
}

func TestNewValidates(t *testing.T) {
	start := jst(2026, 4, 1, 10, 0)
	_, err := New(start, start.Add(-day), Interval{Unit: Month, Count: 99}, End{At: start.Add(-time.Hour), MaxPayments: -1})
	want := []string{"interval.count:invalid_interval_count", "trial_end:trial_end_before_start",
		"max_payments:invalid_max_payments", "end_at:end_before_first_billing"}
	if got := fieldCodes(t, err); !slices.Equal(got, want) {
		t.Errorf("New errors = %v; want %v", got, want)
	}
	// The end date is checked against the first billing date, after the
	// trial: an end inside the trial would never charge anything.
	_, err = New(start, start.Add(14*day), monthly, End{At: start.Add(7 * day)})
	if got := fieldCodes(t, err); !slices.Equal(got, []string{"end_at:end_before_first_billing"}) {
		t.Errorf("end inside the trial: %v", got)
	}
	s, err := New(start, time.Time{}, Interval{Unit: Month, Count: 1, AnchorDay: 25}, End{MaxPayments: 12})
	if err != nil || s.Status != StatusPending || !s.First.Equal(jst(2026, 4, 25, 10, 0)) || s.Period != 0 || s.Paid != 0 ||
		!s.NextAttempt.IsZero() || s.End.MaxPayments != 12 {
		t.Errorf("New = %+v, %v", s, err)
	}
}

// TestPending: a pending subscription is never charged, and cancelling it
// emits nothing.
func TestPending(t *testing.T) {
	start := jst(2026, 4, 1, 10, 0)
	s, _ := New(start, time.Time{}, monthly, End{})
	tick(t, s, start.Add(365*day), false)
	if !s.WakeAt().IsZero() || !reflect.DeepEqual(s.CardChanged(start), s) {
		t.Error("pending subscription scheduled something")
	}
	refused(t, "pause", s, CodeSubscriptionPending)(s.Pause(start))
	refused(t, "renewed", s, CodeSubscriptionPending)(s.Renewed(start))
	c := must(t, "cancel", nil)(s.Cancel(start))
	if c.Status != StatusCancelled {
		t.Errorf("status %s", c.Status)
	}
}

// TestRenewals: charged at checkout, then on every billing date; 100
// periods on the 31st never drift.
func TestRenewals(t *testing.T) {
	s := newActive(t, End{})
	if s.Paid != 1 || s.Period != 1 || !s.Due().Equal(jst(2026, 2, 28, 10, 0)) || !s.NextAttempt.Equal(s.Due()) || !s.WakeAt().Equal(s.Due()) {
		t.Fatalf("after checkout: %+v", s)
	}
	for k := 1; k <= 100; k++ {
		due := monthly.Date(s.First, k)
		if !s.Due().Equal(due) || !s.WakeAt().Equal(due) {
			t.Fatalf("period %d due %v; want %v", k, s.Due(), due)
		}
		tick(t, s, due.Add(-time.Second), false)
		s = tick(t, s, due, true)
		s = must(t, "renewed", []string{EventRenewed})(s.Renewed(due.Add(2 * time.Minute)))
		if s.Paid != k+1 {
			t.Fatalf("paid %d after period %d", s.Paid, k)
		}
	}
	if want := jst(2034, 6, 30, 10, 0); !s.Due().Equal(want) {
		t.Errorf("after 100 renewals due %v; want %v", s.Due(), want)
	}
}

// TestTrial: no charge before the trial ends; the checkout only registers
// the card, the engine makes the first charge.
func TestTrial(t *testing.T) {
	start, trialEnd := jst(2026, 4, 1, 10, 0), jst(2026, 4, 15, 10, 0)
	s, err := New(start, trialEnd, monthly, End{})
	if err != nil || !s.First.Equal(trialEnd) {
		t.Fatalf("New = %+v, %v", s, err)
	}
	s = must(t, "activate", []string{EventCreated})(s.Activate(start, false))
	if s.Status != StatusActive || s.Paid != 0 || !s.NextAttempt.Equal(trialEnd) {
		t.Fatalf("after checkout: %+v", s)
	}
	tick(t, s, trialEnd.Add(-time.Nanosecond), false)
	s = tick(t, s, trialEnd, true)
	s = must(t, "renewed", []string{EventRenewed})(s.Renewed(trialEnd.Add(time.Minute)))
	if s.Paid != 1 || !s.Due().Equal(jst(2026, 5, 15, 10, 0)) {
		t.Errorf("after the first charge: %+v", s)
	}

	// Cancelled during the trial at the period's end: never charged.
	s, _ = New(start, trialEnd, monthly, End{})
	s, _, _ = s.Activate(start, false)
	s = must(t, "schedule cancel", []string{EventUpdated})(s.ScheduleCancel(jst(2026, 4, 5, 0, 0)))
	if !s.WakeAt().Equal(trialEnd) {
		t.Errorf("WakeAt %v", s.WakeAt())
	}
	s = tick(t, s, trialEnd, false, EventCancelled)
	if s.Status != StatusCancelled || s.Paid != 0 {
		t.Errorf("after the trial: %+v", s)
	}
}

// TestAnchored: the time before the first anchor date is free; the first
// charge is on it; a start on the anchor day is charged at checkout.
func TestAnchored(t *testing.T) {
	i := Interval{Unit: Month, Count: 1, AnchorDay: 1}
	start := jst(2026, 4, 10, 14, 0)
	s, _ := New(start, time.Time{}, i, End{})
	s, _, _ = s.Activate(start, false)
	if !s.NextAttempt.Equal(jst(2026, 5, 1, 14, 0)) {
		t.Fatalf("first charge %v", s.NextAttempt)
	}
	s = tick(t, s, jst(2026, 5, 1, 14, 0), true)
	s, _, _ = s.Renewed(jst(2026, 5, 1, 14, 1))
	if !s.Due().Equal(jst(2026, 6, 1, 14, 0)) {
		t.Errorf("due %v", s.Due())
	}

	start = jst(2026, 4, 1, 9, 0)
	s, _ = New(start, time.Time{}, i, End{})
	s, _, _ = s.Activate(start, true)
	if s.Paid != 1 || !s.Due().Equal(jst(2026, 5, 1, 9, 0)) {
		t.Errorf("start on the anchor day: %+v", s)
	}
}

// TestActivateUnpaidButDue: a checkout that only registered the card of a
// subscription due already is charged by the engine at once.
func TestActivateUnpaidButDue(t *testing.T) {
	start := jst(2026, 4, 1, 10, 0)
	s, _ := New(start, time.Time{}, monthly, End{})
	s, _, _ = s.Activate(start.Add(time.Minute), false)
	tick(t, s, start.Add(time.Minute), true)
	refused(t, "activate twice", s, CodeSubscriptionNotPending)(s.Activate(start, true))
}

// TestSoftFailuresThenCancel is the default policy end to end: retries
// after 1, 3, 5 days while active, on hold, cancelled 14 days later.
func TestSoftFailuresThenCancel(t *testing.T) {
	s := newActive(t, End{})
	due := s.Due() // 28 Feb 10:00
	s = tick(t, s, due, true)
	at := due.Add(5 * time.Minute)
	s = must(t, "1st failure", []string{EventRenewalFailed, EventRetryScheduled})(s.RenewalFailed(RetryPolicy{}, DeclineSoft, at))
	if s.Status != StatusActive || s.Failures != 1 || !s.NextAttempt.Equal(at.Add(day)) || !s.WakeAt().Equal(s.NextAttempt) {
		t.Fatalf("after the 1st failure: %+v", s)
	}
	for k, delay := range []time.Duration{3 * day, 5 * day} {
		tick(t, s, s.NextAttempt.Add(-time.Second), false)
		s = tick(t, s, s.NextAttempt, true)
		at = s.NextAttempt.Add(time.Minute)
		s = must(t, "retry failure", []string{EventRenewalFailed, EventRetryScheduled})(s.RenewalFailed(RetryPolicy{}, DeclineSoft, at))
		if s.Status != StatusActive || s.Failures != k+2 || !s.NextAttempt.Equal(at.Add(delay)) {
			t.Fatalf("after failure %d: %+v", k+2, s)
		}
	}
	s = tick(t, s, s.NextAttempt, true)
	at = s.NextAttempt
	s = must(t, "last failure", []string{EventRenewalFailed, EventOnHold})(s.RenewalFailed(RetryPolicy{}, DeclineSoft, at))
	if s.Status != StatusOnHold || s.Hold != HoldPaymentFailed || s.Failures != 4 || !s.NextAttempt.IsZero() ||
		!s.CancelAt.Equal(at.Add(14*day)) || !s.WakeAt().Equal(s.CancelAt) || s.Paid != 1 || !s.Due().Equal(due) {
		t.Fatalf("on hold: %+v", s)
	}
	tick(t, s, s.CancelAt.Add(-time.Second), false)
	s = tick(t, s, s.CancelAt, false, EventCancelled)
	if s.Status != StatusCancelled || !s.CancelAt.IsZero() || !s.WakeAt().IsZero() {
		t.Errorf("cancelled: %+v", s)
	}
}

// TestHardDeclineCardChange: a hard decline asks for a card at once; a
// card change charges at once; its success resumes, skipping nothing
// that is still ahead.
func TestHardDeclineCardChange(t *testing.T) {
	s := newActive(t, End{})
	at := jst(2026, 2, 28, 10, 5)
	s = must(t, "hard", []string{EventRenewalFailed, EventOnHold, EventCardRequired})(s.RenewalFailed(RetryPolicy{}, DeclineHard, at))
	if s.Status != StatusOnHold || s.Hold != HoldPaymentFailed || !s.NextAttempt.IsZero() || !s.CancelAt.Equal(at.Add(14*day)) {
		t.Fatalf("after a hard decline: %+v", s)
	}
	held := s

	changed := jst(2026, 3, 10, 12, 0)
	s = s.CardChanged(changed)
	if !s.NextAttempt.Equal(changed) || !s.CancelAt.IsZero() || s.Status != StatusOnHold {
		t.Fatalf("after the card change: %+v", s)
	}
	s = tick(t, s, changed, true)
	s = must(t, "recovered", []string{EventRenewed, EventResumed})(s.Renewed(changed.Add(time.Minute)))
	if s.Status != StatusActive || s.Hold != "" || s.Paid != 2 || s.Failures != 0 || !s.Due().Equal(jst(2026, 3, 31, 10, 0)) {
		t.Fatalf("after recovery: %+v", s)
	}

	// Paid weeks later (the customer paid the failed renewal order):
	// 31 March has passed and is skipped, not charged at once.
	s = must(t, "paid late", []string{EventRenewed, EventResumed})(held.Renewed(jst(2026, 4, 5, 9, 0)))
	if !s.Due().Equal(jst(2026, 4, 30, 10, 0)) || s.Period != 3 || s.Paid != 2 {
		t.Fatalf("after a late payment: %+v", s)
	}

	// The new card fails too (soft): retries continue, it stays on hold
	// without a second on_hold event, and the grace period restarts once
	// they are exhausted.
	s = held.CardChanged(changed)
	s = must(t, "new card fails", []string{EventRenewalFailed, EventRetryScheduled})(s.RenewalFailed(RetryPolicy{}, DeclineSoft, changed))
	if s.Status != StatusOnHold || s.Failures != 2 || !s.NextAttempt.Equal(changed.Add(3*day)) || !s.CancelAt.IsZero() {
		t.Fatalf("new card failing: %+v", s)
	}
	s = tick(t, s, s.NextAttempt, true)
	s, _, _ = s.RenewalFailed(RetryPolicy{}, DeclineSoft, s.NextAttempt)
	last := s.NextAttempt
	s = must(t, "exhausted", []string{EventRenewalFailed})(s.RenewalFailed(RetryPolicy{}, DeclineSoft, last))
	if !s.CancelAt.Equal(last.Add(14*day)) || !s.NextAttempt.IsZero() {
		t.Fatalf("exhausted again: %+v", s)
	}
}

// TestCardChangedNoOp: only a failing subscription is charged at once.
func TestCardChangedNoOp(t *testing.T) {
	now := jst(2026, 2, 10, 0, 0)
	s := newActive(t, End{})
	paused, _, _ := s.Pause(now)
	unconfirmed, _, _ := s.RenewalFailed(RetryPolicy{}, DeclineUnknown, s.Due())
	cancelled, _, _ := s.Cancel(now)
	for name, st := range map[string]State{"healthy": s, "paused": paused, "unconfirmed": unconfirmed, "cancelled": cancelled} {
		if got := st.CardChanged(now); !reflect.DeepEqual(got, st) {
			t.Errorf("%s: CardChanged changed %+v into %+v", name, st, got)
		}
	}
	// While retrying (active), the new card is tried at once.
	retrying, _, _ := s.RenewalFailed(RetryPolicy{}, DeclineSoft, s.Due())
	if got := retrying.CardChanged(now.Add(20 * day)); !got.NextAttempt.Equal(now.Add(20*day)) || got.Status != StatusActive {
		t.Errorf("retrying: %+v", got)
	}
}

// TestUnknownOutcome: never retried, nothing charged, no pause or resume
// until reconciled; the reconciled result is recorded like any other.
func TestUnknownOutcome(t *testing.T) {
	s := newActive(t, End{})
	due := s.Due()
	s = must(t, "unknown", nil)(s.RenewalFailed(RetryPolicy{}, Classify([]string{"NG"}), due))
	if !s.Unconfirmed || !s.NextAttempt.IsZero() || s.Status != StatusActive || s.Failures != 0 || !s.WakeAt().IsZero() {
		t.Fatalf("unconfirmed: %+v", s)
	}
	tick(t, s, due.Add(30*day), false)
	refused(t, "pause", s, CodeRenewalUnconfirmed)(s.Pause(due))

	ok := must(t, "reconciled paid", []string{EventRenewed})(s.Renewed(due.Add(time.Hour)))
	if ok.Unconfirmed || ok.Paid != 2 || !ok.Due().Equal(jst(2026, 3, 31, 10, 0)) {
		t.Errorf("reconciled as paid: %+v", ok)
	}
	failed := must(t, "reconciled failed", []string{EventRenewalFailed, EventRetryScheduled})(s.RenewalFailed(RetryPolicy{}, DeclineSoft, due.Add(time.Hour)))
	if failed.Unconfirmed || failed.Failures != 1 || !failed.NextAttempt.Equal(due.Add(25*time.Hour)) {
		t.Errorf("reconciled as failed: %+v", failed)
	}
	// On hold and unconfirmed (an attempt after a card change was lost):
	// resume waits for reconciliation too.
	held, _, _ := newActive(t, End{}).RenewalFailed(RetryPolicy{}, DeclineHard, due)
	held, _, _ = held.CardChanged(due.Add(day)).RenewalFailed(RetryPolicy{}, DeclineUnknown, due.Add(day))
	refused(t, "resume", held, CodeRenewalUnconfirmed)(held.Resume(due.Add(2 * day)))
	// Cancelling is always possible; the payment stays to be reconciled.
	c := must(t, "cancel", []string{EventCancelled})(held.Cancel(due.Add(2 * day)))
	if !c.Unconfirmed {
		t.Error("cancel forgot the unconfirmed charge")
	}
}

// TestPauseResume: nothing is charged while paused; resuming keeps a paid
// period still running and skips billing dates missed meanwhile.
func TestPauseResume(t *testing.T) {
	s := newActive(t, End{}) // paid until 28 Feb
	p := must(t, "pause", []string{EventOnHold})(s.Pause(jst(2026, 2, 10, 0, 0)))
	if p.Status != StatusOnHold || p.Hold != HoldPaused || !p.NextAttempt.IsZero() || !p.WakeAt().IsZero() {
		t.Fatalf("paused: %+v", p)
	}
	tick(t, p, jst(2026, 6, 1, 0, 0), false)
	refused(t, "pause twice", p, CodeSubscriptionOnHold)(p.Pause(jst(2026, 2, 11, 0, 0)))
	refused(t, "resume active", s, CodeSubscriptionNotOnHold)(s.Resume(jst(2026, 2, 11, 0, 0)))

	r := must(t, "resume soon", []string{EventResumed})(p.Resume(jst(2026, 2, 20, 0, 0)))
	if r.Status != StatusActive || r.Hold != "" || r.Period != 1 || !r.NextAttempt.Equal(jst(2026, 2, 28, 10, 0)) {
		t.Errorf("resumed within the paid period: %+v", r)
	}
	r = must(t, "resume late", []string{EventResumed})(p.Resume(jst(2026, 5, 15, 0, 0)))
	if r.Period != 4 || !r.Due().Equal(jst(2026, 5, 31, 10, 0)) || r.Paid != 1 {
		t.Errorf("resumed months later: %+v", r)
	}
	// Resumed on a billing date itself: that date is not ahead any more.
	r = must(t, "resume on a date", []string{EventResumed})(p.Resume(jst(2026, 3, 31, 10, 0)))
	if !r.Due().Equal(jst(2026, 4, 30, 10, 0)) {
		t.Errorf("resumed on a billing date: due %v", r.Due())
	}
	// A paused subscription that records a payment (the operator charged
	// it) or a failure stays paused and schedules nothing.
	paid := must(t, "paid while paused", []string{EventRenewed})(p.Renewed(jst(2026, 2, 28, 11, 0)))
	if paid.Status != StatusOnHold || paid.Hold != HoldPaused || !paid.NextAttempt.IsZero() || paid.Paid != 2 {
		t.Errorf("paid while paused: %+v", paid)
	}
	failed := must(t, "failed while paused", []string{EventRenewalFailed})(p.RenewalFailed(RetryPolicy{}, DeclineHard, jst(2026, 2, 28, 11, 0)))
	if failed.Hold != HoldPaused || !failed.NextAttempt.IsZero() || !failed.CancelAt.IsZero() || failed.Failures != 1 {
		t.Errorf("failed while paused: %+v", failed)
	}
	// Resuming a hold after failed payments forgives the failed period.
	held, _, _ := s.RenewalFailed(RetryPolicy{Delays: []time.Duration{}}, DeclineSoft, jst(2026, 2, 28, 10, 0))
	r = must(t, "resume failed", []string{EventResumed})(held.Resume(jst(2026, 3, 20, 0, 0)))
	if r.Failures != 0 || !r.CancelAt.IsZero() || !r.Due().Equal(jst(2026, 3, 31, 10, 0)) || r.Paid != 1 {
		t.Errorf("resumed after failures: %+v", r)
	}
	// Pausing while a renewal is retried stops the retries.
	retrying, _, _ := s.RenewalFailed(RetryPolicy{}, DeclineSoft, jst(2026, 2, 28, 10, 0))
	p = must(t, "pause retrying", []string{EventOnHold})(retrying.Pause(jst(2026, 3, 1, 0, 0)))
	if !p.NextAttempt.IsZero() {
		t.Errorf("paused with a retry: %+v", p)
	}
}

// TestCancel: at once from active and on hold; never twice.
func TestCancel(t *testing.T) {
	now := jst(2026, 2, 10, 0, 0)
	s := newActive(t, End{})
	c := must(t, "cancel", []string{EventCancelled})(s.Cancel(now))
	if c.Status != StatusCancelled || !c.NextAttempt.IsZero() || !c.WakeAt().IsZero() {
		t.Errorf("cancelled: %+v", c)
	}
	p, _, _ := s.Pause(now)
	c = must(t, "cancel paused", []string{EventCancelled})(p.Cancel(now))
	if c.Hold != "" {
		t.Errorf("cancelled kept its hold reason: %+v", c)
	}
	refused(t, "cancel twice", c, CodeSubscriptionCancelled)(c.Cancel(now))
}

// TestCancelAtPeriodEnd: active until the paid period ends, then
// cancelled instead of renewed; withdrawable until then.
func TestCancelAtPeriodEnd(t *testing.T) {
	s := newActive(t, End{})
	now := jst(2026, 2, 10, 0, 0)
	c := must(t, "schedule", []string{EventUpdated})(s.ScheduleCancel(now))
	if !c.CancelAtPeriodEnd || c.Status != StatusActive || !c.WakeAt().Equal(jst(2026, 2, 28, 10, 0)) {
		t.Fatalf("scheduled: %+v", c)
	}
	refused(t, "schedule twice", c, CodeCancelScheduled)(c.ScheduleCancel(now))
	tick(t, c, jst(2026, 2, 28, 9, 59), false)
	done := tick(t, c, jst(2026, 2, 28, 10, 0), false, EventCancelled)
	if done.Status != StatusCancelled || done.Paid != 1 {
		t.Errorf("at the period's end: %+v", done)
	}

	w := must(t, "withdraw", []string{EventUpdated})(c.WithdrawCancel(now))
	if w.CancelAtPeriodEnd {
		t.Error("still scheduled")
	}
	refused(t, "withdraw twice", w, CodeCancelNotScheduled)(w.WithdrawCancel(now))
	tick(t, w, jst(2026, 2, 28, 10, 0), true)

	// While a renewal is being retried the paid period is over: cancelled now.
	retrying, _, _ := s.RenewalFailed(RetryPolicy{}, DeclineSoft, jst(2026, 2, 28, 10, 0))
	done = must(t, "schedule while retrying", []string{EventCancelled})(retrying.ScheduleCancel(jst(2026, 3, 1, 0, 0)))
	if done.Status != StatusCancelled {
		t.Errorf("retrying: %+v", done)
	}
	// Paused mid-period: cancelled when the period it paid for ends.
	p, _, _ := s.Pause(now)
	p = must(t, "schedule paused", []string{EventUpdated})(p.ScheduleCancel(now))
	if !p.WakeAt().Equal(jst(2026, 2, 28, 10, 0)) {
		t.Errorf("paused WakeAt %v", p.WakeAt())
	}
	tick(t, p, jst(2026, 2, 28, 10, 0), false, EventCancelled)
}

// TestExpiry: the payment limit and the end date.
func TestExpiry(t *testing.T) {
	s := newActive(t, End{MaxPayments: 3}) // paid 31 Jan
	for _, due := range []time.Time{jst(2026, 2, 28, 10, 0), jst(2026, 3, 31, 10, 0)} {
		s = tick(t, s, due, true)
		s, _, _ = s.Renewed(due)
	}
	last := jst(2026, 4, 30, 10, 0)
	if s.Paid != 3 || !s.WakeAt().Equal(last) {
		t.Fatalf("after 3 payments: %+v, wake %v", s, s.WakeAt())
	}
	refused(t, "expire early", s, CodeSubscriptionNotEnded)(s.Expire(last.Add(-time.Second)))
	tick(t, s, last.Add(-time.Second), false)
	e := tick(t, s, last, false, EventExpired)
	if e.Status != StatusExpired || !e.NextAttempt.IsZero() || !e.WakeAt().IsZero() {
		t.Errorf("expired: %+v", e)
	}
	e = must(t, "expire", []string{EventExpired})(s.Expire(last))
	refused(t, "expire twice", e, CodeSubscriptionExpired)(e.Expire(last))

	// End date 15 April: 31 March is charged in full, 30 April never;
	// it expires on the 15th, on hold or not.
	s = newActive(t, End{At: jst(2026, 4, 15, 0, 0)})
	s, _, _ = s.Renewed(jst(2026, 2, 28, 10, 0))
	s = tick(t, s, jst(2026, 3, 31, 10, 0), true)
	s, _, _ = s.Renewed(jst(2026, 3, 31, 10, 0))
	if !s.WakeAt().Equal(jst(2026, 4, 15, 0, 0)) {
		t.Errorf("WakeAt %v", s.WakeAt())
	}
	tick(t, s, jst(2026, 4, 15, 0, 0), false, EventExpired)
	p, _, _ := s.Pause(jst(2026, 4, 1, 0, 0))
	if !p.WakeAt().Equal(jst(2026, 4, 15, 0, 0)) {
		t.Errorf("paused WakeAt %v", p.WakeAt())
	}
	tick(t, p, jst(2026, 4, 15, 0, 0), false, EventExpired)
	// A cancellation at the period's end on the same instant wins: the
	// customer asked for it.
	c, _, _ := s.ScheduleCancel(jst(2026, 4, 1, 0, 0))
	c.End = End{At: c.Due()}
	tick(t, c, c.Due(), false, EventCancelled)
}

// TestHoldAtFirstFailure is the policy of WooCommerce Subscriptions: on
// hold at the first failure, retries go on while on hold, a successful
// one resumes.
func TestHoldAtFirstFailure(t *testing.T) {
	p := RetryPolicy{Delays: []time.Duration{12 * time.Hour, day}, OnHoldAfter: 1}
	s := newActive(t, End{})
	due := s.Due()
	s = must(t, "1st", []string{EventRenewalFailed, EventOnHold, EventRetryScheduled})(s.RenewalFailed(p, DeclineSoft, due))
	if s.Status != StatusOnHold || s.Hold != HoldPaymentFailed || !s.NextAttempt.Equal(due.Add(12*time.Hour)) || !s.WakeAt().Equal(s.NextAttempt) {
		t.Fatalf("after the 1st failure: %+v", s)
	}
	s = tick(t, s, s.NextAttempt, true)
	s = must(t, "2nd", []string{EventRenewalFailed, EventRetryScheduled})(s.RenewalFailed(p, DeclineSoft, s.NextAttempt))
	s = tick(t, s, s.NextAttempt, true)
	s = must(t, "retry ok", []string{EventRenewed, EventResumed})(s.Renewed(s.NextAttempt))
	if s.Status != StatusActive || !s.Due().Equal(jst(2026, 3, 31, 10, 0)) {
		t.Errorf("resumed: %+v", s)
	}
}

// TestWeeklyLateRetrySkips: a weekly renewal that succeeds on a retry
// after the next billing date has passed does not charge that date at
// once: it is skipped.
func TestWeeklyLateRetrySkips(t *testing.T) {
	start := jst(2026, 3, 2, 9, 0)
	s, _ := New(start, time.Time{}, Interval{Unit: Week, Count: 1}, End{})
	s, _, _ = s.Activate(start, true)
	due := s.Due() // 9 March
	s, _, _ = s.RenewalFailed(RetryPolicy{}, DeclineSoft, due)
	s, _, _ = s.RenewalFailed(RetryPolicy{}, DeclineSoft, due.Add(day))
	s, _, _ = s.Renewed(due.Add(9 * day)) // 18 March: the 16th has passed
	if !s.Due().Equal(jst(2026, 3, 23, 9, 0)) || s.Paid != 2 {
		t.Errorf("after a late retry: %+v", s)
	}
}

// TestFinalStatesRefuseEverything: no method moves a cancelled or expired
// subscription, and time does nothing to it.
func TestFinalStatesRefuseEverything(t *testing.T) {
	now := jst(2026, 3, 1, 0, 0)
	for _, st := range []Status{StatusCancelled, StatusExpired} {
		s := newActive(t, End{})
		s.Status = st
		code := CodeSubscriptionCancelled
		if st == StatusExpired {
			code = CodeSubscriptionExpired
		}
		refused(t, "activate", s, code)(s.Activate(now, true))
		refused(t, "pause", s, code)(s.Pause(now))
		refused(t, "resume", s, code)(s.Resume(now))
		refused(t, "cancel", s, code)(s.Cancel(now))
		refused(t, "schedule", s, code)(s.ScheduleCancel(now))
		refused(t, "withdraw", s, code)(s.WithdrawCancel(now))
		refused(t, "expire", s, code)(s.Expire(now))
		refused(t, "renewed", s, code)(s.Renewed(now))
		refused(t, "failed", s, code)(s.RenewalFailed(RetryPolicy{}, DeclineSoft, now))
		if !reflect.DeepEqual(s.CardChanged(now), s) || !s.WakeAt().IsZero() {
			t.Errorf("%s: card change or wake-up", st)
		}
		tick(t, s, now.Add(1000*day), false)
	}
}
