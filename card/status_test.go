package card

import (
	"strings"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Orders for the status matrices.
var (
	virtualOnly  = &kessai.Order{Items: []kessai.LineItem{{Name: "e-book", Quantity: 1, UnitAmount: 1000, Virtual: true}, {Name: "licence", Quantity: 2, UnitAmount: 500, Virtual: true}}}
	mixed        = &kessai.Order{Items: []kessai.LineItem{{Name: "e-book", Quantity: 1, UnitAmount: 1000, Virtual: true}, {Name: "mug", Quantity: 1, UnitAmount: 1500}}}
	physicalOnly = &kessai.Order{Items: []kessai.LineItem{{Name: "mug", Quantity: 1, UnitAmount: 1500}}}
	noItems      = &kessai.Order{}
	// A settlement fee line is kessai's own and not a product: it neither
	// makes an order virtual nor physical.
	virtualWithFee = &kessai.Order{Items: []kessai.LineItem{{Name: "e-book", Quantity: 1, UnitAmount: 1000, Virtual: true}, {Name: "決済手数料", Quantity: 1, UnitAmount: 220, Fee: true}}}
	feeOnly        = &kessai.Order{Items: []kessai.LineItem{{Name: "決済手数料", Quantity: 1, UnitAmount: 220, Fee: true}}}
)

// TestOrderStatusAfterPayment is the CARD-15 matrix (SET-12, spec §12.6):
// completed only with the 完了 setting AND 1Gathering AND every item
// virtual; every other combination is processing.
func TestOrderStatusAfterPayment(t *testing.T) {
	const (
		P = kessai.OrderProcessing
		C = kessai.OrderCompleted
	)
	orders := []struct {
		name string
		o    *kessai.Order
	}{{"virtual only", virtualOnly}, {"mixed", mixed}, {"physical only", physicalOnly}, {"no items", noItems},
		{"virtual with fee line", virtualWithFee}, {"fee line only", feeOnly}, {"nil order", nil}}
	tests := []struct {
		op        escott.OperateID
		completed bool
		// want is indexed like orders.
		want [7]kessai.OrderStatus
	}{
		{escott.OpGathering, true, [7]kessai.OrderStatus{C, P, P, P, C, P, P}},
		{escott.OpGathering, false, [7]kessai.OrderStatus{P, P, P, P, P, P, P}},
		{escott.OpAuth, true, [7]kessai.OrderStatus{P, P, P, P, P, P, P}},
		{escott.OpAuth, false, [7]kessai.OrderStatus{P, P, P, P, P, P, P}},
		// Follow-ups never complete an order (ADMIN-05: status unchanged).
		{escott.OpCapture, true, [7]kessai.OrderStatus{P, P, P, P, P, P, P}},
		{escott.OpReAuth, true, [7]kessai.OrderStatus{P, P, P, P, P, P, P}},
		{"", true, [7]kessai.OrderStatus{P, P, P, P, P, P, P}},
	}
	for _, tt := range tests {
		for i, o := range orders {
			if got := OrderStatusAfterPayment(tt.op, tt.completed, o.o); got != tt.want[i] {
				t.Errorf("CARD-15: op %q, completed setting %v, %s: %s, want %s", tt.op, tt.completed, o.name, got, tt.want[i])
			}
		}
	}
}

// TestOrderStatusAfterCollectionPaid is the CVS-10 / SET-17 matrix, for
// the notification and the reconciliation path alike (A-08, ADMIN-12).
func TestOrderStatusAfterCollectionPaid(t *testing.T) {
	tests := []struct {
		name      string
		completed bool
		o         *kessai.Order
		want      kessai.OrderStatus
	}{
		{"完了 setting, virtual only", true, virtualOnly, kessai.OrderCompleted},
		{"完了 setting, virtual plus the settlement fee", true, virtualWithFee, kessai.OrderCompleted},
		{"完了 setting, mixed", true, mixed, kessai.OrderProcessing},
		{"完了 setting, physical", true, physicalOnly, kessai.OrderProcessing},
		{"完了 setting, no items", true, noItems, kessai.OrderProcessing},
		{"完了 setting, nil order", true, nil, kessai.OrderProcessing},
		{"処理中 setting, virtual only", false, virtualOnly, kessai.OrderProcessing},
		{"処理中 setting, physical", false, physicalOnly, kessai.OrderProcessing},
	}
	for _, tt := range tests {
		if got := OrderStatusAfterCollectionPaid(tt.completed, tt.o); got != tt.want {
			t.Errorf("CVS-10 %s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestShopperFailure: the shopper's message is escott's ERR-03 choice by
// class, in both languages.
func TestShopperFailure(t *testing.T) {
	for _, codes := range [][]string{nil, {"G12"}, {"K20", "K21"}, {escott.CodeNG}, {"P51"}, {"U01"}, {"ZZZ"}, {"OK"}} {
		ja, en := ShopperFailure(codes)
		wja, wen := escott.ShopperMessage(codes)
		if ja != wja || en != wen || ja == "" || en == "" {
			t.Errorf("ShopperFailure(%v) = %q / %q, want %q / %q", codes, ja, en, wja, wen)
		}
	}
	// A lost answer must tell the shopper not to pay again (gap #25).
	if ja, _ := ShopperFailure([]string{escott.CodeNG}); !strings.Contains(ja, "再度のお支払い操作はしないでください") {
		t.Errorf("NG: %q", ja)
	}
}
