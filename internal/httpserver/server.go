// Package httpserver serves an MCP server over HTTP to authenticated
// principals: mcp-go's streamable HTTP transport at /mcp, its older SSE
// transport at /sse and /message, and /healthz, on one listener.
//
// Every MCP request passes, in order: the Origin check (DNS rebinding; CORS
// for the allowed origins), its address's budget of authentication
// failures (429), bearer-token authentication (401), the principal's rate
// limit (429), the body bound (413), the OAuth scope of a tool call (403)
// and the session check (a session belongs to the principal that opened
// it). The principal then
// travels in the request's context to the tool filter and the tool
// handlers, where the policy reads it. Before any of that, the listener
// bounds the connections open at once, in all and per address.
//
// Serve shuts down gracefully when its context ends: it stops accepting
// connections, refuses new work on the ones still open, lets the calls in
// flight finish and deliver their results within a bound, and only then ends
// the long-lived streams.
package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"golang.org/x/time/rate"

	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// Paths served.
const (
	// PathMCP is the streamable HTTP transport's endpoint.
	PathMCP = "/mcp"
	// PathSSE opens a session of the older SSE transport (GET).
	PathSSE = "/sse"
	// PathMessage receives the messages of an SSE session (POST).
	PathMessage = "/message"
	// PathHealth answers load balancers, without authentication.
	PathHealth = "/healthz"
	// PathApprovals serves the approval pages, when Options.Approvals is set.
	PathApprovals = "/approvals"
)

// Defaults of Options left zero.
const (
	// DefaultRateLimit is each principal's sustained rate, in requests per
	// second.
	DefaultRateLimit = 10
	// DefaultRateBurst is how many requests a principal may send at once.
	DefaultRateBurst = 40
	// DefaultMaxBodyBytes bounds a request body: MCP messages are small.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxHeaderBytes bounds a request's headers.
	DefaultMaxHeaderBytes = 32 << 10
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a request, headers and body.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds each write of a response.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds a keep-alive connection between requests.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultShutdownTimeout bounds how long calls in flight may take to
	// finish once the shutdown begins.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultKeepAlive is how often an idle event stream gets a ping, so
	// that proxies do not close it.
	DefaultKeepAlive = 25 * time.Second
	// DefaultMaxConns bounds the connections open at once: far more than
	// the MCP hosts of one WHMCS need, well within the usual file
	// descriptor limits, about 20 MB at most.
	DefaultMaxConns = 1024
	// DefaultMaxConnsPerAddr bounds the connections open at once from one
	// address: an MCP host holds one or two per session (its event stream,
	// its requests), so this leaves room for a busy host or a few behind
	// one NAT, and an eighth of DefaultMaxConns for any one address.
	DefaultMaxConnsPerAddr = 128
	// DefaultAuthFailureBurst is how many authentication failures an
	// address may have at once: room for a person fixing a token, and for a
	// few hosts behind one NAT.
	DefaultAuthFailureBurst = 10
	// DefaultAuthFailureRate is the sustained rate of authentication
	// failures allowed to an address, per second: one every 10 s, which
	// keeps guessing a 32-character token hopeless while a host with a
	// stale token is not locked out for long.
	DefaultAuthFailureRate = 0.1
	// SessionIdleTTL is how long an idle session stays bound to its
	// principal (and keeps mcp-go's per-session state).
	SessionIdleTTL = time.Hour
)

// abortGrace is how long calls still running at the end of the shutdown
// bound get, once cancelled, to record their outcome.
const abortGrace = 5 * time.Second

// sseLinger is how long SSE streams stay open, once the calls in flight
// have delivered their results, before the shutdown ends them.
var sseLinger = 500 * time.Millisecond

// Options configure a Server.
type Options struct {
	// MCP is the server exposed. New adds a tool middleware to it: calls
	// without a principal in their context are refused, and running calls
	// are counted for the graceful shutdown.
	MCP *server.MCPServer
	// Auth knows the principals' bearer tokens, and which principals OAuth
	// access tokens match.
	Auth *policy.Authenticator
	// OAuth, if set, makes the server an OAuth 2.1 resource server too: it
	// serves its Protected Resource Metadata, points 401s at it, and takes
	// the JWT access tokens OAuth verifies, for the principals Auth matches
	// to them. A token without policy.ScopeWrite calling a write tool gets
	// 403 insufficient_scope.
	OAuth *oauth.Verifier
	// Anonymous, if set, is the principal of requests that carry no
	// Authorization header. Serve allows it only when Auth has no principal
	// and the listener is on a loopback address.
	Anonymous *policy.Principal
	// AllowedOrigins are the browser origins (scheme://host[:port]) allowed
	// besides none; loopback origins are allowed too when the listener is on
	// a loopback address.
	AllowedOrigins []string
	// RateLimit is each principal's sustained rate in requests per second
	// (0 = DefaultRateLimit, rate.Inf = no limit).
	RateLimit rate.Limit
	// RateBurst is how many requests a principal may send at once (0 =
	// DefaultRateBurst).
	RateBurst int
	// Limiter, if set, applies the principals' rate limits instead of
	// limiters in this process' memory: one shared by replicas (Redis).
	Limiter RateLimiter
	// MaxBodyBytes bounds a request body (413 above it).
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request headers (431 above it).
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds reading a request's headers, ReadTimeout the
	// whole request with its body, WriteTimeout each write of a response
	// (an event stream lives as long as it is read), IdleTimeout a
	// keep-alive connection between requests.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds how long calls in flight may take to finish
	// after the shutdown begins.
	ShutdownTimeout time.Duration
	// KeepAlive is the ping interval of idle event streams.
	KeepAlive time.Duration
	// MaxConns bounds the connections open at once, MaxConnsPerAddr those
	// from one address (an IPv4 address, an IPv6 /64); 0 = the default,
	// negative = no bound. A connection over a bound is closed as soon as
	// it is accepted.
	MaxConns, MaxConnsPerAddr int
	// AuthFailureRate is each address's sustained rate of authentication
	// failures, per second (0 = DefaultAuthFailureRate, rate.Inf = no
	// limit), AuthFailureBurst how many it may have at once (0 =
	// DefaultAuthFailureBurst). An address that has spent them gets 429
	// before its token is looked at.
	AuthFailureRate  rate.Limit
	AuthFailureBurst int
	// Approvals, if set, serves the approval pages at /approvals: outside
	// the MCP endpoint's authentication and origin check, with their own
	// sign-in (see package approvalweb); the connection bounds still apply.
	Approvals http.Handler
	// TLSCertFile and TLSKeyFile, both or neither, serve HTTPS.
	TLSCertFile, TLSKeyFile string
	// Logger receives refusals (at warn), the shutdown's progress and
	// mcp-go's transport errors; nil discards them.
	Logger *slog.Logger
}

// Server is the HTTP front of an MCP server.
type Server struct {
	opts       Options
	log        *slog.Logger
	origins    map[string]bool
	tls        *tls.Config
	streamable *server.StreamableHTTPServer
	sse        *server.SSEServer
	handler    http.Handler

	metadataURL string // the Protected Resource Metadata's URL, with OAuth

	limiters sync.Map // principal name -> *rate.Limiter

	connRefusals *refusalLog   // connections over the bounds
	reqRefusals  *refusalLog   // requests refused by the origin check or authentication
	authFailures *authThrottle // each address's budget of authentication failures

	streamableOwners *owners  // Mcp-Session-Id -> principal
	sseSessions      *sseBook // SSE session id -> principal, requests awaiting a response

	draining atomic.Bool
	inflight tracker
	hardStop context.Context // cancelled when calls outlive the shutdown bound
	abort    context.CancelFunc
}

// New returns a Server for opts.
func New(opts Options) (*Server, error) {
	if opts.MCP == nil {
		return nil, errors.New("httpserver: no MCP server")
	}
	setDefaults(&opts)
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("TLS needs both --tls-cert and --tls-key")
	}
	if opts.Auth.Len() > 0 {
		opts.Anonymous = nil // tokens are required as soon as one principal exists
	}
	s := &Server{
		opts:             opts,
		log:              opts.Logger,
		origins:          map[string]bool{},
		streamableOwners: newOwners(SessionIdleTTL),
		sseSessions:      newSSEBook(),
		connRefusals:     newRefusalLog(opts.Logger, "connections refused over the connection bounds, in summary"),
		reqRefusals:      newRefusalLog(opts.Logger, "HTTP requests refused by the origin check or authentication, in summary"),
		authFailures:     newAuthThrottle(opts.AuthFailureRate, opts.AuthFailureBurst),
	}
	for _, o := range opts.AllowedOrigins {
		norm, err := normalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("allowed origin %q: %w", o, err)
		}
		s.origins[norm] = true
	}
	if opts.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.hardStop, s.abort = context.WithCancel(context.Background())
	var metadataPaths []string
	if opts.OAuth != nil {
		url, path, err := resourceMetadataURL(opts.OAuth.Audience())
		if err != nil {
			return nil, err
		}
		s.metadataURL = url
		metadataPaths = []string{PathResourceMetadata, PathResourceMetadata + PathMCP}
		if path != "" && path != PathMCP {
			metadataPaths = append(metadataPaths, PathResourceMetadata+path)
		}
	}

	s.streamable = server.NewStreamableHTTPServer(opts.MCP,
		server.WithEndpointPath(PathMCP),
		server.WithHeartbeatInterval(opts.KeepAlive),
		server.WithSessionIdleTTL(SessionIdleTTL),
		server.WithStreamableHTTPLogger(s.log),
	)
	s.sse = server.NewSSEServer(opts.MCP,
		server.WithSSEEndpoint(PathSSE),
		server.WithMessageEndpoint(PathMessage),
		server.WithKeepAliveInterval(opts.KeepAlive),
		server.WithSessionIDGenerator(s.newSSESession),
	)
	opts.MCP.Use(s.toolMiddleware)

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathHealth, s.health)
	for _, path := range metadataPaths {
		mux.HandleFunc("GET "+path, s.serveResourceMetadata)
	}
	mux.Handle(PathMCP, s.guard(transportStreamable, s.streamable))
	mux.Handle(PathSSE, s.guard(transportSSEStream, s.sse.SSEHandler()))
	mux.Handle(PathMessage, s.guard(transportSSEMessage, s.sse.MessageHandler()))
	if opts.Approvals != nil {
		mux.Handle(PathApprovals, opts.Approvals)
		mux.Handle(PathApprovals+"/", opts.Approvals)
	}
	s.handler = mux
	return s, nil
}

func setDefaults(o *Options) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RateLimit == 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.RateBurst <= 0 {
		o.RateBurst = DefaultRateBurst
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConnsPerAddr == 0 {
		o.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}
	if o.AuthFailureRate <= 0 {
		o.AuthFailureRate = DefaultAuthFailureRate
	}
	if o.AuthFailureBurst <= 0 {
		o.AuthFailureBurst = DefaultAuthFailureBurst
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{&o.ReadTimeout, DefaultReadTimeout},
		{&o.WriteTimeout, DefaultWriteTimeout},
		{&o.IdleTimeout, DefaultIdleTimeout},
		{&o.ShutdownTimeout, DefaultShutdownTimeout},
		{&o.KeepAlive, DefaultKeepAlive},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
}

// Handler returns the server's routes; Serve uses it.
func (s *Server) Handler() http.Handler { return s.handler }

// IsLoopback reports whether addr (an IP, or a listener's address) is a
// loopback address.
func IsLoopback(addr net.Addr) bool {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	return ap.Addr().Unmap().IsLoopback()
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting connections, answers new work on open connections with 503,
// waits up to ShutdownTimeout for the calls in flight to finish and deliver
// their results, cancels those still running (and gives them a few seconds
// to record their outcome), and closes the event streams. It returns nil
// after a clean shutdown, and an error if serving failed or calls had to be
// cancelled. A Server serves once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer s.streamable.Shutdown(context.Background()) // stops mcp-go's session sweeper
	loopback := IsLoopback(ln.Addr())
	switch {
	case s.opts.Auth.Len() > 0:
	case s.opts.Anonymous == nil:
		return errors.New("no principal can authenticate: refusing to serve MCP over HTTP without one")
	case !loopback:
		return fmt.Errorf("serving without principals is allowed on a loopback address only, not on %s", ln.Addr())
	}
	h := s.handler
	if loopback {
		h = withLoopback(h)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		// ReadTimeout bounds reading every request, its body included,
		// whoever reads the body (the guard, or net/http draining what a
		// handler left). net/http lifts the deadline once the body is read
		// (or at once, without a body) to watch for the client going away,
		// so it cuts neither event streams nor calls that wait.
		ReadTimeout: s.opts.ReadTimeout,
		// WriteTimeout bounds the responses written outside the guard
		// (/healthz, 404s, net/http's own errors); the guard replaces it
		// with a deadline per write.
		WriteTimeout: s.opts.WriteTimeout,
		TLSConfig:    s.tls,
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	var summaries sync.WaitGroup
	summaries.Go(func() { s.summariseRefusals(done) })
	defer func() { close(done); summaries.Wait() }()

	stopAccepting := &closeOnce{Listener: newConnLimit(ln, s.opts.MaxConns, s.opts.MaxConnsPerAddr, s.connRefusals)}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- srv.ServeTLS(stopAccepting, "", "")
		} else {
			errc <- srv.Serve(stopAccepting)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}

	s.draining.Store(true)
	stopAccepting.Close()
	<-errc // Serve returns once Accept fails; open connections go on
	s.log.Info("shutting down: no new connections; waiting for the calls in flight",
		"in_flight", s.inflight.count(), "bound", s.opts.ShutdownTimeout)

	var result error
	wait, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	err := s.inflight.wait(wait)
	cancel()
	if err != nil {
		n := s.inflight.count()
		s.log.Error("calls still in flight at the end of the shutdown bound: cancelling them", "in_flight", n, "bound", s.opts.ShutdownTimeout)
		result = fmt.Errorf("%d calls did not finish within the shutdown bound of %s and were cancelled", n, s.opts.ShutdownTimeout)
		s.abort()
		grace, cancel := context.WithTimeout(context.Background(), abortGrace)
		s.inflight.wait(grace)
		cancel()
	}

	// End the long-lived streams, then wait for the connections to close.
	// SSE clients get a moment first: some (the Go SDK's) drop the events
	// they have read but not yet handled when their stream ends.
	if s.sseSessions.open() > 0 {
		time.Sleep(sseLinger)
	}
	s.sse.CloseSessions()
	closeCtx, cancel := context.WithTimeout(context.Background(), abortGrace)
	defer cancel()
	s.streamable.CloseSessions(closeCtx)
	if err := srv.Shutdown(closeCtx); err != nil {
		srv.Close()
	}
	s.abort()
	if result == nil {
		s.log.Info("HTTP server stopped: every call in flight finished")
	}
	return result
}

// summariseRefusals logs the summaries of refusals every period, and once
// more when done closes.
func (s *Server) summariseRefusals(done <-chan struct{}) {
	t := time.NewTicker(refusalSummaryEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.connRefusals.summarise()
			s.reqRefusals.summarise()
		case <-done:
			s.connRefusals.summarise()
			s.reqRefusals.summarise()
			return
		}
	}
}

// closeOnce lets Serve close the listener itself to stop accepting
// connections while the http.Server keeps serving the open ones.
type closeOnce struct {
	net.Listener
	once sync.Once
	err  error
}

func (c *closeOnce) Close() error {
	c.once.Do(func() { c.err = c.Listener.Close() })
	return c.err
}

// health answers load balancers: 200 while serving, 503 while draining.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "draining")
		return
	}
	fmt.Fprintln(w, "ok")
}

// toolMiddleware refuses tool calls without an authenticated principal
// (the policy would fall back to the local one), counts the calls running,
// and cancels them when the shutdown bound is over.
func (s *Server) toolMiddleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if policy.PrincipalFrom(ctx) == nil {
			return mcp.NewToolResultError("refused: the call carries no authenticated principal; nothing was changed"), nil
		}
		s.inflight.add()
		defer s.inflight.done()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(s.hardStop, cancel)
		defer stop()
		return next(ctx, req)
	}
}

// tracker counts work in flight.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (t *tracker) add() {
	t.mu.Lock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		close(t.idle)
	}
	t.mu.Unlock()
}

func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// wait returns when nothing is in flight, or ctx's error.
func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return t.wait(ctx) // more may have started meanwhile
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loopbackKey marks requests served by a loopback listener.
type loopbackKey struct{}

func withLoopback(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loopbackKey{}, true)))
	})
}

func onLoopback(r *http.Request) bool {
	v, _ := r.Context().Value(loopbackKey{}).(bool)
	return v
}

// normalizeOrigin returns an origin as browsers send it: lowercase
// scheme://host[:port], without a default port.
func normalizeOrigin(o string) (string, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSuffix(strings.TrimSpace(o), "/"), "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return "", errors.New("want http://host[:port] or https://host[:port]")
	}
	if rest == "" || strings.ContainsAny(rest, "/?#@ ") {
		return "", errors.New("want scheme://host[:port], nothing after the host")
	}
	host := strings.ToLower(rest)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
			host = h
			if strings.Contains(h, ":") {
				host = "[" + h + "]"
			}
		}
	}
	return scheme + "://" + host, nil
}

// isLoopbackOrigin reports whether an origin names this machine.
func isLoopbackOrigin(norm string) bool {
	_, hostport, _ := strings.Cut(norm, "://")
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// RateLimiter limits each principal's requests.
type RateLimiter interface {
	// Allow reports how long principal must wait before its next request:
	// 0 when it may make it now (and it is counted).
	Allow(ctx context.Context, principal string) time.Duration
}

// limiter returns a principal's rate limiter.
func (s *Server) limiter(name string) *rate.Limiter {
	if l, ok := s.limiters.Load(name); ok {
		return l.(*rate.Limiter)
	}
	l, _ := s.limiters.LoadOrStore(name, rate.NewLimiter(s.opts.RateLimit, s.opts.RateBurst))
	return l.(*rate.Limiter)
}
