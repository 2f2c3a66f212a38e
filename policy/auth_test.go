package policy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

const (
	supportToken = "support-token-0123456789abcdef0123456789"
	readerToken  = "reader-token-0123456789abcdef0123456789ab"
	fullToken    = "full-access-token-0123456789abcdef012345"
)

func authFile(t *testing.T) *policy.File {
	t.Helper()
	yaml := fmt.Sprintf(`
principals:
  - name: support-bot
    token_sha256: %s
    clients: [2]
  - name: reporting
    token_sha256: %s
    mode: read-only
    tools: [get_clients_products]
`, policy.TokenSHA256(supportToken), policy.TokenSHA256(readerToken))
	f, err := policy.Parse([]byte(yaml), "test policy")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTokenSHA256IsLowercaseHex(t *testing.T) {
	sum := sha256.Sum256([]byte("abc"))
	if got, want := policy.TokenSHA256("abc"), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("TokenSHA256(abc) = %s, want %s", got, want)
	}
	// The digest `printf %s abc | sha256sum` prints.
	if got := policy.TokenSHA256("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("TokenSHA256(abc) = %s", got)
	}
}

func TestAuthenticatorFindsEachPrincipal(t *testing.T) {
	a, err := policy.NewAuthenticator(authFile(t), fullToken)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 3 {
		t.Fatalf("Len = %d, want 3", a.Len())
	}
	if got, want := a.Names(), []string{"support-bot", "reporting", policy.TokenPrincipal}; !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	support := a.Authenticate(supportToken)
	if support == nil || support.Name != "support-bot" || !slices.Equal(support.Clients, []int{2}) || support.Mode != policy.ModeReadWrite {
		t.Errorf("support token: %+v", support)
	}
	reader := a.Authenticate(readerToken)
	if reader == nil || reader.Name != "reporting" || reader.Mode != policy.ModeReadOnly || !slices.Equal(reader.Tools, []string{"get_clients_products"}) {
		t.Errorf("reader token: %+v", reader)
	}
	full := a.Authenticate(fullToken)
	if full == nil || full.Name != policy.TokenPrincipal || full.Scoped() || len(full.Tools) != 0 || full.Mode != "" {
		t.Errorf("full-access token: %+v", full)
	}
	for _, wrong := range []string{"", "x", supportToken + " ", strings.ToUpper(supportToken), supportToken[1:],
		policy.TokenSHA256(supportToken)} {
		if p := a.Authenticate(wrong); p != nil {
			t.Errorf("Authenticate(%q) = %s, want nobody", wrong, p.Name)
		}
	}
}

func TestAuthenticatorPrincipalsGovernThePolicy(t *testing.T) {
	f := authFile(t)
	a, err := policy.NewAuthenticator(f, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.New(f, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reader := policy.WithPrincipal(context.Background(), a.Authenticate(readerToken))
	if !p.Allowed(reader, "get_clients_products") || p.Allowed(reader, "get_products") || p.Allowed(reader, "update_client_product") {
		t.Error("the read-only principal with one tool sees other tools")
	}
	support := policy.WithPrincipal(context.Background(), a.Authenticate(supportToken))
	if !p.Allowed(support, "update_client_product") || !slices.Equal(p.Scope(support), []int{2}) {
		t.Errorf("support principal: scope %v", p.Scope(support))
	}
}

func TestAuthenticatorWithoutPrincipals(t *testing.T) {
	a, err := policy.NewAuthenticator(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 0 || a.Authenticate("anything") != nil || a.Authenticate("") != nil {
		t.Error("an empty authenticator accepts a token")
	}
	var none *policy.Authenticator
	if none.Len() != 0 || none.Authenticate(fullToken) != nil {
		t.Error("a nil authenticator accepts a token")
	}
}

func TestAuthenticatorRefusesBadFullAccessTokens(t *testing.T) {
	for token, want := range map[string]string{
		"short":                        "at least 32",
		fullToken + " with spaces":     "without spaces",
		fullToken + "\n":               "without spaces",
		"tökentökentökentökentökentök": "printable ASCII",
		supportToken:                   `principal "support-bot"`,
	} {
		_, err := policy.NewAuthenticator(authFile(t), token)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("WHMCS_MCP_TOKEN %q: error %v, want one saying %q", token, err, want)
		}
		if err != nil && strings.Contains(err.Error(), token) && len(token) > 8 {
			t.Errorf("the error repeats the token: %v", err)
		}
	}
	// The name of the WHMCS_MCP_TOKEN principal is reserved: a file
	// principal cannot take it, so the two are never confused.
	if _, err := policy.Parse([]byte("principals:\n  - name: token\n    token_sha256: "+policy.TokenSHA256(supportToken)+"\n"), "p"); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("a file principal named token: %v", err)
	}
}

func TestAnonymousPrincipal(t *testing.T) {
	f, err := policy.Parse([]byte("clients: [3]\n"), "p")
	if err != nil {
		t.Fatal(err)
	}
	p := policy.Anonymous(f)
	if p.Name != policy.AnonymousPrincipal || !slices.Equal(p.Clients, []int{3}) {
		t.Errorf("Anonymous = %+v", p)
	}
	if p := policy.Anonymous(nil); p.Scoped() {
		t.Errorf("Anonymous(nil) is scoped: %+v", p)
	}
}

func TestOAuthPrincipals(t *testing.T) {
	f, err := policy.Parse([]byte(fmt.Sprintf(`
principals:
  - name: staff
    oauth_scope: whmcs:read
    clients: [2]
  - name: billing-bot
    oauth_sub: bot-client
    tools: [get_clients_products, update_client_product]
  - name: alice-admin
    oauth_sub: alice
    oauth_scope: admin
  - name: support-bot
    token_sha256: %s
`, policy.TokenSHA256(supportToken))), "p")
	if err != nil {
		t.Fatal(err)
	}
	a, err := policy.NewAuthenticator(f, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 4 || a.OAuthLen() != 3 {
		t.Errorf("Len = %d, OAuthLen = %d, want 4 and 3", a.Len(), a.OAuthLen())
	}
	if got, want := a.Names(), []string{"support-bot", "staff", "billing-bot", "alice-admin"}; !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	rw := []string{policy.ScopeRead, policy.ScopeWrite}
	for _, tc := range []struct {
		sub    string
		scopes []string
		want   string // "" = nobody
		mode   string
	}{
		// A principal with an oauth_sub comes before those matched by a
		// scope alone, whatever the file's order.
		{"bot-client", rw, "billing-bot", policy.ModeReadWrite},
		{"bot-client", []string{policy.ScopeRead}, "billing-bot", policy.ModeReadOnly},
		{"bob", rw, "staff", policy.ModeReadWrite},
		{"bob", []string{policy.ScopeWrite}, "", ""},
		{"alice", []string{policy.ScopeRead, "admin"}, "alice-admin", policy.ModeReadOnly},
		{"alice", []string{policy.ScopeRead}, "staff", policy.ModeReadOnly},
		{"", rw, "", ""},
	} {
		p := a.OAuthPrincipal(tc.sub, "client-1", tc.scopes)
		switch {
		case tc.want == "" && p != nil:
			t.Errorf("sub %q scopes %v: principal %s, want none", tc.sub, tc.scopes, p.Name)
		case tc.want == "":
		case p == nil:
			t.Errorf("sub %q scopes %v: no principal, want %s", tc.sub, tc.scopes, tc.want)
		case p.Name != tc.want || p.Mode != tc.mode || p.Subject != tc.sub || p.ClientID != "client-1" || !slices.Equal(p.Scopes, tc.scopes):
			t.Errorf("sub %q scopes %v: %+v, want %s in mode %s", tc.sub, tc.scopes, p, tc.want, tc.mode)
		}
	}
	// Each caller gets its own copy: narrowing one changes no other.
	p1, p2 := a.OAuthPrincipal("bob", "", rw), a.OAuthPrincipal("carol", "", []string{policy.ScopeRead})
	if p1 == p2 || p1.Mode == p2.Mode || !slices.Equal(p1.Clients, []int{2}) {
		t.Errorf("two callers share a principal: %+v %+v", p1, p2)
	}
	// An OAuth principal has no bearer token.
	if p := a.Authenticate(""); p != nil {
		t.Errorf("the empty token authenticates %s", p.Name)
	}
}
