// Package yen formats yen amounts for people: digits grouped by three
// with commas (5,500), as Japanese receipts, e-mails and screens print
// them. Amounts are int64 yen everywhere in kessai; this is the one place
// that turns them into text.
package yen

import "strconv"

// Group writes n with thousands separators: 1234567 → "1,234,567",
// -5500 → "-5,500".
func Group(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	b := make([]byte, 0, len(sign)+len(s)+len(s)/3)
	b = append(b, sign...)
	for i := 0; i < len(s); i++ {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}
