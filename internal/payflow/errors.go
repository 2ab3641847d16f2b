package payflow

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// The refusals every method gives in the same words.
var (
	// ErrInProgress: a payment of the order is being processed (a call
	// under way, a browser return being handled, another request that got
	// there first); wait for it.
	ErrInProgress = kessai.Errorf(kessai.KindConflict, "payment_in_progress",
		"この注文の決済はすでに処理中です。完了までお待ちください。",
		"A payment of this order is already in progress. Wait for it to finish.")
	// ErrAlreadyPaid: the order has its payment.
	ErrAlreadyPaid = kessai.Errorf(kessai.KindConflict, "order_already_paid",
		"この注文はすでに支払い済みです。", "This order has already been paid.")
)

// ErrGatewayUnavailable is the answer when the gateway gave none to a call
// that moves no money (a reference, a member look-up): nothing happened,
// so try again later.
func ErrGatewayUnavailable() *kessai.Error {
	return kessai.Errorf(kessai.KindUnavailable, "gateway_unavailable",
		"決済代行会社に接続できませんでした。しばらくしてから再度お試しください。",
		"The payment gateway could not be reached. Please try again later.")
}

// NoAnswer reports whether err is a gateway call that got no usable
// answer (NG: timeout, reset, empty body).
func NoAnswer(err error) bool {
	e, ok := escott.AsError(err)
	return ok && e.NoAnswer()
}

// Cancelled reports whether err is the caller's context ending (cancelled
// or past its deadline).
func Cancelled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// StoreErr gives store errors a kind (the service's translation is not
// exported; these are the cases the payment packages meet). Kinded errors
// pass unchanged; nil stays nil.
func StoreErr(err error) error {
	if err == nil {
		return nil
	}
	var ke *kessai.Error
	if errors.As(err, &ke) {
		return err
	}
	if Cancelled(err) {
		return &kessai.Error{Kind: kessai.KindUnavailable, Code: "request_cancelled",
			Ja: "処理が中断されました。もう一度お試しください。", En: "The request was interrupted. Please try again.", Err: err}
	}
	return kessai.Internal(err)
}

// Internalf is an internal error with a formatted cause.
func Internalf(format string, args ...any) error { return kessai.Internal(fmt.Errorf(format, args...)) }

// PayableStatuses are the order statuses a shopper may start a payment
// from, whatever the method: not yet paid, or failed before (CARD-17: the
// shopper can retry, with the same method or another).
var PayableStatuses = []kessai.OrderStatus{kessai.OrderPending, kessai.OrderFailed}

// Payable reports whether an order in status s may be paid now.
func Payable(s kessai.OrderStatus) bool { return slices.Contains(PayableStatuses, s) }

// ErrNotPayable refuses a checkout of an order in a status outside
// PayableStatuses.
func ErrNotPayable(o *kessai.Order) *kessai.Error {
	return kessai.Errorf(kessai.KindConflict, "order_not_payable",
		fmt.Sprintf("この注文（%s）はお支払いできる状態ではありません。", o.Status.Label()),
		fmt.Sprintf("The order cannot be paid in status %q.", o.Status))
}
