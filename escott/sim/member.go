package sim

// Card members on E2 (spec §5.10–§5.12, §11, §16.5): 4MemAdd, 4MemChg,
// 4MemRefM (and SFRA's 4MemRef), 4MemInval, 4MemUnInval, 4MemDel.

import (
	"time"

	"github.com/kessai/kessai/escott"
)

// Member authentication limits [SIM]: after memberLockFailures consecutive
// wrong passwords (each answered K71) the member is locked and every call
// naming it answers K74, even with the right password, for
// memberLockDuration of simulator time. A correct password before the
// limit resets the count.
const (
	memberLockFailures = 5
	memberLockDuration = 30 * time.Minute
)

// defaultTestMemberLifetime is the default of Config.TestMemberLifetime.
const defaultTestMemberLifetime = 60 * 24 * time.Hour

// validateMemberIDs checks the format of KaiinId (K45) and KaiinPass
// (K46): present, 1–20 ASCII letters and digits — the subset both
// reference integrations send (spec §4.7) [SIM].
func (c *call) validateMemberIDs() {
	if !escott.ValidKaiinID(c.get("KaiinId")) {
		c.fail("K45")
	}
	if !escott.ValidKaiinPass(c.get("KaiinPass")) {
		c.fail("K46")
	}
}

// memberGone reports whether a test-environment member has outlived
// Config.TestMemberLifetime; such a member behaves as if it did not exist.
func (c *call) memberGone(m *member) bool {
	life := c.s.cfg.TestMemberLifetime
	if life == 0 {
		life = defaultTestMemberLifetime
	}
	return m.Env == envTest && life > 0 && c.now.Sub(m.Created) > life
}

// authMember authenticates a member by id and password. Codes: K71 for an
// unknown (or expired test) member or a wrong password — the same code for
// both so that ids cannot be probed; K74 while locked.
func (c *call) authMember(id, pass string) (*member, string) {
	m := c.st.members[id]
	if m == nil || c.memberGone(m) {
		return nil, "K71"
	}
	if c.now.Before(m.LockedUntil) {
		return nil, "K74"
	}
	if m.KaiinPass != pass {
		m.Failures++
		if m.Failures >= memberLockFailures {
			m.Failures = 0
			m.LockedUntil = c.now.Add(memberLockDuration)
		}
		return nil, "K71"
	}
	m.Failures = 0
	return m, ""
}

// requestMember authenticates the member named by the request's KaiinId
// and KaiinPass (see authMember) and checks that its Valid flag equals valid,
// failing with wrongCode otherwise. On any failure it has answered the
// call and returns nil.
func (c *call) requestMember(valid bool, wrongCode string) *member {
	m, code := c.authMember(c.get("KaiinId"), c.get("KaiinPass"))
	if code != "" {
		c.fail(code)
		return nil
	}
	if m.Valid != valid {
		c.fail(wrongCode)
		return nil
	}
	return m
}

// validateMember checks the ids of a member operation without a card.
// Extras PRO sends on member calls (Amount, Token on 4MemRefM, 3DS fields)
// are ignored.
func validateMember(c *call) { c.validateMemberIDs() }

// validateMemberCard checks 4MemAdd/4MemChg: the ids and a Token (K20 when
// absent: registering a plain card number is not simulated; KHX when
// malformed) [SIM].
func validateMemberCard(c *call) {
	c.validateMemberIDs()
	switch v := c.get("Token"); {
	case v == "":
		c.fail("K20")
	case len(v) != tokenLen || !isAlnum(v, tokenLen):
		c.fail("KHX")
	}
}

// registrationAnswer checks a card being stored [SIM]: a number that is
// neither a test card nor Luhn-valid → K82; an expiry before the current
// month → K83; a test card with a fixed security code and a different
// code given → K40. Issuer declines are not applied: registration does
// not authorise, the first payment does.
func registrationAnswer(cd card, now time.Time) string {
	tc, isTest := LookupTestCard(cd.Number)
	switch {
	case !isTest && !luhnValid(cd.Number):
		return "K82"
	case cardExpired(cd.Exp, now):
		return "K83"
	case isTest && tc.SecurityCode != "" && cd.SecurityCode != "" && cd.SecurityCode != tc.SecurityCode:
		return "K40"
	}
	return ""
}

// storedCard is the card as a member keeps it: the security code is never
// stored (it is only checked at registration).
func storedCard(cd card) card {
	cd.SecurityCode = ""
	return cd
}

// useToken resolves the Token of a member registration and consumes it.
func (c *call) useToken() (card, bool) {
	t, code := c.tokenStatus(c.get("Token"))
	if code != "" {
		c.fail(code)
		return card{}, false
	}
	t.Used = true
	return t.Card, true
}

// execMemAdd registers a new member: K69 when the id exists (valid or
// invalidated; an expired test member's id is free again), then the token
// (KHZ/KI2/KI3, consumed from here on) and the card checks.
func execMemAdd(c *call) {
	id := c.get("KaiinId")
	if m := c.st.members[id]; m != nil && !c.memberGone(m) {
		c.fail("K69")
		return
	}
	cd, ok := c.useToken()
	if !ok {
		return
	}
	if code := registrationAnswer(cd, c.now); code != "" {
		c.fail(code)
		return
	}
	c.st.members[id] = &member{
		KaiinID:    id,
		KaiinPass:  c.get("KaiinPass"),
		MerchantID: c.m.MerchantID,
		Env:        c.env,
		Card:       storedCard(cd),
		Valid:      true,
		Created:    c.now,
	}
}

// execMemChg replaces a valid member's card (K71/K74 authentication, K75
// invalidated, then the token and the card checks).
func execMemChg(c *call) {
	m := c.requestMember(true, "K75")
	if m == nil {
		return
	}
	cd, ok := c.useToken()
	if !ok {
		return
	}
	if code := registrationAnswer(cd, c.now); code != "" {
		c.fail(code)
		return
	}
	m.Card = storedCard(cd)
}

// execMemRef answers the member's card (the ids themselves are not
// echoed: PRO adds them to the answer on its own side): CardNo masked to the first 4 and
// last 4 digits with '*' between at the original length, CardExp YYMM,
// KaiinStatus "0" valid / "1" invalidated, KaiinEnableDate (the JST date
// of registration, YYYYMMDD) and CompanyCd [SIM formats, spec §5.11]. An
// invalidated member is answered OK with KaiinStatus 1, which is how SFRA
// shows a locked card. 4MemRef answers the same as 4MemRefM [SIM].
func execMemRef(c *call) {
	m, code := c.authMember(c.get("KaiinId"), c.get("KaiinPass"))
	if code != "" {
		c.fail(code)
		return
	}
	status := "0"
	if !m.Valid {
		status = "1"
	}
	_, companyCd := brandOf(m.Card.Number)
	c.out.Set("CardNo", m.Card.masked())
	c.out.Set("CardExp", m.Card.Exp)
	c.out.Set("KaiinStatus", status)
	c.out.Set("KaiinEnableDate", escott.TransactionDate(m.Created))
	c.out.Set("CompanyCd", companyCd)
}

// execMemInval invalidates a valid member (K75 when already invalid).
func execMemInval(c *call) {
	m := c.requestMember(true, "K75")
	if m == nil {
		return
	}
	m.Valid = false
}

// execMemUnInval makes an invalidated member valid again (K73 when it is
// valid already).
func execMemUnInval(c *call) {
	m := c.requestMember(false, "K73")
	if m == nil {
		return
	}
	m.Valid = true
}

// execMemDel deletes an invalidated member (K70 while it is valid: the
// gateway's two-step deletion, spec §5.12). Afterwards the id is unknown
// (K71) and may be registered again [SIM].
func execMemDel(c *call) {
	m := c.requestMember(false, "K70")
	if m == nil {
		return
	}
	delete(c.st.members, m.KaiinID)
}
