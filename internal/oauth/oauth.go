// Package oauth verifies OAuth 2.1 access tokens for a resource server: JWTs
// signed by an authorization server (the issuer), whose keys come from the
// JWKS its metadata names, and, when configured, opaque tokens through the
// issuer's token introspection endpoint (RFC 7662). It never issues tokens.
//
// The JOSE work (parsing, the algorithm allowlist, signatures, the claims'
// times) is go-jose's; this package adds discovery, the audience and issuer
// rules, and a key cache whose refetches are bounded.
package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Defaults of Config fields left zero.
const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 60 * time.Second
	// DefaultRefetchInterval is the least time between two fetches of the
	// JWKS: a token signed by a key not in the cache triggers a fetch only
	// if the last one is older.
	DefaultRefetchInterval = 10 * time.Second
	// DefaultMaxKeyAge is how long fetched keys are used before they are
	// fetched again, so that a key the issuer withdrew stops verifying.
	DefaultMaxKeyAge = time.Hour
	// DefaultHTTPTimeout bounds each request to the issuer.
	DefaultHTTPTimeout = 10 * time.Second
)

// maxDocumentBytes bounds the metadata and JWKS documents read.
const maxDocumentBytes = 1 << 20

// Algorithms are the signature algorithms accepted by default: asymmetric
// ones only (a shared secret would let the resource server forge tokens),
// and never "none".
var Algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// Config configures a Verifier.
type Config struct {
	// Issuer is the authorization server's issuer identifier (https, or
	// http on a loopback host). Tokens must carry it as iss.
	Issuer string
	// Audience is this resource server's canonical URI; a token's aud
	// must contain it (RFC 8707).
	Audience string
	// Algorithms are the signature algorithms accepted; nil = Algorithms.
	Algorithms []jose.SignatureAlgorithm
	// Leeway is the clock skew allowed on exp, nbf and iat; 0 =
	// DefaultLeeway.
	Leeway time.Duration
	// RefetchInterval is the least time between two JWKS fetches; 0 =
	// DefaultRefetchInterval, negative = no bound (tests).
	RefetchInterval time.Duration
	// MaxKeyAge is how long fetched keys are used before a fetch; 0 =
	// DefaultMaxKeyAge.
	MaxKeyAge time.Duration
	// HTTPClient fetches the metadata and the JWKS, and calls the
	// introspection endpoint; nil = a client with DefaultHTTPTimeout.
	HTTPClient *http.Client
	// Introspection, if set, has opaque access tokens (those that are not
	// JWTs) checked at the issuer's introspection endpoint; nil = opaque
	// tokens are refused (ErrOpaque).
	Introspection *IntrospectionConfig
	// Now is the clock of the tokens' times and of the introspection
	// cache; nil = time.Now (tests set it).
	Now func() time.Time
}

// Metadata is what the server uses of the issuer's Authorization Server
// Metadata (RFC 8414) or OpenID Provider Metadata.
type Metadata struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
	// IntrospectionEndpoint is RFC 7662's endpoint, if the metadata names
	// it (RFC 8414 §2).
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	// URL is where it was read.
	URL string `json:"-"`
}

// Token is what a verified access token says of its caller.
type Token struct {
	Subject  string
	ClientID string // client_id, else azp, else appid; may be empty
	Scopes   []string
	Expiry   time.Time
}

// Error is a refused token. Its message says why in words fit for the
// caller (it never repeats the token).
type Error struct {
	Reason string
	// Detail, if any, is for the server's log only: what went wrong with
	// the issuer (an address, a status). Never the token nor a secret.
	Detail string
}

func (e *Error) Error() string { return e.Reason }

func refused(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// ErrOpaque is the refusal of a token that is not a JWT.
var ErrOpaque = &Error{Reason: "the access token is not a JWT; this server verifies JWT access tokens only (configure the identity provider to issue JWT access tokens for this resource, or this server to introspect opaque tokens)"}

// Verifier verifies access tokens. It is safe for concurrent use.
type Verifier struct {
	cfg        Config
	metadata   Metadata
	keys       *keyCache
	introspect *introspector // nil: opaque tokens are refused
}

// New reads the issuer's metadata and its JWKS, and returns a Verifier; it
// fails if either cannot be read, so that a server does not start unable to
// verify any token.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if err := checkIssuer(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("--oauth-issuer %s: %w", cfg.Issuer, err)
	}
	if cfg.Audience == "" {
		return nil, errors.New("no audience: a resource server needs its canonical URI (--oauth-audience)")
	}
	if cfg.Algorithms == nil {
		cfg.Algorithms = Algorithms
	}
	if slices.Contains(cfg.Algorithms, "none") || slices.ContainsFunc(cfg.Algorithms, func(a jose.SignatureAlgorithm) bool { return strings.HasPrefix(string(a), "HS") }) {
		return nil, errors.New("only asymmetric signature algorithms may be allowed")
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.RefetchInterval == 0 {
		cfg.RefetchInterval = DefaultRefetchInterval
	}
	if cfg.MaxKeyAge <= 0 {
		cfg.MaxKeyAge = DefaultMaxKeyAge
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	md, err := Discover(ctx, cfg.HTTPClient, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, metadata: *md}
	v.keys = &keyCache{
		fetch: func(ctx context.Context) ([]jose.JSONWebKey, error) {
			return fetchJWKS(ctx, cfg.HTTPClient, md.JWKSURI)
		},
		interval: cfg.RefetchInterval,
		maxAge:   cfg.MaxKeyAge,
	}
	if err := v.keys.load(ctx); err != nil {
		return nil, fmt.Errorf("the issuer's keys (jwks_uri %s): %w", md.JWKSURI, err)
	}
	if cfg.Introspection != nil {
		if v.introspect, err = newIntrospector(ctx, &cfg, md); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Issuer returns the issuer identifier.
func (v *Verifier) Issuer() string { return v.cfg.Issuer }

// Audience returns the resource URI tokens must be meant for.
func (v *Verifier) Audience() string { return v.cfg.Audience }

// IntrospectionURL returns the token introspection endpoint opaque tokens
// are checked at, or "" if they are refused.
func (v *Verifier) IntrospectionURL() string {
	if v.introspect == nil {
		return ""
	}
	return v.introspect.url
}

// Metadata returns the issuer's metadata read by New.
func (v *Verifier) Metadata() Metadata { return v.metadata }

// checkIssuer accepts an absolute https URL, or http on a loopback host,
// without query or fragment.
func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("want the issuer's URL, e.g. https://login.example.com/realms/staff")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("the issuer must be reached over https (http only on a loopback address)")
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Discover reads an issuer's metadata: RFC 8414's
// /.well-known/oauth-authorization-server (inserted before the issuer's
// path), then OpenID Connect's /.well-known/openid-configuration (appended
// to it, then inserted). The document must name the same issuer and a
// jwks_uri.
func Discover(ctx context.Context, client *http.Client, issuer string) (*Metadata, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, err
	}
	path := strings.TrimSuffix(u.Path, "/")
	at := func(p string) string { c := *u; c.Path = p; return c.String() }
	candidates := []string{
		at("/.well-known/oauth-authorization-server" + path),
		at(path + "/.well-known/openid-configuration"),
	}
	if path != "" {
		candidates = append(candidates, at("/.well-known/openid-configuration"+path))
	}
	var tried []string
	for _, c := range candidates {
		var md Metadata
		if err := getJSON(ctx, client, c, &md); err != nil {
			tried = append(tried, err.Error())
			continue
		}
		if md.Issuer != issuer {
			return nil, fmt.Errorf("the issuer's metadata at %s names issuer %q, not %q: use exactly the issuer the metadata names for --oauth-issuer", c, md.Issuer, issuer)
		}
		if md.JWKSURI == "" {
			return nil, fmt.Errorf("the issuer's metadata at %s has no jwks_uri: this server verifies JWT access tokens with the issuer's keys", c)
		}
		md.URL = c
		return &md, nil
	}
	return nil, fmt.Errorf("cannot read the metadata of OAuth issuer %s:\n  %s", issuer, strings.Join(tried, "\n  "))
}

// getJSON GETs a JSON document of at most maxDocumentBytes.
func getJSON(ctx context.Context, client *http.Client, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("GET %s: timed out", u)
		}
		return fmt.Errorf("GET %s: %w", u, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxDocumentBytes {
		return fmt.Errorf("GET %s: more than %d bytes", u, maxDocumentBytes)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: not a JSON document: %w", u, err)
	}
	return nil
}

// fetchJWKS reads a JSON Web Key Set, keeping the public signing keys.
func fetchJWKS(ctx context.Context, client *http.Client, u string) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, client, u, &set); err != nil {
		return nil, err
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		// A key of a type go-jose does not know is skipped, as RFC 7517
		// §5 asks.
		if json.Unmarshal(raw, &k) != nil || !k.Valid() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if !k.IsPublic() {
			k = k.Public()
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("GET %s: no signing key", u)
	}
	return keys, nil
}

// claims are the access token's claims read (RFC 9068, and the scp, azp and
// appid of some identity providers).
type claims struct {
	jwt.Claims
	Scope    string          `json:"scope"`
	Scp      json.RawMessage `json:"scp"`
	ClientID string          `json:"client_id"`
	Azp      string          `json:"azp"`
	AppID    string          `json:"appid"`
}

// scopes returns scope's space-separated scopes, or scp's (a string or a
// list).
func (c *claims) scopes() []string {
	if c.Scope != "" {
		return strings.Fields(c.Scope)
	}
	var list []string
	if json.Unmarshal(c.Scp, &list) == nil {
		return list
	}
	var s string
	if json.Unmarshal(c.Scp, &s) == nil {
		return strings.Fields(s)
	}
	return nil
}

// Verify checks an access token: a JWT signed with an allowed algorithm by
// a key of the issuer's JWKS, with the issuer's iss, this server's audience
// in aud, a sub, an exp not past and an nbf and iat not to come (each
// within the leeway). A token that is not a JWT is introspected if the
// Verifier was configured to, else refused (ErrOpaque). A refusal is an
// *Error.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if strings.Count(raw, ".") != 2 {
		if v.introspect != nil {
			return v.introspect.verify(ctx, raw)
		}
		return nil, ErrOpaque
	}
	tok, err := jwt.ParseSigned(raw, v.cfg.Algorithms)
	if err != nil {
		if alg := headerAlg(raw); alg != "" && !slices.Contains(v.cfg.Algorithms, jose.SignatureAlgorithm(alg)) {
			return nil, refused("the access token is signed with algorithm %q, which is not accepted", alg)
		}
		return nil, refused("the access token is not a well-formed signed JWT")
	}
	if len(tok.Headers) != 1 {
		return nil, refused("the access token must have exactly one signature")
	}
	h := tok.Headers[0]
	keys, err := v.keys.find(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	var c claims
	verified := false
	for i := range keys {
		k := &keys[i]
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		if tok.Claims(k, &c) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, refused("the access token's signature does not verify with the issuer's key")
	}
	if c.Issuer != v.cfg.Issuer {
		return nil, refused("the access token was issued by %q, not by the issuer this server trusts", c.Issuer)
	}
	if !c.Audience.Contains(v.cfg.Audience) {
		return nil, refused("the access token is not meant for this server: its audience does not include %s", v.cfg.Audience)
	}
	if c.Expiry == nil {
		return nil, refused("the access token has no expiry (exp)")
	}
	if c.Subject == "" {
		return nil, refused("the access token has no subject (sub)")
	}
	switch err := c.ValidateWithLeeway(jwt.Expected{Time: v.cfg.Now()}, v.cfg.Leeway); {
	case errors.Is(err, jwt.ErrExpired):
		return nil, refused("the access token has expired")
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, refused("the access token is not valid yet (nbf)")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, refused("the access token was issued in the future (iat)")
	case err != nil:
		return nil, refused("the access token's claims are not valid")
	}
	t := &Token{Subject: c.Subject, ClientID: c.ClientID, Scopes: c.scopes(), Expiry: c.Expiry.Time()}
	if t.ClientID == "" {
		t.ClientID = c.Azp
	}
	if t.ClientID == "" {
		t.ClientID = c.AppID
	}
	return t, nil
}

// headerAlg returns the alg of a JWT's header, without trusting anything.
func headerAlg(raw string) string {
	head, _, _ := strings.Cut(raw, ".")
	var h struct {
		Alg string `json:"alg"`
	}
	b, err := decodeSegment(head)
	if err != nil || json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}

// keyCache holds the issuer's keys. A token whose key is not among them
// triggers a fetch of the JWKS (the issuer rotated its keys), at most one
// every interval: tokens with made-up key ids cannot make the server hammer
// the issuer. Keys older than maxAge are fetched again before use.
type keyCache struct {
	fetch    func(context.Context) ([]jose.JSONWebKey, error)
	interval time.Duration
	maxAge   time.Duration

	fetching sync.Mutex // one fetch at a time; held before mu

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time // when keys were fetched
	triedAt   time.Time // when a fetch was last tried
	fetches   int       // fetches tried, for tests
}

// load fetches the keys, whenever the last fetch was.
func (c *keyCache) load(ctx context.Context) error {
	c.fetching.Lock()
	defer c.fetching.Unlock()
	return c.refresh(ctx)
}

// refresh fetches the keys; the caller holds c.fetching.
func (c *keyCache) refresh(ctx context.Context) error {
	keys, err := c.fetch(ctx)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.triedAt = now
	c.fetches++
	if err != nil {
		return err
	}
	c.keys, c.fetchedAt = keys, now
	return nil
}

// lookup returns the cached keys of kid (all of them for ""), whether the
// cache is still fresh, and whether a fetch is allowed now.
func (c *keyCache) lookup(kid string) (keys []jose.JSONWebKey, fresh, mayFetch bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.keys {
		if kid == "" || k.KeyID == kid {
			keys = append(keys, k)
		}
	}
	now := time.Now()
	return keys, now.Sub(c.fetchedAt) < c.maxAge, c.interval < 0 || now.Sub(c.triedAt) >= c.interval
}

// find returns the keys that may have signed a token of key id kid.
func (c *keyCache) find(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if keys, fresh, _ := c.lookup(kid); len(keys) > 0 && fresh {
		return keys, nil
	}
	c.fetching.Lock()
	defer c.fetching.Unlock()
	keys, fresh, mayFetch := c.lookup(kid) // a fetch may have happened meanwhile
	if len(keys) > 0 && fresh {
		return keys, nil
	}
	if !mayFetch {
		if len(keys) > 0 {
			return keys, nil // stale, and the last fetch failed: better than nothing
		}
		return nil, refused("the access token is signed by a key the issuer does not publish (kid %q); the issuer's keys were fetched moments ago", kid)
	}
	if err := c.refresh(ctx); err != nil && len(keys) == 0 {
		return nil, refused("the issuer's keys cannot be fetched now to verify the access token (kid %q)", kid)
	}
	if keys, _, _ = c.lookup(kid); len(keys) == 0 {
		return nil, refused("the access token is signed by a key the issuer does not publish (kid %q)", kid)
	}
	return keys, nil
}

// decodeSegment decodes a JWT segment (unpadded base64url).
func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
