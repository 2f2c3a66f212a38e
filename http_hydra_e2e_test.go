package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/hydratest"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

const (
	hydraClientID     = "whmcs-bot"
	hydraClientSecret = "whmcs-bot-secret-0123456789"
)

var resourceMetadataRe = regexp.MustCompile(`resource_metadata="([^"]+)"`)

// TestHTTPOAuthWithOryHydra runs the binary as a resource server of a real
// Ory Hydra (JWT access tokens, in-memory storage) and goes from nothing but
// the server's URL to a guarded write, as a host does: 401 with
// resource_metadata, the Protected Resource Metadata, the issuer's metadata,
// a client-credentials token from Hydra's token endpoint, then MCP with the
// Go SDK. A token without whmcs:write is refused a write tool (403,
// insufficient_scope), and a token asked for with RFC 8707's resource
// (which Hydra v2.3.0 ignores) has no audience and is refused.
func TestHTTPOAuthWithOryHydra(t *testing.T) {
	hydra := hydratest.Start(t)
	t.Logf("Ory Hydra %s at %s, healthy %v after its start", hydra.Version, hydra.Issuer, hydra.Startup.Round(time.Millisecond))

	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyPath, []byte("principals:\n  - name: billing-bot\n    oauth_sub: "+hydraClientID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auditPath := filepath.Join(dir, "audit.jsonl")
	sb, sbURL := serveSandbox(t, sandbox.Options{})
	p := startHTTP(t, append(sandboxEnv(sbURL), "WHMCS_MCP_AUDIT_LOG="+auditPath),
		"--policy", policyPath, "--oauth-issuer", hydra.Issuer)
	resource := p.url + "/mcp" // the audience, derived from the loopback address
	hydra.CreateClient(t, hydratest.Client{ID: hydraClientID, Secret: hydraClientSecret,
		Scope: "whmcs:read whmcs:write", Audience: []string{resource}})

	// 1. Unauthenticated: 401 pointing at the resource metadata.
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"hydra-e2e","version":"1"}}}`
	resp, _ := postMCP(t, resource, "", init)
	challenge := resp.Header.Get("WWW-Authenticate")
	m := resourceMetadataRe.FindStringSubmatch(challenge)
	if resp.StatusCode != http.StatusUnauthorized || m == nil {
		t.Fatalf("unauthenticated: %s, WWW-Authenticate %q", resp.Status, challenge)
	}

	// 2. The Protected Resource Metadata names the resource and Hydra.
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	fetchJSON(t, m[1], &prm)
	if prm.Resource != resource || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != hydra.Issuer {
		t.Fatalf("protected resource metadata %s: %+v; want resource %s, authorization server %s", m[1], prm, resource, hydra.Issuer)
	}

	// 3. The issuer's metadata, where the MCP authorization spec has a host
	// look for it: RFC 8414's, then OpenID Connect's (Hydra serves only
	// the latter).
	issuer, _ := url.Parse(prm.AuthorizationServers[0])
	var md struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	for _, wk := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		u := *issuer
		u.Path = wk + strings.TrimSuffix(issuer.Path, "/")
		if tryFetchJSON(u.String(), &md) == nil {
			break
		}
	}
	if md.Issuer != hydra.Issuer || md.TokenEndpoint == "" {
		t.Fatalf("the issuer's metadata: %+v", md)
	}

	// 4. A token from Hydra's token endpoint for this server. Hydra takes
	// the resource URI as `audience`.
	token := hydraToken(t, md.TokenEndpoint, url.Values{"scope": {"whmcs:read whmcs:write"}, "audience": {resource}})

	// 5. MCP initialize, the tools, a read and a guarded write, with the
	// Go SDK.
	s := connectHTTP(t, "streamable", p.url, token, nil)
	if got := listNames(t, s); len(got) != len(tools.All(nil)) {
		t.Errorf("a whmcs:read whmcs:write token lists %v, want every tool", got)
	}
	if page := resultJSON(t, callTool(t, s, "get_clients_products", map[string]any{"clientid": 1})); page["total"] == nil || page["total"] == 0.0 {
		t.Errorf("read: %v", page)
	}
	args := map[string]any{"serviceid": 3, "status": "Suspended"}
	preview := resultJSON(t, callTool(t, s, "update_client_product", args))
	if preview["status"] != "confirmation_required" {
		t.Fatalf("write: %v", preview)
	}
	args["confirmation_token"] = preview["confirmation_token"]
	if done := resultJSON(t, callTool(t, s, "update_client_product", args)); done["status"] != "done" {
		t.Fatalf("confirmed write: %v", done)
	}
	var status string
	sb.DB().QueryRow(`SELECT domainstatus FROM tblhosting WHERE id = 3`).Scan(&status)
	if status != "Suspended" {
		t.Errorf("service 3 is %q after the confirmed write", status)
	}
	audit, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(audit), `"principal":"billing-bot"`) || !strings.Contains(string(audit), `"sub":"`+hydraClientID+`"`) {
		t.Errorf("the audit log does not name the principal and Hydra's sub:\n%s", audit)
	}
	if strings.Contains(string(audit), token) || strings.Contains(p.log(), token) {
		t.Error("the access token is in the audit log or the server's log")
	}

	// A token without whmcs:write: no write tool listed, and calling one
	// is 403 insufficient_scope, naming the scope to ask for.
	readOnly := hydraToken(t, md.TokenEndpoint, url.Values{"scope": {"whmcs:read"}, "audience": {resource}})
	if got := listNames(t, connectHTTP(t, "streamable", p.url, readOnly, nil)); len(got) == len(tools.All(nil)) || len(got) == 0 {
		t.Errorf("a whmcs:read token lists %v, want the reads only", got)
	}
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"x"}}}`
	resp, _ = postMCP(t, resource, readOnly, call)
	if challenge := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(challenge, `error="insufficient_scope"`) || !strings.Contains(challenge, `scope="whmcs:write"`) {
		t.Errorf("a write with a whmcs:read token: %s, WWW-Authenticate %q; want 403 insufficient_scope", resp.Status, challenge)
	}

	// RFC 8707's resource parameter, which MCP hosts send: Hydra v2.3.0
	// ignores it and mints a token with no audience, which is refused.
	noAudience := hydraToken(t, md.TokenEndpoint, url.Values{"scope": {"whmcs:read"}, "resource": {resource}})
	resp, body := postMCP(t, resource, noAudience, init)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not meant for this server") {
		t.Errorf("a token asked for with resource= only: %s %s; want 401, not meant for this server", resp.Status, body)
	}
}

// hydraToken gets a JWT access token with the client-credentials grant,
// authenticating with client_secret_basic.
func hydraToken(t *testing.T, endpoint string, form url.Values) string {
	t.Helper()
	token := hydraAccessToken(t, endpoint, form)
	if strings.Count(token, ".") != 2 {
		t.Fatalf("Hydra issued an opaque token, not a JWT (STRATEGIES_ACCESS_TOKEN=jwt?): %s", token)
	}
	return token
}

// hydraAccessToken gets an access token, a JWT or opaque, with the
// client-credentials grant, authenticating with client_secret_basic.
func hydraAccessToken(t *testing.T, endpoint string, form url.Values) string {
	t.Helper()
	form.Set("grant_type", "client_credentials")
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(hydraClientID, hydraClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		t.Fatalf("Hydra's token endpoint: %s %s", resp.Status, body)
	}
	return tok.AccessToken
}

// postMCP POSTs a JSON-RPC message to the MCP endpoint as a streamable
// HTTP client does, with token as the bearer token if any.
func postMCP(t *testing.T, endpoint, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func fetchJSON(t *testing.T, u string, out any) {
	t.Helper()
	if err := tryFetchJSON(u, out); err != nil {
		t.Fatal(err)
	}
}

func tryFetchJSON(u string, out any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// TestHTTPOAuthOpaqueTokensWithOryHydra runs the binary as a resource
// server of a real Ory Hydra issuing opaque access tokens (its default),
// which the server checks at Hydra's token introspection endpoint (the
// admin API's: Hydra's metadata names none; with --dev it asks no client
// authentication, so the client id and secret given are sent and
// ignored). A token for this server gets in, reads; one asked for without
// this server's audience, and one revoked at Hydra, are refused (401).
func TestHTTPOAuthOpaqueTokensWithOryHydra(t *testing.T) {
	hydra := hydratest.Start(t, hydratest.Options{OpaqueAccessTokens: true})
	t.Logf("Ory Hydra %s at %s (opaque access tokens), healthy %v after its start", hydra.Version, hydra.Issuer, hydra.Startup.Round(time.Millisecond))

	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyPath, []byte("principals:\n  - name: billing-bot\n    oauth_sub: "+hydraClientID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auditPath := filepath.Join(dir, "audit.jsonl")
	const rsSecret = "whmcs-mcp-introspection-secret"
	_, sbURL := serveSandbox(t, sandbox.Options{})
	p := startHTTP(t, append(sandboxEnv(sbURL), "WHMCS_MCP_AUDIT_LOG="+auditPath, "WHMCS_MCP_OAUTH_CLIENT_SECRET="+rsSecret),
		"--policy", policyPath, "--oauth-issuer", hydra.Issuer,
		"--oauth-introspection-url", hydra.IntrospectionEndpoint(), "--oauth-client-id", "whmcs-mcp")
	resource := p.url + "/mcp"
	hydra.CreateClient(t, hydratest.Client{ID: hydraClientID, Secret: hydraClientSecret,
		Scope: "whmcs:read whmcs:write", Audience: []string{resource}})
	var md struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	fetchJSON(t, hydra.Public+"/.well-known/openid-configuration", &md)

	token := hydraAccessToken(t, md.TokenEndpoint, url.Values{"scope": {"whmcs:read whmcs:write"}, "audience": {resource}})
	if strings.Count(token, ".") == 2 {
		t.Fatalf("Hydra issued a JWT, not an opaque token (STRATEGIES_ACCESS_TOKEN=opaque?)")
	}
	s := connectHTTP(t, "streamable", p.url, token, nil)
	if got := listNames(t, s); len(got) != len(tools.All(nil)) {
		t.Errorf("an opaque whmcs:read whmcs:write token lists %v, want every tool", got)
	}
	if page := resultJSON(t, callTool(t, s, "get_clients_products", map[string]any{"clientid": 1})); page["total"] == nil || page["total"] == 0.0 {
		t.Errorf("read: %v", page)
	}
	// A guarded write's preview, which the audit log records.
	if preview := resultJSON(t, callTool(t, s, "update_client_product", map[string]any{"serviceid": 3, "status": "Suspended"})); preview["status"] != "confirmation_required" {
		t.Fatalf("write: %v", preview)
	}
	audit, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(audit), `"principal":"billing-bot"`) || !strings.Contains(string(audit), `"sub":"`+hydraClientID+`"`) {
		t.Errorf("the audit log does not name the principal and Hydra's sub:\n%s", audit)
	}

	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"hydra-e2e","version":"1"}}}`
	// A token without this server's audience.
	noAudience := hydraAccessToken(t, md.TokenEndpoint, url.Values{"scope": {"whmcs:read"}})
	resp, body := postMCP(t, resource, noAudience, init)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not meant for this server") {
		t.Errorf("an opaque token without the audience: %s %s; want 401, not meant for this server", resp.Status, body)
	}
	// A token revoked at Hydra (RFC 7009) before its first use here.
	revoked := hydraAccessToken(t, md.TokenEndpoint, url.Values{"scope": {"whmcs:read"}, "audience": {resource}})
	req, _ := http.NewRequest(http.MethodPost, hydra.Public+"/oauth2/revoke", strings.NewReader(url.Values{"token": {revoked}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(hydraClientID, hydraClientSecret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoking at Hydra: %v %v", resp, err)
	}
	resp, body = postMCP(t, resource, revoked, init)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not active") {
		t.Errorf("a revoked opaque token: %s %s; want 401, not active", resp.Status, body)
	}

	for _, secret := range []string{token, noAudience, revoked, rsSecret} {
		if strings.Contains(string(audit), secret) || strings.Contains(p.log(), secret) {
			t.Error("a token or the client secret is in the audit log or the server's log")
		}
	}
}
