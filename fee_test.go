package kessai

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"
)

func yen(v int64) *int64 { return &v }

// manualTable is the operator manual's example (features SET-16).
func manualTable() FeeTable {
	return FeeTable{
		{From: 0, To: yen(1100), Fee: 0},
		{From: 1101, To: yen(5500), Fee: 330},
		{From: 5501, To: nil, Fee: 550},
	}
}

func TestFeeForManualExample(t *testing.T) {
	table := manualTable()
	if v := table.Validate(); len(v) != 0 {
		t.Fatalf("manual table invalid: %v", v)
	}
	cases := []struct {
		total   int64
		fee     int64
		matched bool
	}{
		{0, 0, true},
		{1, 0, true},
		{1100, 0, true},
		{1101, 330, true},
		{3000, 330, true},
		{5500, 330, true},
		{5501, 550, true},
		{1_000_000_000, 550, true},
		{math.MaxInt64, 550, true},
		{-1, 0, false},
	}
	for _, c := range cases {
		fee, matched := table.FeeFor(c.total)
		if fee != c.fee || matched != c.matched {
			t.Errorf("FeeFor(%d) = %d, %v; want %d, %v", c.total, fee, matched, c.fee, c.matched)
		}
	}
}

func TestFeeForGapsAndBounds(t *testing.T) {
	table := FeeTable{
		{From: 1000, To: yen(1999), Fee: 100},
		{From: 3000, To: yen(3000), Fee: 300}, // a single-yen row
		{From: 5000, To: yen(9999), Fee: 500},
	}
	if v := table.Validate(); len(v) != 0 {
		t.Fatalf("gapped table invalid: %v", v)
	}
	cases := []struct {
		total   int64
		fee     int64
		matched bool
	}{
		{0, 0, false},     // below the first row
		{999, 0, false},   // just below
		{1000, 100, true}, // lower bound inclusive
		{1999, 100, true}, // upper bound inclusive
		{2000, 0, false},  // gap
		{2999, 0, false},  // gap
		{3000, 300, true}, // single-yen row
		{3001, 0, false},  // gap
		{9999, 500, true}, // last bounded row, upper edge
		{10000, 0, false}, // above a bounded last row
	}
	for _, c := range cases {
		fee, matched := table.FeeFor(c.total)
		if fee != c.fee || matched != c.matched {
			t.Errorf("FeeFor(%d) = %d, %v; want %d, %v", c.total, fee, matched, c.fee, c.matched)
		}
	}
	var empty FeeTable
	if fee, matched := empty.FeeFor(500); fee != 0 || matched {
		t.Errorf("empty table: %d, %v", fee, matched)
	}
	unbounded := FeeTable{{From: 0, Fee: 220}}
	if fee, matched := unbounded.FeeFor(math.MaxInt64); fee != 220 || !matched {
		t.Errorf("single unbounded row: %d, %v", fee, matched)
	}
}

// TestFeeForFirstMatch pins CVS-04's "walk the rows in saved order" for a
// table that Validate would refuse (overlapping): the first row wins.
func TestFeeForFirstMatch(t *testing.T) {
	table := FeeTable{{From: 0, To: nil, Fee: 1}, {From: 100, To: yen(200), Fee: 2}}
	if fee, _ := table.FeeFor(150); fee != 1 {
		t.Errorf("fee %d, want the first row's 1", fee)
	}
}

func TestFeeRowJSON(t *testing.T) {
	cases := []struct {
		in   string
		want FeeRow
	}{
		{`{"from":0,"to":1100,"fee":0}`, FeeRow{From: 0, To: yen(1100), Fee: 0}},
		{`{"from":5501,"to":null,"fee":550}`, FeeRow{From: 5501, Fee: 550}},
		{`{"from":5501,"to":"","fee":550}`, FeeRow{From: 5501, Fee: 550}},
		{`{"from":5501,"to":"*","fee":550}`, FeeRow{From: 5501, Fee: 550}},
		{`{"from":5501,"fee":550}`, FeeRow{From: 5501, Fee: 550}},
		{` { "fee" : 1 , "from" : -5 } `, FeeRow{From: -5, Fee: 1}}, // decodes; Validate refuses
	}
	for _, c := range cases {
		var got FeeRow
		if err := json.Unmarshal([]byte(c.in), &got); err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got.From != c.want.From || got.Fee != c.want.Fee || (got.To == nil) != (c.want.To == nil) || (got.To != nil && *got.To != *c.want.To) {
			t.Errorf("%s: got %+v", c.in, got)
		}
	}

	bad := []struct{ in, field string }{
		{`{"from":1.5,"to":2,"fee":0}`, "from"},
		{`{"from":"100","to":2,"fee":0}`, "from"},
		{`{"from":1e3,"fee":0}`, "from"},
		{`{"from":0,"to":"1100","fee":0}`, "to"},
		{`{"from":0,"to":"abc","fee":0}`, "to"},
		{`{"from":0,"to":true,"fee":0}`, "to"},
		{`{"from":0,"to":1,"fee":null}`, "fee"},
		{`{"from":0,"to":1,"fee":99999999999999999999}`, "fee"},
		{`{"form":0,"to":1,"fee":0}`, "form"},
		{`[0,1,0]`, ""},
		{`null`, ""},
	}
	for _, c := range bad {
		var got FeeRow
		err := json.Unmarshal([]byte(c.in), &got)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v, want *Error", c.in, err)
			continue
		}
		if e.Field != c.field || e.Ja == "" || e.En == "" || e.Kind != KindInvalid {
			t.Errorf("%s: field %q (want %q), ja %q, en %q", c.in, e.Field, c.field, e.Ja, e.En)
		}
	}

	out, err := json.Marshal(manualTable())
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"from":0,"to":1100,"fee":0},{"from":1101,"to":5500,"fee":330},{"from":5501,"to":null,"fee":550}]`
	if string(out) != want {
		t.Errorf("marshal:\n got %s\nwant %s", out, want)
	}
	var back FeeTable
	if err := json.Unmarshal(out, &back); err != nil || len(back) != 3 || back[2].To != nil || *back[1].To != 5500 {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestFeeTableValidate(t *testing.T) {
	cases := []struct {
		name  string
		table FeeTable
		field string
		code  string
	}{
		{"negative from", FeeTable{{From: -1, To: yen(10), Fee: 0}}, "fee_rows[0].from", "out_of_range"},
		{"to below from", FeeTable{{From: 0, To: yen(10)}, {From: 100, To: yen(99), Fee: 5}}, "fee_rows[1].to", "out_of_range"},
		{"negative fee", FeeTable{{From: 0, To: nil, Fee: -330}}, "fee_rows[0].fee", "out_of_range"},
		{"overlap", FeeTable{{From: 0, To: yen(1100)}, {From: 1100, To: nil, Fee: 330}}, "fee_rows[1].from", "overlap"},
		{"not ascending", FeeTable{{From: 1101, To: yen(5500), Fee: 330}, {From: 0, To: yen(1100)}}, "fee_rows[1].from", "not_ascending"},
		{"row after unbounded", FeeTable{{From: 0, To: nil}, {From: 5000, To: yen(6000), Fee: 1}}, "fee_rows[1].from", "overlap"},
		{"too many rows", make(FeeTable, MaxFeeRows+1), "fee_rows", "too_many_rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.table.Validate()
			if len(v) == 0 {
				t.Fatal("accepted")
			}
			assertBilingual(t, v)
			for _, e := range v {
				if e.Field == c.field && e.Code == c.code {
					return
				}
			}
			t.Errorf("no %s error on %s: %v", c.code, c.field, v)
		})
	}

	valid := []FeeTable{
		nil,
		{},
		manualTable(),
		{{From: 0, To: yen(0), Fee: 0}, {From: 1, Fee: 10}},
		{{From: 500, To: yen(600), Fee: 5}}, // does not start at 0: totals below pay nothing
	}
	for i, table := range valid {
		if v := table.Validate(); len(v) != 0 {
			t.Errorf("valid table %d refused: %v", i, v)
		}
	}
}

// assertBilingual checks each error has a Japanese and an English message
// (and a code; the field is empty only for an error about the whole body).
func assertBilingual(t *testing.T, v ValidationErrors) {
	t.Helper()
	for _, e := range v {
		if e.Ja == "" || e.En == "" || e.Code == "" || e.Kind != KindInvalid {
			t.Errorf("incomplete error %+v", e)
			continue
		}
		if !hasNonASCII(e.Ja) {
			t.Errorf("%s: Japanese message is not Japanese: %q", e.Field, e.Ja)
		}
		if hasNonASCII(e.En) {
			t.Errorf("%s: English message has non-ASCII text: %q", e.Field, e.En)
		}
	}
}

func hasNonASCII(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r > 0x7f }) >= 0
}

// randomCoveringTable returns a valid table whose rows cover 0…∞ with no
// gap: contiguous bounded rows and an unbounded last row.
func randomCoveringTable(r *rand.Rand) FeeTable {
	n := 1 + r.Intn(8)
	table := make(FeeTable, n)
	from := int64(0)
	for i := range n - 1 {
		to := from + r.Int63n(20_000) // width 1 … 20,000 yen (to may equal from)
		table[i] = FeeRow{From: from, To: yen(to), Fee: r.Int63n(1_000)}
		from = to + 1
	}
	table[n-1] = FeeRow{From: from, Fee: r.Int63n(1_000)}
	return table
}

// TestFeeForProperty: for any valid table covering 0…∞, exactly one row
// contains any total ≥ 0, and FeeFor returns that row's fee.
func TestFeeForProperty(t *testing.T) {
	r := rand.New(rand.NewSource(20240604))
	for iter := range 2000 {
		table := randomCoveringTable(r)
		if v := table.Validate(); len(v) != 0 {
			t.Fatalf("generated table %d invalid: %v (%+v)", iter, v, table)
		}
		// Every bound, its neighbours, and random totals.
		var totals []int64
		for _, row := range table {
			totals = append(totals, row.From, row.From+1)
			if row.To != nil {
				totals = append(totals, *row.To, *row.To+1)
			}
		}
		for range 20 {
			totals = append(totals, r.Int63n(200_000), r.Int63())
		}
		for _, total := range totals {
			hits := 0
			var want int64
			for _, row := range table {
				if row.Contains(total) {
					hits++
					want = row.Fee
				}
			}
			if hits != 1 {
				t.Fatalf("total %d is in %d rows of %+v", total, hits, table)
			}
			fee, matched := table.FeeFor(total)
			if !matched || fee != want {
				t.Fatalf("FeeFor(%d) = %d, %v; want %d", total, fee, matched, want)
			}
		}
	}
}

// TestFeeForValidTablesNeverAmbiguous: in any table Validate accepts
// (gaps allowed) a total is in at most one row, so the order of matching
// cannot change the fee.
func TestFeeForValidTablesNeverAmbiguous(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	checked := 0
	for range 20_000 {
		n := r.Intn(5)
		table := make(FeeTable, n)
		for i := range table {
			table[i] = FeeRow{From: r.Int63n(100) - 5, Fee: r.Int63n(10)}
			if r.Intn(4) > 0 {
				table[i].To = yen(r.Int63n(100) - 5)
			}
		}
		if len(table.Validate()) != 0 {
			continue
		}
		checked++
		for total := int64(-10); total <= 110; total++ {
			hits := 0
			for _, row := range table {
				if row.Contains(total) {
					hits++
				}
			}
			if hits > 1 {
				t.Fatalf("valid table %+v has %d rows containing %d", table, hits, total)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d valid random tables: the generator is too strict to mean anything", checked)
	}
}

// FuzzFeeRowJSON: decoding never panics; whatever decodes re-encodes to
// a row that decodes to the same value.
func FuzzFeeRowJSON(f *testing.F) {
	f.Add(`{"from":0,"to":1100,"fee":0}`)
	f.Add(`{"from":5501,"to":"*","fee":550}`)
	f.Add(`{"from":1,"to":"","fee":2}`)
	f.Add(`{"from":-1,"to":null}`)
	f.Add(`{"form":1}`)
	f.Fuzz(func(t *testing.T, in string) {
		var r FeeRow
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back FeeRow
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if back.From != r.From || back.Fee != r.Fee || (back.To == nil) != (r.To == nil) || (r.To != nil && *back.To != *r.To) {
			t.Fatalf("round trip %+v → %s → %+v", r, out, back)
		}
	})
}
