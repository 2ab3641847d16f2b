package sim

import (
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

func TestMemberLifecycle(t *testing.T) {
	h := newHarness(t)
	id, pw := "wc15i0482211", "001234567890"
	ids := []string{"KaiinId", id, "KaiinPass", pw}
	with := func(kv ...string) []string { return append(append([]string{}, ids...), kv...) }
	steps := []struct {
		name string
		op   escott.OperateID
		kv   []string
		want string
	}{
		{"reference before registration", escott.OpMemRefM, ids, "K71"},
		{"register", escott.OpMemAdd, with("Token", h.tokenSec(DemoCard, "8888"), "Amount", "5500"), "OK"},
		{"register again", escott.OpMemAdd, with("Token", h.token(DemoCard)), "K69"},
		{"register again, other password", escott.OpMemAdd, []string{"KaiinId", id, "KaiinPass", "x", "Token", h.token(DemoCard)}, "K69"},
		{"pay with the member", escott.OpGathering, with("Amount", "5500", "PayType", "01"), "OK"},
		{"change the card", escott.OpMemChg, with("Token", h.token("5123000000000001")), "OK"},
		{"invalidate", escott.OpMemInval, ids, "OK"},
		{"invalidate again", escott.OpMemInval, ids, "K75"},
		{"pay with an invalid member", escott.OpAuth, with("Amount", "1", "PayType", "01"), "K75"},
		{"change an invalid member", escott.OpMemChg, with("Token", h.token(DemoCard)), "K75"},
		{"re-validate", escott.OpMemUnInval, ids, "OK"},
		{"re-validate again", escott.OpMemUnInval, ids, "K73"},
		{"delete while valid", escott.OpMemDel, ids, "K70"},
		{"invalidate before deleting", escott.OpMemInval, ids, "OK"},
		{"delete", escott.OpMemDel, ids, "OK"},
		{"reference after deletion", escott.OpMemRefM, ids, "K71"},
		{"delete again", escott.OpMemDel, ids, "K71"},
		{"register the id again", escott.OpMemAdd, with("Token", h.token(DemoCard)), "OK"},
	}
	for _, st := range steps {
		a := h.do(st.op, st.kv...)
		if a.Get("ResponseCd") != st.want {
			t.Fatalf("%s: ResponseCd %q, want %q (%v)", st.name, a.Get("ResponseCd"), st.want, a)
		}
		if st.name == "change the card" {
			r := h.must(escott.OpMemRefM, ids...)
			if r.Get("CardNo") != "5123********0001" || r.Get("CompanyCd") != "MC" {
				t.Fatalf("reference after change: %v", r)
			}
		}
		if st.name == "invalidate" {
			r := h.must(opMemRef, ids...)
			if r.Get("KaiinStatus") != "1" || r.Get("OperateId") != "4MemRef" {
				t.Fatalf("reference of an invalid member: %v", r)
			}
		}
	}
}

func TestMemberReference(t *testing.T) {
	h := newHarness(t)
	h.must(escott.OpMemAdd, "KaiinId", "k1", "KaiinPass", "p1", "Token", h.token("370000000000002"))
	for _, op := range []escott.OperateID{escott.OpMemRefM, opMemRef} {
		r := h.must(op, "KaiinId", "k1", "KaiinPass", "p1", "Token", "ignored", "Amount", "1")
		want := map[string]string{
			"CardNo": "3700*******0002", "CardExp": "2812", "KaiinStatus": "0",
			"KaiinEnableDate": "20260401", "CompanyCd": "AX", "OperateId": string(op),
		}
		for k, v := range want {
			if r.Get(k) != v {
				t.Errorf("%s %s = %q, want %q", op, k, r.Get(k), v)
			}
		}
		if r.Has("KaiinId") || r.Has("KaiinPass") {
			t.Errorf("%s echoes member ids: %v", op, r)
		}
	}
	// The masked number keeps brand and last 4, as the installment rules
	// and "ending in" need.
	if g := escott.BrandGroupOf("3700*******0002"); g != escott.BrandAmex {
		t.Fatalf("brand of masked number %v", g)
	}
}

func TestMemberValidation(t *testing.T) {
	h := newHarness(t)
	tok := h.token(DemoCard)
	cases := []struct {
		name string
		op   escott.OperateID
		kv   []string
		want string
	}{
		{"add without ids", escott.OpMemAdd, []string{"Token", tok}, "K45|K46"},
		{"add without token", escott.OpMemAdd, []string{"KaiinId", "a", "KaiinPass", "b"}, "K20"},
		{"add with malformed token", escott.OpMemAdd, []string{"KaiinId", "a", "KaiinPass", "b", "Token", "abc"}, "KHX"},
		{"add with unknown token", escott.OpMemAdd, []string{"KaiinId", "a", "KaiinPass", "b", "Token", randAlnum(tokenLen)}, "KHZ"},
		{"id with symbols", escott.OpMemRefM, []string{"KaiinId", "wc_15", "KaiinPass", "b"}, "K45"},
		{"password too long", escott.OpMemRefM, []string{"KaiinId", "a", "KaiinPass", "123456789012345678901"}, "K46"},
		{"inval unknown", escott.OpMemInval, []string{"KaiinId", "a", "KaiinPass", "b"}, "K71"},
		{"uninval unknown", escott.OpMemUnInval, []string{"KaiinId", "a", "KaiinPass", "b"}, "K71"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, h.do(tc.op, tc.kv...), tc.want) })
	}
	// A member registration consumes its token.
	h.must(escott.OpMemAdd, "KaiinId", "a", "KaiinPass", "b", "Token", tok)
	wantCode(t, h.do(escott.OpMemAdd, "KaiinId", "c", "KaiinPass", "d", "Token", tok), "KI2")
	wantCode(t, h.do(escott.OpAuth, "Token", tok, "Amount", "1", "PayType", "01"), "KI2")
}

func TestMemberCardChecks(t *testing.T) {
	h := newHarness(t)
	expired, _ := h.s.IssueToken(h.mid, "test", DemoCard, "2603", "", "")
	cases := []struct {
		name, tok, want string
	}{
		{"Luhn failure", h.token("4111111111111112"), "K82"},
		{"expired", expired, "K83"},
		{"wrong security code", h.tokenSec(DemoCard, "1111"), "K40"},
		{"declining test card registers", h.token("4000000000000556"), "OK"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, h.do(escott.OpMemAdd, "KaiinId", "m"+string(rune('a'+i)), "KaiinPass", "p", "Token", tc.tok), tc.want)
		})
	}
	// The declining card declines at payment.
	wantCode(t, h.do(escott.OpAuth, "KaiinId", "md", "KaiinPass", "p", "Amount", "1", "PayType", "01"), "G55")
	// 4MemChg checks the new card the same way and keeps the old one on
	// failure.
	h.must(escott.OpMemAdd, "KaiinId", "chg", "KaiinPass", "p", "Token", h.token(DemoCard))
	wantCode(t, h.do(escott.OpMemChg, "KaiinId", "chg", "KaiinPass", "p", "Token", h.token("4111111111111112")), "K82")
	if r := h.must(escott.OpMemRefM, "KaiinId", "chg", "KaiinPass", "p"); r.Get("CardNo") != "4123********0300" {
		t.Fatalf("card replaced by a failed change: %v", r)
	}
}

// TestMemberLockout: five wrong passwords answer K71; the member is then
// locked (K74, even with the right password) for 30 minutes.
func TestMemberLockout(t *testing.T) {
	h := newHarness(t)
	h.must(escott.OpMemAdd, "KaiinId", "lock", "KaiinPass", "right", "Token", h.token(DemoCard))
	for range 4 {
		wantCode(t, h.do(escott.OpMemRefM, "KaiinId", "lock", "KaiinPass", "wrong"), "K71")
	}
	h.must(escott.OpMemRefM, "KaiinId", "lock", "KaiinPass", "right") // resets the count
	for range 5 {
		wantCode(t, h.do(escott.OpMemRefM, "KaiinId", "lock", "KaiinPass", "wrong"), "K71")
	}
	wantCode(t, h.do(escott.OpMemRefM, "KaiinId", "lock", "KaiinPass", "right"), "K74")
	wantCode(t, h.do(escott.OpAuth, "KaiinId", "lock", "KaiinPass", "right", "Amount", "1", "PayType", "01"), "K74")
	if m := h.s.Members(h.mid, "test"); len(m) != 1 || !m[0].Locked {
		t.Fatalf("members %+v", m)
	}
	h.s.Advance(31 * time.Minute)
	h.must(escott.OpMemRefM, "KaiinId", "lock", "KaiinPass", "right")
}

// TestTestMembersExpire: members of the test environment vanish after 60
// days (K71), production members do not.
func TestTestMembersExpire(t *testing.T) {
	h := newHarness(t)
	h.must(escott.OpMemAdd, "KaiinId", "old", "KaiinPass", "p", "Token", h.token(DemoCard))
	h.env = "production"
	h.must(escott.OpMemAdd, "KaiinId", "old", "KaiinPass", "p", "Token", h.token(DemoCard))
	h.s.Advance(60 * 24 * time.Hour)
	h.env = "test"
	h.must(escott.OpMemRefM, "KaiinId", "old", "KaiinPass", "p")
	h.s.Advance(time.Hour)
	wantCode(t, h.do(escott.OpMemRefM, "KaiinId", "old", "KaiinPass", "p"), "K71")
	if m := h.s.Members(h.mid, "test"); len(m) != 1 || !m[0].Expired {
		t.Fatalf("members %+v", m)
	}
	h.must(escott.OpMemAdd, "KaiinId", "old", "KaiinPass", "new", "Token", h.token(DemoCard)) // the id is free again
	h.env = "production"
	h.must(escott.OpMemRefM, "KaiinId", "old", "KaiinPass", "p")

	// The lifetime is configurable, and negative disables expiry.
	h2 := newHarness(t, func(c *Config) { c.TestMemberLifetime = -1 })
	h2.must(escott.OpMemAdd, "KaiinId", "old", "KaiinPass", "p", "Token", h2.token(DemoCard))
	h2.s.Advance(400 * 24 * time.Hour)
	h2.must(escott.OpMemRefM, "KaiinId", "old", "KaiinPass", "p")
}
