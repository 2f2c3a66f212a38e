package httpserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// A session id is a handle, not a credential: each one is bound to the
// principal that opened it, and a request of another principal on it is
// refused. That keeps one principal from reading another's event stream or
// answering another's confirmation question.

// owners binds the session ids of the streamable transport to principals.
// An entry idle for longer than ttl is forgotten (mcp-go forgets the
// session's state too); the id is then claimed again by the next user, which
// can only be its owner, since ids are random and never shown to others.
type owners struct {
	mu        sync.Mutex
	ttl       time.Duration
	m         map[string]*owned
	lastSweep time.Time
}

type owned struct {
	principal string
	seen      time.Time
}

func newOwners(ttl time.Duration) *owners {
	return &owners{ttl: ttl, m: map[string]*owned{}}
}

// claim binds id to principal if it is free, and reports whether principal
// owns it.
func (o *owners) claim(id, principal string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	if now.Sub(o.lastSweep) > time.Minute {
		for k, e := range o.m {
			if now.Sub(e.seen) > o.ttl {
				delete(o.m, k)
			}
		}
		o.lastSweep = now
	}
	e := o.m[id]
	if e == nil {
		o.m[id] = &owned{principal: principal, seen: now}
		return true
	}
	if e.principal != principal {
		return false
	}
	e.seen = now
	return true
}

// release forgets id (the session was deleted).
func (o *owners) release(id string) {
	o.mu.Lock()
	delete(o.m, id)
	o.mu.Unlock()
}

// sseBook keeps the SSE sessions: their owners, and the requests posted to
// each that still await their response on the session's stream.
type sseBook struct {
	mu      sync.Mutex
	owners  map[string]string              // session id -> principal
	pending map[string]map[string]struct{} // session id -> request ids
}

func newSSEBook() *sseBook {
	return &sseBook{owners: map[string]string{}, pending: map[string]map[string]struct{}{}}
}

// sseStream lets the guard learn the id mcp-go gives the session of a GET
// /sse, which it asks newSSESession for.
type sseStream struct {
	mu sync.Mutex
	id string
}

func (st *sseStream) sessionID() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.id
}

type sseStreamKey struct{}

func withSSEStream(ctx context.Context, st *sseStream) context.Context {
	return context.WithValue(ctx, sseStreamKey{}, st)
}

// newSSESession is mcp-go's session id generator for GET /sse: a random id,
// bound to the principal of the request.
func (s *Server) newSSESession(ctx context.Context, _ *http.Request) (string, error) {
	p := policy.PrincipalFrom(ctx)
	st, _ := ctx.Value(sseStreamKey{}).(*sseStream)
	if p == nil || st == nil {
		return "", errors.New("an SSE session needs an authenticated principal")
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b)
	s.sseSessions.mu.Lock()
	s.sseSessions.owners[id] = callerKey(p)
	s.sseSessions.mu.Unlock()
	st.mu.Lock()
	st.id = id
	st.mu.Unlock()
	return id, nil
}

// open returns the number of SSE sessions open.
func (b *sseBook) open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.owners)
}

// owner returns the principal that opened a session, or "".
func (b *sseBook) owner(id string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.owners[id]
}

// await records a request posted to a session, counting it in flight until
// its response is written on the stream; it reports whether it did (a
// duplicate id is not counted twice).
func (b *sseBook) await(session, id string, t *tracker) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, open := b.owners[session]; !open {
		return false
	}
	ids := b.pending[session]
	if ids == nil {
		ids = map[string]struct{}{}
		b.pending[session] = ids
	}
	if _, dup := ids[id]; dup {
		return false
	}
	ids[id] = struct{}{}
	t.add()
	return true
}

// settle stops counting a request of a session, if it still is.
func (b *sseBook) settle(session, id string, t *tracker) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.pending[session][id]; ok {
		delete(b.pending[session], id)
		t.done()
	}
}

// sseEventPrefix starts every event mcp-go writes on an SSE stream.
var sseEventPrefix = []byte("event: message\ndata:")

// delivered looks at one write on a session's stream: a JSON-RPC response
// to a pending request settles it.
func (b *sseBook) delivered(session string, p []byte, t *tracker) {
	data, ok := bytes.CutPrefix(p, sseEventPrefix)
	if !ok || session == "" {
		return
	}
	var resp struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
	}
	if json.Unmarshal(bytes.TrimSpace(data), &resp) != nil || resp.Method != "" || len(resp.ID) == 0 {
		return
	}
	b.settle(session, canonicalID(resp.ID), t)
}

// end forgets a session whose stream has ended; its pending requests will
// get no response (their tool calls, if running, are still counted by the
// tool middleware).
func (b *sseBook) end(session string, t *tracker) {
	if session == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.pending[session] {
		t.done()
	}
	delete(b.pending, session)
	delete(b.owners, session)
}
