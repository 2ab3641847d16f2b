package payflow

import (
	"context"
	"slices"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// CheckResolve validates an operator's resolution of a payment whose
// outcome is unknown (design gap #25) as far as the methods share it:
// outcome "succeeded" needs the ProcessId and ProcessPass the operator
// found in the e-SCOTT console, each accepted by handle (what a plausible
// handle looks like differs by method); "failed" takes none of them, nor
// any of extra (the method's further inputs, e.g. a collection's payment
// code); any other outcome is refused. The method adds its own checks of
// extra to the result.
func CheckResolve(outcome, processID, processPass string, handle func(string) bool, extra ...string) kessai.ValidationErrors {
	var v kessai.ValidationErrors
	switch outcome {
	case "succeeded":
		if !handle(processID) {
			v.Add("process_id", "required", "process_id（e-SCOTT の管理画面に表示される取引の ProcessId）を指定してください。",
				"process_id (the transaction's ProcessId from the e-SCOTT console) is required.")
		}
		if !handle(processPass) {
			v.Add("process_pass", "required", "process_pass（ProcessPass）を指定してください。", "process_pass is required.")
		}
	case "failed":
		if processID != "" || processPass != "" || slices.ContainsFunc(extra, func(s string) bool { return s != "" }) {
			v.Add("process_id", "unexpected", "failed の場合 process_id は指定しません。", "process_id is not taken with outcome failed.")
		}
	default:
		v.Add("outcome", "invalid_outcome", "outcome は succeeded か failed を指定してください。", "outcome must be succeeded or failed.")
	}
	return v
}

// UndecidedAttempt returns the attempt an operator's resolution settles:
// of the attempts of an unknown payment, the last undecided one (unknown,
// or still pending: not swept yet) whose operation is one of ops, or of any
// operation when ops is empty (a collection resolves only its
// registration; its changes and cancels are settled by a reference). A
// payment whose outcome is known is refused; one without such an attempt
// gives nil, which the caller reports as the internal error it is.
func UndecidedAttempt(ctx context.Context, st kessai.Store, pay *kessai.Payment, ops ...escott.OperateID) (*kessai.Attempt, error) {
	if pay.State != kessai.PaymentUnknown {
		return nil, kessai.Errorf(kessai.KindConflict, "payment_not_unknown", "この決済は結果不明ではありません。",
			"This payment's outcome is not unknown.")
	}
	atts, err := st.ListAttempts(ctx, pay.ShopID, pay.ID)
	if err != nil {
		return nil, StoreErr(err)
	}
	var att *kessai.Attempt
	for i := range atts {
		a := &atts[i]
		if (len(ops) == 0 || slices.Contains(ops, a.Operation)) && (a.Status == kessai.AttemptUnknown || a.Status == kessai.AttemptPending) {
			att = a
		}
	}
	return att, nil
}
