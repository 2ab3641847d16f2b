package card

import (
	"reflect"
	"slices"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// FuzzDeriveState feeds random histories to DeriveState and
// DeriveCollectionState (ADMIN-20). The input is the text format of
// parseHistory — rows "OPERATION CODE [AMOUNT] [pid=ID]" separated by ';'
// — so the committed corpus under testdata/fuzz/FuzzDeriveState reads as
// the sequences it seeds, while mutations still produce unknown
// operations, odd codes and garbage.
//
// Beyond "never panics", the card derivation is checked against an
// independent model that replays the history oldest → newest as the
// gateway does (spec §16.4: a re-auth returns to the original operation's
// state); the backward walk of spec §12.2 must agree with it on every
// history. Both derivations must leave the input alone, and the
// operation lists must agree with the Allowed functions.
func FuzzDeriveState(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		h := parseHistory(in)
		before := parseHistory(in)

		s := DeriveState(h)
		if !reflect.DeepEqual(h, before) {
			t.Fatal("DeriveState changed its input")
		}
		m := replay(h)
		if s.Kind != m.kind || entryID(s.Entry) != m.entry || entryID(s.Origin) != m.origin ||
			s.Reauthorized != m.reauth || s.Expired != m.expired || s.Amount != m.amount {
			t.Fatalf("history %q:\nDeriveState kind %s entry %q origin %q reauth %v expired %v amount %d\nreplay      kind %s entry %q origin %q reauth %v expired %v amount %d",
				in, s.Kind, entryID(s.Entry), entryID(s.Origin), s.Reauthorized, s.Expired, s.Amount,
				m.kind, m.entry, m.origin, m.reauth, m.expired, m.amount)
		}
		for _, op := range Operations(s) {
			if err := Allowed(s, op); err != nil {
				t.Fatalf("Operations lists %s but Allowed refuses it: %v", op, err)
			}
		}
		for _, op := range cardOps {
			if op != escott.OpSearch && Allowed(s, op) == nil && !slices.Contains(Operations(s), op) {
				t.Fatalf("Allowed accepts %s but Operations omits it", op)
			}
		}
		_, _ = s.Handle(&kessai.Payment{ProcessID: "pid-1", ProcessPass: "p"})
		_, _ = s.Label(), s.LabelEn()

		c := DeriveCollectionState(h)
		if !reflect.DeepEqual(h, before) {
			t.Fatal("DeriveCollectionState changed its input")
		}
		checkCollection(t, h, c)
	})
}

// model is what replay computes.
type model struct {
	kind            kessai.PaymentState
	entry, origin   string
	reauth, expired bool
	amount          int64
}

// replay derives the card state forwards, oldest → newest, the way the
// gateway moves a transaction: 1Auth/1Gathering open it, 1Capture and
// 1Delete move it, 1ReAuth returns it to the original operation's state
// (or to nothing, when there was no original), 1Change and 1Search leave
// it; failed answers do nothing, except that a 1Search K12 marks it
// expired until the next successful answer.
func replay(h []kessai.HistoryEntry) model {
	var m model
	state, origin, lastOriginal := -1, -1, -1
	for i, e := range h {
		if e.ResponseCd != escott.CodeOK {
			if e.Operation == escott.OpSearch && slices.Contains(escott.SplitCodes(e.ResponseCd), "K12") {
				m.expired = true
			}
			continue
		}
		m.expired = false
		switch e.Operation {
		case escott.OpAuth, escott.OpGathering:
			state, origin, lastOriginal, m.reauth = i, i, i, false
		case escott.OpCapture, escott.OpDelete:
			state, origin, m.reauth = i, lastOriginal, false
		case escott.OpReAuth:
			state, origin, m.reauth = lastOriginal, lastOriginal, lastOriginal >= 0
		}
		switch e.Operation {
		case escott.OpAuth, escott.OpGathering, escott.OpChange, escott.OpReAuth, escott.OpSearch:
			if e.Amount > 0 {
				m.amount = e.Amount
			}
		}
	}
	m.kind = kessai.PaymentNew
	if state >= 0 {
		m.entry = h[state].ID
		m.kind = map[escott.OperateID]kessai.PaymentState{
			escott.OpAuth: kessai.PaymentAuthorized, escott.OpGathering: kessai.PaymentCaptured,
			escott.OpCapture: kessai.PaymentCaptured, escott.OpDelete: kessai.PaymentCancelled,
		}[h[state].Operation]
		if origin >= 0 {
			m.origin = h[origin].ID
		}
	}
	m.expired = m.expired && state >= 0
	if m.expired {
		m.kind = kessai.PaymentExpired
	}
	return m
}

// checkCollection checks the invariants of a derived collection state.
func checkCollection(t *testing.T, h []kessai.HistoryEntry, c CollectionState) {
	t.Helper()
	anyOK := func(op escott.OperateID) bool {
		return slices.ContainsFunc(h, func(e kessai.HistoryEntry) bool { return e.ResponseCd == escott.CodeOK && e.Operation == op })
	}
	if (c.Kind == kessai.PaymentPaid) != anyOK(OpPaid) {
		t.Fatalf("paid %v, but a paid row exists: %v", c.Kind == kessai.PaymentPaid, anyOK(OpPaid))
	}
	if !anyOK(OpPaid) && (c.Kind == kessai.PaymentCancelled) != anyOK(escott.OpCvsDel) {
		t.Fatalf("cancelled %v, but a 2Del row exists: %v", c.Kind == kessai.PaymentCancelled, anyOK(escott.OpCvsDel))
	}
	if c.Changed != anyOK(escott.OpCvsChg) {
		t.Fatalf("Changed %v, but a 2Chg row exists: %v", c.Changed, anyOK(escott.OpCvsChg))
	}
	if (c.Entry == nil) != (c.Kind == kessai.PaymentNew) {
		t.Fatalf("kind %s with entry %v", c.Kind, c.Entry)
	}
	if c.Entry != nil && c.Entry.ResponseCd != escott.CodeOK {
		t.Fatalf("state entry %s is not successful", c.Entry.ID)
	}
	for _, op := range CollectionOperations(c) {
		if err := AllowedCollection(c, op); err != nil {
			t.Fatalf("CollectionOperations lists %s but AllowedCollection refuses it: %v", op, err)
		}
	}
	_, _ = c.Handle(&kessai.Payment{ProcessID: "pid-1", ProcessPass: "p"})
}
