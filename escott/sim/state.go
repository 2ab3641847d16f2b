package sim

import (
	"time"

	"github.com/kessai/kessai/escott"
)

// env is one of the gateway's two separate systems. The simulator plays
// both at once: the merchant password of a call says which one it
// addresses (test and production passwords differ, the merchant id does
// not), and state never crosses between them — a transaction or member
// made with the test password does not exist for the production one.
type env int

const (
	envTest env = iota
	envProd
)

func (e env) String() string {
	if e == envProd {
		return "production"
	}
	return "test"
}

// card is what a token or member stands for. It lives only in the
// simulator's memory: the simulator plays the gateway, which is the one
// party allowed to see card numbers.
type card struct {
	Number       string
	Exp          string // YYMM
	SecurityCode string // "" when not given
	HolderName   string
}

// masked returns the first 4 and last 4 digits with '*' between, at the
// original length [SIM].
func (c card) masked() string {
	n := c.Number
	if len(n) <= 8 {
		return n
	}
	b := []byte(n)
	for i := 4; i < len(b)-4; i++ {
		b[i] = '*'
	}
	return string(b)
}

// token is a one-time card token issued by the E7 script.
type token struct {
	Value      string
	MerchantID string
	Env        env
	Card       card
	Issued     time.Time
	Used       bool
}

// txnStatus is the state of a card transaction (spec §16.4).
type txnStatus string

const (
	txnAuth      txnStatus = "AUTH"
	txnCaptured  txnStatus = "CAPTURED"
	txnCancelled txnStatus = "CANCELLED"
)

// cardTxn is one card transaction (取引) with its handle.
type cardTxn struct {
	ProcessID, ProcessPass string
	MerchantID             string
	Env                    env
	OriginalOp             escott.OperateID // 1Auth or 1Gathering
	Status                 txnStatus
	Amount                 int64
	PayType                string
	KaiinID                string // member used to create it, "" for a token payment
	Card                   card
	Created                time.Time // simulator clock
	SalesDate              string
	MerchantFree1          string
	MerchantFree2          string
	MerchantFree3          string
	ApproveNo              string
	CompanyCd              string
	ThreeDS                bool // authorised with 3DS result fields
	History                []opRecord
}

// opRecord is one operation applied to a transaction or collection, kept
// for the state listing of the control API.
type opRecord struct {
	At            time.Time        `json:"at"`
	OperateID     escott.OperateID `json:"operate_id"`
	TransactionID string           `json:"transaction_id"`
	ResponseCd    string           `json:"response_cd"`
	Amount        int64            `json:"amount,omitempty"`
}

// member is a card member (stored card).
type member struct {
	KaiinID, KaiinPass string
	MerchantID         string
	Env                env
	Card               card
	Valid              bool
	Failures           int       // consecutive password failures; K74 at the limit
	LockedUntil        time.Time // set when Failures reaches the limit [SIM]
	Created            time.Time
}

// collectionStatus is the state of an online payment collection (§16.6).
type collectionStatus string

const (
	colUnpaid  collectionStatus = "UNPAID"
	colPaid    collectionStatus = "PAID"
	colDeleted collectionStatus = "DELETED"
)

// collection is one 2Add registration.
type collection struct {
	ProcessID, ProcessPass string
	MerchantID             string
	Env                    env
	FreeArea               string // current payment code; a 2Chg issues a new one
	Status                 collectionStatus
	Amount                 int64
	PayLimit               string // YYYYMMDDhhmm
	NameKanji, NameKana    string
	TelNo, ShouhinName     string
	ReturnURL              string
	MerchantFree1          string
	MerchantFree2          string
	Changed                bool // 2Chg is allowed once
	Created                time.Time
	// Set when paid.
	RecvNum, NyukinDate, CvsCd string
	PaidTransactionID          string
	History                    []opRecord
}

// threeDSResult is a 3-D Secure outcome issued by the E5 page; a later
// authorisation that carries 3DS fields is checked against it.
type threeDSResult struct {
	MerchantID   string
	Env          env
	CardNumber   string
	Amount       int64
	Fields       escott.Params // the 3DS result fields as returned
	Issued       time.Time
	UsedForAuths int
}

// merchantState holds everything one merchant has on one environment.
type merchantState struct {
	tokens      map[string]*token
	txns        map[string]*cardTxn       // by ProcessId
	members     map[string]*member        // by KaiinId
	collections map[string]*collection    // by ProcessId
	freeAreas   map[string]*collection    // by current or past FreeArea
	threeDS     map[string]*threeDSResult // by DSTransactionId
}

func newMerchantState() *merchantState {
	return &merchantState{
		tokens:      map[string]*token{},
		txns:        map[string]*cardTxn{},
		members:     map[string]*member{},
		collections: map[string]*collection{},
		freeAreas:   map[string]*collection{},
		threeDS:     map[string]*threeDSResult{},
	}
}

// notification is one payment notification to deliver to a merchant.
type notification struct {
	MerchantID string
	URL        string
	Fields     escott.Params
}

// The contract between the server-call side and
// the browser side of the simulator (both in this package):
//
//   - (s *Server) process(ep escott.Endpoint, fields url.Values) escott.Params
//     runs one E1–E4 call exactly as the HTTP endpoint would, including
//     merchant authentication (which also selects the environment), common
//     validation and the operation itself, and returns the answer fields.
//     The E5 and E6 pages call it with their decrypted payloads.
//   - (s *Server) issueToken(merchantID string, e env, c card) (string, error)
//   - (s *Server) payCollection(merchantID string, e env, freeArea, cvsCd string) error
//     marks a collection paid and hands the notification to s.notify.
//   - (s *Server) notify(n notification) queues a notification for delivery.
