package card

import (
	"errors"
	"slices"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Pseudo operations: history rows kessai writes itself for events that are
// not gateway calls (spec §5.0, §12.5). They are recorded with ResponseCd
// "OK", like the plugins' own rows, so that the derivation treats them as
// any other successful state entry.
const (
	// OpPaid marks a collection's payment (入金), from a payment
	// notification or from a 2Ref that found a NyukinDate (NOTIFY-02,
	// ADMIN-12).
	OpPaid escott.OperateID = "paid"
	// OpExpired marks an unpaid collection past its due date, written once
	// a last 2Ref confirmed it is still unpaid (design A-07).
	OpExpired escott.OperateID = "expired"
)

// codeExpired is the answer of 1Search for a transaction past its handling
// period (spec §5.7, §12.4, ADMIN-16).
const codeExpired = "K12"

// fieldProcessID is the answer field holding the gateway's transaction
// handle. It is kept in HistoryEntry.Fields unmasked; ProcessPass is a
// secret and is masked there (escott.MaskValue), which is why the password
// half of the handle comes from the Payment (see [State.Handle]).
const fieldProcessID = "ProcessId"

// State is the current state of a card payment, derived from its history
// by [DeriveState]. It is a value: deriving never changes the history, and
// the entries it points to are copies.
type State struct {
	// Kind is the state shown to operators and stored on the payment:
	// PaymentNew (新規: no successful charge yet), PaymentAuthorized (与信),
	// PaymentCaptured (与信売上計上 or 売上計上), PaymentCancelled (取消) or
	// PaymentExpired (期限切れ: the gateway no longer handles it).
	Kind kessai.PaymentState
	// Entry is the state entry of spec §12.2: the successful 1Auth,
	// 1Gathering, 1Capture or 1Delete that decides the state. After a
	// re-authorisation it is the original 1Auth/1Gathering (ADMIN-08). Nil
	// for PaymentNew. It stays set when Kind is PaymentExpired, so that the
	// screen can still show what the transaction was.
	Entry *kessai.HistoryEntry
	// Origin is the successful 1Auth or 1Gathering that opened the
	// transaction: the newest one at or before Entry. The 60-day handling
	// period counts from its day (see [State.Opened]). Nil for PaymentNew
	// and for a history whose state entry has no original before it.
	Origin *kessai.HistoryEntry
	// Amount is the current amount at the gateway, in yen: the Amount of
	// the newest successful 1Change, 1ReAuth, 1Auth or 1Gathering, or of a
	// newer successful 1Search that reported one (the gateway's own figure,
	// which also catches a change made in the e-SCOTT console). Entries
	// with a zero Amount are passed over. 0 when nothing was charged.
	Amount int64
	// Reauthorized is set when Entry was reached through a successful
	// 1ReAuth (spec §12.2 step 2): the state shown is the original
	// operation's, "authorised again".
	Reauthorized bool
	// Expired is set when a 1Search answered K12 after every successful
	// entry of the history (spec §5.7). Kind is then PaymentExpired. A
	// later successful answer, even a 1Search, clears it: the gateway was
	// evidently still handling the transaction, and K12 also means "unknown
	// ProcessId", so the newest word wins.
	Expired bool
}

// isOK reports whether an entry is a successful gateway answer (or a
// pseudo row, which is always recorded as OK).
func isOK(h *kessai.HistoryEntry) bool { return h.ResponseCd == escott.CodeOK }

// hasCode reports whether the entry's ResponseCd, possibly a "|"-joined
// list, contains code.
func hasCode(h *kessai.HistoryEntry, code string) bool {
	return slices.Contains(escott.SplitCodes(h.ResponseCd), code)
}

// isOriginal reports whether op opens a card transaction.
func isOriginal(op escott.OperateID) bool {
	return op == escott.OpAuth || op == escott.OpGathering
}

// setsCardState reports whether a successful op is a card state entry
// (spec §12.2 step 3). 1Change, 1Search, 1ReAuth, 1TokenSearch, member and
// collection operations never are: a card history may carry a 4MemRefM
// row or a stray collection row without them moving the state.
func setsCardState(op escott.OperateID) bool {
	switch op {
	case escott.OpAuth, escott.OpGathering, escott.OpCapture, escott.OpDelete:
		return true
	}
	return false
}

// DeriveState computes the state of a card payment from its history — the
// rows of one payment, i.e. one transaction code (MerchantFree1); a new
// charge for the same order is a new payment with its own history
// (ADMIN-09). The history must be oldest first as kessai.Store.ListHistory
// returns it (slice order is authoritative: two answers can carry the same
// timestamp, so it is not re-sorted). It implements
// spec §12.2 (ADMIN-20) exactly, walking newest → oldest:
//
//  1. a successful 1ReAuth sets reauthSeen and the walk continues;
//  2. with reauthSeen, the state entry is the first further successful
//     1Auth or 1Gathering (capture and cancel rows in between are what the
//     re-authorisation undid);
//  3. otherwise it is the first successful 1Auth, 1Gathering, 1Capture or
//     1Delete.
//
// Failed entries, 1Change and 1Search never change the state. So
// 1Auth → 1Delete → 1ReAuth is authorised again, on the original entry, and
// 1Gathering → 1Delete → 1ReAuth is captured again. The plugin's list also
// names 2Add, 5Auth, 5Gathering, 5Capture, 5Delete and paid: the 5xxx
// operations are never sent and the collection rows belong to
// [DeriveCollectionState], so a card history ignores them.
//
// Kind maps the state entry's operation: 1Auth → authorized,
// 1Gathering/1Capture → captured, 1Delete → cancelled; none → new; and
// expired when a 1Search answered K12 after every successful entry (see
// [State.Expired]).
//
// The process handle for the next operation is the state entry's (spec
// §12.2; after a re-auth the original's, design A-19): see [State.ProcessID]
// and [State.Handle].
func DeriveState(history []kessai.HistoryEntry) State {
	var s State
	state := -1
	reauthSeen := false
	for i := len(history) - 1; i >= 0; i-- {
		h := &history[i]
		if !isOK(h) {
			continue
		}
		if h.Operation == escott.OpReAuth {
			reauthSeen = true
			continue
		}
		// After a re-auth only the original operation counts: the
		// capture or cancel between it and the re-auth is what the
		// re-auth undid (steps 2 and 3 of §12.2).
		if (reauthSeen && isOriginal(h.Operation)) || (!reauthSeen && setsCardState(h.Operation)) {
			state = i
			break
		}
	}
	if state < 0 {
		s.Kind = kessai.PaymentNew
	} else {
		s.Entry = entryCopy(&history[state])
		s.Reauthorized = reauthSeen
		s.Kind = kindOf(s.Entry.Operation)
		for i := state; i >= 0; i-- {
			if h := &history[i]; isOK(h) && isOriginal(h.Operation) {
				s.Origin = entryCopy(h)
				break
			}
		}
	}
	s.Amount = currentAmount(history)
	if s.Entry != nil && expiredAfterLastOK(history) {
		s.Expired = true
		s.Kind = kessai.PaymentExpired
	}
	return s
}

// kindOf maps a card state entry's operation to the payment state.
func kindOf(op escott.OperateID) kessai.PaymentState {
	switch op {
	case escott.OpAuth:
		return kessai.PaymentAuthorized
	case escott.OpGathering, escott.OpCapture:
		return kessai.PaymentCaptured
	case escott.OpDelete:
		return kessai.PaymentCancelled
	}
	return kessai.PaymentNew
}

// entryCopy copies an entry so that a State never aliases the caller's
// slice (the Fields map is shared: it is read-only here).
func entryCopy(h *kessai.HistoryEntry) *kessai.HistoryEntry {
	c := *h
	return &c
}

// currentAmount is the amount rule of [State.Amount].
func currentAmount(history []kessai.HistoryEntry) int64 {
	for i := len(history) - 1; i >= 0; i-- {
		h := &history[i]
		if !isOK(h) || h.Amount <= 0 {
			continue
		}
		switch h.Operation {
		case escott.OpAuth, escott.OpGathering, escott.OpChange, escott.OpReAuth, escott.OpSearch:
			return h.Amount
		}
	}
	return 0
}

// expiredAfterLastOK reports whether a 1Search answered K12 after the
// newest successful entry of the history.
func expiredAfterLastOK(history []kessai.HistoryEntry) bool {
	for i := len(history) - 1; i >= 0; i-- {
		h := &history[i]
		if isOK(h) {
			return false
		}
		if h.Operation == escott.OpSearch && hasCode(h, codeExpired) {
			return true
		}
	}
	return false
}

// Op is the state entry's operation, "" for a new payment.
func (s State) Op() escott.OperateID {
	if s.Entry == nil {
		return ""
	}
	return s.Entry.Operation
}

// Label is the Japanese state name of the admin badges (ADMIN-01/04):
// 新規, 与信, 与信売上計上, 売上計上, 取消 or 期限切れ. The two captured
// states keep their own names, as the plugins show them.
func (s State) Label() string {
	if s.Kind == kessai.PaymentExpired {
		return "期限切れ"
	}
	if s.Entry == nil {
		return "新規"
	}
	return s.Entry.Operation.Label()
}

// LabelEn is the English state name, for the English console and messages.
func (s State) LabelEn() string {
	switch {
	case s.Kind == kessai.PaymentExpired:
		return "expired"
	case s.Entry == nil:
		return "new"
	case s.Entry.Operation == escott.OpGathering:
		return "authorised and captured"
	}
	return stateEn(s.Kind)
}

// stateEn names a payment state in messages.
func stateEn(k kessai.PaymentState) string {
	switch k {
	case kessai.PaymentAuthorized:
		return "authorised"
	case kessai.PaymentCaptured:
		return "captured"
	case kessai.PaymentCancelled:
		return "cancelled"
	case kessai.PaymentPending:
		return "unpaid"
	}
	return string(k)
}

// Opened is the time of the original authorisation (Origin), from which
// the gateway counts the 60-day handling period; zero when unknown.
func (s State) Opened() time.Time {
	if s.Origin == nil {
		return time.Time{}
	}
	return s.Origin.At
}

// ProcessID is the gateway handle for the next operation: the ProcessId
// field of the state entry (spec §12.2), or of the original authorisation
// when the state entry's answer did not carry one. The gateway keeps one
// ProcessId for the life of a transaction — capture, cancel and change
// answers repeat it, and a re-authorisation keeps it (design A-19) — so the
// fallback names the same transaction. "" when neither entry has one.
func (s State) ProcessID() string {
	return processIDOf(s.Entry, s.Origin)
}

// Handle returns the ProcessId/ProcessPass pair for the next operation on
// p. ProcessPass is a secret that the history keeps only masked, so it
// comes from the payment (stored encrypted when the transaction was
// opened). The ProcessId comes from the history ([State.ProcessID]) and
// must agree with the payment's: a disagreement means the stored payment
// and its history describe different transactions, and guessing could
// capture or cancel the wrong one, so it is an internal error. A history
// that recorded no ProcessId falls back to the payment's.
func (s State) Handle(p *kessai.Payment) (escott.Process, error) {
	return handle(s.Entry != nil, s.ProcessID(), p)
}

// processIDOf returns the first non-empty ProcessId of the entries.
func processIDOf(entries ...*kessai.HistoryEntry) string {
	for _, e := range entries {
		if e != nil && e.Fields[fieldProcessID] != "" {
			return e.Fields[fieldProcessID]
		}
	}
	return ""
}

// handle is [State.Handle] for both payment methods.
func handle(opened bool, id string, p *kessai.Payment) (escott.Process, error) {
	if !opened {
		return escott.Process{}, errNoTransaction("")
	}
	switch {
	case p == nil:
		return escott.Process{}, kessai.Internal(errors.New("card: no payment given for the process handle"))
	case id == "":
		id = p.ProcessID
	case p.ProcessID != "" && p.ProcessID != id:
		return escott.Process{}, kessai.Internal(errors.New("card: payment " + p.ID + ": ProcessId of the history and of the payment differ"))
	}
	if id == "" || p.ProcessPass == "" {
		return escott.Process{}, kessai.Internal(errors.New("card: payment " + p.ID + ": no ProcessId/ProcessPass stored"))
	}
	return escott.Process{ProcessID: id, ProcessPass: p.ProcessPass}, nil
}

// CollectionState is the current state of an online payment collection
// (オンライン収納代行), derived from its history by
// [DeriveCollectionState].
type CollectionState struct {
	// Kind is PaymentNew (新規: not registered), PaymentPending (未入金),
	// PaymentPaid (入金済), PaymentCancelled (取消済み) or PaymentExpired
	// (期限切れ: kessai's own row after the due date passed, design A-07).
	Kind kessai.PaymentState
	// Entry is the state entry: the successful 2Add, 2Chg, 2Del, paid or
	// expired row that decides the state; nil for PaymentNew.
	Entry *kessai.HistoryEntry
	// Origin is the newest successful 2Add: the registration, from whose
	// day the 60-day handling period counts. Nil when never registered.
	Origin *kessai.HistoryEntry
	// Amount is the amount to pay (or paid), in yen: the Amount of the
	// newest successful 2Add, 2Chg or paid row that has one.
	Amount int64
	// Changed is set once a 2Chg succeeded: the gateway allows one change
	// only (spec §10.4, ADMIN-13), so a second is refused before it is
	// sent.
	Changed bool
}

// DeriveCollectionState computes the state of an online payment
// collection from its history, oldest first (as for [DeriveState]). The
// state entries are the successful 2Add, 2Chg, 2Del and the pseudo rows
// paid and expired (spec §10.4, §12.2 step 3); failed rows and 2Ref never
// change the state. The rule, in order of precedence:
//
//  1. any paid row → paid. Money received is a fact no later row can undo:
//     there is no gateway refund for collections (design A-21) and the
//     gateway answers K14 to 2Chg/2Del after payment, so a paid row wins
//     even over an expired row written by a job racing a late
//     notification;
//  2. any successful 2Del → cancelled. A deleted registration can be
//     neither paid nor registered again ([MANUAL]), so it is final;
//  3. otherwise the newest successful 2Add, 2Chg or expired row: 2Add and
//     2Chg → pending, expired → expired (a 2Chg after an expired row gave
//     the shopper a new due date, so the collection is pending again);
//  4. none → new.
func DeriveCollectionState(history []kessai.HistoryEntry) CollectionState {
	var s CollectionState
	paid, deleted, latest := -1, -1, -1
	for i := len(history) - 1; i >= 0; i-- {
		h := &history[i]
		if !isOK(h) {
			continue
		}
		switch h.Operation {
		case OpPaid:
			if paid < 0 {
				paid = i
			}
		case escott.OpCvsDel:
			if deleted < 0 {
				deleted = i
			}
		case escott.OpCvsChg:
			s.Changed = true
			fallthrough
		case escott.OpCvsAdd, OpExpired:
			if latest < 0 {
				latest = i
			}
		}
		if s.Origin == nil && h.Operation == escott.OpCvsAdd {
			s.Origin = entryCopy(h)
		}
		if s.Amount == 0 && h.Amount > 0 {
			switch h.Operation {
			case escott.OpCvsAdd, escott.OpCvsChg, OpPaid:
				s.Amount = h.Amount
			}
		}
	}
	switch {
	case paid >= 0:
		s.Kind, s.Entry = kessai.PaymentPaid, entryCopy(&history[paid])
	case deleted >= 0:
		s.Kind, s.Entry = kessai.PaymentCancelled, entryCopy(&history[deleted])
	case latest >= 0:
		s.Entry = entryCopy(&history[latest])
		s.Kind = kessai.PaymentPending
		if s.Entry.Operation == OpExpired {
			s.Kind = kessai.PaymentExpired
		}
	default:
		s.Kind = kessai.PaymentNew
	}
	return s
}

// Label is the Japanese state name of the admin badges (ADMIN-01/12):
// 新規, 未入金, 入金済, 取消済み or 期限切れ.
func (s CollectionState) Label() string {
	switch s.Kind {
	case kessai.PaymentPending:
		return "未入金"
	case kessai.PaymentPaid:
		return "入金済"
	case kessai.PaymentCancelled:
		return "取消済み"
	case kessai.PaymentExpired:
		return "期限切れ"
	}
	return "新規"
}

// LabelEn is the English state name.
func (s CollectionState) LabelEn() string {
	switch s.Kind {
	case kessai.PaymentPaid:
		return "paid"
	case kessai.PaymentNew:
		return "new"
	case kessai.PaymentExpired:
		return "expired"
	}
	return stateEn(s.Kind)
}

// Opened is the time of the registration (Origin), from which the 60-day
// handling period counts; zero when unknown.
func (s CollectionState) Opened() time.Time {
	if s.Origin == nil {
		return time.Time{}
	}
	return s.Origin.At
}

// ProcessID is the gateway handle for the next operation: the ProcessId of
// the state entry, or of the registration when the state entry carries none
// (paid and expired rows are kessai's own; a 2Chg answer repeats the
// registration's handle anyway).
func (s CollectionState) ProcessID() string {
	return processIDOf(s.Entry, s.Origin)
}

// Handle returns the ProcessId/ProcessPass pair for the next operation on
// p, with the same rules as [State.Handle].
func (s CollectionState) Handle(p *kessai.Payment) (escott.Process, error) {
	return handle(s.Entry != nil, s.ProcessID(), p)
}
