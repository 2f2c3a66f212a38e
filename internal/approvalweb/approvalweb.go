// Package approvalweb serves the approval pages: where a member of staff
// signs in with their approver token, sees the changes that wait for an
// approval, and approves or rejects them. Neither the model nor the MCP
// host can answer here: the pages take no MCP credential, and every
// decision needs a signed-in approver, a same-origin form and its CSRF
// token.
//
// Pages are rendered on the server (html/template), work without
// JavaScript and on a phone. Every response forbids framing and scripts
// (Content-Security-Policy, X-Frame-Options), and is not cached.
// Sessions live in the state replicas share (--state: SQLite or Redis), or
// in this process' memory.
package approvalweb

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// Paths served.
const (
	// PathApprovals lists the requests; PathApprovals+"/{id}" shows one.
	PathApprovals = "/approvals"
	pathSignIn    = PathApprovals + "/sign-in"
	pathSignOut   = PathApprovals + "/sign-out"
	pathStyle     = PathApprovals + "/style.css"
)

// Defaults.
const (
	// DefaultSessionTTL is how long a sign-in lasts.
	DefaultSessionTTL = 12 * time.Hour
	// signInBurst failed sign-ins an address may make at once, then one
	// every signInEvery.
	signInBurst = 10
	signInEvery = 10 * time.Second
	// maxFormBytes bounds a form's body.
	maxFormBytes = 16 << 10
)

// contentSecurityPolicy allows the page's own stylesheet and forms, and
// nothing else: no script, no frame, no other origin.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Approvals is what the pages read and decide; *policy.Policy implements it.
type Approvals interface {
	ApprovalRequests(ctx context.Context) ([]*policy.Approval, error)
	ApprovalRequest(ctx context.Context, id string) (*policy.Approval, error)
	LivePreview(ctx context.Context, a *policy.Approval) (*tools.Preview, string, error)
	Decide(ctx context.Context, id, approver string, approve bool, reason string) (*policy.Approval, error)
	SignIn(token string) (string, bool)
	IsApprover(name, tokenSHA256 string) bool
}

// Options configure the pages.
type Options struct {
	Approvals Approvals
	// IsMCPToken reports whether a token is an MCP principal's bearer
	// token: such a token never signs in, even if it were an approver's.
	IsMCPToken func(token string) bool
	// Secure marks the cookies Secure (and __Host-): set it when the pages
	// are served over TLS, directly or behind a TLS-terminating proxy.
	Secure bool
	// SessionTTL is how long a sign-in lasts (0 = DefaultSessionTTL).
	SessionTTL time.Duration
	// Sessions keeps the signed-in approvers' sessions: the state shared by
	// replicas (SQLite, Redis) so that a sign-in holds on all of them; nil
	// means this process' memory.
	Sessions policy.SessionStore
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the approval pages under PathApprovals.
type Handler struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	sessions policy.SessionStore
	ttl      time.Duration
	failures *httpserver.FailureBudget
	csrf     *http.CrossOriginProtection
}

//go:embed templates/*.html templates/style.css
var assets embed.FS

// pages are the templates, parsed on first use (not at start-up: most
// servers never serve a page).
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"describe": tools.Describe,
		"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	}).ParseFS(assets, "templates/*.html"))
})

// New returns the pages' handler.
func New(opts Options) *Handler {
	h := &Handler{opts: opts, log: opts.Logger, now: opts.Now, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	ttl := opts.SessionTTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	h.ttl, h.sessions = ttl, opts.Sessions
	if h.sessions == nil {
		h.sessions = policy.NewMemorySessions(h.now)
	}
	h.failures = httpserver.NewFailureBudget(rate.Every(signInEvery), signInBurst)
	h.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.log.Warn("approval pages: cross-site request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		h.plain(w, http.StatusForbidden, "Refused: a cross-site request. Use the form on this site.")
	}))
	h.mux.HandleFunc("GET "+pathStyle, h.style)
	h.mux.HandleFunc("GET "+pathSignIn, h.signInForm)
	h.mux.HandleFunc("POST "+pathSignIn, h.signIn)
	h.mux.HandleFunc("POST "+pathSignOut, h.signOut)
	h.mux.HandleFunc("GET "+PathApprovals, h.list)
	h.mux.HandleFunc("GET "+PathApprovals+"/{$}", h.list)
	h.mux.HandleFunc("GET "+PathApprovals+"/{id}", h.detail)
	h.mux.HandleFunc("POST "+PathApprovals+"/{id}", h.decide)
	return h
}

// ServeHTTP serves a page with the headers every page carries; POSTs must
// come from the pages' own origin.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	h.csrf.Handler(h.mux).ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Title    string
	Approver string
	CSRF     string
	Error    string
	Notice   string
	// list
	Pending, Recent []*policy.Approval
	// detail
	Request *policy.Approval
	Live    *tools.Preview
	Changed string
	LiveErr string
	Own     bool
	CanAct  bool
	// sign-in
	Next string
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, p *page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages().ExecuteTemplate(w, name, p); err != nil {
		h.log.Error("approval pages: rendering failed", "page", name, "err", err)
	}
}

func (h *Handler) plain(w http.ResponseWriter, status int, msg string) {
	h.render(w, status, "message.html", &page{Title: http.StatusText(status), Error: msg})
}

func (h *Handler) style(w http.ResponseWriter, _ *http.Request) {
	css, _ := assets.ReadFile("templates/style.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write(css)
}

// cookieName is the name of cookie base: "signin" carries the sign-in
// form's CSRF token (double submit: the form's hidden field must match it),
// "session" the signed-in approver's session id.
func (h *Handler) cookieName(base string) string {
	if h.opts.Secure {
		return "__Host-whmcs-mcp-" + base
	}
	return "whmcs-mcp-" + base
}

func (h *Handler) setCookie(w http.ResponseWriter, base, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.opts.Secure, SameSite: http.SameSiteStrictMode})
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request) {
	token := randomToken()
	h.setCookie(w, "signin", token, 900)
	h.render(w, http.StatusOK, "signin.html", &page{Title: "Sign in", CSRF: token, Next: safeNext(r.URL.Query().Get("next"))})
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	addr := clientAddr(r)
	if wait := h.failures.Wait(r.RemoteAddr); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		h.plain(w, http.StatusTooManyRequests, "Too many failed sign-ins from your address; wait a little and try again.")
		return
	}
	cookie, err := r.Cookie(h.cookieName("signin"))
	if err := r.ParseForm(); err != nil {
		h.plain(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	retry := func(status int, msg string) {
		token := randomToken()
		h.setCookie(w, "signin", token, 900)
		h.render(w, status, "signin.html", &page{Title: "Sign in", CSRF: token, Error: msg, Next: next})
	}
	if err != nil || !sameSecret(cookie.Value, r.PostForm.Get("csrf")) {
		retry(http.StatusForbidden, "The form expired or was not sent from this page; sign in again.")
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if h.opts.IsMCPToken != nil && h.opts.IsMCPToken(token) {
		h.failures.Fail(r.RemoteAddr)
		h.log.Warn("approval pages: sign-in with an MCP principal's bearer token refused", "addr", addr)
		retry(http.StatusUnauthorized, "This is an MCP client's bearer token, not an approver's: approvers sign in with a token of their own.")
		return
	}
	name, ok := h.opts.Approvals.SignIn(token)
	if !ok {
		h.failures.Fail(r.RemoteAddr)
		h.log.Warn("approval pages: sign-in refused: not an approver's token", "addr", addr)
		retry(http.StatusUnauthorized, "That is not an approver's token.")
		return
	}
	id, err := h.createSession(r.Context(), name, policy.TokenSHA256(token))
	if err != nil {
		h.log.Error("approval pages: the session store cannot be written", "err", err)
		h.plain(w, http.StatusServiceUnavailable, "Signing in is not possible now (the session store cannot be reached); try again shortly.")
		return
	}
	h.setCookie(w, "signin", "", -1)
	h.setCookie(w, "session", id, int(h.ttl/time.Second))
	h.log.Info("approval pages: approver signed in", "approver", name, "addr", addr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if s, _ := h.session(r); s != nil && h.formCSRF(r, s) {
		if err := h.sessions.DeleteSession(r.Context(), sessionKey(s.id)); err != nil {
			h.log.Error("approval pages: the session store cannot be written", "err", err)
		}
	}
	h.setCookie(w, "session", "", -1)
	http.Redirect(w, r, pathSignIn, http.StatusSeeOther)
}

// session returns the signed-in approver's session, or nil; an error when
// the session store cannot be read.
func (h *Handler) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(h.cookieName("session"))
	if err != nil || c.Value == "" {
		return nil, nil
	}
	s, err := h.sessions.Session(r.Context(), sessionKey(c.Value))
	if err != nil || s == nil {
		return nil, err
	}
	if !h.opts.Approvals.IsApprover(s.Approver, s.TokenSHA256) {
		return nil, nil // removed from the policy, or given another token, since signing in
	}
	return &session{id: c.Value, approver: s.Approver, csrf: s.CSRF}, nil
}

// requireSession returns the session, or answers the request: a redirect to
// the sign-in form, or 503 when the session store cannot be read.
func (h *Handler) requireSession(w http.ResponseWriter, r *http.Request) *session {
	s, err := h.session(r)
	switch {
	case err != nil:
		h.log.Error("approval pages: the session store cannot be read", "err", err)
		h.plain(w, http.StatusServiceUnavailable, "Your sign-in cannot be checked now (the session store cannot be reached); try again shortly.")
	case s == nil:
		http.Redirect(w, r, pathSignIn+"?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
	}
	return s
}

// createSession signs approver in (with the token of that digest) and
// returns the new session's id.
func (h *Handler) createSession(ctx context.Context, approver, digest string) (string, error) {
	id := randomToken()
	err := h.sessions.PutSession(ctx, sessionKey(id), &policy.ApproverSession{Approver: approver, TokenSHA256: digest,
		CSRF: randomToken(), Expires: h.now().Add(h.ttl)})
	return id, err
}

// sessionKey is where a session is kept: the SHA-256 of its id.
func sessionKey(id string) string { return policy.TokenSHA256(id) }

// formCSRF reports whether a parsed POST carries the session's CSRF token.
func (h *Handler) formCSRF(r *http.Request, s *session) bool {
	if err := r.ParseForm(); err != nil {
		return false
	}
	return sameSecret(s.csrf, r.PostForm.Get("csrf"))
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	s := h.requireSession(w, r)
	if s == nil {
		return
	}
	all, err := h.opts.Approvals.ApprovalRequests(r.Context())
	if err != nil {
		h.log.Error("approval pages: the approval store cannot be read", "err", err)
		h.plain(w, http.StatusServiceUnavailable, "The approval requests cannot be read now; try again shortly.")
		return
	}
	p := &page{Title: "Approvals", Approver: s.approver, CSRF: s.csrf}
	now := h.now()
	for _, a := range all {
		if a.Open(now) {
			p.Pending = append(p.Pending, a)
		} else {
			p.Recent = append(p.Recent, a)
		}
	}
	h.render(w, http.StatusOK, "list.html", p)
}

func (h *Handler) detail(w http.ResponseWriter, r *http.Request) {
	s := h.requireSession(w, r)
	if s == nil {
		return
	}
	h.showRequest(w, r, s, http.StatusOK, "", "")
}

// showRequest renders request {id}, its preview re-read live from WHMCS.
func (h *Handler) showRequest(w http.ResponseWriter, r *http.Request, s *session, status int, notice, problem string) {
	a, err := h.opts.Approvals.ApprovalRequest(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, policy.ErrApprovalNotFound):
		h.plain(w, http.StatusNotFound, "No such approval request.")
		return
	case err != nil:
		h.log.Error("approval pages: the approval store cannot be read", "err", err)
		h.plain(w, http.StatusServiceUnavailable, "The approval request cannot be read now; try again shortly.")
		return
	}
	p := &page{Title: "Approval request", Approver: s.approver, CSRF: s.csrf, Request: a, Notice: notice, Error: problem,
		Own: a.Principal == s.approver}
	if a.Open(h.now()) {
		live, changed, err := h.opts.Approvals.LivePreview(r.Context(), a)
		if err != nil {
			p.LiveErr = err.Error()
		}
		p.Live, p.Changed = live, changed
		p.CanAct = !p.Own
	}
	h.render(w, status, "detail.html", p)
}

func (h *Handler) decide(w http.ResponseWriter, r *http.Request) {
	s, err := h.session(r)
	if err != nil {
		h.log.Error("approval pages: the session store cannot be read", "err", err)
		h.plain(w, http.StatusServiceUnavailable, "Your sign-in cannot be checked now (the session store cannot be reached); nothing was decided. Try again shortly.")
		return
	}
	if s == nil {
		h.plain(w, http.StatusUnauthorized, "Sign in first: only an approver can decide.")
		return
	}
	if !h.formCSRF(r, s) {
		h.log.Warn("approval pages: a decision without the session's CSRF token refused", "approver", s.approver)
		h.plain(w, http.StatusForbidden, "Refused: the form's security token is missing or wrong. Reload the page and try again.")
		return
	}
	var approve bool
	switch r.PostForm.Get("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		h.plain(w, http.StatusBadRequest, "Choose Approve or Reject.")
		return
	}
	a, err := h.opts.Approvals.Decide(r.Context(), r.PathValue("id"), s.approver, approve, r.PostForm.Get("reason"))
	var refused *policy.ApprovalError
	switch {
	case errors.Is(err, policy.ErrApprovalNotFound):
		h.plain(w, http.StatusNotFound, "No such approval request.")
	case errors.As(err, &refused):
		h.showRequest(w, r, s, http.StatusConflict, "", refused.Reason)
	case err != nil:
		h.log.Error("approval pages: the decision could not be recorded", "err", err)
		h.showRequest(w, r, s, http.StatusServiceUnavailable, "", "The decision could not be recorded; nothing was decided. Try again shortly.")
	default:
		h.showRequest(w, r, s, http.StatusOK, "You "+a.Status+" this request.", "")
	}
}

// safeNext keeps a post-sign-in redirect on the approval pages.
func safeNext(next string) string {
	if next == PathApprovals || (strings.HasPrefix(next, PathApprovals+"/") && policy.WellFormedApprovalID(strings.TrimPrefix(next, PathApprovals+"/"))) {
		return next
	}
	return PathApprovals
}

// clientAddr is the request's remote IP.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func sameSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session is one signed-in approver.
type session struct {
	id, approver, csrf string
}
