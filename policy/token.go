package policy

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"
)

// MinSigningKeyBytes is the shortest signing key accepted.
const MinSigningKeyBytes = 32

// tokenPrefix versions the token format.
const tokenPrefix = "wmc1."

// The uses of a signed token: a confirmation_token the model sends back, or
// the requestState of an elicitation round trip.
const (
	useConfirm = "confirm"
	useElicit  = "elicit"
)

// Claims are what a token binds: one operation (tool and canonical
// arguments), one caller, the state the preview showed, an expiry and a
// random id that makes it single use.
type Claims struct {
	ID        string          `json:"jti"`
	Use       string          `json:"use"`
	Tool      string          `json:"tool"`
	Args      string          `json:"args"` // hex SHA-256 of the canonical arguments
	Principal string          `json:"sub"`
	State     json.RawMessage `json:"state,omitempty"` // the previewed values, re-checked at confirmation
	Expires   int64           `json:"exp"`             // Unix seconds
}

// Token errors; Verify's errors match them with errors.Is.
var (
	ErrTokenMalformed = errors.New("the confirmation token is malformed")
	ErrTokenForged    = errors.New("the confirmation token is not authentic (forged, altered, or signed by another key)")
)

// Signer signs and verifies tokens with HMAC-SHA256.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for key, which must have at least
// MinSigningKeyBytes bytes. A nil key means a random per-process key: tokens
// then do not survive a restart and are not accepted by other replicas.
func NewSigner(key []byte) (*Signer, error) {
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	if len(key) < MinSigningKeyBytes {
		return nil, errors.New("the signing key (WHMCS_MCP_SIGNING_KEY) must have at least 32 bytes")
	}
	return &Signer{key: key}, nil
}

// Sign returns the token for c, giving it a fresh random id first.
func (s *Signer) Sign(c *Claims) (string, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	c.ID = hex.EncodeToString(id)
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signed := tokenPrefix + base64.RawURLEncoding.EncodeToString(payload)
	return signed + "." + base64.RawURLEncoding.EncodeToString(s.mac(signed)), nil
}

func (s *Signer) mac(signed string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// strictBase64 decodes only what RawURLEncoding writes: its lenient decoder
// also takes a last character whose unused bits are set, so that one token
// could be written four ways.
var strictBase64 = base64.RawURLEncoding.Strict()

// notTokenRune reports a rune that no token has: only base64url and the dots
// between the parts. (The base64 decoders, Strict included, skip \r and \n,
// so a signature with a line break in it would verify.)
func notTokenRune(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
}

// Verify checks a token's signature and returns its claims. It does not
// check expiry, binding or single use: the caller does, to say which failed.
func (s *Signer) Verify(token string) (*Claims, error) {
	if len(token) > 8192 || !strings.HasPrefix(token, tokenPrefix) || strings.IndexFunc(token, notTokenRune) >= 0 {
		return nil, ErrTokenMalformed
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(tokenPrefix) {
		return nil, ErrTokenMalformed
	}
	signed, sig := token[:dot], token[dot+1:]
	mac, err := strictBase64.DecodeString(sig)
	if err != nil {
		return nil, ErrTokenMalformed
	}
	if !hmac.Equal(mac, s.mac(signed)) {
		return nil, ErrTokenForged
	}
	payload, err := strictBase64.DecodeString(signed[len(tokenPrefix):])
	if err != nil {
		return nil, ErrTokenMalformed
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.ID == "" {
		return nil, ErrTokenMalformed
	}
	return &c, nil
}

// ArgsDigest is the hex SHA-256 of an operation's canonical arguments: their
// JSON encoding, which is deterministic for the tools' argument structs
// (fields in declaration order, map keys sorted).
func ArgsDigest(args any) (string, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// UsedTokens remembers spent token ids so that each token is used once.
// Implementations must make Consume atomic; a shared implementation (e.g. a
// database) lets several replicas enforce single use together.
type UsedTokens interface {
	// Consume marks id used and reports whether it was unused before.
	// expires says when the record may be forgotten.
	Consume(ctx context.Context, id string, expires time.Time) (bool, error)
}

// MemoryUsedTokens is a UsedTokens for one process.
type MemoryUsedTokens struct {
	mu        sync.Mutex
	used      map[string]time.Time
	lastSweep time.Time
	now       func() time.Time
}

// NewMemoryUsedTokens returns an empty in-memory store.
func NewMemoryUsedTokens() *MemoryUsedTokens {
	return &MemoryUsedTokens{used: map[string]time.Time{}, now: time.Now}
}

// Consume implements UsedTokens.
func (m *MemoryUsedTokens) Consume(_ context.Context, id string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Sub(m.lastSweep) > time.Minute {
		for k, exp := range m.used {
			if now.After(exp) {
				delete(m.used, k)
			}
		}
		m.lastSweep = now
	}
	if _, seen := m.used[id]; seen {
		return false, nil
	}
	m.used[id] = expires
	return true, nil
}
