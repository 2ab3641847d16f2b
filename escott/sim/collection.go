package sim

// Online payment collection on E4 (spec §5.13–§5.16, §10, §16.6): 2Add,
// 2Chg, 2Del, 2Ref, and the payment that the collection agent's page (E8)
// or the control API triggers.

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/kessai/kessai/escott"
)

// Field limits of 2Add/2Chg [SIM]. The real limits are unknown (spec
// §17 #10, #11); ShouhinName's 16 characters is what the plugins enforce.
const (
	freeAreaLen     = 20 // FreeArea: random ASCII letters and digits
	recvNumLen      = 12 // RecvNum: random digits
	maxNameLen      = 40 // NameKanji, NameKana, in characters
	maxShouhinLen   = 16 // ShouhinName, in characters
	maxTelDigits    = 11 // TelNo digits (hyphens allowed besides)
	minTelDigits    = 10
	maxTelLen       = 13 // TelNo with hyphens, e.g. 090-1234-5678
	maxReturnURLLen = 256
	maxFreeLen      = 64  // Free1…Free7
	maxCommentLen   = 256 // Comment
)

// Errors of payCollection, worded for the agent page and the control API.
var (
	errNoCollection   = errors.New("no collection with this payment code")
	errCodeReplaced   = errors.New("this payment code was replaced by a change (2Chg); use the new one")
	errCollectionDel  = errors.New("the collection was deleted (2Del)")
	errCollectionPaid = errors.New("the collection is already paid")
	errPastPayLimit   = errors.New("the due date (PayLimit) has passed")
	errUnknownCvs     = errors.New("unknown payment channel (CvsCd)")
)

// validPayLimit reports whether PayLimit is a 12-digit YYYYMMDDhhmm (JST)
// that is still in the future and falls on a date at most
// escott.MaxDueDays days after today (spec §4.1: 60 days maximum, [SIM]
// bounds from the manual).
func (c *call) validPayLimit(v string) bool {
	t, err := escott.ParsePayLimit(v)
	if err != nil || !t.After(c.now) {
		return false
	}
	return !jstMidnight(t).After(c.today.AddDate(0, 0, escott.MaxDueDays))
}

// validName reports whether a NameKanji/NameKana value is present, at
// most maxNameLen characters of valid UTF-8 without control characters.
// The script is not checked: PRO falls back to sending NameKanji as
// NameKana [SIM].
func validName(v string) bool {
	return v != "" && utf8.ValidString(v) && utf8.RuneCountInString(v) <= maxNameLen && !hasControl(v)
}

// validShouhinName reports whether ShouhinName is 1–16 full-width
// characters: no ASCII and no half-width katakana, which the plugins
// convert to full-width before sending (spec §10.2) [SIM].
func validShouhinName(v string) bool {
	if v == "" || !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxShouhinLen {
		return false
	}
	for _, r := range v {
		if r < 0x80 || (r >= 0xFF61 && r <= 0xFF9F) {
			return false
		}
	}
	return true
}

// validTelNo reports whether TelNo is a Japanese number: ASCII digits with
// optional hyphens, 10–11 digits, at most 13 characters [SIM].
func validTelNo(v string) bool {
	if len(v) > maxTelLen {
		return false
	}
	digits := 0
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] >= '0' && v[i] <= '9':
			digits++
		case v[i] == '-':
		default:
			return false
		}
	}
	return digits >= minTelDigits && digits <= maxTelDigits
}

// validReturnURL reports whether ReturnURL is an absolute http(s) URL of
// at most 256 characters [SIM].
func validReturnURL(v string) bool {
	if len(v) > maxReturnURLLen || hasControl(v) {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// validateCvsAdd checks 2Add, collecting every error: Amount (K23),
// PayLimit (K50), NameKanji (K51), NameKana (K52), ShouhinName (K53),
// TelNo (K28), ReturnURL when sent (K60), Free1–Free7 when sent (K54, at
// most 64 characters), Comment when sent (K55, at most 256 characters).
// TenantId is not part of collection calls and is ignored.
func validateCvsAdd(c *call) {
	if _, ok := parseWireAmount(c.get("Amount")); !ok {
		c.fail("K23")
	}
	if !c.validPayLimit(c.get("PayLimit")) {
		c.fail("K50")
	}
	if !validName(c.get("NameKanji")) {
		c.fail("K51")
	}
	if !validName(c.get("NameKana")) {
		c.fail("K52")
	}
	if !validShouhinName(c.get("ShouhinName")) {
		c.fail("K53")
	}
	if !validTelNo(c.get("TelNo")) {
		c.fail("K28")
	}
	if c.has("ReturnURL") && !validReturnURL(c.get("ReturnURL")) {
		c.fail("K60")
	}
	for i := 1; i <= 7; i++ {
		if v := c.get("Free" + strconv.Itoa(i)); !validFree(v, maxFreeLen) {
			c.fail("K54")
		}
	}
	if !validFree(c.get("Comment"), maxCommentLen) {
		c.fail("K55")
	}
}

// validFree accepts an absent value or up to max characters of valid
// UTF-8 without control characters.
func validFree(v string, max int) bool {
	return v == "" || (utf8.ValidString(v) && utf8.RuneCountInString(v) <= max && !hasControl(v))
}

// execCvsAdd registers an unpaid collection and answers ProcessId,
// ProcessPass and FreeArea (the payment code for the agent's page). The
// PayLimit is not echoed: PRO adds its own copy to the logged answer.
func execCvsAdd(c *call) {
	amount, _ := parseWireAmount(c.get("Amount"))
	col := &collection{
		ProcessID:     c.newProcessIDLocked(),
		ProcessPass:   randAlnum(processIDLen),
		MerchantID:    c.m.MerchantID,
		Env:           c.env,
		FreeArea:      c.newFreeAreaLocked(),
		Status:        colUnpaid,
		Amount:        amount,
		PayLimit:      c.get("PayLimit"),
		NameKanji:     c.get("NameKanji"),
		NameKana:      c.get("NameKana"),
		TelNo:         c.get("TelNo"),
		ShouhinName:   c.get("ShouhinName"),
		ReturnURL:     c.get("ReturnURL"),
		MerchantFree1: c.get("MerchantFree1"),
		MerchantFree2: c.get("MerchantFree2"),
		Created:       c.now,
	}
	c.st.collections[col.ProcessID] = col
	c.st.freeAreas[col.FreeArea] = col
	c.col = col
	c.out.Set("ProcessId", col.ProcessID)
	c.out.Set("ProcessPass", col.ProcessPass)
	c.out.Set("FreeArea", col.FreeArea)
}

// newFreeAreaLocked draws a payment code not used before on this
// environment.
func (c *call) newFreeAreaLocked() string {
	for {
		v := randAlnum(freeAreaLen)
		if c.st.freeAreas[v] == nil {
			return v
		}
	}
}

// validateCvsProcess checks ProcessId (K10) and ProcessPass (K11).
func validateCvsProcess(c *call) {
	if !isAlnum(c.get("ProcessId"), maxProcessIDLen) {
		c.fail("K10")
	}
	if !isAlnum(c.get("ProcessPass"), maxProcessIDLen) {
		c.fail("K11")
	}
}

// validateCvsChg checks 2Chg: the handle, and both PayLimit (K50) and
// Amount (K23), which PRO always sends together [SIM: both required].
func validateCvsChg(c *call) {
	validateCvsProcess(c)
	if !c.validPayLimit(c.get("PayLimit")) {
		c.fail("K50")
	}
	if _, ok := parseWireAmount(c.get("Amount")); !ok {
		c.fail("K23")
	}
}

// findCollection resolves ProcessId/ProcessPass. Unknown, wrong password
// and deleted collections all answer K12: after 2Del every operation,
// 2Ref included, answers K12 (spec §5.16). withLimit also applies the
// 60-day handling period of changes and cancellations (spec §12.4) → K12;
// 2Ref is not limited [SIM], so a merchant can still reconcile a
// collection whose due date is near day 60.
func (c *call) findCollection(withLimit bool) *collection {
	col := c.st.collections[c.get("ProcessId")]
	if col == nil || col.ProcessPass != c.get("ProcessPass") {
		c.fail("K12")
		return nil
	}
	c.col = col
	if col.Status == colDeleted {
		c.fail("K12")
		return nil
	}
	if withLimit && c.today.After(jstMidnight(col.Created).AddDate(0, 0, handlingDays)) {
		c.fail("K12")
		return nil
	}
	return col
}

// execCvsChg changes due date and amount once (spec §5.14): paid → K14,
// already changed → K14 [SIM]. A new FreeArea is issued; the old payment
// code no longer pays. An unpaid collection past its due date may still be
// changed (the plugin does not block it). Answers ProcessId, ProcessPass
// and the new FreeArea.
func execCvsChg(c *call) {
	col := c.findCollection(true)
	if col == nil {
		return
	}
	if col.Status == colPaid || col.Changed {
		c.fail("K14")
		return
	}
	col.Amount, _ = parseWireAmount(c.get("Amount"))
	col.PayLimit = c.get("PayLimit")
	col.FreeArea = c.newFreeAreaLocked()
	col.Changed = true
	c.st.freeAreas[col.FreeArea] = col
	c.out.Set("ProcessId", col.ProcessID)
	c.out.Set("ProcessPass", col.ProcessPass)
	c.out.Set("FreeArea", col.FreeArea)
}

// execCvsDel deletes an unpaid collection for good (paid → K14).
func execCvsDel(c *call) {
	col := c.findCollection(true)
	if col == nil {
		return
	}
	if col.Status == colPaid {
		c.fail("K14")
		return
	}
	col.Status = colDeleted
}

// execCvsRef answers the state: when paid NyukinDate (its presence means
// paid), RecvNum, CvsCd and Amount; when unpaid Amount and PayLimit.
func execCvsRef(c *call) {
	col := c.findCollection(false)
	if col == nil {
		return
	}
	if col.Status == colPaid {
		c.out.Set("NyukinDate", col.NyukinDate)
		c.out.Set("RecvNum", col.RecvNum)
		c.out.Set("CvsCd", col.CvsCd)
		c.out.Set("Amount", strconv.FormatInt(col.Amount, 10))
		return
	}
	c.out.Set("Amount", strconv.FormatInt(col.Amount, 10))
	c.out.Set("PayLimit", col.PayLimit)
}

// validCvsCd reports whether code is a payment channel of spec §10.9.
func validCvsCd(code string) bool { return slices.Contains(escott.CvsCodes, code) }

// payCollection pays the collection whose current payment code is
// freeArea at channel cvsCd, as a shopper at the store would. It refuses
// an unknown channel, an unknown or replaced code, a deleted or already
// paid collection and one past its PayLimit (simulator clock). On success
// the collection is PAID with a RecvNum (12 random digits [SIM]), a
// NyukinDate (YYYYMMDDhhmmss JST of the simulator clock [SIM]), the CvsCd
// and a fresh TransactionId, and the payment notification is queued.
//
// The notification carries exactly the six fields of the plugins'
// recognition rule plus CvsCd: MerchantId, TransactionId, RecvNum,
// NyukinDate, MerchantFree1, MerchantFree2, CvsCd [SIM]. Amount, ProcessId
// and ProcessPass are deliberately left out (spec §17 #8 and #20): a
// merchant that relied on them would break on the real gateway; it must
// confirm with 2Ref instead.
func (s *Server) payCollection(merchantID string, e env, freeArea, cvsCd string) error {
	if !validCvsCd(cvsCd) {
		return errUnknownCvs
	}
	s.mu.Lock()
	m := s.merchants[merchantID]
	if m == nil || (e != envTest && e != envProd) {
		s.mu.Unlock()
		return errNoMerchant
	}
	st := m.state[e]
	col := st.freeAreas[freeArea]
	now := s.nowLocked()
	var err error
	switch {
	case col == nil:
		err = errNoCollection
	case col.FreeArea != freeArea:
		err = errCodeReplaced
	case col.Status == colDeleted:
		err = errCollectionDel
	case col.Status == colPaid:
		err = errCollectionPaid
	default:
		if limit, perr := escott.ParsePayLimit(col.PayLimit); perr != nil || now.After(limit) {
			err = errPastPayLimit
		}
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	txID := s.nextTransactionIDLocked()
	col.Status = colPaid
	col.RecvNum = randDigits(recvNumLen)
	col.NyukinDate = escott.FormatNyukinDate(now)
	col.CvsCd = cvsCd
	col.PaidTransactionID = txID
	col.History = append(col.History, opRecord{At: now, OperateID: "paid", TransactionID: txID, ResponseCd: escott.CodeOK, Amount: col.Amount})
	n := notification{MerchantID: merchantID, URL: m.NotifyURL}
	n.Fields.Set("MerchantId", merchantID)
	n.Fields.Set("TransactionId", txID)
	n.Fields.Set("RecvNum", col.RecvNum)
	n.Fields.Set("NyukinDate", col.NyukinDate)
	n.Fields.Set("MerchantFree1", col.MerchantFree1)
	n.Fields.Set("MerchantFree2", col.MerchantFree2)
	n.Fields.Set("CvsCd", col.CvsCd)
	s.mu.Unlock()
	// Outside the lock: the notifier takes s.mu itself (faults, clock).
	s.notify(n)
	return nil
}
