// Package faultwhmcs wraps a WHMCS API handler (in tests, the sandbox) and
// makes it misbehave the ways a real WHMCS install does: slow replies, no
// reply at all, connection resets, HTTP 500/503, an HTML maintenance page
// sent with HTTP 200, truncated and malformed JSON, WHMCS's "Malformed UTF-8"
// error and its 403 "Invalid IP" refusal.
//
// It also counts and records every request that reaches it, so that a test
// can prove that a write was sent exactly once (never retried), and it can
// call a hook as each request arrives (a crash test kills the MCP server
// there, while its write is in flight).
//
// A Rule picks the fault, the actions it applies to, whether the wrapped
// handler serves the request first (Pass: the write happens, then its reply
// is lost or corrupted) and how many requests it hits. Rules can change while
// requests are served; Clear makes WHMCS healthy again.
package faultwhmcs

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is a way WHMCS misbehaves.
type Fault string

// The faults.
const (
	// None serves the request normally.
	None Fault = ""
	// Latency waits Rule.Delay, then serves the request normally.
	Latency Fault = "latency"
	// Timeout never answers: it holds the request until the client gives
	// up (closes the connection), or until Clear or Close.
	Timeout Fault = "timeout"
	// Reset closes the connection with a TCP reset instead of replying.
	Reset Fault = "reset"
	// HTTP500 answers 500 Internal Server Error with an HTML error page.
	HTTP500 Fault = "http500"
	// HTTP503 answers 503 Service Unavailable (Retry-After: 120) with a
	// short HTML page, as a load balancer in front of WHMCS does.
	HTTP503 Fault = "http503"
	// Maintenance answers HTTP 200 with WHMCS's HTML maintenance page.
	Maintenance Fault = "maintenance"
	// Truncated serves the request, then sends only the first half of the
	// reply (with a matching Content-Length): always Pass.
	Truncated Fault = "truncated"
	// MalformedJSON serves the request, then sends its reply followed by a
	// PHP notice, as a WHMCS with display_errors on does: always Pass.
	MalformedJSON Fault = "malformed_json"
	// MalformedUTF8 answers WHMCS's error for a reply json_encode could not
	// encode: {"result":"error","message":"Malformed UTF-8 characters,
	// possibly incorrectly encoded"}.
	MalformedUTF8 Fault = "malformed_utf8"
	// InvalidIP answers 403 {"result":"error","message":"Invalid IP 1.2.3.4"}.
	InvalidIP Fault = "invalid_ip"
)

// Faults lists every fault but None and Latency.
var Faults = []Fault{Timeout, Reset, HTTP500, HTTP503, Maintenance, Truncated, MalformedJSON, MalformedUTF8, InvalidIP}

// Texts of the canned replies.
const (
	MalformedUTF8Message = "Malformed UTF-8 characters, possibly incorrectly encoded"
	InvalidIPMessage     = "Invalid IP 1.2.3.4"
	MaintenancePage      = `<!DOCTYPE html><html><head><title>Down for Maintenance</title></head>` +
		`<body><h1>Down for Maintenance</h1><p>We are currently performing maintenance and will be back shortly.</p></body></html>`
	ErrorPage500 = `<html><head><title>500 Internal Server Error</title></head>` +
		`<body><h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>`
	ErrorPage503 = `<html><head><title>503 Service Unavailable</title></head>` +
		`<body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>`
	PHPNotice = "<br />\n<b>Notice</b>:  Undefined index: pid in <b>/var/www/whmcs/includes/api.php</b> on line <b>42</b><br />\n"
)

// Rule says which requests misbehave and how.
type Rule struct {
	Fault Fault
	// Actions limits the rule to these WHMCS actions (any case); empty
	// means every action.
	Actions []string
	// Delay is Latency's wait.
	Delay time.Duration
	// Pass lets the wrapped handler serve the request before the fault
	// hits its reply, so that a write is carried out and the client never
	// learns it. Truncated and MalformedJSON always pass.
	Pass bool
	// Times is how many matching requests the rule hits; 0 means every one
	// until Clear.
	Times int
	// Match, if set, narrows the rule further: it hits only the requests
	// for which Match returns true (e.g. UpgradeProduct without calconly).
	Match func(Request) bool
}

func (r Rule) matches(req *Request) bool {
	if r.Match != nil && !r.Match(*req) {
		return false
	}
	if len(r.Actions) == 0 {
		return true
	}
	for _, a := range r.Actions {
		if strings.EqualFold(a, req.Action) {
			return true
		}
	}
	return false
}

// IsWrite reports whether a request is a write: UpdateClientProduct,
// UpdateClientAddon, AddInvoicePayment, or UpgradeProduct without calconly.
func IsWrite(r Request) bool {
	switch strings.ToLower(r.Action) {
	case "updateclientproduct", "updateclientaddon", "addinvoicepayment":
		return true
	case "upgradeproduct":
		c := r.Form.Get("calconly")
		return c == "" || c == "0" || strings.EqualFold(c, "false")
	}
	return false
}

// Request is one request that reached the handler.
type Request struct {
	// Action is the WHMCS action as sent.
	Action string
	// Form holds the request's fields without the credentials (identifier,
	// secret, accesskey, username, password).
	Form url.Values
	// Fault is the fault applied to it (None when served normally).
	Fault Fault
	// Passed reports whether the wrapped handler served it; Status is the
	// HTTP status that handler answered (0 when it did not serve it).
	Passed bool
	Status int
}

// WHMCS is an http.Handler that wraps another one with faults.
type WHMCS struct {
	next http.Handler

	mu       sync.Mutex
	rule     Rule
	hits     int           // requests the current rule hit
	release  chan struct{} // closed to let held (Timeout) requests go
	requests []*Request
	hook     func(Request)
	closed   bool
	inflight int
	idle     *sync.Cond // signalled when inflight drops to 0
}

// New wraps next, which serves normally until a rule is set.
func New(next http.Handler) *WHMCS {
	h := &WHMCS{next: next, release: make(chan struct{})}
	h.idle = sync.NewCond(&h.mu)
	return h
}

// Wait returns once no request is being served: what reached the handler
// has been carried out (or failed) by then. A request held by Timeout is
// being served until its client gives up, or Clear or Close.
func (h *WHMCS) Wait() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.inflight > 0 {
		h.idle.Wait()
	}
}

// Set makes the handler misbehave by r from the next request on.
func (h *WHMCS) Set(r Rule) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rule, h.hits = r, 0
}

// Clear makes the handler healthy again and lets held requests go (they
// then get no reply: their connection is closed).
func (h *WHMCS) Clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rule, h.hits = Rule{}, 0
	h.letGo()
}

// Close lets every held request go, now and later; call it before closing
// the HTTP server, which waits for its handlers.
func (h *WHMCS) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.letGo()
}

func (h *WHMCS) letGo() {
	select {
	case <-h.release: // already let go (after Close)
	default:
		close(h.release)
	}
	if !h.closed {
		h.release = make(chan struct{})
	}
}

// OnRequest sets a function called with each request as it arrives, before
// any fault or the wrapped handler; nil removes it. It runs on the request's
// goroutine, so the request waits for it.
func (h *WHMCS) OnRequest(fn func(Request)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hook = fn
}

// Requests returns every request that reached the handler so far, in order
// of arrival.
func (h *WHMCS) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Request, len(h.requests))
	for i, r := range h.requests {
		out[i] = *r
	}
	return out
}

// Count returns how many requests for action (any case) reached the handler.
func (h *WHMCS) Count(action string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.requests {
		if strings.EqualFold(r.Action, action) {
			n++
		}
	}
	return n
}

var credentialFields = []string{"identifier", "secret", "accesskey", "username", "password"}

// ServeHTTP implements http.Handler.
func (h *WHMCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body)) // the wrapped handler judges malformed bodies
	for _, k := range credentialFields {
		form.Del(k)
	}
	req := &Request{Action: form.Get("action"), Form: form}

	h.mu.Lock()
	rule := h.rule
	if rule.Fault != None && rule.matches(req) && (rule.Times == 0 || h.hits < rule.Times) {
		h.hits++
		req.Fault = rule.Fault
	}
	h.requests = append(h.requests, req)
	hook, release := h.hook, h.release
	h.inflight++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inflight--
		if h.inflight == 0 {
			h.idle.Broadcast()
		}
		h.mu.Unlock()
	}()
	// WHMCS (PHP) finishes a request it started even when the client goes
	// away: the wrapped handler does not see the connection close.
	served := r.WithContext(context.WithoutCancel(r.Context()))
	if hook != nil {
		hook(*req)
	}

	fault := req.Fault
	pass := rule.Pass || fault == Truncated || fault == MalformedJSON
	if fault == None || fault == Latency {
		pass = false
	}
	var reply *httptest.ResponseRecorder
	if pass {
		reply = httptest.NewRecorder()
		h.next.ServeHTTP(reply, served)
		h.mu.Lock()
		req.Passed, req.Status = true, reply.Code
		h.mu.Unlock()
	}

	switch fault {
	case None, Latency:
		if fault == Latency {
			select {
			case <-time.After(rule.Delay):
			case <-r.Context().Done():
				return
			}
		}
		rec := &statusRecorder{ResponseWriter: w}
		h.next.ServeHTTP(rec, served)
		h.mu.Lock()
		req.Passed, req.Status = true, rec.status
		h.mu.Unlock()
	case Timeout:
		select {
		case <-r.Context().Done():
		case <-release:
		}
		reset(w)
	case Reset:
		reset(w)
	case HTTP500:
		page(w, http.StatusInternalServerError, "text/html; charset=utf-8", ErrorPage500)
	case HTTP503:
		w.Header().Set("Retry-After", "120")
		page(w, http.StatusServiceUnavailable, "text/html; charset=utf-8", ErrorPage503)
	case Maintenance:
		page(w, http.StatusOK, "text/html; charset=utf-8", MaintenancePage)
	case Truncated:
		b := reply.Body.Bytes()
		page(w, reply.Code, reply.Header().Get("Content-Type"), string(b[:len(b)/2]))
	case MalformedJSON:
		page(w, reply.Code, reply.Header().Get("Content-Type"), reply.Body.String()+PHPNotice)
	case MalformedUTF8:
		page(w, http.StatusOK, "application/json", `{"result":"error","message":"`+MalformedUTF8Message+`"}`)
	case InvalidIP:
		page(w, http.StatusForbidden, "application/json", `{"result":"error","message":"`+InvalidIPMessage+`"}`)
	default:
		http.Error(w, "faultwhmcs: unknown fault "+string(fault), http.StatusInternalServerError)
	}
}

// page writes a complete reply.
func page(w http.ResponseWriter, status int, contentType, body string) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// reset closes the request's connection with a TCP reset (SO_LINGER 0),
// without a byte of reply.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// statusRecorder remembers the status the wrapped handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}
