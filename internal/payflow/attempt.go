package payflow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Outcome is how a gateway call ended, for the bookkeeping.
type Outcome int

// The outcomes of a call.
const (
	Succeeded Outcome = iota
	Failed
	Unknown
)

// OutcomeOf classifies a call's error: none is success; a lost answer
// after the request was written (escott.IsUncertain) may have been
// processed, so it is unknown; anything else failed for sure. A method
// that also counts a call cut off by the caller's deadline as unknown
// says so where it calls this (see Cancelled).
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return Succeeded
	case escott.IsUncertain(err):
		return Unknown
	}
	return Failed
}

// NewAttempt returns the pending attempt of a call about to be made for
// pay (design principle 3: the intent is written before the call), under
// the transaction code code.
func NewAttempt(now time.Time, pay *kessai.Payment, op escott.OperateID, code string, amount int64) *kessai.Attempt {
	return &kessai.Attempt{ID: kessai.NewID("att", now), ShopID: pay.ShopID, PaymentID: pay.ID, Operation: op,
		MerchantFree1: code, Amount: amount, Status: kessai.AttemptPending, CreatedAt: now}
}

// AttemptErr translates the error of writing a pending attempt (nil for
// nil). The store allows one pending attempt per payment, so of two
// operators clicking at once only one reaches the gateway; the other is
// told the payment is in progress.
func AttemptErr(err error) error {
	if errors.Is(err, kessai.ErrDuplicate) {
		return ErrInProgress
	}
	return StoreErr(err)
}

// FinishAttempt fills in an attempt's outcome (not written yet).
func FinishAttempt(a *kessai.Attempt, o Outcome, codes []string, at time.Time) {
	a.FinishedAt = at
	a.Codes = codes
	switch o {
	case Succeeded:
		a.Status = kessai.AttemptSucceeded
	case Unknown:
		a.Status = kessai.AttemptUnknown
	default:
		a.Status = kessai.AttemptFailed
	}
}

// RecordOutcome writes, in the caller's transaction tx, a call's finished
// attempt, the payment it decided and the history row of its answer (h;
// nil for a lost answer, which has none): the part of a settlement every
// method shares. The events and the order follow in the same transaction,
// so that no outcome is written half (design §4).
func RecordOutcome(ctx context.Context, tx kessai.Store, att *kessai.Attempt, pay *kessai.Payment, h *kessai.HistoryEntry) error {
	if err := tx.FinishAttempt(ctx, att); err != nil {
		return err
	}
	if err := tx.UpdatePayment(ctx, pay); err != nil {
		return err
	}
	if h != nil {
		return tx.AppendHistory(ctx, h)
	}
	return nil
}

// HistoryFields masks an answer's fields for the history; nil without an
// answer. ProcessId stays readable (card.DeriveState and
// card.DeriveCollectionState hand it to the next operation); ProcessPass
// is kept sealed on the payment instead.
func HistoryFields(r *escott.Response) map[string]string {
	if r == nil {
		return nil
	}
	out := make(map[string]string, len(r.Fields))
	for k, v := range r.Fields {
		if len(v) == 0 {
			continue
		}
		out[k] = escott.MaskValue(k, v[0])
	}
	return out
}

// HistoryEntry builds the history row of one answer at now (spec §12.5):
// 処理日時, 処理連番 (TransactionId), 処理区分, 処理結果 — OK, or the
// failure codes joined with "|".
func HistoryEntry(now time.Time, pay *kessai.Payment, op escott.OperateID, r *escott.Response, codes []string, amount int64) *kessai.HistoryEntry {
	h := &kessai.HistoryEntry{ID: kessai.NewID("his", now), ShopID: pay.ShopID, PaymentID: pay.ID, At: now,
		Operation: op, Amount: amount, Fields: HistoryFields(r), ResponseCd: escott.CodeOK}
	if r != nil {
		h.TransactionID = r.TransactionID()
	}
	if len(codes) > 0 {
		h.ResponseCd = strings.Join(codes, "|")
	}
	return h
}
