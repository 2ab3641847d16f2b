package escott

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// CollectionRequest describes 2Add: registration of an online payment
// collection (convenience store, Pay-easy, e-money).
type CollectionRequest struct {
	Ref
	// Amount includes any settlement fee.
	Amount int64
	// PayLimit is YYYYMMDDhhmm in JST (see PayLimitFromDueDays).
	PayLimit    string
	NameKanji   string
	NameKana    string // full-width katakana
	TelNo       string
	ShouhinName string // full-width, at most 16 characters
	// ReturnURL is where the agent's page sends the shopper back.
	ReturnURL string
}

// CollectionResult is the answer to 2Add or 2Chg.
type CollectionResult struct {
	*Response
	// Process is the transaction handle for follow-up operations.
	Process       Process
	TransactionID string
	// FreeArea is the payment code for the agent's page (trimmed).
	FreeArea string
}

func collectionResult(r *Response) *CollectionResult {
	if r == nil {
		return nil
	}
	return &CollectionResult{Response: r, Process: Process{r.ProcessID(), r.ProcessPass()}, TransactionID: r.TransactionID(), FreeArea: strings.TrimSpace(r.Get("FreeArea"))}
}

// RegisterCollection sends 2Add. TenantId is not sent on collection calls.
func (c *Client) RegisterCollection(ctx context.Context, r CollectionRequest) (*CollectionResult, error) {
	if r.Amount <= 0 {
		return nil, errors.New("escott: amount must be positive")
	}
	if _, err := ParsePayLimit(r.PayLimit); err != nil {
		return nil, err
	}
	var p Params
	r.Ref.apply(&p)
	p.Set("Amount", amount(r.Amount))
	p.Set("PayLimit", r.PayLimit)
	p.Set("NameKanji", r.NameKanji)
	p.Set("NameKana", r.NameKana)
	p.Set("TelNo", r.TelNo)
	p.Set("ShouhinName", r.ShouhinName)
	p.SetIf("ReturnURL", r.ReturnURL)
	resp, err := c.Do(ctx, OpCvsAdd, p)
	return collectionResult(resp), err
}

// ChangeCollection sends 2Chg: a new due date and/or amount. The gateway
// allows one change; the answer carries a new FreeArea, so the shopper's
// payment link changes.
func (c *Client) ChangeCollection(ctx context.Context, ref Ref, pr Process, payLimit string, newAmount int64) (*CollectionResult, error) {
	if err := pr.check(); err != nil {
		return nil, err
	}
	if newAmount <= 0 {
		return nil, errors.New("escott: amount must be positive")
	}
	if _, err := ParsePayLimit(payLimit); err != nil {
		return nil, err
	}
	var p Params
	ref.apply(&p)
	pr.apply(&p)
	p.Set("PayLimit", payLimit)
	p.Set("Amount", amount(newAmount))
	resp, err := c.Do(ctx, OpCvsChg, p)
	return collectionResult(resp), err
}

// DeleteCollection sends 2Del: the registration is cancelled for good.
func (c *Client) DeleteCollection(ctx context.Context, ref Ref, pr Process) (*Response, error) {
	if err := pr.check(); err != nil {
		return nil, err
	}
	var p Params
	ref.apply(&p)
	pr.apply(&p)
	return c.Do(ctx, OpCvsDel, p)
}

// CollectionStatus is the answer to 2Ref.
type CollectionStatus struct {
	*Response
	// Paid is true when the gateway reports a payment date (NyukinDate).
	Paid       bool
	NyukinDate string
	RecvNum    string
	// CvsCd is where it was paid (see CvsName).
	CvsCd  string
	Amount int64
}

// ReferCollection sends 2Ref. After a 2Del the gateway answers K12.
func (c *Client) ReferCollection(ctx context.Context, ref Ref, pr Process) (*CollectionStatus, error) {
	if err := pr.check(); err != nil {
		return nil, err
	}
	var p Params
	ref.apply(&p)
	pr.apply(&p)
	resp, err := c.Do(ctx, OpCvsRef, p)
	if resp == nil {
		return nil, err
	}
	amt, _ := strconv.ParseInt(resp.Get("Amount"), 10, 64)
	st := &CollectionStatus{Response: resp, NyukinDate: resp.Get("NyukinDate"), RecvNum: resp.Get("RecvNum"), CvsCd: strings.TrimSpace(resp.Get("CvsCd")), Amount: amt}
	st.Paid = resp.OK() && st.NyukinDate != ""
	return st, err
}

// AgentURL is the collection agent's page (E8) for this client: the real
// link.kessai.info page of the environment, or the same path on the base
// URL override (the simulator serves it).
func (c *Client) AgentURL() string {
	if c.cfg.BaseURL == "" {
		return c.cfg.Environment.AgentURL()
	}
	if c.cfg.Environment == Production {
		return c.baseURL + PathAgentProd
	}
	return c.baseURL + PathAgentTest
}

// PaymentURL is the link that sends the shopper to pay a collection:
// rkbn=1 right after ordering, rkbn=2 for the link kept in e-mails.
func (c *Client) PaymentURL(freeArea string, redisplay bool) string {
	rkbn := "1"
	if redisplay {
		rkbn = "2"
	}
	return c.AgentURL() + "?" + url.Values{"code": {strings.TrimSpace(freeArea)}, "rkbn": {rkbn}}.Encode()
}

// CvsName returns the Japanese name of a payment channel code (§10.9);
// unknown codes are returned trimmed, as they came.
func CvsName(code string) string {
	code = strings.TrimSpace(code)
	if n, ok := cvsNames[code]; ok {
		return n
	}
	return code
}

// CvsCodes lists every known payment channel code in display order.
var CvsCodes = []string{"SEV", "LSN", "FAM", "MNS", "DAY", "SCM", "SAK", "CCK", "FFF", "ATM", "ONL", "LNK", "EBK", "JNB", "JIB", "SNB", "EDY", "SUI", "JPM"}

var cvsNames = map[string]string{
	"LSN": "ローソン", "FAM": "ファミリーマート", "SAK": "サンクス", "CCK": "サークルK",
	"SEV": "セブンイレブン", "MNS": "ミニストップ", "DAY": "デイリーヤマザキ", "SCM": "セイコーマート",
	"FFF": "スリーエフ", "ATM": "Pay-easy（ATM）", "ONL": "Pay-easy（オンライン）", "LNK": "Pay-easy（情報リンク）",
	"EBK": "楽天銀行", "JNB": "ジャパンネット銀行", "JIB": "じぶん銀行", "SNB": "住信SBIネット銀行",
	"EDY": "Edy", "SUI": "Suica", "JPM": "JCBプレモ",
}
