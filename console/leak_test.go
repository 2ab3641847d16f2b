package console_test

// The browser suite's leak scan (internal/browsertest.Leaks): after the
// tests, the SQLite files of every browser test's store (write-ahead log
// included) and its env's log are searched for the passwords typed into
// the console, the demo card, security codes, the demo merchant's
// secrets, the card tokens the simulator issued and anything else
// leakscan recognises; TestMain fails on any hit. No webhook is delivered
// here (no endpoint, no job runner): the events that would become webhook
// payloads are rows of the scanned database.

import (
	"bytes"
	"database/sql"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/browsertest"
	"github.com/kessai/kessai/internal/leakscan"
	"github.com/kessai/kessai/internal/paytest"
)

// leaks is the suite's scan.
var leaks *browsertest.Leaks

// leakRules are the suite's secrets: the demo card (payCard's), the demo
// merchant's passwords, AES key and IV and token auth code, which newEnv
// puts in the settings, and the passwords typed into the console.
func leakRules() leakscan.Rules {
	return leakscan.Rules{
		Cards: []string{sim.DemoCard},
		Secrets: append(browsertest.MerchantSecrets(sim.DemoMerchant),
			leakscan.Secret{Name: "admin password", Value: adminPassword},
			leakscan.Secret{Name: "admin password (wrong)", Value: wrongPassword},
			leakscan.Secret{Name: "admin password (new)", Value: newPassphrase}),
	}
}

// trackLeaks adds the env to l when the test ends: its log and the tokens
// its simulator issued.
//
// The env's logger (paytest's) sends warnings to the test log only. Every
// part of the stack — service, payer, collector, renewals, console, API —
// holds that one *slog.Logger, so the Logger it points to is given a
// second handler that keeps every line, debug included: from the tab's
// opening, which is before the browser does anything. Nothing of the
// stack runs on its own before then (no job runner, and the simulator
// notifies only payments at a store, which no console test makes), so
// nothing reads the Logger while it changes.
func trackLeaks(l *browsertest.Leaks, t testing.TB, e *env) {
	buf := &syncBuffer{}
	if !l.Track(t, e, buf.bytes, func() []leakscan.Secret { return browsertest.SimTokens(t, e.Sim, paytest.DemoID) }) {
		return
	}
	*e.Log = *slog.New(slog.NewMultiHandler(e.Log.Handler(), slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// syncBuffer is a buffer that handlers on many goroutines write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// TestLeakScanFindsPlantedLeaks proves that the scan catches a leak: an
// env made and tracked as a browser test's (in a scan of its own) pays
// with the demo card, then its logger logs the admin password, a token
// and a security code, and a card and the merchant's AES key are planted
// in its database. Each is reported, and the report shows none of them.
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
		e.payCard(e.order(1000), false)
		var err error
		tok, err = e.Sim.IssueToken(paytest.DemoID, "test", sim.DemoCard, "2812", "8888", "")
		if err != nil {
			t.Fatal(err)
		}
		e.Log.Debug("login", "password", adminPassword, "body", "Token="+tok+"&SecCd=8888")
		db := e.Store.(interface{ SQL() *sql.DB }).SQL()
		if _, err := db.Exec(`CREATE TABLE leak_probe (note TEXT)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO leak_probe VALUES (?)`, "card "+sim.DemoCard+" key "+sim.DemoMerchant.AESKey); err != nil {
			t.Fatal(err)
		}
	})
	if !ok {
		return
	}
	browsertest.CheckPlanted(t, l, []string{
		"log: secret admin password",
		"log: secret card token",
		"log: security code (SecCd)",
		"database file: card number 412300…0300 (used in the test)",
		"database rows: card number 412300…0300 (used in the test)",
		"database rows: secret AES key",
	}, []string{tok, adminPassword, sim.DemoCard, sim.DemoMerchant.AESKey})
}
