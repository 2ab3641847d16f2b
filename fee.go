package kessai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// MaxFeeRows bounds the settlement fee table. The manual's example has three
// rows; a cap keeps a pasted or scripted table from growing without limit.
const MaxFeeRows = 100

// FeeRow is one row of the collection settlement fee table (決済手数料,
// features SET-16 / CVS-04): orders whose total (items, shipping and tax,
// before the fee) lies in From…To pay Fee yen on top, tax included.
//
// In JSON a row is {"from": 1101, "to": 5500, "fee": 330}. "to" may be a
// number, null, "" or "*": the last three mean no upper bound (design
// A-04; the plugin shows "*" as the placeholder of an empty cell, so an
// operator typing it means "and above"). It is written back as null.
type FeeRow struct {
	From int64 `json:"from"`
	// To is the inclusive upper bound; nil means no upper bound.
	To  *int64 `json:"to"`
	Fee int64  `json:"fee"`
}

// Contains reports whether total falls in the row's range.
func (r FeeRow) Contains(total int64) bool {
	return r.From <= total && (r.To == nil || total <= *r.To)
}

// UnmarshalJSON decodes a row strictly: the keys are exactly from, to and
// fee (an unknown key is an error rather than silently dropped, so a typo
// such as "form" is caught), amounts are integers. Errors are *Error
// values whose Field is the key ("from", "to", "fee", or the unknown key),
// so a caller decoding a table can prefix the row's path.
func (r *FeeRow) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return FieldError("", "invalid_type", "手数料の行はオブジェクトで指定してください。", "a fee row must be an object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return FieldError("", "invalid_type", "手数料の行はオブジェクトで指定してください。", "a fee row must be an object")
	}
	var row FeeRow
	for _, k := range sortedKeys(m) {
		raw := m[k]
		switch k {
		case "from":
			v, err := decodeYen(k, raw)
			if err != nil {
				return err
			}
			row.From = v
		case "fee":
			v, err := decodeYen(k, raw)
			if err != nil {
				return err
			}
			row.Fee = v
		case "to":
			v, err := decodeUpperBound(raw)
			if err != nil {
				return err
			}
			row.To = v
		default:
			return unknownFieldError(k)
		}
	}
	*r = row
	return nil
}

// decodeYen decodes a JSON integer amount. Fractions and exponents are
// refused: money is whole yen (design principle 2).
func decodeYen(field string, raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, FieldError(field, "invalid_type", "金額は整数（円）で入力してください。", "must be an integer number of yen")
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, FieldError(field, "invalid_type", "金額は整数（円）で入力してください。", "must be an integer number of yen")
	}
	return v, nil
}

// decodeUpperBound decodes "to": a number, or null / "" / "*" for no bound.
func decodeUpperBound(raw json.RawMessage) (*int64, error) {
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil && (s == "" || s == "*") {
			return nil, nil
		}
		return nil, FieldError("to", "invalid_type", "上限は整数（円）、空欄または「*」で入力してください。", `must be an integer number of yen, "" or "*" (no upper bound)`)
	}
	v, err := decodeYen("to", raw)
	if err != nil {
		return nil, FieldError("to", "invalid_type", "上限は整数（円）、空欄または「*」で入力してください。", `must be an integer number of yen, "" or "*" (no upper bound)`)
	}
	return &v, nil
}

// FeeTable is the ordered list of fee rows. Order matters: rows are matched
// in the order saved (CVS-04), and validation requires that order to be
// ascending, so "first match" and "the one match" are the same thing.
type FeeTable []FeeRow

// FeeFor returns the fee for an order total (items, shipping and tax, before
// the fee): the fee of the first row containing total. With no such row
// (a gap, a total below the first row or above a bounded last row) the fee
// is 0 and matched is false, as in the plugin.
func (t FeeTable) FeeFor(total int64) (fee int64, matched bool) {
	for _, r := range t {
		if r.Contains(total) {
			return r.Fee, true
		}
	}
	return 0, false
}

// Validate checks the table (features SET-16, design A-04): from ≥ 0,
// to ≥ from (or no bound), fee ≥ 0, rows ascending and not overlapping,
// and only the last row may be unbounded. Gaps between rows are allowed
// (totals in a gap pay no fee). Field names are "fee_rows[i].from" and so
// on; Settings.Validate reports them under "collection.".
func (t FeeTable) Validate() ValidationErrors {
	var v ValidationErrors
	t.validateAt("fee_rows", &v)
	return v
}

func (t FeeTable) validateAt(path string, v *ValidationErrors) {
	if len(t) > MaxFeeRows {
		v.Add(path, "too_many_rows",
			fmt.Sprintf("手数料の行は%d行までです。", MaxFeeRows),
			fmt.Sprintf("at most %d fee rows are allowed", MaxFeeRows))
		return
	}
	for i, r := range t {
		at := fmt.Sprintf("%s[%d]", path, i)
		if r.From < 0 {
			v.Add(at+".from", "out_of_range", "「合計金額（～から）」は0以上で入力してください。", "from must be 0 or more")
		}
		if r.To != nil && *r.To < r.From {
			v.Add(at+".to", "out_of_range", "「合計金額（～まで）」は「合計金額（～から）」以上にしてください。", "to must be greater than or equal to from")
		}
		if r.Fee < 0 {
			v.Add(at+".fee", "out_of_range", "決済手数料は0以上で入力してください。", "fee must be 0 or more")
		}
		if i == 0 {
			continue
		}
		prev := t[i-1]
		switch {
		case prev.To == nil:
			v.Add(at+".from", "overlap", "前の行に上限がないため、この行は重なります。上限なしは最後の行だけにしてください。",
				"the previous row has no upper bound, so this row overlaps it; only the last row may be unbounded")
		case r.From < prev.From:
			v.Add(at+".from", "not_ascending", "行は金額の小さい順に並べてください。", "rows must be in ascending order of amount")
		case r.From <= *prev.To:
			v.Add(at+".from", "overlap", "前の行と金額の範囲が重なっています。", "overlaps the range of the previous row")
		}
	}
}
