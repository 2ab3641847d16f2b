package escott

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// NoTransactionCode is the MerchantFree1 placeholder (twelve 9s) that the
// plugins' admin screens show for "no transaction yet" (spec §4.2).
// [NewMerchantFree1] never returns it, so a real transaction can never be
// mistaken for the placeholder.
const NoTransactionCode = "999999999999"

// LinkProcNo is the ProcNo sent on every external-link request (spec §4.6).
// The plugins send this constant; the gateway evidently does not check
// ProcNo uniqueness across link requests.
const LinkProcNo = "0000000"

// Identifier lengths from spec §4.2, §4.6 and §4.7.
const (
	merchantFree1Len = 12
	procNoLen        = 7
	kaiinPassLen     = 12
	// maxKaiinLen bounds KaiinId and KaiinPass. The gateway's real limit is
	// unknown (spec §4.7 [GAP]); 20 leaves room for a customer id while the
	// ids kessai generates from short customer ids stay within the 11–13
	// characters that both reference integrations are known to use.
	maxKaiinLen = 20
	// kaiinSuffixLen is the "i" separator plus the 7 random digits.
	kaiinSuffixLen = 1 + procNoLen
)

// MaxKaiinCustomerIDLen is the longest customer id [NewKaiinID] accepts:
// "k" + id + "i" + 7 digits must fit in 20 characters. Callers that pick
// customer ids (e.g. a database sequence) can check against it up front.
const MaxKaiinCustomerIDLen = maxKaiinLen - 1 - kaiinSuffixLen

// maxRandomAttempts bounds rejection sampling. With a good source each
// attempt is accepted with probability > 1/2 for every range used here, so
// 64 consecutive rejections (probability < 2^-64) mean the source is broken,
// e.g. a reader stuck on 0xFF bytes; failing then is better than spinning
// forever.
const maxRandomAttempts = 64

// errRandomRejected is returned when the random source keeps producing
// values outside the wanted range (see maxRandomAttempts).
var errRandomRejected = errors.New("escott: random source produced no usable value in 64 attempts")

// uniformBelow returns a uniformly distributed integer in [0, n) read from r.
// It reads the fewest whole bytes that cover n-1, masks them to the bit
// length of n-1 and rejects values ≥ n, so there is no modulo bias. Errors
// of r (including short reads) are returned wrapped.
func uniformBelow(r io.Reader, n uint64) (uint64, error) {
	if n == 0 {
		panic("escott: uniformBelow(0)")
	}
	if n == 1 {
		return 0, nil
	}
	nbits := bits.Len64(n - 1)
	nbytes := (nbits + 7) / 8
	mask := uint64(1)<<nbits - 1
	if nbits == 64 {
		mask = ^uint64(0)
	}
	var buf [8]byte
	for range maxRandomAttempts {
		if _, err := io.ReadFull(r, buf[:nbytes]); err != nil {
			return 0, fmt.Errorf("escott: reading random source: %w", err)
		}
		var v uint64
		for _, b := range buf[:nbytes] {
			v = v<<8 | uint64(b)
		}
		if v &= mask; v < n {
			return v, nil
		}
	}
	return 0, errRandomRejected
}

// uniformDigits returns a uniformly random integer in [lo, hi] formatted with
// width digits, zero-padded.
func uniformDigits(r io.Reader, lo, hi uint64, width int) (string, error) {
	v, err := uniformBelow(r, hi-lo+1)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", width, lo+v), nil
}

// NewMerchantFree1 returns a fresh transaction code (取引コード) for a new
// gateway transaction: 12 zero-padded digits, uniform in
// [1, 999999999998]. The plugins draw from [1, 999999999999]; the top value
// is excluded here because it is [NoTransactionCode]. Random codes can
// collide, so callers that need uniqueness check their history store and
// draw again (features GW-03); the gateway itself does not require it.
//
// Production callers pass crypto/rand.Reader.
func NewMerchantFree1(r io.Reader) (string, error) {
	return uniformDigits(r, 1, 999_999_999_998, merchantFree1Len)
}

// ValidMerchantFree1 reports whether s has the MerchantFree1 format: exactly
// 12 ASCII digits. It checks the format only, so [NoTransactionCode] and
// "000000000000" are accepted; it is meant for values read back from the
// gateway, notifications or storage.
func ValidMerchantFree1(s string) bool {
	return len(s) == merchantFree1Len && asciiDigitsOnly(s)
}

// NewProcNo returns a random ProcNo (処理番号) for a 3-D Secure hand-off or a
// 3DS member registration: 7 zero-padded digits, uniform in [1, 9999999],
// as the plugins send (spec §4.6). It never returns [LinkProcNo].
func NewProcNo(r io.Reader) (string, error) {
	return uniformDigits(r, 1, 9_999_999, procNoLen)
}

// NewKaiinID returns a new card-member id (KaiinId) for the customer:
//
//	"k" + customerID + "i" + 7 random digits (1 … 9999999, zero-padded)
//
// e.g. "k15i0482211". It mirrors the plugins' "wc<user>i<7 digits>" with our
// own prefix, so ids registered by kessai are told apart from ones a
// previous WooCommerce shop registered under the same merchant. The random
// part lets a customer register again after deleting a member, without
// reusing an id the gateway may still remember.
//
// The gateway's allowed alphabet and length for KaiinId are not known
// (spec §4.7 [GAP]); ASCII alphanumerics are what both reference
// integrations send, so customerID must be 1 … [MaxKaiinCustomerIDLen] ASCII
// letters or digits and the whole id stays within 20 characters. Anything
// else is an error rather than being silently rewritten, because two
// different customer ids must never map to the same member id.
func NewKaiinID(customerID string, r io.Reader) (string, error) {
	switch {
	case customerID == "":
		return "", errors.New("escott: KaiinId: empty customer id")
	case !asciiAlnumOnly(customerID):
		return "", fmt.Errorf("escott: KaiinId: customer id %q must be ASCII letters and digits only", customerID)
	case len(customerID) > MaxKaiinCustomerIDLen:
		return "", fmt.Errorf("escott: KaiinId: customer id %q longer than %d characters", customerID, MaxKaiinCustomerIDLen)
	}
	suffix, err := uniformDigits(r, 1, 9_999_999, procNoLen)
	if err != nil {
		return "", err
	}
	return "k" + customerID + "i" + suffix, nil
}

// NewKaiinPass returns a new card-member password (KaiinPass): 12
// zero-padded digits, uniform over the full range [0, 999999999999]. The
// plugins also send 12 digits but draw from 0 … 4294967295, so theirs always
// start with "00" and carry about 32 bits; kessai uses all 12 digits
// (about 40 bits). Digits only, because that is the subset every known
// integration sends (spec §4.7).
func NewKaiinPass(r io.Reader) (string, error) {
	return uniformDigits(r, 0, 999_999_999_999, kaiinPassLen)
}

// ValidKaiinID reports whether s is an acceptable KaiinId: 1 … 20 ASCII
// letters or digits. This is the safe subset of spec §4.7, not necessarily
// the gateway's own rule; ids created by other integrations (the plugins'
// "wc15i0482211", SFRA's UUID prefixes) pass.
func ValidKaiinID(s string) bool {
	return len(s) >= 1 && len(s) <= maxKaiinLen && asciiAlnumOnly(s)
}

// ValidKaiinPass reports whether s is an acceptable KaiinPass: 1 … 20 ASCII
// letters or digits, like [ValidKaiinID] (SFRA's passwords are hex, the
// plugins' digits).
func ValidKaiinPass(s string) bool {
	return len(s) >= 1 && len(s) <= maxKaiinLen && asciiAlnumOnly(s)
}

// asciiDigitsOnly reports whether s consists of ASCII digits only (true for "").
func asciiDigitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// asciiAlnumOnly reports whether s consists of ASCII letters and digits only
// (true for "").
func asciiAlnumOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
