// Package card holds the pure domain rules of kessai's gateway payments:
// no I/O, no clock of its own, no gateway calls. The flows that talk to
// e-SCOTT (checkout, the admin operations of ADMIN-04 … ADMIN-11, renewals,
// reconciliation) are built on top of it and ask it four questions:
//
//   - What state is this payment in? [DeriveState] (card, spec §12.2,
//     ADMIN-20) and [DeriveCollectionState] (online payment collection,
//     spec §10.4) compute it from the payment's operation history, which is
//     the one source of truth (design principle 4); the stored
//     kessai.Payment.State is only a copy for listing.
//   - May the operator do this now? [Allowed] and [Operations] are the
//     operation table of spec §12.3 as data; [CheckPlan] is the edition rule
//     (design A-20); [WithinHandlingPeriod] the 60-day limit (spec §12.4,
//     ADMIN-16); [CheckAmount] the amount rule of ADMIN-07/08; [Permit] and
//     [PermitCollection] combine them in the order a refusal is most useful.
//   - What does the order become? [OrderStatusAfterPayment] (CARD-15) and
//     [OrderStatusAfterCollectionPaid] (CVS-10, SET-17); [ShopperFailure]
//     says what the shopper reads after a decline (ERR-03).
//   - Is the shopper's installment choice acceptable? [CheckPayType]
//     (CARD-05), the server-side check the plugins never made.
//
// Every refusal is a *kessai.Error with a stable Code and a message in
// Japanese and English that names the state or rule in the way, so that the
// API, the admin console and the logs say the same thing.
package card
