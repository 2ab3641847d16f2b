package sim

import (
	"regexp"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

var (
	reProcessID = regexp.MustCompile(`^[0-9A-Za-z]{32}$`)
	reApproveNo = regexp.MustCompile(`^\d{7}$`)
)

func TestCardSuccessPaths(t *testing.T) {
	h := newHarness(t)

	a := h.must(escott.OpAuth, "Token", h.token(DemoCard), "Amount", "5500", "PayType", "01")
	pid, ppass := a.Get("ProcessId"), a.Get("ProcessPass")
	if !reProcessID.MatchString(pid) || !reProcessID.MatchString(ppass) || pid == ppass {
		t.Fatalf("ProcessId %q ProcessPass %q", pid, ppass)
	}
	if !reApproveNo.MatchString(a.Get("ApproveNo")) || a.Get("CompanyCd") != "VS" || a.Get("PayType") != "01" {
		t.Fatalf("auth answer %v", a)
	}
	if a.Has("Amount") || a.Has("SalesDate") {
		t.Fatalf("auth answer carries extra fields: %v", a)
	}
	tv := h.txn(pid)
	if tv.Status != "AUTH" || tv.Amount != 5500 || tv.CardNumber != "4123********0300" || tv.MerchantFree1 != "000482917365" || tv.OriginalOp != escott.OpAuth {
		t.Fatalf("view %+v", tv)
	}

	s := h.must(escott.OpSearch, "ProcessId", pid, "ProcessPass", ppass)
	if s.Get("Amount") != "5500" || s.Has("SalesDate") {
		t.Fatalf("search %v", s)
	}
	c := h.must(escott.OpChange, "ProcessId", pid, "ProcessPass", ppass, "Amount", "4000")
	if c.Get("ProcessId") != pid || c.Get("ProcessPass") != ppass {
		t.Fatalf("change %v", c)
	}
	today := h.today()
	c = h.must(escott.OpCapture, "ProcessId", pid, "ProcessPass", ppass, "SalesDate", today)
	if c.Get("ProcessId") != pid || c.Get("SalesDate") != today {
		t.Fatalf("capture %v", c)
	}
	s = h.must(escott.OpSearch, "ProcessId", pid, "ProcessPass", ppass)
	if s.Get("Amount") != "4000" || s.Get("SalesDate") != today {
		t.Fatalf("search after capture %v", s)
	}
	h.must(escott.OpDelete, "ProcessId", pid, "ProcessPass", ppass)
	r := h.must(escott.OpReAuth, "ProcessId", pid, "ProcessPass", ppass, "Amount", "3000", "SalesDate", today)
	if r.Get("ProcessId") != pid || r.Get("ProcessPass") != ppass || !reApproveNo.MatchString(r.Get("ApproveNo")) || r.Has("SalesDate") {
		t.Fatalf("reauth %v", r)
	}
	tv = h.txn(pid)
	if tv.Status != "AUTH" || tv.Amount != 3000 {
		t.Fatalf("after reauth %+v", tv)
	}
	var ops []escott.OperateID
	for _, e := range tv.History {
		ops = append(ops, e.OperateID)
	}
	want := []escott.OperateID{"1Auth", "1Search", "1Change", "1Capture", "1Search", "1Delete", "1ReAuth"}
	if len(ops) != len(want) {
		t.Fatalf("history %v", ops)
	}
	for i := range ops {
		if ops[i] != want[i] {
			t.Fatalf("history %v", ops)
		}
	}

	g := h.must(escott.OpGathering, "Token", h.token("5123000000000001"), "Amount", "1200", "PayType", "03")
	if g.Get("CompanyCd") != "MC" || g.Get("PayType") != "03" {
		t.Fatalf("gathering %v", g)
	}
	s = h.must(escott.OpSearch, "ProcessId", g.Get("ProcessId"), "ProcessPass", g.Get("ProcessPass"))
	if s.Get("SalesDate") != today || s.Get("Amount") != "1200" {
		t.Fatalf("search after gathering %v", s)
	}

	k := h.must(escott.OpCheck, "Token", h.token("3530000000000003"))
	if k.Get("CompanyCd") != "JC" || !reApproveNo.MatchString(k.Get("ApproveNo")) || k.Has("ProcessId") {
		t.Fatalf("check %v", k)
	}
	if n := len(h.s.Transactions(h.mid, "test")); n != 2 {
		t.Fatalf("1Check created a transaction: %d transactions", n)
	}
}

// TestCardTransitions drives the state machine of spec §16.4 from one
// table: every state × every follow-up.
func TestCardTransitions(t *testing.T) {
	type setup struct {
		name string
		make func(h *harness) (string, string) // returns ProcessId, ProcessPass
	}
	follow := func(h *harness, pid, ppass string, op escott.OperateID) {
		h.t.Helper()
		kv := []string{"ProcessId", pid, "ProcessPass", ppass, "SalesDate", h.today(), "Amount", "100"}
		h.must(op, kv...)
	}
	setups := []setup{
		{"AUTH", func(h *harness) (string, string) { return h.auth(escott.OpAuth) }},
		{"AUTH after reauth", func(h *harness) (string, string) {
			p, q := h.auth(escott.OpAuth)
			follow(h, p, q, escott.OpDelete)
			follow(h, p, q, escott.OpReAuth)
			return p, q
		}},
		{"CAPTURED by 1Gathering", func(h *harness) (string, string) { return h.auth(escott.OpGathering) }},
		{"CAPTURED by 1Capture", func(h *harness) (string, string) {
			p, q := h.auth(escott.OpAuth)
			follow(h, p, q, escott.OpCapture)
			return p, q
		}},
		{"CANCELLED auth", func(h *harness) (string, string) {
			p, q := h.auth(escott.OpAuth)
			follow(h, p, q, escott.OpDelete)
			return p, q
		}},
		{"CANCELLED gathering", func(h *harness) (string, string) {
			p, q := h.auth(escott.OpGathering)
			follow(h, p, q, escott.OpDelete)
			return p, q
		}},
		{"CANCELLED capture", func(h *harness) (string, string) {
			p, q := h.auth(escott.OpAuth)
			follow(h, p, q, escott.OpCapture)
			follow(h, p, q, escott.OpDelete)
			return p, q
		}},
	}
	// want[setup][op] = "code → resulting status"
	type outcome struct{ code, status string }
	want := map[string]map[escott.OperateID]outcome{
		"AUTH": {
			escott.OpCapture: {"OK", "CAPTURED"}, escott.OpChange: {"OK", "AUTH"}, escott.OpDelete: {"OK", "CANCELLED"},
			escott.OpReAuth: {"OK", "AUTH"}, escott.OpSearch: {"OK", "AUTH"},
		},
		"CAPTURED": {
			escott.OpCapture: {"K14", "CAPTURED"}, escott.OpChange: {"OK", "CAPTURED"}, escott.OpDelete: {"OK", "CANCELLED"},
			escott.OpReAuth: {"K14", "CAPTURED"}, escott.OpSearch: {"OK", "CAPTURED"},
		},
		"CANCELLED": {
			escott.OpCapture: {"K14", "CANCELLED"}, escott.OpChange: {"K14", "CANCELLED"}, escott.OpDelete: {"K14", "CANCELLED"},
			escott.OpSearch: {"OK", "CANCELLED"},
		},
	}
	// 1ReAuth from CANCELLED returns to the original operation's state.
	reauthFromCancelled := map[string]string{"CANCELLED auth": "AUTH", "CANCELLED gathering": "CAPTURED", "CANCELLED capture": "AUTH"}

	for _, su := range setups {
		for _, op := range []escott.OperateID{escott.OpCapture, escott.OpChange, escott.OpDelete, escott.OpReAuth, escott.OpSearch} {
			t.Run(su.name+"/"+string(op), func(t *testing.T) {
				h := newHarness(t)
				pid, ppass := su.make(h)
				state := h.txn(pid).Status
				exp, ok := want[state][op]
				if state == "CANCELLED" && op == escott.OpReAuth {
					exp, ok = outcome{"OK", reauthFromCancelled[su.name]}, true
				}
				if !ok {
					t.Fatalf("no expectation for %s × %s", state, op)
				}
				before := h.txn(pid)
				a := h.do(op, "ProcessId", pid, "ProcessPass", ppass, "SalesDate", h.today(), "Amount", "777")
				wantCode(t, a, exp.code)
				after := h.txn(pid)
				if after.Status != exp.status {
					t.Fatalf("status %s → %s, want %s", before.Status, after.Status, exp.status)
				}
				wantAmount := before.Amount
				if exp.code == "OK" && (op == escott.OpChange || op == escott.OpReAuth) {
					wantAmount = 777
				}
				if after.Amount != wantAmount {
					t.Fatalf("amount %d, want %d", after.Amount, wantAmount)
				}
				if after.ProcessPass != ppass {
					t.Fatal("ProcessPass changed")
				}
				last := after.History[len(after.History)-1]
				if last.OperateID != op || last.ResponseCd != exp.code || last.TransactionID != a.Get("TransactionId") {
					t.Fatalf("history row %+v", last)
				}
			})
		}
	}
}

func TestFollowUpValidation(t *testing.T) {
	h := newHarness(t)
	pid, ppass := h.auth(escott.OpAuth)
	today := h.today()
	cases := []struct {
		name string
		op   escott.OperateID
		kv   []string
		want string
	}{
		{"no ProcessId", escott.OpSearch, []string{"ProcessPass", ppass}, "K10"},
		{"no ProcessPass", escott.OpSearch, []string{"ProcessId", pid}, "K11"},
		{"bad ProcessId chars", escott.OpSearch, []string{"ProcessId", "ab-cd", "ProcessPass", ppass}, "K10"},
		{"unknown ProcessId", escott.OpSearch, []string{"ProcessId", otherFirst(pid), "ProcessPass", ppass}, "K12"},
		{"wrong ProcessPass", escott.OpSearch, []string{"ProcessId", pid, "ProcessPass", otherFirst(ppass)}, "K12"},
		{"capture without SalesDate", escott.OpCapture, []string{"ProcessId", pid, "ProcessPass", ppass}, "K39"},
		{"capture SalesDate garbage", escott.OpCapture, []string{"ProcessId", pid, "ProcessPass", ppass, "SalesDate", "2026/04/01"}, "K39"},
		{"capture SalesDate before the auth", escott.OpCapture, []string{"ProcessId", pid, "ProcessPass", ppass, "SalesDate", "20260331"}, "K39"},
		{"capture SalesDate far future", escott.OpCapture, []string{"ProcessId", pid, "ProcessPass", ppass, "SalesDate", "20260410"}, "K39"},
		{"reauth without SalesDate", escott.OpReAuth, []string{"ProcessId", pid, "ProcessPass", ppass, "Amount", "1"}, "K39"},
		{"reauth without Amount", escott.OpReAuth, []string{"ProcessId", pid, "ProcessPass", ppass, "SalesDate", today}, "K23"},
		{"change without Amount", escott.OpChange, []string{"ProcessId", pid, "ProcessPass", ppass}, "K23"},
		{"change Amount decimal", escott.OpChange, []string{"ProcessId", pid, "ProcessPass", ppass, "Amount", "1100.00"}, "K23"},
		{"everything missing", escott.OpReAuth, nil, "K10|K11|K23|K39"},
		{"search ignores member ids", escott.OpSearch, []string{"ProcessId", pid, "ProcessPass", ppass, "KaiinId", "???", "KaiinPass", "x"}, "OK"},
		{"bad KaiinId format", escott.OpDelete, []string{"ProcessId", pid, "ProcessPass", ppass, "KaiinId", "a-b", "KaiinPass", "x"}, "K45"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, h.do(tc.op, tc.kv...), tc.want) })
	}
}

func TestAuthValidation(t *testing.T) {
	h := newHarness(t)
	tok := h.token(DemoCard)
	cases := []struct {
		name string
		kv   []string
		want string
	}{
		{"no amount", []string{"Token", tok, "PayType", "01"}, "K23"},
		{"zero", []string{"Token", tok, "PayType", "01", "Amount", "0"}, "K23"},
		{"leading zero", []string{"Token", tok, "PayType", "01", "Amount", "0100"}, "K23"},
		{"decimals", []string{"Token", tok, "PayType", "01", "Amount", "1100.00"}, "K23"},
		{"negative", []string{"Token", tok, "PayType", "01", "Amount", "-1"}, "K23"},
		{"separator", []string{"Token", tok, "PayType", "01", "Amount", "1,100"}, "K23"},
		{"eight digits", []string{"Token", tok, "PayType", "01", "Amount", "10000000"}, "K23"},
		{"no PayType", []string{"Token", tok, "Amount", "100"}, "K22"},
		{"PayType 1", []string{"Token", tok, "Amount", "100", "PayType", "1"}, "K22"},
		{"PayType 04", []string{"Token", tok, "Amount", "100", "PayType", "04"}, "K22"},
		{"no card", []string{"Amount", "100", "PayType", "01"}, "K20"},
		{"token and member", []string{"Token", tok, "KaiinId", "a", "KaiinPass", "b", "Amount", "100", "PayType", "01"}, "K01"},
		{"malformed token", []string{"Token", "short", "Amount", "100", "PayType", "01"}, "KHX"},
		{"KaiinId without KaiinPass", []string{"KaiinId", "abc", "Amount", "100", "PayType", "01"}, "K46"},
		{"KaiinPass without KaiinId", []string{"KaiinPass", "abc", "Amount", "100", "PayType", "01"}, "K45"},
		{"KaiinId too long", []string{"KaiinId", "a123456789012345678901", "KaiinPass", "1", "Amount", "100", "PayType", "01"}, "K45"},
		{"unknown member", []string{"KaiinId", "nobody", "KaiinPass", "1", "Amount", "100", "PayType", "01"}, "K71"},
		{"format errors do not consume the token", []string{"Token", tok, "Amount", "x", "PayType", "01"}, "K23"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, h.do(escott.OpAuth, tc.kv...), tc.want) })
	}
	// The token survived every failed validation above.
	wantCode(t, h.do(escott.OpAuth, "Token", tok, "Amount", "100", "PayType", "01"), "OK")
}

func TestIssuerAnswers(t *testing.T) {
	h := newHarness(t)
	for _, tc := range TestCards {
		if tc.Decline == "" {
			continue
		}
		t.Run(tc.Number, func(t *testing.T) {
			a := h.do(escott.OpAuth, "Token", h.token(tc.Number), "Amount", "100", "PayType", "01")
			wantCode(t, a, tc.Decline)
			if a.Has("ProcessId") {
				t.Fatal("a declined answer carries a ProcessId")
			}
		})
	}
	cases := []struct {
		name, number, sec, want string
	}{
		{"Luhn failure", "4111111111111112", "", "G65"},
		{"Luhn valid ordinary card", "4111111111111111", "123", "OK"},
		{"demo card right code", DemoCard, "8888", "OK"},
		{"demo card wrong code", DemoCard, "1234", "G44"},
		{"demo card no code", DemoCard, "", "OK"},
		{"diners", "36000000000008", "", "OK"},
		{"amex", "370000000000002", "", "OK"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, h.do(escott.OpAuth, "Token", h.tokenSec(tc.number, tc.sec), "Amount", "100", "PayType", "01"), tc.want)
		})
	}
	// Expiry against the simulator clock: a card expiring 05/26 works in
	// May 2026 and fails with G83 from June.
	tok, _ := h.s.IssueToken(h.mid, "test", DemoCard, "2605", "", "")
	wantCode(t, h.do(escott.OpAuth, "Token", tok, "Amount", "100", "PayType", "01"), "OK")
	h.s.SetTime(time.Date(2026, 6, 1, 0, 0, 0, 0, escott.JST))
	tok, _ = h.s.IssueToken(h.mid, "test", DemoCard, "2605", "", "")
	wantCode(t, h.do(escott.OpAuth, "Token", tok, "Amount", "100", "PayType", "01"), "G83")
	// A declined call consumed its token.
	a := h.do(escott.OpTokenSearch, "Token", tok)
	if a.Get("TokenResponseCd") != "KI2" {
		t.Fatalf("token after decline: %v", a)
	}
}

// TestReAuthGoesToTheIssuer: a re-authorisation after the card expired
// answers G83 and leaves the transaction as it was.
func TestReAuthGoesToTheIssuer(t *testing.T) {
	h := newHarness(t)
	tok, _ := h.s.IssueToken(h.mid, "test", DemoCard, "2604", "", "")
	a := h.must(escott.OpAuth, "Token", tok, "Amount", "100", "PayType", "01")
	pid, ppass := a.Get("ProcessId"), a.Get("ProcessPass")
	h.must(escott.OpDelete, "ProcessId", pid, "ProcessPass", ppass)
	h.s.Advance(31 * 24 * time.Hour)
	wantCode(t, h.do(escott.OpReAuth, "ProcessId", pid, "ProcessPass", ppass, "Amount", "100", "SalesDate", h.today()), "G83")
	if st := h.txn(pid).Status; st != "CANCELLED" {
		t.Fatalf("status %s", st)
	}
}

func TestPayTypeByBrand(t *testing.T) {
	h := newHarness(t)
	cards := map[string]string{"vmj": "4012000000000008", "amex": "370000000000002", "diners": "36000000000008", "other": "6011000000000004"}
	cases := []struct {
		brand, pt, want string
	}{
		{"vmj", "01", "OK"}, {"vmj", "02", "OK"}, {"vmj", "24", "OK"}, {"vmj", "80", "OK"}, {"vmj", "88", "OK"},
		{"amex", "01", "OK"}, {"amex", "02", "C12"}, {"amex", "03", "OK"}, {"amex", "80", "OK"}, {"amex", "88", "G78"},
		{"diners", "01", "OK"}, {"diners", "03", "C12"}, {"diners", "80", "OK"}, {"diners", "88", "OK"},
		{"other", "01", "OK"}, {"other", "03", "C12"}, {"other", "80", "G78"}, {"other", "88", "G78"},
		{"vmj", "07", "K22"}, {"vmj", "", "K22"}, {"vmj", "8", "K22"},
	}
	for _, tc := range cases {
		t.Run(tc.brand+"/"+tc.pt, func(t *testing.T) {
			kv := []string{"Token", h.token(cards[tc.brand]), "Amount", "10000", "PayType", tc.pt}
			if tc.pt == "" {
				kv[5] = absent
			}
			wantCode(t, h.do(escott.OpAuth, kv...), tc.want)
		})
	}
}

// TestMemberConsistency covers K80/K81/K71 on follow-ups and the plugins'
// K81 retry.
func TestMemberConsistency(t *testing.T) {
	h := newHarness(t)
	h.must(escott.OpMemAdd, "KaiinId", "wc15i0482211", "KaiinPass", "001234567890", "Token", h.token(DemoCard))
	h.must(escott.OpMemAdd, "KaiinId", "other1", "KaiinPass", "pw", "Token", h.token(DemoCard))
	m := h.must(escott.OpGathering, "KaiinId", "wc15i0482211", "KaiinPass", "001234567890", "Amount", "900", "PayType", "01")
	mp, mq := m.Get("ProcessId"), m.Get("ProcessPass")
	if h.txn(mp).KaiinID != "wc15i0482211" {
		t.Fatal("member not recorded on the transaction")
	}
	tp, tq := h.auth(escott.OpAuth)

	cases := []struct {
		name     string
		pid, pp  string
		op       escott.OperateID
		kv       []string
		want     string
		noRecord bool
	}{
		{"member txn without ids", mp, mq, escott.OpChange, []string{"Amount", "800"}, "K80", false},
		{"member txn with empty ids (K81 retry form)", mp, mq, escott.OpChange, []string{"Amount", "800", "KaiinId", "", "KaiinPass", ""}, "K80", false},
		{"member txn with another member", mp, mq, escott.OpChange, []string{"Amount", "800", "KaiinId", "other1", "KaiinPass", "pw"}, "K71", false},
		{"member txn with wrong password", mp, mq, escott.OpChange, []string{"Amount", "800", "KaiinId", "wc15i0482211", "KaiinPass", "nope"}, "K71", false},
		{"member txn with its member", mp, mq, escott.OpChange, []string{"Amount", "800", "KaiinId", "wc15i0482211", "KaiinPass", "001234567890"}, "OK", false},
		{"member txn search without ids", mp, mq, escott.OpSearch, nil, "OK", false},
		{"token txn with member ids", tp, tq, escott.OpCapture, []string{"SalesDate", h.today(), "KaiinId", "wc15i0482211", "KaiinPass", "001234567890"}, "K81", false},
		{"token txn, K81 retry without ids", tp, tq, escott.OpCapture, []string{"SalesDate", h.today(), "KaiinId", "", "KaiinPass", ""}, "OK", false},
		{"token txn reauth with ids", tp, tq, escott.OpDelete, []string{"KaiinId", "other1", "KaiinPass", "pw"}, "K81", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kv := append([]string{"ProcessId", tc.pid, "ProcessPass", tc.pp}, tc.kv...)
			wantCode(t, h.do(tc.op, kv...), tc.want)
		})
	}
	// An invalidated member's transaction answers K75 on follow-ups.
	h.must(escott.OpMemInval, "KaiinId", "wc15i0482211", "KaiinPass", "001234567890")
	wantCode(t, h.do(escott.OpDelete, "ProcessId", mp, "ProcessPass", mq, "KaiinId", "wc15i0482211", "KaiinPass", "001234567890"), "K75")
	// ... and K80 still without ids: the transaction cannot be operated
	// without its member.
	wantCode(t, h.do(escott.OpDelete, "ProcessId", mp, "ProcessPass", mq), "K80")
}

// TestSixtyDayLimit moves the clock: day 60 after the authorisation is the
// last day any operation works; from day 61 everything answers K12.
func TestSixtyDayLimit(t *testing.T) {
	h := newHarness(t)
	pid, ppass := h.auth(escott.OpAuth)
	pid2, ppass2 := h.auth(escott.OpAuth)
	h.s.Advance(60 * 24 * time.Hour)
	h.must(escott.OpSearch, "ProcessId", pid, "ProcessPass", ppass)
	h.must(escott.OpCapture, "ProcessId", pid2, "ProcessPass", ppass2, "SalesDate", h.today())
	h.s.SetTime(time.Date(2026, 5, 31, 23, 59, 59, 0, escott.JST)) // still day 60 (JST)
	h.must(escott.OpSearch, "ProcessId", pid, "ProcessPass", ppass)
	h.s.SetTime(time.Date(2026, 6, 1, 0, 0, 0, 0, escott.JST)) // day 61
	for _, op := range []escott.OperateID{escott.OpSearch, escott.OpCapture, escott.OpChange, escott.OpDelete, escott.OpReAuth} {
		wantCode(t, h.do(op, "ProcessId", pid, "ProcessPass", ppass, "SalesDate", h.today(), "Amount", "1"), "K12")
	}
	if st := h.txn(pid).Status; st != "AUTH" {
		t.Fatalf("status %s", st)
	}
}

// TestThreeDSVerification checks the 3DS fields of an authorisation
// against issued results.
func TestThreeDSVerification(t *testing.T) {
	h := newHarness(t)
	issue := func(number string, amount int64) escott.Params {
		f := escott.Params{
			{Key: "SecureResultCode", Value: "0"}, {Key: "EncodeXId3D", Value: "eGlk" + randAlnum(8)},
			{Key: "MessageVersionNo3D", Value: "2.2.0"}, {Key: "TransactionStatus3D", Value: "Y"},
			{Key: "CAVVAlgorithm3D", Value: "2"}, {Key: "CAVV3D", Value: "Y2F2dg" + randAlnum(8)}, {Key: "ECI3D", Value: "05"},
			{Key: "DSTransactionId", Value: "ds-" + randAlnum(12)}, {Key: "ThreeDSServerTransactionId", Value: "srv-" + randAlnum(12)},
		}
		now := h.s.Now()
		h.s.mu.Lock()
		h.s.merchants[h.mid].state[envTest].threeDS[f.Get("DSTransactionId")] = &threeDSResult{
			MerchantID: h.mid, Env: envTest, CardNumber: number, Amount: amount, Fields: f, Issued: now,
		}
		h.s.mu.Unlock()
		return f
	}
	kv := func(f escott.Params, tok, amount string, edits ...string) []string {
		out := []string{"Token", tok, "Amount", amount, "PayType", "01"}
		for _, p := range f {
			out = append(out, p.Key, p.Value)
		}
		return append(out, edits...)
	}
	f := issue(DemoCard, 5500)
	a := h.must(escott.OpAuth, kv(f, h.token(DemoCard), "5500")...)
	if !h.txn(a.Get("ProcessId")).ThreeDS {
		t.Fatal("transaction not marked 3DS")
	}
	// Reuse of the same result: K30.
	wantCode(t, h.do(escott.OpAuth, kv(f, h.token(DemoCard), "5500")...), "K30")

	cases := []struct {
		name   string
		number string
		amount string
		edits  []string
		want   string
	}{
		{"MessageVersion differs", DemoCard, "5500", []string{"MessageVersionNo3D", "2.1.0"}, "K30"},
		{"EncodeXId differs", DemoCard, "5500", []string{"EncodeXId3D", "other"}, "K32"},
		{"status differs", DemoCard, "5500", []string{"TransactionStatus3D", "A"}, "K33"},
		{"algorithm missing", DemoCard, "5500", []string{"CAVVAlgorithm3D", absent}, "K34"},
		{"CAVV differs", DemoCard, "5500", []string{"CAVV3D", "forged"}, "K35"},
		{"ECI differs", DemoCard, "5500", []string{"ECI3D", "07"}, "K36"},
		{"SecureResultCode differs", DemoCard, "5500", []string{"SecureResultCode", "2"}, "K30"},
		{"unknown DSTransactionId, found by server id", DemoCard, "5500", []string{"DSTransactionId", "nope"}, "K30"},
		{"TransactionId3D sent but not issued", DemoCard, "5500", []string{"TransactionId3D", "x"}, "K31"},
		{"other card", "4012000000000008", "5500", nil, "K37"},
		{"other amount", DemoCard, "5501", nil, "K35"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := issue(DemoCard, 5500)
			p := h.params(escott.OpAuth, kv(f, h.token(tc.number), tc.amount, tc.edits...)...)
			wantCode(t, h.post(escott.EndpointCard, p), tc.want)
		})
	}
	// Fields but no issued result at all: the first field's code.
	wantCode(t, h.do(escott.OpAuth, "Token", h.token(DemoCard), "Amount", "1", "PayType", "01", "ECI3D", "05", "CAVV3D", "x"), "K35")
	wantCode(t, h.do(escott.OpAuth, "Token", h.token(DemoCard), "Amount", "1", "PayType", "01", "SecureResultCode", "0"), "K30")
	// A result issued without an amount (member registration) does not
	// check the amount; one without a card number does not check the card.
	f = issue("", 0)
	h.must(escott.OpAuth, kv(f, h.token("4012000000000008"), "123")...)
	// Member calls ignore 3DS fields (PRO sends them as extras).
	f = issue(DemoCard, 1)
	h.must(escott.OpMemAdd, kv(f, h.token(DemoCard), "1", "KaiinId", "m3ds", "KaiinPass", "p", "PayType", absent)...)
}

func TestCompanyCd(t *testing.T) {
	for number, want := range map[string]string{
		"4123000000000300": "VS", "5123000000000001": "MC", "2221000000000009": "MC", "3530000000000003": "JC",
		"370000000000002": "AX", "340000000000009": "AX", "36000000000008": "DC", "6011000000000004": "XX",
	} {
		if _, got := brandOf(number); got != want {
			t.Errorf("brandOf(%s) = %s, want %s", number, got, want)
		}
	}
}

func TestTestCardsAreConsistent(t *testing.T) {
	for _, c := range TestCards {
		// The manuals' demo card is not Luhn-valid; test cards are
		// recognised by number before the Luhn rule applies.
		if c.Number != DemoCard && !luhnValid(c.Number) {
			t.Errorf("test card %s fails the Luhn check", c.Number)
		}
		if !isDigits(c.Number, 13, 19) {
			t.Errorf("test card %s cannot be tokenised", c.Number)
		}
	}
}

// otherFirst returns s with its first character replaced by a different
// one, so the result is certainly not s (a fixed replacement collides when
// the random value already starts with it).
func otherFirst(s string) string {
	if s[0] == 'x' {
		return "y" + s[1:]
	}
	return "x" + s[1:]
}
