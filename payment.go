package kessai

import (
	"time"

	"github.com/kessai/kessai/escott"
)

// Method is how a payment is made.
type Method string

// Payment methods.
const (
	MethodCard       Method = "card"
	MethodCollection Method = "collection" // オンライン収納代行: convenience store, Pay-easy, e-money
)

// PaymentState is the state of a payment, derived from its operation
// history (design principle 4) and stored for listing.
type PaymentState string

// Payment states.
const (
	PaymentNew        PaymentState = "new"        // nothing at the gateway yet
	PaymentAuthorized PaymentState = "authorized" // 与信
	PaymentCaptured   PaymentState = "captured"   // 売上計上 / 与信売上計上
	PaymentCancelled  PaymentState = "cancelled"  // 取消 / 削除
	PaymentPending    PaymentState = "pending"    // collection registered, unpaid (未入金)
	PaymentPaid       PaymentState = "paid"       // collection paid (入金済)
	PaymentExpired    PaymentState = "expired"    // collection past due, or card past the handling period
	PaymentFailed     PaymentState = "failed"     // the gateway refused the payment
	PaymentUnknown    PaymentState = "unknown"    // an answer was lost: needs reconciliation
)

// Active reports whether a payment in this state blocks another payment of
// the same order: it is in flight, undecided, or holds money. Failed,
// cancelled and expired payments leave the order free to be paid again.
func (s PaymentState) Active() bool {
	switch s {
	case PaymentNew, PaymentUnknown, PaymentAuthorized, PaymentCaptured, PaymentPending, PaymentPaid:
		return true
	}
	return false
}

// Payment is one gateway transaction for an order (an order normally has
// one; a retry after a failure makes another).
type Payment struct {
	ID       string       `json:"id"`
	ShopID   string       `json:"-"`
	OrderID  string       `json:"order_id"`
	Method   Method       `json:"method"`
	State    PaymentState `json:"state"`
	Amount   int64        `json:"amount"` // current amount at the gateway (including any fee)
	Fee      int64        `json:"fee,omitempty"`
	Currency string       `json:"currency"`
	// TransactionCode is MerchantFree1 (決済コード), 12 digits.
	TransactionCode string `json:"transaction_code"`
	// Operation is the original operation: 1Auth, 1Gathering or 2Add.
	Operation escott.OperateID `json:"operation,omitempty"`
	PayType   escott.PayType   `json:"pay_type,omitempty"`
	// ProcessID and ProcessPass are the gateway's handle; ProcessPass is
	// a secret, encrypted at rest and never returned by the API.
	ProcessID   string `json:"-"`
	ProcessPass string `json:"-"`
	// WithMember is set when the transaction was made with a card member;
	// follow-ups must then carry the member ids (K80/K81).
	WithMember bool   `json:"with_member,omitempty"`
	CustomerID string `json:"customer_id,omitempty"`
	// SecureResultCode is the 3-D Secure outcome the payment was
	// authorised with ("" without 3DS); 3D認証結果 in the admin box.
	SecureResultCode string `json:"secure_result_code,omitempty"`
	// Consent records that the shopper agreed to the transfer of personal
	// data for EMV 3-D Secure (CARD-10): 個人情報の取扱 同意済.
	Consent bool `json:"consent,omitempty"`
	// Collection details.
	FreeArea string    `json:"-"`
	PayLimit string    `json:"pay_limit,omitempty"` // YYYYMMDDhhmm JST
	PaidAt   time.Time `json:"paid_at,omitzero"`
	CvsCd    string    `json:"cvs_code,omitempty"`
	// Failure details of the latest failed attempt.
	FailureCodes []string  `json:"failure_codes,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// AttemptStatus is the outcome of one gateway interaction.
type AttemptStatus string

// Attempt statuses. An attempt is written as pending before the call
// (design principle 3) and finished after it.
const (
	AttemptPending   AttemptStatus = "pending"
	AttemptSucceeded AttemptStatus = "succeeded"
	AttemptFailed    AttemptStatus = "failed"
	AttemptUnknown   AttemptStatus = "unknown" // no usable answer; the gateway may have acted
)

// Attempt is one gateway interaction of a payment, recorded before the
// call with its MerchantFree1 so that a crash mid-call leaves a trace.
type Attempt struct {
	ID            string           `json:"id"`
	ShopID        string           `json:"-"`
	PaymentID     string           `json:"payment_id"`
	Operation     escott.OperateID `json:"operation"`
	MerchantFree1 string           `json:"merchant_free1"`
	Amount        int64            `json:"amount,omitempty"`
	Status        AttemptStatus    `json:"status"`
	Codes         []string         `json:"codes,omitempty"`
	// Resolution says how an unknown attempt was settled by an operator.
	Resolution string    `json:"resolution,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// HistoryEntry is one row of a payment's operation history (spec §12.5):
// 処理日時 / 処理連番 (TransactionId) / 処理区分 / 処理結果.
type HistoryEntry struct {
	ID            string           `json:"id"`
	ShopID        string           `json:"-"`
	PaymentID     string           `json:"payment_id"`
	At            time.Time        `json:"at"`
	TransactionID string           `json:"transaction_id"`
	Operation     escott.OperateID `json:"operation"` // including the pseudo operations "paid" and "expired"
	ResponseCd    string           `json:"response_cd"`
	Amount        int64            `json:"amount,omitempty"`
	// Fields are the answer's fields, masked.
	Fields map[string]string `json:"fields,omitempty"`
}

// Member is a customer's card member at the gateway (stored card): kessai
// keeps only the ids; KaiinPass is encrypted at rest.
type Member struct {
	ShopID     string    `json:"-"`
	CustomerID string    `json:"customer_id"`
	KaiinID    string    `json:"-"`
	KaiinPass  string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// AttemptFilter selects attempts in the payment result log. Empty fields
// do not filter.
type AttemptFilter struct {
	Status AttemptStatus
	// Code keeps attempts whose answer carried this response code.
	Code string
	// MerchantFree1 is the transaction code (決済コード), matched exactly.
	MerchantFree1 string
	PaymentID     string
	Operation     escott.OperateID
	// CreatedFrom (inclusive) and CreatedTo (exclusive); zero = unbounded.
	CreatedFrom, CreatedTo time.Time
}

// PaymentStat is one cell of the dashboard: the payments of one method
// that were created on one day and are now in one state.
type PaymentStat struct {
	// Day is midnight of the day in the requested time zone.
	Day    time.Time
	Method Method
	State  PaymentState
	Count  int64
	// Amount is the sum of the payments' current amounts.
	Amount int64
}

// CodeCount is how often a gateway response code occurred.
type CodeCount struct {
	Code  string
	Count int64
}
