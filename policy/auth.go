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
// SHA-256 digests and compares them in constant time.
type Authenticator struct {
	credentials []credential
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
		raw, err := hex.DecodeString(pc.TokenSHA256)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("principal %q: token_sha256 is not a hex SHA-256", pc.Name)
		}
		c := credential{principal: &Principal{
			Name:    pc.Name,
			Mode:    pc.Mode,
			Tools:   slices.Clone(pc.Tools),
			Clients: slices.Clone(pc.Clients),
		}}
		copy(c.digest[:], raw)
		a.credentials = append(a.credentials, c)
		names[pc.Name] = true
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

// Len returns the number of principals that can authenticate.
func (a *Authenticator) Len() int {
	if a == nil {
		return 0
	}
	return len(a.credentials)
}

// Names returns the principals' names, in the order of the policy file
// (WHMCS_MCP_TOKEN's last).
func (a *Authenticator) Names() []string {
	if a == nil {
		return nil
	}
	names := make([]string, len(a.credentials))
	for i, c := range a.credentials {
		names[i] = c.principal.Name
	}
	return names
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
