package approvalweb_test

// These tests drive the approval pages over HTTP on 127.0.0.1, in front of
// a real policy and the sandbox WHMCS, as a browser (or an attacker's
// page) would: cookies, forms and headers.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/approvalweb"
	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

var (
	agentToken = strings.Repeat("m", 40) // an MCP principal's bearer token
	aliceToken = strings.Repeat("a", 40)
	bobToken   = strings.Repeat("b", 40)
)

// site is the pages in front of a policy and the sandbox.
type site struct {
	t      *testing.T
	url    string
	sb     *sandbox.Sandbox
	policy *policy.Policy
	tools  map[string]tools.Tool
	auth   *policy.Authenticator
	now    atomic.Int64
}

func newSite(t *testing.T) *site {
	t.Helper()
	f, err := policy.Parse([]byte(`
allowed_statuses: [Active, Suspended, Terminated]
principals:
  - name: bot
    token_sha256: `+policy.TokenSHA256(agentToken)+`
  - name: alice
    token_sha256: `+policy.TokenSHA256(strings.Repeat("c", 40))+`
approvals:
  require:
    statuses: [Terminated]
    principals: [alice]
  approvers:
    - name: alice
      token_sha256: `+policy.TokenSHA256(aliceToken)+`
    - name: bob
      token_sha256: `+policy.TokenSHA256(bobToken)+`
  ttl: 10m
`), "approvals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sb, base := sandboxtest.Serve(t, sandbox.Options{})
	wc := sandboxtest.Client(t, base)
	s := &site{t: t, sb: sb, tools: map[string]tools.Tool{}}
	s.now.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, s.now.Load()) }
	s.policy, err = policy.New(f, policy.Options{Operations: tools.Operations(wc), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.All(&tools.Deps{WHMCS: wc, Gate: s.policy}) {
		s.tools[tool.Name] = tool
	}
	if s.auth, err = policy.NewAuthenticator(f, ""); err != nil {
		t.Fatal(err)
	}
	s.url = s.serve(nil)
	return s
}

// serve serves the pages of the site's policy, keeping sessions in
// sessions (nil: the handler's memory), and returns their base URL.
func (s *site) serve(sessions policy.SessionStore) string {
	now := func() time.Time { return time.Unix(0, s.now.Load()) }
	pages := approvalweb.New(approvalweb.Options{Approvals: s.policy, Now: now, Sessions: sessions,
		IsMCPToken: func(tok string) bool { return s.auth.Authenticate(tok) != nil }})
	srv := httptest.NewServer(pages)
	s.t.Cleanup(srv.Close)
	return srv.URL
}

// ask calls a write tool as principal name and returns its result.
func (s *site) ask(name string, args map[string]any) map[string]any {
	s.t.Helper()
	raw, _ := json.Marshal(args)
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "update_client_product", json.RawMessage(raw)
	ctx := policy.WithPrincipal(context.Background(), &policy.Principal{Name: name})
	res, err := s.tools["update_client_product"].Handler(ctx, req)
	if err != nil {
		s.t.Fatal(err)
	}
	var out map[string]any
	_ = json.Unmarshal([]byte(res.Content[0].(mcp.TextContent).Text), &out)
	return out
}

// request asks for an approval and returns its id.
func (s *site) request(name string, args map[string]any) string {
	s.t.Helper()
	out := s.ask(name, args)
	id, _ := out["approval_id"].(string)
	if out["status"] != "approval_required" || id == "" {
		s.t.Fatalf("want approval_required, got %v", out)
	}
	return id
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    *testing.T
	site *site
	c    *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, site: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches a page and returns its status and body.
func (b *browser) get(path string) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.c.Get(b.site.url + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// post sends a form from the site's own origin (as a browser does).
func (b *browser) post(path string, form url.Values, header map[string]string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.site.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.site.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	return m[1]
}

// signIn signs in with token and returns the status of the form's answer.
func (b *browser) signIn(token string) (int, string) {
	b.t.Helper()
	_, page, _ := b.get("/approvals/sign-in")
	return b.post("/approvals/sign-in", url.Values{"csrf": {csrfOf(b.t, page)}, "token": {token}, "next": {"/approvals"}}, nil)
}

func (b *browser) mustSignIn(token string) {
	b.t.Helper()
	if status, body := b.signIn(token); status != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %d %s", status, body)
	}
}

// decide posts a decision from the request's page.
func (b *browser) decide(id, decision, reason string) (int, string) {
	b.t.Helper()
	_, page, _ := b.get("/approvals/" + id)
	return b.post("/approvals/"+id, url.Values{"csrf": {csrfOf(b.t, page)}, "decision": {decision}, "reason": {reason}}, nil)
}

func (s *site) status(id string) string {
	a, err := s.policy.ApprovalRequest(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return a.Status
}

var terminate = map[string]any{"serviceid": 2, "status": "Terminated"}

func TestSignInAndHeaders(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	status, _, hdr := b.get("/approvals")
	if status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/approvals/sign-in") {
		t.Fatalf("the list without a session: %d %s", status, hdr.Get("Location"))
	}
	for _, path := range []string{"/approvals/sign-in", "/approvals"} {
		_, _, hdr := b.get(path)
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if hdr.Get("X-Frame-Options") != "DENY" || hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, hdr)
		}
	}
	if status, body := b.signIn(agentToken); status != http.StatusUnauthorized || !strings.Contains(body, "MCP client&#39;s bearer token") {
		t.Errorf("sign-in with the MCP principal's token: %d", status)
	}
	if status, _ := b.signIn("not-a-token"); status != http.StatusUnauthorized {
		t.Errorf("sign-in with a wrong token: %d", status)
	}
	b.get("/approvals/sign-in")
	if status, _ := b.post("/approvals/sign-in", url.Values{"csrf": {"forged"}, "token": {aliceToken}}, nil); status != http.StatusForbidden {
		t.Errorf("sign-in with a forged CSRF token: %d", status)
	}
	resp, err := b.c.Get(s.url + "/approvals/sign-in")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s: HttpOnly %v SameSite %v", c.Name, c.HttpOnly, c.SameSite)
		}
	}
	// A redirect after sign-in stays on the pages.
	_, page, _ := b.get("/approvals/sign-in")
	req, _ := http.NewRequest(http.MethodPost, s.url+"/approvals/sign-in", strings.NewReader(url.Values{"csrf": {csrfOf(t, page)}, "token": {aliceToken}, "next": {"https://evil.example/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/approvals" {
		t.Errorf("sign-in with next=https://evil.example/: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestWrongTokensAreBudgeted(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	codes := map[int]int{}
	for range 12 {
		status, _ := b.signIn("wrong")
		codes[status]++
	}
	if codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] != 2 {
		t.Errorf("12 wrong tokens: %v; want 10 refused, then 429", codes)
	}
	if status, _ := b.signIn(aliceToken); status != http.StatusTooManyRequests {
		t.Errorf("the right token once the budget is spent: %d", status)
	}
}

func TestApproveAndReject(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.mustSignIn(bobToken)
	id := s.request("bot", terminate)
	_, list, _ := b.get("/approvals")
	if !strings.Contains(list, `href="/approvals/`+id+`"`) || !strings.Contains(list, "asked by bot · client #1") {
		t.Errorf("the list does not show the request:\n%s", list)
	}
	_, page, _ := b.get("/approvals/" + id)
	for _, want := range []string{`id="approve"`, `id="reject"`, "&#34;Active&#34;", "&#34;Terminated&#34;", `id="live-summary"`, `id="live-unchanged"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the request's page lacks %s", want)
		}
	}
	if status, body := b.decide(id, "approve", ""); status != http.StatusOK || !strings.Contains(body, "You approved this request.") {
		t.Fatalf("approve: %d\n%s", status, body)
	}
	if out := s.ask("bot", map[string]any{"serviceid": 2, "status": "Terminated", "approval_id": id}); out["status"] != "done" || s.sb.Writes() != 1 {
		t.Fatalf("the agent's retry: %v (%d writes)", out, s.sb.Writes())
	}

	args := map[string]any{"serviceid": 1, "status": "Terminated"}
	if _, err := s.sb.DB().Exec(`UPDATE tblhosting SET domainstatus = 'Active' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	id = s.request("bot", args)
	if status, _ := b.decide(id, "reject", ""); status != http.StatusConflict || s.status(id) != policy.ApprovalPending {
		t.Errorf("a rejection without a reason: %d, %s", status, s.status(id))
	}
	if status, _ := b.decide(id, "reject", "Needs the account manager."); status != http.StatusOK {
		t.Fatal(status)
	}
	out := s.ask("bot", map[string]any{"serviceid": 1, "status": "Terminated", "approval_id": id})
	if out["status"] != "rejected" || out["reason"] != "Needs the account manager." || s.sb.Writes() != 1 {
		t.Errorf("the agent's retry after the rejection: %v", out)
	}
}

func TestDecisionRefusals(t *testing.T) {
	s := newSite(t)
	alice := s.browser()
	alice.mustSignIn(aliceToken)
	id := s.request("bot", terminate)
	_, page, _ := alice.get("/approvals/" + id)
	csrf := csrfOf(t, page)

	t.Run("no CSRF token", func(t *testing.T) {
		status, _ := alice.post("/approvals/"+id, url.Values{"decision": {"approve"}}, nil)
		if status != http.StatusForbidden || s.status(id) != policy.ApprovalPending {
			t.Errorf("%d, %s", status, s.status(id))
		}
	})
	t.Run("another session's CSRF token", func(t *testing.T) {
		bob := s.browser()
		bob.mustSignIn(bobToken)
		status, _ := bob.post("/approvals/"+id, url.Values{"decision": {"approve"}, "csrf": {csrf}}, nil)
		if status != http.StatusForbidden || s.status(id) != policy.ApprovalPending {
			t.Errorf("%d, %s", status, s.status(id))
		}
	})
	t.Run("cross-site POST", func(t *testing.T) {
		for _, hdr := range []map[string]string{{"Origin": "https://evil.example", "Sec-Fetch-Site": ""}, {"Sec-Fetch-Site": "cross-site"}} {
			status, _ := alice.post("/approvals/"+id, url.Values{"decision": {"approve"}, "csrf": {csrf}}, hdr)
			if status != http.StatusForbidden || s.status(id) != policy.ApprovalPending {
				t.Errorf("%v: %d, %s", hdr, status, s.status(id))
			}
		}
	})
	t.Run("no session", func(t *testing.T) {
		status, _ := s.browser().post("/approvals/"+id, url.Values{"decision": {"approve"}, "csrf": {csrf}}, nil)
		if status != http.StatusUnauthorized || s.status(id) != policy.ApprovalPending {
			t.Errorf("%d, %s", status, s.status(id))
		}
	})
	t.Run("own request", func(t *testing.T) {
		own := s.request("alice", map[string]any{"serviceid": 3, "status": "Suspended"})
		_, page, _ := alice.get("/approvals/" + own)
		if strings.Contains(page, `id="approve"`) || !strings.Contains(page, `id="own"`) {
			t.Error("the page offers alice her own request to approve")
		}
		status, body := alice.post("/approvals/"+own, url.Values{"decision": {"approve"}, "csrf": {csrf}}, nil)
		if status != http.StatusConflict || !strings.Contains(body, "four eyes") || s.status(own) != policy.ApprovalPending {
			t.Errorf("%d, %s", status, s.status(own))
		}
	})
	t.Run("expired", func(t *testing.T) {
		late := s.request("bot", map[string]any{"serviceid": 6, "status": "Terminated"})
		_, page, _ := alice.get("/approvals/" + late)
		s.now.Add(int64(11 * time.Minute))
		defer s.now.Add(-int64(11 * time.Minute))
		status, body := alice.post("/approvals/"+late, url.Values{"decision": {"approve"}, "csrf": {csrfOf(t, page)}}, nil)
		if status != http.StatusConflict || !strings.Contains(body, "expired") || s.status(late) != policy.ApprovalExpired {
			t.Errorf("%d, %s", status, s.status(late))
		}
	})
	t.Run("changed in WHMCS since the request", func(t *testing.T) {
		changed := s.request("bot", map[string]any{"serviceid": 7, "status": "Terminated"})
		if _, err := s.sb.DB().Exec(`UPDATE tblhosting SET domainstatus = 'Suspended' WHERE id = 7`); err != nil {
			t.Fatal(err)
		}
		_, page, _ := alice.get("/approvals/" + changed)
		if strings.Contains(page, `id="approve"`) || !strings.Contains(page, `id="changed"`) || !strings.Contains(page, "&#34;Suspended&#34;") {
			t.Errorf("the page of a request whose service changed offers to approve it, or does not say what changed:\n%s", page)
		}
		status, _ := alice.post("/approvals/"+changed, url.Values{"decision": {"approve"}, "csrf": {csrf}}, nil)
		if status != http.StatusConflict || s.status(changed) != policy.ApprovalPending {
			t.Errorf("%d, %s", status, s.status(changed))
		}
	})
	t.Run("approval racing a rejection", func(t *testing.T) {
		race := s.request("bot", map[string]any{"serviceid": 4, "status": "Terminated"})
		bob := s.browser()
		bob.mustSignIn(bobToken)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, who := range []*browser{alice, bob} {
			_, page, _ := who.get("/approvals/" + race)
			form := url.Values{"csrf": {csrfOf(t, page)}, "decision": {[]string{"approve", "reject"}[i]}, "reason": {"race"}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _ = who.post("/approvals/"+race, form, nil)
			}()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			if c == http.StatusOK {
				ok++
			} else if c != http.StatusConflict {
				t.Errorf("a losing decision answered %d, want 409", c)
			}
		}
		if ok != 1 {
			t.Errorf("approve and reject at once: %v; want exactly one 200", codes)
		}
	})
	if s.sb.Writes() != 0 {
		t.Errorf("refused decisions wrote %d times", s.sb.Writes())
	}
}

func TestValuesAreRenderedInert(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.mustSignIn(bobToken)
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	if _, err := s.sb.DB().Exec(`UPDATE tblhosting SET domain = ? WHERE id = 2`, evil); err != nil {
		t.Fatal(err)
	}
	id := s.request("bot", map[string]any{"serviceid": 2, "status": "Terminated", "notes": `"><script>alert(3)</script>`})
	for _, path := range []string{"/approvals", "/approvals/" + id} {
		_, page, _ := b.get(path)
		if strings.Contains(page, "<script") || strings.Contains(page, "<img") {
			t.Errorf("%s renders markup from WHMCS or the agent:\n%s", path, page)
		}
		if !strings.Contains(page, "&lt;script&gt;") {
			t.Errorf("%s does not show the value escaped", path)
		}
	}
}

func TestASignInHoldsOnEveryReplicaSharingTheState(t *testing.T) {
	s := newSite(t)
	state, err := policy.OpenFileLedger(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { state.Close() })
	s.url = s.serve(state) // replica A
	replicaB := s.serve(state)
	b := s.browser()
	b.mustSignIn(aliceToken)
	id := s.request("bot", terminate)

	s.url = replicaB
	status, page, _ := b.get("/approvals/" + id)
	if status != http.StatusOK || !strings.Contains(page, `id="approve"`) {
		t.Fatalf("replica B does not know alice's sign-in on A: %d", status)
	}
	if status, _ := b.post("/approvals/"+id, url.Values{"csrf": {csrfOf(t, page)}, "decision": {"approve"}}, nil); status != http.StatusOK || s.status(id) != policy.ApprovalApproved {
		t.Errorf("approving on replica B: %d, %s", status, s.status(id))
	}
	_, page, _ = b.get("/approvals")
	b.post("/approvals/sign-out", url.Values{"csrf": {csrfOf(t, page)}}, nil)
	if status, _, _ := b.get("/approvals"); status != http.StatusSeeOther {
		t.Errorf("after signing out on B: %d, want a redirect to the sign-in", status)
	}
}

// brokenSessions is a session store that cannot be reached.
type brokenSessions struct{}

var errUnreachable = errors.New("connection refused")

func (brokenSessions) PutSession(context.Context, string, *policy.ApproverSession) error {
	return errUnreachable
}
func (brokenSessions) Session(context.Context, string) (*policy.ApproverSession, error) {
	return nil, errUnreachable
}
func (brokenSessions) DeleteSession(context.Context, string) error { return errUnreachable }

func TestSessionStoreDownRefusesClosed(t *testing.T) {
	s := newSite(t)
	s.url = s.serve(brokenSessions{})
	b := s.browser()
	if status, _ := b.signIn(aliceToken); status != http.StatusServiceUnavailable {
		t.Errorf("sign-in with the session store down: %d, want 503", status)
	}
	b.c.Jar.SetCookies(mustURL(t, s.url), []*http.Cookie{{Name: "whmcs-mcp-session", Value: "guess", Path: "/"}})
	if status, _, _ := b.get("/approvals"); status != http.StatusServiceUnavailable {
		t.Errorf("the list with the session store down: %d, want 503", status)
	}
	id := s.request("bot", terminate)
	if status, _ := b.post("/approvals/"+id, url.Values{"decision": {"approve"}, "csrf": {"x"}}, nil); status != http.StatusServiceUnavailable || s.status(id) != policy.ApprovalPending {
		t.Errorf("a decision with the session store down: %d, %s", status, s.status(id))
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestASessionEndsWhenThePolicyNoLongerNamesTheApprover(t *testing.T) {
	s := newSite(t)
	state, err := policy.OpenFileLedger(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { state.Close() })
	s.url = s.serve(state)
	b := s.browser()
	b.mustSignIn(aliceToken)
	if status, _, _ := b.get("/approvals"); status != http.StatusOK {
		t.Fatalf("signed in: %d", status)
	}
	// The server restarts with alice's token replaced, sharing the state.
	f := *s.policy.File()
	f.Approvals.Approvers = []policy.ApproverConfig{{Name: "alice", TokenSHA256: policy.TokenSHA256(strings.Repeat("z", 40))}}
	restarted, err := policy.New(&f, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(approvalweb.New(approvalweb.Options{Approvals: restarted, Sessions: state}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	if status, _, hdr := b.get("/approvals"); status != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/approvals/sign-in") {
		t.Errorf("a session of alice's old token after the policy replaced it: %d %s, want a redirect to the sign-in", status, hdr.Get("Location"))
	}
}
