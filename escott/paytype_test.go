package escott

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var knownPayTypes = []PayType{PayLump, PayInstall2, PayInstall3, PayInstall5, PayInstall6, PayInstall10,
	PayInstall12, PayInstall15, PayInstall18, PayInstall20, PayInstall24, PayBonus, PayRevolving}

func TestPayTypeLabels(t *testing.T) {
	tests := []struct {
		p      PayType
		ja, en string
		valid  bool
	}{
		{PayLump, "一括払い", "Lump sum", true},
		{PayInstall2, "2回払い", "2 installments", true},
		{PayInstall3, "3回払い", "3 installments", true},
		{PayInstall5, "5回払い", "5 installments", true},
		{PayInstall6, "6回払い", "6 installments", true},
		{PayInstall10, "10回払い", "10 installments", true},
		{PayInstall12, "12回払い", "12 installments", true},
		{PayInstall15, "15回払い", "15 installments", true},
		{PayInstall18, "18回払い", "18 installments", true},
		{PayInstall20, "20回払い", "20 installments", true},
		{PayInstall24, "24回払い", "24 installments", true},
		{PayBonus, "ボーナス一括払い", "Bonus lump sum", true},
		{PayRevolving, "リボ払い", "Revolving", true},
		// Unknown codes are shown as they are, never as a plausible label.
		{"", "", "", false},
		{"1", "1", "1", false},
		{"00", "00", "00", false},
		{"04", "04", "04", false},
		{"36", "36", "36", false},
		{"81", "81", "81", false},
		{"99", "99", "99", false},
		{" 01", " 01", " 01", false},
		{"001", "001", "001", false},
	}
	for _, tt := range tests {
		if got := tt.p.Label(); got != tt.ja {
			t.Errorf("PayType(%q).Label() = %q, want %q", tt.p, got, tt.ja)
		}
		if got := tt.p.LabelEn(); got != tt.en {
			t.Errorf("PayType(%q).LabelEn() = %q, want %q", tt.p, got, tt.en)
		}
		if got := tt.p.Valid(); got != tt.valid {
			t.Errorf("PayType(%q).Valid() = %v, want %v", tt.p, got, tt.valid)
		}
	}
}

func TestPayTypeValidExactlyKnownCodes(t *testing.T) {
	// Every two-digit code: only the 13 of spec §4.5 are valid.
	n := 0
	for i := range 100 {
		p := PayType([]byte{byte('0' + i/10), byte('0' + i%10)})
		if p.Valid() {
			n++
			if !slices.Contains(knownPayTypes, p) {
				t.Errorf("PayType(%q).Valid() = true, not a §4.5 code", p)
			}
		}
	}
	if n != len(knownPayTypes) {
		t.Errorf("%d valid two-digit codes, want %d", n, len(knownPayTypes))
	}
}

func TestBrandGroupOf(t *testing.T) {
	tests := []struct {
		pan  string
		want BrandGroup
	}{
		{"4111111111111111", BrandVisaMasterJCB},
		{"4", BrandVisaMasterJCB},
		{"5555555555554444", BrandVisaMasterJCB},
		{"5", BrandVisaMasterJCB},
		{"3530111333300000", BrandVisaMasterJCB},
		{"35", BrandVisaMasterJCB},
		{"36700102000000", BrandDiners},
		{"36", BrandDiners},
		{"378282246310005", BrandAmex},
		{"37", BrandAmex},
		// Masked numbers as returned by 4MemRefM: only the prefix counts.
		{"4123********0300", BrandVisaMasterJCB},
		{"5123********0300", BrandVisaMasterJCB},
		{"3528********0300", BrandVisaMasterJCB},
		{"3612********0300", BrandDiners},
		{"3712********0300", BrandAmex},
		{"3412********0300", BrandUnknown},
		{"****************", BrandUnknown},
		// §7.4: everything else is unknown, even where the real brand is known.
		{"341111111111111", BrandUnknown},  // AMEX 34
		{"30569309025904", BrandUnknown},   // Diners 30
		{"38520000023237", BrandUnknown},   // Diners 38
		{"39", BrandUnknown},               // Diners 39
		{"2223000048400011", BrandUnknown}, // Mastercard 2-series
		{"2", BrandUnknown},
		{"6011111111111117", BrandUnknown}, // Discover
		{"3", BrandUnknown},                // too short to decide
		{"", BrandUnknown},
		{"0", BrandUnknown},
		{"1", BrandUnknown},
		{" 4111111111111111", BrandUnknown}, // exact: no trimming
		{"x4111111111111111", BrandUnknown},
		{"４111111111111111", BrandUnknown}, // full-width digit
		{"3５", BrandUnknown},               // full-width second digit
		{"4-1111-1111-1111-1111", BrandVisaMasterJCB},
	}
	for _, tt := range tests {
		if got := BrandGroupOf(tt.pan); got != tt.want {
			t.Errorf("BrandGroupOf(%q) = %v, want %v", tt.pan, got, tt.want)
		}
	}
}

func TestBrandGroupString(t *testing.T) {
	tests := map[BrandGroup]string{
		BrandUnknown:       "unknown brand",
		BrandVisaMasterJCB: "VISA/Mastercard/JCB",
		BrandAmex:          "AMEX",
		BrandDiners:        "Diners",
		BrandGroup(99):     "unknown brand",
	}
	for g, want := range tests {
		if got := g.String(); got != want {
			t.Errorf("BrandGroup(%d).String() = %q, want %q", int(g), got, want)
		}
	}
}

func TestInstallmentModeString(t *testing.T) {
	tests := map[InstallmentMode]string{
		InstallmentsOff:      "lump sum only",
		Installments:         "installments",
		InstallmentsAndBonus: "installments and bonus",
		InstallmentMode(-1):  "lump sum only",
	}
	for m, want := range tests {
		if got := m.String(); got != want {
			t.Errorf("InstallmentMode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}

func TestAllowedPayTypes(t *testing.T) {
	p := func(codes ...string) []PayType {
		out := make([]PayType, len(codes))
		for i, c := range codes {
			out[i] = PayType(c)
		}
		return out
	}
	vmj := p("01", "02", "03", "05", "06", "10", "12", "15", "18", "20", "24", "88")
	amex := p("01", "03", "05", "06", "10", "12", "15", "18", "20", "24")
	diners := p("01", "88")
	lump := p("01")
	tests := []struct {
		g    BrandGroup
		mode InstallmentMode
		want []PayType
	}{
		{BrandVisaMasterJCB, InstallmentsOff, lump},
		{BrandVisaMasterJCB, Installments, vmj},
		{BrandVisaMasterJCB, InstallmentsAndBonus, append(slices.Clone(vmj), "80")},
		{BrandAmex, InstallmentsOff, lump},
		{BrandAmex, Installments, amex},
		{BrandAmex, InstallmentsAndBonus, append(slices.Clone(amex), "80")},
		{BrandDiners, InstallmentsOff, lump},
		{BrandDiners, Installments, diners},
		{BrandDiners, InstallmentsAndBonus, append(slices.Clone(diners), "80")},
		{BrandUnknown, InstallmentsOff, lump},
		{BrandUnknown, Installments, lump},
		{BrandUnknown, InstallmentsAndBonus, lump}, // never 80 for an unknown brand
		// Out-of-range values fall back to the safe default.
		{BrandVisaMasterJCB, InstallmentMode(7), lump},
		{BrandGroup(42), InstallmentsAndBonus, lump},
	}
	for _, tt := range tests {
		got := AllowedPayTypes(tt.g, tt.mode)
		if !slices.Equal(got, tt.want) {
			t.Errorf("AllowedPayTypes(%v, %v) = %v, want %v", tt.g, tt.mode, got, tt.want)
		}
		for _, pt := range got {
			if !pt.Valid() {
				t.Errorf("AllowedPayTypes(%v, %v) contains invalid %q", tt.g, tt.mode, pt)
			}
		}
	}
}

func TestAllowedPayTypesReturnsFreshSlice(t *testing.T) {
	for _, g := range []BrandGroup{BrandUnknown, BrandVisaMasterJCB, BrandAmex, BrandDiners} {
		for _, mode := range []InstallmentMode{InstallmentsOff, Installments, InstallmentsAndBonus} {
			a := AllowedPayTypes(g, mode)
			want := slices.Clone(a)
			for i := range a {
				a[i] = "XX"
			}
			_ = append(a, "YY") // must not write into shared backing arrays either
			if b := AllowedPayTypes(g, mode); !slices.Equal(b, want) {
				t.Errorf("AllowedPayTypes(%v, %v) changed after caller mutation: %v, want %v", g, mode, b, want)
			}
		}
	}
	// Appending to the Installments list must not leak into a later call.
	a := AllowedPayTypes(BrandDiners, Installments)
	_ = append(a, "ZZ")
	if b := AllowedPayTypes(BrandDiners, InstallmentsAndBonus); !slices.Equal(b, []PayType{"01", "88", "80"}) {
		t.Errorf("AllowedPayTypes(Diners, bonus) = %v after append by caller", b)
	}
}

func TestCheckPayType(t *testing.T) {
	const (
		visa   = "4111111111111111"
		amex   = "378282246310005"
		diners = "36700102000000"
		jcb    = "3530111333300000"
		other  = "2223000048400011"
	)
	tests := []struct {
		pan     string
		mode    InstallmentMode
		p       PayType
		ok      bool
		errText string // substring of the error message
	}{
		{visa, InstallmentsOff, "01", true, ""},
		{visa, InstallmentsOff, "02", false, "lump sum (01) only"},
		{visa, InstallmentsOff, "88", false, "lump sum (01) only"},
		{visa, Installments, "02", true, ""},
		{visa, Installments, "24", true, ""},
		{visa, Installments, "88", true, ""},
		{visa, Installments, "80", false, "does not accept bonus"},
		{visa, InstallmentsAndBonus, "80", true, ""},
		{jcb, InstallmentsAndBonus, "02", true, ""},
		{"4123********0300", Installments, "12", true, ""},
		{amex, Installments, "02", false, "02 (2 installments) is not allowed for AMEX cards"},
		{amex, Installments, "88", false, "88 (Revolving) is not allowed for AMEX cards"},
		{amex, InstallmentsAndBonus, "88", false, "AMEX"},
		{amex, Installments, "03", true, ""},
		{amex, InstallmentsAndBonus, "80", true, ""},
		{amex, Installments, "80", false, "does not accept bonus"},
		{diners, Installments, "02", false, "02 (2 installments) is not allowed for Diners cards"},
		{diners, Installments, "03", false, "Diners"},
		{diners, Installments, "88", true, ""},
		{diners, InstallmentsAndBonus, "80", true, ""},
		{diners, Installments, "80", false, "does not accept bonus"},
		{other, InstallmentsAndBonus, "01", true, ""},
		{other, InstallmentsAndBonus, "02", false, "unknown brand cards"},
		{other, InstallmentsAndBonus, "80", false, "unknown brand cards"},
		{other, InstallmentsAndBonus, "88", false, "unknown brand cards"},
		{"", InstallmentsAndBonus, "88", false, "unknown brand cards"},
		{"", InstallmentsOff, "01", true, ""},
		{visa, InstallmentsAndBonus, "", false, "not a PayType code"},
		{visa, InstallmentsAndBonus, "04", false, "not a PayType code"},
		{visa, InstallmentsAndBonus, "1", false, "not a PayType code"},
	}
	for _, tt := range tests {
		err := CheckPayType(tt.pan, tt.mode, tt.p)
		if tt.ok {
			if err != nil {
				t.Errorf("CheckPayType(%q, %v, %q) = %v, want nil", tt.pan, tt.mode, tt.p, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckPayType(%q, %v, %q) = nil, want error", tt.pan, tt.mode, tt.p)
			continue
		}
		if !errors.Is(err, ErrPayTypeNotAllowed) {
			t.Errorf("CheckPayType(%q, %v, %q) = %v, does not wrap ErrPayTypeNotAllowed", tt.pan, tt.mode, tt.p, err)
		}
		if !strings.Contains(err.Error(), tt.errText) {
			t.Errorf("CheckPayType(%q, %v, %q) = %q, want it to contain %q", tt.pan, tt.mode, tt.p, err, tt.errText)
		}
	}
}

// TestCheckPayTypeAgreesWithAllowed checks the server-side validation and the
// list offered at checkout can never disagree.
func TestCheckPayTypeAgreesWithAllowed(t *testing.T) {
	pans := map[BrandGroup]string{
		BrandUnknown:       "30569309025904",
		BrandVisaMasterJCB: "5555555555554444",
		BrandAmex:          "3712********0005",
		BrandDiners:        "36700102000000",
	}
	for g, pan := range pans {
		for _, mode := range []InstallmentMode{InstallmentsOff, Installments, InstallmentsAndBonus} {
			allowed := AllowedPayTypes(g, mode)
			for _, p := range payTypesPlus(knownPayTypes, "", "00", "99") {
				err := CheckPayType(pan, mode, p)
				if want := slices.Contains(allowed, p); (err == nil) != want {
					t.Errorf("CheckPayType(%v, %v, %q) = %v, but allowed list %v", g, mode, p, err, allowed)
				}
			}
		}
	}
}

func payTypesPlus(base []PayType, more ...PayType) []PayType {
	return append(slices.Clone(base), more...)
}
