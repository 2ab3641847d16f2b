package subscription

import (
	"slices"
	"testing"

	"github.com/kessai/kessai"
)

var allActions = []Action{
	ActionActivate, ActionPause, ActionResume, ActionCancel, ActionCancelAtPeriodEnd,
	ActionWithdrawCancel, ActionExpire, ActionRenewalSucceeded, ActionRenewalFailed,
}

// TestAllowed checks every status × action pair: the legal ones, and the
// refusal code of every illegal one.
func TestAllowed(t *testing.T) {
	const ok = ""
	want := map[Status]map[Action]string{
		StatusPending: {
			ActionActivate: ok, ActionCancel: ok,
			ActionPause: CodeSubscriptionPending, ActionResume: CodeSubscriptionPending,
			ActionCancelAtPeriodEnd: CodeSubscriptionPending, ActionWithdrawCancel: CodeSubscriptionPending,
			ActionExpire: CodeSubscriptionPending, ActionRenewalSucceeded: CodeSubscriptionPending,
			ActionRenewalFailed: CodeSubscriptionPending,
		},
		StatusActive: {
			ActionActivate: CodeSubscriptionNotPending, ActionResume: CodeSubscriptionNotOnHold,
			ActionPause: ok, ActionCancel: ok, ActionCancelAtPeriodEnd: ok, ActionWithdrawCancel: ok,
			ActionExpire: ok, ActionRenewalSucceeded: ok, ActionRenewalFailed: ok,
		},
		StatusOnHold: {
			ActionActivate: CodeSubscriptionNotPending, ActionPause: CodeSubscriptionOnHold,
			ActionResume: ok, ActionCancel: ok, ActionCancelAtPeriodEnd: ok, ActionWithdrawCancel: ok,
			ActionExpire: ok, ActionRenewalSucceeded: ok, ActionRenewalFailed: ok,
		},
		StatusCancelled: {},
		StatusExpired:   {},
	}
	for _, a := range allActions {
		want[StatusCancelled][a] = CodeSubscriptionCancelled
		want[StatusExpired][a] = CodeSubscriptionExpired
	}
	for _, s := range Statuses {
		for _, a := range allActions {
			code, listed := want[s][a]
			if !listed {
				t.Fatalf("test table misses %s × %s", s, a)
			}
			err := Allowed(s, a)
			if code == ok {
				if err != nil {
					t.Errorf("Allowed(%s, %s) = %v; want nil", s, a, err)
				}
				if !slices.Contains(Actions(s), a) {
					t.Errorf("Actions(%s) omits %s", s, a)
				}
				continue
			}
			e, isErr := err.(*kessai.Error)
			if !isErr || e.Kind != kessai.KindConflict || e.Code != code || e.Ja == "" || e.En == "" {
				t.Errorf("Allowed(%s, %s) = %#v; want conflict %s", s, a, err, code)
			}
			if slices.Contains(Actions(s), a) {
				t.Errorf("Actions(%s) lists refused %s", s, a)
			}
		}
	}
}

func TestAllowedMessages(t *testing.T) {
	e := kessai.AsError(Allowed(StatusCancelled, ActionResume))
	if e.Message("ja") != "この定期購入はキャンセル済みのため、再開はできません。" ||
		e.Message("en") != "The subscription has been cancelled: you cannot resume it." {
		t.Errorf("messages = %q / %q", e.Message("ja"), e.Message("en"))
	}
	e = kessai.AsError(Allowed(StatusActive, ActionResume))
	if e.Message("ja") != "この定期購入は一時停止中ではないため、再開できません。" {
		t.Errorf("message = %q", e.Message("ja"))
	}
}

// TestAllowedUnknown: a corrupt status or an unknown action is a bug,
// reported as internal, never as something the user did.
func TestAllowedUnknown(t *testing.T) {
	for _, c := range []struct {
		s Status
		a Action
	}{{"", ActionPause}, {"paused", ActionResume}, {StatusActive, "delete"}, {StatusActive, ""}} {
		if k := kessai.ErrorKind(Allowed(c.s, c.a)); k != kessai.KindInternal {
			t.Errorf("Allowed(%q, %q) kind = %s; want internal", c.s, c.a, k)
		}
	}
	if got := Actions("paused"); got != nil {
		t.Errorf("Actions(unknown) = %v", got)
	}
}

func TestActionsIsACopy(t *testing.T) {
	a := Actions(StatusActive)
	a[0] = "broken"
	if Actions(StatusActive)[0] != ActionPause {
		t.Error("Actions returned the table itself")
	}
	if Actions(StatusCancelled) != nil || Actions(StatusExpired) != nil {
		t.Error("final statuses have actions")
	}
}

func TestStatusHelpers(t *testing.T) {
	for _, s := range Statuses {
		if !s.Valid() || s.Label("ja") == "" || s.Label("en") == "" || s.Label("ja") == s.Label("en") {
			t.Errorf("status %s: valid %v, labels %q / %q", s, s.Valid(), s.Label("ja"), s.Label("en"))
		}
		if s.Final() != (s == StatusCancelled || s == StatusExpired) {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
	}
	if Status("paused").Valid() || Status("paused").Label("ja") != "paused" {
		t.Error("unknown status")
	}
	if StatusOnHold.Label("ja") != "一時停止中" || StatusOnHold.Label("fr") != "一時停止中" || StatusOnHold.Label("en") != "On hold" {
		t.Errorf("on hold labels: %q %q", StatusOnHold.Label("ja"), StatusOnHold.Label("en"))
	}
}
