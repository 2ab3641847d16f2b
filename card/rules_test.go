package card

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Shorthands for the state-machine tables: ok = allowed, else the code.
const (
	ok  = ""
	nt  = CodeNoTransaction
	ex  = CodeTransactionExists
	na  = CodeOperationNotAllowed
	exp = CodeHandlingPeriodExpired
	chg = CodeAlreadyChanged
)

// cardOps are the columns of the card table, in this order.
var cardOps = []escott.OperateID{
	escott.OpAuth, escott.OpGathering, escott.OpCapture, escott.OpChange,
	escott.OpDelete, escott.OpReAuth, escott.OpSearch,
}

// notCardOps are refused for every card state as unsupported.
var notCardOps = []escott.OperateID{
	escott.OpCheck, escott.OpTokenSearch, escott.OpSecure, escott.OpMemAdd, escott.OpMemChg,
	escott.OpMemRefM, escott.OpMemInval, escott.OpMemDel, escott.OpCvsAdd, escott.OpCvsChg,
	escott.OpCvsDel, escott.OpCvsRef, OpPaid, OpExpired, "5Auth", "", "1auth",
}

// TestCardStateMachine is THE card state-machine table (spec §12.3;
// ADMIN-04 button matrix, ADMIN-05 … ADMIN-09, ADMIN-16, ADMIN-20): every
// state, reached through its history, × every operation → allowed or the
// refusal's code. The same rows check that Operations lists exactly the
// allowed buttons in the dialog's order, and that Permit agrees with
// Allowed for a pro shop inside the handling period and refuses everything
// for a light one.
func TestCardStateMachine(t *testing.T) {
	tests := []struct {
		name    string
		history []kessai.HistoryEntry
		kind    kessai.PaymentState
		// want is indexed like cardOps:
		//   1Auth 1Gathering 1Capture 1Change 1Delete 1ReAuth 1Search
		want [7]string
		// buttons is Operations(s), in order.
		buttons []escott.OperateID
	}{
		{"new", nil, kessai.PaymentNew,
			[7]string{ok, ok, nt, nt, nt, nt, nt},
			[]escott.OperateID{escott.OpAuth, escott.OpGathering}},
		{"new after a failed charge (repayment, ADMIN-09)", hist("1Gathering G12 1000"), kessai.PaymentNew,
			[7]string{ok, ok, nt, nt, nt, nt, nt},
			[]escott.OperateID{escott.OpAuth, escott.OpGathering}},
		{"authorised", hist("1Auth OK 1000"), kessai.PaymentAuthorized,
			[7]string{ex, ex, ok, ok, ok, ok, ok},
			[]escott.OperateID{escott.OpReAuth, escott.OpCapture, escott.OpDelete, escott.OpChange}},
		{"authorised after an amount change (CHG-31)", hist("1Auth OK 1000", "1Change OK 900"), kessai.PaymentAuthorized,
			[7]string{ex, ex, ok, ok, ok, ok, ok},
			[]escott.OperateID{escott.OpReAuth, escott.OpCapture, escott.OpDelete, escott.OpChange}},
		{"authorised again after cancel and re-auth", hist("1Auth OK 1000", "1Delete OK", "1ReAuth OK 1000"), kessai.PaymentAuthorized,
			[7]string{ex, ex, ok, ok, ok, ok, ok},
			[]escott.OperateID{escott.OpReAuth, escott.OpCapture, escott.OpDelete, escott.OpChange}},
		{"captured by 1Gathering", hist("1Gathering OK 1000"), kessai.PaymentCaptured,
			[7]string{ex, ex, na, ok, ok, na, ok},
			[]escott.OperateID{escott.OpDelete, escott.OpChange}},
		{"captured by 1Capture", hist("1Auth OK 1000", "1Capture OK"), kessai.PaymentCaptured,
			[7]string{ex, ex, na, ok, ok, na, ok},
			[]escott.OperateID{escott.OpDelete, escott.OpChange}},
		{"captured again after re-auth of a cancelled 1Gathering", hist("1Gathering OK 1000", "1Delete OK", "1ReAuth OK 800"), kessai.PaymentCaptured,
			[7]string{ex, ex, na, ok, ok, na, ok},
			[]escott.OperateID{escott.OpDelete, escott.OpChange}},
		{"cancelled authorisation", hist("1Auth OK 1000", "1Delete OK"), kessai.PaymentCancelled,
			[7]string{ex, ex, na, na, na, ok, ok},
			[]escott.OperateID{escott.OpReAuth}},
		{"cancelled sale", hist("1Auth OK 1000", "1Capture OK", "1Delete OK"), kessai.PaymentCancelled,
			[7]string{ex, ex, na, na, na, ok, ok},
			[]escott.OperateID{escott.OpReAuth}},
		{"cancelled 1Gathering", hist("1Gathering OK 1000", "1Delete OK"), kessai.PaymentCancelled,
			[7]string{ex, ex, na, na, na, ok, ok},
			[]escott.OperateID{escott.OpReAuth}},
		{"expired authorisation (1Search K12, ADMIN-16)", hist("1Auth OK 1000", "1Search K12"), kessai.PaymentExpired,
			[7]string{ex, ex, exp, exp, exp, exp, ok},
			nil},
		{"expired cancelled sale", hist("1Gathering OK 1000", "1Delete OK", "1Search K12"), kessai.PaymentExpired,
			[7]string{ex, ex, exp, exp, exp, exp, ok},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DeriveState(tt.history)
			if s.Kind != tt.kind {
				t.Fatalf("derived %s, want %s", s.Kind, tt.kind)
			}
			now := t0.Add(24 * time.Hour)
			for i, op := range cardOps {
				err := Allowed(s, op)
				if got := code(t, err); got != tt.want[i] {
					t.Errorf("Allowed(%s) = %q (%v), want %q", op, got, err, tt.want[i])
				}
				if err != nil && kindOfErr(err) != kessai.KindConflict {
					t.Errorf("Allowed(%s): kind %s, want conflict", op, kindOfErr(err))
				}
				if got := code(t, Permit(kessai.PlanPro, s, op, now)); got != tt.want[i] {
					t.Errorf("Permit(pro, %s) = %q, want %q as Allowed", op, got, tt.want[i])
				}
				if err := Permit(kessai.PlanLight, s, op, now); code(t, err) != CodeLightPlan || kindOfErr(err) != kessai.KindForbidden {
					t.Errorf("Permit(light, %s) = %v, want forbidden %s", op, err, CodeLightPlan)
				}
			}
			for _, op := range notCardOps {
				if err := Allowed(s, op); code(t, err) != CodeUnsupportedOperation || kindOfErr(err) != kessai.KindInvalid {
					t.Errorf("Allowed(%q) = %v, want invalid %s", op, err, CodeUnsupportedOperation)
				}
			}
			if got := Operations(s); !slices.Equal(got, tt.buttons) {
				t.Errorf("Operations = %v, want %v", got, tt.buttons)
			}
		})
	}
}

// TestRefusalMessages: the messages name the state and the operation in
// both languages (ADMIN-04 … ADMIN-08).
func TestRefusalMessages(t *testing.T) {
	tests := []struct {
		history []kessai.HistoryEntry
		op      escott.OperateID
		ja, en  string
	}{
		{hist("1Gathering OK 1000"), escott.OpReAuth,
			"売上計上済みの取引は再オーソリできません。", "Re-authorisation is not possible for an authorised and captured transaction."},
		{hist("1Auth OK 1000", "1Capture OK"), escott.OpCapture,
			"売上計上済みの取引は売上計上できません。", "Capture is not possible for a captured transaction."},
		{hist("1Auth OK 1000", "1Delete OK"), escott.OpChange,
			"取消済みの取引は利用額変更できません。", "Amount change is not possible for a cancelled transaction."},
		{nil, escott.OpCapture,
			"この注文にはまだ決済の取引がないため、売上計上できません。", "Capture is not possible: the order has no payment transaction yet."},
		{hist("1Auth OK 1000"), escott.OpGathering,
			"この注文にはすでに与信の取引があるため、新規の与信売上計上はできません。", "Authorisation with capture is not possible: the order already has a transaction (authorised)."},
		{hist("1Auth OK 1000", "1Search K12"), escott.OpDelete,
			"取り扱いできる期限（取引日から60日）を過ぎた取引は取消できません。", "Cancellation is not possible: the transaction is past the gateway's 60-day handling period."},
	}
	for _, tt := range tests {
		err := kessai.AsError(Allowed(DeriveState(tt.history), tt.op))
		if err.Ja != tt.ja || err.En != tt.en {
			t.Errorf("%s: got\n  %s\n  %s\nwant\n  %s\n  %s", tt.op, err.Ja, err.En, tt.ja, tt.en)
		}
	}
}

// TestCollectionStateMachine is the collection table (spec §10.4;
// ADMIN-12 … ADMIN-15): every state × every collection operation.
func TestCollectionStateMachine(t *testing.T) {
	ops := []escott.OperateID{escott.OpCvsAdd, escott.OpCvsChg, escott.OpCvsDel, escott.OpCvsRef}
	tests := []struct {
		name    string
		history []kessai.HistoryEntry
		kind    kessai.PaymentState
		// want is indexed like ops: 2Add 2Chg 2Del 2Ref
		want    [4]string
		buttons []escott.OperateID
	}{
		{"new", nil, kessai.PaymentNew,
			[4]string{ok, nt, nt, nt}, []escott.OperateID{escott.OpCvsAdd}},
		{"new after a failed 2Add", hist("2Add K53 1000"), kessai.PaymentNew,
			[4]string{ok, nt, nt, nt}, []escott.OperateID{escott.OpCvsAdd}},
		{"unpaid", hist("2Add OK 1000"), kessai.PaymentPending,
			[4]string{ex, ok, ok, ok}, []escott.OperateID{escott.OpCvsDel, escott.OpCvsChg}},
		{"unpaid, changed once", hist("2Add OK 1000", "2Chg OK 1000"), kessai.PaymentPending,
			[4]string{ex, chg, ok, ok}, []escott.OperateID{escott.OpCvsDel}},
		{"expired", hist("2Add OK 1000", "expired OK"), kessai.PaymentExpired,
			[4]string{ex, ok, ok, ok}, []escott.OperateID{escott.OpCvsDel, escott.OpCvsChg}},
		{"expired after its one change", hist("2Add OK 1000", "2Chg OK 1000", "expired OK"), kessai.PaymentExpired,
			[4]string{ex, chg, ok, ok}, []escott.OperateID{escott.OpCvsDel}},
		{"paid", hist("2Add OK 1000", "paid OK 1000"), kessai.PaymentPaid,
			[4]string{ex, na, na, ok}, nil},
		{"paid after a change", hist("2Add OK 1000", "2Chg OK 900", "paid OK 900"), kessai.PaymentPaid,
			[4]string{ex, na, na, ok}, nil},
		{"cancelled", hist("2Add OK 1000", "2Del OK"), kessai.PaymentCancelled,
			[4]string{ex, na, na, ok}, nil},
		{"cancelled after a change", hist("2Add OK 1000", "2Chg OK 900", "2Del OK"), kessai.PaymentCancelled,
			[4]string{ex, na, na, ok}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DeriveCollectionState(tt.history)
			if s.Kind != tt.kind {
				t.Fatalf("derived %s, want %s", s.Kind, tt.kind)
			}
			now := t0.Add(24 * time.Hour)
			for i, op := range ops {
				err := AllowedCollection(s, op)
				if got := code(t, err); got != tt.want[i] {
					t.Errorf("AllowedCollection(%s) = %q (%v), want %q", op, got, err, tt.want[i])
				}
				if err != nil && kindOfErr(err) != kessai.KindConflict {
					t.Errorf("AllowedCollection(%s): kind %s, want conflict", op, kindOfErr(err))
				}
				if got := code(t, PermitCollection(kessai.PlanPro, s, op, now)); got != tt.want[i] {
					t.Errorf("PermitCollection(pro, %s) = %q, want %q", op, got, tt.want[i])
				}
				if got := code(t, PermitCollection(kessai.PlanLight, s, op, now)); got != CodeLightPlan {
					t.Errorf("PermitCollection(light, %s) = %q, want %s", op, got, CodeLightPlan)
				}
			}
			for _, op := range cardOps {
				if got := code(t, AllowedCollection(s, op)); got != CodeUnsupportedOperation {
					t.Errorf("AllowedCollection(%s) = %q, want %s", op, got, CodeUnsupportedOperation)
				}
			}
			if got := CollectionOperations(s); !slices.Equal(got, tt.buttons) {
				t.Errorf("CollectionOperations = %v, want %v", got, tt.buttons)
			}
		})
	}
}

// TestZeroStates: a State built by hand (zero value) is new, not a state
// without a name.
func TestZeroStates(t *testing.T) {
	if got := code(t, Allowed(State{}, escott.OpCapture)); got != CodeNoTransaction {
		t.Errorf("Allowed(State{}, 1Capture) = %q, want %s", got, CodeNoTransaction)
	}
	if err := Allowed(State{}, escott.OpAuth); err != nil {
		t.Errorf("Allowed(State{}, 1Auth) = %v, want nil", err)
	}
	if got := CollectionOperations(CollectionState{}); !slices.Equal(got, []escott.OperateID{escott.OpCvsAdd}) {
		t.Errorf("CollectionOperations(zero) = %v", got)
	}
}

// TestOperationsIsACopy: callers may append to the buttons without
// changing the table.
func TestOperationsIsACopy(t *testing.T) {
	s := DeriveState(hist("1Auth OK 1000"))
	ops := Operations(s)
	ops[0] = "mutated"
	if Operations(s)[0] != escott.OpReAuth {
		t.Fatal("Operations returned the table itself")
	}
}

// TestWithinHandlingPeriod: the 60-day limit (spec §12.4, ADMIN-16)
// counts JST calendar days; day 60 is inside, day 61 is not, whatever the
// time of day and the zone of the inputs.
func TestWithinHandlingPeriod(t *testing.T) {
	jst := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, escott.JST)
	}
	lateApril1 := jst(2026, 4, 1, 23, 59, 0)
	tests := []struct {
		name         string
		created, now time.Time
		want         bool
	}{
		{"same day", lateApril1, lateApril1.Add(time.Second), true},
		{"day 59", lateApril1, jst(2026, 5, 30, 12, 0, 0), true},
		{"day 60, first second", lateApril1, jst(2026, 5, 31, 0, 0, 0), true},
		{"day 60, last second", lateApril1, jst(2026, 5, 31, 23, 59, 59), true},
		{"day 61 at JST midnight, though under 60×24 h + 2 min after created", lateApril1, jst(2026, 6, 1, 0, 0, 0), false},
		{"day 61 evening", lateApril1, jst(2026, 6, 1, 20, 0, 0), false},
		{"created at 00:00 JST, day 60 ends 23:59:59", jst(2026, 4, 1, 0, 0, 0), jst(2026, 5, 31, 23, 59, 59), true},
		// 15:00 UTC is midnight JST: the UTC date would say otherwise.
		{"UTC inputs: day 60 is 31 May JST until 14:59:59 UTC",
			time.Date(2026, 3, 31, 15, 0, 0, 0, time.UTC), time.Date(2026, 5, 31, 14, 59, 59, 0, time.UTC), true},
		{"UTC inputs: 15:00 UTC on 31 May is 1 June JST, day 61",
			time.Date(2026, 3, 31, 15, 0, 0, 0, time.UTC), time.Date(2026, 5, 31, 15, 0, 0, 0, time.UTC), false},
		{"UTC created on 31 March is 1 April JST", time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC), jst(2026, 5, 31, 9, 0, 0), true},
		{"across a year end", jst(2026, 12, 1, 9, 0, 0), jst(2027, 1, 30, 9, 0, 0), true},
		{"across a year end, day 61", jst(2026, 12, 1, 9, 0, 0), jst(2027, 1, 31, 0, 0, 0), false},
		{"leap February: 1 Feb 2028 + 60 days = 1 April", jst(2028, 2, 1, 9, 0, 0), jst(2028, 4, 1, 23, 0, 0), true},
		{"leap February, day 61", jst(2028, 2, 1, 9, 0, 0), jst(2028, 4, 2, 0, 0, 0), false},
		{"unknown creation: the gateway decides", time.Time{}, jst(2030, 1, 1, 0, 0, 0), true},
		{"clock skew: created after now", jst(2026, 4, 2, 0, 0, 0), jst(2026, 4, 1, 23, 0, 0), true},
	}
	for _, tt := range tests {
		if got := WithinHandlingPeriod(tt.created, tt.now); got != tt.want {
			t.Errorf("%s: WithinHandlingPeriod(%s, %s) = %v, want %v", tt.name, tt.created, tt.now, got, tt.want)
		}
	}
}

// TestPermitHandlingPeriod: Permit counts the period from the original
// authorisation (ADMIN-16), exempts the reference that confirms expiry,
// and does not apply it to a new charge.
func TestPermitHandlingPeriod(t *testing.T) {
	// The auth is at t0 (1 April 10:00 JST); a cancel and a re-auth a
	// month later do not restart the period: the gateway counts from the
	// transaction, which a re-auth keeps.
	h := hist("1Auth OK 1000", "1Delete OK", "1ReAuth OK 900")
	h[1].At, h[2].At = t0.AddDate(0, 1, 0), t0.AddDate(0, 1, 0).Add(time.Minute)
	s := DeriveState(h)
	day60 := time.Date(2026, 5, 31, 23, 59, 59, 0, escott.JST)
	day61 := time.Date(2026, 6, 1, 0, 0, 0, 0, escott.JST)
	for _, op := range []escott.OperateID{escott.OpCapture, escott.OpChange, escott.OpDelete, escott.OpReAuth} {
		if err := Permit(kessai.PlanPro, s, op, day60); err != nil {
			t.Errorf("day 60, %s: %v", op, err)
		}
		if got := code(t, Permit(kessai.PlanPro, s, op, day61)); got != CodeHandlingPeriodExpired {
			t.Errorf("day 61, %s: %q, want %s", op, got, CodeHandlingPeriodExpired)
		}
	}
	if err := Permit(kessai.PlanPro, s, escott.OpSearch, day61); err != nil {
		t.Errorf("day 61, 1Search: %v, want allowed (it is how K12 is learnt)", err)
	}
	if err := Permit(kessai.PlanPro, DeriveState(nil), escott.OpAuth, day61.AddDate(1, 0, 0)); err != nil {
		t.Errorf("new charge: %v", err)
	}
	// A state refusal is reported before the period.
	if got := code(t, Permit(kessai.PlanPro, DeriveState(hist("1Gathering OK 1")), escott.OpCapture, day61)); got != CodeOperationNotAllowed {
		t.Errorf("captured, day 61, 1Capture: %q, want %s", got, CodeOperationNotAllowed)
	}

	c := DeriveCollectionState(hist("2Add OK 1000"))
	for _, op := range []escott.OperateID{escott.OpCvsChg, escott.OpCvsDel} {
		if err := PermitCollection(kessai.PlanPro, c, op, day60); err != nil {
			t.Errorf("collection day 60, %s: %v", op, err)
		}
		if got := code(t, PermitCollection(kessai.PlanPro, c, op, day61)); got != CodeHandlingPeriodExpired {
			t.Errorf("collection day 61, %s: %q", op, got)
		}
	}
	if err := PermitCollection(kessai.PlanPro, c, escott.OpCvsRef, day61); err != nil {
		t.Errorf("collection day 61, 2Ref: %v", err)
	}
}

// TestCheckPlan: only the pro plan operates payments; light (and anything
// unknown) sends the operator to the e-SCOTT console (A-20, ADMIN-18).
func TestCheckPlan(t *testing.T) {
	if err := CheckPlan(kessai.PlanPro); err != nil {
		t.Fatalf("pro: %v", err)
	}
	for _, p := range []kessai.Plan{kessai.PlanLight, "", "enterprise"} {
		err := CheckPlan(p)
		e := kessai.AsError(err)
		if e.Code != CodeLightPlan || e.Kind != kessai.KindForbidden {
			t.Errorf("plan %q: %v, want forbidden %s", p, err, CodeLightPlan)
		}
		if !strings.Contains(e.Ja, "e-SCOTT 管理画面") || !strings.Contains(e.En, "e-SCOTT merchant console") {
			t.Errorf("plan %q: the message must send the operator to the e-SCOTT console: %q / %q", p, e.Ja, e.En)
		}
	}
}

// TestCheckAmount: ADMIN-07/08/09 amounts are positive and fit the
// gateway's 7 digits.
func TestCheckAmount(t *testing.T) {
	tests := []struct {
		amount int64
		want   string
	}{
		{-1, CodeInvalidAmount},
		{0, CodeInvalidAmount},
		{1, ok},
		{1000, ok},
		{MaxAmount, ok},
		{MaxAmount + 1, CodeAmountTooLarge},
		{1 << 62, CodeAmountTooLarge},
	}
	for _, tt := range tests {
		err := CheckAmount(tt.amount)
		if got := code(t, err); got != tt.want {
			t.Errorf("CheckAmount(%d) = %q, want %q", tt.amount, got, tt.want)
		}
		if e := kessai.AsError(err); err != nil && (e.Kind != kessai.KindInvalid || e.Field != "amount") {
			t.Errorf("CheckAmount(%d): kind %s field %q, want invalid on amount", tt.amount, e.Kind, e.Field)
		}
	}
	if e := kessai.AsError(CheckAmount(MaxAmount + 1)); !strings.Contains(e.Ja, "9,999,999円") {
		t.Errorf("too large: %q should name the limit", e.Ja)
	}
}

// TestIsNoop: an amount change to the current amount does nothing
// (ADMIN-07); a re-auth at the same amount still authorises again.
func TestIsNoop(t *testing.T) {
	s := DeriveState(hist("1Auth OK 1000", "1Change OK 800"))
	tests := []struct {
		op     escott.OperateID
		amount int64
		want   bool
	}{
		{escott.OpChange, 800, true},
		{escott.OpChange, 1000, false},
		{escott.OpReAuth, 800, false},
		{escott.OpCapture, 800, false},
	}
	for _, tt := range tests {
		if got := IsNoop(s, tt.op, tt.amount); got != tt.want {
			t.Errorf("IsNoop(%s, %d) = %v, want %v", tt.op, tt.amount, got, tt.want)
		}
	}
}
