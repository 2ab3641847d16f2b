package webhook_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/kessai/kessai/webhook"
)

// A shop's receiver: verify, de-duplicate by event id, answer 2xx fast.
func ExampleParseEvent() {
	secrets := [][]byte{[]byte("whsec_…from the console…")}
	seen := map[string]bool{} // use your database in production

	http.HandleFunc("/kessai/webhook", func(w http.ResponseWriter, r *http.Request) {
		ev, err := webhook.ParseEvent(r, secrets, webhook.DefaultTolerance)
		if err != nil {
			// Forged, tampered, replayed or malformed: refuse, never act on it.
			http.Error(w, "invalid signature", http.StatusBadRequest)
			return
		}
		if seen[ev.ID] {
			w.WriteHeader(http.StatusOK) // a retry of something already handled
			return
		}
		seen[ev.ID] = true
		log.Printf("kessai event %s %s", ev.Type, ev.Data)
		w.WriteHeader(http.StatusNoContent)
	})
}

func ExampleVerify() {
	secret := []byte("whsec_example")
	body := []byte(`{"id":"evt_1","type":"payment.paid","created_at":"2025-01-02T03:04:05Z","data":{}}`)
	sent := time.Unix(1735787045, 0)
	header := webhook.Sign(secret, sent, body)
	fmt.Println(header)

	fmt.Println(webhook.Verify(header, body, [][]byte{secret}, 5*time.Minute, sent.Add(time.Minute)))
	err := webhook.Verify(header, body, [][]byte{secret}, 5*time.Minute, sent.Add(time.Hour))
	fmt.Println(errors.Is(err, webhook.ErrTimestamp))
	// Output:
	// t=1735787045,v1=e989fe0a284665d8c4758ff0a759140065a7aa4e1496a166559bd407772338e2
	// <nil>
	// true
}
