package policy

import (
	"context"
	"slices"
)

// Principal is a caller: the local (stdio) user, or an HTTP client
// authenticated by its bearer token or its OAuth access token. Its mode,
// tools and clients narrow what the policy file allows everyone.
type Principal struct {
	Name    string
	Mode    string   // ModeReadWrite or ModeReadOnly; "" = read-write
	Tools   []string // allowlist; empty = every tool the mode allows
	Clients []int    // client ids in scope; empty = all
	// Subject and ClientID are the sub and client id of the OAuth access
	// token the caller presented; empty for the other callers. A
	// confirmation is bound to them too.
	Subject  string `json:",omitempty"`
	ClientID string `json:",omitempty"`
	// Scopes are the OAuth access token's scopes; nil for the other callers.
	Scopes []string `json:"-"`
}

// Scoped reports whether the principal is limited to some clients.
func (p *Principal) Scoped() bool { return len(p.Clients) > 0 }

// InScope reports whether the principal may see and touch a client's records.
func (p *Principal) InScope(clientID int) bool {
	return !p.Scoped() || slices.Contains(p.Clients, clientID)
}

type principalKey struct{}

// WithPrincipal returns a context carrying the authenticated caller.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller stored by WithPrincipal, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
