package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// DefaultIntrospectionCacheTTL is how long an active introspection result
// is used before the endpoint is asked again (never beyond the token's
// exp): a token revoked at the issuer keeps working here for up to this
// long.
const DefaultIntrospectionCacheTTL = 30 * time.Second

// maxIntrospectionCache bounds the introspection results cached.
const maxIntrospectionCache = 10_000

// IntrospectionConfig has opaque access tokens checked at the issuer's
// token introspection endpoint (RFC 7662).
type IntrospectionConfig struct {
	// URL is the introspection endpoint; "" = the introspection_endpoint
	// of the issuer's metadata. https, or http on a loopback host.
	URL string
	// ClientID and ClientSecret authenticate this server to the endpoint
	// (client_secret_basic). Both are required.
	ClientID, ClientSecret string
	// CacheTTL is how long an active result is used; 0 =
	// DefaultIntrospectionCacheTTL, negative = none is cached.
	CacheTTL time.Duration
}

// introspector checks opaque tokens at the introspection endpoint and
// caches the active ones.
type introspector struct {
	url              string
	clientID, secret string
	client           *http.Client
	issuer, audience string
	leeway           time.Duration
	now              func() time.Time
	cache            *introspectionCache
}

func newIntrospector(ctx context.Context, cfg *Config, md *Metadata) (*introspector, error) {
	ic := cfg.Introspection
	if ic.ClientID == "" || ic.ClientSecret == "" {
		return nil, errors.New("token introspection needs this server's client id and client secret at the issuer (--oauth-client-id, WHMCS_MCP_OAUTH_CLIENT_SECRET)")
	}
	u := ic.URL
	if u == "" {
		u = md.IntrospectionEndpoint
	}
	if u == "" {
		return nil, fmt.Errorf("token introspection: the issuer's metadata at %s names no introspection_endpoint; give it (--oauth-introspection-url)", md.URL)
	}
	if err := checkEndpoint(u); err != nil {
		return nil, fmt.Errorf("token introspection endpoint %s: %w", u, err)
	}
	ttl := ic.CacheTTL
	if ttl == 0 {
		ttl = DefaultIntrospectionCacheTTL
	}
	in := &introspector{
		url: u, clientID: ic.ClientID, secret: ic.ClientSecret, client: cfg.HTTPClient,
		issuer: cfg.Issuer, audience: cfg.Audience, leeway: cfg.Leeway, now: cfg.Now,
		cache: &introspectionCache{ttl: ttl, max: maxIntrospectionCache, entries: map[[32]byte]cached{}},
	}
	// One introspection of a made-up token, so that a server whose client
	// credentials are wrong, or whose endpoint is wrong, does not start.
	if _, err := in.introspect(ctx, "whmcs-mcp-start-up-check-"+rand.Text()); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Detail != "" {
			return nil, fmt.Errorf("token introspection: %s", e.Detail) // the detail names the URL
		}
		return nil, fmt.Errorf("token introspection at %s: %w", u, err)
	}
	return in, nil
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host:
// the client secret must not cross a network in clear text.
func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("want an absolute URL")
	}
	if u.Scheme == "https" || (u.Scheme == "http" && loopbackHost(u.Hostname())) {
		return nil
	}
	return errors.New("the introspection endpoint must be reached over https (http only on a loopback address): this server's client secret is sent to it")
}

// introspection is the endpoint's answer (RFC 7662 §2.2).
type introspection struct {
	Active    *bool            `json:"active"`
	Issuer    string           `json:"iss"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	Subject   string           `json:"sub"`
	ClientID  string           `json:"client_id"`
	Scope     string           `json:"scope"`
	// TokenUse is Ory Hydra's: a refresh token introspects as active too.
	TokenUse string `json:"token_use"`
}

// verify checks an opaque token, from the cache or at the endpoint.
func (in *introspector) verify(ctx context.Context, raw string) (*Token, error) {
	key := sha256.Sum256([]byte(raw))
	now := in.now()
	if t := in.cache.get(key, now); t != nil {
		return t, nil
	}
	r, err := in.introspect(ctx, raw)
	if err != nil {
		return nil, err
	}
	t, err := in.check(r, in.now())
	if err != nil {
		return nil, err
	}
	in.cache.put(key, t, in.now())
	return t.copy(), nil
}

// unreachable is the refusal of a token the endpoint could not be asked
// about: fail closed.
func unreachable(detail string) error {
	return &Error{Reason: "the access token cannot be checked now: the issuer's token introspection endpoint could not be reached", Detail: detail}
}

// introspect POSTs the token to the endpoint, authenticated with
// client_secret_basic (the id and secret form-urlencoded first, RFC 6749
// §2.3.1), and reads its answer.
func (in *introspector) introspect(ctx context.Context, raw string) (*introspection, error) {
	form := url.Values{"token": {raw}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(in.clientID), url.QueryEscape(in.secret))
	resp, err := in.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, unreachable(fmt.Sprintf("POST %s: timed out", in.url))
		}
		// errors.Unwrap drops the url.Error's own text, which would
		// repeat the URL with its method.
		return nil, unreachable(fmt.Sprintf("POST %s: %v", in.url, errors.Unwrap(err)))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, &Error{
			Reason: "the access token cannot be checked: the issuer's token introspection endpoint refused this server's client credentials",
			Detail: fmt.Sprintf("POST %s: %s: check the client id %q and its secret (--oauth-client-id, WHMCS_MCP_OAUTH_CLIENT_SECRET), and that the client may introspect tokens", in.url, resp.Status, in.clientID),
		}
	case resp.StatusCode != http.StatusOK:
		return nil, unreachable(fmt.Sprintf("POST %s: %s", in.url, resp.Status))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, unreachable(fmt.Sprintf("POST %s: %v", in.url, err))
	}
	if len(body) > maxDocumentBytes {
		return nil, unreachable(fmt.Sprintf("POST %s: more than %d bytes", in.url, maxDocumentBytes))
	}
	var r introspection
	if err := json.Unmarshal(body, &r); err != nil || r.Active == nil {
		return nil, unreachable(fmt.Sprintf("POST %s: not a JSON object with active", in.url))
	}
	return &r, nil
}

// check applies the rules of a JWT access token to an introspection.
func (in *introspector) check(r *introspection, now time.Time) (*Token, error) {
	if !*r.Active {
		return nil, refused("the access token is not active: the issuer says it is expired, revoked or unknown")
	}
	if r.TokenUse != "" && r.TokenUse != "access_token" {
		return nil, refused("the token is a %s, not an access token", r.TokenUse)
	}
	if r.Issuer != "" && r.Issuer != in.issuer {
		return nil, refused("the access token was issued by %q, not by the issuer this server trusts", r.Issuer)
	}
	if !r.Audience.Contains(in.audience) {
		return nil, refused("the access token is not meant for this server: its audience does not include %s", in.audience)
	}
	if r.Expiry == nil {
		return nil, refused("the access token has no expiry (exp)")
	}
	exp := r.Expiry.Time()
	if now.After(exp.Add(in.leeway)) {
		return nil, refused("the access token has expired")
	}
	if r.NotBefore != nil && now.Add(in.leeway).Before(r.NotBefore.Time()) {
		return nil, refused("the access token is not valid yet (nbf)")
	}
	t := &Token{Subject: r.Subject, ClientID: r.ClientID, Scopes: strings.Fields(r.Scope), Expiry: exp}
	if t.Subject == "" {
		t.Subject = r.ClientID
	}
	if t.Subject == "" {
		return nil, refused("the access token has no subject (sub) nor client_id")
	}
	return t, nil
}

func (t *Token) copy() *Token {
	c := *t
	c.Scopes = append([]string(nil), t.Scopes...)
	return &c
}

// introspectionCache holds the tokens found active, by their SHA-256, each
// until its exp or ttl from when it was asked about, whichever is first.
type introspectionCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[[32]byte]cached
}

type cached struct {
	token *Token
	until time.Time
}

func (c *introspectionCache) get(key [32]byte, now time.Time) *Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		return nil
	}
	return e.token.copy()
}

func (c *introspectionCache) put(key [32]byte, t *Token, now time.Time) {
	if c.ttl < 0 {
		return
	}
	until := now.Add(c.ttl)
	if t.Expiry.Before(until) {
		until = t.Expiry
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k, e := range c.entries { // the expired first
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries { // then any
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = cached{token: t, until: until}
}

// len returns the number of entries, for tests.
func (c *introspectionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
