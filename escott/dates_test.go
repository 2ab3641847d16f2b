package escott

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// mustRFC3339 parses an RFC 3339 instant for test tables.
func mustRFC3339(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func jstAt(y int, m time.Month, d, hh, mm, ss, ns int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, ns, JST)
}

func TestDateJSTZone(t *testing.T) {
	name, off := time.Date(2026, 7, 1, 0, 0, 0, 0, JST).Zone()
	if name != "JST" || off != 9*60*60 {
		t.Errorf("JST zone = %s %d", name, off)
	}
	// No DST: the same offset in winter.
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, JST).Zone(); off != 9*60*60 {
		t.Errorf("JST winter offset = %d", off)
	}
}

func TestTransactionDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"2026-03-31T14:59:59.999999999Z", "20260331"},
		{"2026-03-31T15:00:00Z", "20260401"}, // JST midnight
		{"2026-04-01T00:00:00+09:00", "20260401"},
		{"2026-03-31T23:59:59-08:00", "20260401"}, // other zones are converted
		{"2026-12-31T15:00:00Z", "20270101"},
		{"2028-02-28T15:00:00Z", "20280229"},
		{"0999-01-01T00:00:00Z", "09990101"},
	}
	for _, tt := range tests {
		if got := TransactionDate(mustRFC3339(t, tt.in)); got != tt.want {
			t.Errorf("TransactionDate(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: error expected
	}{
		{"20260401", jstAt(2026, 4, 1, 0, 0, 0, 0)},
		{"20261231", jstAt(2026, 12, 31, 0, 0, 0, 0)},
		{"20280229", jstAt(2028, 2, 29, 0, 0, 0, 0)}, // leap year
		{"20000229", jstAt(2000, 2, 29, 0, 0, 0, 0)}, // 400-year rule
		{"20260229", time.Time{}},                    // not a leap year
		{"21000229", time.Time{}},                    // 100-year rule
		{"20260230", time.Time{}},
		{"20260431", time.Time{}},
		{"20260001", time.Time{}},
		{"20261301", time.Time{}},
		{"20260100", time.Time{}},
		{"20260132", time.Time{}},
		{"2026041", time.Time{}},
		{"202604011", time.Time{}},
		{"2026-4-1", time.Time{}},
		{"2026/4/1", time.Time{}},
		{" 20260401", time.Time{}},
		{"20260401 ", time.Time{}},
		{"+2026041", time.Time{}},
		{"２０２６０４０１", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.want.IsZero() {
			if err == nil {
				t.Errorf("ParseDate(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != JST {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back := TransactionDate(got); back != tt.in {
			t.Errorf("TransactionDate(ParseDate(%q)) = %q", tt.in, back)
		}
	}
}

func TestPayLimitFromDueDays(t *testing.T) {
	tests := []struct {
		now  string
		days int
		want string // "" means error
	}{
		{"2026-03-31T14:59:59Z", 1, "202604012359"}, // still 3/31 in JST
		{"2026-03-31T15:00:00Z", 1, "202604022359"}, // already 4/1 in JST
		{"2026-04-01T23:59:59+09:00", 7, "202604082359"},
		{"2026-04-01T00:00:00+09:00", 7, "202604082359"},
		{"2026-04-30T12:00:00+09:00", 1, "202605012359"},  // month end
		{"2026-12-31T12:00:00+09:00", 1, "202701012359"},  // year end
		{"2028-02-28T12:00:00+09:00", 1, "202802292359"},  // leap year
		{"2026-02-28T12:00:00+09:00", 1, "202603012359"},  // not a leap year
		{"2026-01-31T12:00:00+09:00", 30, "202603022359"}, // across a short February
		{"2026-01-01T00:00:00+09:00", 60, "202603022359"}, // maximum
		{"2026-04-01T10:00:00+09:00", 60, "202605312359"}, // maximum
		{"2026-03-31T15:00:00Z", 60, "202605312359"},      // same JST day as above
		{"2026-03-31T10:00:00-05:00", 1, "202604022359"},  // 4/1 00:00 JST
		{"2026-04-01T10:00:00+09:00", 0, ""},              // minimum is 1
		{"2026-04-01T10:00:00+09:00", -1, ""},
		{"2026-04-01T10:00:00+09:00", 61, ""},
		{"2026-04-01T10:00:00+09:00", 1 << 40, ""},
		{"2026-04-01T10:00:00+09:00", -(1 << 40), ""},
		{"2026-04-01T10:00:00+09:00", MaxDueDays + 1, ""},
		{"2026-04-01T10:00:00+09:00", MaxDueDays, "202605312359"},
	}
	for _, tt := range tests {
		got, err := PayLimitFromDueDays(mustRFC3339(t, tt.now), tt.days)
		if tt.want == "" {
			if err == nil {
				t.Errorf("PayLimitFromDueDays(%s, %d) = %q, want error", tt.now, tt.days, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("PayLimitFromDueDays(%s, %d) = %q, %v; want %q", tt.now, tt.days, got, err, tt.want)
		}
	}
}

// TestPayLimitFromDueDaysMatchesPlugin checks the documented equivalence
// with the plugins' "now + days × 86400 s, then the local date".
func TestPayLimitFromDueDaysMatchesPlugin(t *testing.T) {
	start := mustRFC3339(t, "2025-12-25T00:00:00Z")
	for h := 0; h < 24*800; h += 7 { // every 7 hours for ~2 years, across a leap day
		now := start.Add(time.Duration(h) * time.Hour)
		for _, days := range []int{1, 7, 29, 60} {
			got, err := PayLimitFromDueDays(now, days)
			want := now.Add(time.Duration(days)*86400*time.Second).In(JST).Format("20060102") + "2359"
			if err != nil || got != want {
				t.Fatalf("PayLimitFromDueDays(%v, %d) = %q, %v; plugin rule gives %q", now, days, got, err, want)
			}
		}
	}
}

func TestPayLimitFromDate(t *testing.T) {
	now := mustRFC3339(t, "2026-04-01T10:00:00+09:00")
	tests := []struct {
		date    string
		now     time.Time
		want    string
		wantErr error // nil with want == "": some error
	}{
		{"20260401", now, "202604012359", nil}, // today is allowed
		{"20260402", now, "202604022359", nil},
		{"20260531", now, "202605312359", nil}, // today + 60
		{"20260601", now, "", ErrDueDateTooLate},
		{"20261231", now, "", ErrDueDateTooLate},
		{"20260331", now, "", ErrDueDateInPast},
		{"20250401", now, "", ErrDueDateInPast},
		{"20260230", now, "", nil}, // not a date
		{"2026041", now, "", nil},
		{"", now, "", nil},
		{"2026-04-01", now, "", nil},
		// JST midnight: at 2026-03-31T15:00Z it is already 4/1 in Japan.
		{"20260331", mustRFC3339(t, "2026-03-31T15:00:00Z"), "", ErrDueDateInPast},
		{"20260331", mustRFC3339(t, "2026-03-31T14:59:59Z"), "202603312359", nil},
		{"20260530", mustRFC3339(t, "2026-03-31T14:59:59Z"), "202605302359", nil}, // 3/31 + 60
		{"20260531", mustRFC3339(t, "2026-03-31T14:59:59Z"), "", ErrDueDateTooLate},
		{"20260531", mustRFC3339(t, "2026-03-31T15:00:00Z"), "202605312359", nil},
		// Late in the day: today is still allowed, and + 60 still counts from today.
		{"20260401", mustRFC3339(t, "2026-04-01T23:59:59.999+09:00"), "202604012359", nil},
		{"20260531", mustRFC3339(t, "2026-04-01T23:59:59.999+09:00"), "202605312359", nil},
		// Leap year.
		{"20280229", mustRFC3339(t, "2028-02-28T09:00:00+09:00"), "202802292359", nil},
		{"20280428", mustRFC3339(t, "2028-02-28T09:00:00+09:00"), "202804282359", nil}, // 2/28 + 60 (29 Feb counted)
		{"20280429", mustRFC3339(t, "2028-02-28T09:00:00+09:00"), "", ErrDueDateTooLate},
	}
	for _, tt := range tests {
		got, err := PayLimitFromDate(tt.date, tt.now)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("PayLimitFromDate(%q, %v) = %q, %v; want %q", tt.date, tt.now, got, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("PayLimitFromDate(%q, %v) = %q, want error", tt.date, tt.now, got)
			continue
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("PayLimitFromDate(%q, %v) = %v, want %v", tt.date, tt.now, err, tt.wantErr)
		}
		if tt.wantErr == nil && (errors.Is(err, ErrDueDateInPast) || errors.Is(err, ErrDueDateTooLate)) {
			t.Errorf("PayLimitFromDate(%q, %v) = %v, want a format error", tt.date, tt.now, err)
		}
	}
}

func TestParsePayLimit(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: error
	}{
		{"202604012359", jstAt(2026, 4, 1, 23, 59, 59, 999999999)},
		{"202604010000", jstAt(2026, 4, 1, 0, 0, 59, 999999999)},
		{"202802292359", jstAt(2028, 2, 29, 23, 59, 59, 999999999)},
		{"202612312359", jstAt(2026, 12, 31, 23, 59, 59, 999999999)},
		{"202604012400", time.Time{}},
		{"202604012360", time.Time{}},
		{"202602292359", time.Time{}},
		{"202613012359", time.Time{}},
		{"20260401235", time.Time{}},
		{"2026040123590", time.Time{}},
		{"20260401", time.Time{}},
		{"20260401235a", time.Time{}},
		{"2026-04-0123", time.Time{}},
		{" 20260401235", time.Time{}},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		got, err := ParsePayLimit(tt.in)
		if tt.want.IsZero() {
			if err == nil {
				t.Errorf("ParsePayLimit(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParsePayLimit(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}

	// Expiry semantics of spec §10.3: payable through 23:59:59 of the due
	// day, expired from the next instant on, matching the plugin's string
	// comparison of the current YYYYMMDDhhmm with PayLimit.
	limit, err := ParsePayLimit("202604012359")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		now     string
		expired bool
	}{
		{"2026-04-01T23:59:00+09:00", false},
		{"2026-04-01T23:59:59.999999999+09:00", false},
		{"2026-04-01T14:59:59.999999999Z", false},
		{"2026-04-02T00:00:00+09:00", true},
		{"2026-04-01T15:00:00Z", true},
	} {
		now := mustRFC3339(t, tt.now)
		if got := now.After(limit); got != tt.expired {
			t.Errorf("now %s after limit = %v, want %v", tt.now, got, tt.expired)
		}
		plugin := now.In(JST).Format("200601021504") > "202604012359"
		if plugin != tt.expired {
			t.Errorf("plugin rule at %s = %v, want %v", tt.now, plugin, tt.expired)
		}
	}
}

func TestPayLimitRoundTrip(t *testing.T) {
	now := mustRFC3339(t, "2026-03-31T15:00:00Z")
	for days := 1; days <= MaxDueDays; days++ {
		s, err := PayLimitFromDueDays(now, days)
		if err != nil {
			t.Fatal(err)
		}
		limit, err := ParsePayLimit(s)
		if err != nil {
			t.Fatalf("ParsePayLimit(%q): %v", s, err)
		}
		want := jstAt(2026, 4, 1+days, 23, 59, 59, 999999999)
		if !limit.Equal(want) {
			t.Errorf("days %d: limit %v, want %v", days, limit, want)
		}
		if back, err := PayLimitFromDate(s[:8], now); err != nil || back != s {
			t.Errorf("PayLimitFromDate(%q) = %q, %v; want %q", s[:8], back, err, s)
		}
	}
}

func TestParseNyukinDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: error
	}{
		{"20260401123456", jstAt(2026, 4, 1, 12, 34, 56, 0)},
		{"20260401235959", jstAt(2026, 4, 1, 23, 59, 59, 0)},
		{"202604011234", jstAt(2026, 4, 1, 12, 34, 0, 0)},
		{"20260401", jstAt(2026, 4, 1, 0, 0, 0, 0)},
		{"20280229000000", jstAt(2028, 2, 29, 0, 0, 0, 0)},
		{"20260229000000", time.Time{}},
		{"20260401240000", time.Time{}},
		{"20260401126000", time.Time{}},
		{"20260401123460", time.Time{}}, // no leap seconds
		{"2026040112", time.Time{}},     // 10 digits
		{"2026040112345", time.Time{}},  // 13 digits
		{"202604011234567", time.Time{}},
		{"2026/04/01 12:34:56", time.Time{}},
		{"2026-04-01T12:34:56+09:00", time.Time{}},
		{"2026040112345a", time.Time{}},
		{"-0260401123456", time.Time{}},
		{"", time.Time{}},
		{"garbage", time.Time{}},
	}
	for _, tt := range tests {
		got, err := ParseNyukinDate(tt.in)
		if tt.want.IsZero() {
			if err == nil {
				t.Errorf("ParseNyukinDate(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseNyukinDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatNyukinDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"2026-04-01T12:34:56+09:00", "20260401123456"},
		{"2026-03-31T15:00:00Z", "20260401000000"},
		{"2026-03-31T14:59:59.999Z", "20260331235959"}, // truncated, not rounded
		{"2028-02-28T15:01:02Z", "20280229000102"},
	}
	for _, tt := range tests {
		got := FormatNyukinDate(mustRFC3339(t, tt.in))
		if got != tt.want {
			t.Errorf("FormatNyukinDate(%s) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseNyukinDate(got)
		if err != nil || back.Format(time.RFC3339) != mustRFC3339(t, tt.in).Truncate(time.Second).In(JST).Format(time.RFC3339) {
			t.Errorf("ParseNyukinDate(FormatNyukinDate(%s)) = %v, %v", tt.in, back, err)
		}
	}
}

func TestFormatDisplayDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"2026-03-31T15:05:00Z", "2026年4月1日 00:05"},
		{"2026-12-09T09:07:59+09:00", "2026年12月9日 09:07"},
		{"2026-10-10T23:59:59+09:00", "2026年10月10日 23:59"},
		{"2028-02-28T15:00:00Z", "2028年2月29日 00:00"},
	}
	for _, tt := range tests {
		if got := FormatDisplayDate(mustRFC3339(t, tt.in)); got != tt.want {
			t.Errorf("FormatDisplayDate(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A PayLimit displays as its due minute.
	limit, err := ParsePayLimit("202604012359")
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatDisplayDate(limit); got != "2026年4月1日 23:59" {
		t.Errorf("FormatDisplayDate(PayLimit) = %q", got)
	}
}

func FuzzParsePayLimit(f *testing.F) {
	f.Add("202604012359")
	f.Fuzz(func(t *testing.T, s string) {
		limit, err := ParsePayLimit(s)
		if err != nil {
			if limit != (time.Time{}) {
				t.Errorf("ParsePayLimit(%q) returned %v with error %v", s, limit, err)
			}
			return
		}
		if len(s) != 12 || !asciiDigitsOnly(s) {
			t.Fatalf("ParsePayLimit(%q) accepted a non-12-digit string", s)
		}
		j := limit.In(JST)
		if got := j.Format("200601021504"); got != s {
			t.Errorf("ParsePayLimit(%q) = %v, formats back as %q", s, limit, got)
		}
		if j.Second() != 59 || j.Nanosecond() != 999999999 {
			t.Errorf("ParsePayLimit(%q) = %v, not the end of the minute", s, limit)
		}
		if d, err := ParseDate(s[:8]); err != nil || !d.Equal(jstMidnight(limit)) {
			t.Errorf("ParseDate(%q) = %v, %v; disagrees with ParsePayLimit", s[:8], d, err)
		}
	})
}

func FuzzParseNyukinDate(f *testing.F) {
	f.Add("20260401123456")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseNyukinDate(s)
		if err != nil {
			if got != (time.Time{}) {
				t.Errorf("ParseNyukinDate(%q) returned %v with error %v", s, got, err)
			}
			return
		}
		if (len(s) != 8 && len(s) != 12 && len(s) != 14) || !asciiDigitsOnly(s) {
			t.Fatalf("ParseNyukinDate(%q) accepted a bad string", s)
		}
		// Round trip: the missing parts of the short forms are zero.
		want := s + strings.Repeat("0", 14-len(s))
		if back := FormatNyukinDate(got); back != want {
			t.Errorf("FormatNyukinDate(ParseNyukinDate(%q)) = %q, want %q", s, back, want)
		}
		again, err := ParseNyukinDate(want)
		if err != nil || !again.Equal(got) {
			t.Errorf("ParseNyukinDate(%q) = %v, %v; want %v", want, again, err, got)
		}
	})
}
