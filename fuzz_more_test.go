package kessai

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Fuzz targets of the domain package's parsers of outside input: the
// stored settings document (ParseSettings, what every request reads), fee
// tables as clients send them, and the ids that arrive in URLs and
// cursors. FuzzApply (the settings merge patch) and FuzzFeeRowJSON (one
// fee row) are in settings_test.go and fee_test.go. Committed corpora
// are in testdata/fuzz/<FuzzName>/.

// FuzzParseSettings: any stored document either loads or is an error
// (never a panic); what loads writes back to a document that loads to
// the same settings, and its redacted view tells only whether each
// secret is set (and the last two characters of a long password).
func FuzzParseSettings(f *testing.F) {
	full, _ := json.Marshal(filled())
	f.Add(string(full))
	f.Add(`{}`)
	f.Add(`null`)
	f.Add(`{"card":{"installments":"bonus","fee_rows":1},"collection":{"fee_rows":[{"from":0,"to":"*","fee":1}]}}`)
	f.Add(`{"collection":{"fee_rows":[null]}}`)
	f.Add(`{"collection":{"fee_rows":[{"from":1e3}]}}`)
	f.Add(`{"plan":7,"future_field":{"x":[1,2]}}`)
	f.Add(`{"card":{"aes_key":"\u0000\ud800"}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, doc string) {
		s, err := ParseSettings([]byte(doc))
		if err != nil {
			if !reflect.DeepEqual(s, Settings{}) {
				t.Fatal("settings returned with an error")
			}
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := ParseSettings(out)
		if err != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("document %s does not round-trip: %v\n%+v\n%+v", out, err, s, back)
		}
		_ = s.Validate()
		_, _ = s.CardAvailable()
		_, _ = s.CollectionAvailable()
		if c, err := s.CardCipher(); (err == nil) != (c != nil) {
			t.Fatalf("CardCipher = %v, %v", c, err)
		}
		r := s.Redacted()
		for _, x := range []struct {
			secret Secret
			state  SecretState
			hint   bool
		}{
			{s.Card.MerchantPassTest, r.Card.MerchantPassTest, true},
			{s.Card.MerchantPassProd, r.Card.MerchantPassProd, true},
			{s.Card.TokenAuthCode, r.Card.TokenAuthCode, true},
			{s.Card.AESKey, r.Card.AESKey, false},
			{s.Card.AESIV, r.Card.AESIV, false},
			{s.Collection.MerchantPassTest, r.Collection.MerchantPassTest, true},
			{s.Collection.MerchantPassProd, r.Collection.MerchantPassProd, true},
		} {
			want := SecretState{Set: x.secret != ""}
			if x.hint && len(x.secret) >= secretHintMin {
				want.Hint = string(x.secret[len(x.secret)-2:])
			}
			if x.state != want {
				t.Fatalf("secret state %+v, want %+v", x.state, want)
			}
		}
		if r.Collection.FeeRows == nil {
			t.Fatal("fee_rows redacted to null")
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("redacted view: %v", err)
		}
	})
}

// FuzzFeeTable: a fee table as a client sends it decodes strictly; a
// table that passes Validate charges, for any total, the fee of the one
// row containing it (rows never overlap), and nothing in a gap.
func FuzzFeeTable(f *testing.F) {
	f.Add(`[{"from":0,"to":1100,"fee":0},{"from":1101,"to":5500,"fee":330},{"from":5501,"to":"*","fee":550}]`, int64(5500))
	f.Add(`[{"from":0,"to":null,"fee":1}]`, int64(-1))
	f.Add(`[{"from":10,"to":20,"fee":1},{"from":15,"to":30,"fee":2}]`, int64(16))
	f.Add(`[{"from":10,"to":20,"fee":1},{"from":40,"to":"","fee":2}]`, int64(30))
	f.Add(`[{"from":9223372036854775807,"to":9223372036854775807,"fee":0}]`, int64(9223372036854775807))
	f.Add(`[{"from":0,"to":"*","fee":1},{"from":5,"to":6,"fee":1}]`, int64(5))
	f.Add(`[null]`, int64(0))
	f.Fuzz(func(t *testing.T, doc string, total int64) {
		var table FeeTable
		if err := json.Unmarshal([]byte(doc), &table); err != nil {
			return
		}
		out, err := json.Marshal(table)
		if err != nil {
			t.Fatal(err)
		}
		var back FeeTable
		if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, table) {
			t.Fatalf("%s does not round-trip: %v", out, err)
		}
		if v := table.Validate(); len(v) > 0 {
			for _, e := range v {
				if !strings.HasPrefix(e.Field, "fee_rows") || e.Kind != KindInvalid {
					t.Fatalf("validation error %+v", e)
				}
			}
			return
		}
		fee, matched := table.FeeFor(total)
		hits := 0
		for _, r := range table {
			if r.Contains(total) {
				hits++
				if !matched || fee != r.Fee {
					t.Fatalf("total %d in %+v: fee %d matched %v", total, r, fee, matched)
				}
			}
			if r.From < 0 || r.Fee < 0 {
				t.Fatalf("valid table with row %+v", r)
			}
		}
		if hits > 1 || (hits == 0 && (matched || fee != 0)) {
			t.Fatalf("total %d: %d rows, fee %d matched %v in %s", total, hits, fee, matched, doc)
		}
		c := CollectionSettings{FeeEnabled: true, FeeRows: table}
		if c.Fee(total) != fee {
			t.Fatal("CollectionSettings.Fee disagrees with FeeFor")
		}
	})
}

// FuzzValidID: ids from URLs, forms and list cursors are accepted only
// as NewID writes them: the prefix, "_" and 26 characters of the id
// alphabet; every id NewID makes is accepted.
func FuzzValidID(f *testing.F) {
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, JST)
	f.Add("ord", NewID("ord", now), int64(0))
	f.Add("pay", "pay_00000000000000000000000000", int64(-1))
	f.Add("pay", "pay_0000000000000000000000000\n", int64(1<<47))
	f.Add("", "_zzzzzzzzzzzzzzzzzzzzzzzzzz", int64(1))
	f.Add("att", "att_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", int64(0))
	f.Add("sub", "sub_0123456789abcdefghjkmnpq", int64(0))
	f.Fuzz(func(t *testing.T, prefix, s string, ms int64) {
		if id := NewID(prefix, time.UnixMilli(ms)); !ValidID(prefix, id) {
			t.Fatalf("NewID(%q) = %q is not ValidID", prefix, id)
		}
		if !ValidID(prefix, s) {
			return
		}
		rest, ok := strings.CutPrefix(s, prefix+"_")
		if !ok || len(rest) != 26 {
			t.Fatalf("ValidID(%q, %q) without the prefix or 26 characters", prefix, s)
		}
		for _, c := range rest {
			if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", c) {
				t.Fatalf("ValidID(%q, %q) accepted %q", prefix, s, c)
			}
		}
	})
}
