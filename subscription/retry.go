package subscription

import (
	"fmt"
	"slices"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Decline is what a failed renewal charge means for the next attempt.
type Decline string

// The decline classes (SUB-04).
const (
	// DeclineSoft: the same card may well be charged later — the limit
	// or balance is exhausted for now (G54, G55, UnionPay R08, R18), or
	// e-SCOTT or the card company had trouble (escott.ClassTemporary:
	// K96, K98, C02, C80, G95, …; and KH0, which e-SCOTT cancels itself).
	// Codes missing from the catalogue count as soft too: the gateway did
	// answer, so nothing was charged, and a few spaced retries cost
	// nothing.
	DeclineSoft Decline = "soft"
	// DeclineHard: retrying is pointless, the customer must register a
	// card — refused, invalid, stolen or expired card (the other issuer
	// declines, card data errors such as C13 or G83), card member missing
	// or unusable (escott.ClassMember, K45, K71, K75, …), and the flows a
	// renewal never takes (token, 3-D Secure). A renewal that finds no
	// stored card at all (SUB-04, 「カード会員情報が見つかりません。」)
	// is a hard decline too, though no call was made.
	DeclineHard Decline = "hard"
	// DeclineShop: the shop's own setup or our request is wrong
	// (escott.ClassMerchantConfig, ClassRequest, and answers a renewal
	// should never get). The card is not at fault, so no new card is
	// asked for; the attempt is retried on the policy's delays, since the
	// operator may fix the setup in the meantime.
	DeclineShop Decline = "shop"
	// DeclineUnknown: the outcome is unknown — no answer (NG), or an
	// answer saying a transaction may exist or be in progress (KBX, KBY
	// and the rest of escott.ClassTransactionState). Never retried: a
	// retry could charge twice (design, gap #25). The charge must be
	// reconciled first; the result is then recorded as a success or as a
	// failure of its own class.
	DeclineUnknown Decline = "unknown"
)

// softIssuerCodes are the issuer declines that clear by themselves: the
// card is fine, its limit or balance is not, for now.
var softIssuerCodes = []string{"G54", "G55", "R08", "R18"}

// declineRank orders the classes for a multi-code answer: the class
// whose consequence must come first wins, as in escott.ClassOf. Unknown
// first (reconcile before anything), then shop (other codes may be side
// effects of the broken setup), then hard, and soft only when every code
// is soft.
var declineRank = map[Decline]int{DeclineUnknown: 0, DeclineShop: 1, DeclineHard: 2, DeclineSoft: 3}

// Classify is the decline class of a failed renewal's ResponseCd codes
// (split or not: "G55|G56" is read as two codes). It builds on the
// escott catalogue's classes rather than a table of its own; OK codes
// are ignored, and no code at all is DeclineUnknown, since a failure
// without a reason cannot be trusted to be a failure.
func Classify(codes []string) Decline {
	best, found := DeclineUnknown, false
	for _, c := range codes {
		for _, code := range escott.SplitCodes(c) {
			if code == escott.CodeOK {
				continue
			}
			d := classifyCode(code)
			if !found || declineRank[d] < declineRank[best] {
				best, found = d, true
			}
		}
	}
	return best
}

// classifyCode maps one code.
func classifyCode(code string) Decline {
	switch escott.LookupCode(code).Class {
	case escott.ClassNoAnswer:
		return DeclineUnknown
	case escott.ClassTransactionState:
		if code == "KH0" { // e-SCOTT reports failure and cancels it itself
			return DeclineSoft
		}
		return DeclineUnknown
	case escott.ClassTemporary, escott.ClassUnknown:
		return DeclineSoft
	case escott.ClassIssuerDecline:
		if slices.Contains(softIssuerCodes, code) {
			return DeclineSoft
		}
		return DeclineHard
	case escott.ClassCardInput, escott.ClassMember, escott.ClassToken, escott.ClassThreeDS:
		return DeclineHard
	}
	// Merchant config, request, collection, shopper cancel.
	return DeclineShop
}

// Defaults of RetryPolicy.
const (
	DefaultCancelAfter = 14 * 24 * time.Hour
	// MaxRetries bounds Delays: card networks frown on merchants that
	// keep retrying a declined card.
	MaxRetries = 10
	// MaxRetryDelay and MaxCancelAfter bound the durations.
	MaxRetryDelay  = 30 * 24 * time.Hour
	MaxCancelAfter = 365 * 24 * time.Hour
)

// DefaultRetryDelays are the waits of the default policy: 1, 3 and 5
// days, so a renewal that keeps failing is tried four times over nine
// days.
func DefaultRetryDelays() []time.Duration {
	return []time.Duration{24 * time.Hour, 72 * time.Hour, 120 * time.Hour}
}

// RetryPolicy is what happens after a declined renewal (SUB-04). The zero
// value is the default policy: retries after 1, 3 and 5 days while the
// subscription stays active, on hold when they are exhausted, cancelled
// 14 days later unless a payment succeeds meanwhile.
type RetryPolicy struct {
	// Delays[k] is the wait after the (k+1)th consecutive failed attempt
	// before the next one, measured from that failure (so a late job never
	// causes two attempts in a row). nil means DefaultRetryDelays; an
	// empty, non-nil slice means no retry at all.
	Delays []time.Duration
	// OnHoldAfter is the number of consecutive failures from which the
	// subscription is on hold; retries still due go on while it is on
	// hold. 0 means len(Delays)+1: active while retrying, on hold once
	// the retries are exhausted. 1 puts it on hold at the first failure,
	// as WooCommerce Subscriptions does.
	OnHoldAfter int
	// CancelAfter is how long a subscription stays on hold after its last
	// automatic attempt failed before it is cancelled. A card change or a
	// successful payment stops the clock (the card change starts an
	// attempt, whose failure starts it again). 0 means
	// DefaultCancelAfter; negative means never (the shop cancels by hand).
	CancelAfter time.Duration
}

// withDefaults fills the zero fields and clamps OnHoldAfter, so that a
// stored policy that bypassed validation still decides sensibly.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Delays == nil {
		p.Delays = DefaultRetryDelays()
	}
	if p.OnHoldAfter <= 0 || p.OnHoldAfter > len(p.Delays)+1 {
		p.OnHoldAfter = len(p.Delays) + 1
	}
	if p.CancelAfter == 0 {
		p.CancelAfter = DefaultCancelAfter
	}
	return p
}

// Field names of the policy in validation errors.
const (
	FieldRetryDelays      = "retry.delays"
	FieldRetryOnHoldAfter = "retry.on_hold_after"
	FieldRetryCancelAfter = "retry.cancel_after"
)

// Validate checks a policy a shop configured: at most MaxRetries delays,
// each from a minute to MaxRetryDelay; OnHoldAfter from 0 to
// len(Delays)+1; CancelAfter at most MaxCancelAfter.
func (p RetryPolicy) Validate() error {
	var v kessai.ValidationErrors
	if len(p.Delays) > MaxRetries {
		v.Add(FieldRetryDelays, "too_many_retries",
			fmt.Sprintf("再試行は%d回までにしてください。", MaxRetries),
			fmt.Sprintf("At most %d retries are allowed.", MaxRetries))
	}
	for k, d := range p.Delays {
		if d < time.Minute || d > MaxRetryDelay {
			v.Add(fmt.Sprintf("%s[%d]", FieldRetryDelays, k), "invalid_retry_delay",
				"再試行までの間隔は1分〜30日で指定してください。",
				"Each retry delay must be between 1 minute and 30 days.")
		}
	}
	retries := len(p.Delays)
	if p.Delays == nil {
		retries = len(DefaultRetryDelays())
	}
	if p.OnHoldAfter < 0 || p.OnHoldAfter > retries+1 {
		v.Add(FieldRetryOnHoldAfter, "invalid_on_hold_after",
			fmt.Sprintf("一時停止にするまでの失敗回数は0（再試行がすべて失敗した後）〜%d回で指定してください。", retries+1),
			fmt.Sprintf("The failures before the hold must be between 0 (after the last retry) and %d.", retries+1))
	}
	if p.CancelAfter > MaxCancelAfter {
		v.Add(FieldRetryCancelAfter, "invalid_cancel_after",
			"一時停止からキャンセルまでの期間は365日以内で指定してください（負の値は自動キャンセルなし）。",
			"The time from the hold to the cancellation must be at most 365 days (negative: never cancel automatically).")
	}
	return v.Err()
}

// Decision is the consequence of one failed renewal attempt.
type Decision struct {
	// Failures is the number of consecutive failed attempts counting this
	// one (unchanged for an unknown outcome, which is not a failure yet).
	Failures int
	// Status is StatusActive or StatusOnHold; empty for an unknown
	// outcome, which changes nothing until it is reconciled.
	Status Status
	// NextAttempt is when to try again; zero for none.
	NextAttempt time.Time
	// CancelAt is when the grace period ends, set once no automatic
	// attempt is left (zero while retries remain, for an unknown outcome,
	// and when the policy never cancels).
	CancelAt time.Time
	// Reconcile: the outcome is unknown; nothing may be charged until the
	// attempt is reconciled.
	Reconcile bool
	// Events, in order, for a subscription that was active with
	// failuresSoFar failures: EventRenewalFailed, then EventOnHold when
	// this failure reaches OnHoldAfter (or is hard) and the earlier ones
	// did not, then EventRetryScheduled or EventCardRequired.
	Events []string
}

// Decide applies the policy to a failed renewal attempt at now, after
// failuresSoFar consecutive failed attempts for the same period, with
// the decline class d of this one (see Classify):
//
//   - unknown: no retry, no status change; reconcile first;
//   - hard: on hold at once, no retry, the customer must register a new
//     card, cancelled after the grace period;
//   - soft and shop: another attempt after Delays[failures-1] while
//     delays remain, on hold from OnHoldAfter failures, and the grace
//     period once the retries are exhausted.
//
// A class Decide does not know is handled as unknown: stopping for a
// person to look is safer than charging again.
func Decide(p RetryPolicy, failuresSoFar int, d Decline, now time.Time) Decision {
	p = p.withDefaults()
	failuresSoFar = max(failuresSoFar, 0)
	if d != DeclineSoft && d != DeclineHard && d != DeclineShop {
		return Decision{Failures: failuresSoFar, Reconcile: true}
	}
	dec := Decision{Failures: failuresSoFar + 1, Status: StatusActive, Events: []string{EventRenewalFailed}}
	wasHeld := failuresSoFar >= p.OnHoldAfter
	retry := d != DeclineHard && dec.Failures <= len(p.Delays)
	if d == DeclineHard || dec.Failures >= p.OnHoldAfter {
		dec.Status = StatusOnHold
		if !wasHeld {
			dec.Events = append(dec.Events, EventOnHold)
		}
	}
	switch {
	case retry:
		dec.NextAttempt = now.Add(p.Delays[dec.Failures-1])
		dec.Events = append(dec.Events, EventRetryScheduled)
	case p.CancelAfter > 0:
		dec.CancelAt = now.Add(p.CancelAfter)
	}
	if d == DeclineHard {
		dec.Events = append(dec.Events, EventCardRequired)
	}
	return dec
}
