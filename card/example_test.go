package card_test

import (
	"fmt"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/escott"
)

// A cancelled authorisation that was re-authorised is authorised again,
// on the original transaction (ADMIN-08, ADMIN-20); it cannot be
// re-authorised into a capture, and its buttons are the 与信 set.
func ExampleDeriveState() {
	at := time.Date(2026, 4, 1, 10, 0, 0, 0, escott.JST)
	history := []kessai.HistoryEntry{ // oldest first, as the store lists it
		{ID: "h1", At: at, Operation: escott.OpAuth, ResponseCd: "OK", Amount: 5500, Fields: map[string]string{"ProcessId": "P1"}},
		{ID: "h2", At: at.Add(time.Hour), Operation: escott.OpDelete, ResponseCd: "OK", Fields: map[string]string{"ProcessId": "P1"}},
		{ID: "h3", At: at.Add(2 * time.Hour), Operation: escott.OpCapture, ResponseCd: "K14"},
		{ID: "h4", At: at.Add(3 * time.Hour), Operation: escott.OpReAuth, ResponseCd: "OK", Amount: 4400, Fields: map[string]string{"ProcessId": "P1"}},
	}
	s := card.DeriveState(history)
	fmt.Println(s.Kind, s.Label(), s.Entry.ID, s.ProcessID(), s.Amount, s.Reauthorized)
	fmt.Println(card.Operations(s))
	fmt.Println(card.Allowed(s, escott.OpGathering).(*kessai.Error).Code)
	fmt.Println(card.WithinHandlingPeriod(s.Opened(), at.AddDate(0, 0, 61)))
	// Output:
	// authorized 与信 h1 P1 4400 true
	// [1ReAuth 1Capture 1Delete 1Change]
	// transaction_exists
	// false
}

// The edition rule comes first: a light shop is sent to the e-SCOTT
// console whatever the state (design A-20).
func ExamplePermit() {
	s := card.DeriveState(nil)
	err := card.Permit(kessai.PlanLight, s, escott.OpAuth, time.Now())
	fmt.Println(err.(*kessai.Error).Message("ja"))
	// Output:
	// ライトプランでは kessai から決済の操作（売上計上・取消・金額変更・再オーソリ・参照など）はできません。e-SCOTT 管理画面で操作してください。
}
