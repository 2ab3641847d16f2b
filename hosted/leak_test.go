package hosted_test

// The browser suite's leak scan (internal/browsertest.Leaks): after the
// tests, the SQLite files of every browser test's store (write-ahead log
// included) and its env's log are searched for the card numbers the
// browser typed, security codes, the demo merchant's secrets, the card
// tokens the simulator issued and anything else leakscan recognises;
// TestMain fails on any hit. No webhook is delivered here (no endpoint,
// no job runner): the events that would become webhook payloads are rows
// of the scanned database.

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/browsertest"
	"github.com/kessai/kessai/internal/leakscan"
)

// leaks is the suite's scan.
var leaks *browsertest.Leaks

// leakRules are the suite's secrets: every card number it uses (typed on
// the gateway's token page, or tokenised directly) and the demo
// merchant's passwords, AES key and IV and token auth code, which newEnv
// puts in the card and collection settings.
func leakRules() leakscan.Rules {
	return leakscan.Rules{
		Cards:   []string{demoCard, visaOK, mastercardOK, jcbOK, amexOK, dinersOK, discoverOK, declineCd, threeDSOK, threeDSNG},
		Secrets: browsertest.MerchantSecrets(sim.DemoMerchant),
	}
}

// trackLeaks adds the env to l when the test ends: its log (every line,
// debug included, of the service, the payer, the collector, the hosted
// pages and the API, from the env's start) and the tokens its simulator
// issued.
func trackLeaks(l *browsertest.Leaks, t testing.TB, e *env) {
	l.Track(t, e, func() []byte { return []byte(e.logs.String()) },
		func() []leakscan.Secret { return browsertest.SimTokens(t, e.sim, demoID) })
}

// TestLeakScanFindsPlantedLeaks proves that the scan catches a leak: an
// env made and tracked as a browser test's (in a scan of its own) pays,
// then a log line with a typed card number, a token and a security code
// is planted in its log, and a card and the merchant's password in its
// database. Each is reported, and the report shows none of them.
func TestLeakScanFindsPlantedLeaks(t *testing.T) {
	l, err := browsertest.NewLeaks(leakRules())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(l.Dir()) })
	var tok string
	ok := t.Run("env", func(t *testing.T) {
		e := newEnv(t, onDB(l.Backend()))
		trackLeaks(l, t, e)
		wantStatus(t, e.shopper().payWith(e.order(1000), visaOK), http.StatusSeeOther)
		tok = e.token(demoCard)
		fmt.Fprintf(e.logs, "level=DEBUG msg=\"gateway request\" body=\"Token=%s&SecCd=%s\" card=%s\n", tok, demoSecCd, visaOK)
		db := e.store.(interface{ SQL() *sql.DB }).SQL()
		if _, err := db.Exec(`CREATE TABLE leak_probe (note TEXT)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO leak_probe VALUES (?)`, "card "+demoCard+" pass "+sim.DemoMerchant.TestPass); err != nil {
			t.Fatal(err)
		}
	})
	if !ok {
		return
	}
	browsertest.CheckPlanted(t, l, []string{
		"log: secret card token",
		"log: security code (SecCd)",
		"log: card number 401200…0008 (used in the test)",
		"database file: card number 412300…0300 (used in the test)",
		"database rows: card number 412300…0300 (used in the test)",
		"database rows: secret merchant password (test)",
	}, []string{tok, visaOK, demoCard, sim.DemoMerchant.TestPass})
}
