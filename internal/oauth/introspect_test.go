package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth"
	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth/oauthtest"
)

// clock is a clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func introspecting(t *testing.T, iss *oauthtest.Issuer, cfg oauth.Config) *oauth.Verifier {
	t.Helper()
	cfg.Issuer, cfg.Audience = iss.URL, audience
	if cfg.Introspection == nil {
		cfg.Introspection = &oauth.IntrospectionConfig{ClientID: oauthtest.ResourceServerID, ClientSecret: oauthtest.ResourceServerSecret}
	}
	v, err := oauth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantRefusal(t *testing.T, name string, err error, want string) {
	t.Helper()
	var refusal *oauth.Error
	if !errors.As(err, &refusal) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: %v, want a refusal saying %q", name, err, want)
	}
}

func TestIntrospectionAcceptsAnActiveToken(t *testing.T) {
	iss := oauthtest.New(t)
	v := introspecting(t, iss, oauth.Config{})
	if v.IntrospectionURL() != iss.URL+"/introspect" {
		t.Errorf("introspection endpoint %q, want the metadata's", v.IntrospectionURL())
	}
	c := iss.Claims(audience, "whmcs:read", "whmcs:write")
	c["sub"], c["client_id"] = "alice", "the-host"
	tok, err := v.Verify(context.Background(), iss.Opaque(c))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Subject != "alice" || tok.ClientID != "the-host" || !slices.Equal(tok.Scopes, []string{"whmcs:read", "whmcs:write"}) ||
		tok.Expiry.Unix() != c["exp"].(int64) {
		t.Errorf("%+v", tok)
	}

	// No sub (a client-credentials token at some issuers): the client id
	// is the subject. aud as a list; no iss.
	c = iss.Claims(audience, "whmcs:read")
	delete(c, "sub")
	delete(c, "iss")
	c["aud"] = []string{"https://other.example.com", audience}
	tok, err = v.Verify(context.Background(), iss.Opaque(c))
	if err != nil || tok.Subject != oauthtest.ClientID || tok.ClientID != oauthtest.ClientID {
		t.Errorf("without sub: %+v, %v", tok, err)
	}

	// JWTs are still verified with the keys, not introspected.
	calls := iss.IntrospectionCalls.Load()
	if _, err := v.Verify(context.Background(), iss.Sign(nil, iss.Claims(audience, "whmcs:read"))); err != nil {
		t.Error(err)
	}
	if iss.IntrospectionCalls.Load() != calls {
		t.Error("a JWT was introspected")
	}
}

func TestIntrospectionRefuses(t *testing.T) {
	iss := oauthtest.New(t)
	v := introspecting(t, iss, oauth.Config{})
	now := time.Now()
	with := func(key string, value any) string {
		c := iss.Claims(audience, "whmcs:read")
		if value == nil {
			delete(c, key)
		} else {
			c[key] = value
		}
		return iss.Opaque(c)
	}
	revoked := with("jti", "x")
	iss.Revoke(revoked)
	noSubject := iss.Claims(audience, "whmcs:read")
	delete(noSubject, "sub")
	delete(noSubject, "client_id")
	for name, tc := range map[string]struct{ token, want string }{
		"unknown":           {"never-issued", "not active"},
		"revoked":           {revoked, "not active"},
		"inactive":          {with("active", false), "not active"},
		"wrong audience":    {with("aud", "https://other.example.com/mcp"), "not meant for this server"},
		"wrong audiences":   {with("aud", []string{"https://a.example.com", "https://b.example.com"}), "not meant for this server"},
		"no audience":       {with("aud", nil), "not meant for this server"},
		"wrong issuer":      {with("iss", "https://elsewhere.example.com"), `issued by "https://elsewhere.example.com"`},
		"expired":           {with("exp", now.Add(-2*time.Minute).Unix()), "has expired"},
		"no expiry":         {with("exp", nil), "no expiry"},
		"not yet valid":     {with("nbf", now.Add(2*time.Minute).Unix()), "not valid yet"},
		"no subject":        {iss.Opaque(noSubject), "no subject"},
		"a refresh token":   {with("token_use", "refresh_token"), "not an access token"},
		"three segments":    {"a.b.c", "not a well-formed signed JWT"},
		"active not a bool": {with("active", "yes"), "introspection endpoint could not be reached"},
	} {
		calls := iss.IntrospectionCalls.Load()
		_, err := v.Verify(context.Background(), tc.token)
		wantRefusal(t, name, err, tc.want)
		if err != nil && strings.Contains(err.Error(), tc.token) {
			t.Errorf("%s: the refusal repeats the token: %v", name, err)
		}
		// Refusals are not cached: the endpoint is asked each time.
		v.Verify(context.Background(), tc.token)
		if name != "three segments" && iss.IntrospectionCalls.Load()-calls != 2 {
			t.Errorf("%s: two Verify cost %d introspections, want 2", name, iss.IntrospectionCalls.Load()-calls)
		}
	}
	// Within the leeway, a token just expired or not quite valid yet passes.
	for _, tok := range []string{with("exp", now.Add(-30*time.Second).Unix()), with("nbf", now.Add(30*time.Second).Unix())} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("within the leeway: %v", err)
		}
	}
}

func TestIntrospectionEndpointFailingRefuses(t *testing.T) {
	iss := oauthtest.New(t)
	v := introspecting(t, iss, oauth.Config{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	token := iss.Opaque(iss.Claims(audience, "whmcs:read"))
	for _, tc := range []struct {
		failure oauthtest.Failure
		detail  string
	}{
		{oauthtest.Fail500, "500 Internal Server Error"},
		{oauthtest.FailSlow, "timed out"},
		{oauthtest.FailBadJSON, "not a JSON object"},
	} {
		iss.FailIntrospection(tc.failure)
		_, err := v.Verify(context.Background(), token)
		wantRefusal(t, tc.detail, err, "the issuer's token introspection endpoint could not be reached")
		var refusal *oauth.Error
		if errors.As(err, &refusal) && (!strings.Contains(refusal.Detail, tc.detail) || !strings.Contains(refusal.Detail, iss.URL+"/introspect")) {
			t.Errorf("%s: the detail for the log is %q", tc.detail, refusal.Detail)
		}
	}
	// Failures are not cached: once the endpoint answers, the token works.
	iss.FailIntrospection(oauthtest.NoFailure)
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Errorf("the endpoint back: %v", err)
	}
}

func TestIntrospectionWithWrongClientCredentials(t *testing.T) {
	iss := oauthtest.New(t)
	// New checks the credentials: wrong ones do not start.
	_, err := oauth.New(context.Background(), oauth.Config{Issuer: iss.URL, Audience: audience,
		Introspection: &oauth.IntrospectionConfig{ClientID: oauthtest.ResourceServerID, ClientSecret: "not-the-secret"}})
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), `client id "whmcs-mcp" and its secret`) ||
		strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("New with a wrong secret: %v", err)
	}
	// The secret rotated at the issuer while the server runs: refused,
	// saying so, with the client id (never the secret) in the detail.
	v := introspecting(t, iss, oauth.Config{Introspection: &oauth.IntrospectionConfig{
		URL: iss.URL + "/introspect", ClientID: oauthtest.ResourceServerID, ClientSecret: oauthtest.ResourceServerSecret}})
	token := iss.Opaque(iss.Claims(audience, "whmcs:read"))
	iss.SetResourceServerSecret("rotated")
	_, err = v.Verify(context.Background(), token)
	wantRefusal(t, "rotated secret", err, "refused this server's client credentials")
	var refusal *oauth.Error
	if errors.As(err, &refusal) && (!strings.Contains(refusal.Detail, `client id "whmcs-mcp"`) || strings.Contains(refusal.Detail, oauthtest.ResourceServerSecret)) {
		t.Errorf("detail %q", refusal.Detail)
	}
}

func TestIntrospectionCache(t *testing.T) {
	iss := oauthtest.New(t)
	clk := &clock{now: time.Now()}
	v := introspecting(t, iss, oauth.Config{Now: clk.Now})
	token := iss.Opaque(iss.Claims(audience, "whmcs:read"))
	calls := iss.IntrospectionCalls.Load()
	for range 3 {
		tok, err := v.Verify(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		tok.Scopes[0] = "changed by a caller" // not the cache's copy
	}
	if got := iss.IntrospectionCalls.Load() - calls; got != 1 {
		t.Errorf("three Verify of one token cost %d introspections, want 1", got)
	}
	if tok, _ := v.Verify(context.Background(), token); tok.Scopes[0] != "whmcs:read" {
		t.Errorf("the cached token's scopes changed: %v", tok.Scopes)
	}
	// Revoked at the issuer: still taken within the cache's 30 s, not after.
	iss.Revoke(token)
	clk.Add(oauth.DefaultIntrospectionCacheTTL - time.Second)
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Errorf("a revoked token within the cache's TTL: %v", err)
	}
	clk.Add(time.Second)
	_, err := v.Verify(context.Background(), token)
	wantRefusal(t, "revoked, after the TTL", err, "not active")
	if got := iss.IntrospectionCalls.Load() - calls; got != 2 {
		t.Errorf("%d introspections, want 2", got)
	}

	// A token expiring before the TTL is cached until its exp only.
	c := iss.Claims(audience, "whmcs:read")
	c["exp"] = clk.Now().Add(10 * time.Second).Unix()
	short := iss.Opaque(c)
	v.Verify(context.Background(), short)
	calls = iss.IntrospectionCalls.Load()
	clk.Add(11 * time.Second)
	v.Verify(context.Background(), short)
	if got := iss.IntrospectionCalls.Load() - calls; got != 1 {
		t.Errorf("a token past its exp was answered from the cache (%d introspections)", got)
	}

	// CacheTTL < 0: nothing cached.
	none := introspecting(t, iss, oauth.Config{Introspection: &oauth.IntrospectionConfig{
		ClientID: oauthtest.ResourceServerID, ClientSecret: oauthtest.ResourceServerSecret, CacheTTL: -1}})
	token = iss.Opaque(iss.Claims(audience, "whmcs:read"))
	calls = iss.IntrospectionCalls.Load()
	none.Verify(context.Background(), token)
	none.Verify(context.Background(), token)
	if got := iss.IntrospectionCalls.Load() - calls; got != 2 {
		t.Errorf("without a cache, two Verify cost %d introspections, want 2", got)
	}
}

func TestIntrospectionConfiguration(t *testing.T) {
	iss := oauthtest.New(t)
	noEndpoint := oauthtest.New(t)
	noEndpoint.OmitIntrospectionEndpoint()
	for _, tc := range []struct {
		iss  *oauthtest.Issuer
		ic   oauth.IntrospectionConfig
		want string
	}{
		{iss, oauth.IntrospectionConfig{ClientID: oauthtest.ResourceServerID}, "client secret"},
		{iss, oauth.IntrospectionConfig{ClientSecret: oauthtest.ResourceServerSecret}, "client id"},
		{noEndpoint, oauth.IntrospectionConfig{ClientID: oauthtest.ResourceServerID, ClientSecret: oauthtest.ResourceServerSecret}, "names no introspection_endpoint"},
		{iss, oauth.IntrospectionConfig{URL: "http://idp.example.com/introspect", ClientID: oauthtest.ResourceServerID, ClientSecret: oauthtest.ResourceServerSecret}, "over https"},
		{iss, oauth.IntrospectionConfig{URL: iss.URL + "/nowhere", ClientID: oauthtest.ResourceServerID, ClientSecret: oauthtest.ResourceServerSecret}, "404 Not Found"},
	} {
		ic := tc.ic
		_, err := oauth.New(context.Background(), oauth.Config{Issuer: tc.iss.URL, Audience: audience, Introspection: &ic})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.ic, err, tc.want)
		}
	}
	// Without introspection, opaque tokens are refused as before.
	_, err := newVerifier(t, iss, -1).Verify(context.Background(), iss.Opaque(iss.Claims(audience, "whmcs:read")))
	wantRefusal(t, "opaque without introspection", err, "not a JWT")
}

// TestIntrospectionConcurrently: Verify from many goroutines (run with
// -race), tokens cached and not.
func TestIntrospectionConcurrently(t *testing.T) {
	iss := oauthtest.New(t)
	v := introspecting(t, iss, oauth.Config{})
	tokens := []string{iss.Opaque(iss.Claims(audience, "whmcs:read")), iss.Opaque(iss.Claims(audience, "whmcs:write")), "unknown"}
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Go(func() {
			for i := range 10 {
				tok, err := v.Verify(context.Background(), tokens[(g+i)%len(tokens)])
				if (err == nil) != ((g+i)%len(tokens) < 2) {
					t.Errorf("token %d: %+v, %v", (g+i)%len(tokens), tok, err)
				}
			}
		})
	}
	wg.Wait()
}
