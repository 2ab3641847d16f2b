package card

import (
	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// OrderStatusAfterPayment is the order status after a successful card
// charge (CARD-15, SET-12, spec §12.6): at checkout, for a subscription
// renewal, or for an operator's new charge (ADMIN-09). It is completed only
// if completedSetting (注文ステータス = 完了; for renewals the same setting,
// as in the plugins) AND the operation was 1Gathering (the sale is
// recorded; after a 1Auth the goods are not paid for yet) AND the order
// has at least one item and every item is virtual (nothing to ship);
// otherwise processing. op is the operation actually sent: the processing
// type for checkout, 定期購入処理区分 for renewals.
//
// Unlike the plugins, which apply the rule through a global hook to every
// gateway's orders and leave WooCommerce's own "virtual and downloadable →
// completed" in place, kessai applies exactly this rule and only to its
// card orders. Follow-up operations (capture, cancel, amount change,
// re-auth) never change the order status (ADMIN-05 … ADMIN-08, ADMIN-17);
// a declined charge makes the order kessai.OrderFailed.
func OrderStatusAfterPayment(op escott.OperateID, completedSetting bool, o *kessai.Order) kessai.OrderStatus {
	if completedSetting && op == escott.OpGathering && o != nil && o.AllVirtual() {
		return kessai.OrderCompleted
	}
	return kessai.OrderProcessing
}

// OrderStatusAfterCollectionPaid is the order status once a collection is
// paid (CVS-10, SET-17): completed only if completedSetting (入金後「完了」)
// AND the order has items and every item is virtual; otherwise processing.
// It applies to every path that learns of the payment — the notification
// (NOTIFY-02) and reconciliation by 2Ref (ADMIN-12, design A-08) alike,
// where the plugin always used processing. (Registration at checkout puts
// the order on hold, kessai.OrderOnHold; a registration from the admin
// console leaves the status alone, ADMIN-15.)
func OrderStatusAfterCollectionPaid(completedSetting bool, o *kessai.Order) kessai.OrderStatus {
	if completedSetting && o != nil && o.AllVirtual() {
		return kessai.OrderCompleted
	}
	return kessai.OrderProcessing
}

// ShopperFailure is the message the shopper reads after a failed payment,
// in Japanese and English, chosen by the codes' class (ERR-03, spec
// §14.9): it delegates to escott.ShopperMessage, which puts "do not pay
// again" first for a lost answer (NG) and names the field to correct for
// input errors. The codes themselves are for the log and the operator
// (escott.DescribeCodes), never for the shopper.
func ShopperFailure(codes []string) (ja, en string) {
	return escott.ShopperMessage(codes)
}
