package service

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/testdb"
)

// fuzzBaseSettings is a complete shop (both methods on, every credential,
// 3-D Secure, a fee table) that FuzzUpdateSettings patches, so that the
// patches meet every validation rule rather than only the defaults'.
const fuzzBaseSettings = `{"plan":"pro","environment":"simulator",
 "card":{"enabled":true,"merchant_id":"030000001","merchant_pass_test":"demoTestPass01","merchant_pass_prod":"demoProdPass01",
  "tenant_id":"0001","token_auth_code":"DEMOTOKENCODE001","three_ds":true,"aes_key":"DEMOAESKEY000001","aes_iv":"DEMOAESIV0000001",
  "operation":"1Auth","installments":"installments"},
 "collection":{"enabled":true,"merchant_id":"030000001","merchant_pass_test":"demoTestPass01","merchant_pass_prod":"demoProdPass01",
  "due_days":7,"fee_enabled":true,"fee_rows":[{"from":0,"to":1000,"fee":110},{"from":1001,"to":"*","fee":220}]}}`

// FuzzUpdateSettings sends arbitrary merge patches through
// UpdateSettings, as PATCH /v1/settings and the console do, each to a
// fresh shop holding fuzzBaseSettings. A refusal is a validation error
// or, for a stale version, a conflict — never an internal error — and
// changes nothing; an accepted patch is stored as Settings.Apply computes
// it, under the next version, and loads back unchanged.
func FuzzUpdateSettings(f *testing.F) {
	for _, p := range []string{
		`{"notify_log":false}`,
		`{"card":{"enabled":false,"merchant_pass_test":null}}`,
		`{"environment":"production"}`,
		`{"collection":{"fee_rows":[{"from":0,"to":"*","fee":1}],"due_days":61}}`,
		`{"collection":{"fee_rows":null}}`,
		`{"card":{"aes_key":"short","link_type":true},"plan":"light"}`,
		`{"card":{"title":"\u0000","description":""}}`,
		`{"card":{"installments":"bonus","operation":"2Add"}}`,
		`{"x":1}`,
		`[]`,
		`{"card":1}`,
		``,
	} {
		f.Add([]byte(p), int8(-1))
	}
	f.Add([]byte(`{"notify_log":true}`), int8(0))
	f.Add([]byte(`{"notify_log":true}`), int8(1))
	ctx := context.Background()
	st := testdb.SQLite.Open(f)
	s := New(Config{Store: st, Now: (&testClock{t: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}).Now, PasswordParams: testPasswordParams})
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, patch []byte, version int8) {
		shop := fmt.Sprintf("shop_fuzz%d", seq.Add(1))
		if err := st.CreateShop(ctx, &kessai.Shop{ID: shop, Name: "fuzz", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		base, v0, err := s.UpdateSettings(ctx, shop, []byte(fuzzBaseSettings), AnyVersion)
		if err != nil {
			t.Fatal(err)
		}
		expected := AnyVersion
		switch {
		case version >= 0 && version%2 == 0:
			expected = v0 // the version the client read
		case version >= 0:
			expected = v0 - 1 // a stale one
		}
		want := base
		applyErr := want.Apply(kessai.SettingsPatch(patch))

		got, v1, err := s.UpdateSettings(ctx, shop, patch, expected)
		stored, v2, gerr := s.GetSettings(ctx, shop)
		if gerr != nil {
			t.Fatalf("settings no longer load after %q: %v", patch, gerr)
		}
		if err != nil {
			switch kessai.ErrorKind(err) {
			case kessai.KindInvalid:
				if applyErr == nil {
					t.Fatalf("refused %q that Apply accepts: %v", patch, err)
				}
			case kessai.KindConflict:
				if expected != v0-1 {
					t.Fatalf("conflict without a stale version: %v", err)
				}
			default:
				t.Fatalf("patch %q: %v error %v", patch, kessai.ErrorKind(err), err)
			}
			if v2 != v0 || !reflect.DeepEqual(stored, base) {
				t.Fatalf("refused patch %q changed the settings (v%d → v%d)", patch, v0, v2)
			}
			return
		}
		if expected == v0-1 {
			t.Fatalf("stale version %d accepted", expected)
		}
		if applyErr != nil {
			t.Fatalf("stored %q that Apply refuses: %v", patch, applyErr)
		}
		if v1 != v0+1 || v2 != v1 {
			t.Fatalf("versions %d → %d (stored %d)", v0, v1, v2)
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(stored, want) {
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(want)
			t.Fatalf("patch %q stored\n%s\nwant\n%s", patch, a, b)
		}
		if v := stored.Validate(); len(v) > 0 {
			t.Fatalf("stored invalid settings: %v", v)
		}
	})
}
