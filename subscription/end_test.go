package subscription

import (
	"slices"
	"testing"
	"time"
)

func TestEndValidate(t *testing.T) {
	first := jst(2026, 4, 1, 10, 0)
	for _, c := range []struct {
		e    End
		want []string
	}{
		{End{}, nil},
		{End{MaxPayments: 12}, nil},
		{End{MaxPayments: MaxPayments}, nil},
		{End{At: first.Add(time.Second)}, nil},
		{End{At: jst(2027, 4, 1, 0, 0), MaxPayments: 6}, nil},
		{End{MaxPayments: -1}, []string{"max_payments:invalid_max_payments"}},
		{End{MaxPayments: MaxPayments + 1}, []string{"max_payments:invalid_max_payments"}},
		{End{At: first}, []string{"end_at:end_before_first_billing"}},
		{End{At: jst(2026, 3, 1, 0, 0)}, []string{"end_at:end_before_first_billing"}},
		{End{At: first, MaxPayments: -5}, []string{"max_payments:invalid_max_payments", "end_at:end_before_first_billing"}},
	} {
		if got := fieldCodes(t, c.e.Validate(first)); !slices.Equal(got, c.want) {
			t.Errorf("%+v.Validate() = %v; want %v", c.e, got, c.want)
		}
	}
}

// TestEndAllowsAndExpired: the end date is exclusive, the payment limit
// counts payments, and Expired is "the next payment will never come and
// its time has come, or the end date has passed".
func TestEndAllowsAndExpired(t *testing.T) {
	endAt := jst(2026, 12, 1, 10, 0)
	for _, c := range []struct {
		name    string
		e       End
		paid    int
		due     time.Time
		now     time.Time
		allows  bool
		expired bool
	}{
		{"no end", End{}, 500, jst(2030, 1, 1, 0, 0), jst(2030, 1, 1, 0, 0), true, false},
		{"due before end date", End{At: endAt}, 3, jst(2026, 11, 1, 10, 0), jst(2026, 11, 1, 10, 0), true, false},
		{"due just before end date", End{At: endAt}, 3, endAt.Add(-time.Nanosecond), endAt.Add(-time.Nanosecond), true, false},
		{"due at end date: not charged, expired", End{At: endAt}, 3, endAt, endAt, false, true},
		{"due after end date, before it comes", End{At: endAt}, 3, jst(2026, 12, 15, 0, 0), jst(2026, 11, 20, 0, 0), false, false},
		{"end date passed mid-period", End{At: endAt}, 3, jst(2026, 12, 15, 0, 0), endAt, false, true},
		{"just before the end date", End{At: endAt}, 3, jst(2026, 12, 15, 0, 0), endAt.Add(-time.Nanosecond), false, false},
		{"limit not reached", End{MaxPayments: 3}, 2, jst(2026, 6, 1, 0, 0), jst(2026, 6, 1, 0, 0), true, false},
		{"limit reached, period running", End{MaxPayments: 3}, 3, jst(2026, 6, 1, 0, 0), jst(2026, 5, 31, 23, 59), false, false},
		{"limit reached, period over", End{MaxPayments: 3}, 3, jst(2026, 6, 1, 0, 0), jst(2026, 6, 1, 0, 0), false, true},
		{"beyond the limit", End{MaxPayments: 3}, 4, jst(2026, 6, 1, 0, 0), jst(2026, 7, 1, 0, 0), false, true},
		{"both: limit first", End{At: endAt, MaxPayments: 2}, 2, jst(2026, 6, 1, 0, 0), jst(2026, 6, 1, 0, 0), false, true},
		{"both: date first", End{At: endAt, MaxPayments: 20}, 8, jst(2027, 1, 1, 0, 0), endAt, false, true},
		{"limit with a due date still ahead is not expiry", End{MaxPayments: 1}, 1, jst(2026, 6, 1, 0, 0), jst(2026, 5, 1, 0, 0), false, false},
	} {
		if got := c.e.Allows(c.due, c.paid); got != c.allows {
			t.Errorf("%s: Allows = %v; want %v", c.name, got, c.allows)
		}
		if got := Expired(c.e, c.paid, c.due, c.now); got != c.expired {
			t.Errorf("%s: Expired = %v; want %v", c.name, got, c.expired)
		}
		// expiresAt is the instant Expired turns true.
		at := c.e.expiresAt(c.paid, c.due)
		if at.IsZero() {
			if c.expired {
				t.Errorf("%s: expired but expiresAt is zero", c.name)
			}
			continue
		}
		if !Expired(c.e, c.paid, c.due, at) || Expired(c.e, c.paid, c.due, at.Add(-time.Nanosecond)) {
			t.Errorf("%s: expiresAt %v is not where Expired turns true", c.name, at)
		}
	}
}
