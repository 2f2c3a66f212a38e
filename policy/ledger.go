package policy

import (
	"context"
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

// The uses of a ledger entry: a confirmation_token the model sends back, or
// the requestState of an elicitation round trip.
const (
	useConfirm = "confirm"
	useElicit  = "elicit"
)

// tokenPrefix starts every token, so that one is recognised in logs and by
// secret scanners.
const tokenPrefix = "wmc_"

// MaxTokenLength is the longest token the server issues or accepts: a model
// copies tokens back, so they are short.
const MaxTokenLength = 40

// Entry is what one outstanding confirmation stands for. It lives in the
// ledger, never in the token.
type Entry struct {
	// Use is useConfirm or useElicit.
	Use string `json:"use"`
	// Tool and Args (hex SHA-256 of the canonical arguments) name the
	// operation.
	Tool string `json:"tool"`
	Args string `json:"args"`
	// Caller is the principal it was issued to, with its mode, tools and
	// clients.
	Caller string `json:"caller"`
	// Policy is the digest of the policy in force when it was issued.
	Policy string `json:"policy"`
	// State is what the preview showed, re-checked before the change runs.
	State json.RawMessage `json:"state,omitempty"`
	// Expires is when it stops confirming anything.
	Expires time.Time `json:"expires"`
}

// Ledger keeps the entries of outstanding confirmations, keyed by the
// SHA-256 of their token (so that whoever reads the ledger cannot use
// them). Take must be atomic: of any number of concurrent Takes of one key,
// on any number of replicas sharing the ledger, exactly one gets the entry.
type Ledger interface {
	// Put stores e under key, to be kept at least until keep.
	Put(ctx context.Context, key string, e *Entry, keep time.Time) error
	// Take returns the entry under key and marks it spent, atomically:
	// ErrSpent when it was taken before; nil when there is none (never
	// issued, or forgotten after it expired).
	Take(ctx context.Context, key string) (*Entry, error)
}

// ErrSpent is Take's error for an entry that was taken before.
var ErrSpent = errors.New("the token was already used")

// ErrLedgerUnavailable wraps a ledger failure: the guarded call is refused,
// since single use cannot be promised.
var ErrLedgerUnavailable = errors.New("the confirmation ledger cannot be reached, so no change can be confirmed now (reads still work); nothing was changed")

// newToken returns a fresh random token (28 characters) and its ledger key.
func newToken() (token, key string, err error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, ledgerKey(token), nil
}

// ledgerKey is the key of a token's entry: the hex SHA-256 of the token.
func ledgerKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// tokenID names a token in the audit log without being usable as one.
func tokenID(key string) string { return key[:16] }

// wellFormed reports whether s could be a token this server issued.
func wellFormed(s string) bool {
	if len(s) > MaxTokenLength || !strings.HasPrefix(s, tokenPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s[len(tokenPrefix):])
	return err == nil && !strings.ContainsAny(s, "\r\n")
}

// MemoryLedger is a Ledger in the memory of one process: tokens die with it.
type MemoryLedger struct {
	mu        sync.Mutex
	entries   map[string]memoryEntry
	lastSweep time.Time
	now       func() time.Time
}

type memoryEntry struct {
	entry *Entry // nil once taken
	keep  time.Time
}

// NewMemoryLedger returns an empty in-memory ledger.
func NewMemoryLedger() *MemoryLedger {
	return &MemoryLedger{entries: map[string]memoryEntry{}, now: time.Now}
}

// Put implements Ledger.
func (m *MemoryLedger) Put(_ context.Context, key string, e *Entry, keep time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	copied := *e
	m.entries[key] = memoryEntry{entry: &copied, keep: keep}
	return nil
}

// Take implements Ledger.
func (m *MemoryLedger) Take(_ context.Context, key string) (*Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	e, ok := m.entries[key]
	switch {
	case !ok:
		return nil, nil
	case e.entry == nil:
		return nil, ErrSpent
	}
	m.entries[key] = memoryEntry{keep: e.keep}
	return e.entry, nil
}

// sweep forgets entries past their keep time, at most once a minute.
func (m *MemoryLedger) sweep() {
	now := m.now()
	if now.Sub(m.lastSweep) < time.Minute {
		return
	}
	for k, e := range m.entries {
		if now.After(e.keep) {
			delete(m.entries, k)
		}
	}
	m.lastSweep = now
}
