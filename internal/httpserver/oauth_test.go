package httpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/time/rate"

	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth"
	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth/oauthtest"
)

// oauthPolicy lets in the test issuer's bot by its sub, and any other
// subject of the issuer with whmcs:read as staff limited to client 1.
const oauthPolicy = `
principals:
  - name: billing-bot
    oauth_sub: ` + oauthtest.ClientID + `
  - name: staff
    oauth_scope: whmcs:read
    clients: [1]
`

// oauthWorld is a world whose server is a resource server of iss.
type oauthWorld struct {
	*world
	iss      *oauthtest.Issuer
	audience string
	logs     *logBuffer
}

func newOAuthWorld(t *testing.T) *oauthWorld { t.Helper(); return newOAuthWorldWith(t, nil) }

// newOAuthWorldWith is newOAuthWorld with the Verifier's configuration
// changed by configure.
func newOAuthWorldWith(t *testing.T, configure func(*oauth.Config)) *oauthWorld {
	t.Helper()
	return newOAuthServerWorld(t, configure, nil)
}

// newOAuthServerWorld is newOAuthWorldWith with the server's options
// changed by mutate, after the world's own.
func newOAuthServerWorld(t *testing.T, configure func(*oauth.Config), mutate func(*httpserver.Options)) *oauthWorld {
	t.Helper()
	iss := oauthtest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	audience := "http://" + ln.Addr().String() + httpserver.PathMCP
	// No bound on refetching the JWKS here: the rotation test rotates
	// right after start-up (the bound has its own test in package oauth).
	cfg := oauth.Config{Issuer: iss.URL, Audience: audience, RefetchInterval: -1}
	if configure != nil {
		configure(&cfg)
	}
	v, err := oauth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	w := newWorld(t, worldOptions{policy: oauthPolicy, listener: ln, mutate: func(o *httpserver.Options) {
		o.OAuth = v
		o.AuthFailureRate = rate.Inf // the refusal tests send many bad tokens
		o.Logger = logs.logger()
		if mutate != nil {
			mutate(o)
		}
	}})
	return &oauthWorld{world: w, iss: iss, audience: audience, logs: logs}
}

// tokenFromIssuer gets an access token as a bot does: the client-credentials
// grant at the token endpoint the issuer's metadata names, for this server
// (RFC 8707 resource).
func (w *oauthWorld) tokenFromIssuer(scope string) string {
	w.t.Helper()
	var md struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	getJSON(w.t, w.iss.URL+"/.well-known/oauth-authorization-server", &md)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "resource": {w.audience}}
	req, _ := http.NewRequest(http.MethodPost, md.TokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oauthtest.ClientID, oauthtest.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		w.t.Fatalf("token endpoint: %s: %v", resp.Status, err)
	}
	return tok.AccessToken
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

var resourceMetadataParam = regexp.MustCompile(`resource_metadata="([^"]+)"`)

// TestOAuthDiscoveryAsAHostDoesIt follows the MCP authorization spec from
// nothing but the server's URL to a tool call.
func TestOAuthDiscoveryAsAHostDoesIt(t *testing.T) {
	w := newOAuthWorld(t)

	// 1. Unauthenticated: 401 pointing at the resource metadata.
	resp := w.post("/mcp", "", nil, initializeBody)
	challenge := resp.Header.Get("WWW-Authenticate")
	m := resourceMetadataParam.FindStringSubmatch(challenge)
	if resp.StatusCode != http.StatusUnauthorized || m == nil || strings.Contains(challenge, "error=") {
		t.Fatalf("unauthenticated: %s, WWW-Authenticate %q", resp.Status, challenge)
	}
	if want := w.url + "/.well-known/oauth-protected-resource/mcp"; m[1] != want {
		t.Errorf("resource_metadata = %s, want %s", m[1], want)
	}

	// 2. The Protected Resource Metadata, in both forms.
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
		BearerMethods        []string `json:"bearer_methods_supported"`
	}
	for _, u := range []string{m[1], w.url + "/.well-known/oauth-protected-resource"} {
		getJSON(t, u, &prm)
		if prm.Resource != w.audience || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != w.iss.URL ||
			!sameSet(prm.ScopesSupported, []string{"whmcs:read", "whmcs:write"}) || !sameSet(prm.BearerMethods, []string{"header"}) {
			t.Errorf("%s: %+v", u, prm)
		}
	}

	// 3 and 4. The issuer's metadata, then a token from its endpoint.
	token := w.tokenFromIssuer("whmcs:read whmcs:write")

	// 5. MCP initialize, the tools, a read and a write, with the Go SDK.
	s := w.connect("streamable", token, nil)
	if got := toolNames(t, s); !sameSet(got, allTools) {
		t.Errorf("tools/list = %v, want every tool", got)
	}
	if res := call(t, s, "get_clients_products", map[string]any{"clientid": 1}); res.IsError || !strings.Contains(text(res), `"demodomain.com"`) {
		t.Fatalf("read: %s", text(res))
	}
	res := call(t, s, "update_client_product", map[string]any{"serviceid": 3, "status": "Suspended"})
	if preview := decode(t, res); res.IsError || preview["status"] != "confirmation_required" {
		t.Fatalf("write: %s", text(res))
	}
	recs := auditRecords(t, w.auditLog)
	if len(recs) == 0 {
		t.Fatal("no audit records")
	}
	for _, r := range recs {
		if r.Principal != "billing-bot" || r.Subject != oauthtest.ClientID || r.ClientID != oauthtest.ClientID {
			t.Errorf("audit record of principal %q, sub %q, client_id %q; want billing-bot and %s", r.Principal, r.Subject, r.ClientID, oauthtest.ClientID)
		}
	}
	if raw, _ := readFile(w.auditLog); strings.Contains(raw, token) {
		t.Error("the audit log holds the access token")
	}
}

// TestOAuthRefusesBadTokens sends, each on its own, every kind of token
// that must not get in.
func TestOAuthRefusesBadTokens(t *testing.T) {
	w := newOAuthWorld(t)
	now := time.Now()
	with := func(key string, value any) string {
		c := w.iss.Claims(w.audience, "whmcs:read", "whmcs:write")
		c[key] = value
		return w.iss.Sign(nil, c)
	}
	impostor := oauthtest.NewKey(t, w.iss.SigningKey().ID, jose.ES256)
	valid := w.iss.Claims(w.audience, "whmcs:read", "whmcs:write")
	cases := map[string]struct{ token, want string }{
		"wrong audience":  {with("aud", "https://other.example.com/mcp"), "not meant for this server"},
		"expired":         {with("exp", now.Add(-10*time.Minute).Unix()), "has expired"},
		"not yet valid":   {with("nbf", now.Add(10*time.Minute).Unix()), "not valid yet"},
		"wrong issuer":    {with("iss", "https://evil.example.com"), "issued by"},
		"bad signature":   {w.iss.Sign(impostor, valid), "signature does not verify"},
		"alg none":        {oauthtest.Unsigned(valid), `algorithm "none"`},
		"key not in JWKS": {w.iss.Sign(oauthtest.NewKey(t, "ghost", jose.ES256), valid), "a key the issuer does not publish"},
		"opaque token":    {"2YotnFZFEjr1zCsicMWpAA", "not a JWT"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp := w.post("/mcp", tc.token, nil, initializeBody)
			body, _ := io.ReadAll(resp.Body)
			challenge := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) ||
				!resourceMetadataParam.MatchString(challenge) || !strings.Contains(string(body), tc.want) {
				t.Errorf("%s, WWW-Authenticate %q, body %q; want 401 invalid_token saying %q", resp.Status, challenge, body, tc.want)
			}
		})
	}
	if w.requests.Load() != 0 {
		t.Errorf("%d requests reached WHMCS", w.requests.Load())
	}
	logs := w.logs.String()
	if !strings.Contains(logs, "does not verify") {
		t.Errorf("the refusals are not logged:\n%s", logs)
	}
	for name, tc := range cases {
		if strings.Contains(logs, tc.token) {
			t.Errorf("the logs hold the %s token", name)
		}
	}
}

// TestOAuthTokenInTheQueryStringIsNotRead: only the Authorization header
// carries a token.
func TestOAuthTokenInTheQueryStringIsNotRead(t *testing.T) {
	w := newOAuthWorld(t)
	token := w.tokenFromIssuer("whmcs:read whmcs:write")
	resp := w.post("/mcp?access_token="+url.QueryEscape(token), "", nil, initializeBody)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token in the query string: %s, want 401", resp.Status)
	}
}

// TestOAuthScopes: without whmcs:write no write tool is listed, and calling
// one is 403 insufficient_scope; without any whmcs scope, or without a
// principal matching, nothing is reached.
func TestOAuthScopes(t *testing.T) {
	w := newOAuthWorld(t)
	token := w.tokenFromIssuer("whmcs:read")

	s := w.connect("streamable", token, nil)
	if got := toolNames(t, s); !sameSet(got, readTools) {
		t.Errorf("a token without whmcs:write lists %v, want the reads %v", got, readTools)
	}
	if _, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: "update_client_product",
		Arguments: map[string]any{"serviceid": 2, "notes": "x"}}); err == nil {
		t.Error("a token without whmcs:write called a write tool")
	}
	callBody := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"x"}}}`
	resp := w.post("/mcp", token, nil, callBody)
	if challenge := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(challenge, `error="insufficient_scope"`) || !strings.Contains(challenge, `scope="whmcs:write"`) {
		t.Errorf("write without whmcs:write: %s, WWW-Authenticate %q", resp.Status, challenge)
	}
	if w.sb.Writes() != 0 {
		t.Error("a write without whmcs:write reached WHMCS")
	}

	// No whmcs scope at all.
	resp = w.post("/mcp", w.iss.Sign(nil, w.iss.Claims(w.audience, "openid")), nil, initializeBody)
	if challenge := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(challenge, `error="insufficient_scope"`) || !strings.Contains(challenge, `scope="whmcs:read"`) {
		t.Errorf("no whmcs scope: %s, WWW-Authenticate %q", resp.Status, challenge)
	}
	// A valid token that no principal matches: another subject without
	// whmcs:read, which the staff principal needs.
	c := w.iss.Claims(w.audience, "whmcs:write")
	c["sub"] = "someone-else"
	resp = w.post("/mcp", w.iss.Sign(nil, c), nil, initializeBody)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "no principal") {
		t.Errorf("no principal matches: %s %s", resp.Status, body)
	}
	// Another subject with whmcs:read is staff, scoped to client 1.
	c = w.iss.Claims(w.audience, "whmcs:read")
	c["sub"] = "alice"
	staff := w.connect("streamable", w.iss.Sign(nil, c), nil)
	if res := call(t, staff, "get_clients_products", map[string]any{"clientid": 2}); res.IsError || decode(t, res)["total"] != 0.0 {
		t.Errorf("staff read client 2's services: %s", text(res))
	}
	if res := call(t, staff, "get_clients_products", map[string]any{"clientid": 1}); res.IsError || decode(t, res)["total"] == 0.0 {
		t.Errorf("staff cannot read client 1's services: %s", text(res))
	}
}

// TestOAuthKeyRotation: the issuer's key rotates mid-run; new tokens verify
// without a restart, and the old key's tokens too while it is published.
func TestOAuthKeyRotation(t *testing.T) {
	w := newOAuthWorld(t)
	before := w.tokenFromIssuer("whmcs:read")
	s := w.connect("streamable", before, nil)
	call(t, s, "get_products", nil)

	w.iss.Rotate(oauthtest.NewKey(t, "key-2", jose.EdDSA))
	after := w.tokenFromIssuer("whmcs:read")
	call(t, w.connect("streamable", after, nil), "get_products", nil)
	call(t, s, "get_products", nil)

	w.iss.Rotate(oauthtest.NewKey(t, "key-3", jose.RS256))
	w.iss.Retire("key-1")
	call(t, w.connect("streamable", w.tokenFromIssuer("whmcs:read"), nil), "get_products", nil)
}

// TestOAuthOpaqueTokensIntrospected: with token introspection, an opaque
// token the issuer says is active for this server gets in; one it says is
// not, or one it cannot be asked about (fail closed), is a clean 401, the
// log saying what went wrong with the issuer without the token or secret.
func TestOAuthOpaqueTokensIntrospected(t *testing.T) {
	w := newOAuthWorldWith(t, func(c *oauth.Config) {
		c.Introspection = &oauth.IntrospectionConfig{ClientID: oauthtest.ResourceServerID, ClientSecret: oauthtest.ResourceServerSecret}
	})
	token := w.iss.Opaque(w.iss.Claims(w.audience, "whmcs:read", "whmcs:write"))
	if resp := w.post("/mcp", token, nil, initializeBody); resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("an active opaque token: %s %s", resp.Status, body)
	}
	other := w.iss.Opaque(w.iss.Claims("https://other.example.com/mcp", "whmcs:read"))
	revoked := w.iss.Opaque(w.iss.Claims(w.audience, "whmcs:read"))
	w.iss.Revoke(revoked)
	down := w.iss.Opaque(w.iss.Claims(w.audience, "whmcs:read"))
	for _, tc := range []struct {
		name, token, want string
		fail              oauthtest.Failure
	}{
		{"another audience", other, "not meant for this server", oauthtest.NoFailure},
		{"revoked", revoked, "the access token is not active", oauthtest.NoFailure},
		{"endpoint down", down, "401 Unauthorized: the access token cannot be checked now: the issuer's token introspection endpoint could not be reached", oauthtest.Fail500},
	} {
		w.iss.FailIntrospection(tc.fail)
		resp := w.post("/mcp", tc.token, nil, initializeBody)
		body, _ := io.ReadAll(resp.Body)
		challenge := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) ||
			!strings.Contains(string(body), tc.want) || strings.Contains(string(body), w.iss.URL) {
			t.Errorf("%s: %s, WWW-Authenticate %q, body %q; want 401 invalid_token saying %q", tc.name, resp.Status, challenge, body, tc.want)
		}
	}
	logs := w.logs.String()
	if !strings.Contains(logs, w.iss.URL+"/introspect: 500 Internal Server Error") {
		t.Errorf("the log does not say what the introspection endpoint answered:\n%s", logs)
	}
	for _, secret := range []string{token, other, revoked, down, oauthtest.ResourceServerSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// TestIssuerOutageSpendsNoBudget: requests refused because the issuer's
// introspection endpoint cannot be asked spend no address's budget of wrong
// tokens, so that hosts get in as soon as the outage is over; wrong tokens
// still do.
func TestIssuerOutageSpendsNoBudget(t *testing.T) {
	w := newOAuthServerWorld(t, func(c *oauth.Config) {
		c.Introspection = &oauth.IntrospectionConfig{ClientID: oauthtest.ResourceServerID, ClientSecret: oauthtest.ResourceServerSecret}
	}, func(o *httpserver.Options) { o.AuthFailureRate, o.AuthFailureBurst = 0.001, 3 })
	token := w.iss.Opaque(w.iss.Claims(w.audience, "whmcs:read"))
	w.iss.FailIntrospection(oauthtest.Fail500)
	for range 10 {
		if resp := w.post("/mcp", token, nil, initializeBody); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("during the outage: %s, want 401", resp.Status)
		}
	}
	w.iss.FailIntrospection(oauthtest.NoFailure)
	if resp := w.post("/mcp", token, nil, initializeBody); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the outage: %s, want the active token let in", resp.Status)
	}
	wrong := w.iss.Opaque(w.iss.Claims("https://other.example.com/mcp", "whmcs:read"))
	codes := map[int]int{}
	for range 5 {
		codes[w.post("/mcp", wrong, nil, initializeBody).StatusCode]++
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("5 wrong tokens with a budget of 3: %v, want some 429", codes)
	}
}
