package card

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// HandlingDays is the handling period of spec §12.4 (ADMIN-16): capture,
// amount change, cancel and re-auth of a card transaction, and change and
// cancel of a collection, are possible for this many JST calendar days
// after the transaction's day. See [WithinHandlingPeriod].
const HandlingDays = 60

// MaxAmount is the largest amount the gateway accepts, in yen: Amount is
// at most 7 digits (K23 beyond; the simulator enforces the same bound).
const MaxAmount int64 = 9_999_999

// Stable error codes of the refusals (kessai.Error.Code). Clients branch on
// them; the messages are for people.
const (
	// CodeNoTransaction: the payment has no successful charge or
	// registration yet, so there is nothing to operate on (state new).
	CodeNoTransaction = "no_transaction"
	// CodeTransactionExists: a new charge or registration was asked for a
	// payment that already has a transaction; an order gets a new payment
	// for that (ADMIN-09), and a cancelled collection cannot be registered
	// again ([MANUAL]).
	CodeTransactionExists = "transaction_exists"
	// CodeOperationNotAllowed: the state does not allow the operation
	// (spec §12.3, §10.4); the gateway would answer K14.
	CodeOperationNotAllowed = "operation_not_allowed"
	// CodeHandlingPeriodExpired: the transaction is past the 60-day
	// handling period, or the gateway said so (K12 to 1Search).
	CodeHandlingPeriodExpired = "handling_period_expired"
	// CodeAlreadyChanged: a collection may be changed once only
	// (ADMIN-13).
	CodeAlreadyChanged = "already_changed"
	// CodeLightPlan: the light plan has no payment operations in kessai
	// (design A-20, ADMIN-18).
	CodeLightPlan = "light_plan"
	// CodeUnsupportedOperation: the operation is not an operator action
	// on a payment of this method (e.g. 4MemAdd, or 2Chg on a card).
	CodeUnsupportedOperation = "unsupported_operation"
	// CodeInvalidAmount and CodeAmountTooLarge: the amount an operator
	// entered (ADMIN-07, ADMIN-08, ADMIN-09, ADMIN-13).
	CodeInvalidAmount  = "invalid_amount"
	CodeAmountTooLarge = "amount_too_large"
)

// cardTable is the card state machine of spec §12.3 (ADMIN-04, ADMIN-09)
// as data: for each state, the operations an operator may start, in the
// order of the dialog's buttons. 1Search (取引参照) is not a button — the
// dialog sends it on opening — and is allowed whenever a transaction
// exists (see Allowed). A re-authorised payment is in the state of its
// original operation and so needs no row of its own; an expired one has
// no operations at all (ADMIN-16).
var cardTable = map[kessai.PaymentState][]escott.OperateID{
	kessai.PaymentNew:        {escott.OpAuth, escott.OpGathering},
	kessai.PaymentAuthorized: {escott.OpReAuth, escott.OpCapture, escott.OpDelete, escott.OpChange},
	kessai.PaymentCaptured:   {escott.OpDelete, escott.OpChange},
	kessai.PaymentCancelled:  {escott.OpReAuth},
	kessai.PaymentExpired:    nil,
}

// collectionTable is the collection state machine of spec §10.4
// (ADMIN-12 … ADMIN-15) as data, buttons in the dialog's order. 2Chg is
// further limited to once (CollectionState.Changed); 2Ref, like 1Search,
// is allowed whenever a registration exists.
//
// Expired keeps the unpaid buttons, as the plugin's 未入金(期限切れ) view
// does: the gateway still accepts both, a 2Del closes the registration for
// good, and a 2Chg with a new due date (today is allowed, design A-26) gives
// a shopper who missed the date another chance. Paid and cancelled are
// final ([MANUAL]: no change or cancel after payment, no re-registration).
var collectionTable = map[kessai.PaymentState][]escott.OperateID{
	kessai.PaymentNew:       {escott.OpCvsAdd},
	kessai.PaymentPending:   {escott.OpCvsDel, escott.OpCvsChg},
	kessai.PaymentExpired:   {escott.OpCvsDel, escott.OpCvsChg},
	kessai.PaymentPaid:      nil,
	kessai.PaymentCancelled: nil,
}

// opNounEn names an operation in English messages ("Capture is not
// possible …"); the Japanese messages use escott.OperateID.Label.
var opNounEn = map[escott.OperateID]string{
	escott.OpAuth:      "Authorisation",
	escott.OpGathering: "Authorisation with capture",
	escott.OpCapture:   "Capture",
	escott.OpChange:    "Amount change",
	escott.OpDelete:    "Cancellation",
	escott.OpReAuth:    "Re-authorisation",
	escott.OpSearch:    "Reference",
	escott.OpCvsAdd:    "Registration",
	escott.OpCvsChg:    "Change of due date and amount",
	escott.OpCvsDel:    "Cancellation",
	escott.OpCvsRef:    "Reference",
}

// nounEn is opNounEn with a fallback for operations outside the tables.
func nounEn(op escott.OperateID) string {
	if n, ok := opNounEn[op]; ok {
		return n
	}
	return "Operation " + string(op)
}

// stateJaAdj is the Japanese "…済み" form of a state for the message
// 「{state}の取引は{操作}できません。」.
func stateJaAdj(k kessai.PaymentState) string {
	switch k {
	case kessai.PaymentAuthorized:
		return "与信済み"
	case kessai.PaymentCaptured:
		return "売上計上済み"
	case kessai.PaymentCancelled:
		return "取消済み"
	case kessai.PaymentPending:
		return "未入金"
	case kessai.PaymentPaid:
		return "入金済み"
	}
	return string(k)
}

// cardKind is s.Kind, with the zero State read as new so that a State{}
// built by hand is refused for follow-ups rather than for an empty state.
func (s State) cardKind() kessai.PaymentState {
	if s.Kind == "" && s.Entry == nil {
		return kessai.PaymentNew
	}
	return s.Kind
}

// collectionKind is the same for CollectionState.
func (s CollectionState) collectionKind() kessai.PaymentState {
	if s.Kind == "" && s.Entry == nil {
		return kessai.PaymentNew
	}
	return s.Kind
}

// Allowed reports whether an operator may start op on a card payment in
// state s (spec §12.3; ADMIN-04 … ADMIN-09, ADMIN-16): nil, or a
// *kessai.Error naming the state in the way, e.g. 「売上計上済みの取引は再オーソリ
// できません。」. Refusals are KindConflict with code CodeNoTransaction,
// CodeTransactionExists, CodeOperationNotAllowed or
// CodeHandlingPeriodExpired; an operation that is not a card operation at
// all (4MemAdd, 2Chg, 1Check, …) is KindInvalid CodeUnsupportedOperation.
//
// Allowed looks at the state only. The edition ([CheckPlan]), the 60-day
// period ([WithinHandlingPeriod]) and the amount ([CheckAmount]) are
// separate rules; [Permit] applies them all. Conditions outside the
// payment — that a new charge needs a card member (ADMIN-09), that an
// order with an unknown attempt must not be charged again — belong to the
// flows.
func Allowed(s State, op escott.OperateID) error {
	if !isCardOperation(op) {
		return errUnsupported(op, "カード決済", "card")
	}
	kind := s.cardKind()
	if op == escott.OpSearch {
		if s.Entry == nil {
			return errNoTransaction(op)
		}
		return nil // a reference never changes anything, even when expired
	}
	if slices.Contains(cardTable[kind], op) {
		return nil
	}
	return refusal(kind, s.Label(), s.LabelEn(), op, isOriginal(op))
}

// Operations returns the operations an operator may start on a card
// payment in state s, in the order of the dialog's buttons (ADMIN-04):
// new → 1Auth, 1Gathering; authorised → 1ReAuth, 1Capture, 1Delete,
// 1Change; captured → 1Delete, 1Change; cancelled → 1ReAuth; expired →
// none. 1Search is never listed (it is not a button). Every listed
// operation passes [Allowed]. The slice is the caller's.
func Operations(s State) []escott.OperateID {
	return slices.Clone(cardTable[s.cardKind()])
}

// AllowedCollection is [Allowed] for an online payment collection (spec
// §10.4, ADMIN-12 … ADMIN-15): new → 2Add; unpaid or expired → 2Del, and
// 2Chg once (a second change is KindConflict CodeAlreadyChanged); paid and
// cancelled → nothing but the reference 2Ref, which is allowed whenever a
// registration exists.
func AllowedCollection(s CollectionState, op escott.OperateID) error {
	if !isCollectionOperation(op) {
		return errUnsupported(op, "収納代行", "collection")
	}
	kind := s.collectionKind()
	if op == escott.OpCvsRef {
		if s.Entry == nil {
			return errNoTransaction(op)
		}
		return nil
	}
	if slices.Contains(collectionTable[kind], op) {
		if op == escott.OpCvsChg && s.Changed {
			return &kessai.Error{Kind: kessai.KindConflict, Code: CodeAlreadyChanged,
				Ja: "支払期限・支払額の変更は1回までです。この取引はすでに変更済みです。",
				En: "The due date and amount can be changed only once, and this collection has already been changed."}
		}
		return nil
	}
	return refusal(kind, s.Label(), s.LabelEn(), op, op == escott.OpCvsAdd)
}

// CollectionOperations returns the operations an operator may start on a
// collection in state s, buttons in the dialog's order (ADMIN-12): new →
// 2Add; unpaid or expired → 2Del, then 2Chg unless already changed; paid
// and cancelled → none. 2Ref is never listed.
func CollectionOperations(s CollectionState) []escott.OperateID {
	ops := slices.Clone(collectionTable[s.collectionKind()])
	if s.Changed {
		ops = slices.DeleteFunc(ops, func(op escott.OperateID) bool { return op == escott.OpCvsChg })
	}
	return ops
}

// isCardOperation reports whether op is an operator action on a card
// payment (spec §12.1).
func isCardOperation(op escott.OperateID) bool {
	switch op {
	case escott.OpAuth, escott.OpGathering, escott.OpCapture, escott.OpChange,
		escott.OpDelete, escott.OpReAuth, escott.OpSearch:
		return true
	}
	return false
}

// isCollectionOperation reports whether op is an operator action on a
// collection (spec §10.7).
func isCollectionOperation(op escott.OperateID) bool {
	switch op {
	case escott.OpCvsAdd, escott.OpCvsChg, escott.OpCvsDel, escott.OpCvsRef:
		return true
	}
	return false
}

// refusal builds the state refusal of op in state kind (shown as label).
// opens says that op would open a new transaction: that is refused as
// such in every state but new, because a new charge or registration means
// a new payment (ADMIN-09), whatever became of this one.
func refusal(kind kessai.PaymentState, labelJa, labelEn string, op escott.OperateID, opens bool) *kessai.Error {
	switch {
	case kind == kessai.PaymentNew:
		return errNoTransaction(op)
	case opens:
		return &kessai.Error{Kind: kessai.KindConflict, Code: CodeTransactionExists,
			Ja: fmt.Sprintf("この注文にはすでに%sの取引があるため、新規の%sはできません。", labelJa, op.Label()),
			En: fmt.Sprintf("%s is not possible: the order already has a transaction (%s).", nounEn(op), labelEn)}
	case kind == kessai.PaymentExpired:
		// Only a card state is expired in this sense (past the
		// handling period); an expired collection still allows
		// everything but a registration, refused just above.
		return errExpired(op)
	}
	return &kessai.Error{Kind: kessai.KindConflict, Code: CodeOperationNotAllowed,
		Ja: fmt.Sprintf("%sの取引は%sできません。", stateJaAdj(kind), op.Label()),
		En: fmt.Sprintf("%s is not possible for %s %s transaction.", nounEn(op), article(labelEn), labelEn)}
}

// article is the English indefinite article for word.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// errNoTransaction refuses op on a payment without a transaction; op ""
// gives the message without an operation.
func errNoTransaction(op escott.OperateID) *kessai.Error {
	e := &kessai.Error{Kind: kessai.KindConflict, Code: CodeNoTransaction,
		Ja: "この注文にはまだ決済の取引がありません。",
		En: "The order has no payment transaction yet."}
	if op != "" {
		e.Ja = fmt.Sprintf("この注文にはまだ決済の取引がないため、%sできません。", op.Label())
		e.En = fmt.Sprintf("%s is not possible: the order has no payment transaction yet.", nounEn(op))
	}
	return e
}

// errExpired refuses op on a transaction past its handling period, in the
// words of ADMIN-16 (the plugin shows 「K12 : 取り扱いできる期限を過ぎています。」).
func errExpired(op escott.OperateID) *kessai.Error {
	return &kessai.Error{Kind: kessai.KindConflict, Code: CodeHandlingPeriodExpired,
		Ja: fmt.Sprintf("取り扱いできる期限（取引日から%d日）を過ぎた取引は%sできません。", HandlingDays, op.Label()),
		En: fmt.Sprintf("%s is not possible: the transaction is past the gateway's %d-day handling period.", nounEn(op), HandlingDays)}
}

// errUnsupported refuses an operation that is not an operator action of
// the method at all: a caller bug or a forged request, hence invalid.
func errUnsupported(op escott.OperateID, methodJa, methodEn string) *kessai.Error {
	return &kessai.Error{Kind: kessai.KindInvalid, Code: CodeUnsupportedOperation, Field: "operation",
		Ja: fmt.Sprintf("「%s」は%sの操作ではありません。", op, methodJa),
		En: fmt.Sprintf("%q is not an operation on a %s payment.", string(op), methodEn)}
}

// CheckPlan applies the edition rule (design A-20, ADMIN-18): the light
// plan has no payment operations in kessai — no capture, cancel, amount
// change, re-auth, new charge, reference, nor collection change or cancel —
// and the operator is sent to the e-SCOTT console, where light merchants do
// all of this. Only PlanPro passes: an unset or unknown plan gets the
// smaller edition, so a damaged settings document can never unlock
// operations.
func CheckPlan(plan kessai.Plan) error {
	if plan == kessai.PlanPro {
		return nil
	}
	return &kessai.Error{Kind: kessai.KindForbidden, Code: CodeLightPlan,
		Ja: "ライトプランでは kessai から決済の操作（売上計上・取消・金額変更・再オーソリ・参照など）はできません。e-SCOTT 管理画面で操作してください。",
		En: "The light plan has no payment operations in kessai (capture, cancel, amount change, re-authorisation, reference, …). Please use the e-SCOTT merchant console."}
}

// WithinHandlingPeriod reports whether a transaction opened at created may
// still be operated at now (spec §12.4, ADMIN-16). Days are JST calendar
// days, whatever the locations of the two times: the transaction's day is
// day 0 and day HandlingDays (60) is still inside, so an authorisation of
// 1 April may be captured until 31 May 23:59:59 JST and not from 1 June
// 00:00. This is what the simulator does (K12 from day 61) and the most
// generous reading of the manual's "within 60 days"; if the real gateway
// counts one day less, it answers K12 and the payment shows expired, which
// is the same outcome one call later.
//
// A zero created (unknown) is inside: the gateway, not a guess, then
// decides. A created after now (clock skew between hosts) is inside too.
func WithinHandlingPeriod(created, now time.Time) bool {
	if created.IsZero() {
		return true
	}
	return !jstDay(now).After(jstDay(created).AddDate(0, 0, HandlingDays))
}

// jstDay returns midnight JST of t's JST calendar day.
func jstDay(t time.Time) time.Time {
	y, m, d := t.In(escott.JST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, escott.JST)
}

// CheckAmount validates an amount an operator entered for an amount
// change, a re-authorisation or a new charge (ADMIN-07, ADMIN-08,
// ADMIN-09) or for a collection registration or change (ADMIN-13, ADMIN-15):
// positive, at most MaxAmount. Errors are KindInvalid on field "amount",
// worded after the plugin's alert (「利用金額の形式が不正です。数値で入力してください。」)
// but naming the rule, and without 利用 so that they fit a collection's
// 支払額 too.
func CheckAmount(amount int64) error {
	switch {
	case amount <= 0:
		return kessai.FieldError("amount", CodeInvalidAmount,
			"金額の形式が不正です。1円以上の数値で入力してください。",
			"The amount is not valid: enter a whole number of yen, 1 or more.")
	case amount > MaxAmount:
		return kessai.FieldError("amount", CodeAmountTooLarge,
			fmt.Sprintf("金額は%s円以下で入力してください。", yen(MaxAmount)),
			fmt.Sprintf("The amount must be at most ¥%s.", yen(MaxAmount)))
	}
	return nil
}

// IsNoop reports whether op with amount would change nothing: an amount
// change to the current amount. The dialog then does nothing (ADMIN-07)
// rather than spend a gateway call and a history row. A re-authorisation
// at the same amount is not a no-op: it authorises again.
func IsNoop(s State, op escott.OperateID, amount int64) bool {
	return op == escott.OpChange && amount == s.Amount
}

// yen formats n with thousands separators, as amounts are shown in Japan.
func yen(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Permit is the whole admin check of a card operation, in the order a
// refusal is most useful to the operator: the edition ([CheckPlan]; a light
// shop is told about the console whatever the state), the state
// ([Allowed]), then the 60-day period from the original authorisation
// ([WithinHandlingPeriod] on [State.Opened]). 1Search is exempt from the
// period: it is how expiry is confirmed (K12) and it changes nothing, and a
// new charge opens a new transaction. The amount is checked separately
// because only some operations carry one.
func Permit(plan kessai.Plan, s State, op escott.OperateID, now time.Time) error {
	if err := CheckPlan(plan); err != nil {
		return err
	}
	if err := Allowed(s, op); err != nil {
		return err
	}
	if op != escott.OpSearch && s.Entry != nil && !WithinHandlingPeriod(s.Opened(), now) {
		return errExpired(op)
	}
	return nil
}

// PermitCollection is [Permit] for a collection: edition, state
// ([AllowedCollection]), then the 60-day period from the registration for
// 2Chg and 2Del. 2Ref is exempt, as the simulator exempts it, so that a
// collection whose due date is near day 60 can still be reconciled.
func PermitCollection(plan kessai.Plan, s CollectionState, op escott.OperateID, now time.Time) error {
	if err := CheckPlan(plan); err != nil {
		return err
	}
	if err := AllowedCollection(s, op); err != nil {
		return err
	}
	if op != escott.OpCvsRef && s.Entry != nil && !WithinHandlingPeriod(s.Opened(), now) {
		return errExpired(op)
	}
	return nil
}
