package subscription

import (
	"time"

	"github.com/kessai/kessai"
)

// MaxPayments is the largest payment limit a subscription may have; more
// is an input mistake, not a plan.
const MaxPayments = 9999

// End is when a subscription runs out by itself. Both conditions are
// optional and may be combined; the first one reached ends it.
type End struct {
	// At is the end of the service. It is exclusive: a billing date at or
	// after At is not charged, and the subscription expires at At. The
	// last charge is the last billing date before At, for a full period,
	// without proration or refund of the part after At. To end "after
	// 31 December", pass 1 January 00:00 JST. Zero: no end date.
	At time.Time `json:"end_at,omitzero"`
	// MaxPayments is the number of successful payments after which the
	// subscription ends, the checkout's first payment included; it expires
	// when the period bought by the last one is over (the billing date
	// that would have been next). Periods skipped while on hold do not
	// count. 0: unlimited.
	MaxPayments int `json:"max_payments,omitempty"`
}

// Field names of the end conditions and the trial in validation errors.
const (
	FieldTrialEnd    = "trial_end"
	FieldEndAt       = "end_at"
	FieldMaxPayments = "max_payments"
)

// Validate checks the end conditions of a subscription whose first
// billing date is first: a limit between 0 and MaxPayments, and an end
// date after first, since one at or before it would end the subscription
// before anything was charged.
func (e End) Validate(first time.Time) error {
	var v kessai.ValidationErrors
	if e.MaxPayments < 0 || e.MaxPayments > MaxPayments {
		v.Add(FieldMaxPayments, "invalid_max_payments",
			"支払回数の上限は0（無制限）〜9999回で指定してください。",
			"The maximum number of payments must be between 0 (unlimited) and 9999.")
	}
	if !e.At.IsZero() && !e.At.After(first) {
		v.Add(FieldEndAt, "end_before_first_billing",
			"終了日時は初回の課金日時より後にしてください。",
			"The end date must be after the first billing date.")
	}
	return v.Err()
}

// Allows reports whether the payment due at due may be charged after paid
// successful payments: due is before At and the limit is not reached.
func (e End) Allows(due time.Time, paid int) bool {
	if !e.At.IsZero() && !due.Before(e.At) {
		return false
	}
	return e.MaxPayments <= 0 || paid < e.MaxPayments
}

// Expired reports whether a subscription with these end conditions has
// run out at now, after paid successful payments, with its next billing
// date at nextDue: from At on, or once the limit is reached and the
// period bought by the last payment is over (now at or after nextDue).
// It is exactly "the next payment will never be charged and its time has
// come, or the end date has passed", so the renewal engine asks it before
// charging and expires the subscription instead.
func Expired(e End, paid int, nextDue, now time.Time) bool {
	if !e.At.IsZero() && !now.Before(e.At) {
		return true
	}
	return !now.Before(nextDue) && !e.Allows(nextDue, paid)
}

// expiresAt is the instant Expired first becomes true for a fixed paid
// and nextDue, or zero when it never does.
func (e End) expiresAt(paid int, nextDue time.Time) time.Time {
	t := e.At
	if !e.Allows(nextDue, paid) && (t.IsZero() || nextDue.Before(t)) {
		t = nextDue
	}
	return t
}
