package subscription

import (
	"slices"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		codes []string
		want  Decline
	}{
		// Limit and balance: the card may work later.
		{[]string{"G54"}, DeclineSoft},
		{[]string{"G55"}, DeclineSoft},
		{[]string{"R08"}, DeclineSoft},
		{[]string{"R18"}, DeclineSoft},
		// Temporary trouble at e-SCOTT or the card company.
		{[]string{"K96"}, DeclineSoft},
		{[]string{"K98"}, DeclineSoft},
		{[]string{"C02"}, DeclineSoft},
		{[]string{"C80"}, DeclineSoft},
		{[]string{"G95"}, DeclineSoft},
		{[]string{"G99"}, DeclineSoft},
		{[]string{"KHV"}, DeclineSoft},
		{[]string{"KH0"}, DeclineSoft},
		// Uncatalogued: the gateway answered, so a spaced retry is safe.
		{[]string{"Z99"}, DeclineSoft},
		// The card will not work.
		{[]string{"G12"}, DeclineHard},
		{[]string{"G22"}, DeclineHard},
		{[]string{"G56"}, DeclineHard},
		{[]string{"G60"}, DeclineHard},
		{[]string{"G61"}, DeclineHard},
		{[]string{"G97"}, DeclineHard},
		{[]string{"C13"}, DeclineHard}, // expired card
		{[]string{"G83"}, DeclineHard},
		{[]string{"C16"}, DeclineHard},
		{[]string{"KI5"}, DeclineHard},
		// The member is missing or unusable.
		{[]string{"K45"}, DeclineHard},
		{[]string{"K71"}, DeclineHard},
		{[]string{"K74"}, DeclineHard},
		{[]string{"K75"}, DeclineHard},
		{[]string{"K79"}, DeclineHard},
		{[]string{"KHX"}, DeclineHard},
		{[]string{"U01"}, DeclineHard},
		// The shop's setup or our request.
		{[]string{"K02"}, DeclineShop},
		{[]string{"KG8"}, DeclineShop},
		{[]string{"K99"}, DeclineShop},
		{[]string{"K23"}, DeclineShop},
		{[]string{"K68"}, DeclineShop},
		{[]string{"W01"}, DeclineShop},
		{[]string{"P51"}, DeclineShop},
		// Unknown outcome: reconcile.
		{[]string{"NG"}, DeclineUnknown},
		{[]string{"KBX"}, DeclineUnknown},
		{[]string{"KBY"}, DeclineUnknown},
		{[]string{"K14"}, DeclineUnknown},
		{nil, DeclineUnknown},
		{[]string{""}, DeclineUnknown},
		{[]string{"OK"}, DeclineUnknown},
		{[]string{" | "}, DeclineUnknown},
		// Several codes: unknown, then shop, then hard; soft only if all are.
		{[]string{"G55|G56"}, DeclineHard},
		{[]string{"G55", "K96"}, DeclineSoft},
		{[]string{"OK|G55"}, DeclineSoft},
		{[]string{"G56|K02"}, DeclineShop},
		{[]string{"NG", "K02"}, DeclineUnknown},
		{[]string{" G54 | C80 "}, DeclineSoft},
	} {
		if got := Classify(c.codes); got != c.want {
			t.Errorf("Classify(%q) = %s; want %s", c.codes, got, c.want)
		}
	}
}

// TestClassifyCatalogue: every catalogued code has a class, consistent
// with the escott classes it builds on.
func TestClassifyCatalogue(t *testing.T) {
	for _, code := range escott.Catalogue() {
		if code.Code == escott.CodeOK {
			continue
		}
		got := Classify([]string{code.Code})
		switch {
		case code.Class == escott.ClassTemporary && got != DeclineSoft,
			code.Class == escott.ClassNoAnswer && got != DeclineUnknown,
			code.Class == escott.ClassMerchantConfig && got != DeclineShop,
			code.Class == escott.ClassRequest && got != DeclineShop,
			code.Class == escott.ClassMember && got != DeclineHard,
			code.Class == escott.ClassCardInput && got != DeclineHard,
			code.Class == escott.ClassIssuerDecline && got == DeclineSoft && !slices.Contains(softIssuerCodes, code.Code),
			code.Class.Retryable() && got != DeclineSoft:
			t.Errorf("%s (%s) → %s", code.Code, code.Class, got)
		}
		if _, ok := declineRank[got]; !ok {
			t.Errorf("%s → undefined class %q", code.Code, got)
		}
	}
	for _, code := range softIssuerCodes {
		if escott.LookupCode(code).Class != escott.ClassIssuerDecline {
			t.Errorf("soft issuer code %s is not an issuer decline in the catalogue", code)
		}
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		name string
		p    RetryPolicy
		want []string
	}{
		{"zero is the default", RetryPolicy{}, nil},
		{"custom", RetryPolicy{Delays: []time.Duration{12 * time.Hour, 2 * day}, OnHoldAfter: 1, CancelAfter: 30 * day}, nil},
		{"no retry", RetryPolicy{Delays: []time.Duration{}, OnHoldAfter: 1}, nil},
		{"never cancel", RetryPolicy{CancelAfter: -1}, nil},
		{"on hold after the default retries", RetryPolicy{OnHoldAfter: 4}, nil},
		{"too late for the default", RetryPolicy{OnHoldAfter: 5}, []string{"retry.on_hold_after:invalid_on_hold_after"}},
		{"too late for no retry", RetryPolicy{Delays: []time.Duration{}, OnHoldAfter: 2}, []string{"retry.on_hold_after:invalid_on_hold_after"}},
		{"negative on hold", RetryPolicy{OnHoldAfter: -1}, []string{"retry.on_hold_after:invalid_on_hold_after"}},
		{"delay too short", RetryPolicy{Delays: []time.Duration{day, time.Second}}, []string{"retry.delays[1]:invalid_retry_delay"}},
		{"delay too long", RetryPolicy{Delays: []time.Duration{31 * day}}, []string{"retry.delays[0]:invalid_retry_delay"}},
		{"too many", RetryPolicy{Delays: slices.Repeat([]time.Duration{day}, 11)}, []string{"retry.delays:too_many_retries"}},
		{"grace too long", RetryPolicy{CancelAfter: 366 * day}, []string{"retry.cancel_after:invalid_cancel_after"}},
	} {
		if got := fieldCodes(t, c.p.Validate()); !slices.Equal(got, c.want) {
			t.Errorf("%s: Validate() = %v; want %v", c.name, got, c.want)
		}
	}
}

// TestDecide walks the policies through each decline class.
func TestDecide(t *testing.T) {
	now := jst(2026, 5, 1, 10, 0)
	day := 24 * time.Hour
	at := func(d time.Duration) time.Time { return now.Add(d) }
	var zero time.Time
	failed, hold, retry, card := EventRenewalFailed, EventOnHold, EventRetryScheduled, EventCardRequired
	wcs := RetryPolicy{Delays: []time.Duration{12 * time.Hour, day}, OnHoldAfter: 1, CancelAfter: 7 * day}
	for _, c := range []struct {
		name     string
		p        RetryPolicy
		so       int
		d        Decline
		failures int
		status   Status
		next     time.Time
		cancelAt time.Time
		events   []string
	}{
		{"default, 1st soft", RetryPolicy{}, 0, DeclineSoft, 1, StatusActive, at(day), zero, []string{failed, retry}},
		{"default, 2nd soft", RetryPolicy{}, 1, DeclineSoft, 2, StatusActive, at(3 * day), zero, []string{failed, retry}},
		{"default, 3rd soft", RetryPolicy{}, 2, DeclineSoft, 3, StatusActive, at(5 * day), zero, []string{failed, retry}},
		{"default, 4th soft: hold", RetryPolicy{}, 3, DeclineSoft, 4, StatusOnHold, zero, at(14 * day), []string{failed, hold}},
		{"default, beyond: already held", RetryPolicy{}, 4, DeclineSoft, 5, StatusOnHold, zero, at(14 * day), []string{failed}},
		{"default, shop like soft", RetryPolicy{}, 0, DeclineShop, 1, StatusActive, at(day), zero, []string{failed, retry}},
		{"default, shop exhausted", RetryPolicy{}, 3, DeclineShop, 4, StatusOnHold, zero, at(14 * day), []string{failed, hold}},
		{"default, 1st hard", RetryPolicy{}, 0, DeclineHard, 1, StatusOnHold, zero, at(14 * day), []string{failed, hold, card}},
		{"default, hard while retrying", RetryPolicy{}, 2, DeclineHard, 3, StatusOnHold, zero, at(14 * day), []string{failed, hold, card}},
		{"default, hard when held", RetryPolicy{}, 4, DeclineHard, 5, StatusOnHold, zero, at(14 * day), []string{failed, card}},
		{"negative count read as 0", RetryPolicy{}, -3, DeclineSoft, 1, StatusActive, at(day), zero, []string{failed, retry}},
		{"hold at once, retries go on", wcs, 0, DeclineSoft, 1, StatusOnHold, at(12 * time.Hour), zero, []string{failed, hold, retry}},
		{"held and retrying", wcs, 1, DeclineSoft, 2, StatusOnHold, at(day), zero, []string{failed, retry}},
		{"held, exhausted", wcs, 2, DeclineSoft, 3, StatusOnHold, zero, at(7 * day), []string{failed}},
		{"no retry", RetryPolicy{Delays: []time.Duration{}}, 0, DeclineSoft, 1, StatusOnHold, zero, at(14 * day), []string{failed, hold}},
		{"never cancel", RetryPolicy{CancelAfter: -1}, 3, DeclineSoft, 4, StatusOnHold, zero, zero, []string{failed, hold}},
		{"on hold after 2", RetryPolicy{OnHoldAfter: 2}, 1, DeclineSoft, 2, StatusOnHold, at(3 * day), zero, []string{failed, hold, retry}},
		{"on hold beyond the retries is clamped", RetryPolicy{OnHoldAfter: 9}, 3, DeclineSoft, 4, StatusOnHold, zero, at(14 * day), []string{failed, hold}},
	} {
		got := Decide(c.p, c.so, c.d, now)
		if got.Failures != c.failures || got.Status != c.status || !got.NextAttempt.Equal(c.next) ||
			!got.CancelAt.Equal(c.cancelAt) || got.Reconcile || !slices.Equal(got.Events, c.events) {
			t.Errorf("%s: Decide = %+v\nwant failures %d, %s, next %v, cancel %v, %v",
				c.name, got, c.failures, c.status, c.next, c.cancelAt, c.events)
		}
	}
}

// TestDecideUnknown: an unknown outcome, or a class Decide does not know,
// is never retried and changes nothing until reconciled.
func TestDecideUnknown(t *testing.T) {
	now := jst(2026, 5, 1, 10, 0)
	for _, d := range []Decline{DeclineUnknown, "", "SOFT"} {
		got := Decide(RetryPolicy{}, 2, d, now)
		if !got.Reconcile || got.Failures != 2 || got.Status != "" || !got.NextAttempt.IsZero() || !got.CancelAt.IsZero() || got.Events != nil {
			t.Errorf("Decide(%q) = %+v", d, got)
		}
	}
}

// TestDecideDoesNotShareDefaults: the default delays cannot be changed
// through a returned value.
func TestDecideDoesNotShareDefaults(t *testing.T) {
	d := DefaultRetryDelays()
	d[0] = time.Nanosecond
	if got := Decide(RetryPolicy{}, 0, DeclineSoft, time.Time{}).NextAttempt; !got.Equal(time.Time{}.Add(24 * time.Hour)) {
		t.Errorf("first retry at %v", got)
	}
}
