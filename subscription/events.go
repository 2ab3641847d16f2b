package subscription

import "github.com/kessai/kessai"

// Event types the renewal engine emits, as the State methods return them.
// Each event states one fact, so a shop mails exactly what it wants (a
// failed charge with a retry date, a hold, a request for a new card) and
// ignores the rest. Several may come from one action, in the order given
// by the method. The four already published by the root package keep
// their names (note the published spelling "subscription.canceled").
const (
	// EventCreated fires when a pending subscription becomes active at
	// checkout (never for a pending one that is abandoned).
	EventCreated = kessai.EventSubscriptionCreated
	// EventUpdated fires when a cancellation at the period's end is
	// scheduled or withdrawn.
	EventUpdated = kessai.EventSubscriptionUpdated
	// EventRenewed fires on every successful charge after the checkout:
	// the first one after a trial or before an anchor date, a scheduled
	// renewal, a successful retry, and the late payment of a failed
	// renewal order.
	EventRenewed = kessai.EventSubscriptionRenewed
	// EventRenewalFailed fires on every declined renewal charge, first
	// attempt and retries alike (not for an unknown outcome, which
	// payment.unknown reports and which is settled by reconciliation).
	EventRenewalFailed = kessai.EventSubscriptionRenewalFailed
	// EventRetryScheduled follows EventRenewalFailed when the policy
	// schedules another attempt (its time is the State's NextAttempt).
	EventRetryScheduled = kessai.EventSubscriptionRetryScheduled
	// EventCardRequired follows a hard decline (or a renewal that found no
	// stored card): no retry can succeed, the customer must register a
	// new card on the my-cards page (design A-15).
	EventCardRequired = kessai.EventSubscriptionCardRequired
	// EventOnHold fires when a subscription goes on hold: paused, or after
	// failed renewals (with the failure's events; the State's CancelAt,
	// once set, says when the grace period ends).
	EventOnHold = kessai.EventSubscriptionOnHold
	// EventResumed fires when an on-hold subscription becomes active
	// again: resumed, or its failed renewal finally paid.
	EventResumed = kessai.EventSubscriptionResumed
	// EventCancelled fires when an active or on-hold subscription is
	// cancelled: at once, at the end of its period as scheduled, or at the
	// end of the grace period after failed renewals.
	EventCancelled = kessai.EventSubscriptionCancelled
	// EventExpired fires when a subscription runs out by its end date or
	// payment limit.
	EventExpired = kessai.EventSubscriptionExpired
)

// EventTypes lists every event type above (all in kessai.EventTypes).
var EventTypes = []string{
	EventCreated, EventUpdated, EventRenewed, EventRenewalFailed, EventRetryScheduled,
	EventCardRequired, EventOnHold, EventResumed, EventCancelled, EventExpired,
}
