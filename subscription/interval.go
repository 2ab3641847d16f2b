package subscription

import (
	"fmt"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Unit is the calendar unit of a billing interval.
type Unit string

// The units. Days and weeks are fixed lengths (Japan has no daylight
// saving, so a JST day is always 24 hours); months and years are calendar
// steps with month-end handling (see [Interval.Date]).
const (
	Day   Unit = "day"
	Week  Unit = "week"
	Month Unit = "month"
	Year  Unit = "year"
)

// MaxCount is the largest Count accepted for a unit: a year in days or
// weeks, two years in months, five years in years. Longer intervals are
// almost always input mistakes (a "12 years" meant as "12 months"), and a
// card stored at SPS for that long would have expired anyway. 0 for an
// unknown unit.
func MaxCount(u Unit) int {
	switch u {
	case Day:
		return 365
	case Week:
		return 52
	case Month:
		return 24
	case Year:
		return 5
	}
	return 0
}

// labelJa is the unit as it follows a count in Japanese ("3か月").
func (u Unit) labelJa() string {
	switch u {
	case Day:
		return "日"
	case Week:
		return "週間"
	case Month:
		return "か月"
	case Year:
		return "年"
	}
	return string(u)
}

// Interval is how often a subscription is billed: every Count Units,
// optionally on a fixed day of the month.
type Interval struct {
	Unit  Unit `json:"unit"`
	Count int  `json:"count"`
	// AnchorDay is the day of the month renewals fall on (1–31), for month
	// and year units only; 0 means the day of the first billing date. A
	// day the month lacks means its last day (31 → 30 April, 28 or 29
	// February), and the next long month is back on the anchor.
	AnchorDay int `json:"anchor_day,omitempty"`
}

// Field names of the interval in validation errors.
const (
	FieldUnit      = "interval.unit"
	FieldCount     = "interval.count"
	FieldAnchorDay = "interval.anchor_day"
)

// Validate checks the interval as a shop or API client entered it. All
// problems are reported at once as kessai.ValidationErrors, each a
// KindInvalid error on its field with a Japanese and English message.
func (i Interval) Validate() error {
	var v kessai.ValidationErrors
	maxCount := MaxCount(i.Unit)
	if maxCount == 0 {
		v.Add(FieldUnit, "invalid_interval_unit",
			"課金周期の単位は day（日）・week（週）・month（月）・year（年）のいずれかで指定してください。",
			"The interval unit must be day, week, month or year.")
	} else if i.Count < 1 || i.Count > maxCount {
		v.Add(FieldCount, "invalid_interval_count",
			fmt.Sprintf("課金周期は1〜%d%sの範囲で指定してください。", maxCount, i.Unit.labelJa()),
			fmt.Sprintf("The interval count must be between 1 and %d for the unit %s.", maxCount, i.Unit))
	}
	switch {
	case i.AnchorDay == 0:
	case i.AnchorDay < 1 || i.AnchorDay > 31:
		v.Add(FieldAnchorDay, "invalid_anchor_day",
			"課金日は1〜31日で指定してください（0は初回課金日と同じ日）。",
			"The anchor day must be between 1 and 31 (0 means the day of the first billing date).")
	case i.Unit == Day || i.Unit == Week:
		v.Add(FieldAnchorDay, "anchor_day_not_allowed",
			"課金日は月単位または年単位の課金周期でのみ指定できます。",
			"An anchor day can only be set for monthly or yearly intervals.")
	}
	return v.Err()
}

// computable reports whether dates can be computed at all. It is weaker
// than Validate on purpose: a row stored before a maximum was lowered
// still renews, while a unit or count that would make the arithmetic
// meaningless (or loop) yields no date.
func (i Interval) computable() bool {
	return MaxCount(i.Unit) > 0 && i.Count >= 1
}

// anchor is the anchor day that applies, or 0: out-of-range values and
// anchors on day or week units (which Validate refuses) are ignored.
func (i Interval) anchor() int {
	if (i.Unit == Month || i.Unit == Year) && i.AnchorDay >= 1 && i.AnchorDay <= 31 {
		return i.AnchorDay
	}
	return 0
}

// daysIn is the number of days of a month.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// onDay is the JST instant on day (clamped to the month's last day) of
// y-m, at the clock time of clock (a JST time).
func onDay(y int, m time.Month, day int, clock time.Time) time.Time {
	day = min(day, daysIn(y, m))
	hh, mm, ss := clock.Clock()
	return time.Date(y, m, day, hh, mm, ss, clock.Nanosecond(), escott.JST)
}

// Date is the nth billing date of the schedule that starts at first
// (n = 0 is first itself; a negative n is read as 0). Dates are JST
// calendar dates at first's JST time of day, returned in escott.JST.
//
// The nth date is computed from first and n, never by stepping from the
// previous date, so a schedule never drifts: a monthly schedule on the
// 31st gives 28 (29) February, then 31 March, 30 April, 31 May, …, not
// the 28th for ever. The day a monthly or yearly schedule aims at is
// AnchorDay when set, else first's day; first's month is the month of a
// yearly schedule, so a yearly schedule from 29 February 2028 falls on
// 28 February in common years and on the 29th again in 2032.
//
// first should be [FirstBillingDate]'s result: with an anchor, dates from
// n = 1 fall on the anchor whatever first's day. An interval with an
// unknown unit or a count below 1 has no dates: the zero Time.
func (i Interval) Date(first time.Time, n int) time.Time {
	if !i.computable() {
		return time.Time{}
	}
	f := first.In(escott.JST)
	if n <= 0 {
		return f
	}
	y, m, d := f.Date()
	day := d
	if a := i.anchor(); a != 0 {
		day = a
	}
	switch i.Unit {
	case Day:
		return f.AddDate(0, 0, n*i.Count)
	case Week:
		return f.AddDate(0, 0, 7*n*i.Count)
	case Month:
		months := int(m) - 1 + n*i.Count
		return onDay(y+months/12, time.Month(months%12+1), day, f)
	default: // Year
		return onDay(y+n*i.Count, m, day, f)
	}
}

// Next is the first billing date strictly after after, with its index n
// (so that i.Date(first, n) is the same date): first itself (n = 0) when
// after is before first. An interval with no dates (see [Interval.Date])
// gives the zero Time and n = -1.
//
// This is what the renewal engine asks after a payment (the next period
// starts at the first date in the future, so periods missed while a
// subscription was on hold are skipped, never charged afterwards) and
// what a resume uses.
func Next(after, first time.Time, i Interval) (time.Time, int) {
	if !i.computable() {
		return time.Time{}, -1
	}
	f := first.In(escott.JST)
	if after.Before(f) {
		return f, 0
	}
	// Estimate n from the distance between the two dates, then correct:
	// the dates strictly increase with n, so at most a step or two is
	// needed either way. Unix seconds rather than a time.Duration, which
	// saturates after 292 years.
	a := after.In(escott.JST)
	var n int
	switch i.Unit {
	case Day, Week:
		period := int64(i.Count) * 86400
		if i.Unit == Week {
			period *= 7
		}
		n = int((a.Unix() - f.Unix()) / period)
	case Month:
		n = ((a.Year()-f.Year())*12 + int(a.Month()) - int(f.Month())) / i.Count
	case Year:
		n = (a.Year() - f.Year()) / i.Count
	}
	n = max(n, 0)
	for !i.Date(f, n).After(after) {
		n++
	}
	for n > 0 && i.Date(f, n-1).After(after) {
		n--
	}
	return i.Date(f, n), n
}

// FirstBillingDate is the first billing date of a subscription started
// at start: start itself, or trialEnd when a trial ends after start (no
// charge before the trial ends). With an anchor day it is the first date
// on or after that moment whose day is the anchor (the month's last day
// when the month is shorter), at that moment's time of day; for a yearly
// interval that date's month becomes the month of every renewal.
//
// Anchored subscriptions are not prorated: the days from start (or the
// trial's end) to the first anchor date cost nothing, and the first
// charge, on the anchor date, is the full amount for a full interval. A
// start on the anchor day is charged at once, like an unanchored one.
//
// The result is in escott.JST. The interval is not validated here; an
// anchor that does not apply (a day or week unit, out of range) is
// ignored.
func FirstBillingDate(start, trialEnd time.Time, i Interval) time.Time {
	base := start
	if !trialEnd.IsZero() && trialEnd.After(start) {
		base = trialEnd
	}
	b := base.In(escott.JST)
	a := i.anchor()
	if a == 0 {
		return b
	}
	y, m, d := b.Date()
	if min(a, daysIn(y, m)) >= d {
		return onDay(y, m, a, b)
	}
	next := time.Date(y, m+1, 1, 0, 0, 0, 0, escott.JST)
	return onDay(next.Year(), next.Month(), a, b)
}
