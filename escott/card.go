package escott

import (
	"context"
	"errors"
	"strconv"
)

// Ref carries the merchant's own references, echoed by the gateway.
type Ref struct {
	// MerchantFree1 is the transaction code (取引コード), 12 digits: new
	// for each new transaction, the same on every follow-up.
	MerchantFree1 string
	// MerchantFree2 is the order id.
	MerchantFree2 string
	// MerchantFree3 is the customer id, on member calls.
	MerchantFree3 string
}

func (r Ref) apply(p *Params) {
	p.SetIf("MerchantFree1", r.MerchantFree1)
	p.SetIf("MerchantFree2", r.MerchantFree2)
	p.SetIf("MerchantFree3", r.MerchantFree3)
}

// Member identifies a card member (stored card) at the gateway.
type Member struct {
	KaiinID   string
	KaiinPass string
}

// IsZero reports whether no member is given.
func (m Member) IsZero() bool { return m.KaiinID == "" && m.KaiinPass == "" }

func (m Member) apply(p *Params) {
	p.SetIf("KaiinId", m.KaiinID)
	p.SetIf("KaiinPass", m.KaiinPass)
}

// Process is the handle of a gateway transaction (取引): every follow-up
// operation needs both values.
type Process struct {
	ProcessID   string
	ProcessPass string
}

func (pr Process) apply(p *Params) {
	p.Set("ProcessId", pr.ProcessID)
	p.Set("ProcessPass", pr.ProcessPass)
}

func (pr Process) check() error {
	if pr.ProcessID == "" || pr.ProcessPass == "" {
		return errors.New("escott: ProcessId and ProcessPass are required")
	}
	return nil
}

// ThreeDSFields are the 3-D Secure result fields that come back from the
// E5 page and are copied verbatim into the authorisation.
type ThreeDSFields struct {
	SecureResultCode           string
	EncodeXId3D                string
	MessageVersionNo3D         string
	TransactionStatus3D        string
	CAVVAlgorithm3D            string
	ECI3D                      string
	CAVV3D                     string
	DSTransactionID            string
	ThreeDSServerTransactionID string
}

// threeDSKeys lists the wire names in the order the plugins send them.
var threeDSKeys = []string{"EncodeXId3D", "MessageVersionNo3D", "TransactionStatus3D", "CAVVAlgorithm3D", "ECI3D", "CAVV3D", "SecureResultCode", "DSTransactionId", "ThreeDSServerTransactionId"}

func (f *ThreeDSFields) ptrs() []*string {
	return []*string{&f.EncodeXId3D, &f.MessageVersionNo3D, &f.TransactionStatus3D, &f.CAVVAlgorithm3D, &f.ECI3D, &f.CAVV3D, &f.SecureResultCode, &f.DSTransactionID, &f.ThreeDSServerTransactionID}
}

// Apply adds every non-empty field to p.
func (f ThreeDSFields) Apply(p *Params) {
	for i, v := range f.ptrs() {
		p.SetIf(threeDSKeys[i], *v)
	}
}

// threeDSFieldsFrom reads the fields from a decrypted return.
func threeDSFieldsFrom(get func(string) string) ThreeDSFields {
	var f ThreeDSFields
	for i, v := range f.ptrs() {
		*v = get(threeDSKeys[i])
	}
	return f
}

// IsZero reports whether no 3DS field is set.
func (f ThreeDSFields) IsZero() bool { return f == ThreeDSFields{} }

// StopsPayment reports whether SecureResultCode forbids going on to the
// authorisation: 1 (authentication failed), 8 (maintenance) and 9 (system
// error) stop; every other value proceeds (design A-18).
func (f ThreeDSFields) StopsPayment() bool {
	switch f.SecureResultCode {
	case "1", "8", "9":
		return true
	}
	return false
}

func amount(v int64) string { return strconv.FormatInt(v, 10) }

// TokenSearch is 1TokenSearch: it checks that a browser token is usable
// without consuming it. Success requires ResponseCd and TokenResponseCd OK.
func (c *Client) TokenSearch(ctx context.Context, ref Ref, token string) (*Response, error) {
	if token == "" {
		return nil, errors.New("escott: token is required")
	}
	var p Params
	ref.apply(&p)
	p.Set("Token", token)
	return c.Do(ctx, OpTokenSearch, p)
}

// AuthRequest describes 1Auth (与信) or 1Gathering (与信売上計上).
type AuthRequest struct {
	Ref
	// Capture selects 1Gathering (authorise and record the sale at once).
	Capture bool
	Amount  int64
	// PayType defaults to 01 (lump sum).
	PayType PayType
	// The card: either a one-time token or a card member.
	Token  string
	Member Member
	// ThreeDS carries the result of a 3-D Secure authentication, if any.
	ThreeDS ThreeDSFields
}

// Op returns the OperateId the request is sent with.
func (r AuthRequest) Op() OperateID {
	if r.Capture {
		return OpGathering
	}
	return OpAuth
}

// AuthResult is a successful authorisation.
type AuthResult struct {
	*Response
	// Process is the transaction handle for follow-up operations.
	Process       Process
	TransactionID string
	ApproveNo     string
	CompanyCd     string
	PayType       PayType
}

// Authorize sends 1Auth or 1Gathering.
func (c *Client) Authorize(ctx context.Context, r AuthRequest) (*AuthResult, error) {
	if r.Amount <= 0 {
		return nil, errors.New("escott: amount must be positive (zero totals need no gateway call)")
	}
	if (r.Token == "") == r.Member.IsZero() {
		return nil, errors.New("escott: give exactly one of Token or Member")
	}
	if r.PayType == "" {
		r.PayType = PayLump
	}
	var p Params
	r.Ref.apply(&p)
	p.Set("Amount", amount(r.Amount))
	p.SetIf("Token", r.Token)
	r.Member.apply(&p)
	p.Set("PayType", string(r.PayType))
	r.ThreeDS.Apply(&p)
	resp, err := c.Do(ctx, r.Op(), p)
	return authResult(resp), err
}

func authResult(r *Response) *AuthResult {
	if r == nil {
		return nil
	}
	return &AuthResult{
		Response:      r,
		Process:       Process{r.ProcessID(), r.ProcessPass()},
		TransactionID: r.TransactionID(),
		ApproveNo:     r.Get("ApproveNo"),
		CompanyCd:     r.Get("CompanyCd"),
		PayType:       PayType(r.Get("PayType")),
	}
}

// FollowUp identifies the transaction a capture, change, cancel or re-auth
// acts on.
type FollowUp struct {
	Ref
	Process
	// Member must be given exactly when the transaction was made with a
	// card member (otherwise the gateway answers K80 or K81).
	Member Member
}

// FollowUpResult is the answer to a follow-up operation.
type FollowUpResult struct {
	*Response
	// Process is the transaction handle for follow-up operations.
	Process       Process
	TransactionID string
	SalesDate     string
	// RetriedWithoutMember is set when the first answer was K81 and the
	// call was repeated without member ids, as the plugins do.
	RetriedWithoutMember bool
}

// followUp sends a follow-up with the plugins' K81 rule: when member ids
// were sent and the only answer is K81 ("member id must not be given"), the
// same request is repeated once without them.
func (c *Client) followUp(ctx context.Context, op OperateID, f FollowUp, extra func(*Params)) (*FollowUpResult, error) {
	if err := f.Process.check(); err != nil {
		return nil, err
	}
	build := func(withMember bool) Params {
		var p Params
		f.Ref.apply(&p)
		if withMember {
			f.Member.apply(&p)
		}
		f.Process.apply(&p)
		if extra != nil {
			extra(&p)
		}
		return p
	}
	resp, err := c.Do(ctx, op, build(true))
	retried := false
	if e, ok := AsError(err); ok && !f.Member.IsZero() && len(e.Codes) == 1 && e.Codes[0] == "K81" {
		retried = true
		p := build(false)
		if op == OpReAuth {
			p.Del("MerchantFree3")
		}
		resp, err = c.Do(ctx, op, p)
	}
	if resp == nil {
		return nil, err
	}
	res := &FollowUpResult{Response: resp, Process: Process{resp.ProcessID(), resp.ProcessPass()}, TransactionID: resp.TransactionID(), SalesDate: resp.Get("SalesDate"), RetriedWithoutMember: retried}
	if res.Process.ProcessID == "" {
		res.Process = f.Process
	}
	return res, err
}

// Capture is 1Capture (売上計上): records the sale of an authorisation at
// its current amount, with today's SalesDate.
func (c *Client) Capture(ctx context.Context, f FollowUp) (*FollowUpResult, error) {
	return c.followUp(ctx, OpCapture, f, func(p *Params) { p.Set("SalesDate", TransactionDate(c.cfg.Now())) })
}

// Change is 1Change (利用額変更): sets a new amount on an authorised or
// captured transaction.
func (c *Client) Change(ctx context.Context, f FollowUp, newAmount int64) (*FollowUpResult, error) {
	if newAmount <= 0 {
		return nil, errors.New("escott: amount must be positive")
	}
	return c.followUp(ctx, OpChange, f, func(p *Params) { p.Set("Amount", amount(newAmount)) })
}

// Delete is 1Delete (取消): voids an authorisation or cancels a sale.
func (c *Client) Delete(ctx context.Context, f FollowUp) (*FollowUpResult, error) {
	return c.followUp(ctx, OpDelete, f, nil)
}

// ReAuth is 1ReAuth (再オーソリ): authorises again, with a new amount, a
// transaction that is authorised or cancelled. SalesDate is always sent
// (the gateway answers K39 without it). The ProcessId/ProcessPass stay.
func (c *Client) ReAuth(ctx context.Context, f FollowUp, newAmount int64) (*FollowUpResult, error) {
	if newAmount <= 0 {
		return nil, errors.New("escott: amount must be positive")
	}
	return c.followUp(ctx, OpReAuth, f, func(p *Params) {
		p.Set("Amount", amount(newAmount))
		p.Set("SalesDate", TransactionDate(c.cfg.Now()))
	})
}

// SearchResult is the answer to 1Search.
type SearchResult struct {
	*Response
	Amount int64
	// SalesDate is set when the sale has been recorded.
	SalesDate string
}

// ErrExpired is wrapped by Search when the gateway answers K12: the
// transaction can no longer be referenced or operated. That is what the
// plugins read into K12 (the 60-day limit), but the gateway answers the
// same code for a ProcessId/ProcessPass it does not know, so treat it as
// "no longer operable" rather than proof of age.
var ErrExpired = errors.New("escott: the transaction's handling period has passed (K12)")

// Search is 1Search (取引参照). Member ids are never sent.
func (c *Client) Search(ctx context.Context, ref Ref, pr Process) (*SearchResult, error) {
	if err := pr.check(); err != nil {
		return nil, err
	}
	var p Params
	ref.apply(&p)
	pr.apply(&p)
	resp, err := c.Do(ctx, OpSearch, p)
	if resp == nil {
		return nil, err
	}
	amt, _ := strconv.ParseInt(resp.Get("Amount"), 10, 64)
	res := &SearchResult{Response: resp, Amount: amt, SalesDate: resp.Get("SalesDate")}
	if e, ok := AsError(err); ok && e.HasCode("K12") {
		return res, errors.Join(err, ErrExpired)
	}
	return res, err
}

// Check is 1Check (カードチェック): a validity check of a card without an
// amount. No plugin sends it; it is provided for completeness.
func (c *Client) Check(ctx context.Context, ref Ref, token string, m Member) (*Response, error) {
	if (token == "") == m.IsZero() {
		return nil, errors.New("escott: give exactly one of token or member")
	}
	var p Params
	ref.apply(&p)
	p.SetIf("Token", token)
	m.apply(&p)
	return c.Do(ctx, OpCheck, p)
}
