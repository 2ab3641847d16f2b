// Package subscription holds the pure rules of recurring card billing (SUB-01
// … SUB-08, pro plan): no I/O, no store, no gateway, no clock of its own.
// The renewal engine stores a [State] per subscription, wakes up at
// [State.WakeAt], asks [State.Tick] whether to charge, charges through the
// gateway (SUB-03) and records the outcome with [State.Renewed] or
// [State.RenewalFailed]; customer and operator actions are the other State
// methods. Every method returns the new State and the event types to emit
// (see [EventTypes]), or a KindConflict *kessai.Error in Japanese and
// English with a stable Code, leaving the State as it was.
//
// The parts:
//
//   - Schedules: [Interval] (unit, count, anchor day) with [Interval.Date],
//     [Next] and [FirstBillingDate]; [Interval.Validate].
//   - Ends: [End] (end date, payment limit), [End.Allows], [Expired].
//   - Statuses: [Status], [Action], the table [Allowed] / [Actions], and
//     [HoldReason].
//   - Failures (SUB-04): [Classify] turns gateway codes into a [Decline]
//     class using the escott catalogue; [RetryPolicy] and [Decide] say what
//     follows.
//
// # Decisions
//
// Dates. Billing dates are JST calendar dates (escott.JST, a fixed UTC+9
// zone) at the first billing date's JST time of day, so a start at 23:30
// JST on 31 January renews at 23:30 JST on 28 February, whatever the
// server's zone. Days and weeks are fixed steps. Months and years aim at
// the anchor day (or the first date's day) and fall on the last day of
// shorter months, coming back in longer ones: 31 Jan → 28 Feb (29 in leap
// years) → 31 Mar → 30 Apr. A yearly schedule on 29 February falls on 28
// February in common years (2100 is one; 2000 was leap). The nth date is
// computed from the first date and n, never from the previous date, so
// nothing drifts. Counts are at most 365 days, 52 weeks, 24 months or 5
// years; an anchor day is for month and year units only.
//
// Trials and anchors. No charge before a trial ends: the first billing
// date is the trial's end, or with an anchor the first anchor date on or
// after it (for a yearly interval, that date's month is the renewal
// month). Anchored subscriptions are not prorated: the time up to the
// first anchor date is free and the first charge is the full amount. When
// the first billing date is later than the checkout, the checkout only
// registers the card (SUB-02) and the engine makes the first charge.
//
// Pending. A subscription is pending from the row written before the
// checkout's gateway call until the checkout succeeds ([State.Activate]).
// The status is needed because the row must exist before the call (design
// principle 3) while the first payment may fail or have an unknown
// outcome: a pending subscription is never charged, does not block
// deleting the card, and is cancelled without any event when the checkout
// fails, so the shop only hears of confirmed subscriptions. Trials are
// active, not pending.
//
// Ends. The end date is exclusive: billing dates before it are charged,
// in full, and the subscription expires at the end date. The payment
// limit counts successful payments, the checkout's included; the
// subscription expires when the period bought by the last one is over.
// Whichever comes first ends it.
//
// Pause and resume. Pausing (active → on hold) stops charging. Resuming
// (on hold → active) keeps the paid period if it has not ended, and
// otherwise bills next on the schedule's next future date: billing dates
// missed while on hold are skipped, never charged afterwards. The same
// rule follows every successful charge, so a late payment (after retries,
// reconciliation or an outage) never makes further periods due at once.
// Pause and resume are refused while a charge's outcome is unconfirmed.
//
// Cancelling. Cancel stops at once. Cancel at period end keeps the
// subscription as it is until the paid period ends, then cancels it with
// no renewal; when the paid period is already over (a renewal is failing)
// it cancels at once. It can be withdrawn until then.
//
// Failures (SUB-04). A declined renewal is classified from its response
// codes: soft (limit or balance for now: G54, G55, R08, R18; temporary
// gateway trouble; KH0; uncatalogued codes), hard (every other issuer
// decline such as G12, G56, G60, card data such as an expired card, card
// member problems such as a missing member, tokens, 3-D Secure; also a
// renewal that finds no stored card), shop (the shop's setup or our
// request: the card is not at fault), or unknown (no answer, or a
// transaction that may exist: never retried, reconciled first, design gap
// #25). The default policy retries soft and shop declines after 1, 3 and 5
// days while the subscription stays active (the customer keeps the
// service meanwhile), puts it on hold when the retries are exhausted, and
// cancels it 14 days later; a hard decline puts it on hold at once and
// asks for a new card. All three are configurable, including on hold from
// the first failure with retries going on (WooCommerce Subscriptions'
// behaviour). Delays are measured from each failed attempt. A card change
// charges a failing subscription at once and stops the grace period; a
// successful charge (a retry, the card change, the customer paying the
// failed renewal order, or the operator's charge ADMIN-09) makes it
// active again.
//
// Events. The package defines the event types and when they fire; one
// action may emit several, each stating one fact (renewal_failed, then
// on_hold, then retry_scheduled or card_required), so a shop mails the
// ones it wants. The published names subscription.created, .updated,
// .renewed and .canceled are kept.
package subscription
