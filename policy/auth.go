package policy

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
)

// Names of the principals that do not come from the policy file.
const (
	// TokenPrincipal names the single full-access principal whose bearer
	// token is given by WHMCS_MCP_TOKEN.
	TokenPrincipal = "token"
	// AnonymousPrincipal names the caller of an HTTP server that runs
	// without any principal: only the sandbox on a loopback address may.
	AnonymousPrincipal = "anonymous"
)

// The OAuth scopes the server understands. An access token needs one of
// them; without ScopeWrite its principal is read-only.
const (
	// ScopeRead lets a token's principal use the read tools.
	ScopeRead = "whmcs:read"
	// ScopeWrite lets a token's principal use the write tools too.
	ScopeWrite = "whmcs:write"
)

// Scopes are the OAuth scopes the server understands, as its Protected
// Resource Metadata lists them.
var Scopes = []string{ScopeRead, ScopeWrite}

// MinBearerTokenBytes is the shortest WHMCS_MCP_TOKEN accepted. Tokens of
// the policy file are stored as digests and cannot be checked; make them as
// long (e.g. `openssl rand -hex 32`).
const MinBearerTokenBytes = 32

// TokenSHA256 returns the lowercase hex SHA-256 of a bearer token: the value
// of a principal's token_sha256 in the policy file.
func TokenSHA256(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticator maps bearer tokens to principals. It keeps only the tokens'
// SHA-256 digests and compares them in constant time. It also knows the
// principals that OAuth access tokens match (OAuthPrincipal), whose tokens
// are verified elsewhere.
type Authenticator struct {
	credentials []credential
	oauth       []*Principal // in the file's order
	oauthMatch  []PrincipalConfig
}

type credential struct {
	digest    [sha256.Size]byte
	principal *Principal
}

// NewAuthenticator returns the Authenticator of the principals of f and, if
// fullAccessToken is not empty, of the full-access principal
// TokenPrincipal: no mode, tool or client narrowing of its own (the file's
// mode and tools still apply to it, as to everyone).
func NewAuthenticator(f *File, fullAccessToken string) (*Authenticator, error) {
	if f == nil {
		f = Default()
	}
	a := &Authenticator{}
	names := map[string]bool{}
	for _, pc := range f.Principals {
		names[pc.Name] = true
		if pc.OAuth() {
			a.oauth = append(a.oauth, principalOf(pc))
			a.oauthMatch = append(a.oauthMatch, pc)
			continue
		}
		raw, err := hex.DecodeString(pc.TokenSHA256)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("principal %q: token_sha256 is not a hex SHA-256", pc.Name)
		}
		c := credential{principal: principalOf(pc)}
		copy(c.digest[:], raw)
		a.credentials = append(a.credentials, c)
	}
	if fullAccessToken != "" {
		if err := checkBearerToken(fullAccessToken); err != nil {
			return nil, fmt.Errorf("WHMCS_MCP_TOKEN: %w", err)
		}
		if names[TokenPrincipal] {
			return nil, fmt.Errorf("WHMCS_MCP_TOKEN: the policy file has a principal named %q, the name of the WHMCS_MCP_TOKEN principal; rename it", TokenPrincipal)
		}
		c := credential{digest: sha256.Sum256([]byte(fullAccessToken)), principal: &Principal{Name: TokenPrincipal}}
		for _, other := range a.credentials {
			if other.digest == c.digest {
				return nil, fmt.Errorf("WHMCS_MCP_TOKEN is also the token of principal %q; each principal needs its own", other.principal.Name)
			}
		}
		a.credentials = append(a.credentials, c)
	}
	return a, nil
}

// principalOf returns the principal a policy file entry describes.
func principalOf(pc PrincipalConfig) *Principal {
	return &Principal{
		Name:    pc.Name,
		Mode:    pc.Mode,
		Tools:   slices.Clone(pc.Tools),
		Clients: slices.Clone(pc.Clients),
	}
}

// checkBearerToken accepts tokens that fit an Authorization header as they
// are and are long enough to resist guessing.
func checkBearerToken(token string) error {
	for _, r := range token {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("must be printable ASCII without spaces (e.g. from `openssl rand -hex 32`)")
		}
	}
	if len(token) < MinBearerTokenBytes {
		return fmt.Errorf("must have at least %d characters, got %d (e.g. from `openssl rand -hex 32`)", MinBearerTokenBytes, len(token))
	}
	return nil
}

// Len returns the number of principals that can authenticate, by a bearer
// token or an OAuth access token.
func (a *Authenticator) Len() int {
	if a == nil {
		return 0
	}
	return len(a.credentials) + len(a.oauth)
}

// OAuthLen returns the number of principals that OAuth access tokens match.
func (a *Authenticator) OAuthLen() int {
	if a == nil {
		return 0
	}
	return len(a.oauth)
}

// Names returns the principals' names: the bearer tokens' in the order of
// the policy file (WHMCS_MCP_TOKEN's last), then the OAuth principals'.
func (a *Authenticator) Names() []string {
	if a == nil {
		return nil
	}
	names := make([]string, 0, a.Len())
	for _, c := range a.credentials {
		names = append(names, c.principal.Name)
	}
	for _, p := range a.oauth {
		names = append(names, p.Name)
	}
	return names
}

// OAuthPrincipal returns the principal of a verified OAuth access token of
// subject sub and client clientID carrying scopes, or nil when no
// principal matches it. A principal matches when its oauth_sub is sub and
// its oauth_scope is one of scopes (each where set); the first match in the
// file's order wins, the principals with an oauth_sub before those matched
// by a scope alone. The principal returned is the caller's own copy, which
// carries sub, clientID and scopes, and is read-only unless scopes include
// ScopeWrite.
func (a *Authenticator) OAuthPrincipal(sub, clientID string, scopes []string) *Principal {
	if a == nil || sub == "" {
		return nil
	}
	match := func(bySub bool) *Principal {
		for i, pc := range a.oauthMatch {
			if (pc.OAuthSub != "") != bySub || (bySub && pc.OAuthSub != sub) {
				continue
			}
			if pc.OAuthScope != "" && !slices.Contains(scopes, pc.OAuthScope) {
				continue
			}
			return a.oauth[i]
		}
		return nil
	}
	found := match(true)
	if found == nil {
		found = match(false)
	}
	if found == nil {
		return nil
	}
	p := *found
	p.Tools, p.Clients = slices.Clone(found.Tools), slices.Clone(found.Clients)
	p.Subject, p.ClientID, p.Scopes = sub, clientID, slices.Clone(scopes)
	if !slices.Contains(scopes, ScopeWrite) {
		p.Mode = ModeReadOnly
	}
	return &p
}

// Authenticate returns the principal whose token is token, or nil. Every
// stored digest is compared, in constant time, whatever matches: the time
// taken depends on the number of principals only.
func (a *Authenticator) Authenticate(token string) *Principal {
	if a == nil || token == "" {
		return nil
	}
	digest := sha256.Sum256([]byte(token))
	var found *Principal
	for i := range a.credentials {
		c := &a.credentials[i]
		if subtle.ConstantTimeCompare(digest[:], c.digest[:]) == 1 && found == nil {
			found = c.principal
		}
	}
	return found
}

// Anonymous returns the principal of an HTTP server without principals (the
// sandbox on a loopback address): full access within the file's mode and
// tools, and the clients of the file's default principal.
func Anonymous(f *File) *Principal {
	if f == nil {
		f = Default()
	}
	return &Principal{Name: AnonymousPrincipal, Clients: slices.Clone(f.Clients)}
}
