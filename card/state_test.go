package card

import (
	"reflect"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// TestDeriveState walks the derivation of spec §12.2 (ADMIN-20) through
// the sequences the admin dialog produces. entry and origin name the rows
// (h0, h1, …) that must be the state entry and the original authorisation.
func TestDeriveState(t *testing.T) {
	tests := []struct {
		name    string
		history []kessai.HistoryEntry
		kind    kessai.PaymentState
		entry   string
		origin  string
		amount  int64
		reauth  bool
		expired bool
		label   string
	}{
		{name: "no history: new (ADMIN-09)",
			history: nil, kind: kessai.PaymentNew, label: "新規"},
		{name: "failed auth only: still new, repayable",
			history: hist("1Auth G12 1000"), kind: kessai.PaymentNew, label: "新規"},
		{name: "1Auth: authorised",
			history: hist("1Auth OK 1000"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 1000, label: "与信"},
		{name: "1Gathering: captured (与信売上計上)",
			history: hist("1Gathering OK 1000"), kind: kessai.PaymentCaptured, entry: "h0", origin: "h0", amount: 1000, label: "与信売上計上"},
		{name: "1Auth→1Capture: captured (売上計上, ADMIN-05)",
			history: hist("1Auth OK 1000", "1Capture OK"), kind: kessai.PaymentCaptured, entry: "h1", origin: "h0", amount: 1000, label: "売上計上"},
		{name: "1Auth→1Delete: cancelled (ADMIN-06)",
			history: hist("1Auth OK 1000", "1Delete OK"), kind: kessai.PaymentCancelled, entry: "h1", origin: "h0", amount: 1000, label: "取消"},
		{name: "1Auth→1Change keeps authorised, new amount (ADMIN-07, CHG-31)",
			history: hist("1Auth OK 1000", "1Change OK 800"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 800, label: "与信"},
		{name: "1Auth→1Delete→1ReAuth: authorised again on the original entry (ADMIN-08, A-19)",
			history: hist("1Auth OK 1000", "1Delete OK", "1ReAuth OK 900"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 900, reauth: true, label: "与信"},
		{name: "1Auth→1ReAuth: re-auth of an authorisation stays authorised",
			history: hist("1Auth OK 1000", "1ReAuth OK 1200"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 1200, reauth: true, label: "与信"},
		{name: "1Gathering→1Delete→1ReAuth: captured again (reauth after cancel of a 1Gathering)",
			history: hist("1Gathering OK 1000", "1Delete OK", "1ReAuth OK 700"), kind: kessai.PaymentCaptured, entry: "h0", origin: "h0", amount: 700, reauth: true, label: "与信売上計上"},
		{name: "1Gathering→1Change→1Delete: cancelled, amount of the change",
			history: hist("1Gathering OK 1000", "1Change OK 600", "1Delete OK"), kind: kessai.PaymentCancelled, entry: "h2", origin: "h0", amount: 600, label: "取消"},
		{name: "1Auth→1Capture→1Delete→1ReAuth: the capture was undone, authorised again",
			history: hist("1Auth OK 1000", "1Capture OK", "1Delete OK", "1ReAuth OK 1000"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 1000, reauth: true},
		{name: "re-auth then capture: the capture is the state",
			history: hist("1Auth OK 1000", "1Delete OK", "1ReAuth OK 900", "1Capture OK"), kind: kessai.PaymentCaptured, entry: "h3", origin: "h0", amount: 900},
		{name: "two re-auths in a row",
			history: hist("1Auth OK 1000", "1ReAuth OK 900", "1Delete OK", "1ReAuth OK 800"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 800, reauth: true},
		{name: "failed rows are ignored: failed capture, cancel and re-auth",
			history: hist("1Auth OK 1000", "1Capture K14", "1Delete C14", "1ReAuth G12 900", "1Change K23 0"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 1000},
		{name: "failed 1ReAuth after a cancel leaves it cancelled",
			history: hist("1Auth OK 1000", "1Delete OK", "1ReAuth G55 900"), kind: kessai.PaymentCancelled, entry: "h1", origin: "h0", amount: 1000},
		{name: "1Search OK never changes the state but reports the gateway's amount",
			history: hist("1Auth OK 1000", "1Search OK 1500"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 1500},
		{name: "1Search OK without an amount is passed over for the amount",
			history: hist("1Auth OK 1000", "1Search OK"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 1000},
		{name: "1Search K12: expired (ADMIN-16), the entry kept",
			history: hist("1Auth OK 1000", "1Search K12"), kind: kessai.PaymentExpired, entry: "h0", origin: "h0", amount: 1000, expired: true, label: "期限切れ"},
		{name: "1Search K12 after a capture: expired",
			history: hist("1Auth OK 1000", "1Capture OK", "1Search K12"), kind: kessai.PaymentExpired, entry: "h1", origin: "h0", amount: 1000, expired: true},
		{name: "K12 within a multi-code answer still means expired",
			history: hist("1Gathering OK 1000", "1Search K12|K99"), kind: kessai.PaymentExpired, entry: "h0", origin: "h0", amount: 1000, expired: true},
		{name: "a later successful answer clears K12",
			history: hist("1Auth OK 1000", "1Search K12", "1Search OK"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 1000},
		{name: "K12 from a capture is not an expiry verdict (only 1Search's is)",
			history: hist("1Auth OK 1000", "1Capture K12"), kind: kessai.PaymentAuthorized, entry: "h0", origin: "h0", amount: 1000},
		{name: "K12 without any transaction: nothing to expire",
			history: hist("1Search K12"), kind: kessai.PaymentNew},
		{name: "collection and member rows never move a card state",
			history: hist("4MemRefM OK", "1Auth OK 1000", "2Add OK 1000", "paid OK 1000", "4MemChg OK"), kind: kessai.PaymentAuthorized, entry: "h1", origin: "h1", amount: 1000},
		{name: "re-auth with no original before it: nothing to return to",
			history: hist("1Capture OK", "1ReAuth OK 500"), kind: kessai.PaymentNew, amount: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DeriveState(tt.history)
			if s.Kind != tt.kind || entryID(s.Entry) != tt.entry || entryID(s.Origin) != tt.origin ||
				s.Amount != tt.amount || s.Reauthorized != tt.reauth || s.Expired != tt.expired {
				t.Errorf("got kind %s entry %q origin %q amount %d reauth %v expired %v\nwant kind %s entry %q origin %q amount %d reauth %v expired %v",
					s.Kind, entryID(s.Entry), entryID(s.Origin), s.Amount, s.Reauthorized, s.Expired,
					tt.kind, tt.entry, tt.origin, tt.amount, tt.reauth, tt.expired)
			}
			if tt.label != "" && s.Label() != tt.label {
				t.Errorf("Label() = %q, want %q", s.Label(), tt.label)
			}
			if s.LabelEn() == "" {
				t.Error("LabelEn() is empty")
			}
		})
	}
}

// TestDeriveStateLeavesHistoryAlone: deriving is pure, and the State does
// not alias the caller's rows.
func TestDeriveStateLeavesHistoryAlone(t *testing.T) {
	h := hist("1Auth OK 1000", "1Delete OK", "1ReAuth OK 900")
	before := hist("1Auth OK 1000", "1Delete OK", "1ReAuth OK 900")
	s := DeriveState(h)
	if !reflect.DeepEqual(h, before) {
		t.Fatal("DeriveState changed its input")
	}
	h[0].ResponseCd = "G12"
	if s.Entry.ResponseCd != escott.CodeOK {
		t.Error("State.Entry aliases the history slice")
	}
}

// TestProcessHandle: the handle for the next operation is the state
// entry's (spec §12.2), the original's after a re-auth (design A-19), and
// the ProcessPass comes from the payment because the history masks it.
func TestProcessHandle(t *testing.T) {
	pay := func(id string) *kessai.Payment {
		return &kessai.Payment{ID: "pay", ProcessID: id, ProcessPass: "secret"}
	}
	tests := []struct {
		name    string
		history []kessai.HistoryEntry
		payment *kessai.Payment
		wantID  string
		errCode string
		errKind kessai.Kind
	}{
		{name: "authorised: the auth's handle",
			history: hist("1Auth OK 1000 pid=A"), payment: pay("A"), wantID: "A"},
		{name: "after 1Auth→1Delete→1ReAuth: the original entry's handle",
			history: hist("1Auth OK 1000 pid=A", "1Delete OK pid=A", "1ReAuth OK 900 pid=B"), payment: pay("A"), wantID: "A"},
		{name: "captured: the capture answer's handle",
			history: hist("1Auth OK 1000 pid=A", "1Capture OK pid=A"), payment: pay("A"), wantID: "A"},
		{name: "capture answer without ProcessId: the original's",
			history: hist("1Auth OK 1000 pid=A", "1Capture OK pid=-"), payment: pay("A"), wantID: "A"},
		{name: "history without any ProcessId: the payment's",
			history: hist("1Gathering OK 1000 pid=-"), payment: pay("P"), wantID: "P"},
		{name: "payment without ProcessId: the history's",
			history: hist("1Gathering OK 1000 pid=A"), payment: pay(""), wantID: "A"},
		{name: "history and payment disagree: internal error, never a guess",
			history: hist("1Gathering OK 1000 pid=A"), payment: pay("Z"), errCode: "internal_error", errKind: kessai.KindInternal},
		{name: "no ProcessPass stored",
			history: hist("1Gathering OK 1000 pid=A"), payment: &kessai.Payment{ID: "pay", ProcessID: "A"}, errCode: "internal_error", errKind: kessai.KindInternal},
		{name: "no payment",
			history: hist("1Gathering OK 1000 pid=A"), payment: nil, errCode: "internal_error", errKind: kessai.KindInternal},
		{name: "new: no handle",
			history: hist("1Auth G12 1000"), payment: pay("A"), errCode: CodeNoTransaction, errKind: kessai.KindConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, err := DeriveState(tt.history).Handle(tt.payment)
			if got := code(t, err); got != tt.errCode {
				t.Fatalf("error code %q, want %q (%v)", got, tt.errCode, err)
			}
			if err != nil {
				if k := kindOfErr(err); k != tt.errKind {
					t.Errorf("kind %s, want %s", k, tt.errKind)
				}
				return
			}
			if pr.ProcessID != tt.wantID || pr.ProcessPass != "secret" {
				t.Errorf("handle %+v, want ProcessId %q with the payment's ProcessPass", pr, tt.wantID)
			}
		})
	}
}

// TestDeriveCollectionState covers spec §10.4 and design A-07 (ADMIN-12
// … ADMIN-15, NOTIFY-02).
func TestDeriveCollectionState(t *testing.T) {
	tests := []struct {
		name    string
		history []kessai.HistoryEntry
		kind    kessai.PaymentState
		entry   string
		origin  string
		amount  int64
		changed bool
		label   string
	}{
		{name: "nothing: new (ADMIN-15)",
			kind: kessai.PaymentNew, label: "新規"},
		{name: "failed 2Add: new",
			history: hist("2Add K50 1000"), kind: kessai.PaymentNew},
		{name: "2Add: unpaid",
			history: hist("2Add OK 1000"), kind: kessai.PaymentPending, entry: "h0", origin: "h0", amount: 1000, label: "未入金"},
		{name: "2Add→2Chg: unpaid, changed, new amount (ADMIN-13)",
			history: hist("2Add OK 1000", "2Chg OK 1200"), kind: kessai.PaymentPending, entry: "h1", origin: "h0", amount: 1200, changed: true},
		{name: "2Add→2Chg→paid (CVS-10)",
			history: hist("2Add OK 1000", "2Chg OK 1200", "paid OK 1200"), kind: kessai.PaymentPaid, entry: "h2", origin: "h0", amount: 1200, changed: true, label: "入金済"},
		{name: "2Add→2Del: cancelled (ADMIN-14)",
			history: hist("2Add OK 1000", "2Del OK"), kind: kessai.PaymentCancelled, entry: "h1", origin: "h0", amount: 1000, label: "取消済み"},
		{name: "2Add→expired (A-07)",
			history: hist("2Add OK 1000", "expired OK"), kind: kessai.PaymentExpired, entry: "h1", origin: "h0", amount: 1000, label: "期限切れ"},
		{name: "expired then a 2Chg with a new due date: unpaid again",
			history: hist("2Add OK 1000", "expired OK", "2Chg OK 1000"), kind: kessai.PaymentPending, entry: "h2", origin: "h0", amount: 1000, changed: true},
		{name: "a failed 2Chg does not use up the one change",
			history: hist("2Add OK 1000", "2Chg K50 1200"), kind: kessai.PaymentPending, entry: "h0", origin: "h0", amount: 1000},
		{name: "2Ref rows never change the state",
			history: hist("2Add OK 1000", "2Ref OK", "2Ref K12"), kind: kessai.PaymentPending, entry: "h0", origin: "h0", amount: 1000},
		{name: "paid wins over a later expired row (a late notification raced the expiry job)",
			history: hist("2Add OK 1000", "paid OK 1000", "expired OK"), kind: kessai.PaymentPaid, entry: "h1", origin: "h0", amount: 1000},
		{name: "2Del is final even before a stray expired row",
			history: hist("2Add OK 1000", "2Del OK", "expired OK"), kind: kessai.PaymentCancelled, entry: "h1", origin: "h0", amount: 1000},
		{name: "a failed 2Del leaves it unpaid",
			history: hist("2Add OK 1000", "2Del K14"), kind: kessai.PaymentPending, entry: "h0", origin: "h0", amount: 1000},
		{name: "card rows never move a collection",
			history: hist("2Add OK 1000", "1Delete OK", "1Auth OK 5"), kind: kessai.PaymentPending, entry: "h0", origin: "h0", amount: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DeriveCollectionState(tt.history)
			if s.Kind != tt.kind || entryID(s.Entry) != tt.entry || entryID(s.Origin) != tt.origin ||
				s.Amount != tt.amount || s.Changed != tt.changed {
				t.Errorf("got kind %s entry %q origin %q amount %d changed %v\nwant kind %s entry %q origin %q amount %d changed %v",
					s.Kind, entryID(s.Entry), entryID(s.Origin), s.Amount, s.Changed,
					tt.kind, tt.entry, tt.origin, tt.amount, tt.changed)
			}
			if tt.label != "" && s.Label() != tt.label {
				t.Errorf("Label() = %q, want %q", s.Label(), tt.label)
			}
		})
	}
}

// TestCollectionHandle: a paid row (from a notification) carries no
// ProcessId, so the registration's is used.
func TestCollectionHandle(t *testing.T) {
	s := DeriveCollectionState(hist("2Add OK 1000 pid=C", "paid OK 1000 pid=-"))
	pr, err := s.Handle(&kessai.Payment{ID: "pay", ProcessID: "C", ProcessPass: "secret"})
	if err != nil || pr.ProcessID != "C" || pr.ProcessPass != "secret" {
		t.Fatalf("Handle = %+v, %v; want C/secret", pr, err)
	}
	if _, err := DeriveCollectionState(nil).Handle(&kessai.Payment{}); code(t, err) != CodeNoTransaction {
		t.Errorf("new collection: %v, want %s", err, CodeNoTransaction)
	}
}
