package escott

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"
)

// UserAgent is sent on every server call.
const UserAgent = "kessai-escott/1"

// Default timeouts mirror the merchant plugins: 60 s to connect, 60 s to
// wait for the answer.
const (
	DefaultConnectTimeout = 60 * time.Second
	DefaultReadTimeout    = 60 * time.Second
)

// Merchant holds the credentials of one gateway contract. The card and
// collection services may use different ones; create one Client for each.
type Merchant struct {
	MerchantID   string
	MerchantPass string
	// TenantID is the store code (店舗コード), "0001" for a single store.
	// It is sent on every call except collection (2xxx) calls.
	TenantID string
}

// Config configures a Client.
type Config struct {
	Merchant    Merchant
	Environment Environment
	// BaseURL overrides the environment's host, e.g. a simulator at
	// http://127.0.0.1:8470. Paths stay those of the real gateway.
	BaseURL string
	// HTTPClient sends the calls; nil means a client on NewTransport with
	// default options. Share one across Clients to share the pool.
	HTTPClient *http.Client
	// Now gives the time for TransactionDate and SalesDate; default
	// time.Now. Dates are always computed in JST.
	Now func() time.Time
	// Rand is the randomness for generated identifiers; default
	// crypto/rand.Reader.
	Rand io.Reader
	// Log, when set, is called after every call with masked parameters.
	Log LogFunc
}

// LogFunc receives one entry per gateway call. Request and Response are
// already masked (see MaskParams); it is safe to write them anywhere.
type LogFunc func(ctx context.Context, e LogEntry)

// LogEntry describes one gateway call.
type LogEntry struct {
	Op       OperateID
	URL      string
	Request  Params
	Response Params // nil when no usable answer arrived
	// Codes is ResponseCd (and TokenResponseCd) split, or ["NG"].
	Codes    []string
	Duration time.Duration
	// Err is the transport or parse error behind an NG.
	Err error
}

// Client calls the gateway's server-to-server endpoints (E1–E4). It is safe
// for concurrent use.
type Client struct {
	cfg     Config
	baseURL string
	http    *http.Client
	calls   atomic.Int64
	dialled atomic.Int64
}

// New checks the configuration and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Merchant.MerchantID == "" || cfg.Merchant.MerchantPass == "" {
		return nil, errors.New("escott: MerchantId and MerchantPass are required")
	}
	if cfg.Environment != Test && cfg.Environment != Production {
		return nil, errors.New("escott: Environment must be Test or Production")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = cfg.Environment.BaseURL()
	}
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("escott: BaseURL %q must start with http:// or https://", cfg.BaseURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: NewTransport(TransportOptions{})}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Client{cfg: cfg, baseURL: base, http: cfg.HTTPClient}, nil
}

// Merchant returns the credentials the client sends.
func (c *Client) Merchant() Merchant { return c.cfg.Merchant }

// Environment returns the environment the client was configured for.
func (c *Client) Environment() Environment { return c.cfg.Environment }

// BaseURL returns the scheme and host calls go to.
func (c *Client) BaseURL() string { return c.baseURL }

// Now returns the client's current time.
func (c *Client) Now() time.Time { return c.cfg.Now() }

// Rand returns the client's source of randomness.
func (c *Client) Rand() io.Reader { return c.cfg.Rand }

// TransportOptions tunes NewTransport.
type TransportOptions struct {
	// ConnectTimeout bounds TCP connect plus TLS handshake; default 60 s.
	ConnectTimeout time.Duration
	// ReadTimeout bounds the wait for the answer's headers; default 60 s.
	ReadTimeout time.Duration
	// RootCAs verifies the gateway's certificate; nil means the system pool.
	RootCAs *x509.CertPool
	// DisableKeepAlives opens a new connection (and TLS handshake) per
	// call, as the PHP plugins do. Only for comparison benchmarks.
	DisableKeepAlives bool
	// MaxConnsPerHost caps concurrent connections to the gateway (0 = no cap).
	MaxConnsPerHost int
	// MaxIdleConnsPerHost is the size of the keep-alive pool; default 32.
	MaxIdleConnsPerHost int
}

// NewTransport returns an HTTP transport for the gateway: TLS 1.2 exactly
// (the gateway does not accept TLS 1.3; pinning both ends reproduces what
// the plugins negotiate), certificate verification on, pooled keep-alive
// connections so that a call costs no handshake, and the plugins' timeouts.
// Requests are never retried by the transport on a reused connection
// failure, since POSTs are not idempotent.
func NewTransport(o TransportOptions) *http.Transport {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 32
	}
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: dialer.DialContext,
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			MaxVersion: tls.VersionTLS12,
			RootCAs:    o.RootCAs,
		},
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.ReadTimeout,
		DisableKeepAlives:     o.DisableKeepAlives,
		MaxIdleConns:          o.MaxIdleConnsPerHost * 2,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		MaxConnsPerHost:       o.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		// The gateway answers in plain form encoding; asking for gzip
		// would only add work.
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
	}
}

// Stats reports how many calls the client made and how many of them had to
// open a new connection (the rest reused a pooled one).
func (c *Client) Stats() (calls, newConnections int64) {
	return c.calls.Load(), c.dialled.Load()
}

// Do sends one operation with the given parameters to its endpoint. It
// fills MerchantId, MerchantPass, TenantId (where the operation uses it),
// TransactionDate (today in JST) and OperateId unless p already sets them.
// On ResponseCd OK (and TokenResponseCd OK, when present) it returns the
// answer and a nil error. Otherwise it returns an *Error: with the answer
// when the gateway refused, or without one (pseudo code NG) when no usable
// answer arrived. The typed methods (Authorize, Capture, …) are built on Do.
func (c *Client) Do(ctx context.Context, op OperateID, p Params) (*Response, error) {
	ep := op.Endpoint()
	if ep == 0 {
		return nil, fmt.Errorf("escott: %q is not a server-to-server operation", op)
	}
	req := c.withCommon(p, op)
	return c.send(ctx, op, ep, req)
}

// withCommon returns a copy of p completed with the common fields.
func (c *Client) withCommon(p Params, op OperateID) Params {
	out := make(Params, 0, len(p)+6)
	out = append(out, Param{"MerchantId", c.cfg.Merchant.MerchantID}, Param{"MerchantPass", c.cfg.Merchant.MerchantPass})
	out = append(out, Param{"TransactionDate", TransactionDate(c.cfg.Now())})
	out = append(out, Param{"OperateId", string(op)})
	if op.UsesTenant() && c.cfg.Merchant.TenantID != "" {
		out = append(out, Param{"TenantId", c.cfg.Merchant.TenantID})
	}
	for _, kv := range p {
		out.Set(kv.Key, kv.Value)
	}
	return out
}

func (c *Client) send(ctx context.Context, op OperateID, ep Endpoint, p Params) (*Response, error) {
	c.calls.Add(1)
	start := time.Now()
	u := c.baseURL + ep.Path()
	body := p.Encode()

	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if !info.Reused {
				c.dialled.Add(1)
			}
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			// Even a write that reports an error may have delivered
			// bytes; only "never got that far" is certain.
			wrote.Store(true)
		},
	}
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return nil, c.fail(ctx, op, u, p, start, err, false)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hreq.Header.Set("User-Agent", UserAgent)

	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.fail(ctx, op, u, p, start, err, wrote.Load())
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, c.fail(ctx, op, u, p, start, fmt.Errorf("escott: reading the answer: %w", err), true)
	}
	r, err := ParseResponse(raw)
	if err != nil {
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, c.fail(ctx, op, u, p, start, err, true)
	}
	c.logCall(ctx, op, u, p, r, r.allCodes(), time.Since(start), nil)
	if !r.OK() {
		return r, &Error{Op: op, Codes: r.FailureCodes(), Response: r}
	}
	return r, nil
}

// fail records and returns the NG outcome.
func (c *Client) fail(ctx context.Context, op OperateID, u string, p Params, start time.Time, cause error, maySucceeded bool) error {
	c.logCall(ctx, op, u, p, nil, []string{CodeNG}, time.Since(start), cause)
	return &Error{Op: op, Codes: []string{CodeNG}, Cause: cause, MaySucceeded: maySucceeded}
}

func (c *Client) logCall(ctx context.Context, op OperateID, u string, p Params, r *Response, codes []string, d time.Duration, err error) {
	if c.cfg.Log == nil {
		return
	}
	e := LogEntry{Op: op, URL: u, Request: MaskParams(p), Codes: codes, Duration: d, Err: err}
	if r != nil {
		e.Response = MaskParams(ParamsFromValues(r.Fields))
	}
	c.cfg.Log(ctx, e)
}

// allCodes is ResponseCd followed by TokenResponseCd, for logs.
func (r *Response) allCodes() []string {
	out := append([]string(nil), r.Codes...)
	return append(out, r.TokenCodes...)
}
