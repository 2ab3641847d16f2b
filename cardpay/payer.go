// Package cardpay runs card payments end to end: checkout with a token or a
// saved card, 3-D Secure, the external link type, saved-card management
// and the order operations (capture, cancel, amount change, re-auth,
// reference, new charge), over kessai.Store and the escott client.
//
// The rules it applies live in package card (states, permissions, PayType,
// order status) and in escott (the wire); this package is the sequencing
// and the bookkeeping around each gateway call (the part collections share
// is in internal/payflow), which follows design §2 principle 3 and §4:
//
//   - An order has at most one active payment (the store refuses a second,
//     kessai.PaymentState.Active), so two simultaneous checkouts of one
//     order charge once: the loser is told the payment is in progress.
//   - Before a call that moves money, an attempt row is written (pending,
//     with its MerchantFree1); after it, the outcome is written in one
//     transaction with the history entry, the payment's derived state, the
//     order status and the events. No transaction spans a network call.
//   - A lost answer (timeout, reset, empty body after the request was
//     written) leaves the attempt and the payment unknown: never retried,
//     the shopper told not to pay again, the order blocked from a second
//     charge until an operator resolves it (Resolve).
//   - Browser round trips (3-D Secure, link type) keep their state in a
//     CheckoutSession found by the echoed MerchantFree1 and consumed once:
//     a replayed return finds it consumed and is refused; a tampered one
//     does not decrypt.
package cardpay

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/payflow"
	"github.com/kessai/kessai/service"
)

// PaymentIDPrefix starts every payment's ID (shared with collections).
const PaymentIDPrefix = payflow.PaymentIDPrefix

// Defaults of Config.
const (
	// DefaultSessionTTL bounds a browser round trip: the gateway ends a
	// 3-D Secure session after 40 minutes of inactivity (U06), so an hour
	// leaves room for the return without keeping token state for long.
	DefaultSessionTTL = time.Hour
	// DefaultStaleAfter is how long an attempt may stay pending before
	// the sweep declares it unknown (payflow.DefaultStaleAfter).
	DefaultStaleAfter = payflow.DefaultStaleAfter
)

// Config wires a Payer. Service and Gateways are required.
type Config struct {
	Service  *service.Service
	Gateways *gateway.Factory
	// ReturnURL is the absolute URL the gateway sends the shopper's
	// browser back to (the receiver, e.g. https://pay.example.jp/escott/notify).
	// Keep it short: the gateway is reported to accept 64 characters.
	ReturnURL string
	// Logger receives diagnostics; slog.Default when nil.
	Logger *slog.Logger
	// Rand is the randomness of transaction codes and member ids.
	Rand io.Reader
	// SessionTTL and StaleAfter default to the constants above.
	SessionTTL time.Duration
	StaleAfter time.Duration
	// CardSaved, when set, is told after a customer's saved card was
	// registered or replaced (checkout, my cards, link type): the renewal
	// engine retries a failed renewal at once (SUB-06). It must not
	// block.
	CardSaved func(ctx context.Context, shopID, customerID string)
}

// Payer runs card payments. It is safe for concurrent use.
type Payer struct {
	svc       *service.Service
	store     kessai.Store
	gw        *gateway.Factory
	returnURL string
	log       *slog.Logger
	rand      io.Reader
	ttl       time.Duration
	stale     time.Duration
	cardSaved func(ctx context.Context, shopID, customerID string)
}

// New returns a Payer.
func New(cfg Config) *Payer {
	if cfg.Service == nil || cfg.Gateways == nil {
		panic("cardpay: Config.Service and Config.Gateways are required")
	}
	p := &Payer{svc: cfg.Service, store: cfg.Service.Store(), gw: cfg.Gateways, returnURL: cfg.ReturnURL,
		log: cfg.Logger, rand: cfg.Rand, ttl: cfg.SessionTTL, stale: cfg.StaleAfter, cardSaved: cfg.CardSaved}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.rand == nil {
		p.rand = rand.Reader
	}
	if p.ttl <= 0 {
		p.ttl = DefaultSessionTTL
	}
	if p.stale <= 0 {
		p.stale = DefaultStaleAfter
	}
	return p
}

// cardMethod is the card side of a shop, as payflow.LoadEnv loads it.
var cardMethod = payflow.Method{
	Available: func(set *kessai.Settings) bool { ok, _ := set.CardAvailable(); return ok },
	Unavailable: func() *kessai.Error {
		return kessai.Errorf(kessai.KindConflict, "card_unavailable",
			"クレジットカード決済は現在ご利用いただけません。", "Card payments are not available in this shop.")
	},
	Client: (*gateway.Factory).Card,
}

// env loads the shop's settings and card client. The card method must be
// usable (enabled and configured) for checkout; operations on existing
// payments only need the credentials, so they pass needEnabled=false.
func (p *Payer) env(ctx context.Context, shopID string, needEnabled bool) (*payflow.Env, error) {
	return payflow.LoadEnv(ctx, p.svc, p.gw, cardMethod, shopID, needEnabled)
}

func (p *Payer) now() time.Time { return p.svc.Now() }

// newCode returns a fresh MerchantFree1.
func (p *Payer) newCode() (string, error) { return payflow.NewCode(p.rand) }

// historyEntry builds the history row of one answer (payflow.HistoryEntry).
func (p *Payer) historyEntry(pay *kessai.Payment, op escott.OperateID, r *escott.Response, codes []string, amount int64) *kessai.HistoryEntry {
	return payflow.HistoryEntry(p.now(), pay, op, r, codes, amount)
}

// gatewayCodes returns the failure codes of a gateway error (["NG"] for no
// answer), or nil for a non-gateway error.
func gatewayCodes(err error) []string {
	if e, ok := escott.AsError(err); ok {
		return e.Codes
	}
	return nil
}

// notSent reports a call that certainly did not reach the gateway: no
// answer, and the client knows the request was never written (or the
// error is not a gateway error at all).
func notSent(err error) bool {
	if err == nil || escott.IsUncertain(err) {
		return false
	}
	e, ok := escott.AsError(err)
	return !ok || e.NoAnswer()
}

// Failure is a payment that did not go through, as the shop's backend
// sees it: a KindDeclined (or KindUnknown for a lost answer) kessai.Error
// with the shopper's message, plus the payment and the gateway codes for
// the shop's own records (never to be shown to the shopper, ERR-01).
type Failure struct {
	Err       *kessai.Error
	PaymentID string
	OrderID   string
	Codes     []string
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// declined builds the shopper-facing failure for gateway codes: nothing
// was charged (a lost answer is unknownFailure instead).
func declined(code string, pay *kessai.Payment, orderID string, codes []string) *Failure {
	ja, en := card.ShopperFailure(codes)
	f := &Failure{Err: &kessai.Error{Kind: kessai.KindDeclined, Code: code, Ja: ja, En: en}, OrderID: orderID, Codes: codes}
	if pay != nil {
		f.PaymentID = pay.ID
	}
	return f
}

// failureWith builds a failure with a fixed message (member and 3DS
// failures have their own texts, CARD-07/08/09).
func failureWith(code, ja, en string, pay *kessai.Payment, orderID string, codes []string) *Failure {
	f := &Failure{Err: &kessai.Error{Kind: kessai.KindDeclined, Code: code, Ja: ja, En: en}, OrderID: orderID, Codes: codes}
	if pay != nil {
		f.PaymentID = pay.ID
	}
	return f
}

// unreachedFailure is the answer when the gateway certainly did not act:
// the request was never written (connection refused, request not built),
// so nothing was charged and the shopper may simply try again — unlike a
// lost answer, which must say "do not pay again".
func unreachedFailure(code string, pay *kessai.Payment, orderID string, codes []string) *Failure {
	return failureWith(code, "決済サービスに接続できなかったため、お支払いは完了していません（請求は発生していません）。しばらくしてからもう一度お試しください。",
		"The payment service could not be reached, so the payment did not go through and nothing was charged. Please try again in a moment.",
		pay, orderID, codes)
}

// unknownFailure is the answer for a lost authorisation (design gap #25).
func unknownFailure(pay *kessai.Payment) *Failure {
	return &Failure{Err: errPaymentUnknown(), PaymentID: pay.ID, OrderID: pay.OrderID, Codes: []string{escott.CodeNG}}
}

func errPaymentUnknown() *kessai.Error {
	return &kessai.Error{Kind: kessai.KindUnknown, Code: "payment_unknown",
		Ja: "決済結果を確認できませんでした。二重決済を防ぐため、再度のお支払いはしないでください。ショップからのご連絡をお待ちください。",
		En: "The payment result could not be confirmed. To avoid paying twice, do not pay again; the shop will contact you."}
}

// serviceCheckURL checks a return URL (service.CheckReturnURL).
func serviceCheckURL(raw string) *kessai.Error {
	if err := service.CheckReturnURL("return_url", raw); err != nil {
		var ke *kessai.Error
		if errors.As(err, &ke) {
			return ke
		}
	}
	return nil
}
