// Package cvspay runs online payment collections (オンライン収納代行:
// convenience stores, Pay-easy, net banks, e-money) end to end over
// kessai.Store and the escott client: registration at checkout and from the
// admin console (2Add), the payment notification (入金結果通知), the
// operator's reference, change and cancel (2Ref, 2Chg, 2Del), expiry, and
// recovery after interruptions.
//
// The rules live elsewhere and are only applied here: fields, fee, due
// dates, expiry and the e-mail text in package collection; the state
// derived from the history, the operation table and the order status after
// payment in package card (DeriveCollectionState, PermitCollection,
// OrderStatusAfterCollectionPaid); the wire in escott. This package is the
// sequencing and the bookkeeping around each gateway call, on the same
// principles as package cardpay (design §2 principle 3, §4; the shared
// part is in internal/payflow):
//
//   - An order has at most one active payment (the store refuses a second),
//     so an order is registered once however often checkout is retried; a
//     retried checkout gets the registration it already has.
//   - Before a call that creates or changes a collection (2Add, 2Chg,
//     2Del) an attempt row is written (pending, with its MerchantFree1);
//     after it the outcome is written in one transaction with the history
//     row, the payment, the order (fee line, status) and the events. No
//     transaction spans a network call.
//   - A lost answer to 2Add leaves the attempt and the payment unknown:
//     never retried, the order blocked from a second registration until an
//     operator resolves it (Resolve).
//   - A payment notification is believed only when it names our merchant,
//     a collection of ours with the same order, and a 2Ref to the gateway
//     confirms the payment (design A-09). It is applied by a state check
//     inside one transaction, so duplicates, replays and a notification
//     racing the expiry job or a reconciliation apply at most once.
//   - Expiry is kessai's own decision (design A-07): a collection past its
//     due date is asked about once more (2Ref) and then marked expired or
//     paid; see Expire.
package cvspay

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/payflow"
	"github.com/kessai/kessai/service"
)

// PaymentIDPrefix starts every payment's ID, as for card payments.
const PaymentIDPrefix = payflow.PaymentIDPrefix

// Defaults of Config.
const (
	// DefaultStaleAfter is how long an attempt may stay pending before
	// the sweep declares it unknown, as for card payments.
	DefaultStaleAfter = payflow.DefaultStaleAfter
	// callTimeout bounds the work of one registration or operation once
	// started. The work goes on if the caller hangs up: a registration
	// abandoned half way would leave an unknown payment for nothing.
	callTimeout = 3 * time.Minute
	// sweepPage is how many payments a sweep reads per query.
	sweepPage = 500
)

// Config wires a Collector. Service and Gateways are required.
type Config struct {
	Service  *service.Service
	Gateways *gateway.Factory
	// ReturnURL is sent as 2Add's ReturnURL (the link back to the shop on
	// the collection agent's page) when neither the registration nor the
	// order names one. Empty: none is sent.
	ReturnURL string
	// Logger receives diagnostics; slog.Default when nil.
	Logger *slog.Logger
	// Rand is the randomness of transaction codes.
	Rand io.Reader
	// StaleAfter defaults to DefaultStaleAfter.
	StaleAfter time.Duration
}

// Collector runs online payment collections. It is safe for concurrent use.
type Collector struct {
	svc       *service.Service
	store     kessai.Store
	gw        *gateway.Factory
	returnURL string
	log       *slog.Logger
	rand      io.Reader
	stale     time.Duration
}

// New returns a Collector. It panics without Service or Gateways, which is
// a wiring mistake, not a runtime condition.
func New(cfg Config) *Collector {
	if cfg.Service == nil || cfg.Gateways == nil {
		panic("cvspay: Config.Service and Config.Gateways are required")
	}
	c := &Collector{svc: cfg.Service, store: cfg.Service.Store(), gw: cfg.Gateways, returnURL: cfg.ReturnURL,
		log: cfg.Logger, rand: cfg.Rand, stale: cfg.StaleAfter}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	if c.stale <= 0 {
		c.stale = DefaultStaleAfter
	}
	return c
}

// collectionMethod is the collection side of a shop, as payflow.LoadEnv
// loads it.
var collectionMethod = payflow.Method{
	Available: func(set *kessai.Settings) bool { ok, _ := set.CollectionAvailable(); return ok },
	Unavailable: func() *kessai.Error {
		return kessai.Errorf(kessai.KindConflict, "collection_unavailable",
			"コンビニ・電子マネー・Pay-easy 決済は現在ご利用いただけません。",
			"Convenience store, Pay-easy and e-money payments are not available in this shop.")
	},
	Client: (*gateway.Factory).Collection,
}

// env loads the shop's settings and collection client. Checkout needs the
// method usable (enabled and configured, SET-19); everything that works on
// an existing collection only needs the credentials, so that disabling the
// method for new orders does not strand the unpaid ones.
func (c *Collector) env(ctx context.Context, shopID string, needEnabled bool) (*payflow.Env, error) {
	return payflow.LoadEnv(ctx, c.svc, c.gw, collectionMethod, shopID, needEnabled)
}

func (c *Collector) now() time.Time { return c.svc.Now() }

// newCode returns a fresh MerchantFree1.
func (c *Collector) newCode() (string, error) { return payflow.NewCode(c.rand) }

// ---- errors ----

// Failure is a registration or operation the gateway refused or whose
// answer was lost, as the shop's backend sees it: a KindDeclined (or
// KindUnknown) kessai.Error with the message for people, plus the payment
// and the gateway codes for the shop's records. The codes are never shown
// to the shopper (ERR-01).
type Failure struct {
	Err       *kessai.Error
	PaymentID string
	OrderID   string
	Codes     []string
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

var errNotCollection = kessai.Errorf(kessai.KindInvalid, "not_a_collection",
	"オンライン収納代行（コンビニ・電子マネー・Pay-easy）の決済ではありません。",
	"This is not an online collection (convenience store, Pay-easy, e-money) payment.")

// errUnknownBlocks refuses a new registration while an earlier one's
// outcome is unknown: the shopper may hold a payment code already.
func errUnknownBlocks() *kessai.Error {
	return kessai.Errorf(kessai.KindConflict, "payment_unknown",
		"この注文の決済は結果が不明のままです。e-SCOTT の管理画面で取引を確認し、先に結果を確定してください。",
		"The outcome of this order's payment is unknown. Check the transaction in the e-SCOTT console and resolve it first.")
}

// errRegistrationUnknown is what the shopper reads after a lost answer to
// 2Add: nothing was paid, but a payment code may exist at the gateway, so
// the shopper must not be sent to register again.
func errRegistrationUnknown() *kessai.Error {
	return &kessai.Error{Kind: kessai.KindUnknown, Code: "payment_unknown",
		Ja: "お支払い手続きの受付結果を確認できませんでした。お手数ですが、再度のお手続きはせず、ショップからのご連絡をお待ちください。",
		En: "The registration of your payment could not be confirmed. Please do not try again; the shop will contact you."}
}

// errLightPlan is the edition rule (design A-20, ADMIN-18) worded for
// collections: light merchants operate collections in the e-SCOTT console.
// The code is card.CodeLightPlan, the same for every method.
func errLightPlan() *kessai.Error {
	return &kessai.Error{Kind: kessai.KindForbidden, Code: card.CodeLightPlan,
		Ja: "ライトプランでは kessai からオンライン収納代行の操作（参照・変更・取消・登録）はできません。e-SCOTT 管理画面で操作してください。",
		En: "The light plan has no collection operations in kessai (reference, change, cancel, registration). Please use the e-SCOTT merchant console."}
}

// checkPlan applies the edition rule; only PlanPro passes (an unset or
// damaged plan gets the smaller edition, as in card.CheckPlan).
func checkPlan(plan kessai.Plan) error {
	if plan == kessai.PlanPro {
		return nil
	}
	return errLightPlan()
}

// ---- gateway outcomes ----

// outcomeOf classifies a call's error as payflow.OutcomeOf does, and also
// counts as unknown a call that the caller's deadline cut off before it
// came back with a gateway error: the request may have been written. (A
// card operation that is cut off counts as failed; only a card
// authorisation makes the same exception, in cardpay's settleAuth.)
func outcomeOf(err error) payflow.Outcome {
	if oc := payflow.OutcomeOf(err); oc != payflow.Failed {
		return oc
	}
	if payflow.Cancelled(err) && !isGatewayErr(err) {
		return payflow.Unknown
	}
	return payflow.Failed
}

// gatewayCodes returns the failure codes of a call's error: the gateway's
// codes, or ["NG"] for no answer or an error before the call.
func gatewayCodes(err error) []string {
	if err == nil {
		return nil
	}
	if e, ok := escott.AsError(err); ok && len(e.Codes) > 0 {
		return e.Codes
	}
	return []string{escott.CodeNG}
}

// isGatewayErr reports whether err is the outcome of a gateway call (a
// refusal or no answer) rather than a store or programming error.
func isGatewayErr(err error) bool {
	_, ok := escott.AsError(err)
	return ok
}

// temporaryRefusal reports whether err is the gateway's answer with a
// temporary failure code (system error, maintenance): it says nothing
// about the operation's subject, and the same request can succeed later.
func temporaryRefusal(err error) bool {
	e, ok := escott.AsError(err)
	return ok && !e.NoAnswer() && e.Class().Retryable()
}

// hasCode reports whether a call's error carries the gateway code.
func hasCode(err error, code string) bool {
	e, ok := escott.AsError(err)
	if !ok {
		return false
	}
	for _, c := range e.Codes {
		if c == code {
			return true
		}
	}
	return false
}

// beginAttempt records the intent of a call that creates or changes a
// collection (design principle 3). The store allows one pending attempt
// per payment, so of two operators clicking at once only one reaches the
// gateway.
func (c *Collector) beginAttempt(ctx context.Context, pay *kessai.Payment, op escott.OperateID, amount int64) (*kessai.Attempt, error) {
	a := payflow.NewAttempt(c.now(), pay, op, pay.TransactionCode, amount)
	if err := payflow.AttemptErr(c.store.CreateAttempt(ctx, a)); err != nil {
		return nil, err
	}
	return a, nil
}

// ---- history ----

// historyEntry builds the history row of one answer (payflow.HistoryEntry)
// with fields even without an answer: a collection's own rows (expired,
// paid, the request's PayLimit and Amount) are written into them.
func (c *Collector) historyEntry(pay *kessai.Payment, op escott.OperateID, r *escott.Response, codes []string, amount int64) *kessai.HistoryEntry {
	h := payflow.HistoryEntry(c.now(), pay, op, r, codes, amount)
	if h.Fields == nil {
		h.Fields = map[string]string{}
	}
	return h
}

// ---- payment details ----

// Details is what the shopper needs to pay a registered collection (design
// A-06, CVS-08): the amount with the fee inside it, the due date, the
// payment link kept for e-mails (rkbn=2) and the channels, plus the
// ready-made e-mail block in Japanese and English.
type Details struct {
	collection.PaymentDetails
	// Instructions is the e-mail block (CVS-08) in Japanese,
	// InstructionsEn in English. Send them only while the collection is
	// unpaid (保留中 e-mails), never after payment.
	Instructions   string `json:"instructions"`
	InstructionsEn string `json:"instructions_en"`
}

// details builds the shopper's details of a registered collection; nil
// when it has no payment code (nothing registered, or registered by an
// operator's resolution without one).
func details(gw *escott.Client, pay *kessai.Payment) *Details {
	if pay.PayLimit == "" || pay.FreeArea == "" {
		return nil
	}
	pd, err := collection.NewPaymentDetails(pay.Amount, pay.Fee, pay.PayLimit, gw.PaymentURL(pay.FreeArea, true), nil)
	if err != nil {
		return nil // a PayLimit the gateway accepted always parses; nothing to show otherwise
	}
	return &Details{PaymentDetails: pd, Instructions: collection.EmailText(pd, "ja"), InstructionsEn: collection.EmailText(pd, "en")}
}

// eventData is the payload of a collection's payment.* events: the
// payment as the API shows it, plus the shopper's payment details while
// there is something to pay, so that a shop can (re-)send its e-mail from
// the event alone (CVS-08; after a change the payment link is new,
// ADMIN-13).
type eventData struct {
	*kessai.Payment
	Collection *Details `json:"collection,omitempty"`
}

// emit writes a payment event for pay in tx; withDetails adds the
// shopper's payment details.
func (c *Collector) emit(ctx context.Context, tx kessai.Store, gw *escott.Client, typ string, pay *kessai.Payment, withDetails bool) error {
	d := eventData{Payment: pay}
	if withDetails && gw != nil {
		d.Collection = details(gw, pay)
	}
	return c.svc.Emit(ctx, tx, pay.ShopID, typ, d)
}

// updateOrder applies change to the order as read in tx and, when change
// reports that it changed something, writes the order and emits
// order.updated (once, whatever changed); it returns the order and
// whether it changed. Reading and writing inside the
// transaction is safe against a concurrent writer: SQLite transactions
// take the write lock at BEGIN, and PostgreSQL runs them at REPEATABLE
// READ, where the second writer of the row fails and InTx runs it again.
func (c *Collector) updateOrder(ctx context.Context, tx kessai.Store, shopID, orderID string, change func(o *kessai.Order) bool) (*kessai.Order, bool, error) {
	o, err := tx.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return nil, false, err
	}
	if !change(o) {
		return o, false, nil
	}
	o.UpdatedAt = c.now()
	if err := tx.UpdateOrder(ctx, o); err != nil {
		return nil, false, err
	}
	return o, true, c.svc.Emit(ctx, tx, shopID, kessai.EventOrderUpdated, o)
}

// moveStatus returns a change for updateOrder that sets the status to to
// when it is one of from.
func moveStatus(from []kessai.OrderStatus, to kessai.OrderStatus) func(o *kessai.Order) bool {
	return func(o *kessai.Order) bool {
		if o.Status == to || !slices.Contains(from, o.Status) {
			return false
		}
		o.Status = to
		return true
	}
}

// setFee makes the order carry exactly fee as its settlement fee line
// (none for 0), with Amount = total before the fee + fee, and reports
// whether that changed the order. It is collection.ApplyFee with the fee
// already decided: the fee sent to the gateway is the one written, even if
// the table changed during the call (design A-04: the fee is added once).
func setFee(o *kessai.Order, fee int64) bool {
	base := collection.BaseAmount(o)
	if collection.CurrentFee(o) == fee {
		n := 0
		for _, it := range o.Items {
			if it.Fee {
				n++
			}
		}
		if (fee == 0 && n == 0) || (fee > 0 && n == 1) {
			return false
		}
	}
	items := make([]kessai.LineItem, 0, len(o.Items)+1)
	for _, it := range o.Items {
		if !it.Fee {
			items = append(items, it)
		}
	}
	if fee > 0 {
		items = append(items, collection.FeeLine(fee))
	}
	o.Items = items
	o.Amount = base + fee
	return true
}

// maskedFields returns notification or request fields in a form that is
// safe to log.
func maskedFields(v url.Values) url.Values { return escott.MaskValues(v) }
