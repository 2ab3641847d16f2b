package service

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kessai/kessai"
)

// OrderIDPrefix starts every order's ID ("ord_…").
const OrderIDPrefix = "ord"

// Limits of order input. MaxAmount is the gateway's: Amount has at most 7
// digits, so a larger order could never be paid and is refused up front.
const (
	MaxAmount           = 9_999_999
	MaxShopOrderIDLen   = 64
	MaxItems            = 100
	MaxItemNameLen      = 200
	MaxQuantity         = 999_999
	MaxNameLen          = 50
	MaxEmailLen         = 254
	MaxPhoneLen         = 20
	MaxCustomerIDLen    = 64
	MaxMetadataKeys     = 20
	MaxMetadataKeyLen   = 40
	MaxMetadataValueLen = 500
)

// OrderInput is what a shop sends to create an order. Amount is a pointer
// so that a missing amount is told apart from an explicit 0 (a zero-total
// order is allowed: it completes without a gateway call, CARD-16/CVS-12).
type OrderInput struct {
	ShopOrderID string            `json:"shop_order_id"`
	Amount      *int64            `json:"amount"`
	Currency    string            `json:"currency,omitempty"`
	Items       []ItemInput       `json:"items,omitempty"`
	CustomerID  string            `json:"customer_id,omitempty"`
	Billing     *kessai.Billing   `json:"billing,omitempty"`
	ReturnURL   string            `json:"return_url,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// ItemInput is one line item of an OrderInput. Fee lines are kessai's own
// (the collection settlement fee) and cannot be sent.
type ItemInput struct {
	Name       string `json:"name"`
	Quantity   int64  `json:"quantity"`
	UnitAmount int64  `json:"unit_amount"`
	Virtual    bool   `json:"virtual,omitempty"`
}

// ValidateOrderInput checks every field of in and returns all problems at
// once, each with its JSON path (e.g. "items[2].quantity").
//
// Items are optional. When given, their total must not exceed amount:
// amount is what the shopper pays, and it includes shipping, tax and any
// discount-free extras the shop does not itemise, so only "items cost more
// than the order" is certainly a mistake.
func ValidateOrderInput(in *OrderInput) error {
	var v kessai.ValidationErrors
	switch {
	case in.ShopOrderID == "":
		v.Add("shop_order_id", "required", "shop_order_id は必須です。", "shop_order_id is required.")
	case len(in.ShopOrderID) > MaxShopOrderIDLen || !printableASCII(in.ShopOrderID) || strings.TrimSpace(in.ShopOrderID) != in.ShopOrderID:
		v.Add("shop_order_id", "invalid_shop_order_id",
			fmt.Sprintf("shop_order_id は %d 文字以内の半角英数記号で指定してください（前後の空白は不可）。", MaxShopOrderIDLen),
			fmt.Sprintf("shop_order_id must be at most %d printable ASCII characters without leading or trailing spaces.", MaxShopOrderIDLen))
	}
	switch {
	case in.Amount == nil:
		v.Add("amount", "required", "amount は必須です。", "amount is required.")
	case *in.Amount < 0 || *in.Amount > MaxAmount:
		v.Add("amount", "invalid_amount",
			fmt.Sprintf("amount は 0〜%d の整数（円）で指定してください。", MaxAmount),
			fmt.Sprintf("amount must be an integer number of yen between 0 and %d.", MaxAmount))
	}
	if in.Currency != "" && !strings.EqualFold(in.Currency, kessai.Currency) {
		v.Add("currency", "unsupported_currency", "通貨は JPY のみ対応しています。", "Only JPY is supported.")
	}
	var sum int64
	itemsOK := true
	if len(in.Items) > MaxItems {
		v.Add("items", "too_many_items", fmt.Sprintf("明細は %d 行までです。", MaxItems), fmt.Sprintf("At most %d items are allowed.", MaxItems))
		itemsOK = false
	}
	for i, it := range in.Items {
		if i >= MaxItems {
			break
		}
		p := fmt.Sprintf("items[%d].", i)
		if n := utf8.RuneCountInString(it.Name); n == 0 || n > MaxItemNameLen || !cleanText(it.Name) || strings.TrimSpace(it.Name) == "" {
			v.Add(p+"name", "invalid_item_name",
				fmt.Sprintf("商品名は 1〜%d 文字で指定してください（制御文字は不可）。", MaxItemNameLen),
				fmt.Sprintf("name must be 1 to %d characters without control characters.", MaxItemNameLen))
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			v.Add(p+"quantity", "invalid_quantity",
				fmt.Sprintf("数量は 1〜%d で指定してください。", MaxQuantity),
				fmt.Sprintf("quantity must be between 1 and %d.", MaxQuantity))
			itemsOK = false
		}
		if it.UnitAmount < 0 || it.UnitAmount > MaxAmount {
			v.Add(p+"unit_amount", "invalid_unit_amount",
				fmt.Sprintf("単価は 0〜%d の整数（円）で指定してください。", MaxAmount),
				fmt.Sprintf("unit_amount must be an integer number of yen between 0 and %d.", MaxAmount))
			itemsOK = false
		}
		sum += it.Quantity * it.UnitAmount // bounded above: no overflow
	}
	if itemsOK && in.Amount != nil && len(in.Items) > 0 && sum > *in.Amount {
		v.Add("amount", "amount_less_than_items",
			fmt.Sprintf("amount（%d 円）が明細の合計（%d 円）より少なくなっています。", *in.Amount, sum),
			fmt.Sprintf("amount (%d yen) is less than the total of the items (%d yen).", *in.Amount, sum))
	}
	if in.CustomerID != "" && (len(in.CustomerID) > MaxCustomerIDLen || !idChars(in.CustomerID)) {
		v.Add("customer_id", "invalid_customer_id",
			fmt.Sprintf("customer_id は %d 文字以内の半角英数字・_・- で指定してください。", MaxCustomerIDLen),
			fmt.Sprintf("customer_id must be at most %d characters of A-Z, a-z, 0-9, _ and -.", MaxCustomerIDLen))
	}
	if b := in.Billing; b != nil {
		for _, f := range []struct{ name, val string }{
			{"last_name", b.LastName}, {"first_name", b.FirstName},
			{"last_name_kana", b.LastNameKana}, {"first_name_kana", b.FirstNameKana},
		} {
			if utf8.RuneCountInString(f.val) > MaxNameLen || !cleanText(f.val) {
				v.Add("billing."+f.name, "invalid_name",
					fmt.Sprintf("%d 文字以内で指定してください（制御文字は不可）。", MaxNameLen),
					fmt.Sprintf("must be at most %d characters without control characters.", MaxNameLen))
			}
		}
		if b.Email != "" && !validEmail(b.Email) {
			v.Add("billing.email", "invalid_email", "メールアドレスの形式が正しくありません。", "The e-mail address is not valid.")
		}
		if b.Phone != "" && !validPhone(b.Phone) {
			v.Add("billing.phone", "invalid_phone",
				fmt.Sprintf("電話番号は半角数字とハイフンで %d 文字以内で指定してください。", MaxPhoneLen),
				fmt.Sprintf("phone must be at most %d characters of digits and hyphens.", MaxPhoneLen))
		}
	}
	if in.ReturnURL != "" {
		if ja, en := checkPublicURL(in.ReturnURL); ja != "" {
			v.Add("return_url", "invalid_url", ja, en)
		}
	}
	if len(in.Metadata) > MaxMetadataKeys {
		v.Add("metadata", "too_many_metadata_keys",
			fmt.Sprintf("metadata のキーは %d 個までです。", MaxMetadataKeys),
			fmt.Sprintf("metadata can have at most %d keys.", MaxMetadataKeys))
	} else {
		for _, k := range sortedKeys(in.Metadata) {
			if k == "" || utf8.RuneCountInString(k) > MaxMetadataKeyLen || !cleanText(k) {
				v.Add("metadata", "invalid_metadata_key",
					fmt.Sprintf("metadata のキーは 1〜%d 文字で指定してください: %s", MaxMetadataKeyLen, clip(k, 48)),
					fmt.Sprintf("metadata keys must be 1 to %d characters: %s", MaxMetadataKeyLen, clip(k, 48)))
				continue
			}
			if val := in.Metadata[k]; utf8.RuneCountInString(val) > MaxMetadataValueLen || !cleanText(val) {
				v.Add("metadata."+k, "invalid_metadata_value",
					fmt.Sprintf("metadata の値は %d 文字以内で指定してください。", MaxMetadataValueLen),
					fmt.Sprintf("metadata values must be at most %d characters.", MaxMetadataValueLen))
			}
		}
	}
	return v.Err()
}

var errOrderNotFound = notFound("order", "注文が見つかりません。", "No such order.")

// CreateOrder validates in and creates a pending order, together with its
// order.created event in the same transaction. A second order with the
// same shop_order_id is refused with KindConflict "order_exists" (use an
// Idempotency-Key to retry a create safely; the conflict is what protects
// a shop that did not).
func (s *Service) CreateOrder(ctx context.Context, shopID string, in OrderInput) (*kessai.Order, error) {
	o, err := s.NewOrder(shopID, in)
	if err != nil {
		return nil, err
	}
	if err := s.store.InTx(ctx, func(tx kessai.Store) error { return s.InsertOrder(ctx, tx, o) }); err != nil {
		return nil, err
	}
	s.Kick()
	return o, nil
}

// NewOrder validates in and builds the pending order it describes,
// without storing it (InsertOrder does, inside the caller's transaction:
// the renewal engine writes an order and its renewal together).
func (s *Service) NewOrder(shopID string, in OrderInput) (*kessai.Order, error) {
	if err := ValidateOrderInput(&in); err != nil {
		return nil, err
	}
	now := s.Now()
	o := &kessai.Order{
		ID:          kessai.NewID(OrderIDPrefix, now),
		ShopID:      shopID,
		ShopOrderID: in.ShopOrderID,
		Amount:      *in.Amount,
		Currency:    kessai.Currency,
		Items:       make([]kessai.LineItem, 0, len(in.Items)),
		CustomerID:  in.CustomerID,
		Status:      kessai.OrderPending,
		ReturnURL:   in.ReturnURL,
		Metadata:    in.Metadata,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	for _, it := range in.Items {
		o.Items = append(o.Items, kessai.LineItem{Name: it.Name, Quantity: it.Quantity, UnitAmount: it.UnitAmount, Virtual: it.Virtual})
	}
	if in.Billing != nil {
		o.Billing = *in.Billing
	}
	if len(o.Metadata) == 0 {
		o.Metadata = nil
	}
	return o, nil
}

// InsertOrder stores an order built by NewOrder with its order.created
// event, in tx. A second order with the same shop_order_id is refused
// with KindConflict "order_exists". The caller kicks the webhook runner
// (Kick) after its transaction commits.
func (s *Service) InsertOrder(ctx context.Context, tx kessai.Store, o *kessai.Order) error {
	if err := tx.CreateOrder(ctx, o); err != nil {
		if errors.Is(err, kessai.ErrDuplicate) {
			return &kessai.Error{Kind: kessai.KindConflict, Code: "order_exists", Field: "shop_order_id",
				Ja: "同じ shop_order_id の注文がすでにあります。", En: "An order with this shop_order_id already exists.", Err: err}
		}
		return storeErr(err, nil)
	}
	return s.Emit(ctx, tx, o.ShopID, kessai.EventOrderCreated, o)
}

// GetOrder returns one order of the shop.
func (s *Service) GetOrder(ctx context.Context, shopID, id string) (*kessai.Order, error) {
	if !plausibleID(id) {
		return nil, errOrderNotFound
	}
	o, err := s.store.GetOrder(ctx, shopID, id)
	if err != nil {
		return nil, storeErr(err, errOrderNotFound)
	}
	return normOrder(o), nil
}

// GetOrderByShopOrderID returns the order with the shop's own order id.
func (s *Service) GetOrderByShopOrderID(ctx context.Context, shopID, shopOrderID string) (*kessai.Order, error) {
	if shopOrderID == "" || len(shopOrderID) > MaxShopOrderIDLen {
		return nil, errOrderNotFound
	}
	o, err := s.store.GetOrderByShopOrderID(ctx, shopID, shopOrderID)
	if err != nil {
		return nil, storeErr(err, errOrderNotFound)
	}
	return normOrder(o), nil
}

// OrderList is one page of orders, newest first.
type OrderList struct {
	Orders  []kessai.Order
	HasMore bool
}

// ListOrders lists the shop's orders matching f, newest first. Page.Limit
// 0 means DefaultLimit; Page.After is the last order ID of the previous
// page.
func (s *Service) ListOrders(ctx context.Context, shopID string, f kessai.OrderFilter, page kessai.Page) (*OrderList, error) {
	page, err := checkPage(page, OrderIDPrefix)
	var v kessai.ValidationErrors
	errors.As(err, &v) // starts from the page's own problems, if any
	if f.Status != "" && !f.Status.Valid() {
		v.Add("status", "invalid_status", "status が正しくありません。", "status is not a valid order status.")
	}
	if f.CustomerID != "" && (len(f.CustomerID) > MaxCustomerIDLen || !idChars(f.CustomerID)) {
		v.Add("customer_id", "invalid_customer_id", "customer_id が正しくありません。", "customer_id is not valid.")
	}
	if len(f.ShopOrderID) > MaxShopOrderIDLen {
		v.Add("shop_order_id", "invalid_shop_order_id", "shop_order_id が長すぎます。", "shop_order_id is too long.")
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && !f.CreatedFrom.Before(f.CreatedTo) {
		v.Add("created_to", "invalid_range", "created_to は created_from より後の日時にしてください。", "created_to must be after created_from.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	os, err := s.store.ListOrders(ctx, shopID, f, kessai.Page{Limit: page.Limit + 1, After: page.After})
	if err != nil {
		return nil, storeErr(err, nil)
	}
	more := len(os) > page.Limit
	if more {
		os = os[:page.Limit]
	}
	for i := range os {
		normOrder(&os[i])
	}
	return &OrderList{Orders: nonNil(os), HasMore: more}, nil
}

// normOrder makes empty collections render as [] in JSON, whatever the
// store returned.
func normOrder(o *kessai.Order) *kessai.Order {
	if o.Items == nil {
		o.Items = []kessai.LineItem{}
	}
	return o
}

// printableASCII reports whether s is only 0x20–0x7E.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// idChars reports whether s is only [A-Za-z0-9_-].
func idChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// cleanText reports whether s is valid UTF-8 without control characters:
// such text ends up in gateway fields, e-mails and HTML.
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// validEmail accepts a bare addr-spec (no display name) with a dotted
// domain: what the gateway's BillingEmail and a receipt e-mail need.
func validEmail(s string) bool {
	if len(s) > MaxEmailLen || !printableASCII(s) || strings.ContainsAny(s, " <>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// validPhone accepts digits and hyphens (the gateway's TelNo is sent as
// typed, hyphens kept), with at least one digit.
func validPhone(s string) bool {
	if len(s) > MaxPhoneLen {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '-':
		default:
			return false
		}
	}
	return digits > 0
}

// sortedKeys returns m's keys in order, so error lists are deterministic.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
