package escott

import (
	"errors"
	"fmt"
	"strconv"
)

// PayType is the gateway's PayType parameter (支払区分): how the shopper
// repays a card payment. It is a two-digit code; for installments the code is
// the number of installments itself (spec §4.5).
type PayType string

// The PayType codes the gateway knows (spec §4.5). Only these are offered at
// checkout; anything else would be refused by the gateway with K22.
const (
	PayLump      PayType = "01" // 一括払い
	PayInstall2  PayType = "02" // 2回払い
	PayInstall3  PayType = "03" // 3回払い
	PayInstall5  PayType = "05" // 5回払い
	PayInstall6  PayType = "06" // 6回払い
	PayInstall10 PayType = "10" // 10回払い
	PayInstall12 PayType = "12" // 12回払い
	PayInstall15 PayType = "15" // 15回払い
	PayInstall18 PayType = "18" // 18回払い
	PayInstall20 PayType = "20" // 20回払い
	PayInstall24 PayType = "24" // 24回払い
	PayBonus     PayType = "80" // ボーナス一括払い
	PayRevolving PayType = "88" // リボ払い
)

// installments returns the number of installments of an installment code
// (02 … 24) and false for every other code, including 01, 80 and 88.
func (p PayType) installments() (int, bool) {
	switch p {
	case PayInstall2, PayInstall3, PayInstall5, PayInstall6, PayInstall10,
		PayInstall12, PayInstall15, PayInstall18, PayInstall20, PayInstall24:
		n, _ := strconv.Atoi(string(p)) // the code is the count, by definition
		return n, true
	}
	return 0, false
}

// Valid reports whether p is one of the codes the gateway knows. The empty
// string is not valid: callers that mean "lump sum" must say [PayLump].
func (p PayType) Valid() bool {
	if _, ok := p.installments(); ok {
		return true
	}
	return p == PayLump || p == PayBonus || p == PayRevolving
}

// Label returns the Japanese name shown to shoppers and operators
// (一括払い, N回払い, ボーナス一括払い, リボ払い). An unknown code is returned
// unchanged so that a bad value stays visible in logs and admin screens
// rather than being hidden behind a plausible label.
func (p PayType) Label() string {
	switch p {
	case PayLump:
		return "一括払い"
	case PayBonus:
		return "ボーナス一括払い"
	case PayRevolving:
		return "リボ払い"
	}
	if n, ok := p.installments(); ok {
		return strconv.Itoa(n) + "回払い"
	}
	return string(p)
}

// LabelEn returns the English name of p ("Lump sum", "N installments",
// "Bonus lump sum", "Revolving"). Like [PayType.Label], an unknown code is
// returned unchanged.
func (p PayType) LabelEn() string {
	switch p {
	case PayLump:
		return "Lump sum"
	case PayBonus:
		return "Bonus lump sum"
	case PayRevolving:
		return "Revolving"
	}
	if n, ok := p.installments(); ok {
		return strconv.Itoa(n) + " installments"
	}
	return string(p)
}

// BrandGroup is the card-brand family that decides which PayTypes a shopper
// may choose (spec §7.4). It is derived from the leading digits of the card
// number only, exactly as the plugins' checkout script does, because that is
// the only brand information a token-type merchant ever sees.
type BrandGroup int

// The brand groups of spec §7.4. The zero value is [BrandUnknown], so a card
// whose number is not known yet is restricted to lump sum.
const (
	BrandUnknown       BrandGroup = iota // anything not listed below: lump sum only
	BrandVisaMasterJCB                   // prefix 4, 5 or 35
	BrandAmex                            // prefix 37
	BrandDiners                          // prefix 36
)

// BrandGroupOf classifies a card number by its first characters, following
// spec §7.4 exactly: 4, 5 or 35 → VISA/Mastercard/JCB; 36 → Diners;
// 37 → AMEX; everything else → unknown. "Everything else" deliberately
// includes 34 (also AMEX in reality), 30/38/39 (also Diners in reality), the
// 2-series Mastercard range and the empty string: the plugins offer only lump
// sum for those, and kessai must not offer the shopper installments that the
// gateway-side rules may not have been validated for.
//
// A masked number such as "4123********0300" (what 4MemRefM returns for a
// saved card) is accepted: only the leading digits are looked at.
func BrandGroupOf(pan string) BrandGroup {
	if pan == "" {
		return BrandUnknown
	}
	switch pan[0] {
	case '4', '5':
		return BrandVisaMasterJCB
	case '3':
		if len(pan) < 2 {
			return BrandUnknown
		}
		switch pan[1] {
		case '5':
			return BrandVisaMasterJCB
		case '6':
			return BrandDiners
		case '7':
			return BrandAmex
		}
	}
	return BrandUnknown
}

// String returns an English name of the group, used in error messages and
// logs.
func (g BrandGroup) String() string {
	switch g {
	case BrandVisaMasterJCB:
		return "VISA/Mastercard/JCB"
	case BrandAmex:
		return "AMEX"
	case BrandDiners:
		return "Diners"
	}
	return "unknown brand"
}

// InstallmentMode is the shop's 支払回数 setting (features SET-11): whether
// shoppers may choose installments and bonus payment at all.
type InstallmentMode int

// The three choices of the 支払回数 setting. The zero value is
// [InstallmentsOff], the plugins' default, so an unset configuration never
// offers more than lump sum.
const (
	InstallmentsOff      InstallmentMode = iota // 一括払いのみ
	Installments                                // 分割払いを有効にする (installments and revolving)
	InstallmentsAndBonus                        // 分割払いとボーナス払いを有効にする (adds bonus lump sum)
)

// String returns an English description of the mode, used in error
// messages.
func (m InstallmentMode) String() string {
	switch m {
	case Installments:
		return "installments"
	case InstallmentsAndBonus:
		return "installments and bonus"
	}
	return "lump sum only"
}

// Per-brand lists of spec §4.5, in display order (lump sum first, then
// installment counts ascending, then revolving). Bonus (80) is appended by
// AllowedPayTypes when the mode allows it.
var (
	payTypesVMJ = []PayType{PayLump, PayInstall2, PayInstall3, PayInstall5, PayInstall6, PayInstall10,
		PayInstall12, PayInstall15, PayInstall18, PayInstall20, PayInstall24, PayRevolving}
	payTypesAmex = []PayType{PayLump, PayInstall3, PayInstall5, PayInstall6, PayInstall10,
		PayInstall12, PayInstall15, PayInstall18, PayInstall20, PayInstall24}
	payTypesDiners = []PayType{PayLump, PayRevolving}
)

// AllowedPayTypes returns the PayTypes a shopper may choose for a card of
// group g under the shop setting mode, in the order they are displayed
// (spec §4.5):
//
//   - InstallmentsOff (or any unknown mode value): [01] for every brand;
//   - unknown brand: [01] whatever the mode;
//   - VISA/Mastercard/JCB: 01, 02 … 24, 88;
//   - AMEX: 01, 03 … 24 (no 02, no 88);
//   - Diners: 01, 88;
//   - with InstallmentsAndBonus, 80 is appended to the three known brands.
//
// The result is a fresh slice that the caller may modify.
func AllowedPayTypes(g BrandGroup, mode InstallmentMode) []PayType {
	var base []PayType
	switch g {
	case BrandVisaMasterJCB:
		base = payTypesVMJ
	case BrandAmex:
		base = payTypesAmex
	case BrandDiners:
		base = payTypesDiners
	}
	if base == nil || (mode != Installments && mode != InstallmentsAndBonus) {
		return []PayType{PayLump}
	}
	out := make([]PayType, len(base), len(base)+1)
	copy(out, base)
	if mode == InstallmentsAndBonus {
		out = append(out, PayBonus)
	}
	return out
}

// ErrPayTypeNotAllowed is wrapped by every error of [CheckPayType], so that
// callers can classify the failure as invalid shopper input.
var ErrPayTypeNotAllowed = errors.New("escott: PayType not allowed")

// CheckPayType validates, on the server, the PayType a shopper submitted for
// the card number pan (raw or masked; see [BrandGroupOf]) under the shop
// setting mode. The checkout form only offers [AllowedPayTypes], but a form
// can be forged and the plugins never re-check it; a disallowed choice would
// otherwise reach the gateway and fail there with a code the shopper cannot
// act on. It returns nil when p is allowed, otherwise an error wrapping
// [ErrPayTypeNotAllowed] that names the PayType, the brand group and the
// reason.
func CheckPayType(pan string, mode InstallmentMode, p PayType) error {
	if !p.Valid() {
		return fmt.Errorf("%w: %q is not a PayType code", ErrPayTypeNotAllowed, string(p))
	}
	if p == PayLump {
		return nil // always allowed, whatever the brand or setting
	}
	g := BrandGroupOf(pan)
	switch {
	case mode != Installments && mode != InstallmentsAndBonus:
		return fmt.Errorf("%w: %s (%s) is not allowed: the shop accepts lump sum (01) only",
			ErrPayTypeNotAllowed, string(p), p.LabelEn())
	case g == BrandUnknown:
		return fmt.Errorf("%w: %s (%s) is not allowed for %s cards: only lump sum (01) is accepted",
			ErrPayTypeNotAllowed, string(p), p.LabelEn(), g)
	case p == PayBonus && mode != InstallmentsAndBonus:
		return fmt.Errorf("%w: %s (%s) is not allowed: the shop does not accept bonus payment",
			ErrPayTypeNotAllowed, string(p), p.LabelEn())
	}
	for _, a := range AllowedPayTypes(g, mode) {
		if a == p {
			return nil
		}
	}
	return fmt.Errorf("%w: %s (%s) is not allowed for %s cards", ErrPayTypeNotAllowed, string(p), p.LabelEn(), g)
}
