package collection

import (
	"math"

	"github.com/kessai/kessai"
)

// FeeLineName is the name of the settlement fee line, the plugins' label
// 「決済手数料」 (CVS-04). It is Japanese in every language, like the line
// the plugins add, because it appears on the order the shop keeps.
const FeeLineName = "決済手数料"

// FeeLine returns the order line carrying a settlement fee: one unit of
// fee yen, tax included (the fee table is tax-inclusive, SET-16, so no tax
// is computed on it), marked Fee so that it is told apart from products
// and Virtual because nothing is shipped for it (it never keeps an order
// of downloads from completing, CVS-10).
func FeeLine(fee int64) kessai.LineItem {
	return kessai.LineItem{Name: FeeLineName, Quantity: 1, UnitAmount: fee, Virtual: true, Fee: true}
}

// CurrentFee is the settlement fee already on the order: the total of its
// fee lines (0 when there is none).
func CurrentFee(o *kessai.Order) int64 {
	var fee int64
	for _, it := range o.Items {
		if it.Fee {
			fee += it.Total()
		}
	}
	return fee
}

// BaseAmount is the order total before the settlement fee: Amount less
// the fee lines. It is what the fee table is matched on (spec §10.8:
// items, shipping and tax, before the fee).
func BaseAmount(o *kessai.Order) int64 {
	return o.Amount - CurrentFee(o)
}

// ApplyFee sets the settlement fee of a collection order (CVS-04, design
// A-04) and reports the fee now on the order and whether the order was
// changed (so the caller knows whether to save it).
//
// The fee is looked up in table on the order total before any fee line
// (BaseAmount), and the order ends with exactly one fee line of that fee
// and Amount = base + fee, or with no fee line and Amount = base when the
// fee is 0: the toggle is off (enabled false), no row matches, the
// matching row's fee is 0, or the base total is 0 or less — a zero-total
// order is marked paid without a registration (CVS-12) and must not
// acquire a fee that would make the shopper pay for nothing.
//
// Because the base excludes any fee line already there, applying the fee
// again — a retried checkout, a second registration attempt, a settings
// change between attempts — recomputes the one fee rather than adding a
// second (design A-04: "the fee is added once, even when an order is
// retried"); an order whose single fee line is already right is left
// untouched (changed false), and several fee lines (which kessai never
// writes) collapse into one. A new or replaced fee line goes last, after
// the products, as the plugins show it in the totals.
//
// Amounts are bounded far below int64 by order validation (7 digits);
// should a configured fee push the sum past math.MaxInt64, the fee is
// cut so that Amount saturates at math.MaxInt64 rather than wrapping to a
// negative total (the gateway call then refuses it), and Amount is still
// base + fee, so the next call finds the same base.
func ApplyFee(o *kessai.Order, table kessai.FeeTable, enabled bool) (fee int64, changed bool) {
	base := BaseAmount(o)
	if enabled && base > 0 {
		fee, _ = table.FeeFor(base)
	}
	if fee < 0 { // a validated table has none; never let a fee lower a total
		fee = 0
	}
	if base > 0 && fee > math.MaxInt64-base {
		fee = math.MaxInt64 - base // see the note on saturation above
	}

	// Is the order already as it should be?
	var fees []int // indexes of fee lines
	for i, it := range o.Items {
		if it.Fee {
			fees = append(fees, i)
		}
	}
	switch {
	case fee == 0 && len(fees) == 0:
		return 0, false
	case fee > 0 && len(fees) == 1 && o.Items[fees[0]] == FeeLine(fee):
		return fee, false
	}

	// Rebuild the items in a new slice: the caller may hold another view
	// of the old backing array.
	items := make([]kessai.LineItem, 0, len(o.Items)+1)
	for _, it := range o.Items {
		if !it.Fee {
			items = append(items, it)
		}
	}
	if fee > 0 {
		items = append(items, FeeLine(fee))
	}
	o.Items = items
	o.Amount = base + fee
	return fee, true
}
