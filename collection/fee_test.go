package collection

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kessai/kessai"
)

func yen(v int64) *int64 { return &v }

// manualTable is the operator manual's example table (SET-16, CVS-04):
// 0–1100 → 0, 1101–5500 → 330, 5501– → 550.
func manualTable() kessai.FeeTable {
	return kessai.FeeTable{
		{From: 0, To: yen(1100), Fee: 0},
		{From: 1101, To: yen(5500), Fee: 330},
		{From: 5501, Fee: 550},
	}
}

// order is a collection order of amount yen: one product of items worth
// and the rest shipping and tax.
func order(amount int64) *kessai.Order {
	return &kessai.Order{
		ID:     "ord_1",
		Amount: amount,
		Items:  []kessai.LineItem{{Name: "帽子", Quantity: 1, UnitAmount: amount * 9 / 10}},
	}
}

// TestApplyFeeBoundaries walks the manual's examples (CVS-04: 1100 → 0,
// 1101 → 330, 5500 → 330, 5501 → 550) and the ends of the table.
func TestApplyFeeBoundaries(t *testing.T) {
	for _, c := range []struct {
		total, fee int64
	}{
		{0, 0}, // CVS-12: a zero total gets no fee, even from a row starting at 0
		{1, 0},
		{1100, 0},
		{1101, 330},
		{3000, 330},
		{5500, 330},
		{5501, 550},
		{9_999_999, 550}, // the unbounded last row
	} {
		o := order(c.total)
		fee, changed := ApplyFee(o, manualTable(), true)
		if fee != c.fee || changed != (c.fee > 0) {
			t.Errorf("total %d: ApplyFee = %d, %v; want %d, %v", c.total, fee, changed, c.fee, c.fee > 0)
		}
		if o.Amount != c.total+c.fee {
			t.Errorf("total %d: Amount = %d, want %d", c.total, o.Amount, c.total+c.fee)
		}
		if got := CurrentFee(o); got != c.fee {
			t.Errorf("total %d: CurrentFee = %d", c.total, got)
		}
		if got := BaseAmount(o); got != c.total {
			t.Errorf("total %d: BaseAmount = %d", c.total, got)
		}
		wantLines := 1
		if c.fee > 0 {
			wantLines = 2
			if last := o.Items[len(o.Items)-1]; last != FeeLine(c.fee) {
				t.Errorf("total %d: fee line = %+v", c.total, last)
			}
		}
		if len(o.Items) != wantLines {
			t.Errorf("total %d: %d lines, want %d", c.total, len(o.Items), wantLines)
		}
	}
}

// TestApplyFeeTwice is design A-04 / CVS-04's note: a retried order gets
// the fee once.
func TestApplyFeeTwice(t *testing.T) {
	o := order(3000)
	if fee, changed := ApplyFee(o, manualTable(), true); fee != 330 || !changed {
		t.Fatalf("first ApplyFee = %d, %v", fee, changed)
	}
	before := *o
	before.Items = slices.Clone(o.Items)
	for i := range 3 {
		fee, changed := ApplyFee(o, manualTable(), true)
		if fee != 330 || changed {
			t.Fatalf("ApplyFee #%d = %d, %v; want 330, false", i+2, fee, changed)
		}
	}
	if o.Amount != 3330 || !slices.Equal(o.Items, before.Items) {
		t.Fatalf("order after retries: amount %d, items %+v", o.Amount, o.Items)
	}
}

// TestApplyFeeRecomputed: the fee is computed on the total before the fee,
// so an order whose fee would move it into the next row is not bumped
// (5300 + 330 = 5630 is above 5500, but the fee stays 330), and a settings
// change between attempts replaces the fee rather than adding to it.
func TestApplyFeeRecomputed(t *testing.T) {
	o := order(5300)
	ApplyFee(o, manualTable(), true)
	if fee, changed := ApplyFee(o, manualTable(), true); fee != 330 || changed || o.Amount != 5630 {
		t.Fatalf("reapplied near a boundary: fee %d changed %v amount %d", fee, changed, o.Amount)
	}

	dearer := kessai.FeeTable{{From: 0, Fee: 440}}
	fee, changed := ApplyFee(o, dearer, true)
	if fee != 440 || !changed || o.Amount != 5740 || CurrentFee(o) != 440 || len(o.Items) != 2 {
		t.Fatalf("new table: fee %d changed %v amount %d items %+v", fee, changed, o.Amount, o.Items)
	}
}

// TestApplyFeeRemoved: the fee line goes when the toggle is off or the
// table gives 0 for the order (CVS-04: a fee line only when fee > 0).
func TestApplyFeeRemoved(t *testing.T) {
	for _, c := range []struct {
		name    string
		table   kessai.FeeTable
		enabled bool
	}{
		{"disabled", manualTable(), false},
		{"zero row", kessai.FeeTable{{From: 0, Fee: 0}}, true},
		{"no row matches", kessai.FeeTable{{From: 10_000, Fee: 550}}, true},
		{"empty table", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := order(3000)
			ApplyFee(o, manualTable(), true)
			fee, changed := ApplyFee(o, c.table, c.enabled)
			if fee != 0 || !changed || o.Amount != 3000 || CurrentFee(o) != 0 || len(o.Items) != 1 {
				t.Fatalf("fee %d changed %v amount %d items %+v", fee, changed, o.Amount, o.Items)
			}
			if fee, changed := ApplyFee(o, c.table, c.enabled); fee != 0 || changed {
				t.Fatalf("second call: fee %d changed %v", fee, changed)
			}
		})
	}
}

// TestApplyFeeDisabledUntouched: with the fee off, an order without a fee
// line is not changed at all.
func TestApplyFeeDisabledUntouched(t *testing.T) {
	o := order(3000)
	items := o.Items
	fee, changed := ApplyFee(o, manualTable(), false)
	if fee != 0 || changed || o.Amount != 3000 || &o.Items[0] != &items[0] {
		t.Fatalf("fee %d changed %v amount %d", fee, changed, o.Amount)
	}
}

// TestApplyFeeRepairsLines: several fee lines, or one with the wrong
// shape, become the one right line; products keep their order and the
// caller's old slice is not written to.
func TestApplyFeeRepairsLines(t *testing.T) {
	o := &kessai.Order{
		Amount: 3000 + 100 + 200,
		Items: []kessai.LineItem{
			{Name: "a", Quantity: 1, UnitAmount: 1000},
			{Name: "fee?", Quantity: 1, UnitAmount: 100, Fee: true},
			{Name: "b", Quantity: 2, UnitAmount: 500},
			{Name: FeeLineName, Quantity: 2, UnitAmount: 100, Fee: true},
		},
	}
	old := o.Items
	oldCopy := slices.Clone(old)
	fee, changed := ApplyFee(o, manualTable(), true)
	if fee != 330 || !changed || o.Amount != 3330 {
		t.Fatalf("fee %d changed %v amount %d", fee, changed, o.Amount)
	}
	want := []kessai.LineItem{oldCopy[0], oldCopy[2], FeeLine(330)}
	if !slices.Equal(o.Items, want) {
		t.Fatalf("items = %+v, want %+v", o.Items, want)
	}
	if !slices.Equal(old, oldCopy) {
		t.Fatalf("the caller's slice was modified: %+v", old)
	}
}

// TestApplyFeeAllVirtual: the fee line never stops an order of virtual
// items from completing (CVS-10), and never makes a physical order look
// virtual.
func TestApplyFeeAllVirtual(t *testing.T) {
	o := order(3000)
	o.Items[0].Virtual = true
	ApplyFee(o, manualTable(), true)
	if !o.AllVirtual() {
		t.Error("virtual order with a fee line is not AllVirtual")
	}
	p := order(3000)
	ApplyFee(p, manualTable(), true)
	if p.AllVirtual() {
		t.Error("physical order with a fee line is AllVirtual")
	}
}

// TestApplyFeeSaturates: an absurd fee does not wrap the amount negative.
func TestApplyFeeSaturates(t *testing.T) {
	o := order(1000)
	fee, _ := ApplyFee(o, kessai.FeeTable{{From: 0, Fee: math.MaxInt64}}, true)
	if fee != math.MaxInt64-1000 || o.Amount != math.MaxInt64 || BaseAmount(o) != 1000 {
		t.Fatalf("fee %d amount %d", fee, o.Amount)
	}
	if fee, _ := ApplyFee(o, manualTable(), true); fee != 0 || o.Amount != 1000 {
		t.Fatalf("after saturation: fee %d amount %d", fee, o.Amount)
	}
}

// TestApplyFeeProperty: for random valid tables and totals, ApplyFee adds
// exactly the table's fee once, however many times it runs.
func TestApplyFeeProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var table kessai.FeeTable
		from := int64(rng.IntN(2000))
		for i, n := 0, 1+rng.IntN(4); i < n; i++ {
			to := from + int64(rng.IntN(5000))
			row := kessai.FeeRow{From: from, To: yen(to), Fee: int64(rng.IntN(4)) * 110}
			if i == n-1 && rng.IntN(2) == 0 {
				row.To = nil
			}
			table = append(table, row)
			from = to + 1 + int64(rng.IntN(3)) // sometimes a gap
		}
		if v := table.Validate(); len(v) != 0 {
			t.Fatalf("generated table invalid: %v", v)
		}
		total := int64(rng.IntN(20_000))
		want, _ := table.FeeFor(total)
		if total <= 0 {
			want = 0
		}
		o := order(total)
		for range 1 + rng.IntN(3) {
			ApplyFee(o, table, true)
		}
		if CurrentFee(o) != want || o.Amount != total+want {
			t.Fatalf("table %+v total %d: fee %d amount %d, want fee %d", table, total, CurrentFee(o), o.Amount, want)
		}
	}
}
