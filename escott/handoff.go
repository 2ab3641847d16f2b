package escott

import (
	"errors"
	"fmt"
	"net/url"
)

// HandOff is a browser hand-off to the gateway: an auto-submitting form
// (3-D Secure, E5) or a redirect (external link page, E6).
type HandOff struct {
	// Method is "POST" (E5 form) or "GET" (E6 redirect).
	Method string
	// Action is the gateway URL without query.
	Action string
	// Fields are MerchantId and EncryptValue.
	Fields Params
}

// URL returns the complete GET URL (for the E6 redirect).
func (h HandOff) URL() string { return h.Action + "?" + h.Fields.Encode() }

// ThreeDSRequest describes a 3-D Secure hand-off (E5). Op is 3Secure for a
// checkout (authentication only; the authorisation follows server to
// server), or 4MemAdd / 4MemChg to register or change a card member with
// 3-D Secure.
type ThreeDSRequest struct {
	Op OperateID
	Ref
	Amount int64 // 3Secure only
	// The card: a token (new card) or the member (saved card).
	Token  string
	Member Member
	// ProcNo is 7 digits, fresh per hand-off (NewProcNo).
	ProcNo string
	// RedirectURL receives the browser back with the encrypted result.
	// Keep it short: the gateway is reported to accept 64 characters.
	RedirectURL     string
	BillingFullName string // ASCII letters and spaces, empty for a saved card
	BillingEmail    string
}

// ThreeDSHandOff encrypts the request for the E5 page.
func (c *Client) ThreeDSHandOff(ci *Cipher, r ThreeDSRequest) (HandOff, error) {
	switch r.Op {
	case OpSecure:
		if r.Amount <= 0 {
			return HandOff{}, errors.New("escott: 3-D Secure needs a positive amount")
		}
	case OpMemAdd, OpMemChg:
	default:
		return HandOff{}, fmt.Errorf("escott: %q cannot be sent through the 3-D Secure page", r.Op)
	}
	switch {
	case r.Op == OpSecure && (r.Token == "") == r.Member.IsZero():
		// A checkout authenticates either a new card or the saved one.
		return HandOff{}, errors.New("escott: give exactly one of a token or a member")
	case r.Op != OpSecure && (r.Token == "" || r.Member.check() != nil):
		// Registering or changing a member needs the new card (token)
		// and the member ids it is stored under.
		return HandOff{}, errors.New("escott: a member registration needs a token, KaiinId and KaiinPass")
	}
	if len(r.ProcNo) != 7 {
		return HandOff{}, errors.New("escott: ProcNo must be 7 digits")
	}
	if r.RedirectURL == "" {
		return HandOff{}, errors.New("escott: RedirectURL is required")
	}
	m := c.cfg.Merchant
	p := Params{{"MerchantId", m.MerchantID}, {"MerchantPass", m.MerchantPass}, {"TransactionDate", TransactionDate(c.cfg.Now())}}
	r.Ref.apply(&p)
	p.SetIf("TenantId", m.TenantID)
	if r.Op == OpSecure {
		p.Set("Amount", amount(r.Amount))
	}
	p.SetIf("Token", r.Token)
	r.Member.apply(&p)
	p.Set("OperateId", string(r.Op))
	p.Set("ProcNo", r.ProcNo)
	p.Set("RedirectUrl", r.RedirectURL)
	p.Set("BillingFullName", r.BillingFullName)
	p.Set("BillingEmail", r.BillingEmail)
	return HandOff{Method: "POST", Action: c.baseURL + PathThreeDS, Fields: Params{{"MerchantId", m.MerchantID}, {"EncryptValue", ci.Encrypt(p)}}}, nil
}

// LinkRequest describes an external-link hand-off (E6): a payment
// (1Auth/1Gathering) or a member registration or change (4MemAdd/4MemChg)
// on the gateway's own card page. Link payments are always lump sum.
type LinkRequest struct {
	Op OperateID
	Ref
	Amount      int64 // payments only
	Member      Member
	RedirectURL string
	// ThreeDS is passed on when a member registration already did 3DS
	// (the second hop of §9.3).
	ThreeDS ThreeDSFields
	// TransactionDate overrides today's date (the second hop re-sends the
	// first hop's value).
	TransactionDate string
}

// LinkHandOff encrypts the request for the E6 page. MerchantId travels in
// the clear query only, as on the real gateway.
func (c *Client) LinkHandOff(ci *Cipher, r LinkRequest) (HandOff, error) {
	pay := r.Op == OpAuth || r.Op == OpGathering
	if !pay && r.Op != OpMemAdd && r.Op != OpMemChg {
		return HandOff{}, fmt.Errorf("escott: %q cannot be sent through the link page", r.Op)
	}
	if pay && r.Amount <= 0 {
		return HandOff{}, errors.New("escott: a link payment needs a positive amount")
	}
	if !pay && r.Member.check() != nil {
		return HandOff{}, errors.New("escott: a member operation needs KaiinId and KaiinPass")
	}
	if r.RedirectURL == "" {
		return HandOff{}, errors.New("escott: RedirectURL is required")
	}
	m := c.cfg.Merchant
	date := r.TransactionDate
	if date == "" {
		date = TransactionDate(c.cfg.Now())
	}
	p := Params{{"MerchantPass", m.MerchantPass}, {"TransactionDate", date}}
	r.Ref.apply(&p)
	p.SetIf("TenantId", m.TenantID)
	r.Member.apply(&p)
	p.Set("OperateId", string(r.Op))
	if pay {
		p.Set("PayType", string(PayLump))
		p.Set("Amount", amount(r.Amount))
	}
	p.Set("ProcNo", LinkProcNo)
	p.Set("RedirectUrl", r.RedirectURL)
	r.ThreeDS.Apply(&p)
	return HandOff{Method: "GET", Action: c.baseURL + PathLink, Fields: Params{{"MerchantId", m.MerchantID}, {"EncryptValue", ci.Encrypt(p)}}}, nil
}

// Return is a decrypted browser return from the E5 or E6 page.
type Return struct {
	*Response
	ThreeDS ThreeDSFields
}

// ErrIncompleteReturn is returned for a return that decrypts but lacks the
// fields every return has.
var ErrIncompleteReturn = errors.New("escott: the return lacks required fields")

// ParseReturn decrypts the EncryptValue of a browser return and checks the
// fields common to both pages: OperateId and ResponseCd. A 3-D Secure
// return must also carry SecureResultCode (see Return.IsThreeDS).
func ParseReturn(ci *Cipher, encryptValue string) (*Return, error) {
	fields, err := ci.Decrypt(encryptValue)
	if err != nil {
		return nil, err
	}
	return returnFromFields(fields)
}

func returnFromFields(fields url.Values) (*Return, error) {
	if fields.Get("OperateId") == "" {
		return nil, ErrIncompleteReturn
	}
	r, err := responseFromFields(fields)
	if err != nil {
		return nil, ErrIncompleteReturn
	}
	return &Return{Response: r, ThreeDS: threeDSFieldsFrom(fields.Get)}, nil
}

// IsThreeDS reports whether the return carries a 3-D Secure outcome.
func (r *Return) IsThreeDS() bool { return r.Fields.Has("SecureResultCode") }

// FromCheckout reports whether a link return belongs to a checkout (it
// carries MerchantId and the order id) rather than to a "my account" card
// registration.
func (r *Return) FromCheckout() bool {
	return r.Get("MerchantId") != "" && r.Get("MerchantFree2") != ""
}

// ShopperCancelled reports whether the shopper left the link page: the
// ResponseCd is exactly one of the P codes the plugins treat as a cancel.
func (r *Return) ShopperCancelled() bool {
	if len(r.Codes) != 1 {
		return false
	}
	switch r.Codes[0] {
	case "P51", "P52", "P55", "P56", "P62", "P63", "P64", "P65", "P69", "P70":
		return true
	}
	return false
}

// Member returns the member ids echoed by a member registration return.
func (r *Return) Member() Member {
	return Member{KaiinID: r.Get("KaiinId"), KaiinPass: r.Get("KaiinPass")}
}

// Process returns the transaction handle of a payment return.
func (r *Return) Process() Process { return Process{r.ProcessID(), r.ProcessPass()} }
