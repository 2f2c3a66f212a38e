package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/oauth"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// PathResourceMetadata serves the Protected Resource Metadata (RFC 9728);
// the path of the resource follows it in its path-suffixed form.
const PathResourceMetadata = "/.well-known/oauth-protected-resource"

// callerKey tells callers apart for rate limits and session ownership: a
// principal's name, and for an OAuth principal (which a scope may give
// many subjects) the token's subject too.
func callerKey(p *policy.Principal) string {
	if p.Subject == "" {
		return p.Name
	}
	return p.Name + " sub:" + p.Subject
}

// resourceMetadataURL returns where a resource's metadata is: the
// path-suffixed form of RFC 9728 §3.1.
func resourceMetadataURL(resource string) (string, string, error) {
	u, err := url.Parse(resource)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || u.RawQuery != "" {
		return "", "", fmt.Errorf("--oauth-audience %q: want this server's absolute URI, e.g. https://mcp.example.com/mcp", resource)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	md := *u
	md.Path, md.RawPath = PathResourceMetadata+path, ""
	return md.String(), path, nil
}

// serveResourceMetadata answers GET of the Protected Resource Metadata,
// to anyone and from any origin: it is public.
func (s *Server) serveResourceMetadata(w http.ResponseWriter, _ *http.Request) {
	v := s.opts.OAuth
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "max-age=300")
	json.NewEncoder(w).Encode(map[string]any{
		"resource":                 v.Audience(),
		"authorization_servers":    []string{v.Issuer()},
		"scopes_supported":         policy.Scopes,
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "whmcs-mcp",
	})
}

// challenge returns the WWW-Authenticate value of a refusal: params are
// the auth-params after the realm (and the resource metadata's URL, when
// the server is a resource server).
func (s *Server) challenge(params ...string) string {
	c := []string{`Bearer realm="whmcs-mcp"`}
	if s.opts.OAuth != nil {
		c = append(c, `resource_metadata="`+s.metadataURL+`"`)
	}
	return strings.Join(append(c, params...), ", ")
}

// authenticateOAuth authenticates an OAuth access token. It returns the
// token's principal, or answers the request (401 for a token that does not
// verify, 403 for one that verifies but gives no access) and returns nil.
func (s *Server) authenticateOAuth(w *responseWriter, r *http.Request, token string) *policy.Principal {
	tok, err := s.opts.OAuth.Verify(r.Context(), token)
	if err != nil {
		var refusal *oauth.Error
		reason := "the access token cannot be verified"
		kind, msg := "wrong_credentials", "HTTP request with an access token that does not verify refused"
		attrs := []any{"path", r.URL.Path}
		if errors.As(err, &refusal) {
			reason = refusal.Reason
			if refusal.Detail != "" {
				// What went wrong with the issuer (its introspection
				// endpoint down, this server's client credentials
				// refused) is the operator's to know, not the caller's,
				// and a kind of its own so that it is logged.
				kind, msg = "issuer_unavailable", "HTTP request with an opaque access token refused: the issuer's introspection endpoint cannot be asked"
				attrs = append(attrs, "detail", refusal.Detail)
			}
		}
		// A caller whose token could not be checked did nothing wrong:
		// only tokens that do not verify spend its address's budget, so
		// that an issuer's outage does not lock its hosts out after it.
		if key, ok := remoteKey(r.RemoteAddr); ok && kind != "issuer_unavailable" {
			s.authFailures.fail(key, time.Now())
		}
		s.reqRefusals.add(remoteString(r), kind, msg, append(attrs, "reason", reason)...)
		w.Header().Set("WWW-Authenticate", s.challenge(`error="invalid_token"`))
		refuse(w, r, http.StatusUnauthorized, "401 Unauthorized: "+reason)
		return nil
	}
	if !slices.Contains(tok.Scopes, policy.ScopeRead) && !slices.Contains(tok.Scopes, policy.ScopeWrite) {
		s.log.Warn("HTTP request with an access token without a whmcs scope refused", "sub", tok.Subject, "client_id", tok.ClientID, "path", r.URL.Path)
		s.insufficientScope(w, r, policy.ScopeRead, "the access token carries neither "+policy.ScopeRead+" nor "+policy.ScopeWrite)
		return nil
	}
	p := s.opts.Auth.OAuthPrincipal(tok.Subject, tok.ClientID, tok.Scopes)
	if p == nil {
		s.log.Warn("HTTP request with an access token that no principal of the policy file matches refused", "sub", tok.Subject, "client_id", tok.ClientID, "path", r.URL.Path)
		refuse(w, r, http.StatusForbidden, fmt.Sprintf("403 Forbidden: no principal of this server's policy file matches the access token's subject %q or its scopes", tok.Subject))
		return nil
	}
	return p
}

// insufficientScope answers 403 with the scope that the request needs.
func (s *Server) insufficientScope(w *responseWriter, r *http.Request, scope, reason string) {
	w.Header().Set("WWW-Authenticate", s.challenge(`error="insufficient_scope"`, `scope="`+scope+`"`))
	refuse(w, r, http.StatusForbidden, "403 Forbidden: insufficient_scope: "+reason)
}

// needsWriteScope reports whether a request of p calls a write tool that
// p's access token has no scope for.
func needsWriteScope(p *policy.Principal, msg message) bool {
	return p.Subject != "" && !slices.Contains(p.Scopes, policy.ScopeWrite) &&
		slices.Contains(policy.ToolNames, msg.tool) && policy.IsWrite(msg.tool)
}
