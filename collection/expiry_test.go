package collection

import (
	"errors"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

func jst(y int, m time.Month, d, h, min, s, ns int) time.Time {
	return time.Date(y, m, d, h, min, s, ns, escott.JST)
}

// TestExpired is CVS-11 / design A-07 around JST midnight and month ends:
// a collection is payable until the end of its PayLimit minute and expired
// from the next instant, wherever the clock's location is.
func TestExpired(t *testing.T) {
	for _, c := range []struct {
		payLimit string
		now      time.Time
		want     bool
	}{
		{"202612012359", jst(2026, 12, 1, 23, 58, 59, 0), false},
		{"202612012359", jst(2026, 12, 1, 23, 59, 0, 0), false},
		{"202612012359", jst(2026, 12, 1, 23, 59, 59, 999_999_999), false},
		{"202612012359", jst(2026, 12, 2, 0, 0, 0, 0), true},
		{"202612012359", jst(2026, 12, 2, 0, 0, 0, 1), true},
		// The same instants seen from UTC: 15:00 UTC is JST midnight.
		{"202612012359", time.Date(2026, 12, 1, 14, 59, 59, 0, time.UTC), false},
		{"202612012359", time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC), true},
		// In UTC it is still 1 December when JST is already the 2nd: a
		// date-only comparison in the server's zone would get this wrong.
		{"202612012359", time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC), true},
		// Month and year ends.
		{"202601312359", jst(2026, 1, 31, 23, 59, 30, 0), false},
		{"202601312359", jst(2026, 2, 1, 0, 0, 0, 0), true},
		{"202602282359", jst(2026, 2, 28, 23, 59, 59, 0), false},
		{"202602282359", jst(2026, 3, 1, 0, 0, 0, 0), true},
		{"202802292359", jst(2028, 2, 29, 12, 0, 0, 0), false}, // leap day
		{"202802292359", jst(2028, 3, 1, 0, 0, 0, 0), true},
		{"202612312359", jst(2026, 12, 31, 23, 59, 59, 0), false},
		{"202612312359", jst(2027, 1, 1, 0, 0, 0, 0), true},
		// A PayLimit that is not at 23:59 (an operator or a gateway
		// change could set one) ends at its own minute.
		{"202612011200", jst(2026, 12, 1, 12, 0, 59, 0), false},
		{"202612011200", jst(2026, 12, 1, 12, 1, 0, 0), true},
		// Long past and far ahead.
		{"202001012359", jst(2026, 1, 1, 0, 0, 0, 0), true},
		{"203001012359", jst(2026, 1, 1, 0, 0, 0, 0), false},
	} {
		got, err := Expired(c.payLimit, c.now)
		if err != nil || got != c.want {
			t.Errorf("Expired(%s, %v) = %v, %v; want %v", c.payLimit, c.now, got, err, c.want)
		}
	}
}

// TestExpiredMatchesPluginRule compares with the plugins' rule (spec
// §10.3): expired when the current JST YYYYMMDDhhmm is greater, as a
// string, than PayLimit.
func TestExpiredMatchesPluginRule(t *testing.T) {
	limit := "202603312359"
	start := jst(2026, 3, 31, 23, 55, 0, 0)
	for s := 0; s < 10*60; s += 7 {
		now := start.Add(time.Duration(s) * time.Second)
		plugin := now.In(escott.JST).Format("200601021504") > limit
		got, err := Expired(limit, now)
		if err != nil || got != plugin {
			t.Errorf("at %v: Expired = %v, plugin rule = %v", now, got, plugin)
		}
	}
}

// TestExpiredMalformed: a malformed PayLimit is an error, not a guess.
func TestExpiredMalformed(t *testing.T) {
	for _, pl := range []string{"", "20261201", "2026120123590", "20261301235９", "202602302359", "202612012460", "abcdefghijkl"} {
		if _, err := Expired(pl, time.Now()); err == nil {
			t.Errorf("Expired(%q) accepted", pl)
		}
		if _, err := DueAt(pl); err == nil {
			t.Errorf("DueAt(%q) accepted", pl)
		}
	}
}

// TestDueAt is the last paying second of a PayLimit, in JST.
func TestDueAt(t *testing.T) {
	got, err := DueAt("202612012359")
	if err != nil || !got.Equal(jst(2026, 12, 1, 23, 59, 59, 0)) || got.Location() != escott.JST {
		t.Fatalf("DueAt = %v, %v", got, err)
	}
}

// TestPayLimitForDueDays is CVS-05 / SET-15 with A-03's range, around JST
// midnight and month ends.
func TestPayLimitForDueDays(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		days int
		want string
	}{
		{jst(2026, 6, 1, 10, 0, 0, 0), 7, "202606082359"},
		{jst(2026, 6, 1, 23, 59, 59, 0), 1, "202606022359"},
		{jst(2026, 6, 2, 0, 0, 0, 0), 1, "202606032359"},
		{time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC), 1, "202606032359"}, // already 2 June in JST
		{jst(2026, 1, 31, 12, 0, 0, 0), 1, "202602012359"},
		{jst(2026, 2, 28, 12, 0, 0, 0), 1, "202603012359"},
		{jst(2026, 12, 31, 12, 0, 0, 0), 1, "202701012359"},
		{jst(2026, 1, 1, 0, 0, 0, 0), 60, "202603022359"},
	} {
		got, err := PayLimitForDueDays(c.now, c.days)
		if err != nil || got != c.want {
			t.Errorf("PayLimitForDueDays(%v, %d) = %q, %v; want %q", c.now, c.days, got, err, c.want)
		}
	}
	for _, days := range []int{-1, 0, 61} {
		_, err := PayLimitForDueDays(jst(2026, 6, 1, 0, 0, 0, 0), days)
		var e *kessai.Error
		if !errors.As(err, &e) || e.Kind != kessai.KindInvalid || e.Field != "collection.due_days" || e.Ja == "" || e.En == "" {
			t.Errorf("PayLimitForDueDays(%d) error = %#v", days, err)
		}
	}
}

// TestPayLimitForDate covers the operator's due date (ADMIN-13/15, design
// today allowed, past refused, at most 60 days, plugin
// wording.
func TestPayLimitForDate(t *testing.T) {
	now := jst(2026, 1, 31, 23, 30, 0, 0)
	for _, c := range []struct {
		date string
		want string
		code string
	}{
		{"20260131", "202601312359", ""}, // today
		{"20260201", "202602012359", ""},
		{"2026-02-01", "202602012359", ""}, // a browser's date input
		{"２０２６０２０１", "202602012359", ""},   // full-width digits
		{" 20260201 ", "202602012359", ""},
		{"20260401", "202604012359", ""}, // today + 60 days
		{"20260402", "", "due_date_too_late"},
		{"20260130", "", "due_date_in_past"},
		{"20260230", "", "invalid_due_date"}, // not a calendar date
		{"2026021", "", "invalid_due_date"},
		{"2026/02/01", "", "invalid_due_date"},
		{"202602012359", "", "invalid_due_date"},
		{"", "", "invalid_due_date"},
	} {
		got, err := PayLimitForDate(c.date, now)
		if c.code == "" {
			if err != nil || got != c.want {
				t.Errorf("PayLimitForDate(%q) = %q, %v; want %q", c.date, got, err, c.want)
			}
			continue
		}
		var e *kessai.Error
		if !errors.As(err, &e) || e.Code != c.code || e.Field != DueDateField || e.Kind != kessai.KindInvalid || e.Ja == "" || e.En == "" {
			t.Errorf("PayLimitForDate(%q) = %q, %#v; want %s", c.date, got, err, c.code)
		}
	}
	_, err := PayLimitForDate("2026-2-1", now)
	if e := kessai.AsError(err); e.Message("ja") != "支払期限の形式が不正です。８桁の数字で入力してください。" {
		t.Errorf("format message = %q", e.Message("ja"))
	}
	// Just after JST midnight "today" is the new day: yesterday is past.
	if _, err := PayLimitForDate("20260131", jst(2026, 2, 1, 0, 0, 0, 0)); kessai.AsError(err).Code != "due_date_in_past" {
		t.Errorf("yesterday after midnight: %v", err)
	}
	if _, err := PayLimitForDate("20260131", time.Date(2026, 1, 31, 14, 59, 59, 0, time.UTC)); err != nil {
		t.Errorf("today seen from UTC: %v", err)
	}
}
