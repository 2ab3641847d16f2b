package conformance

import (
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// TestMemberAdd covers 4MemAdd: the member exists in the simulator, the
// token is consumed, and a second registration of the same id answers
// K69.
func TestMemberAdd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.token(sim.DemoCard)
	m := escott.Member{KaiinID: "k15i0000001", KaiinPass: "000012345678"}
	res, err := f.c.AddMember(f.ctx, escott.Ref{MerchantFree1: "000000000001", MerchantFree3: "15"}, m, tok)
	wantOK(t, err)
	if res.OperateID() != escott.OpMemAdd || res.Get("MerchantFree3") != "15" {
		t.Fatalf("answer %v", res.Fields)
	}
	sm, ok := f.member(m.KaiinID)
	if !ok || !sm.Valid || sm.CardNumber != "4123********0300" || sm.CardExp != cardExp {
		t.Fatalf("simulator member %+v (found %v)", sm, ok)
	}
	_, err = f.c.TokenSearch(f.ctx, escott.Ref{}, tok)
	wantCode(t, err, "KI2")

	// Same id again, any card: K69; the stored card is unchanged and the
	// new token is not consumed.
	tok2 := f.token(masterOK)
	_, err = f.c.AddMember(f.ctx, escott.Ref{}, escott.Member{KaiinID: m.KaiinID, KaiinPass: "999999999999"}, tok2)
	if e := wantCode(t, err, "K69"); e.Class() != escott.ClassMember {
		t.Fatalf("class %v", e.Class())
	}
	if sm, _ := f.member(m.KaiinID); sm.CardNumber != "4123********0300" {
		t.Fatalf("card changed by a refused 4MemAdd: %s", sm.CardNumber)
	}
	if n := len(f.sim.Members(demoID, "test")); n != 1 {
		t.Fatalf("%d members", n)
	}

	// Client-side checks: no token, no ids.
	if _, err := f.c.AddMember(f.ctx, escott.Ref{}, m, ""); err == nil {
		t.Fatal("AddMember without token must be refused")
	}
	if _, err := f.c.AddMember(f.ctx, escott.Ref{}, escott.Member{KaiinID: "x"}, tok2); err == nil {
		t.Fatal("AddMember without password must be refused")
	}
	// Malformed ids reach the gateway's own format check.
	_, err = f.c.AddMember(f.ctx, escott.Ref{}, escott.Member{KaiinID: "bad id!", KaiinPass: "p@ss"}, tok2)
	wantCode(t, err, "K45", "K46")
}

// TestMemberRefer covers 4MemRefM: masked CardNo (first 4 + '*' + last
// 4 at the card's length), CardExp, status, and the client's Brand and
// Last4 for each brand.
func TestMemberRefer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		number, masked string
		brand          escott.BrandGroup
	}{
		{sim.DemoCard, "4123********0300", escott.BrandVisaMasterJCB},
		{masterOK, "5123********0001", escott.BrandVisaMasterJCB},
		{jcbOK, "3530********0003", escott.BrandVisaMasterJCB},
		{dinersOK, "3600******0008", escott.BrandDiners},
		{amexOK, "3700*******0002", escott.BrandAmex},
	}
	for i, tc := range cases {
		m := f.newMember(string(rune('a'+i)), tc.number)
		info, err := f.c.ReferMember(f.ctx, escott.Ref{MerchantFree1: "000000000002"}, m)
		wantOK(t, err)
		if info.CardNo != tc.masked || len(info.CardNo) != len(tc.number) {
			t.Errorf("%s: CardNo %q, want %q", tc.number, info.CardNo, tc.masked)
		}
		if info.CardExp != cardExp || info.Status != "0" || info.EnableDate != escott.TransactionDate(baseTime) {
			t.Errorf("%s: exp %q status %q enable %q", tc.number, info.CardExp, info.Status, info.EnableDate)
		}
		if info.Brand() != tc.brand || info.Last4() != tc.number[len(tc.number)-4:] {
			t.Errorf("%s: Brand %v Last4 %q", tc.number, info.Brand(), info.Last4())
		}
		// The allowed PayTypes follow the stored card's brand.
		if got := escott.AllowedPayTypes(info.Brand(), escott.Installments); len(got) < 2 {
			t.Errorf("%s: installments %v", tc.number, got)
		}
	}
	_, err := f.c.ReferMember(f.ctx, escott.Ref{}, escott.Member{KaiinID: "unknown1", KaiinPass: "x"})
	wantCode(t, err, "K71")
}

// TestMemberChange covers 4MemChg: the member's card is replaced by the
// token's card (visible through 4MemRefM and in the next payment), the
// token is consumed; a wrong password answers K71 and changes nothing.
func TestMemberChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.newMember("3", visaOK)
	tok := f.token(amexOK)
	_, err := f.c.ChangeMember(f.ctx, escott.Ref{}, escott.Member{KaiinID: m.KaiinID, KaiinPass: "000000000000"}, tok)
	wantCode(t, err, "K71")
	if info, _ := f.c.ReferMember(f.ctx, escott.Ref{}, m); info.Last4() != "0008" {
		t.Fatalf("card changed by a refused 4MemChg: %s", info.CardNo)
	}
	if _, err := f.c.TokenSearch(f.ctx, escott.Ref{}, tok); err != nil {
		t.Fatalf("token consumed by a refused 4MemChg: %v", err)
	}

	res, err := f.c.ChangeMember(f.ctx, escott.Ref{MerchantFree1: "000000000003"}, m, tok)
	wantOK(t, err)
	if res.OperateID() != escott.OpMemChg {
		t.Fatalf("OperateId %s", res.OperateID())
	}
	info, err := f.c.ReferMember(f.ctx, escott.Ref{}, m)
	wantOK(t, err)
	if info.CardNo != "3700*******0002" || info.Brand() != escott.BrandAmex {
		t.Fatalf("after change: %q %v", info.CardNo, info.Brand())
	}
	if sm, _ := f.member(m.KaiinID); sm.CardNumber != "3700*******0002" {
		t.Fatalf("simulator card %s", sm.CardNumber)
	}
	_, err = f.c.TokenSearch(f.ctx, escott.Ref{}, tok)
	wantCode(t, err, "KI2")
	// The next payment uses the new card: AMEX refuses revolving (G78).
	_, err = f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 10000, Member: m, PayType: escott.PayRevolving})
	wantCode(t, err, "G78")
	a, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 10000, Member: m, PayType: escott.PayInstall3})
	wantOK(t, err)
	if tx := f.mustTxn(a.Process.ProcessID); tx.CardNumber != "3700*******0002" || tx.KaiinID != m.KaiinID {
		t.Fatalf("payment card %+v", tx)
	}
}

// TestMemberLockout: wrong passwords answer K71 until the fifth in a row
// locks the member; while locked even the right password answers K74;
// the lock ends after 30 minutes of simulator time.
func TestMemberLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.newMember("4", visaOK)
	bad := escott.Member{KaiinID: m.KaiinID, KaiinPass: "000000000000"}
	// A correct password before the limit resets the count.
	for range 4 {
		_, err := f.c.ReferMember(f.ctx, escott.Ref{}, bad)
		wantCode(t, err, "K71")
	}
	if _, err := f.c.ReferMember(f.ctx, escott.Ref{}, m); err != nil {
		t.Fatalf("4 failures must not lock: %v", err)
	}
	for i := range 5 {
		_, err := f.c.ReferMember(f.ctx, escott.Ref{}, bad)
		if !hasCode(err, "K71") {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if sm, _ := f.member(m.KaiinID); !sm.Locked {
		t.Fatalf("simulator member not locked: %+v", sm)
	}
	for _, call := range []func() error{
		func() error { _, err := f.c.ReferMember(f.ctx, escott.Ref{}, m); return err },
		func() error {
			_, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 100, Member: m})
			return err
		},
		func() error { _, err := f.c.ChangeMember(f.ctx, escott.Ref{}, m, f.token(visaOK)); return err },
	} {
		err := call()
		if e := wantCode(t, err, "K74"); e.Class() != escott.ClassMember {
			t.Fatalf("class %v", e.Class())
		}
	}
	f.sim.Advance(31 * time.Minute)
	if _, err := f.c.ReferMember(f.ctx, escott.Ref{}, m); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

// TestMemberInvalidation covers 4MemInval and 4MemUnInval: an invalidated
// member cannot pay (K75) and shows KaiinStatus 1; re-validation makes it
// usable again; re-validating a valid member answers K73; invalidating an
// invalid one K75.
func TestMemberInvalidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.newMember("5", visaOK)
	res, err := f.c.InvalidateMember(f.ctx, escott.Ref{MerchantFree1: "000000000004"}, m)
	wantOK(t, err)
	if res.OperateID() != escott.OpMemInval {
		t.Fatalf("OperateId %s", res.OperateID())
	}
	if sm, _ := f.member(m.KaiinID); sm.Valid {
		t.Fatal("simulator member still valid")
	}
	_, err = f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 100, Member: m})
	wantCode(t, err, "K75")
	_, err = f.c.Check(f.ctx, escott.Ref{}, "", m)
	wantCode(t, err, "K75")
	_, err = f.c.ChangeMember(f.ctx, escott.Ref{}, m, f.token(visaOK))
	wantCode(t, err, "K75")
	info, err := f.c.ReferMember(f.ctx, escott.Ref{}, m)
	wantOK(t, err)
	if info.Status != "1" {
		t.Fatalf("KaiinStatus %q for an invalidated member", info.Status)
	}
	_, err = f.c.InvalidateMember(f.ctx, escott.Ref{}, m)
	wantCode(t, err, "K75")

	_, err = f.c.RevalidateMember(f.ctx, escott.Ref{}, m)
	wantOK(t, err)
	if sm, _ := f.member(m.KaiinID); !sm.Valid {
		t.Fatal("simulator member not valid again")
	}
	if _, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 100, Member: m}); err != nil {
		t.Fatalf("payment after re-validation: %v", err)
	}
	_, err = f.c.RevalidateMember(f.ctx, escott.Ref{}, m)
	wantCode(t, err, "K73")
}

// TestMemberDeletion covers 4MemDel: deleting a valid member answers K70
// and keeps it; RemoveMember (4MemInval then 4MemDel) deletes it; after
// that every call answers K71 and the id can be registered again.
func TestMemberDeletion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.newMember("6", visaOK)
	pay, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 100, Member: m})
	wantOK(t, err)

	_, err = f.c.DeleteMember(f.ctx, escott.Ref{}, m)
	wantCode(t, err, "K70")
	if _, ok := f.member(m.KaiinID); !ok {
		t.Fatal("member deleted despite K70")
	}

	res, err := f.c.RemoveMember(f.ctx, escott.Ref{MerchantFree1: "000000000005"}, m)
	wantOK(t, err)
	if res.OperateID() != escott.OpMemDel {
		t.Fatalf("RemoveMember ended with %s", res.OperateID())
	}
	if _, ok := f.member(m.KaiinID); ok {
		t.Fatal("member still in the simulator")
	}
	for name, call := range map[string]func() error{
		"4MemRefM":  func() error { _, err := f.c.ReferMember(f.ctx, escott.Ref{}, m); return err },
		"4MemInval": func() error { _, err := f.c.InvalidateMember(f.ctx, escott.Ref{}, m); return err },
		"4MemDel":   func() error { _, err := f.c.DeleteMember(f.ctx, escott.Ref{}, m); return err },
		"4MemChg":   func() error { _, err := f.c.ChangeMember(f.ctx, escott.Ref{}, m, f.token(visaOK)); return err },
		"1Auth": func() error {
			_, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 100, Member: m})
			return err
		},
		// The earlier payment's follow-ups need the member, which is gone.
		"1Capture": func() error {
			_, err := f.c.Capture(f.ctx, escott.FollowUp{Process: pay.Process, Member: m})
			return err
		},
	} {
		if err := call(); !hasCode(err, "K71") {
			t.Errorf("%s after deletion: %v, want K71", name, err)
		}
	}
	// The id is free again.
	if _, err := f.c.AddMember(f.ctx, escott.Ref{}, m, f.token(masterOK)); err != nil {
		t.Fatalf("re-registering a deleted id: %v", err)
	}

	// RemoveMember on an already invalidated member: 4MemInval answers
	// K75 and the sequence goes on to 4MemDel.
	m2 := f.newMember("7", visaOK)
	if _, err := f.c.InvalidateMember(f.ctx, escott.Ref{}, m2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.RemoveMember(f.ctx, escott.Ref{}, m2); err != nil {
		t.Fatalf("RemoveMember of an invalid member: %v", err)
	}
	if _, ok := f.member(m2.KaiinID); ok {
		t.Fatal("invalid member not deleted")
	}
	// RemoveMember with a wrong password stops at 4MemInval.
	m3 := f.newMember("8", visaOK)
	_, err = f.c.RemoveMember(f.ctx, escott.Ref{}, escott.Member{KaiinID: m3.KaiinID, KaiinPass: "000000000000"})
	wantCode(t, err, "K71")
	if sm, ok := f.member(m3.KaiinID); !ok || !sm.Valid {
		t.Fatal("a failed RemoveMember changed the member")
	}
}

// TestTestMemberLifetime: a member on the test environment behaves as
// unknown (K71) after the test member lifetime (default 60 days).
func TestTestMemberLifetime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := f.newMember("9", visaOK)
	f.sim.Advance(60 * 24 * time.Hour)
	if _, err := f.c.ReferMember(f.ctx, escott.Ref{}, m); err != nil {
		t.Fatalf("day 60: %v", err)
	}
	f.sim.Advance(time.Hour)
	_, err := f.c.ReferMember(f.ctx, escott.Ref{}, m)
	wantCode(t, err, "K71")
	if sm, _ := f.member(m.KaiinID); !sm.Expired {
		t.Fatalf("simulator member %+v", sm)
	}
}
