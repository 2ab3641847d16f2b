package conformance

import (
	"errors"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// start is how a transaction is brought into a starting state.
type start struct {
	name string
	// setup returns the handle of a transaction in the state.
	setup func(f *fixture) escott.Process
	state string
}

var starts = []start{
	{"AUTH(1Auth)", func(f *fixture) escott.Process { return f.auth(visaOK, false, 5000).Process }, "AUTH"},
	{"CAPTURED(1Gathering)", func(f *fixture) escott.Process { return f.auth(visaOK, true, 5000).Process }, "CAPTURED"},
	{"CAPTURED(1Auth+1Capture)", func(f *fixture) escott.Process {
		pr := f.auth(visaOK, false, 5000).Process
		f.follow(escott.OpCapture, pr)
		return pr
	}, "CAPTURED"},
	{"CANCELLED(1Auth+1Delete)", func(f *fixture) escott.Process {
		pr := f.auth(visaOK, false, 5000).Process
		f.follow(escott.OpDelete, pr)
		return pr
	}, "CANCELLED"},
	{"CANCELLED(1Gathering+1Delete)", func(f *fixture) escott.Process {
		pr := f.auth(visaOK, true, 5000).Process
		f.follow(escott.OpDelete, pr)
		return pr
	}, "CANCELLED"},
	{"CANCELLED(1Auth+1Capture+1Delete)", func(f *fixture) escott.Process {
		pr := f.auth(visaOK, false, 5000).Process
		f.follow(escott.OpCapture, pr)
		f.follow(escott.OpDelete, pr)
		return pr
	}, "CANCELLED"},
}

// follow sends one follow-up with amount 7000 where one is needed and
// fails the test unless it succeeds.
func (f *fixture) follow(op escott.OperateID, pr escott.Process) {
	f.t.Helper()
	if _, err := f.followUp(op, escott.FollowUp{Process: pr}); err != nil {
		f.t.Fatalf("%s: %v", op, err)
	}
}

// followUp sends op through the client's typed method.
func (f *fixture) followUp(op escott.OperateID, fu escott.FollowUp) (*escott.Response, error) {
	switch op {
	case escott.OpCapture:
		r, err := f.c.Capture(f.ctx, fu)
		return respOf(r), err
	case escott.OpChange:
		r, err := f.c.Change(f.ctx, fu, 7000)
		return respOf(r), err
	case escott.OpDelete:
		r, err := f.c.Delete(f.ctx, fu)
		return respOf(r), err
	case escott.OpReAuth:
		r, err := f.c.ReAuth(f.ctx, fu, 7000)
		return respOf(r), err
	case escott.OpSearch:
		r, err := f.c.Search(f.ctx, fu.Ref, fu.Process)
		if r == nil {
			return nil, err
		}
		return r.Response, err
	}
	f.t.Fatalf("not a follow-up: %s", op)
	return nil, nil
}

func respOf(r *escott.FollowUpResult) *escott.Response {
	if r == nil {
		return nil
	}
	return r.Response
}

// TestCardStateMachine drives every starting state through every
// follow-up, from one table (spec §12.3, §16.4): the answer code, the
// resulting state and amount in the simulator, and that the handle never
// changes.
func TestCardStateMachine(t *testing.T) {
	t.Parallel()
	// want[start][op]: "" = OK, else the refusal code; then the state
	// after the call.
	type outcome struct{ code, state string }
	want := map[string]map[escott.OperateID]outcome{
		"AUTH(1Auth)": {
			escott.OpCapture: {"", "CAPTURED"}, escott.OpChange: {"", "AUTH"}, escott.OpDelete: {"", "CANCELLED"},
			escott.OpReAuth: {"", "AUTH"}, escott.OpSearch: {"", "AUTH"},
		},
		"CAPTURED(1Gathering)": {
			escott.OpCapture: {"K14", "CAPTURED"}, escott.OpChange: {"", "CAPTURED"}, escott.OpDelete: {"", "CANCELLED"},
			escott.OpReAuth: {"K14", "CAPTURED"}, escott.OpSearch: {"", "CAPTURED"},
		},
		"CAPTURED(1Auth+1Capture)": {
			escott.OpCapture: {"K14", "CAPTURED"}, escott.OpChange: {"", "CAPTURED"}, escott.OpDelete: {"", "CANCELLED"},
			escott.OpReAuth: {"K14", "CAPTURED"}, escott.OpSearch: {"", "CAPTURED"},
		},
		"CANCELLED(1Auth+1Delete)": {
			escott.OpCapture: {"K14", "CANCELLED"}, escott.OpChange: {"K14", "CANCELLED"}, escott.OpDelete: {"K14", "CANCELLED"},
			escott.OpReAuth: {"", "AUTH"}, escott.OpSearch: {"", "CANCELLED"},
		},
		"CANCELLED(1Gathering+1Delete)": {
			escott.OpCapture: {"K14", "CANCELLED"}, escott.OpChange: {"K14", "CANCELLED"}, escott.OpDelete: {"K14", "CANCELLED"},
			escott.OpReAuth: {"", "CAPTURED"}, escott.OpSearch: {"", "CANCELLED"},
		},
		"CANCELLED(1Auth+1Capture+1Delete)": {
			escott.OpCapture: {"K14", "CANCELLED"}, escott.OpChange: {"K14", "CANCELLED"}, escott.OpDelete: {"K14", "CANCELLED"},
			escott.OpReAuth: {"", "AUTH"}, escott.OpSearch: {"", "CANCELLED"},
		},
	}
	ops := []escott.OperateID{escott.OpCapture, escott.OpChange, escott.OpDelete, escott.OpReAuth, escott.OpSearch}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			for _, op := range ops {
				exp, ok := want[st.name][op]
				if !ok {
					t.Fatalf("table has no row for %s × %s", st.name, op)
				}
				pr := st.setup(f)
				if got := f.mustTxn(pr.ProcessID).Status; string(got) != st.state {
					t.Fatalf("%s: setup left state %s, want %s", op, got, st.state)
				}
				before := f.mustTxn(pr.ProcessID)
				ref := escott.Ref{MerchantFree1: "000000000777", MerchantFree2: "o-sm"}
				resp, err := f.followUp(op, escott.FollowUp{Ref: ref, Process: pr})
				after := f.mustTxn(pr.ProcessID)
				if exp.code == "" {
					if err != nil {
						t.Fatalf("%s from %s: %v, want OK", op, st.name, err)
					}
					if resp.OperateID() != op || resp.MerchantFree1() != ref.MerchantFree1 || resp.TransactionID() == "" {
						t.Fatalf("%s echoes: %v", op, resp.Fields)
					}
					if resp.ProcessID() != pr.ProcessID || resp.ProcessPass() != pr.ProcessPass {
						t.Fatalf("%s answered handle %s/%s, want the original %s", op, resp.ProcessID(), resp.ProcessPass(), pr.ProcessID)
					}
				} else {
					e := wantCode(t, err, exp.code)
					if e.Class() != escott.ClassTransactionState {
						t.Fatalf("%s class %v", exp.code, e.Class())
					}
				}
				if string(after.Status) != exp.state {
					t.Fatalf("%s from %s: state %s, want %s", op, st.name, after.Status, exp.state)
				}
				// Amount: 1Change and 1ReAuth set it when they succeed;
				// nothing else touches it.
				wantAmt := before.Amount
				if exp.code == "" && (op == escott.OpChange || op == escott.OpReAuth) {
					wantAmt = 7000
				}
				if after.Amount != wantAmt {
					t.Fatalf("%s from %s: amount %d, want %d", op, st.name, after.Amount, wantAmt)
				}
				if op == escott.OpSearch {
					if amountOf(t, resp) != before.Amount {
						t.Fatalf("1Search Amount %s, simulator %d", resp.Get("Amount"), before.Amount)
					}
					if (after.Status == "CAPTURED") != (resp.Get("SalesDate") != "") {
						t.Fatalf("1Search SalesDate %q in state %s", resp.Get("SalesDate"), after.Status)
					}
				}
				if after.Status == "CAPTURED" && after.SalesDate == "" {
					t.Fatalf("captured without SalesDate")
				}
			}
		})
	}
}

// TestReAuthKeepsProcess: a re-authorisation keeps ProcessId/ProcessPass
// (spec §5.6, design A-19); the same handle keeps working for the
// operations that follow, and the state is the original operation's.
func TestReAuthKeepsProcess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, capture := range []bool{false, true} {
		a := f.auth(visaOK, capture, 5000)
		pr := a.Process
		if _, err := f.c.Delete(f.ctx, escott.FollowUp{Process: pr}); err != nil {
			t.Fatal(err)
		}
		res, err := f.c.ReAuth(f.ctx, escott.FollowUp{Process: pr}, 4000)
		wantOK(t, err)
		if res.Process != pr {
			t.Fatalf("ReAuth handle %+v, want %+v", res.Process, pr)
		}
		if res.Get("ApproveNo") == "" {
			t.Fatal("a re-authorisation carries a new ApproveNo")
		}
		tx := f.mustTxn(pr.ProcessID)
		wantState := "AUTH"
		if capture {
			wantState = "CAPTURED"
		}
		if string(tx.Status) != wantState || tx.Amount != 4000 {
			t.Fatalf("after ReAuth: %+v", tx)
		}
		s, err := f.c.Search(f.ctx, escott.Ref{}, pr)
		wantOK(t, err)
		if s.Amount != 4000 {
			t.Fatalf("Search amount %d", s.Amount)
		}
		if capture != (s.SalesDate != "") {
			t.Fatalf("SalesDate %q after re-auth of capture=%v", s.SalesDate, capture)
		}
		if !capture {
			if _, err := f.c.Capture(f.ctx, escott.FollowUp{Process: pr}); err != nil {
				t.Fatalf("capture after re-auth with the original handle: %v", err)
			}
		}
	}
}

// TestSixtyDayLimit: follow-ups work through day 60 after the
// authorisation and answer K12 from day 61; Search then wraps
// escott.ErrExpired.
func TestSixtyDayLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.auth(visaOK, false, 5000)
	b := f.auth(visaOK, false, 5000)
	f.sim.Advance(60 * 24 * time.Hour)
	if _, err := f.c.Search(f.ctx, escott.Ref{}, a.Process); err != nil {
		t.Fatalf("day 60: %v", err)
	}
	if _, err := f.c.Change(f.ctx, escott.FollowUp{Process: a.Process}, 4000); err != nil {
		t.Fatalf("day 60 change: %v", err)
	}
	f.sim.Advance(24 * time.Hour)
	res, err := f.c.Search(f.ctx, escott.Ref{}, a.Process)
	e := wantCode(t, err, "K12")
	if !errors.Is(err, escott.ErrExpired) {
		t.Fatalf("Search K12 must wrap ErrExpired: %v", err)
	}
	if res == nil || res.Response != e.Response {
		t.Fatal("Search must return the answer with the error")
	}
	for _, op := range []escott.OperateID{escott.OpCapture, escott.OpChange, escott.OpDelete, escott.OpReAuth} {
		_, err := f.followUp(op, escott.FollowUp{Process: b.Process})
		wantCode(t, err, "K12")
		if errors.Is(err, escott.ErrExpired) {
			t.Fatalf("%s: only Search reports ErrExpired", op)
		}
	}
	if tx := f.mustTxn(b.Process.ProcessID); string(tx.Status) != "AUTH" || tx.Amount != 5000 {
		t.Fatalf("expired transaction changed: %+v", tx)
	}
	// A new transaction is not affected.
	c := f.auth(visaOK, false, 100)
	if _, err := f.c.Capture(f.ctx, escott.FollowUp{Process: c.Process}); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownProcess: a wrong ProcessPass or an unknown ProcessId answer
// K12 (no information about which was wrong).
func TestUnknownProcess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.auth(visaOK, false, 5000)
	for name, pr := range map[string]escott.Process{
		"wrong pass": {ProcessID: a.Process.ProcessID, ProcessPass: mutate(a.Process.ProcessPass)},
		"unknown id": {ProcessID: mutate(a.Process.ProcessID), ProcessPass: a.Process.ProcessPass},
	} {
		for _, op := range []escott.OperateID{escott.OpCapture, escott.OpDelete, escott.OpSearch} {
			_, err := f.followUp(op, escott.FollowUp{Process: pr})
			if !hasCode(err, "K12") {
				t.Fatalf("%s %s: %v", name, op, err)
			}
		}
	}
	if tx := f.mustTxn(a.Process.ProcessID); string(tx.Status) != "AUTH" {
		t.Fatalf("state %s", tx.Status)
	}
	if _, err := f.c.Capture(f.ctx, escott.FollowUp{}); err == nil {
		t.Fatal("empty handle must be refused client-side")
	}
}

// TestFollowUpMemberRules: follow-ups of a member transaction need the
// member (K80), follow-ups of a token transaction must not carry one
// (K81, which the client answers by retrying without), and another
// member's ids answer K71.
func TestFollowUpMemberRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mem := f.newMember("1", visaOK)
	other := f.newMember("2", masterOK)
	memTx, err := f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o-m"), Amount: 2000, Member: mem})
	wantOK(t, err)
	tokTx := f.auth(visaOK, false, 2000)

	t.Run("K80 member transaction without member", func(t *testing.T) {
		for _, op := range []escott.OperateID{escott.OpCapture, escott.OpChange, escott.OpDelete, escott.OpReAuth} {
			_, err := f.followUp(op, escott.FollowUp{Process: memTx.Process})
			if e := wantCode(t, err, "K80"); e.Class() != escott.ClassMember {
				t.Fatalf("class %v", e.Class())
			}
		}
		// 1Search ignores member ids.
		if _, err := f.c.Search(f.ctx, escott.Ref{}, memTx.Process); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("K71 another member", func(t *testing.T) {
		_, err := f.c.Capture(f.ctx, escott.FollowUp{Process: memTx.Process, Member: other})
		wantCode(t, err, "K71")
		_, err = f.c.Capture(f.ctx, escott.FollowUp{Process: memTx.Process, Member: escott.Member{KaiinID: mem.KaiinID, KaiinPass: other.KaiinPass}})
		wantCode(t, err, "K71")
		if string(f.mustTxn(memTx.Process.ProcessID).Status) != "AUTH" {
			t.Fatal("state changed on K71")
		}
	})
	t.Run("member transaction with its member", func(t *testing.T) {
		res, err := f.c.Capture(f.ctx, escott.FollowUp{Process: memTx.Process, Member: mem})
		wantOK(t, err)
		if res.RetriedWithoutMember {
			t.Fatal("no retry expected")
		}
		if string(f.mustTxn(memTx.Process.ProcessID).Status) != "CAPTURED" {
			t.Fatal("not captured")
		}
	})
	t.Run("K81 token transaction with member: retried without", func(t *testing.T) {
		res, err := f.c.Capture(f.ctx, escott.FollowUp{Process: tokTx.Process, Member: mem})
		wantOK(t, err)
		if !res.RetriedWithoutMember {
			t.Fatal("RetriedWithoutMember not set")
		}
		tx := f.mustTxn(tokTx.Process.ProcessID)
		if string(tx.Status) != "CAPTURED" {
			t.Fatalf("state %s", tx.Status)
		}
		// The simulator saw the K81 attempt and then the OK one.
		h := tx.History
		if len(h) < 2 || h[len(h)-2].ResponseCd != "K81" || h[len(h)-1].ResponseCd != "OK" || h[len(h)-1].OperateID != escott.OpCapture {
			t.Fatalf("history %+v", h)
		}
		// The retry also applies to 1ReAuth (which drops MerchantFree3).
		if _, err := f.c.Delete(f.ctx, escott.FollowUp{Process: tokTx.Process, Member: mem}); err != nil {
			t.Fatal(err)
		}
		ra, err := f.c.ReAuth(f.ctx, escott.FollowUp{Ref: escott.Ref{MerchantFree3: "1"}, Process: tokTx.Process, Member: mem}, 1500)
		wantOK(t, err)
		if !ra.RetriedWithoutMember || ra.Get("MerchantFree3") != "" {
			t.Fatalf("ReAuth retry: %+v %v", ra.RetriedWithoutMember, ra.Fields)
		}
	})
}

// mutate changes the first character of s to another letter.
func mutate(s string) string {
	if s[0] == 'x' {
		return "y" + s[1:]
	}
	return "x" + s[1:]
}
