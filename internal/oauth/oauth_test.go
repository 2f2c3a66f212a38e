package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth"
	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth/oauthtest"
)

const audience = "http://127.0.0.1:8080/mcp"

func newVerifier(t *testing.T, iss *oauthtest.Issuer, refetch time.Duration) *oauth.Verifier {
	t.Helper()
	v, err := oauth.New(context.Background(), oauth.Config{Issuer: iss.URL, Audience: audience, RefetchInterval: refetch})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyAcceptsAValidToken(t *testing.T) {
	iss := oauthtest.New(t)
	v := newVerifier(t, iss, -1)
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA} {
		k := oauthtest.NewKey(t, "k-"+string(alg), alg)
		iss.Rotate(k)
		c := iss.Claims(audience, "whmcs:read", "whmcs:write")
		c["aud"] = []string{"https://other.example.com", audience}
		c["client_id"] = nil
		c["azp"] = "the-client"
		tok, err := v.Verify(context.Background(), iss.Sign(k, c))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if tok.Subject != oauthtest.ClientID || tok.ClientID != "the-client" || !slices.Equal(tok.Scopes, []string{"whmcs:read", "whmcs:write"}) {
			t.Errorf("%s: %+v", alg, tok)
		}
	}
	// Entra and Okta write the scopes in scp.
	c := iss.Claims(audience)
	delete(c, "scope")
	c["scp"] = []string{"whmcs:read"}
	if tok, err := v.Verify(context.Background(), iss.Sign(nil, c)); err != nil || !slices.Equal(tok.Scopes, []string{"whmcs:read"}) {
		t.Errorf("scp as a list: %+v, %v", tok, err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	iss := oauthtest.New(t)
	v := newVerifier(t, iss, -1)
	now := time.Now()
	with := func(key string, value any) string {
		c := iss.Claims(audience, "whmcs:read")
		if value == nil {
			delete(c, key)
		} else {
			c[key] = value
		}
		return iss.Sign(nil, c)
	}
	impostor := oauthtest.NewKey(t, iss.SigningKey().ID, jose.ES256) // same kid, another key
	for name, tc := range map[string]struct{ token, want string }{
		"wrong audience":  {with("aud", "https://other.example.com/mcp"), "not meant for this server"},
		"no audience":     {with("aud", nil), "not meant for this server"},
		"expired":         {with("exp", now.Add(-2*time.Minute).Unix()), "has expired"},
		"no expiry":       {with("exp", nil), "no expiry"},
		"not yet valid":   {with("nbf", now.Add(2*time.Minute).Unix()), "not valid yet"},
		"issued later":    {with("iat", now.Add(2*time.Minute).Unix()), "issued in the future"},
		"wrong issuer":    {with("iss", "http://127.0.0.1:1"), "issued by"},
		"no subject":      {with("sub", nil), "no subject"},
		"bad signature":   {iss.Sign(impostor, iss.Claims(audience, "whmcs:read")), "signature does not verify"},
		"alg none":        {oauthtest.Unsigned(iss.Claims(audience, "whmcs:read")), `algorithm "none"`},
		"key not in JWKS": {iss.Sign(oauthtest.NewKey(t, "ghost", jose.ES256), iss.Claims(audience, "whmcs:read")), `a key the issuer does not publish (kid "ghost")`},
		"opaque":          {"2YotnFZFEjr1zCsicMWpAA", "not a JWT"},
		"garbage":         {"a.b.c", "not a well-formed signed JWT"},
	} {
		_, err := v.Verify(context.Background(), tc.token)
		var refusal *oauth.Error
		if !errors.As(err, &refusal) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a refusal saying %q", name, err, tc.want)
		}
	}
	// Within the leeway, a token just expired or not quite valid yet passes.
	for _, tok := range []string{with("exp", now.Add(-30*time.Second).Unix()), with("nbf", now.Add(30*time.Second).Unix())} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("within the leeway: %v", err)
		}
	}
}

func TestKeyRotationWithoutRestart(t *testing.T) {
	iss := oauthtest.New(t)
	v := newVerifier(t, iss, -1)
	old := iss.Sign(nil, iss.Claims(audience, "whmcs:read"))
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	iss.Rotate(oauthtest.NewKey(t, "key-2", jose.RS256))
	fetches := iss.JWKSFetches.Load()
	if _, err := v.Verify(context.Background(), iss.Sign(nil, iss.Claims(audience, "whmcs:read"))); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	if got := iss.JWKSFetches.Load() - fetches; got != 1 {
		t.Errorf("the new key cost %d JWKS fetches, want 1", got)
	}
	// Both keys are cached now: no more fetches.
	for range 3 {
		if _, err := v.Verify(context.Background(), old); err != nil {
			t.Fatal(err)
		}
	}
	if got := iss.JWKSFetches.Load() - fetches; got != 1 {
		t.Errorf("%d JWKS fetches, want 1", got)
	}
}

func TestUnknownKeysRefetchWithinABound(t *testing.T) {
	iss := oauthtest.New(t)
	v := newVerifier(t, iss, time.Hour)
	start := iss.JWKSFetches.Load() // the fetch at start-up
	for i := range 20 {
		tok := iss.Sign(oauthtest.NewKey(t, "made-up-"+string(rune('a'+i)), jose.ES256), iss.Claims(audience, "whmcs:read"))
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Fatal("a token of a key not in the JWKS verified")
		}
	}
	if got := iss.JWKSFetches.Load() - start; got != 0 {
		t.Errorf("20 tokens of unknown keys right after start-up cost %d JWKS fetches, want 0 (one an hour)", got)
	}
	// Tokens of the known key still verify.
	if _, err := v.Verify(context.Background(), iss.Sign(nil, iss.Claims(audience, "whmcs:read"))); err != nil {
		t.Error(err)
	}
}

func TestNewRefusesAnIssuerItCannotRead(t *testing.T) {
	iss := oauthtest.New(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	wrongIssuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"issuer":"https://elsewhere.example.com","jwks_uri":"https://elsewhere.example.com/jwks"}`))
	}))
	defer wrongIssuer.Close()
	noKeys := httptest.NewServer(http.NotFoundHandler())
	defer noKeys.Close()
	for _, tc := range []struct{ issuer, audience, want string }{
		{down.URL, audience, "cannot read the metadata of OAuth issuer " + down.URL},
		{noKeys.URL, audience, "404 Not Found"},
		{wrongIssuer.URL, audience, `names issuer "https://elsewhere.example.com"`},
		{"http://idp.example.com", audience, "over https"},
		{"not a url", audience, "want the issuer's URL"},
		{iss.URL, "", "--oauth-audience"},
	} {
		_, err := oauth.New(context.Background(), oauth.Config{Issuer: tc.issuer, Audience: tc.audience})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("issuer %s: %v, want an error saying %q", tc.issuer, err, tc.want)
		}
	}
}
