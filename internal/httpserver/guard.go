package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// transport says which MCP endpoint a guarded request is for.
type transport int

const (
	transportStreamable transport = iota // /mcp
	transportSSEStream                   // GET /sse
	transportSSEMessage                  // POST /message
)

// corsAllowHeaders are the request headers a browser may send cross-origin.
const corsAllowHeaders = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID"

// guard puts every check in front of an MCP endpoint.
func (s *Server) guard(kind transport, next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := &responseWriter{ResponseWriter: rw, rc: http.NewResponseController(rw), timeout: s.opts.WriteTimeout}
		// The server's WriteTimeout bounds a whole response, which would cut
		// event streams and calls that wait (for WHMCS, for a person's
		// answer). Here each write is bounded instead, and whatever is left
		// to flush after the handler returns.
		w.rc.SetWriteDeadline(time.Time{})
		defer w.rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))

		if !s.checkOrigin(w, r) {
			return
		}
		if !s.withinAuthBudget(w, r) {
			return
		}
		principal := s.authenticate(w, r)
		if principal == nil {
			return
		}
		if !s.allow(w, r, principal) {
			return
		}
		msg, ok := s.readBody(w, r)
		if !ok {
			return
		}
		if needsWriteScope(principal, msg) {
			s.log.Warn("HTTP tool call without the write scope refused", "principal", principal.Name, "sub", principal.Subject, "tool", msg.tool)
			s.insufficientScope(w, r, policy.ScopeWrite, "the access token has no "+policy.ScopeWrite+" scope, which "+msg.tool+" needs")
			return
		}
		// Work counts as in flight from here until its handler returns (an
		// SSE request, until its response is on the stream): the shutdown
		// either waits for it or, having begun, is seen here and refuses it.
		if msg.work {
			s.inflight.add()
			defer s.inflight.done()
		}
		if s.draining.Load() && (msg.work || r.Method == http.MethodGet) {
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "5")
			http.Error(w, "503 Service Unavailable: the server is shutting down", http.StatusServiceUnavailable)
			return
		}
		r = r.WithContext(policy.WithPrincipal(r.Context(), principal))

		switch kind {
		case transportStreamable:
			s.serveStreamable(w, r, principal, msg, next)
		case transportSSEStream:
			s.serveSSEStream(w, r, next)
		case transportSSEMessage:
			s.serveSSEMessage(w, r, principal, msg, next)
		}
	})
}

// checkOrigin refuses browser requests from origins not allowed (DNS
// rebinding, cross-site requests) and answers CORS for the allowed ones.
// Requests without Origin (every non-browser client) pass.
func (s *Server) checkOrigin(w *responseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if r.Method == http.MethodOptions {
			refuse(w, r, http.StatusMethodNotAllowed, "405 Method Not Allowed")
			return false
		}
		return true
	}
	norm, err := normalizeOrigin(origin)
	if err != nil || !(s.origins[norm] || (onLoopback(r) && isLoopbackOrigin(norm))) {
		s.reqRefusals.add(remoteString(r), "origin", "HTTP request from an origin not allowed refused", "origin", origin, "path", r.URL.Path)
		refuse(w, r, http.StatusForbidden, fmt.Sprintf("403 Forbidden: origin %q is not allowed (--allowed-origins)", origin))
		return false
	}
	w.allowOrigin = origin
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, Retry-After")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// remoteString shows a request's address in logs as the per-address
// bounds count it.
func remoteString(r *http.Request) string {
	return keyString(remoteKey(r.RemoteAddr))
}

// withinAuthBudget refuses a request from an address that has spent its
// budget of authentication failures: 429 with Retry-After, before its
// token is even looked at, so that guessing tokens is throttled.
func (s *Server) withinAuthBudget(w *responseWriter, r *http.Request) bool {
	key, ok := remoteKey(r.RemoteAddr)
	if !ok {
		return true
	}
	wait := s.authFailures.wait(key, time.Now())
	if wait == 0 {
		return true
	}
	retry := max(1, int64(math.Ceil(wait.Seconds())))
	s.reqRefusals.add(keyString(key, ok), "throttled", "HTTP request refused: too many authentication failures from this address",
		"path", r.URL.Path, "retry_after_s", retry)
	w.Header().Set("Retry-After", strconv.FormatInt(retry, 10))
	refuse(w, r, http.StatusTooManyRequests, "429 Too Many Requests: too many authentication failures from this address")
	return false
}

// authenticate returns the request's principal, or answers 401 (403 for
// an OAuth access token that verifies but gives no access). Only the
// Authorization header counts: a token in the query string is never read.
// A wrong credential spends one of the address's authentication failures
// (a missing one guesses nothing). The token itself is never logged.
func (s *Server) authenticate(w *responseWriter, r *http.Request) *policy.Principal {
	values := r.Header.Values("Authorization")
	if len(values) == 0 && s.opts.Anonymous != nil {
		return s.opts.Anonymous
	}
	var params []string
	if len(values) > 0 {
		token, ok := bearerToken(values)
		if ok {
			if p := s.opts.Auth.Authenticate(token); p != nil {
				return p
			}
			if s.opts.OAuth != nil {
				return s.authenticateOAuth(w, r, token)
			}
		}
		params = append(params, `error="invalid_token"`)
		if key, ok := remoteKey(r.RemoteAddr); ok {
			s.authFailures.fail(key, time.Now())
		}
		s.reqRefusals.add(remoteString(r), "wrong_credentials", "HTTP request with a wrong bearer token refused", "path", r.URL.Path)
	} else {
		s.reqRefusals.add(remoteString(r), "no_credentials", "HTTP request without a bearer token refused", "path", r.URL.Path)
	}
	w.Header().Set("WWW-Authenticate", s.challenge(params...))
	refuse(w, r, http.StatusUnauthorized, "401 Unauthorized: send Authorization: Bearer TOKEN")
	return nil
}

// bearerToken reads the token of a single "Authorization: Bearer TOKEN".
func bearerToken(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.Trim(token, " \t")
	return token, token != ""
}

// allow applies the principal's rate limit: 429 with Retry-After above it.
func (s *Server) allow(w *responseWriter, r *http.Request, p *policy.Principal) bool {
	delay := s.wait(r, p)
	if delay == 0 {
		return true
	}
	retry := max(int64(math.Ceil(delay.Seconds())), 1)
	s.log.Warn("HTTP request over the principal's rate limit refused", "principal", p.Name, "path", r.URL.Path, "retry_after_s", retry)
	w.Header().Set("Retry-After", strconv.FormatInt(retry, 10))
	refuse(w, r, http.StatusTooManyRequests, "429 Too Many Requests: slow down")
	return false
}

// wait returns how long p must wait before this request: 0 to serve it now.
func (s *Server) wait(r *http.Request, p *policy.Principal) time.Duration {
	if s.opts.Limiter != nil {
		return s.opts.Limiter.Allow(r.Context(), callerKey(p))
	}
	lim := s.limiter(callerKey(p))
	now := time.Now()
	res := lim.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if res.OK() && delay == 0 {
		return 0
	}
	res.CancelAt(now)
	if !res.OK() {
		return time.Second
	}
	return delay
}

// unreadBodyGrace is how long the body of a request refused before it was
// read may still take to arrive. What is on its way is drained, so that the
// client reads the answer (closing a connection on unread data resets it),
// and no more is waited for.
const unreadBodyGrace = 500 * time.Millisecond

// refuse answers a request refused before its body is read, and closes an
// HTTP/1 connection after the answer without waiting for the body: net/http
// would otherwise drain up to 256 KiB of it after the answer, for as long as
// the client takes to send them. (Over HTTP/2 an unread body ends with its
// stream; the connection is not held.)
func refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
		if r.Body != nil && r.Body != http.NoBody {
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(unreadBodyGrace))
		}
	}
	http.Error(w, msg, status)
}

// message is what the guard knows of a request's JSON-RPC body.
type message struct {
	work bool   // a request or notification (has a method), or unreadable
	id   string // canonical JSON of a request's id; "" for anything else
	tool string // the tool a tools/call calls; "" for anything else
}

// readBody reads a POST body within the bounds of size (413) and time, and
// puts it back for the handler; other methods' bodies are only bounded.
func (s *Server) readBody(w *responseWriter, r *http.Request) (message, bool) {
	if r.Method != http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		return message{}, true
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		tooLarge(w, r, s.opts.MaxBodyBytes)
		return message{}, false
	}
	// The server's ReadTimeout bounds the time.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		tooLarge(w, r, s.opts.MaxBodyBytes)
		return message{}, false
	case err != nil:
		http.Error(w, "400 Bad Request: reading the body: "+err.Error(), http.StatusBadRequest)
		return message{}, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return parseMessage(body), true
}

func tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("413 Request Entity Too Large: the body may have at most %d bytes", limit))
}

// parseMessage classifies a JSON-RPC body. A batch or unreadable body counts
// as work (the handler answers it).
func parseMessage(body []byte) message {
	var env struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return message{work: true}
	}
	m := message{work: env.Method != ""}
	if env.Method == "tools/call" {
		var params struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(env.Params, &params) == nil {
			m.tool = params.Name
		}
	}
	if m.work && len(env.ID) > 0 && string(env.ID) != "null" {
		m.id = canonicalID(env.ID)
	}
	return m
}

// canonicalID re-encodes a JSON-RPC id the way mcp-go writes it back, so
// that a request and its response compare equal.
func canonicalID(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// serveStreamable serves /mcp: the session id belongs to the principal that
// first used it (normally, the one that initialized it).
func (s *Server) serveStreamable(w *responseWriter, r *http.Request, p *policy.Principal, msg message, next http.Handler) {
	if id := r.Header.Get(server.HeaderKeySessionID); id != "" {
		if !s.streamableOwners.claim(id, callerKey(p)) {
			s.log.Warn("HTTP request on another principal's session refused", "principal", p.Name, "transport", "streamable")
			http.Error(w, "403 Forbidden: the session belongs to another principal", http.StatusForbidden)
			return
		}
	}
	w.onHeader = func(h http.Header, status int) {
		if id := h.Get(server.HeaderKeySessionID); id != "" && status < 300 {
			s.streamableOwners.claim(id, callerKey(p))
		}
	}
	next.ServeHTTP(w, r)
	if r.Method == http.MethodDelete && w.status == http.StatusOK {
		s.streamableOwners.release(r.Header.Get(server.HeaderKeySessionID))
	}
}

// serveSSEStream serves GET /sse: newSSESession binds the session to the
// principal; the stream's writes are watched for the responses that calls
// in flight await.
func (s *Server) serveSSEStream(w *responseWriter, r *http.Request, next http.Handler) {
	st := &sseStream{}
	w.onWrite = func(p []byte) { s.sseSessions.delivered(st.sessionID(), p, &s.inflight) }
	defer func() { s.sseSessions.end(st.sessionID(), &s.inflight) }()
	next.ServeHTTP(w, r.WithContext(withSSEStream(r.Context(), st)))
}

// serveSSEMessage serves POST /message: only the principal that opened the
// session may post to it, and a request counts as in flight until its
// response is written on the session's stream.
func (s *Server) serveSSEMessage(w *responseWriter, r *http.Request, p *policy.Principal, msg message, next http.Handler) {
	sessionID := r.URL.Query().Get("sessionId")
	switch owner := s.sseSessions.owner(sessionID); {
	case owner == "":
		http.Error(w, "404 Not Found: no such session", http.StatusNotFound)
		return
	case owner != callerKey(p):
		s.log.Warn("HTTP request on another principal's session refused", "principal", p.Name, "transport", "sse")
		http.Error(w, "403 Forbidden: the session belongs to another principal", http.StatusForbidden)
		return
	}
	pending := msg.id != "" && s.sseSessions.await(sessionID, msg.id, &s.inflight)
	next.ServeHTTP(w, r)
	if pending && w.status != http.StatusAccepted {
		// Not dispatched: no response will come on the stream.
		s.sseSessions.settle(sessionID, msg.id, &s.inflight)
	}
}

// responseWriter gives every write and flush its own deadline (an event
// stream may live long, but each write must go through in time), fixes the CORS
// headers, and lets the guard see the status, headers and writes.
type responseWriter struct {
	http.ResponseWriter
	rc          *http.ResponseController
	timeout     time.Duration
	status      int
	allowOrigin string // the request's Origin when allowed; "" = none
	onHeader    func(h http.Header, status int)
	onWrite     func(p []byte)
}

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
		h := w.Header()
		// mcp-go's SSE handler sends Access-Control-Allow-Origin: * when
		// it does CORS itself; here CORS is the guard's alone.
		if w.allowOrigin != "" {
			h.Set("Access-Control-Allow-Origin", w.allowOrigin)
		} else {
			h.Del("Access-Control-Allow-Origin")
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") {
			h.Set("X-Accel-Buffering", "no") // proxies (nginx) must pass events at once
		}
		if w.onHeader != nil {
			w.onHeader(h, status)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	n, err := w.ResponseWriter.Write(p)
	w.rc.SetWriteDeadline(time.Time{})
	if w.onWrite != nil && err == nil {
		w.onWrite(p)
	}
	return n, err
}

// Flush implements http.Flusher, which both transports need to stream.
func (w *responseWriter) Flush() {
	w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	w.rc.Flush()
	w.rc.SetWriteDeadline(time.Time{})
}

// Unwrap lets http.ResponseController reach the connection.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
