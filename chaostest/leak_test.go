package chaostest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the PostgreSQL dump
	_ "modernc.org/sqlite"             // the "sqlite" driver, for River's job table (main_test.go)

	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/leakscan"
)

type leakFinding = leakscan.Finding

// leakScan searches everything the run left behind — the database (the
// SQLite files with their write-ahead log, or a dump of the PostgreSQL
// schema), both processes' logs and the webhook payloads kessai sent —
// for card data and secrets (package leakscan): every card number and
// token the test handed out, the demo merchant's passwords, AES key and
// IV and token auth code, the master key, the first admin password, the
// webhook secret, and anything shaped like a card number, a labelled
// security code or a kessai secret key.
//
// Two outputs print secrets on purpose and are scanned with those values
// allowed: kessai's first-start banner (the API secret key and the admin
// password, shown once by design) and the simulator's banner (its demo
// merchant's passwords and demo card, like its home page, docs/
// simulator.md B-53).
func (r *run) leakScan(ctx context.Context, snap *snapshot) []leakFinding {
	c, t := r.c, r.t
	d := sim.DemoMerchant
	secrets := []leakscan.Secret{
		{Name: "merchant password (test)", Value: d.TestPass},
		{Name: "merchant password (production)", Value: d.ProdPass},
		{Name: "AES key", Value: d.AESKey},
		{Name: "AES IV", Value: d.AESIV},
		{Name: "token auth code", Value: d.TokenAuthCode},
		{Name: "admin password", Value: c.adminPass},
	}
	if mk, err := os.ReadFile(filepath.Join(c.dataDir, "master.key")); err == nil && len(strings.TrimSpace(string(mk))) > 0 {
		secrets = append(secrets, leakscan.Secret{Name: "master key", Value: strings.TrimSpace(string(mk))})
	}
	r.hook.mu.Lock()
	if len(r.hook.secret) > 0 {
		secrets = append(secrets, leakscan.Secret{Name: "webhook secret", Value: string(r.hook.secret)})
	}
	r.hook.mu.Unlock()
	r.led.mu.Lock()
	for _, tok := range r.led.tokens {
		secrets = append(secrets, leakscan.Secret{Name: "card token", Value: tok})
	}
	var cards []string
	for card := range r.led.cards {
		cards = append(cards, card)
	}
	r.led.mu.Unlock()
	// Tokens the simulator issued that the test did not (none expected;
	// belt and braces).
	for _, tok := range snap.sim.Tokens {
		secrets = append(secrets, leakscan.Secret{Name: "card token", Value: tok.Token})
	}
	// The cards are also secrets, so that their hex and base64 forms are
	// looked for too.
	for _, card := range cards {
		secrets = append(secrets, leakscan.Secret{Name: "card number " + leakscan.MaskCard(card), Value: card})
	}
	rules := leakscan.Rules{Secrets: secrets, Cards: cards, Patterns: leakscan.KessaiSecretKeys}

	var out []leakFinding
	t0 := time.Now()
	defer func() { t.Logf("leak scan took %v", time.Since(t0)) }()
	scan := func(rs *leakscan.Rules, path string) {
		t1 := time.Now()
		defer func() { t.Logf("scan %s: %v", filepath.Base(path), time.Since(t1)) }()
		f, err := rs.ScanFile(path)
		if err != nil {
			t.Errorf("leak scan: %v", err)
			return
		}
		out = append(out, f...)
	}
	// The database: files as they are on disk now (with the WAL), then
	// after the data directory's owner stopped (a checkpoint moves the
	// log into the main file; freed pages keep old bytes).
	// The raw SQLite files glue columns together, so only the exact
	// rules apply to them (leakscan.Rules.ExactCardsOnly); a logical dump
	// gets every rule.
	raw := rules
	raw.ExactCardsOnly = true
	if c.dbURL == "" {
		f, err := raw.ScanDir(c.dataDir, func(p string) bool { return filepath.Base(p) == "master.key" })
		if err != nil {
			t.Errorf("leak scan: %v", err)
		}
		out = append(out, f...)
		t.Logf("raw scan: %v", time.Since(t0))
		dump, err := leakscan.DumpSQLite(ctx, filepath.Join(c.dataDir, "kessai.db"))
		t.Logf("dump: %v (%d bytes)", time.Since(t0), len(dump))
		if err != nil {
			t.Errorf("leak scan: %v", err)
		}
		out = append(out, rules.Scan("SQLite dump", dump)...)
	} else {
		dump, err := dumpPostgres(ctx, c.dbURL)
		if err != nil {
			t.Errorf("leak scan: %v", err)
		}
		out = append(out, rules.Scan("PostgreSQL schema dump", dump)...)
	}
	logs, _ := filepath.Glob(filepath.Join(c.logDir, "*"))
	for _, p := range logs {
		rs := rules
		switch base := filepath.Base(p); {
		case base == "kessai-01.out":
			rs.Allow = []string{c.sk, c.adminPass}
		case base == "sim.out":
			rs.Allow = []string{d.TestPass, d.ProdPass, "8888"}
		}
		scan(&rs, p)
	}
	if c.dbURL == "" {
		// Once more after a clean stop.
		c.mu.Lock()
		p := c.kessai
		c.mu.Unlock()
		t.Logf("before stop: %v", time.Since(t0))
		p.stop(20 * time.Second)
		t.Logf("after stop: %v", time.Since(t0))
		f, err := raw.ScanDir(c.dataDir, func(p string) bool { return filepath.Base(p) == "master.key" })
		if err != nil {
			t.Errorf("leak scan: %v", err)
		}
		out = append(out, f...)
	}
	return out
}

// dumpPostgres renders every row of every table of the URL's schema as
// JSON text (leakscan.DumpPostgres).
func dumpPostgres(ctx context.Context, dbURL string) ([]byte, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return leakscan.DumpPostgres(ctx, db)
}
