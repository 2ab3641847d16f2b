package kessai

import (
	"time"
)

// OrderStatus is the shop-facing status of an order, with the Japanese
// labels merchants know from WooCommerce.
type OrderStatus string

// Order statuses.
const (
	OrderPending    OrderStatus = "pending"    // 支払い待ち
	OrderOnHold     OrderStatus = "on-hold"    // 保留中 (awaiting a collection payment)
	OrderProcessing OrderStatus = "processing" // 処理中
	OrderCompleted  OrderStatus = "completed"  // 完了
	OrderFailed     OrderStatus = "failed"     // 失敗
	OrderCancelled  OrderStatus = "cancelled"  // キャンセル済み
)

// Valid reports whether s is a known status.
func (s OrderStatus) Valid() bool {
	switch s {
	case OrderPending, OrderOnHold, OrderProcessing, OrderCompleted, OrderFailed, OrderCancelled:
		return true
	}
	return false
}

// Label returns the Japanese label.
func (s OrderStatus) Label() string {
	switch s {
	case OrderPending:
		return "支払い待ち"
	case OrderOnHold:
		return "保留中"
	case OrderProcessing:
		return "処理中"
	case OrderCompleted:
		return "完了"
	case OrderFailed:
		return "失敗"
	case OrderCancelled:
		return "キャンセル済み"
	}
	return string(s)
}

// LineItem is one line of an order.
type LineItem struct {
	Name       string `json:"name"`
	Quantity   int64  `json:"quantity"`
	UnitAmount int64  `json:"unit_amount"`
	// Virtual items need no shipping (digital goods, services): an order
	// of only virtual items may go straight to completed (CARD-15).
	Virtual bool `json:"virtual"`
	// Fee marks a line kessai added itself (the collection settlement fee).
	Fee bool `json:"fee,omitempty"`
}

// Total is Quantity × UnitAmount.
func (l LineItem) Total() int64 { return l.Quantity * l.UnitAmount }

// Billing is the customer's billing identity as the gateway needs it.
type Billing struct {
	LastName      string `json:"last_name"`       // 姓 (kanji)
	FirstName     string `json:"first_name"`      // 名
	LastNameKana  string `json:"last_name_kana"`  // セイ
	FirstNameKana string `json:"first_name_kana"` // メイ
	Email         string `json:"email"`
	Phone         string `json:"phone"`
}

// Order is a purchase in a shop, identified by kessai's ID and by the
// shop's own order id.
type Order struct {
	ID          string            `json:"id"`
	ShopID      string            `json:"-"`
	ShopOrderID string            `json:"shop_order_id"`
	Amount      int64             `json:"amount"` // total in yen, items plus shipping and tax
	Currency    string            `json:"currency"`
	Items       []LineItem        `json:"items"`
	CustomerID  string            `json:"customer_id,omitempty"`
	Billing     Billing           `json:"billing"`
	Status      OrderStatus       `json:"status"`
	ReturnURL   string            `json:"return_url,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// AllVirtual reports whether every item is virtual (and there is at least
// one), the condition for going straight to completed.
func (o *Order) AllVirtual() bool {
	n := 0
	for _, it := range o.Items {
		if it.Fee {
			continue
		}
		if !it.Virtual {
			return false
		}
		n++
	}
	return n > 0
}

// OrderFilter selects orders in a list.
type OrderFilter struct {
	Status     OrderStatus
	CustomerID string
	// ShopOrderID matches exactly.
	ShopOrderID string
	// CreatedFrom (inclusive) and CreatedTo (exclusive); zero = unbounded.
	CreatedFrom, CreatedTo time.Time
	// Method keeps orders with at least one payment of that method
	// (whatever its state): the console's method filter (ADMIN-01).
	Method Method
}

// Page asks for one page of a list, newest first. After is the cursor (the
// ID of the last item of the previous page).
type Page struct {
	Limit int
	After string
}
