package bench

import (
	"fmt"
	"strings"
	"time"
)

// Headings of the report, in order; the test checks that each is there.
const (
	mdTitle      = "# kessai performance report"
	mdMachine    = "## Machine"
	mdLatency    = "## 1. Added latency"
	mdThroughput = "## 2. Throughput"
	mdTLS        = "## 3. Gateway connections: pooled TLS 1.2 vs a new handshake per call"
	mdMemory     = "## 4. Memory and start-up"
	mdRuns       = "## Runs"
	mdErrors     = "## Errors"
	mdRaw        = "## Raw data"
	// QuickBanner opens a quick report, so that its figures are never
	// taken for measurements.
	QuickBanner = "quick — not for quoting"
	// ErrorBanner opens a report with a failed scenario.
	ErrorBanner = "errors — not for quoting"
)

// markdown renders the report; figs are the figures written next to it.
func (r *FullReport) markdown(figs []Figure) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	fig := func(file string) {
		for _, f := range figs {
			if f.File == file {
				// The charts draw no visible title (svgchart's is
				// for screen readers), so the caption carries it.
				p("![%s](%s)\n\n*%s*\n\n", mdEscape(f.Title), f.File, mdEscape(f.Title))
			}
		}
	}
	dbs := r.databases()
	errs := r.Errors()

	p("%s\n\n", mdTitle)
	if r.Quick {
		p("> **%s.** Made with `-quick`: every scenario ran a handful of operations to check that the suite works. "+
			"The figures are noise.\n\n", QuickBanner)
	}
	if len(errs) > 0 {
		p("> **%s.** %d of %d scenarios failed (see [Errors](#errors)); a run with errors measures something else than "+
			"the normal path.\n\n", ErrorBanner, len(errs), len(r.Scenarios))
	}
	version := ""
	if r.Version != "" {
		version = " (kessai " + r.Version + ")"
	}
	p("Made on %s UTC in %s%s with:\n\n```\n%s\n```\n\n", r.Started.Format("2006-01-02 15:04"), fmtWall(r.Wall), version, r.Command)
	p("Every figure comes from one process that runs kessai wired as `kessai serve` wires it, the e-SCOTT simulator and " +
		"the shop-side client on loopback; the machine's other load changes wall times, so compare ratios across " +
		"machines, and read figures with the load average below. The raw reports are in [report.json](report.json).\n\n")

	// Machine.
	m := r.Machine
	p("%s\n\n| | |\n|---|---|\n", mdMachine)
	p("| CPU | %s; %d cores (GOMAXPROCS %d) |\n", orUnknown(m.CPUModel), m.CPUs, m.GOMAXPROCS)
	mem := "unknown"
	if m.MemTotal > 0 {
		mem = fmt.Sprintf("%.1f GiB", float64(m.MemTotal)/(1<<30))
	}
	p("| Memory | %s |\n", mem)
	p("| OS | %s; kernel %s; %s/%s |\n", orUnknown(m.Distro), orUnknown(m.Kernel), m.OS, m.Arch)
	p("| Go | %s |\n", m.Go)
	p("| SQLite | %s |\n", mdCell(m.SQLite))
	pg := m.Postgres
	if pg == "" {
		pg = "not run (`-db postgres -database-url …` adds it)"
	}
	p("| PostgreSQL | %s |\n", mdCell(pg))
	p("| Load average (1, 5, 15 min) | %s before, %s after |\n\n", orUnknown(m.LoadAvgBefore), orUnknown(m.LoadAvgAfter))

	// 1. Added latency.
	p("%s\n\n", mdLatency)
	p("Card checkout: `POST /v1/orders/{id}/pay` with a card token (two gateway calls); collection registration: " +
		"`POST /v1/orders/{id}/collect` (one 2Add). **Added** is the call's wall time at the client minus the time of its " +
		"own gateway round trips (reported by the gateway client per request, not estimated). The simulator answers at " +
		"once (0 ms), then after 150 ms per call, a realistic round trip to the gateway. **Total ÷ gateway** is the median " +
		"end-to-end time divided by the median bare gateway time: how much longer the shop waits than the gateway alone " +
		"would take.\n\n")
	for _, db := range dbs {
		fig(latencyFigure(db))
	}
	p("| database | operation | gateway latency | concurrency | n | added p50 | added p90 | added p99 | total p50 | gateway p50 | total ÷ gateway |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, db := range dbs {
		for _, lat := range []time.Duration{0, ReportSlowLatency} {
			for _, name := range []string{ScenarioCard, ScenarioCollection} {
				sc := r.find(name, db, lat)
				if sc == nil {
					continue
				}
				op := "card checkout"
				if name == ScenarioCollection {
					op = "collection registration"
				}
				added, total, gw := latencyOf(sc)
				ok := sc.Card != nil || sc.Collection != nil
				p("| %s | %s%s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", dbName(db), op, failedMark(sc), fmtLatency(lat),
					sc.Concurrency, count(sc.N), msIf(ok, added.P50), msIf(ok, added.P90), msIf(ok, added.P99), msIf(ok, total.P50),
					msIf(ok, gw.P50), ratio(total.P50, gw.P50))
			}
		}
	}
	p("\n")

	// 2. Throughput.
	p("%s\n\n", mdThroughput)
	p("Card checkouts and collection registrations per second with the simulator at 0 ms (%d in flight; each checkout "+
		"is an order, a card token and a `/pay`); payment notifications (`/escott/notify`) per second; renewals per "+
		"second against a gateway that serves at most %d calls at once, each taking %s (two calls per renewal, so the "+
		"cap allows %.0f renewals/s). CPU is this process's: kessai, the simulator and the client together, PostgreSQL's own "+
		"processes not included; unlike wall time it hardly depends on the machine's other load.\n\n", reportFastConcurrency, DefaultRenewalCap, fmtLatency(DefaultRenewalLatency),
		float64(DefaultRenewalCap)/(2*DefaultRenewalLatency.Seconds()))
	fig(figThroughput)
	p("| database | what | per second | detail |\n|---|---|---:|---|\n")
	for _, db := range dbs {
		if sc := r.find(ScenarioCard, db, 0); sc != nil {
			detail := "—"
			if c := sc.Card; c != nil {
				detail = fmt.Sprintf("%s checkouts in %s; CPU %s per checkout (kessai, simulator and client)", count(c.Checkouts),
					fmtWall(c.Wall), fmtMS(c.CPUPerCheckout()))
			}
			p("| %s | card checkouts, gateway 0 ms%s | %s | %s |\n", dbName(db), failedMark(sc), rateIf(sc.Card != nil, cardRate(sc)), detail)
		}
		if sc := r.find(ScenarioCollection, db, 0); sc != nil {
			detail := "—"
			if c := sc.Collection; c != nil {
				detail = fmt.Sprintf("%s registrations in %s; CPU %s per registration", count(c.Registrations), fmtWall(c.Wall),
					fmtMS(c.CPUPerRegistration()))
			}
			p("| %s | collection registrations, gateway 0 ms%s | %s | %s |\n", dbName(db), failedMark(sc),
				rateIf(sc.Collection != nil, collectionRate(sc)), detail)
		}
		if sc := r.find(ScenarioNotifications, db, 0); sc != nil {
			detail := "—"
			if n := sc.Notification; n != nil {
				detail = fmt.Sprintf("%s notifications in %s, %d in flight; %s verified paid once; CPU %s per notification",
					count(n.Notifications), fmtWall(n.Wall), n.Concurrency, count(n.Verified), fmtMS(n.CPUPerNotification()))
			}
			p("| %s | payment notifications%s | %s | %s |\n", dbName(db), failedMark(sc), rateIf(sc.Notification != nil, notificationRate(sc)), detail)
		}
		if sc := r.find(ScenarioRenewals, db, DefaultRenewalLatency); sc != nil {
			detail := "—"
			if rr := sc.Renewal; rr != nil {
				detail = fmt.Sprintf("%.1f %% of the cap's %.0f/s", 100*rr.Fraction, rr.MaxPerSecond)
			}
			p("| %s | renewals, capped gateway%s | %s | %s |\n", dbName(db), failedMark(sc), rateIf(sc.Renewal != nil, renewalRate(sc)), detail)
		}
	}
	p("\n### Renewals against a capped gateway\n\n")
	p("Each due subscription is renewed once (a saved-card lookup and a 1Gathering); the simulator queues calls beyond " +
		"the cap as a real gateway at capacity would. The fraction of the cap is the renewal engine's efficiency: 100 %% " +
		"would keep every gateway slot busy all the time.\n\n")
	fig(figRenewals)
	p("| database | renewals | cap | call latency | workers | cap allows | achieved | fraction of cap | wake p50 | wake p99 | verified (warm-up included) |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, db := range dbs {
		sc := r.find(ScenarioRenewals, db, DefaultRenewalLatency)
		if sc == nil {
			continue
		}
		if rr := sc.Renewal; rr != nil {
			p("| %s%s | %s | %d | %s | %d | %.1f/s | %.1f/s | **%.1f %%** | %s | %s | %s |\n", dbName(db), failedMark(sc), count(rr.N), rr.Cap,
				fmtLatency(rr.Latency), rr.Workers, rr.MaxPerSecond, rr.PerSecond, 100*rr.Fraction, fmtMS(rr.Wake.P50), fmtMS(rr.Wake.P99),
				count(rr.Verified))
		} else {
			p("| %s%s | %s | %d | %s | %d | — | — | — | — | — | — |\n", dbName(db), failedMark(sc), count(sc.N), DefaultRenewalCap,
				fmtLatency(DefaultRenewalLatency), sc.Concurrency)
		}
	}
	p("\n")

	// 3. TLS.
	p("%s\n\n", mdTLS)
	p("Gateway calls over TLS 1.2 on loopback: through kessai's pooled client (keep-alive, the default), and with a new " +
		"connection and handshake per call, as the PHP plugins do. Against the real gateway each handshake also costs " +
		"network round trips, so the ratio here is the least the pool saves.\n\n")
	fig(figTLS)
	if sc := r.find(ScenarioTLS, "", 0); sc != nil {
		if t := sc.TLS; t != nil {
			p("| per call | p50 | p90 | p99 | mean | new connections | CPU per call |\n|---|---:|---:|---:|---:|---:|---:|\n")
			p("| pooled%s | %s | %s | %s | %s | %s | %s |\n", failedMark(sc), fmtMS(t.Pooled.P50), fmtMS(t.Pooled.P90), fmtMS(t.Pooled.P99),
				fmtMS(t.Pooled.Mean), count64(t.PooledNewConns), fmtMS(t.PooledCPU))
			p("| new handshake per call%s | %s | %s | %s | %s | %s | %s |\n\n", failedMark(sc), fmtMS(t.Handshake.P50), fmtMS(t.Handshake.P90),
				fmtMS(t.Handshake.P99), fmtMS(t.Handshake.Mean), count64(t.HandshakeNewConns), fmtMS(t.HandshakeCPU))
			p("CPU per call is this process's, client and simulator together: both ends of a handshake cost. The two kinds " +
				"of call alternate in rounds so that load from elsewhere hits both alike.\n\n")
			p("**A new handshake per call is %.1f× slower than a pooled call** (median ÷ median; %s calls of each kind in %d rounds).\n\n",
				t.Ratio, count(t.N), t.Rounds)
		} else {
			p("No result: see [Errors](#errors).\n\n")
		}
	}

	// 4. Memory and start-up.
	p("%s\n\n", mdMemory)
	p("**Bench process**: the peak resident set (Linux `VmHWM`, reset before each scenario through " +
		"`/proc/self/clear_refs`) of the process that runs kessai, the simulator and the client together; the simulator " +
		"keeps every transaction in memory, so this is an upper bound for kessai. For renewals it is the measured phase's " +
		"peak, after seeding. **kessai serve**: the peak RSS of a real `kessai serve` process (SQLite, built-in simulator, " +
		"demo shop) once it is ready and after it has idled, and how long it takes to start and stop.\n\n")
	fig(figMemory)
	p("| process | scenario | peak RSS |\n|---|---|---:|\n")
	for _, sc := range r.Scenarios {
		if sc.Name == ScenarioStartup {
			continue
		}
		peak := "—"
		if sc.PeakRSS > 0 {
			peak = mib(sc.PeakRSS)
			if !sc.PeakRSSOfScenario {
				peak += " (process peak so far: no reset)"
			}
		}
		p("| bench | %s%s | %s |\n", sc.Label(), failedMark(sc), peak)
	}
	st := startupOf(r)
	if st != nil {
		p("| kessai serve | peak when first ready (largest of %s) | %s |\n", plural(st.Runs, "run"), mib(uint64(max(st.RSSReady, 0))))
		p("| kessai serve | peak after %s idle (largest of %s) | %s |\n", fmtWall(StartupIdle), plural(st.Runs, "run"), mib(uint64(max(st.RSSIdle, 0))))
	}
	p("\n")
	fig(figStartup)
	if sc := r.find(ScenarioStartup, "", 0); sc != nil {
		if st != nil {
			p("`kessai serve` with SQLite, the built-in simulator and the demo shop, timed from exec until `GET /readyz` " +
				"answers 200, and from SIGTERM until the process has exited.\n\n")
			p("| kessai serve%s | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|\n", failedMark(sc))
			p("| first start (new data directory: database, migrations, keys, demo shop) | %s | | | |\n", fmtMS(st.FirstStart))
			if st.Runs > 1 {
				p("| restart until ready (%s) | %s | %s | %s | %s |\n", plural(st.Runs-1, "run"), fmtMS(st.Restart.P50), fmtMS(st.Restart.P90),
					fmtMS(st.Restart.P99), fmtMS(st.Restart.Max))
			}
			p("| shutdown (%s) | %s | %s | %s | %s |\n\n", plural(st.Runs, "run"), fmtMS(st.Shutdown.P50), fmtMS(st.Shutdown.P90),
				fmtMS(st.Shutdown.P99), fmtMS(st.Shutdown.Max))
		} else {
			p("No start-up result: see [Errors](#errors).\n\n")
		}
	}

	// Runs.
	p("%s\n\n", mdRuns)
	p("| # | scenario | size | concurrency | wall | load before → after | result |\n|---:|---|---:|---:|---:|---|---|\n")
	for i, sc := range r.Scenarios {
		res := "ok"
		if sc.Failed() {
			res = "**failed**"
		}
		conc := "—"
		if sc.Concurrency > 0 {
			conc = fmt.Sprint(sc.Concurrency)
		}
		p("| %d | %s | %s | %s | %s | %s → %s | %s |\n", i+1, sc.Label(), count(sc.N), conc, fmtWall(sc.Wall),
			orUnknown(sc.LoadBefore), orUnknown(sc.LoadAfter), res)
	}
	p("\nSizes: card %s, collections %s, notifications %s, renewals %s, TLS %s calls × %d rounds, start-up %d runs.\n\n",
		count(r.Sizes.CardN), count(r.Sizes.CollectN), count(r.Sizes.NotifyN), count(r.Sizes.RenewalN), count(r.Sizes.TLSN),
		r.Sizes.TLSRounds, r.Sizes.StartupRuns)

	// Errors.
	p("%s\n\n", mdErrors)
	if len(errs) == 0 {
		p("None: every scenario completed and its own checks passed.\n\n")
	} else {
		for _, sc := range r.Scenarios {
			if sc.Failed() {
				p("- **%s**:\n\n```\n%s\n```\n\n", sc.Label(), strings.ReplaceAll(sc.Error, "```", "'''"))
			}
		}
	}

	// Raw data.
	p("%s\n\n", mdRaw)
	p("[report.json](report.json) holds every scenario's full report (durations in milliseconds where the report " +
		"says `_ms`), the machine and the sizes. The figures: ")
	for i, f := range figs {
		if i > 0 {
			p(", ")
		}
		p("[%s](%s)", f.File, f.File)
	}
	p(".\n")
	return b.String()
}

// fmtWall prints a scenario's or the suite's wall time.
func fmtWall(d time.Duration) string {
	if d < time.Second {
		return fmtMS(d)
	}
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return count(n) + " " + word + "s"
}

// fmtMS prints a duration in milliseconds with the precision people read
// it at.
func fmtMS(d time.Duration) string {
	v := float64(d) / 1e6
	switch {
	case v == 0:
		return "0 ms"
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return count(int(v+0.5)) + " ms"
}

func msIf(ok bool, d time.Duration) string {
	if !ok {
		return "—"
	}
	return fmtMS(d)
}

func rateIf(ok bool, v float64) string {
	if !ok {
		return "—"
	}
	if v >= 100 {
		return "**" + count(int(v+0.5)) + "**"
	}
	return fmt.Sprintf("**%.1f**", v)
}

// ratio is a ÷ b, "—" without b.
func ratio(a, b time.Duration) string {
	if b <= 0 || a <= 0 {
		return "—"
	}
	r := float64(a) / float64(b)
	if r < 10 {
		return fmt.Sprintf("%.2f×", r)
	}
	return fmt.Sprintf("%.0f×", r)
}

// count groups digits by thousands.
func count(n int) string { return count64(int64(n)) }

func count64(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count64(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func failedMark(sc *Scenario) string {
	if sc != nil && sc.Failed() {
		return " (**failed**)"
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return mdCell(s)
}

// mdCell keeps a value inside its table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// mdEscape keeps a figure's title inside its image's alt text.
func mdEscape(s string) string {
	return strings.NewReplacer("[", `\[`, "]", `\]`, "\n", " ").Replace(s)
}
