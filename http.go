package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// httpSettings are the flags of `whmcs-mcp --http ADDR`.
type httpSettings struct {
	addr            string
	allowedOrigins  string
	tlsCert         string
	tlsKey          string
	rateLimit       float64
	rateBurst       int
	maxBody         int64
	shutdownTimeout time.Duration
	maxConns        int
	maxConnsPerAddr int
	oauthIssuer     string
	oauthAudience   string
	// Token introspection of opaque access tokens: the endpoint (default:
	// the issuer's metadata's) and this server's client at the issuer;
	// the secret only from the environment (flags show in ps).
	oauthIntrospectionURL string
	oauthClientID         string
	oauthClientSecret     string
}

// bind registers the HTTP flags on fs, with defaults from the environment.
func (h *httpSettings) bind(fs *flag.FlagSet) {
	fs.StringVar(&h.addr, "http", os.Getenv("WHMCS_MCP_HTTP"), "serve MCP over HTTP on ADDR (e.g. 127.0.0.1:8080) instead of stdio: streamable HTTP at /mcp, SSE at /sse + /message, /healthz (env WHMCS_MCP_HTTP)")
	fs.StringVar(&h.allowedOrigins, "allowed-origins", os.Getenv("WHMCS_MCP_ALLOWED_ORIGINS"), "comma-separated browser origins allowed to call the HTTP server, e.g. https://support.example.com; requests without Origin always pass, and loopback origins pass when listening on loopback (env WHMCS_MCP_ALLOWED_ORIGINS)")
	fs.StringVar(&h.tlsCert, "tls-cert", os.Getenv("WHMCS_MCP_TLS_CERT"), "serve HTTPS with this certificate (PEM; with --tls-key) (env WHMCS_MCP_TLS_CERT)")
	fs.StringVar(&h.tlsKey, "tls-key", os.Getenv("WHMCS_MCP_TLS_KEY"), "the private key of --tls-cert (PEM) (env WHMCS_MCP_TLS_KEY)")
	fs.Float64Var(&h.rateLimit, "rate-limit", envFloat("WHMCS_MCP_RATE_LIMIT", httpserver.DefaultRateLimit), "HTTP requests per second allowed to each principal; 0 = no limit (env WHMCS_MCP_RATE_LIMIT)")
	fs.IntVar(&h.rateBurst, "rate-burst", envInt("WHMCS_MCP_RATE_BURST", httpserver.DefaultRateBurst), "requests a principal may send at once above --rate-limit (env WHMCS_MCP_RATE_BURST)")
	fs.Int64Var(&h.maxBody, "max-body", httpserver.DefaultMaxBodyBytes, "largest HTTP request body accepted, in bytes (413 above it)")
	fs.StringVar(&h.oauthIssuer, "oauth-issuer", os.Getenv("WHMCS_MCP_OAUTH_ISSUER"), "also take OAuth 2.1 JWT access tokens of this authorization server (its issuer URL; its metadata must be readable at start-up), for the policy principals with oauth_sub/oauth_scope (env WHMCS_MCP_OAUTH_ISSUER)")
	fs.StringVar(&h.oauthAudience, "oauth-audience", os.Getenv("WHMCS_MCP_OAUTH_AUDIENCE"), "this server's canonical resource URI, which access tokens must carry in aud, e.g. https://mcp.example.com/mcp; default on a loopback address: http(s)://ADDR/mcp (env WHMCS_MCP_OAUTH_AUDIENCE)")
	fs.StringVar(&h.oauthIntrospectionURL, "oauth-introspection-url", os.Getenv("WHMCS_MCP_OAUTH_INTROSPECTION_URL"), "also take opaque access tokens, checked at this token introspection endpoint of the issuer (RFC 7662); default with --oauth-client-id: the introspection_endpoint of the issuer's metadata (env WHMCS_MCP_OAUTH_INTROSPECTION_URL)")
	fs.StringVar(&h.oauthClientID, "oauth-client-id", os.Getenv("WHMCS_MCP_OAUTH_CLIENT_ID"), "this server's client id at the issuer, for token introspection of opaque access tokens; its secret from the environment only: WHMCS_MCP_OAUTH_CLIENT_SECRET (env WHMCS_MCP_OAUTH_CLIENT_ID)")
	h.oauthClientSecret = os.Getenv("WHMCS_MCP_OAUTH_CLIENT_SECRET")
	fs.IntVar(&h.maxConns, "max-conns", envInt("WHMCS_MCP_MAX_CONNS", httpserver.DefaultMaxConns), "connections open at once, in all; -1 = no bound (env WHMCS_MCP_MAX_CONNS)")
	fs.IntVar(&h.maxConnsPerAddr, "max-conns-per-addr", envInt("WHMCS_MCP_MAX_CONNS_PER_ADDR", httpserver.DefaultMaxConnsPerAddr), "connections open at once from one address; -1 = no bound, e.g. behind a reverse proxy whose address every caller has (env WHMCS_MCP_MAX_CONNS_PER_ADDR)")
	fs.DurationVar(&h.shutdownTimeout, "shutdown-timeout", httpserver.DefaultShutdownTimeout, "on SIGTERM/SIGINT, how long calls in flight may take to finish before they are cancelled")
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// errNoPrincipal explains how to let callers in.
var errNoPrincipal = errors.New(`refusing to serve MCP over HTTP without any principal: every request needs a bearer token.
Set WHMCS_MCP_TOKEN to a long random token (openssl rand -hex 32) for one full-access principal,
or list principals with the SHA-256 of their tokens in the policy file (--policy):
  principals:
    - name: support-bot
      token_sha256: <printf %s TOKEN | sha256sum>
      clients: [2]
Only --sandbox on a loopback address (e.g. --http 127.0.0.1:8080) may run without.`)

// check rejects flag values that cannot work, before anything starts.
func (h *httpSettings) check() error {
	if (h.tlsCert == "") != (h.tlsKey == "") {
		return errors.New("HTTPS needs both --tls-cert and --tls-key")
	}
	if h.rateLimit < 0 || h.rateBurst < 1 {
		return errors.New("--rate-limit must be 0 (no limit) or more, --rate-burst 1 or more")
	}
	if h.maxBody < 1 {
		return errors.New("--max-body must be 1 or more")
	}
	if h.shutdownTimeout <= 0 {
		return errors.New("--shutdown-timeout must be positive")
	}
	if h.maxConns == 0 || h.maxConnsPerAddr == 0 {
		return errors.New("--max-conns and --max-conns-per-addr must be 1 or more, or -1 for no bound")
	}
	if h.oauthAudience != "" && h.oauthIssuer == "" {
		return errors.New("--oauth-audience needs --oauth-issuer")
	}
	if h.introspection() {
		switch {
		case h.oauthIssuer == "":
			return errors.New("token introspection (--oauth-client-id, --oauth-introspection-url) needs --oauth-issuer")
		case h.oauthClientID == "":
			return errors.New("token introspection needs this server's client id at the issuer: --oauth-client-id (WHMCS_MCP_OAUTH_CLIENT_ID)")
		case h.oauthClientSecret == "":
			return errors.New("token introspection needs this server's client secret at the issuer in WHMCS_MCP_OAUTH_CLIENT_SECRET (there is no flag: flags show in ps)")
		}
	}
	return nil
}

// introspection reports whether opaque access tokens are to be
// introspected.
func (h *httpSettings) introspection() bool {
	return h.oauthClientID != "" || h.oauthIntrospectionURL != ""
}

// oauthVerifier reads the issuer's metadata and keys for --oauth-issuer,
// with the audience given or, on a loopback address only, this server's
// own /mcp URL; nil without --oauth-issuer. The policy must have principals
// for OAuth access tokens, and only with it.
func (h *httpSettings) oauthVerifier(ctx context.Context, auth *policy.Authenticator, ln net.Listener, scheme string) (*oauth.Verifier, error) {
	if h.oauthIssuer == "" {
		if auth.OAuthLen() > 0 {
			return nil, errors.New("the policy file has principals matched by OAuth access tokens (oauth_sub, oauth_scope): give the authorization server with --oauth-issuer")
		}
		return nil, nil
	}
	if auth.OAuthLen() == 0 {
		return nil, errors.New(`--oauth-issuer: no principal of the policy file matches OAuth access tokens, so none could get in; add one, e.g.
  principals:
    - name: staff
      oauth_scope: whmcs:read    # every token of the issuer for this server with this scope
      clients: [2]
    - name: billing-bot
      oauth_sub: <the bot's sub claim>`)
	}
	audience := h.oauthAudience
	if audience == "" {
		if !httpserver.IsLoopback(ln.Addr()) {
			return nil, errors.New("--oauth-audience is required on a non-loopback address: this server's canonical URI as the MCP hosts reach it, e.g. https://mcp.example.com/mcp")
		}
		audience = scheme + "://" + ln.Addr().String() + httpserver.PathMCP
	}
	ctx, cancel := context.WithTimeout(ctx, oauth.DefaultHTTPTimeout)
	defer cancel()
	cfg := oauth.Config{Issuer: h.oauthIssuer, Audience: audience}
	if h.introspection() {
		cfg.Introspection = &oauth.IntrospectionConfig{URL: h.oauthIntrospectionURL, ClientID: h.oauthClientID, ClientSecret: h.oauthClientSecret}
	}
	v, err := oauth.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("refusing to start: %w", err)
	}
	return v, nil
}

// serveHTTPCommand serves MCP over HTTP until ctx ends (SIGTERM, SIGINT),
// then shuts down gracefully and closes the audit log.
func serveHTTPCommand(ctx context.Context, s *settings, h *httpSettings, stderr io.Writer) error {
	if err := h.check(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	loopback := httpserver.IsLoopback(ln.Addr())
	scheme := "http"
	if h.tlsCert != "" {
		scheme = "https"
	}
	if s.approvalsURL == "" {
		s.approvalsURL = scheme + "://" + ln.Addr().String() + httpserver.PathApprovals
	}
	a, err := newApp(s, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	file := a.policy.File()
	fullAccess := os.Getenv("WHMCS_MCP_TOKEN")
	auth, err := policy.NewAuthenticator(file, fullAccess)
	if err != nil {
		return err
	}
	verifier, err := h.oauthVerifier(ctx, auth, ln, scheme)
	if err != nil {
		return err
	}
	var anonymous *policy.Principal
	if auth.Len() == 0 {
		if !s.sandbox || !loopback {
			return errNoPrincipal
		}
		anonymous = policy.Anonymous(file)
		a.log.Warn("NO AUTHENTICATION: the sandbox serves MCP over HTTP to anyone who can reach " + ln.Addr().String() +
			" on this machine, as principal " + anonymous.Name + "; set WHMCS_MCP_TOKEN or policy principals to require tokens")
	}
	limit := rate.Limit(h.rateLimit)
	if h.rateLimit == 0 {
		limit = rate.Inf
	}
	var origins []string
	for o := range strings.SplitSeq(h.allowedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	var shared httpserver.RateLimiter
	if a.state.store != nil && limit != rate.Inf {
		shared = a.state.store.RateLimiter(limit, h.rateBurst)
	}
	hs, err := httpserver.New(httpserver.Options{
		MCP: a.server, Auth: auth, Anonymous: anonymous, OAuth: verifier,
		AllowedOrigins: origins, RateLimit: limit, RateBurst: h.rateBurst, Limiter: shared,
		MaxBodyBytes: h.maxBody, ShutdownTimeout: h.shutdownTimeout,
		MaxConns: h.maxConns, MaxConnsPerAddr: h.maxConnsPerAddr,
		TLSCertFile: h.tlsCert, TLSKeyFile: h.tlsKey,
		Approvals: approvalPages(a, auth, scheme == "https"),
		Logger:    a.log,
	})
	if err != nil {
		return err
	}
	if h.tlsCert == "" && !loopback {
		a.log.Warn("serving plain HTTP on a non-loopback address: bearer tokens cross the network in clear text; use --tls-cert/--tls-key or a TLS-terminating proxy")
	}
	base := scheme + "://" + ln.Addr().String()
	names := auth.Names()
	if anonymous != nil {
		names = []string{anonymous.Name}
	}
	if verifier != nil {
		attrs := []any{"issuer", verifier.Issuer(), "audience", verifier.Audience(), "jwks_uri", verifier.Metadata().JWKSURI}
		if u := verifier.IntrospectionURL(); u != "" {
			attrs = append(attrs, "introspection_endpoint", u, "client_id", h.oauthClientID,
				"opaque_tokens", fmt.Sprintf("introspected, active ones cached up to %s (a revoked token works that long)", oauth.DefaultIntrospectionCacheTTL))
		}
		a.log.Info("OAuth resource server: access tokens of the issuer for this audience are taken", attrs...)
	}
	a.log.Info("serving MCP over HTTP", "addr", ln.Addr().String(), "streamable", base+httpserver.PathMCP,
		"sse", base+httpserver.PathSSE, "principals", strings.Join(names, ","), "version", version)
	if err := hs.Serve(ctx, ln); err != nil {
		return fmt.Errorf("HTTP server: %w", err)
	}
	return nil
}

// tokenCommand prints a new random bearer token and the policy file entry
// of a principal that uses it.
func tokenCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("whmcs-mcp token", stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: whmcs-mcp token [NAME]\n\nPrints a new bearer token and the policy file entry of principal NAME.\n")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	name := "NAME"
	if fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := hex.EncodeToString(b)
	_, err := fmt.Fprintf(stdout, `# Give the token to the MCP host (Authorization: Bearer TOKEN); it is not stored anywhere.
token: %s

# Add the principal to the policy file's principals (only the digest is kept):
  - name: %s
    token_sha256: %s
`, token, name, policy.TokenSHA256(token))
	return err
}
