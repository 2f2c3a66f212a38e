package policy

import (
	"context"
	"sync"
	"time"
)

// ApproverSession is an approver signed in on the approval pages.
type ApproverSession struct {
	Approver string `json:"approver"`
	// TokenSHA256 is the token_sha256 of the approver when they signed
	// in: the session ends when the policy no longer names that approver
	// with that token.
	TokenSHA256 string `json:"token_sha256"`
	// CSRF is the token every form of the session carries.
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
}

// SessionStore keeps approvers' sessions where every process serving the
// approval pages sees them (memory, an SQLite file, or Redis), so that an
// approver signed in on one replica is signed in on all. Sessions are keyed
// by the SHA-256 of their id, so that whoever reads the store cannot take
// one over.
type SessionStore interface {
	// PutSession stores a session until it expires.
	PutSession(ctx context.Context, key string, s *ApproverSession) error
	// Session returns the session under key, or nil when there is none or
	// it has expired.
	Session(ctx context.Context, key string) (*ApproverSession, error)
	// DeleteSession ends the session under key, if any.
	DeleteSession(ctx context.Context, key string) error
}

// maxMemorySessions bounds the sessions a MemorySessions keeps: the ones
// closest to their expiry go first.
const maxMemorySessions = 1000

// memorySessions is a SessionStore in the memory of one process.
type memorySessions struct {
	mu    sync.Mutex
	byKey map[string]ApproverSession
	now   func() time.Time
}

// NewMemorySessions returns an empty in-memory SessionStore: sessions live
// in this process only, and die with it.
func NewMemorySessions(now func() time.Time) SessionStore {
	if now == nil {
		now = time.Now
	}
	return &memorySessions{byKey: map[string]ApproverSession{}, now: now}
}

func (m *memorySessions) PutSession(_ context.Context, key string, s *ApproverSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.byKey) >= maxMemorySessions {
		oldest := ""
		for k, v := range m.byKey {
			if !now.Before(v.Expires) {
				delete(m.byKey, k)
			} else if oldest == "" || v.Expires.Before(m.byKey[oldest].Expires) {
				oldest = k
			}
		}
		if len(m.byKey) >= maxMemorySessions {
			delete(m.byKey, oldest)
		}
	}
	m.byKey[key] = *s
	return nil
}

func (m *memorySessions) Session(_ context.Context, key string) (*ApproverSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.byKey[key]
	if !ok || !m.now().Before(s.Expires) {
		return nil, nil
	}
	return &s, nil
}

func (m *memorySessions) DeleteSession(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byKey, key)
	return nil
}
