package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/leakscan"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/sqlite"
	"github.com/kessai/kessai/storetest"
)

// Leaks is a browser suite's leak scan: what the stack under test wrote
// during the suite — each browser test's SQLite database (files, with
// the write-ahead log) and its log — is kept in a directory and searched,
// once all the tests ran, for card data and secrets (package leakscan).
// A browser types real card numbers and passwords, so this is where they
// would slip into a log line or a column.
//
// TestMain sets it up before m.Run (NewLeaks, ForBrowserTests), the tests
// register their environments (Track), and TestMain ends with Finish.
type Leaks struct {
	dir string

	mu      sync.Mutex
	rules   leakscan.Rules
	n       int
	tracked map[any]bool
}

// NewLeaks makes a leak scan in a new temporary directory. rules are what
// the suite knows to be secret: the card numbers it uses (each also
// searched for as a secret, hex and base64 included) and the secrets it
// configures; leakscan's generic rules (card-shaped numbers, labelled
// security codes, kessai's secret keys) always apply.
func NewLeaks(rules leakscan.Rules) (*Leaks, error) {
	dir, err := os.MkdirTemp("", "kessai-leaks-")
	if err != nil {
		return nil, err
	}
	rules.Secrets = slices.Clip(rules.Secrets) // the caller's array stays as it is
	for _, c := range rules.Cards {
		rules.Secrets = append(rules.Secrets, leakscan.Secret{Name: "card number " + leakscan.MaskCard(c), Value: c})
	}
	rules.Patterns = append(slices.Clip(rules.Patterns), leakscan.KessaiSecretKeys...)
	return &Leaks{dir: dir, rules: rules, tracked: map[any]bool{}}, nil
}

// Dir is the directory of the kept files.
func (l *Leaks) Dir() string { return l.dir }

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// file returns a new path in the directory for a file of t: numbered, so
// that two tests, or two runs of one (-count), never share one.
func (l *Leaks) file(t testing.TB, ext string) string {
	l.mu.Lock()
	l.n++
	n := l.n
	l.mu.Unlock()
	return filepath.Join(l.dir, fmt.Sprintf("%03d-%s%s", n, unsafeName.ReplaceAllString(t.Name(), "_"), ext))
}

// Backend opens stores as SQLite files in the directory, with the test
// sealer as testdb.SQLite does. When the test ends, the write-ahead log is
// copied (".db-wal.at-close") before the database is closed: closing
// checkpoints it into the database and deletes it, and the old versions
// of pages that only it holds would go unscanned.
func (l *Leaks) Backend() testdb.Backend {
	return testdb.Backend{Name: "sqlite", Open: func(t testing.TB) kessai.Store {
		t.Helper()
		path := l.file(t, ".db")
		db, err := sqlite.Open(t.Context(), path, storetest.TestSealer())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := copyFile(path+"-wal", path+"-wal.at-close"); err != nil && !os.IsNotExist(err) {
				t.Errorf("leak scan: keeping the write-ahead log: %v", err)
			}
			db.Close()
		})
		return db
	}}
}

// ForBrowserTests returns a backend that opens the stores of the browser
// tests — the tests named TestBrowser… — with Backend, and the other
// tests' with b. A suite's TestMain puts it in testdb.SQLite, which every
// environment of the suite opens its store with unless told otherwise:
// so every browser test is covered, wherever it is written, without
// opting in (and a new one cannot forget to), while the other tests keep
// their quick in-memory database.
func (l *Leaks) ForBrowserTests(b testdb.Backend) testdb.Backend {
	file := l.Backend()
	return testdb.Backend{Name: b.Name, Open: func(t testing.TB) kessai.Store {
		t.Helper()
		if strings.HasPrefix(t.Name(), "TestBrowser") {
			return file.Open(t)
		}
		return b.Open(t)
	}}
}

// Track adds the output of a test's environment to the scan, once per
// key (the environment: a test may open several tabs on it). When t
// ends, logs — everything the stack logged — is written to a file of the
// directory, and secrets — values known only then, such as the card
// tokens the simulator issued — join the rules. It reports whether key
// was new.
func (l *Leaks) Track(t testing.TB, key any, logs func() []byte, secrets func() []leakscan.Secret) bool {
	l.mu.Lock()
	seen := l.tracked[key]
	l.tracked[key] = true
	l.mu.Unlock()
	if seen {
		return false
	}
	path := l.file(t, ".log")
	t.Cleanup(func() {
		if err := os.WriteFile(path, logs(), 0o600); err != nil {
			t.Errorf("leak scan: %v", err)
		}
		s := secrets()
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.tracked, key) // the env may go
		for _, s := range s {
			if s.Value != "" && !slices.Contains(l.rules.Secrets, s) {
				l.rules.Secrets = append(l.rules.Secrets, s)
			}
		}
	})
	return true
}

// Scan searches the directory: each database with leakscan's ScanSQLite
// (its files byte by byte, then its rows), each log with every rule.
func (l *Leaks) Scan(ctx context.Context) ([]leakscan.Finding, error) {
	l.mu.Lock()
	rules := l.rules
	rules.Secrets = slices.Clone(rules.Secrets)
	l.mu.Unlock()
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var out []leakscan.Finding
	for _, e := range entries {
		path := filepath.Join(l.dir, e.Name())
		var fs []leakscan.Finding
		switch filepath.Ext(e.Name()) {
		case ".db":
			fs, err = rules.ScanSQLite(ctx, path)
		case ".log":
			fs, err = rules.ScanFile(path)
		default:
			continue // a database's side file: ScanSQLite's
		}
		if err != nil {
			return out, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// Finish ends a suite's TestMain, after m.Run: it scans and returns the
// exit code, code or 1 when the scan found something or failed. Each
// finding is reported on standard error by file, offset, rule and a
// masked or named value — never the value itself, nor the bytes around
// it, which may hold another secret — and the directory is kept for a
// look (its path is printed); otherwise it is removed.
func (l *Leaks) Finish(code int) int {
	return l.finish(os.Stderr, testing.Verbose(), code)
}

func (l *Leaks) finish(w io.Writer, verbose bool, code int) int {
	fs, err := l.Scan(context.Background())
	if err == nil && len(fs) == 0 {
		if verbose {
			dbs, _ := filepath.Glob(filepath.Join(l.dir, "*.db"))
			logs, _ := filepath.Glob(filepath.Join(l.dir, "*.log"))
			fmt.Fprintf(w, "leak scan: nothing found in the %d databases and %d logs of the browser tests\n", len(dbs), len(logs))
		}
		os.RemoveAll(l.dir)
		return code
	}
	if err != nil {
		fmt.Fprintf(w, "leak scan failed: %v\n", err)
	}
	if len(fs) > 0 {
		fmt.Fprintf(w, "leak scan: %d finding(s) in what the browser tests wrote:\n", len(fs))
		WriteFindings(w, fs)
	}
	fmt.Fprintf(w, "leak scan: the files are kept in %s\n", l.dir)
	return 1
}

// WriteFindings writes one line per finding: file, offset, kind and what
// (the card masked, the secret named).
func WriteFindings(w io.Writer, fs []leakscan.Finding) {
	const most = 100
	for i, f := range fs {
		if i == most {
			fmt.Fprintf(w, "  … and %d more\n", len(fs)-most)
			return
		}
		fmt.Fprintf(w, "  %s @%d: %s: %s\n", f.Source, f.Offset, f.Kind, f.What)
	}
}

// FindingPlace says where a finding of Scan is: "log", "database rows"
// (a database's dump) or "database file" (a database's files, byte by
// byte).
func FindingPlace(f leakscan.Finding) string {
	switch {
	case strings.HasSuffix(f.Source, ".log"):
		return "log"
	case strings.HasSuffix(f.Source, " (rows)"):
		return "database rows"
	}
	return "database file"
}

// MerchantSecrets are the secrets of a merchant's settings: its
// passwords, AES key and IV, and token auth code.
func MerchantSecrets(m sim.Merchant) []leakscan.Secret {
	return []leakscan.Secret{
		{Name: "merchant password (test)", Value: m.TestPass},
		{Name: "merchant password (production)", Value: m.ProdPass},
		{Name: "AES key", Value: m.AESKey},
		{Name: "AES IV", Value: m.AESIV},
		{Name: "token auth code", Value: m.TokenAuthCode},
	}
}

// SimTokens are the card tokens the simulator issued to the merchant, on
// both environments, as secrets. An unknown merchant fails t: the scan
// would silently miss every token.
func SimTokens(t testing.TB, s *sim.Server, merchantID string) []leakscan.Secret {
	var out []leakscan.Secret
	for _, env := range []string{"test", "production"} {
		st, err := s.State(merchantID, env)
		if err != nil {
			t.Errorf("leak scan: the simulator's tokens: %v", err)
			continue
		}
		for _, tok := range st.Tokens {
			out = append(out, leakscan.Secret{Name: "card token", Value: tok.Token})
		}
	}
	return out
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// CheckPlanted is the second half of a suite's planted-leak test: it scans
// what l collected and fails t unless every wanted finding ("place: what",
// as FindingPlace and Finding.What name them) is reported and none of the
// planted secrets appears in the report itself.
func CheckPlanted(t testing.TB, l *Leaks, want, secrets []string) {
	t.Helper()
	fs, err := l.Scan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	WriteFindings(&report, fs)
	var got []string
	for _, f := range fs {
		got = append(got, FindingPlace(f)+": "+f.What)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no %q; report:\n%s", w, report.String())
		}
	}
	for _, v := range secrets {
		if strings.Contains(report.String(), v) {
			t.Errorf("the report shows a secret:\n%s", report.String())
		}
	}
}

// StartScan sets a suite's scan up in its TestMain, before m.Run: from
// then on the browser tests' stores (testdb.SQLite) are SQLite files kept
// for the scan. A scan that cannot start ends the run: a leak check that
// quietly does not run proves nothing.
func StartScan(rules leakscan.Rules) *Leaks {
	l, err := NewLeaks(rules)
	if err != nil {
		fmt.Fprintln(os.Stderr, "leak scan:", err)
		os.Exit(1)
	}
	testdb.SQLite = l.ForBrowserTests(testdb.SQLite)
	return l
}
