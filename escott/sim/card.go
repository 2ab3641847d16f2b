package sim

// Card transactions on E1 (spec §5.2–§5.8, §12, §16.4): 1Auth, 1Gathering,
// 1Check, and the follow-ups 1Capture, 1Change, 1Delete, 1ReAuth, 1Search.

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kessai/kessai/escott"
)

// handlingDays is the number of days after the transaction during which
// it can be operated or referenced; later every follow-up answers K12
// (spec §12.4 [MANUAL], reaction [INFERENCE]). The simulator counts JST
// calendar days from the day of the 1Auth/1Gathering: day 60 still works,
// day 61 answers K12 [SIM].
const handlingDays = 60

// processIDLen is the length of ProcessId and ProcessPass: random ASCII
// letters and digits, as in SFRA's mocks [SIM].
const processIDLen = 32

// maxProcessIDLen bounds a ProcessId/ProcessPass accepted in a request
// before it is looked up; longer or non-alphanumeric values answer K10/K11
// [SIM].
const maxProcessIDLen = 64

// brandOf names the brand of a card number and gives the CompanyCd the
// simulator answers for it [SIM: two-letter codes; SFRA's mock shows a
// two-character value, the real codes are unknown]. Prefixes follow the
// usual IIN ranges, which is wider than the PayType grouping of
// escott.BrandGroupOf (that one mirrors the plugins' checkout script).
func brandOf(number string) (brand, companyCd string) {
	p2 := 0
	if len(number) >= 2 {
		p2, _ = strconv.Atoi(number[:2])
	}
	p4 := 0
	if len(number) >= 4 {
		p4, _ = strconv.Atoi(number[:4])
	}
	switch {
	case strings.HasPrefix(number, "4"):
		return "VISA", "VS"
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return "Mastercard", "MC"
	case p2 == 35:
		return "JCB", "JC"
	case p2 == 34 || p2 == 37:
		return "AMEX", "AX"
	case p2 == 36 || p2 == 30 || p2 == 38 || p2 == 39:
		return "Diners", "DC"
	}
	return "UNKNOWN", "XX"
}

// cardExpired reports whether a YYMM expiry lies before the simulator's
// current JST month: a card is valid through the last day of its month.
func cardExpired(exp string, now time.Time) bool {
	if !validExp(exp) {
		return true
	}
	yy, _ := strconv.Atoi(exp[:2])
	mm, _ := strconv.Atoi(exp[2:])
	end := time.Date(2000+yy, time.Month(mm)+1, 1, 0, 0, 0, 0, escott.JST)
	return !now.Before(end)
}

// issuerAnswer decides the authorisation result for a card at this moment,
// "" meaning approved [SIM]:
//
//   - a number that is neither a test card nor Luhn-valid: G65;
//   - an expiry before the current month (simulator clock): G83;
//   - a test card with a fixed security code and a different code given:
//     G44 (no code given passes: the merchant may have switched security
//     code matching off);
//   - a test card with a decline code: that code;
//   - anything else approves.
func issuerAnswer(cd card, now time.Time) string {
	tc, isTest := LookupTestCard(cd.Number)
	switch {
	case !isTest && !luhnValid(cd.Number):
		return "G65"
	case cardExpired(cd.Exp, now):
		return "G83"
	case isTest && tc.SecurityCode != "" && cd.SecurityCode != "" && cd.SecurityCode != tc.SecurityCode:
		return "G44"
	case isTest && tc.Decline != "":
		return tc.Decline
	}
	return ""
}

// payTypeAnswer checks a (known) PayType against the card's brand with the
// most permissive rule set, escott.AllowedPayTypes with
// InstallmentsAndBonus: the gateway knows the merchant's contract, not the
// shop's UI setting, so it can only refuse what no brand rule allows.
// Refusals [SIM, spec §4.5 / §7.4]: an installment count the brand does
// not offer → C12 (installment count error); bonus (80) or revolving (88)
// the brand does not offer → G78 (payment type error). Lump sum always
// passes.
func payTypeAnswer(number string, pt escott.PayType) string {
	if slices.Contains(escott.AllowedPayTypes(escott.BrandGroupOf(number), escott.InstallmentsAndBonus), pt) {
		return ""
	}
	if pt == escott.PayBonus || pt == escott.PayRevolving {
		return "G78"
	}
	return "C12"
}

// validateCardSource checks the card of 1Auth/1Gathering/1Check: exactly
// one of Token or KaiinId+KaiinPass [SIM codes]:
//
//	neither              K20 (no card given; the plain-card form is not
//	                     simulated)
//	both                 K01 (the message as a whole is inconsistent)
//	Token malformed      KHX
//	KaiinId/KaiinPass    K45/K46 when missing or not 1–20 ASCII
//	                     letters/digits
func (c *call) validateCardSource() {
	hasTok := c.has("Token")
	hasMem := c.has("KaiinId") || c.has("KaiinPass")
	switch {
	case hasTok && hasMem:
		c.fail("K01")
	case hasTok:
		if v := c.get("Token"); len(v) != tokenLen || !isAlnum(v, tokenLen) {
			c.fail("KHX")
		}
	case hasMem:
		c.validateMemberIDs()
	default:
		c.fail("K20")
	}
}

// resolveCard finds the card behind Token or KaiinId/KaiinPass. A token
// must be usable (KHZ/KI2/KI3 otherwise); a member must authenticate
// (K71/K74) and be valid (K75).
func (c *call) resolveCard() (card, *token, *member, bool) {
	if c.has("Token") {
		t, code := c.tokenStatus(c.get("Token"))
		if code != "" {
			c.fail(code)
			return card{}, nil, nil, false
		}
		return t.Card, t, nil, true
	}
	m := c.requestMember(true, "K75")
	if m == nil {
		return card{}, nil, nil, false
	}
	return m.Card, nil, m, true
}

// validateAuth checks 1Auth/1Gathering: Amount (K23), PayType (K22: absent
// or not one of the codes of spec §4.5 [SIM: no default]) and the card.
func validateAuth(c *call) {
	if _, ok := parseWireAmount(c.get("Amount")); !ok {
		c.fail("K23")
	}
	if !escott.PayType(c.get("PayType")).Valid() {
		c.fail("K22")
	}
	c.validateCardSource()
}

// execAuth authorises (and for 1Gathering captures) a new transaction.
//
// Order of checks after the card is resolved: 3-D Secure fields (K30–K37),
// PayType against the brand (C12/G78), then the issuer (G codes). A token
// is consumed by the call once it resolved, whatever the outcome: the real
// token is one-time and a shopper retries with a fresh one [SIM].
func execAuth(c *call) {
	amount, _ := parseWireAmount(c.get("Amount"))
	pt := escott.PayType(c.get("PayType"))
	cd, tok, mem, ok := c.resolveCard()
	if !ok {
		return
	}
	if tok != nil {
		tok.Used = true
	}
	res, code := c.verifyThreeDS(cd, amount)
	if code == "" {
		code = payTypeAnswer(cd.Number, pt)
	}
	if code == "" {
		code = issuerAnswer(cd, c.now)
	}
	if code != "" {
		c.fail(code)
		return
	}
	_, companyCd := brandOf(cd.Number)
	t := &cardTxn{
		ProcessID:     c.newProcessIDLocked(),
		ProcessPass:   randAlnum(processIDLen),
		MerchantID:    c.m.MerchantID,
		Env:           c.env,
		OriginalOp:    c.op,
		Status:        txnAuth,
		Amount:        amount,
		PayType:       string(pt),
		Card:          card{Number: cd.Number, Exp: cd.Exp, HolderName: cd.HolderName},
		Created:       c.now,
		MerchantFree1: c.get("MerchantFree1"),
		MerchantFree2: c.get("MerchantFree2"),
		MerchantFree3: c.get("MerchantFree3"),
		ApproveNo:     randDigits(7),
		CompanyCd:     companyCd,
		ThreeDS:       res != nil,
	}
	if mem != nil {
		t.KaiinID = mem.KaiinID
	}
	if c.op == escott.OpGathering {
		t.Status = txnCaptured
		t.SalesDate = escott.TransactionDate(c.now)
	}
	if res != nil {
		res.UsedForAuths++
	}
	c.st.txns[t.ProcessID] = t
	c.txn = t
	c.out.Set("ProcessId", t.ProcessID)
	c.out.Set("ProcessPass", t.ProcessPass)
	c.out.Set("ApproveNo", t.ApproveNo)
	c.out.Set("CompanyCd", t.CompanyCd)
	c.out.Set("PayType", t.PayType)
}

// newProcessIDLocked draws a ProcessId not yet used by any transaction or
// collection of the merchant's environment.
func (c *call) newProcessIDLocked() string {
	for {
		id := randAlnum(processIDLen)
		if c.st.txns[id] == nil && c.st.collections[id] == nil {
			return id
		}
	}
}

// validateCheck checks 1Check: a card; Amount is not needed, but one that
// is sent must be valid (K23) [SIM].
func validateCheck(c *call) {
	if c.has("Amount") {
		if _, ok := parseWireAmount(c.get("Amount")); !ok {
			c.fail("K23")
		}
	}
	c.validateCardSource()
}

// execCheck is the card check (カードチェック): the issuer's answer for the
// card without creating a transaction [SIM: no source sends it; semantics
// inferred, spec §5.8]. It answers CompanyCd and ApproveNo like an
// authorisation but no ProcessId. A token is consumed.
func execCheck(c *call) {
	cd, tok, _, ok := c.resolveCard()
	if !ok {
		return
	}
	if tok != nil {
		tok.Used = true
	}
	if code := issuerAnswer(cd, c.now); code != "" {
		c.fail(code)
		return
	}
	_, companyCd := brandOf(cd.Number)
	c.out.Set("ApproveNo", randDigits(7))
	c.out.Set("CompanyCd", companyCd)
}

// validateFollowUp checks the message of 1Capture, 1Change, 1Delete,
// 1ReAuth and 1Search: ProcessId (K10), ProcessPass (K11), Amount on
// 1Change/1ReAuth (K23), SalesDate format on 1Capture/1ReAuth (K39:
// required, the plugin's K39 history shows 1ReAuth needs it), and the
// format of member ids when given (K45/K46; 1Search ignores member ids).
func validateFollowUp(c *call) {
	if !isAlnum(c.get("ProcessId"), maxProcessIDLen) {
		c.fail("K10")
	}
	if !isAlnum(c.get("ProcessPass"), maxProcessIDLen) {
		c.fail("K11")
	}
	switch c.op {
	case escott.OpChange, escott.OpReAuth:
		if _, ok := parseWireAmount(c.get("Amount")); !ok {
			c.fail("K23")
		}
	}
	switch c.op {
	case escott.OpCapture, escott.OpReAuth:
		if _, err := escott.ParseDate(c.get("SalesDate")); err != nil {
			c.fail("K39")
		}
	}
	if c.op != escott.OpSearch && (c.has("KaiinId") || c.has("KaiinPass")) {
		c.validateMemberIDs()
	}
}

// execFollowUp applies a follow-up to an existing transaction.
//
// Checks, in order: ProcessId/ProcessPass known (K12); within the handling
// period (K12); member consistency except for 1Search (K80: the
// transaction was made with a member and no KaiinId was sent; K81: it was
// made without one and member ids were sent; K71: another member or a
// wrong password; K74 locked; K75 invalidated member); the state
// transition (K14); then the operation's own checks.
//
// Transitions (spec §12.3, §16.4):
//
//	           1Capture   1Change    1Delete    1ReAuth           1Search
//	AUTH       CAPTURED   AUTH       CANCELLED  AUTH              AUTH
//	CAPTURED   K14        CAPTURED   CANCELLED  K14               CAPTURED
//	CANCELLED  K14        K14        K14        AUTH or CAPTURED  CANCELLED
//
// 1ReAuth returns to the original operation's state (AUTH after 1Auth,
// CAPTURED after 1Gathering) and keeps ProcessId/ProcessPass [INFERENCE].
// Deleting an already cancelled transaction answers K14 (not C14) [SIM].
func execFollowUp(c *call) {
	t := c.st.txns[c.get("ProcessId")]
	if t == nil || t.ProcessPass != c.get("ProcessPass") {
		c.fail("K12")
		return
	}
	c.txn = t
	if c.today.After(jstMidnight(t.Created).AddDate(0, 0, handlingDays)) {
		c.fail("K12")
		return
	}
	if c.op != escott.OpSearch && !c.memberConsistent(t) {
		return
	}
	switch c.op {
	case escott.OpSearch:
		c.out.Set("ProcessId", t.ProcessID)
		c.out.Set("ProcessPass", t.ProcessPass)
		c.out.Set("Amount", strconv.FormatInt(t.Amount, 10))
		if t.Status == txnCaptured {
			c.out.Set("SalesDate", t.SalesDate)
		}
		return
	case escott.OpCapture:
		if t.Status != txnAuth {
			c.fail("K14")
			return
		}
		sd := c.get("SalesDate")
		if !c.validSalesDate(t, sd) {
			c.fail("K39")
			return
		}
		t.Status = txnCaptured
		t.SalesDate = sd
		c.out.Set("ProcessId", t.ProcessID)
		c.out.Set("ProcessPass", t.ProcessPass)
		c.out.Set("SalesDate", sd)
	case escott.OpChange:
		if t.Status == txnCancelled {
			c.fail("K14")
			return
		}
		t.Amount, _ = parseWireAmount(c.get("Amount"))
		c.out.Set("ProcessId", t.ProcessID)
		c.out.Set("ProcessPass", t.ProcessPass)
	case escott.OpDelete:
		if t.Status == txnCancelled {
			c.fail("K14")
			return
		}
		t.Status = txnCancelled
		c.out.Set("ProcessId", t.ProcessID)
		c.out.Set("ProcessPass", t.ProcessPass)
	case escott.OpReAuth:
		if t.Status == txnCaptured {
			c.fail("K14")
			return
		}
		sd := c.get("SalesDate")
		if !c.validSalesDate(t, sd) {
			c.fail("K39")
			return
		}
		// A re-authorisation goes to the issuer again: the card may have
		// expired or be a declining test card by now.
		if code := issuerAnswer(t.Card, c.now); code != "" {
			c.fail(code)
			return
		}
		t.Amount, _ = parseWireAmount(c.get("Amount"))
		t.ApproveNo = randDigits(7)
		if t.OriginalOp == escott.OpGathering {
			t.Status = txnCaptured
			t.SalesDate = sd
		} else {
			t.Status = txnAuth
			t.SalesDate = ""
		}
		c.out.Set("ProcessId", t.ProcessID)
		c.out.Set("ProcessPass", t.ProcessPass)
		c.out.Set("ApproveNo", t.ApproveNo)
		c.out.Set("CompanyCd", t.CompanyCd)
		if t.Status == txnCaptured {
			c.out.Set("SalesDate", sd)
		}
	}
}

// validSalesDate accepts a SalesDate from the transaction's own JST date
// up to one day after today [SIM]: a sale cannot be recorded before it was
// authorised, and a date far in the future is a client bug.
func (c *call) validSalesDate(t *cardTxn, sd string) bool {
	d, err := escott.ParseDate(sd)
	if err != nil {
		return false
	}
	return !d.Before(jstMidnight(t.Created)) && !d.After(c.today.AddDate(0, 0, transactionDateSlack))
}

// memberConsistent applies the K80/K81/K71 rule of spec §12.1 / §16.4 to
// a follow-up: member ids must be sent exactly when the transaction was
// made with a member, and must be that member's.
func (c *call) memberConsistent(t *cardTxn) bool {
	given := c.has("KaiinId") || c.has("KaiinPass")
	switch {
	case t.KaiinID != "" && !given:
		c.fail("K80")
		return false
	case t.KaiinID == "" && given:
		c.fail("K81")
		return false
	case t.KaiinID == "":
		return true
	case c.get("KaiinId") != t.KaiinID:
		c.fail("K71")
		return false
	}
	return c.requestMember(true, "K75") != nil
}

// threeDSCheck is a 3-D Secure result field of an authorisation request and
// the code answered when it does not match the issued result. Fields
// without a code of their own (SecureResultCode and the two EMV ids)
// answer K30 [SIM].
type threeDSCheck struct {
	key, code string
	// strict fields must match exactly, including absence; the others
	// (never forwarded by any plugin) are compared only when sent.
	strict bool
}

// threeDSChecks lists the fields in the order of their codes K30–K37,
// then the code-less ones.
var threeDSChecks = []threeDSCheck{
	{"MessageVersionNo3D", "K30", true},
	{"TransactionId3D", "K31", false},
	{"EncodeXId3D", "K32", true},
	{"TransactionStatus3D", "K33", true},
	{"CAVVAlgorithm3D", "K34", true},
	{"CAVV3D", "K35", true},
	{"ECI3D", "K36", true},
	{"PANCard3D", "K37", false},
	{"SecureResultCode", "K30", true},
	{"DSTransactionId", "K30", true},
	{"ThreeDSServerTransactionId", "K30", true},
}

// verifyThreeDS checks the 3-D Secure fields of an authorisation against
// the results the E5 page issued (spec §16.7) [SIM]:
//
//   - no 3DS field sent: nothing to check;
//   - the result is found by DSTransactionId, else by
//     ThreeDSServerTransactionId; none found (never issued, issued to
//     another merchant or environment): the code of the first 3DS field
//     sent, in K30…K37 order, K30 when only code-less fields were sent;
//   - every forwarded field must equal the issued value (a field the
//     result had must be sent; one it lacked must not be): the code of the
//     first mismatching field;
//   - the card must be the one authenticated: K37 (PANCard3D);
//   - the amount must be the one authenticated (the CAVV covers it): K35;
//   - a result authorises one successful payment; reuse: K30;
//   - a failed authentication (SecureResultCode 1, 8 or 9) authorises
//     nothing: K33 (TransactionStatus3D), so a merchant that goes on to
//     the authorisation against rule A-18 is caught here rather than by a
//     chargeback later.
func (c *call) verifyThreeDS(cd card, amount int64) (*threeDSResult, string) {
	first := ""
	for _, k := range threeDSChecks {
		if c.has(k.key) {
			first = k.code
			break
		}
	}
	if first == "" {
		return nil, ""
	}
	var r *threeDSResult
	if id := c.get("DSTransactionId"); id != "" {
		r = c.st.threeDS[id]
	}
	if r == nil {
		if sid := c.get("ThreeDSServerTransactionId"); sid != "" {
			for _, cand := range c.st.threeDS {
				if cand.Fields.Get("ThreeDSServerTransactionId") == sid {
					r = cand
					break
				}
			}
		}
	}
	if r == nil {
		return nil, first
	}
	for _, k := range threeDSChecks {
		if !k.strict && !c.has(k.key) {
			continue
		}
		if r.Fields.Get(k.key) != c.get(k.key) {
			return nil, k.code
		}
	}
	switch {
	case r.CardNumber != "" && r.CardNumber != cd.Number:
		return nil, "K37"
	case r.Amount != 0 && r.Amount != amount:
		return nil, "K35"
	case r.UsedForAuths > 0:
		return nil, "K30"
	}
	switch r.Fields.Get("SecureResultCode") {
	case "1", "8", "9":
		return nil, "K33"
	}
	return r, ""
}
