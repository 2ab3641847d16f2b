package card

import (
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// TestCheckPayType is the CARD-05 matrix: the shop's 支払回数 (SET-11) ×
// the card's brand prefix (spec §7.4) × link type × subscription cart ×
// the shopper's choice.
func TestCheckPayType(t *testing.T) {
	lump := &kessai.CardSettings{Installments: kessai.InstallmentsLumpSumOnly}
	inst := &kessai.CardSettings{Installments: kessai.InstallmentsEnabled}
	bonus := &kessai.CardSettings{Installments: kessai.InstallmentsWithBonus}
	link := &kessai.CardSettings{Installments: kessai.InstallmentsWithBonus, LinkType: true}
	tests := []struct {
		name   string
		cs     *kessai.CardSettings
		prefix string
		sub    bool
		p      escott.PayType
		want   escott.PayType // when allowed
		code   string         // when refused
	}{
		{"no choice means lump sum", lump, "4111", false, "", "01", ""},
		{"lump sum in a lump-sum shop", lump, "4111", false, "01", "01", ""},
		{"installments in a lump-sum shop", lump, "4111", false, "02", "", CodePayTypeLumpSumOnly},
		{"revolving in a lump-sum shop", lump, "4111", false, "88", "", CodePayTypeLumpSumOnly},
		{"VISA 2 installments", inst, "4111", false, "02", "02", ""},
		{"VISA revolving", inst, "4111", false, "88", "88", ""},
		{"VISA bonus without the bonus setting", inst, "4111", false, "80", "", CodePayTypeBonus},
		{"VISA bonus with the bonus setting", bonus, "4111", false, "80", "80", ""},
		{"Mastercard 24 installments", inst, "5500", false, "24", "24", ""},
		{"JCB 12 installments", inst, "3530", false, "12", "12", ""},
		{"AMEX has no 2 installments", inst, "3714", false, "02", "", CodePayTypeBrand},
		{"AMEX has no revolving", inst, "3714", false, "88", "", CodePayTypeBrand},
		{"AMEX 3 installments", inst, "3714", false, "03", "03", ""},
		{"AMEX bonus", bonus, "3714", false, "80", "80", ""},
		{"Diners revolving", inst, "3600", false, "88", "88", ""},
		{"Diners has no installments", inst, "3600", false, "03", "", CodePayTypeBrand},
		{"Diners bonus", bonus, "3600", false, "80", "80", ""},
		{"34 is unknown to the rule: lump sum only", inst, "3400", false, "03", "", CodePayTypeBrand},
		{"2-series Mastercard is unknown to the rule", inst, "2221", false, "03", "", CodePayTypeBrand},
		{"unknown card, bonus", bonus, "", false, "80", "", CodePayTypeBrand},
		{"unknown card, lump sum", bonus, "", false, "01", "01", ""},
		{"saved card by its masked number (4MemRefM)", inst, "4123********0300", false, "06", "06", ""},
		{"a whole number is cut to its prefix", inst, "4111111111111111", false, "03", "03", ""},
		{"link type: installments refused", link, "4111", false, "02", "", CodePayTypeLinkType},
		{"link type: bonus refused", link, "4111", false, "80", "", CodePayTypeLinkType},
		{"link type: lump sum", link, "4111", false, "01", "01", ""},
		{"link type: default", link, "", false, "", "01", ""},
		{"link type wins over subscription in the message", link, "4111", true, "02", "", CodePayTypeLinkType},
		{"subscription cart: installments refused", bonus, "4111", true, "02", "", CodePayTypeSubscription},
		{"subscription cart: revolving refused", bonus, "4111", true, "88", "", CodePayTypeSubscription},
		{"subscription cart: lump sum", bonus, "4111", true, "01", "01", ""},
		{"not a code", inst, "4111", false, "99", "", CodePayTypeInvalid},
		{"one digit", inst, "4111", false, "1", "", CodePayTypeInvalid},
		{"not a code, even in a lump-sum shop", lump, "4111", false, "x", "", CodePayTypeInvalid},
		{"no settings: lump sum only", nil, "4111", false, "02", "", CodePayTypeLumpSumOnly},
		{"no settings: lump sum", nil, "4111", false, "01", "01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckPayType(tt.cs, tt.prefix, tt.sub, tt.p)
			if c := code(t, err); c != tt.code || got != tt.want {
				t.Fatalf("CheckPayType = %q, %v; want %q, code %q", got, err, tt.want, tt.code)
			}
			if err != nil {
				e := kessai.AsError(err)
				if e.Kind != kessai.KindInvalid || e.Field != "pay_type" {
					t.Errorf("kind %s field %q, want invalid on pay_type", e.Kind, e.Field)
				}
			}
		})
	}
}

// TestCheckPayTypeAgreesWithEscott: outside link type and subscriptions,
// CheckPayType accepts exactly what escott.CheckPayType accepts, for every
// setting, brand prefix and code (CARD-05 delegates to the brand table).
func TestCheckPayTypeAgreesWithEscott(t *testing.T) {
	codes := []escott.PayType{"01", "02", "03", "05", "06", "10", "12", "15", "18", "20", "24", "80", "88", "04", "00", "99"}
	prefixes := []string{"4", "41", "5", "35", "36", "37", "34", "30", "2", "6", "", "3"}
	for _, setting := range []kessai.InstallmentSetting{kessai.InstallmentsLumpSumOnly, kessai.InstallmentsEnabled, kessai.InstallmentsWithBonus, "bogus"} {
		cs := &kessai.CardSettings{Installments: setting}
		for _, prefix := range prefixes {
			for _, p := range codes {
				_, err := CheckPayType(cs, prefix, false, p)
				want := escott.CheckPayType(prefix, setting.Mode(), p)
				if (err == nil) != (want == nil) {
					t.Errorf("setting %s, prefix %q, %s: card %v, escott %v", setting, prefix, p, err, want)
				}
			}
		}
	}
}
