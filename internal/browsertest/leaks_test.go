package browsertest

import (
	"bytes"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/leakscan"
	"github.com/kessai/kessai/internal/testdb"
)

// TestLeaks runs a suite's scan over a store and a log with a card
// number, a password and a token planted: Finish fails the suite, names
// file, offset and rule without showing any of them, and keeps the files;
// a clean suite passes and leaves nothing behind. Tests not named
// TestBrowser… keep their own backend.
func TestLeaks(t *testing.T) {
	const card, pass, token = "4012000000000008", "correct horse battery", "tok_5f2b9c1e7a0d4e8b"
	l, err := NewLeaks(leakscan.Rules{Cards: []string{card}, Secrets: []leakscan.Secret{{Name: "admin password", Value: pass}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(l.Dir()) })

	fallback := false
	l.ForBrowserTests(testdb.Backend{Name: "sqlite", Open: func(testing.TB) kessai.Store { fallback = true; return nil }}).Open(t)
	if !fallback {
		t.Fatal("a test not named TestBrowser… got the suite's file store")
	}

	t.Run("suite", func(t *testing.T) {
		db := l.Backend().Open(t).(interface{ SQL() *sql.DB }).SQL()
		for _, q := range []string{`CREATE TABLE probe (note TEXT)`, `INSERT INTO probe VALUES ('card ` + card + `')`} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		logs := func() []byte { return []byte("level=INFO msg=login password=\"" + pass + "\" token=" + token + "\n") }
		secrets := func() []leakscan.Secret { return []leakscan.Secret{{Name: "card token", Value: token}} }
		if !l.Track(t, db, logs, secrets) || l.Track(t, db, logs, secrets) {
			t.Fatal("Track does not take an env once")
		}
	})
	var out bytes.Buffer
	if code := l.finish(&out, false, 0); code != 1 {
		t.Fatalf("exit code %d, want 1:\n%s", code, out.String())
	}
	report := out.String()
	for _, want := range []string{".log @31: secret: secret admin password", ": secret: secret card token",
		".db (rows) @", ": card_number: card number 401200…0008 (used in the test)", "the files are kept in " + l.Dir()} {
		if !strings.Contains(report, want) {
			t.Errorf("no %q in the report:\n%s", want, report)
		}
	}
	for _, v := range []string{card, pass, token} {
		if strings.Contains(report, v) {
			t.Errorf("the report shows %q:\n%s", v, report)
		}
	}
	if _, err := os.Stat(l.Dir()); err != nil {
		t.Errorf("the files are not kept: %v", err)
	}

	clean, err := NewLeaks(leakscan.Rules{Cards: []string{card}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("clean", func(t *testing.T) {
		clean.Track(t, t, func() []byte { return []byte("level=INFO msg=paid card=401200…0008\n") }, func() []leakscan.Secret { return nil })
	})
	out.Reset()
	if code := clean.finish(&out, false, 0); code != 0 || out.Len() != 0 {
		t.Fatalf("clean suite: exit code %d\n%s", code, out.String())
	}
	if _, err := os.Stat(clean.Dir()); !os.IsNotExist(err) {
		os.RemoveAll(clean.Dir())
		t.Errorf("a clean suite's files are kept: %v", err)
	}
}
