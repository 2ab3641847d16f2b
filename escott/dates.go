package escott

import (
	"errors"
	"fmt"
	"time"
)

// JST is Japan Standard Time (UTC+9), the zone of every date the gateway,
// the operator and the shopper see. It is a fixed zone rather than
// time.LoadLocation("Asia/Tokyo") because Japan has had no daylight saving
// since 1951 and a fixed zone needs no tzdata on the host: the binary gives
// the same dates in a scratch container as on a developer laptop.
var JST = time.FixedZone("JST", 9*60*60)

// Gateway layouts (spec §4.1).
const (
	layoutDate     = "20060102"       // TransactionDate, SalesDate, operator due dates
	layoutPayLimit = "200601021504"   // PayLimit
	layoutNyukin   = "20060102150405" // NyukinDate, full form
)

// payLimitTime is the time of day appended to a due date: the plugins (and
// the manual) make a collection payable until the end of the due day.
const payLimitTime = "2359"

// MaxDueDays is the longest due period of an online payment collection, in
// days (spec §10.3, [MANUAL]). The plugins do not enforce it; kessai does
// (design A-03), so a registration never fails at the gateway for it.
const MaxDueDays = 60

// Errors of [PayLimitFromDate] that an admin screen may want to word
// specifically; both are returned wrapped with the offending date.
var (
	ErrDueDateInPast  = errors.New("escott: due date is before today")
	ErrDueDateTooLate = fmt.Errorf("escott: due date is more than %d days after today", MaxDueDays)
)

// TransactionDate formats t as the gateway's TransactionDate/SalesDate,
// YYYYMMDD, on the JST calendar whatever t's own location.
func TransactionDate(t time.Time) string {
	return t.In(JST).Format(layoutDate)
}

// ParseDate parses an 8-digit YYYYMMDD date into midnight JST of that day.
// It is strict: exactly 8 ASCII digits forming a real calendar date
// ("20260230" and "2026-4-1" are errors), because these strings come from
// operators and the gateway and a silently normalised date would be a
// different date.
func ParseDate(s string) (time.Time, error) {
	if len(s) != len(layoutDate) || !asciiDigitsOnly(s) {
		return time.Time{}, fmt.Errorf("escott: date %q: want 8 digits YYYYMMDD", s)
	}
	t, err := time.ParseInLocation(layoutDate, s, JST)
	if err != nil {
		return time.Time{}, fmt.Errorf("escott: date %q: not a calendar date", s)
	}
	return t, nil
}

// jstMidnight returns 00:00 JST of the JST calendar day of t.
func jstMidnight(t time.Time) time.Time {
	y, m, d := t.In(JST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, JST)
}

// PayLimitFromDueDays returns the checkout PayLimit for a due period of
// days: the JST date of now plus days calendar days, followed by "2359"
// (spec §10.2). days must be 1 … [MaxDueDays] (design A-03).
//
// The plugins add days × 86 400 seconds to the current time and take the
// local date. Because JST has no daylight saving, every JST day is exactly
// 86 400 seconds long and the two are the same; calendar-day addition is
// used here because it says what is meant and stays right at any time of
// day.
func PayLimitFromDueDays(now time.Time, days int) (string, error) {
	if days < 1 || days > MaxDueDays {
		return "", fmt.Errorf("escott: due days %d out of range 1..%d", days, MaxDueDays)
	}
	return jstMidnight(now).AddDate(0, 0, days).Format(layoutDate) + payLimitTime, nil
}

// PayLimitFromDate returns the PayLimit for a due date chosen by the
// operator (admin 2Add/2Chg, spec §10.4): date must be an 8-digit calendar
// date, not before today in JST — today itself is allowed (design A-26) —
// and at most [MaxDueDays] days after today. The result is date + "2359".
// Errors for a date out of range wrap [ErrDueDateInPast] or
// [ErrDueDateTooLate].
func PayLimitFromDate(date string, now time.Time) (string, error) {
	d, err := ParseDate(date)
	if err != nil {
		return "", err
	}
	today := jstMidnight(now)
	switch {
	case d.Before(today):
		return "", fmt.Errorf("%w: %s (today is %s)", ErrDueDateInPast, date, today.Format(layoutDate))
	case d.After(today.AddDate(0, 0, MaxDueDays)):
		return "", fmt.Errorf("%w: %s (today is %s)", ErrDueDateTooLate, date, today.Format(layoutDate))
	}
	return date + payLimitTime, nil
}

// ParsePayLimit parses a 12-digit PayLimit (YYYYMMDDhhmm, JST) into the END
// of that minute, hh:mm:59.999999999 JST. A due date of "…2359" means the
// collection is payable until 23:59:59 (spec §10.3), so a collection is
// expired exactly when now.After(limit) — the same answer as the plugins'
// string comparison of the current YYYYMMDDhhmm against PayLimit.
func ParsePayLimit(s string) (time.Time, error) {
	if len(s) != len(layoutPayLimit) || !asciiDigitsOnly(s) {
		return time.Time{}, fmt.Errorf("escott: PayLimit %q: want 12 digits YYYYMMDDhhmm", s)
	}
	t, err := time.ParseInLocation(layoutPayLimit, s, JST)
	if err != nil {
		return time.Time{}, fmt.Errorf("escott: PayLimit %q: not a valid date and time", s)
	}
	return t.Add(time.Minute - time.Nanosecond), nil
}

// ParseNyukinDate parses the payment date/time (入金日時) of a collection
// notification or 2Ref answer. The gateway's exact format is unknown
// (spec §4.1 [GAP]), so, like the plugins' formatter, it accepts
// YYYYMMDDhhmmss, YYYYMMDDhhmm or YYYYMMDD, all in JST; missing parts are
// zero. Anything else, including a non-existent date or time, is an error.
func ParseNyukinDate(s string) (time.Time, error) {
	if !asciiDigitsOnly(s) {
		return time.Time{}, fmt.Errorf("escott: NyukinDate %q: want digits only", s)
	}
	var layout string
	switch len(s) {
	case 14:
		layout = layoutNyukin
	case 12:
		layout = layoutPayLimit
	case 8:
		layout = layoutDate
	default:
		return time.Time{}, fmt.Errorf("escott: NyukinDate %q: want 14, 12 or 8 digits", s)
	}
	t, err := time.ParseInLocation(layout, s, JST)
	if err != nil {
		return time.Time{}, fmt.Errorf("escott: NyukinDate %q: not a valid date and time", s)
	}
	return t, nil
}

// FormatNyukinDate formats t as a 14-digit NyukinDate, YYYYMMDDhhmmss in
// JST; the simulator sends this, the most likely gateway form (spec §4.1).
func FormatNyukinDate(t time.Time) string {
	return t.In(JST).Format(layoutNyukin)
}

// FormatDisplayDate formats t for Japanese screens and e-mails in JST, as
// "2006年1月2日 15:04" (no zero padding of month and day, as Japanese
// dates are usually written; hour and minute are two digits).
func FormatDisplayDate(t time.Time) string {
	return t.In(JST).Format("2006年1月2日 15:04")
}
