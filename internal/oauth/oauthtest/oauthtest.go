// Package oauthtest is an OAuth authorization server for tests: on a
// loopback port, it serves RFC 8414 metadata, a JWKS whose keys the test
// rotates, and a token endpoint for the client-credentials grant, and it
// mints any token a test needs, well-formed or not.
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

	// JWKSFetches counts the requests for the JWKS.
	JWKSFetches atomic.Int64
}

// New starts an Issuer signing with a new ES256 key; it stops with the test.
func New(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{t: t}
	k := NewKey(t, "key-1", jose.ES256)
	i.published, i.signing = []*Key{k}, k
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", i.metadata)
	mux.HandleFunc("GET /jwks", i.jwks)
	mux.HandleFunc("POST /token", i.token)
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

func (i *Issuer) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.URL + "/jwks",
		"token_endpoint":                        i.URL + "/token",
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"whmcs:read", "whmcs:write"},
	})
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
