package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth/oauthtest"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// TestHTTPOAuthFlags runs the binary as a resource server of an issuer in
// the test, its audience derived from the loopback address.
func TestHTTPOAuthFlags(t *testing.T) {
	iss := oauthtest.New(t)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("principals:\n  - name: staff\n    oauth_scope: whmcs:read\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startHTTP(t, []string{"WHMCS_MCP_OAUTH_ISSUER=" + iss.URL}, "--sandbox", "--policy", path)
	if !strings.Contains(p.log(), "OAuth resource server") {
		t.Errorf("no word of OAuth at start-up:\n%s", p.log())
	}
	token := iss.Sign(nil, iss.Claims(p.url+"/mcp", "whmcs:read"))
	s := connectHTTP(t, "streamable", p.url, token, nil)
	var reads int
	for _, tool := range tools.All(nil) {
		if tool.Kind == tools.Read {
			reads++
		}
	}
	if got := listNames(t, s); len(got) != reads {
		t.Errorf("a whmcs:read token lists %v, want the %d reads", got, reads)
	}

	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"WHMCS_MCP_OAUTH_ISSUER=" + iss.URL}, []string{"--sandbox"}, "no principal of the policy file matches OAuth access tokens"},
		{nil, []string{"--sandbox", "--policy", path}, "give the authorization server with --oauth-issuer"},
		{nil, []string{"--sandbox", "--policy", path, "--oauth-issuer", "http://127.0.0.1:1"}, "cannot read the metadata of OAuth issuer http://127.0.0.1:1"},
		{nil, []string{"--sandbox", "--policy", path, "--oauth-audience", "https://mcp.example.com/mcp"}, "--oauth-audience needs --oauth-issuer"},
	} {
		p, err := tryStartHTTP(t, tc.env, tc.args...)
		if err == nil || !strings.Contains(p.log(), tc.want) {
			t.Errorf("%v %v: %v, want a refusal saying %q\n%s", tc.env, tc.args, err, tc.want, p.log())
		}
	}
}

// TestHTTPOAuthIntrospectionFlags runs the binary as a resource server that
// introspects opaque access tokens at the test issuer's endpoint (named by
// its metadata), its client secret from the environment only.
func TestHTTPOAuthIntrospectionFlags(t *testing.T) {
	iss := oauthtest.New(t)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("principals:\n  - name: staff\n    oauth_scope: whmcs:read\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretEnv := "WHMCS_MCP_OAUTH_CLIENT_SECRET=" + oauthtest.ResourceServerSecret
	p := startHTTP(t, []string{"WHMCS_MCP_OAUTH_ISSUER=" + iss.URL, secretEnv},
		"--sandbox", "--policy", path, "--oauth-client-id", oauthtest.ResourceServerID)
	if !strings.Contains(p.log(), `"introspection_endpoint":"`+iss.URL+`/introspect"`) {
		t.Errorf("no word of introspection at start-up:\n%s", p.log())
	}
	token := iss.Opaque(iss.Claims(p.url+"/mcp", "whmcs:read"))
	if got := listNames(t, connectHTTP(t, "streamable", p.url, token, nil)); len(got) == 0 {
		t.Error("an opaque whmcs:read token lists no tool")
	}
	if strings.Contains(p.log(), token) || strings.Contains(p.log(), oauthtest.ResourceServerSecret) {
		t.Errorf("the log holds the token or the client secret:\n%s", p.log())
	}

	issuerEnv := "WHMCS_MCP_OAUTH_ISSUER=" + iss.URL
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{issuerEnv, "WHMCS_MCP_OAUTH_CLIENT_SECRET="}, []string{"--oauth-client-id", oauthtest.ResourceServerID}, "client secret at the issuer in WHMCS_MCP_OAUTH_CLIENT_SECRET"},
		{[]string{issuerEnv, secretEnv, "WHMCS_MCP_OAUTH_CLIENT_ID="}, []string{"--oauth-introspection-url", iss.URL + "/introspect"}, "--oauth-client-id"},
		{[]string{secretEnv}, []string{"--oauth-client-id", oauthtest.ResourceServerID}, "needs --oauth-issuer"},
		{[]string{issuerEnv, "WHMCS_MCP_OAUTH_CLIENT_SECRET=not-the-secret"}, []string{"--oauth-client-id", oauthtest.ResourceServerID}, `401 Unauthorized: check the client id "whmcs-mcp" and its secret`},
	} {
		p, err := tryStartHTTP(t, tc.env, append([]string{"--sandbox", "--policy", path}, tc.args...)...)
		if err == nil || !strings.Contains(p.log(), tc.want) {
			t.Errorf("%v %v: %v, want a refusal saying %q\n%s", tc.env, tc.args, err, tc.want, p.log())
		}
		if strings.Contains(p.log(), "not-the-secret") || strings.Contains(p.log(), oauthtest.ResourceServerSecret) {
			t.Errorf("%v %v: the log holds the client secret:\n%s", tc.env, tc.args, p.log())
		}
	}
}
