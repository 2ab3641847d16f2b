package subscription

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// jst is a JST time on the minute.
func jst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, escott.JST)
}

// fieldCodes lists "field:code" of a validation error, in order.
func fieldCodes(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var v kessai.ValidationErrors
	if !errors.As(err, &v) {
		t.Fatalf("error %v is not ValidationErrors", err)
	}
	var out []string
	for _, e := range v {
		if e.Kind != kessai.KindInvalid || e.Ja == "" || e.En == "" || e.Field == "" {
			t.Errorf("field error %#v lacks kind, field or a message", e)
		}
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

func TestIntervalValidate(t *testing.T) {
	for _, c := range []struct {
		i    Interval
		want []string
	}{
		{Interval{Unit: Month, Count: 1}, nil},
		{Interval{Unit: Day, Count: 1}, nil},
		{Interval{Unit: Day, Count: 365}, nil},
		{Interval{Unit: Week, Count: 52}, nil},
		{Interval{Unit: Month, Count: 24, AnchorDay: 31}, nil},
		{Interval{Unit: Year, Count: 5, AnchorDay: 1}, nil},
		{Interval{Unit: Day, Count: 366}, []string{"interval.count:invalid_interval_count"}},
		{Interval{Unit: Week, Count: 53}, []string{"interval.count:invalid_interval_count"}},
		{Interval{Unit: Month, Count: 25}, []string{"interval.count:invalid_interval_count"}},
		{Interval{Unit: Year, Count: 6}, []string{"interval.count:invalid_interval_count"}},
		{Interval{Unit: Month, Count: 0}, []string{"interval.count:invalid_interval_count"}},
		{Interval{Unit: Month, Count: -1}, []string{"interval.count:invalid_interval_count"}},
		{Interval{Unit: "Month", Count: 1}, []string{"interval.unit:invalid_interval_unit"}},
		{Interval{Unit: "", Count: 1}, []string{"interval.unit:invalid_interval_unit"}},
		{Interval{Unit: Month, Count: 1, AnchorDay: 32}, []string{"interval.anchor_day:invalid_anchor_day"}},
		{Interval{Unit: Month, Count: 1, AnchorDay: -1}, []string{"interval.anchor_day:invalid_anchor_day"}},
		{Interval{Unit: Week, Count: 1, AnchorDay: 3}, []string{"interval.anchor_day:anchor_day_not_allowed"}},
		{Interval{Unit: Day, Count: 1, AnchorDay: 3}, []string{"interval.anchor_day:anchor_day_not_allowed"}},
		// Everything at once, in field order.
		{Interval{Unit: "fortnight", AnchorDay: 40}, []string{"interval.unit:invalid_interval_unit", "interval.anchor_day:invalid_anchor_day"}},
		{Interval{Unit: Day, Count: 0, AnchorDay: 2}, []string{"interval.count:invalid_interval_count", "interval.anchor_day:anchor_day_not_allowed"}},
	} {
		if got := fieldCodes(t, c.i.Validate()); !slices.Equal(got, c.want) {
			t.Errorf("%+v.Validate() = %v; want %v", c.i, got, c.want)
		}
	}
	// The count message names the unit's maximum.
	err := Interval{Unit: Month, Count: 30}.Validate()
	if e := kessai.AsError(err); e.Message("ja") != "課金周期は1〜24か月の範囲で指定してください。" || e.Kind != kessai.KindInvalid {
		t.Errorf("message = %q (%s)", e.Message("ja"), e.Kind)
	}
}

func TestMaxCount(t *testing.T) {
	for u, want := range map[Unit]int{Day: 365, Week: 52, Month: 24, Year: 5, "hour": 0} {
		if got := MaxCount(u); got != want {
			t.Errorf("MaxCount(%s) = %d; want %d", u, got, want)
		}
	}
}

// TestIntervalDate is the schedule arithmetic: month ends, anchors,
// leap years (2028 leap, 2100 not, 2000 leap), counts above 1, large n
// and JST midnight.
func TestIntervalDate(t *testing.T) {
	monthly := Interval{Unit: Month, Count: 1}
	for _, c := range []struct {
		name  string
		i     Interval
		first time.Time
		n     int
		want  time.Time
	}{
		{"n=0 is first", monthly, jst(2026, 1, 31, 10, 0), 0, jst(2026, 1, 31, 10, 0)},
		{"negative n is first", monthly, jst(2026, 1, 31, 10, 0), -3, jst(2026, 1, 31, 10, 0)},
		{"31 Jan → 28 Feb", monthly, jst(2026, 1, 31, 10, 0), 1, jst(2026, 2, 28, 10, 0)},
		{"back to 31 Mar", monthly, jst(2026, 1, 31, 10, 0), 2, jst(2026, 3, 31, 10, 0)},
		{"30 Apr", monthly, jst(2026, 1, 31, 10, 0), 3, jst(2026, 4, 30, 10, 0)},
		{"31 May", monthly, jst(2026, 1, 31, 10, 0), 4, jst(2026, 5, 31, 10, 0)},
		{"31 Dec", monthly, jst(2026, 1, 31, 10, 0), 11, jst(2026, 12, 31, 10, 0)},
		{"next Feb, common", monthly, jst(2026, 1, 31, 10, 0), 13, jst(2027, 2, 28, 10, 0)},
		{"Feb of leap 2028", monthly, jst(2026, 1, 31, 10, 0), 25, jst(2028, 2, 29, 10, 0)},
		{"100 years on, no drift", monthly, jst(2026, 1, 31, 10, 0), 1200, jst(2126, 1, 31, 10, 0)},
		{"100 years on, Feb", monthly, jst(2026, 1, 31, 10, 0), 1201, jst(2126, 2, 28, 10, 0)},
		{"Feb 2100 is not leap", monthly, jst(2099, 12, 31, 10, 0), 2, jst(2100, 2, 28, 10, 0)},
		{"Feb 2000 was leap", monthly, jst(1999, 12, 31, 10, 0), 2, jst(2000, 2, 29, 10, 0)},
		{"30th in Feb", monthly, jst(2026, 1, 30, 9, 15), 1, jst(2026, 2, 28, 9, 15)},
		{"28th stays 28th", monthly, jst(2026, 2, 28, 9, 15), 1, jst(2026, 3, 28, 9, 15)},
		{"anchor 31 from a clamped first", Interval{Unit: Month, Count: 1, AnchorDay: 31}, jst(2026, 2, 28, 8, 0), 1, jst(2026, 3, 31, 8, 0)},
		{"anchor 31 in April", Interval{Unit: Month, Count: 1, AnchorDay: 31}, jst(2026, 2, 28, 8, 0), 2, jst(2026, 4, 30, 8, 0)},
		{"anchor 30 in Feb", Interval{Unit: Month, Count: 1, AnchorDay: 30}, jst(2026, 1, 30, 8, 0), 1, jst(2026, 2, 28, 8, 0)},
		{"anchor 30 back", Interval{Unit: Month, Count: 1, AnchorDay: 30}, jst(2026, 1, 30, 8, 0), 2, jst(2026, 3, 30, 8, 0)},
		{"anchor 29, leap Feb", Interval{Unit: Month, Count: 1, AnchorDay: 29}, jst(2028, 1, 29, 8, 0), 1, jst(2028, 2, 29, 8, 0)},
		{"anchor 29, common Feb", Interval{Unit: Month, Count: 1, AnchorDay: 29}, jst(2027, 1, 29, 8, 0), 1, jst(2027, 2, 28, 8, 0)},
		{"anchor 29 back in Mar", Interval{Unit: Month, Count: 1, AnchorDay: 29}, jst(2027, 1, 29, 8, 0), 2, jst(2027, 3, 29, 8, 0)},
		{"anchor 1", Interval{Unit: Month, Count: 1, AnchorDay: 1}, jst(2026, 5, 1, 0, 0), 8, jst(2027, 1, 1, 0, 0)},
		{"every 3 months from 30 Nov", Interval{Unit: Month, Count: 3}, jst(2026, 11, 30, 12, 0), 1, jst(2027, 2, 28, 12, 0)},
		{"every 3 months back to 30", Interval{Unit: Month, Count: 3}, jst(2026, 11, 30, 12, 0), 2, jst(2027, 5, 30, 12, 0)},
		{"every 3 months, a year on", Interval{Unit: Month, Count: 3}, jst(2026, 11, 30, 12, 0), 4, jst(2027, 11, 30, 12, 0)},
		{"every 24 months", Interval{Unit: Month, Count: 24}, jst(2026, 2, 28, 12, 0), 1, jst(2028, 2, 28, 12, 0)},
		{"every 6 months, 31 Aug → 28 Feb", Interval{Unit: Month, Count: 6}, jst(2026, 8, 31, 12, 0), 1, jst(2027, 2, 28, 12, 0)},
		{"yearly 29 Feb → 28 Feb", Interval{Unit: Year, Count: 1}, jst(2028, 2, 29, 10, 0), 1, jst(2029, 2, 28, 10, 0)},
		{"yearly back to 29 Feb", Interval{Unit: Year, Count: 1}, jst(2028, 2, 29, 10, 0), 4, jst(2032, 2, 29, 10, 0)},
		{"yearly 2100 not leap", Interval{Unit: Year, Count: 1}, jst(2028, 2, 29, 10, 0), 72, jst(2100, 2, 28, 10, 0)},
		{"yearly 2000 leap", Interval{Unit: Year, Count: 1}, jst(1996, 2, 29, 10, 0), 4, jst(2000, 2, 29, 10, 0)},
		{"yearly 1997 common", Interval{Unit: Year, Count: 1}, jst(1996, 2, 29, 10, 0), 1, jst(1997, 2, 28, 10, 0)},
		{"yearly anchor 29 in Feb", Interval{Unit: Year, Count: 1, AnchorDay: 29}, jst(2027, 2, 28, 10, 0), 1, jst(2028, 2, 29, 10, 0)},
		{"every 2 years", Interval{Unit: Year, Count: 2}, jst(2026, 3, 31, 10, 0), 1, jst(2028, 3, 31, 10, 0)},
		{"every 5 years", Interval{Unit: Year, Count: 5}, jst(2026, 6, 15, 10, 0), 3, jst(2041, 6, 15, 10, 0)},
		{"daily over month end", Interval{Unit: Day, Count: 1}, jst(2026, 2, 27, 23, 30), 2, jst(2026, 3, 1, 23, 30)},
		{"daily over leap day", Interval{Unit: Day, Count: 1}, jst(2028, 2, 28, 23, 30), 1, jst(2028, 2, 29, 23, 30)},
		{"every 30 days", Interval{Unit: Day, Count: 30}, jst(2026, 2, 27, 10, 0), 12, jst(2027, 2, 22, 10, 0)},
		{"daily, n large", Interval{Unit: Day, Count: 1}, jst(2026, 1, 1, 10, 0), 100000, jst(2299, 10, 17, 10, 0)},
		{"weekly over year end", Interval{Unit: Week, Count: 1}, jst(2026, 12, 28, 7, 0), 1, jst(2027, 1, 4, 7, 0)},
		{"every 2 weeks", Interval{Unit: Week, Count: 2}, jst(2026, 12, 28, 7, 0), 26, jst(2027, 12, 27, 7, 0)},
		{"every 3 weeks, n large", Interval{Unit: Week, Count: 3}, jst(2026, 1, 1, 7, 0), 500, jst(2054, 10, 1, 7, 0)},
		// JST midnight: 23:30 JST on 31 Jan is still 31 Jan, though UTC
		// says 14:30; 00:30 JST on 1 Feb is 1 Feb, though UTC says 31 Jan.
		{"23:30 JST given in UTC", monthly, time.Date(2026, 1, 31, 14, 30, 0, 0, time.UTC), 1, jst(2026, 2, 28, 23, 30)},
		{"00:30 JST given in UTC", monthly, time.Date(2026, 1, 31, 15, 30, 0, 0, time.UTC), 1, jst(2026, 3, 1, 0, 30)},
		{"23:30 JST yearly leap day", Interval{Unit: Year, Count: 1}, time.Date(2028, 2, 29, 14, 30, 0, 0, time.UTC), 1, jst(2029, 2, 28, 23, 30)},
	} {
		got := c.i.Date(c.first, c.n)
		if !got.Equal(c.want) || got.Location() != escott.JST {
			t.Errorf("%s: %+v.Date(%v, %d) = %v; want %v", c.name, c.i, c.first, c.n, got, c.want)
		}
	}
}

// TestIntervalDateKeepsNanoseconds: the time of day is kept exactly.
func TestIntervalDateKeepsNanoseconds(t *testing.T) {
	first := time.Date(2026, 1, 31, 23, 59, 59, 999_999_999, escott.JST)
	got := Interval{Unit: Month, Count: 1}.Date(first, 1)
	if want := time.Date(2026, 2, 28, 23, 59, 59, 999_999_999, escott.JST); !got.Equal(want) {
		t.Errorf("Date = %v; want %v", got, want)
	}
}

// TestNoDates: an interval the arithmetic cannot use gives no date rather
// than looping or panicking.
func TestNoDates(t *testing.T) {
	first := jst(2026, 1, 1, 0, 0)
	for _, i := range []Interval{{}, {Unit: Month}, {Unit: Month, Count: -2}, {Unit: "hour", Count: 1}} {
		if d := i.Date(first, 3); !d.IsZero() {
			t.Errorf("%+v.Date = %v; want zero", i, d)
		}
		if d, n := Next(first, first, i); !d.IsZero() || n != -1 {
			t.Errorf("Next(%+v) = %v, %d; want zero, -1", i, d, n)
		}
	}
	// A count above the maximum still computes: a stored row keeps
	// renewing if a maximum is lowered later.
	if d := (Interval{Unit: Month, Count: 36}).Date(first, 1); !d.Equal(jst(2029, 1, 1, 0, 0)) {
		t.Errorf("count 36: %v", d)
	}
	// An anchor on a week unit, or out of range, is ignored.
	if d := (Interval{Unit: Week, Count: 1, AnchorDay: 15}).Date(first, 1); !d.Equal(jst(2026, 1, 8, 0, 0)) {
		t.Errorf("week anchor: %v", d)
	}
	if d := (Interval{Unit: Month, Count: 1, AnchorDay: 45}).Date(jst(2026, 1, 10, 0, 0), 1); !d.Equal(jst(2026, 2, 10, 0, 0)) {
		t.Errorf("anchor 45: %v", d)
	}
}

func TestFirstBillingDate(t *testing.T) {
	monthly := Interval{Unit: Month, Count: 1}
	anchored := func(u Unit, day int) Interval { return Interval{Unit: u, Count: 1, AnchorDay: day} }
	for _, c := range []struct {
		name     string
		start    time.Time
		trialEnd time.Time
		i        Interval
		want     time.Time
	}{
		{"no trial, no anchor: start", jst(2026, 4, 10, 14, 0), time.Time{}, monthly, jst(2026, 4, 10, 14, 0)},
		{"trial end", jst(2026, 4, 10, 14, 0), jst(2026, 4, 24, 14, 0), monthly, jst(2026, 4, 24, 14, 0)},
		{"trial end at its own time", jst(2026, 4, 10, 14, 0), jst(2026, 4, 25, 0, 0), monthly, jst(2026, 4, 25, 0, 0)},
		{"trial ending before start is ignored", jst(2026, 4, 10, 14, 0), jst(2026, 4, 1, 0, 0), monthly, jst(2026, 4, 10, 14, 0)},
		{"trial ending at start", jst(2026, 4, 10, 14, 0), jst(2026, 4, 10, 14, 0), monthly, jst(2026, 4, 10, 14, 0)},
		{"anchor later this month", jst(2026, 4, 10, 14, 0), time.Time{}, anchored(Month, 25), jst(2026, 4, 25, 14, 0)},
		{"anchor on the start day: start", jst(2026, 4, 25, 14, 0), time.Time{}, anchored(Month, 25), jst(2026, 4, 25, 14, 0)},
		{"anchor passed: next month", jst(2026, 4, 26, 14, 0), time.Time{}, anchored(Month, 25), jst(2026, 5, 25, 14, 0)},
		{"anchor 1 passed", jst(2026, 12, 2, 9, 0), time.Time{}, anchored(Month, 1), jst(2027, 1, 1, 9, 0)},
		{"anchor 31 in April: the 30th", jst(2026, 4, 10, 14, 0), time.Time{}, anchored(Month, 31), jst(2026, 4, 30, 14, 0)},
		{"anchor 31 on 30 April: today", jst(2026, 4, 30, 14, 0), time.Time{}, anchored(Month, 31), jst(2026, 4, 30, 14, 0)},
		{"anchor 31 on 1 Feb: 28 Feb", jst(2026, 2, 1, 14, 0), time.Time{}, anchored(Month, 31), jst(2026, 2, 28, 14, 0)},
		{"anchor 30 from 31 Jan: 28 Feb", jst(2026, 1, 31, 14, 0), time.Time{}, anchored(Month, 30), jst(2026, 2, 28, 14, 0)},
		{"anchor 29, leap Feb", jst(2028, 2, 10, 14, 0), time.Time{}, anchored(Month, 29), jst(2028, 2, 29, 14, 0)},
		{"anchor after a trial", jst(2026, 4, 10, 14, 0), jst(2026, 4, 24, 14, 0), anchored(Month, 20), jst(2026, 5, 20, 14, 0)},
		{"anchor on the trial's last day", jst(2026, 4, 10, 14, 0), jst(2026, 4, 20, 14, 0), anchored(Month, 20), jst(2026, 4, 20, 14, 0)},
		{"yearly anchor: next such day in any month", jst(2026, 4, 10, 14, 0), time.Time{}, anchored(Year, 1), jst(2026, 5, 1, 14, 0)},
		{"yearly anchor 29 in Feb 2027", jst(2027, 2, 5, 14, 0), time.Time{}, anchored(Year, 29), jst(2027, 2, 28, 14, 0)},
		{"anchor ignored for weeks", jst(2026, 4, 10, 14, 0), time.Time{}, Interval{Unit: Week, Count: 1, AnchorDay: 20}, jst(2026, 4, 10, 14, 0)},
		// JST midnight: 23:30 JST on the 25th counts as the 25th.
		{"23:30 JST on the anchor day", time.Date(2026, 4, 25, 14, 30, 0, 0, time.UTC), time.Time{}, anchored(Month, 25), jst(2026, 4, 25, 23, 30)},
		{"00:30 JST the day after", time.Date(2026, 4, 25, 15, 30, 0, 0, time.UTC), time.Time{}, anchored(Month, 25), jst(2026, 5, 25, 0, 30)},
	} {
		got := FirstBillingDate(c.start, c.trialEnd, c.i)
		if !got.Equal(c.want) || got.Location() != escott.JST {
			t.Errorf("%s: FirstBillingDate = %v; want %v", c.name, got, c.want)
		}
		if got.Before(c.start) || (!c.trialEnd.IsZero() && got.Before(c.trialEnd)) {
			t.Errorf("%s: %v is before the start or the trial's end", c.name, got)
		}
	}
}

func TestNext(t *testing.T) {
	monthly31 := Interval{Unit: Month, Count: 1}
	first := jst(2026, 1, 31, 10, 0)
	for _, c := range []struct {
		name  string
		i     Interval
		after time.Time
		want  time.Time
		n     int
	}{
		{"long before first", monthly31, jst(2020, 1, 1, 0, 0), first, 0},
		{"just before first", monthly31, first.Add(-time.Nanosecond), first, 0},
		{"at first: strictly after", monthly31, first, jst(2026, 2, 28, 10, 0), 1},
		{"just before a date", monthly31, jst(2026, 2, 28, 9, 59), jst(2026, 2, 28, 10, 0), 1},
		{"at a date", monthly31, jst(2026, 2, 28, 10, 0), jst(2026, 3, 31, 10, 0), 2},
		{"mid-month", monthly31, jst(2026, 3, 15, 0, 0), jst(2026, 3, 31, 10, 0), 2},
		{"same day, later", monthly31, jst(2026, 3, 31, 10, 1), jst(2026, 4, 30, 10, 0), 3},
		{"years on", monthly31, jst(2028, 2, 1, 0, 0), jst(2028, 2, 29, 10, 0), 25},
		{"seen from UTC", monthly31, time.Date(2026, 2, 28, 0, 59, 0, 0, time.UTC), jst(2026, 2, 28, 10, 0), 1},
		{"quarterly", Interval{Unit: Month, Count: 3}, jst(2026, 5, 1, 0, 0), jst(2026, 7, 31, 10, 0), 2},
		{"yearly", Interval{Unit: Year, Count: 1}, jst(2030, 6, 1, 0, 0), jst(2031, 1, 31, 10, 0), 5},
		{"yearly, on the date", Interval{Unit: Year, Count: 2}, jst(2028, 1, 31, 10, 0), jst(2030, 1, 31, 10, 0), 2},
		{"daily", Interval{Unit: Day, Count: 1}, jst(2026, 2, 1, 10, 0), jst(2026, 2, 2, 10, 0), 2},
		{"every 10 days", Interval{Unit: Day, Count: 10}, jst(2026, 2, 20, 9, 0), jst(2026, 2, 20, 10, 0), 2},
		{"weekly", Interval{Unit: Week, Count: 1}, jst(2026, 2, 14, 10, 0), jst(2026, 2, 21, 10, 0), 3},
		{"centuries later", Interval{Unit: Day, Count: 1}, jst(2400, 1, 1, 11, 0), jst(2400, 1, 2, 10, 0), 136571},
	} {
		got, n := Next(c.after, first, c.i)
		if !got.Equal(c.want) || n != c.n {
			t.Errorf("%s: Next(%v) = %v, %d; want %v, %d", c.name, c.after, got, n, c.want, c.n)
		}
	}
}

// checkSchedule checks the properties of the schedule of i from first
// over periods dates: strictly increasing, JST, first's time of day, the
// month-end rule (no drift), and agreement between Date and Next — both
// one Next at a time from first and Next from just before each date.
func checkSchedule(t *testing.T, i Interval, first time.Time, periods int) {
	t.Helper()
	f := first.In(escott.JST)
	day := f.Day()
	if i.anchor() != 0 {
		day = i.anchor()
	}
	prev := f
	walk := f
	for k := 1; k <= periods; k++ {
		d := i.Date(f, k)
		if !d.After(prev) {
			t.Fatalf("%+v from %v: date %d %v is not after %v", i, f, k, d, prev)
		}
		if d.Location() != escott.JST || d.Hour() != f.Hour() || d.Minute() != f.Minute() || d.Second() != f.Second() || d.Nanosecond() != f.Nanosecond() {
			t.Fatalf("%+v from %v: date %d %v lost the time of day", i, f, k, d)
		}
		switch i.Unit {
		case Month, Year:
			steps := k * i.Count
			if i.Unit == Year {
				steps *= 12
			}
			months := (d.Year()-f.Year())*12 + int(d.Month()) - int(f.Month())
			if months != steps || d.Day() != min(day, daysIn(d.Year(), d.Month())) {
				t.Fatalf("%+v from %v: date %d is %v", i, f, k, d)
			}
		case Day, Week:
			per := i.Count
			if i.Unit == Week {
				per *= 7
			}
			if got := d.Sub(f); got != time.Duration(k*per)*24*time.Hour {
				t.Fatalf("%+v from %v: date %d is %v after first", i, f, k, got)
			}
		}
		var n int
		walk, n = Next(walk, f, i)
		if n != k || !walk.Equal(d) {
			t.Fatalf("%+v from %v: Next #%d = %v, %d; Date = %v", i, f, k, walk, n, d)
		}
		if got, n := Next(d.Add(-time.Nanosecond), f, i); n != k || !got.Equal(d) {
			t.Fatalf("%+v from %v: Next before date %d = %v, %d", i, f, k, got, n)
		}
		if got, n := Next(prev.Add((d.Sub(prev))/2), f, i); n != k || !got.Equal(d) {
			t.Fatalf("%+v from %v: Next between dates %d and %d = %v, %d", i, f, k-1, k, got, n)
		}
		prev = d
	}
}

// TestScheduleProperties runs checkSchedule over 100 periods for every
// unit, several counts and anchors, from every day of 2027 and 2028 (a
// common and a leap year) at 23:30 JST, the time at which a UTC
// calendar would already be on the wrong day.
func TestScheduleProperties(t *testing.T) {
	intervals := []Interval{
		{Unit: Day, Count: 1}, {Unit: Day, Count: 45},
		{Unit: Week, Count: 1}, {Unit: Week, Count: 5},
		{Unit: Month, Count: 1}, {Unit: Month, Count: 5}, {Unit: Month, Count: 24},
		{Unit: Month, Count: 1, AnchorDay: 29}, {Unit: Month, Count: 1, AnchorDay: 30}, {Unit: Month, Count: 2, AnchorDay: 31},
		{Unit: Year, Count: 1}, {Unit: Year, Count: 3, AnchorDay: 31},
	}
	periods := 100
	if testing.Short() {
		periods = 24
	}
	for start := jst(2027, 1, 1, 23, 30); start.Year() < 2029; start = start.AddDate(0, 0, 1) {
		for _, i := range intervals {
			checkSchedule(t, i, FirstBillingDate(start, time.Time{}, i), periods)
		}
	}
}
