package escott

import (
	"net/url"
	"strings"
)

// Masking rules for wire logs. Secrets are replaced whole; card numbers keep
// the first 4 and last 4 digits (what the gateway's own masked CardNo shows);
// personal data keeps its first character so an operator can still tell two
// log lines apart.
var (
	secretFields = map[string]bool{
		"MerchantPass": true, "KaiinPass": true, "ProcessPass": true, "NewKaiinPass": true,
		"Token": true, "EncryptValue": true, "SecCd": true, "k_TokenNinsyoCode": true,
		"CAVV3D": true, "AESKey": true, "AESIV": true,
	}
	panFields      = map[string]bool{"CardNo": true}
	personalFields = map[string]bool{
		"NameKanji": true, "NameKana": true, "TelNo": true, "BillingFullName": true,
		"BillingEmail": true, "KanaSei": true, "KanaMei": true, "BirthDay": true,
	}
)

// Masked is what replaces a secret value in logs.
const Masked = "****"

// MaskValue masks one field's value according to its name.
func MaskValue(key, value string) string {
	switch {
	case value == "":
		return ""
	case secretFields[key]:
		return Masked
	case panFields[key]:
		return MaskPAN(value)
	case personalFields[key]:
		r := []rune(value)
		return string(r[0]) + "***"
	}
	return value
}

// MaskParams returns a copy of p that is safe to log.
func MaskParams(p Params) Params {
	out := make(Params, len(p))
	for i, kv := range p {
		out[i] = Param{kv.Key, MaskValue(kv.Key, kv.Value)}
	}
	return out
}

// MaskValues returns a copy of v that is safe to log.
func MaskValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vals := range v {
		masked := make([]string, len(vals))
		for i, s := range vals {
			masked[i] = MaskValue(k, s)
		}
		out[k] = masked
	}
	return out
}

// MaskPAN keeps the first 4 and last 4 characters of a card number and
// replaces the rest with '*'. Values of 8 characters or fewer are masked
// whole, since keeping 8 of them would reveal the number.
func MaskPAN(pan string) string {
	if len(pan) <= 8 {
		return strings.Repeat("*", len(pan))
	}
	return pan[:4] + strings.Repeat("*", len(pan)-8) + pan[len(pan)-4:]
}
