package collection

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// DueAt is the last second a collection with this PayLimit can be paid,
// in JST: "202612012359" → 2026-12-01 23:59:59 JST. A PayLimit names a
// minute and the collection is payable to its end (spec §10.3; the manual's
// "until 23:59:59"); the error is escott's for a malformed PayLimit.
func DueAt(payLimit string) (time.Time, error) {
	end, err := escott.ParsePayLimit(payLimit)
	if err != nil {
		return time.Time{}, err
	}
	return end.Truncate(time.Second), nil
}

// Expired reports whether a collection due at payLimit (YYYYMMDDhhmm,
// JST) is past due at now: true from the first instant after the end of
// that minute, so "202612012359" is still payable at 23:59:59.999 JST on
// 1 December and expired at 00:00:00 on the 2nd, whatever now's location.
// This is the plugins' string comparison of the current local
// YYYYMMDDhhmm against PayLimit (spec §10.3, CVS-11), done on instants.
//
// It is only the local test. Design A-07 acts on it — a 2Ref once more,
// then marking the collection expired, and cancelling the order if the
// shop chose so (ExpireCancelsOrder) — because a payment made in the last
// minute may be notified after the deadline; that flow is the caller's.
func Expired(payLimit string, now time.Time) (bool, error) {
	end, err := escott.ParsePayLimit(payLimit)
	if err != nil {
		return false, err
	}
	return now.After(end), nil
}

// PayLimitForDueDays is the PayLimit of a checkout registration: the JST
// date of now plus the shop's due days (SET-15), at 23:59 (spec §10.2,
// CVS-05). days must be 1…escott.MaxDueDays (design A-03); settings are
// validated when saved, so an error here means settings that bypassed
// validation, reported as a *kessai.Error on "collection.due_days".
func PayLimitForDueDays(now time.Time, days int) (string, error) {
	pl, err := escott.PayLimitFromDueDays(now, days)
	if err != nil {
		return "", &kessai.Error{Kind: kessai.KindInvalid, Code: "invalid_due_days", Field: "collection.due_days",
			Ja:  fmt.Sprintf("支払期限日数は1〜%d日で設定してください。", escott.MaxDueDays),
			En:  fmt.Sprintf("The due days must be between 1 and %d.", escott.MaxDueDays),
			Err: err}
	}
	return pl, nil
}

// DueDateField is the input field name of the due date in the admin
// operations (register, change: ADMIN-13, ADMIN-15), used in the errors
// of PayLimitForDate.
const DueDateField = "due_date"

// PayLimitForDate is the PayLimit for a due date the operator entered in
// the admin dialog (支払期日, ADMIN-13 change and ADMIN-15 registration):
// the date at 23:59. The date is YYYYMMDD as in the plugins' dialog, or
// YYYY-MM-DD as a browser's date input sends it. It must be a calendar
// date from today (JST; today is allowed, design A-26) to
// escott.MaxDueDays days ahead (design A-03).
//
// Errors are *kessai.Error of kind invalid on DueDateField, worded after
// the plugins' dialog (whose own message writes 「８桁」 in full-width, so
// full-width digits are accepted and read as ASCII): 「支払期限の形式が不正です。８桁の数字で入力してく
// ださい。」 for the format. For a past date the plugins say 「本日以前の日
// 付は指定できません」 ("today or earlier") yet accept today; kessai accepts
// today too and says 「本日より前」 ("before today"), so the message
// matches the rule.
func PayLimitForDate(date string, now time.Time) (string, error) {
	date = strings.Map(asciiDigit, strings.TrimSpace(date))
	if len(date) == len("2006-01-02") && date[4] == '-' && date[7] == '-' {
		date = date[:4] + date[5:7] + date[8:]
	}
	fieldErr := func(code, ja, en string, cause error) error {
		return &kessai.Error{Kind: kessai.KindInvalid, Code: code, Field: DueDateField, Ja: ja, En: en, Err: cause}
	}
	if !eightDigits(date) {
		return "", fieldErr("invalid_due_date",
			"支払期限の形式が不正です。８桁の数字で入力してください。",
			"The due date must be 8 digits (YYYYMMDD).", nil)
	}
	pl, err := escott.PayLimitFromDate(date, now)
	switch {
	case err == nil:
		return pl, nil
	case errors.Is(err, escott.ErrDueDateInPast):
		return "", fieldErr("due_date_in_past",
			"支払期限が不正です。本日より前の日付は指定できません。",
			"The due date cannot be before today.", err)
	case errors.Is(err, escott.ErrDueDateTooLate):
		return "", fieldErr("due_date_too_late",
			fmt.Sprintf("支払期限は本日から%d日以内の日付を指定してください。", escott.MaxDueDays),
			fmt.Sprintf("The due date must be within %d days from today.", escott.MaxDueDays), err)
	default: // eight digits, but not a calendar date (20260230)
		return "", fieldErr("invalid_due_date",
			"支払期限が不正です。存在しない日付です。",
			"The due date is not a valid calendar date.", err)
	}
}

// eightDigits reports whether s is exactly eight ASCII digits.
func eightDigits(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// asciiDigit maps a full-width digit to its ASCII form and leaves every
// other rune alone.
func asciiDigit(r rune) rune {
	if r >= '０' && r <= '９' {
		return r - '０' + '0'
	}
	return r
}
