package main

import (
	"net/netip"

	"encoding/json"
	"flag"
	"fmt"
	"github.com/kessai/kessai/hosted"
	"net/url"
	"os"
	"strings"
	"time"
)

// serveConfig is the configuration of `kessai serve`. Each field can come
// from a flag, an environment variable or the JSON config file; a flag
// beats the environment, which beats the file, which beats the default.
type serveConfig struct {
	Addr        string `json:"addr"`
	PublicURL   string `json:"public_url"`
	DataDir     string `json:"data_dir"`
	DatabaseURL string `json:"database_url"`
	SimAddr     string `json:"sim_addr"`
	// SimURL is an e-SCOTT simulator already running elsewhere (`kessai
	// sim`); when set, the built-in one is not started and SimAddr is
	// ignored.
	SimURL string `json:"sim_url"`
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (hosted.ProxyClientIP): the checkout's rate limit must count
	// shoppers, not the proxy.
	TrustedProxies string `json:"trusted_proxies"`
	trustedProxies []netip.Prefix
	LogLevel       string        `json:"log_level"`
	LogFormat      string        `json:"log_format"`
	Shutdown       time.Duration `json:"-"`
	ShutdownRaw    string        `json:"shutdown_timeout"`
	Demo           string        `json:"demo"`
	// SimMemberLifetime is how long the built-in simulator keeps test card
	// members (the test environment forgets them after about two months);
	// 0 means never, for clock-driven demos of many renewals.
	SimMemberLifetime    time.Duration `json:"-"`
	SimMemberLifetimeRaw string        `json:"sim_member_lifetime"`
	// StaleAfter is how long a gateway call may stay unanswered before the
	// recovery sweep marks it unknown (cardpay and cvspay StaleAfter).
	StaleAfter    time.Duration `json:"-"`
	StaleAfterRaw string        `json:"stale_after"`
}

// builtinSim reports whether serve starts the built-in simulator: unless
// it is turned off or a running one is named by -sim-url.
func (c *serveConfig) builtinSim() bool { return c.SimAddr != "off" && c.SimURL == "" }

// option describes one setting for flags, environment and documentation.
type option struct {
	name, env, def, help string
	field                func(*serveConfig) *string
}

var serveOptions = []option{
	{"addr", "KESSAI_ADDR", "127.0.0.1:8080", "address the service listens on", func(c *serveConfig) *string { return &c.Addr }},
	{"public-url", "KESSAI_PUBLIC_URL", "", "base URL shoppers and the gateway use to reach kessai (default http://<addr>)", func(c *serveConfig) *string { return &c.PublicURL }},
	{"data-dir", "KESSAI_DATA_DIR", "kessai-data", "directory for the SQLite database and the master key file", func(c *serveConfig) *string { return &c.DataDir }},
	{"database-url", "KESSAI_DATABASE_URL", "", "PostgreSQL URL (postgres://…); empty = embedded SQLite in the data directory", func(c *serveConfig) *string { return &c.DatabaseURL }},
	{"sim-addr", "KESSAI_SIM_ADDR", "127.0.0.1:8470", `address of the built-in e-SCOTT simulator; "off" to not run it`, func(c *serveConfig) *string { return &c.SimAddr }},
	{"sim-url", "KESSAI_SIM_URL", "", `base URL of an e-SCOTT simulator that already runs (kessai sim -notify-url <public-url>/escott/notify), used instead of starting the built-in one: -sim-addr is then ignored, and there is no test clock (the simulator keeps its own, /_sim/clock)`, func(c *serveConfig) *string { return &c.SimURL }},
	{"sim-member-lifetime", "KESSAI_SIM_MEMBER_LIFETIME", "1440h", `how long the built-in simulator keeps test card members, like the test environment (about two months); "0" = never, for test-clock demos of many renewals`, func(c *serveConfig) *string { return &c.SimMemberLifetimeRaw }},
	{"stale-after", "KESSAI_STALE_AFTER", "5m", "how long a gateway call may stay unanswered before recovery marks its payment unknown; keep it above two gateway timeouts (2 × 60 s): only tests that kill kessai on purpose lower it", func(c *serveConfig) *string { return &c.StaleAfterRaw }},
	{"trusted-proxies", "KESSAI_TRUSTED_PROXIES", "", "comma-separated CIDRs of the reverse proxies in front of kessai, whose X-Forwarded-For names the client (for the checkout rate limit); empty = none", func(c *serveConfig) *string { return &c.TrustedProxies }},
	{"log-level", "KESSAI_LOG_LEVEL", "info", "log level: debug, info, warn, error", func(c *serveConfig) *string { return &c.LogLevel }},
	{"log-format", "KESSAI_LOG_FORMAT", "text", "log format: text or json", func(c *serveConfig) *string { return &c.LogFormat }},
	{"shutdown-timeout", "KESSAI_SHUTDOWN_TIMEOUT", "30s", "how long in-flight requests and jobs may take to finish on shutdown", func(c *serveConfig) *string { return &c.ShutdownRaw }},
	{"demo", "KESSAI_DEMO", "on", `demo shop at <public-url>/demo/ paying through the API ("off" to disable; it takes no orders in production)`, func(c *serveConfig) *string { return &c.Demo }},
}

// loadServeConfig resolves the configuration from args, env and the file
// named by -config or KESSAI_CONFIG.
func loadServeConfig(name string, args []string, getenv func(string) string) (*serveConfig, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	configPath := fs.String("config", getenv("KESSAI_CONFIG"), "JSON configuration file (env KESSAI_CONFIG)")
	values := map[string]*string{}
	for _, o := range serveOptions {
		values[o.name] = fs.String(o.name, "", fmt.Sprintf("%s (env %s, default %q)", o.help, o.env, o.def))
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: kessai %s [flags]\n\nEvery flag can also be set by its environment variable or in the -config JSON file\n(keys: the flag names with '_' for '-'). Flags win over the environment, which wins over the file.\n\nFlags:\n", name)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nKESSAI_MASTER_KEY (environment only): base64 of 32 bytes encrypting secrets at rest;\nwhen unset, <data-dir>/master.key is created at first start (mode 0600).\n")
	}
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if fs.NArg() > 0 {
		return nil, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := &serveConfig{}
	if *configPath != "" {
		b, err := os.ReadFile(*configPath)
		if err != nil {
			return nil, fs, err
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(cfg); err != nil {
			return nil, fs, fmt.Errorf("%s: %w", *configPath, err)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, o := range serveOptions {
		p := o.field(cfg)
		switch {
		case set[o.name]:
			*p = *values[o.name]
		case getenv(o.env) != "":
			*p = getenv(o.env)
		case *p == "":
			*p = o.def
		}
	}
	d, err := time.ParseDuration(cfg.ShutdownRaw)
	if err != nil || d <= 0 {
		return nil, fs, fmt.Errorf("shutdown-timeout: %q is not a positive duration", cfg.ShutdownRaw)
	}
	cfg.Shutdown = d
	if cfg.trustedProxies, err = hosted.ParseTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fs, fmt.Errorf("trusted-proxies: %w", err)
	}
	life, err := time.ParseDuration(cfg.SimMemberLifetimeRaw)
	if err != nil || life < 0 {
		return nil, fs, fmt.Errorf("sim-member-lifetime: %q is not a duration ≥ 0", cfg.SimMemberLifetimeRaw)
	}
	cfg.SimMemberLifetime = life
	stale, err := time.ParseDuration(cfg.StaleAfterRaw)
	if err != nil || stale <= 0 {
		return nil, fs, fmt.Errorf("stale-after: %q is not a positive duration", cfg.StaleAfterRaw)
	}
	cfg.StaleAfter = stale
	if cfg.SimURL != "" {
		u, err := url.Parse(cfg.SimURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fs, fmt.Errorf("sim-url must be an http(s) base URL such as http://127.0.0.1:8470, not %q", cfg.SimURL)
		}
		cfg.SimURL = strings.TrimRight(cfg.SimURL, "/")
	}
	switch cfg.LogFormat {
	case "text", "json":
	default:
		return nil, fs, fmt.Errorf("log-format must be text or json, not %q", cfg.LogFormat)
	}
	switch cfg.Demo {
	case "on", "off":
	default:
		return nil, fs, fmt.Errorf("demo must be on or off, not %q", cfg.Demo)
	}
	if cfg.DatabaseURL != "" && !strings.HasPrefix(cfg.DatabaseURL, "postgres://") && !strings.HasPrefix(cfg.DatabaseURL, "postgresql://") {
		return nil, fs, fmt.Errorf("database-url must be a postgres:// URL")
	}
	return cfg, fs, nil
}
