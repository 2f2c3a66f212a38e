// Package oauthtest is an OAuth authorization server for tests: on a
// loopback port, it serves RFC 8414 metadata, a JWKS whose keys the test
// rotates, a token endpoint for the client-credentials grant and a token
// introspection endpoint (RFC 7662) for the opaque tokens the test makes,
// and it mints any token a test needs, well-formed or not.
package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Client credentials the token endpoint accepts.
const (
	ClientID     = "whmcs-bot"
	ClientSecret = "whmcs-bot-secret"
)

// Client credentials the introspection endpoint accepts: the resource
// server's. The secret has characters that client_secret_basic must
// form-urlencode (RFC 6749 §2.3.1).
const (
	ResourceServerID     = "whmcs-mcp"
	ResourceServerSecret = "rs secret:+/%&é"
)

// Failure is how the introspection endpoint fails.
type Failure int32

const (
	// NoFailure: it answers.
	NoFailure Failure = iota
	// Fail500 answers 500 Internal Server Error.
	Fail500
	// FailSlow answers after 5 s, or never if the client gives up first.
	FailSlow
	// FailBadJSON answers 200 with a body that is not JSON.
	FailBadJSON
)

// Key is a signing key.
type Key struct {
	ID        string
	Algorithm jose.SignatureAlgorithm
	private   crypto.Signer
}

// NewKey generates a key for alg: ES256, RS256 or EdDSA.
func NewKey(t testing.TB, id string, alg jose.SignatureAlgorithm) *Key {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("oauthtest: no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: id, Algorithm: alg, private: k}
}

// Issuer is an authorization server on 127.0.0.1.
type Issuer struct {
	// URL is the issuer identifier (http://127.0.0.1:PORT).
	URL string
	t   testing.TB

	mu        sync.Mutex
	published []*Key
	signing   *Key

	opaque                  map[string]map[string]any // the introspection of each opaque token
	rsSecret                string                    // the resource server's secret the introspection endpoint takes
	noIntrospectionEndpoint bool

	// JWKSFetches counts the requests for the JWKS.
	JWKSFetches atomic.Int64
	// IntrospectionCalls counts the requests to the introspection
	// endpoint, answered or not.
	IntrospectionCalls atomic.Int64
	failure            atomic.Int32
}

// New starts an Issuer signing with a new ES256 key; it stops with the test.
func New(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{t: t, opaque: map[string]map[string]any{}, rsSecret: ResourceServerSecret}
	k := NewKey(t, "key-1", jose.ES256)
	i.published, i.signing = []*Key{k}, k
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", i.metadata)
	mux.HandleFunc("GET /jwks", i.jwks)
	mux.HandleFunc("POST /token", i.token)
	mux.HandleFunc("POST /introspect", i.introspect)
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	i.URL = srv.URL
	return i
}

// Publish adds k to the JWKS.
func (i *Issuer) Publish(k *Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, k)
}

// Rotate publishes k and signs the tokens of the token endpoint with it
// from now on; the old keys stay published.
func (i *Issuer) Rotate(k *Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, k)
	i.signing = k
}

// Retire removes the key of id from the JWKS.
func (i *Issuer) Retire(id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	var keep []*Key
	for _, k := range i.published {
		if k.ID != id {
			keep = append(keep, k)
		}
	}
	i.published = keep
}

// SigningKey returns the key the token endpoint signs with.
func (i *Issuer) SigningKey() *Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.signing
}

// Claims returns the claims of a valid access token for audience with
// scopes: this issuer's iss, sub ClientID, issued now, expiring in 5
// minutes. Tests change them to make bad tokens.
func (i *Issuer) Claims(audience string, scopes ...string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":       i.URL,
		"sub":       ClientID,
		"client_id": ClientID,
		"aud":       audience,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(5 * time.Minute).Unix(),
		"scope":     strings.Join(scopes, " "),
		"jti":       rand.Text(),
	}
}

// Sign returns claims as a JWT signed by k (the signing key if nil).
func (i *Issuer) Sign(k *Key, claims map[string]any) string {
	i.t.Helper()
	if k == nil {
		k = i.SigningKey()
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Algorithm, Key: jose.JSONWebKey{Key: k.private, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		i.t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		i.t.Fatal(err)
	}
	return raw
}

// Unsigned returns claims as a JWT with alg "none" and no signature.
func Unsigned(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "at+jwt"}) + "." + enc(claims) + "."
}

// Opaque returns a new opaque access token, which the introspection
// endpoint answers as active with claims (made with Claims, say) until it
// is revoked.
func (i *Issuer) Opaque(claims map[string]any) string {
	token := "opaque-" + rand.Text()
	i.SetIntrospection(token, claims)
	return token
}

// SetIntrospection has the introspection endpoint answer claims for
// token, with "active": true unless claims say otherwise.
func (i *Issuer) SetIntrospection(token string, claims map[string]any) {
	answer := map[string]any{"active": true}
	for k, v := range claims {
		answer[k] = v
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.opaque[token] = answer
}

// Revoke has the introspection endpoint answer that token is not active.
func (i *Issuer) Revoke(token string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.opaque[token] = map[string]any{"active": false}
}

// SetResourceServerSecret changes the secret of ResourceServerID that the
// introspection endpoint takes.
func (i *Issuer) SetResourceServerSecret(secret string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rsSecret = secret
}

// OmitIntrospectionEndpoint leaves introspection_endpoint out of the
// metadata (the endpoint still answers).
func (i *Issuer) OmitIntrospectionEndpoint() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.noIntrospectionEndpoint = true
}

// FailIntrospection makes the introspection endpoint fail as f says, from
// now on (NoFailure: answer again).
func (i *Issuer) FailIntrospection(f Failure) { i.failure.Store(int32(f)) }

// introspect answers RFC 7662 requests authenticated with the resource
// server's credentials (client_secret_basic, form-urlencoded): a token
// it was told of as it was told, any other as not active.
func (i *Issuer) introspect(w http.ResponseWriter, r *http.Request) {
	i.IntrospectionCalls.Add(1)
	r.ParseForm() // the body read, the server sees the client give up
	switch Failure(i.failure.Load()) {
	case Fail500:
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	case FailSlow:
		select {
		case <-r.Context().Done():
			return
		case <-time.After(5 * time.Second):
		}
	case FailBadJSON:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"active": tru`))
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	i.mu.Lock()
	want := i.rsSecret
	i.mu.Unlock()
	if !ok || id != ResourceServerID || secret != want {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthtest"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	token := r.PostFormValue("token")
	if token == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	i.mu.Lock()
	answer, known := i.opaque[token]
	i.mu.Unlock()
	if !known {
		answer = map[string]any{"active": false}
	}
	writeJSON(w, http.StatusOK, answer)
}

func (i *Issuer) metadata(w http.ResponseWriter, _ *http.Request) {
	md := map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.URL + "/jwks",
		"token_endpoint":                        i.URL + "/token",
		"introspection_endpoint":                i.URL + "/introspect",
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"whmcs:read", "whmcs:write"},
	}
	i.mu.Lock()
	if i.noIntrospectionEndpoint {
		delete(md, "introspection_endpoint")
	}
	i.mu.Unlock()
	writeJSON(w, http.StatusOK, md)
}

func (i *Issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	i.JWKSFetches.Add(1)
	i.mu.Lock()
	set := jose.JSONWebKeySet{}
	for _, k := range i.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.private.Public(), KeyID: k.ID, Algorithm: string(k.Algorithm), Use: "sig"})
	}
	i.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

// token grants client credentials: the token's aud is the resource asked
// for (RFC 8707), its scopes those asked for.
func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	switch {
	case id != ClientID || secret != ClientSecret:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	case r.PostFormValue("grant_type") != "client_credentials":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	case r.PostFormValue("resource") == "":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_target", "error_description": "resource required"})
		return
	}
	scopes := strings.Fields(r.PostFormValue("scope"))
	token := i.Sign(nil, i.Claims(r.PostFormValue("resource"), scopes...))
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token, "token_type": "Bearer", "expires_in": 300, "scope": strings.Join(scopes, " "),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a client gone away is its test's business
}
