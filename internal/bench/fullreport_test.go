package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const svgNS = "http://www.w3.org/2000/svg"

// TestRunFullQuick runs the whole suite in quick mode on SQLite into a
// temporary directory and checks what it wrote: every section and figure
// of the Markdown, every SVG a well-formed standalone SVG document, and
// report.json with every scenario's raw report. Timings are not judged.
func TestRunFullQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark and builds kessai")
	}
	bin := buildKessai(t) // startup_test.go: the test binary cannot stand in for kessai
	out := filepath.Join(t.TempDir(), "report")
	var mu sync.Mutex
	var lines []string
	rep, err := RunFull(t.Context(), FullOptions{Out: out, Quick: true, Bin: bin, Command: "kessai bench report -quick",
		Version: "test", Progress: func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 8 {
		t.Fatalf("%d scenarios, want 8 (6 on SQLite, TLS, start-up)", len(rep.Scenarios))
	}
	for _, sc := range rep.Scenarios {
		if sc.Failed() {
			t.Errorf("%s: %s", sc.Label(), sc.Error)
		}
		if runtime.GOOS == "linux" && (sc.PeakRSS == 0 || !sc.PeakRSSOfScenario) {
			t.Errorf("%s: peak RSS %d, of the scenario %v", sc.Label(), sc.PeakRSS, sc.PeakRSSOfScenario)
		}
	}
	if sc := rep.find(ScenarioCard, SQLite, ReportSlowLatency); sc == nil || sc.Card == nil || sc.Card.Checkouts != QuickReportCardN {
		t.Errorf("card at 150 ms: %+v", sc)
	}

	// Progress: a start and an end line per scenario, with the elapsed time.
	joined := strings.Join(lines, "\n")
	for _, sc := range rep.Scenarios {
		for _, want := range []string{sc.Label() + ": start", sc.Label() + ": done in"} {
			if !strings.Contains(joined, want) {
				t.Errorf("no progress line %q in\n%s", want, joined)
			}
		}
	}
	if !strings.HasPrefix(lines[0], "  0:00") {
		t.Errorf("progress lines do not start with the elapsed time: %q", lines[0])
	}

	md := readFile(t, filepath.Join(out, ReportMarkdown))
	checkMarkdown(t, md, rep, []string{SQLite})
	if !strings.Contains(md, QuickBanner) || strings.Contains(md, ErrorBanner) {
		t.Error("a quick report without errors must carry the quick banner and no error banner")
	}
	for _, want := range []string{"kessai bench report -quick", "kessai test", "SQLite | 3.", "None: every scenario completed"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, latencyFigure(Postgres)) {
		t.Error("a SQLite-only report links a PostgreSQL figure")
	}
	checkSVGs(t, out, 6)

	var js struct {
		Quick     bool     `json:"quick"`
		Quotable  bool     `json:"quotable"`
		Errors    []string `json:"errors"`
		Machine   map[string]any
		Scenarios []map[string]json.RawMessage `json:"scenarios"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, ReportJSON))), &js); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	if !js.Quick || js.Quotable || len(js.Errors) != 0 || len(js.Scenarios) != 8 || js.Machine["sqlite"] == "" {
		t.Errorf("report.json: quick %v, quotable %v, errors %v, %d scenarios, machine %v", js.Quick, js.Quotable, js.Errors,
			len(js.Scenarios), js.Machine)
	}
	for i, sc := range js.Scenarios {
		var name string
		_ = json.Unmarshal(sc["name"], &name)
		key := map[string]string{ScenarioCard: "card", ScenarioCollection: "collection", ScenarioNotifications: "notifications",
			ScenarioRenewals: "renewals", ScenarioTLS: "tls", ScenarioStartup: "startup"}[name]
		var raw map[string]any
		if err := json.Unmarshal(sc[key], &raw); err != nil || len(raw) == 0 {
			t.Errorf("scenario %d (%q): no raw report under %q: %v", i, name, key, err)
		}
	}
}

// TestFullReportFiles writes a made-up report on both databases, with one
// failed scenario, and checks the presentation: both databases' rows and
// figures, the error banner and the error, charts without data still
// valid, and that a new report replaces the files of an earlier one.
func TestFullReportFiles(t *testing.T) {
	out := t.TempDir()
	stale := filepath.Join(out, latencyFigure(Postgres))
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(mine, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := prepareOut(out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an earlier report's figure was left: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file the report does not write was removed: %v", err)
	}

	ms := time.Millisecond
	d := func(p50 time.Duration) Dist {
		return Dist{P50: p50, P90: 2 * p50, P99: 3 * p50, Max: 4 * p50, Mean: p50}
	}
	rep := &FullReport{Command: "kessai bench report -db postgres", Started: time.Now(), Wall: time.Minute,
		Machine: ReportMachine{Machine: CurrentMachine(), SQLite: "3.x", Postgres: "15.x"}}
	for _, db := range []string{SQLite, Postgres} {
		for _, lat := range []time.Duration{0, ReportSlowLatency} {
			rep.Scenarios = append(rep.Scenarios,
				&Scenario{Name: ScenarioCard, DB: db, Latency: lat, N: 10, Concurrency: 4, PeakRSS: 50 << 20,
					Card: &Report{Checkouts: 10, APIReport: APIReport{PerSecond: 250, Added: d(5 * ms), Total: d(lat + 6*ms), Gateway: d(lat + ms)}}},
				&Scenario{Name: ScenarioCollection, DB: db, Latency: lat, N: 10, Concurrency: 4, PeakRSS: 60 << 20,
					Collection: &CollectionReport{Registrations: 10, APIReport: APIReport{PerSecond: 300, Added: d(4 * ms), Total: d(lat + 5*ms),
						Gateway: d(lat + ms)}}})
		}
		rep.Scenarios = append(rep.Scenarios,
			&Scenario{Name: ScenarioNotifications, DB: db, N: 20, Notification: &NotificationReport{Notifications: 20, PerSecond: 1200}},
			&Scenario{Name: ScenarioRenewals, DB: db, Latency: DefaultRenewalLatency, N: 40,
				Renewal: &RenewalReport{N: 40, Cap: 16, Latency: DefaultRenewalLatency, PerSecond: 150, MaxPerSecond: 160, Fraction: 150.0 / 160}})
	}
	// The TLS scenario failed without a report; start-up is missing.
	rep.Scenarios = append(rep.Scenarios, &Scenario{Name: ScenarioTLS, N: 20, Error: "bench: handshake | failed\nsecond line"})
	if err := writeReport(out, rep); err != nil {
		t.Fatal(err)
	}
	md := readFile(t, filepath.Join(out, ReportMarkdown))
	checkMarkdown(t, md, rep, []string{SQLite, Postgres})
	for _, want := range []string{ErrorBanner, "1 of 13 scenarios failed", "handshake | failed\nsecond line",
		"| PostgreSQL | card checkout | 150 ms |", "| PostgreSQL | renewals, capped gateway | **150** | 93.8 % of the cap's 160/s |",
		"TLS 1.2: pooled vs handshake | 20 | — | 0 ms | unknown → unknown | **failed** |", "No result: see [Errors](#errors)."} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, QuickBanner) {
		t.Error("a full report carries the quick banner")
	}
	checkSVGs(t, out, 7)
	if !strings.Contains(readFile(t, filepath.Join(out, figTLS)), noData) {
		t.Error("the TLS chart without data does not say so")
	}
	var js map[string]any
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, ReportJSON))), &js); err != nil {
		t.Fatal(err)
	}
	if js["quotable"] != false || len(js["errors"].([]any)) != 1 {
		t.Errorf("report.json: quotable %v, errors %v", js["quotable"], js["errors"])
	}
}

// TestRunFullInterrupted checks that an interrupted suite still writes
// its report, with every scenario not run marked as such, and fails.
func TestRunFullInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	out := t.TempDir()
	rep, err := RunFull(ctx, FullOptions{Out: out, Quick: true, Bin: "/nonexistent/kessai"})
	if err == nil || rep == nil {
		t.Fatalf("report %v, error %v; want both", rep, err)
	}
	for _, sc := range rep.Scenarios {
		if !strings.HasPrefix(sc.Error, "not run: ") {
			t.Errorf("%s: error %q", sc.Label(), sc.Error)
		}
	}
	md := readFile(t, filepath.Join(out, ReportMarkdown))
	if !strings.Contains(md, ErrorBanner) || !strings.Contains(md, "not run: context canceled") {
		t.Errorf("the interrupted report does not say so:\n%s", md)
	}
	checkSVGs(t, out, 6)

	if _, err := RunFull(t.Context(), FullOptions{Out: out, DB: Postgres}); err == nil {
		t.Error("PostgreSQL without a URL was accepted")
	}
	if _, err := RunFull(t.Context(), FullOptions{DB: SQLite}); err == nil {
		t.Error("no output directory was accepted")
	}
}

func TestStandalone(t *testing.T) {
	got := standalone(`<svg viewBox="0 0 720 80" role="img"><title>x</title><text>y</text></svg>`)
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 80" role="img" width="720" height="80">` +
		`<title>x</title><rect width="100%" height="100%" fill="#ffffff"/><text>y</text></svg>` + "\n"
	if got != want {
		t.Errorf("standalone:\n got %s\nwant %s", got, want)
	}
	checkSVG(t, "standalone", []byte(got))
}

// checkMarkdown checks the sections, the figures (each embedded with a
// relative link to a file that exists) and a table row per scenario.
func checkMarkdown(t *testing.T, md string, rep *FullReport, dbs []string) {
	t.Helper()
	last := -1
	for _, h := range []string{mdTitle, mdMachine, mdLatency, mdThroughput, mdTLS, mdMemory, mdRuns, mdErrors, mdRaw} {
		i := strings.Index(md, "\n"+h+"\n")
		if h == mdTitle {
			i = strings.Index(md, h+"\n")
		}
		if i < 0 || i < last {
			t.Errorf("section %q missing or out of order", h)
		}
		last = i
	}
	figs := []string{figThroughput, figRenewals, figTLS, figMemory, figStartup}
	for _, db := range dbs {
		figs = append(figs, latencyFigure(db))
	}
	for _, f := range figs {
		if !strings.Contains(md, "]("+f+")\n") {
			t.Errorf("figure %s is not embedded", f)
		}
	}
	for _, want := range []string{"| CPU |", "| Memory |", "| OS |", "| Go |", "| SQLite |", "| PostgreSQL |", "| Load average",
		"total ÷ gateway", "fraction of cap", "slower than a pooled call", "](report.json)"} {
		if !strings.Contains(md, want) && !(want == "slower than a pooled call" && tlsOf(rep) == nil) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, sc := range rep.Scenarios {
		if !strings.Contains(md, "| "+sc.Label()+" |") {
			t.Errorf("no row for %s", sc.Label())
		}
	}
}

// checkSVGs checks every .svg file in dir; want is how many there must be.
func checkSVGs(t *testing.T, dir string, want int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != want {
		t.Errorf("%d SVG files, want %d: %v", len(files), want, files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkSVG(t, filepath.Base(f), b)
	}
}

// checkSVG parses b as XML to the end and checks that its root is an svg
// element in the SVG namespace.
func checkSVG(t *testing.T, name string, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var root *xml.StartElement
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s: not well-formed XML: %v", name, err)
			return
		}
		if se, ok := tok.(xml.StartElement); ok && root == nil {
			root = &se
		}
	}
	if root == nil || root.Name.Local != "svg" || root.Name.Space != svgNS {
		t.Errorf("%s: root element %+v, want svg in %s", name, root, svgNS)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
