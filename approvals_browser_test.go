package main

// The staff approval flow as people and agents go through it: the real
// binary on 127.0.0.1 (--http), an agent calling it through the official Go
// SDK client, and approvers on the approval pages in headless Chromium
// (Debian's chromium, driven by chromedp). Screenshots of the pages, on a
// phone and on a desktop, are kept in artifacts/ (or
// $WHMCS_MCP_TEST_ARTIFACTS).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/browsertest"
	"github.com/whmcs-mcp/whmcs-mcp/internal/faultwhmcs"
	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

const (
	approvalsBotToken   = "approvals-support-bot-token-0123456789abcdef"
	approvalsAliceToken = "approver-alice-token-0123456789abcdef012345"
	approvalsBobToken   = "approver-bob-token-0123456789abcdef01234567"
)

// approvalsPolicy writes a policy whose terminations and upgrades above
// 100.00 (of at most 1000.00) need a staff approval: one MCP principal (support-bot, client 2)
// and two approvers (alice, bob).
func approvalsPolicy(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	content := fmt.Sprintf(`confirmation: token
allowed_statuses: [Active, Suspended, Terminated]
max_upgrade_price: 1000
principals:
  - name: support-bot
    token_sha256: %s
    clients: [2]
approvals:
  require:
    statuses: [Terminated]
    upgrade_price_above: 100
  approvers:
    - name: alice
      token_sha256: %s
    - name: bob
      token_sha256: %s
  ttl: 30m
`, policy.TokenSHA256(approvalsBotToken), policy.TokenSHA256(approvalsAliceToken), policy.TokenSHA256(approvalsBobToken))
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeStatus decodes a write tool's structuredContent.
func writeStatus(t *testing.T, name string, res *sdk.CallToolResult) *tools.WriteStatus {
	t.Helper()
	if res.IsError || res.StructuredContent == nil {
		t.Fatalf("%s: want a result, got isError=%v: %s", name, res.IsError, text(res))
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var st tools.WriteStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, raw)
	}
	return &st
}

// writesOf counts the writes among the requests that reached WHMCS.
func writesOf(faults *faultwhmcs.WHMCS) int {
	n := 0
	for _, r := range faults.Requests() {
		if faultwhmcs.IsWrite(r) {
			n++
		}
	}
	return n
}

// browserPage is an approver's browser tab on the approval pages.
type browserPage struct {
	t   *testing.T
	ctx context.Context
}

// do runs actions in the tab, within a bound.
func (b *browserPage) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// submit clicks a button that submits a form and waits for the page it
// leads to; it returns that page's HTTP status.
func (b *browserPage) submit(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return resp.Status
}

// text returns the visible text of the element sel (a CSS selector).
func (b *browserPage) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: the text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// location is the tab's URL.
func (b *browserPage) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// signIn fills the sign-in form the tab shows with token.
func (b *browserPage) signIn(token string) int64 {
	b.t.Helper()
	b.do("the sign-in form", chromedp.WaitVisible(chromedp.ID("token")), chromedp.SetValue(chromedp.ID("token"), token))
	return b.submit("signing in", chromedp.Click(chromedp.ID("sign-in")))
}

// screenshots takes a screenshot of the tab's page on a phone and on a
// desktop, and leaves the tab on the desktop viewport.
func (b *browserPage) screenshots(name string) {
	b.t.Helper()
	for _, v := range []browsertest.Viewport{browsertest.Phone, browsertest.Desktop} {
		b.do("viewport "+v.Name, v.Emulate(), chromedp.Reload())
		browsertest.Screenshot(b.t, b.ctx, name+"-"+v.Name)
	}
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("%s: %q does not hold %q", what, got, want)
		}
	}
}

// TestApprovalsInBrowser: an agent's upgrade and termination wait for a
// member of staff, who approves the one and rejects the other on the
// approval pages in a real browser; the agent's retries then carry out the
// upgrade once, and learn of the rejection and its reason.
func TestApprovalsInBrowser(t *testing.T) {
	browser := browsertest.New(t) // first: without a browser, skip or fail before anything starts
	sb, faults, whmcsURL := serveFaulty(t)
	p := startHTTP(t, sandboxEnv(whmcsURL), "--policy", approvalsPolicy(t))
	agent := connectHTTP(t, "streamable", p.url, approvalsBotToken, nil)
	b := &browserPage{t: t, ctx: browser}

	// 1. The agent asks for an upgrade above 100.00: it needs an approval,
	// and nothing is written.
	upgrade := map[string]any{"serviceid": 4, "type": "product", "newproductid": 7,
		"newproductbillingcycle": "annually", "paymentmethod": "authorize"}
	res := callTool(t, agent, "upgrade_product", upgrade)
	st := writeStatus(t, "upgrade_product", res)
	if st.Status != tools.StatusApprovalRequired || st.ApprovalID == "" || st.ExpiresAt == "" || st.Preview == nil || st.Preview.Quote == nil {
		t.Fatalf("upgrade_product: want approval_required with an id, an expiry and the quote, got %+v", st)
	}
	if want := p.url + "/approvals/" + st.ApprovalID; st.ApprovalURL != want {
		t.Errorf("approval_url = %q, want %q", st.ApprovalURL, want)
	}
	if !strings.HasPrefix(text(res), `{"message":"Nothing has changed yet`) {
		t.Errorf("the model's guidance does not come first: %s", text(res))
	}
	quote := st.Preview.Quote
	if quote.Amount <= 100 || quote.NewProductName != "VPS Large" || quote.OldProductName != "VPS Medium" {
		t.Fatalf("the quote: %+v", quote)
	}
	upgradeID, price := st.ApprovalID, quote.Price
	if n := writesOf(faults); n != 0 {
		t.Fatalf("asking for an approval wrote %d times to WHMCS", n)
	}
	// Asked again before anyone decided: pending.
	upgrade["approval_id"] = upgradeID
	if st := writeStatus(t, "upgrade_product (undecided)", callTool(t, agent, "upgrade_product", upgrade)); st.Status != tools.StatusPending {
		t.Errorf("before a decision: want pending, got %+v", st)
	}

	// 2. The approver opens the pages: first the sign-in form, where an MCP
	// client's bearer token does not get in.
	b.do("the approval pages", chromedp.Navigate(p.url+"/approvals"))
	if loc := b.location(); !strings.HasPrefix(loc, p.url+"/approvals/sign-in") {
		t.Fatalf("without a session, /approvals shows %s, want the sign-in form", loc)
	}
	if status := b.signIn(approvalsBotToken); status != 401 {
		t.Errorf("signing in with the MCP bearer token: HTTP %d, want 401", status)
	}
	mustContain(t, "signing in with an MCP token", b.text("#error"), "MCP client's bearer token")
	if status := b.signIn(approvalsAliceToken); status != 200 {
		t.Fatalf("alice signing in: HTTP %d", status)
	}
	if loc := b.location(); loc != p.url+"/approvals" {
		t.Errorf("after signing in: %s, want the list", loc)
	}
	if got := b.text("#approver"); got != "alice" {
		t.Errorf("signed in as %q, want alice", got)
	}

	// 3. The list shows the request: the client, the change and the price.
	card := fmt.Sprintf(`#pending a[href="/approvals/%s"]`, upgradeID)
	mustContain(t, "the pending request in the list", b.text(card),
		"PENDING", "service #4 VPS Medium (vps1.smithwebdesign.example) of client #2",
		"from VPS Medium (#6) to VPS Large (#7)", "client #2", "asked by support-bot", price)
	b.screenshots("list")

	// 4. Its page: the request as asked, WHMCS now, and the buttons.
	b.do("opening the request", chromedp.Click(chromedp.CSS(card)), chromedp.WaitVisible(chromedp.ID("status")))
	if loc := b.location(); loc != st.ApprovalURL {
		t.Errorf("the request's page is %s, want %s", loc, st.ApprovalURL)
	}
	if got := b.text("#status"); got != "PENDING" && got != "pending" {
		t.Errorf("status %q, want pending", got)
	}
	if got := b.text("#client"); got != "#2" {
		t.Errorf("client %q, want #2", got)
	}
	mustContain(t, "who asked", b.text("#principal"), "support-bot")
	mustContain(t, "the change as asked", b.text("#summary"), "VPS Medium (#6) to VPS Large (#7)", price)
	mustContain(t, "the change now in WHMCS", b.text("#live-summary"), "VPS Large (#7)", price)
	mustContain(t, "the quote's table", b.text("table.changes .price"), price)
	b.screenshots("detail")

	// 5. alice approves.
	if status := b.submit("approving", chromedp.Click(chromedp.ID("approve"))); status != 200 {
		t.Fatalf("approving: HTTP %d: %s", status, b.text("main"))
	}
	mustContain(t, "after approving", b.text("#notice"), "You approved this request.")
	if got := strings.ToLower(b.text("#status")); got != "approved" {
		t.Errorf("after approving, status %q", got)
	}
	mustContain(t, "the decision", b.text("#approver-decision"), "alice")
	browsertest.Screenshot(t, b.ctx, "approved-desktop")

	// 6. The agent's retry carries the upgrade out, once.
	before := sb.Writes()
	done := writeStatus(t, "upgrade_product (approved)", callTool(t, agent, "upgrade_product", upgrade))
	if done.Status != tools.StatusDone {
		t.Fatalf("after the approval: want done, got %+v", done)
	}
	if got := faults.Count("UpgradeProduct") - countCalcOnly(faults); got != 1 || sb.Writes()-before != 1 || writesOf(faults) != 1 {
		t.Fatalf("the approved upgrade: %d UpgradeProduct orders, %d sandbox writes, %d writes in all; want 1 each",
			got, sb.Writes()-before, writesOf(faults))
	}
	res = callTool(t, agent, "upgrade_product", upgrade)
	if !res.IsError || !strings.Contains(text(res), "already used") {
		t.Errorf("a second retry with the approval: want a refusal, got isError=%v %s", res.IsError, text(res))
	}
	if writesOf(faults) != 1 {
		t.Errorf("the second retry wrote to WHMCS")
	}
	b.do("the list", chromedp.Navigate(p.url+"/approvals"))
	mustContain(t, "the used request among the recent ones", b.text(fmt.Sprintf(`#recent a[href="/approvals/%s"]`, upgradeID)), "USED", "by alice")

	// 7. A termination: bob signs in (after alice signs out) and rejects
	// it with a reason.
	terminate := map[string]any{"serviceid": 3, "status": "Terminated"}
	st = writeStatus(t, "update_client_product", callTool(t, agent, "update_client_product", terminate))
	if st.Status != tools.StatusApprovalRequired || st.Preview == nil || st.Preview.Changes["status"].To != "Terminated" {
		t.Fatalf("a termination: want approval_required with the status change, got %+v", st)
	}
	terminateID := st.ApprovalID
	b.submit("signing out", chromedp.Click(chromedp.CSS("form.signout button")))
	b.do("the request", chromedp.Navigate(st.ApprovalURL))
	if status := b.signIn(approvalsBobToken); status != 200 {
		t.Fatalf("bob signing in: HTTP %d", status)
	}
	if loc := b.location(); loc != st.ApprovalURL {
		t.Errorf("after signing in from the request's link: %s, want %s", loc, st.ApprovalURL)
	}
	mustContain(t, "the termination's page", b.text("main"), "Active", "Terminated", "client #2")
	b.screenshots("detail-terminate")
	// A rejection needs a reason.
	if status := b.submit("rejecting without a reason", chromedp.Click(chromedp.ID("reject"))); status != 409 {
		t.Errorf("a rejection without a reason: HTTP %d, want 409", status)
	}
	mustContain(t, "a rejection without a reason", b.text("#error"), "needs a reason")
	reason := `The client pays on Friday; keep the site <b>up</b> & running.`
	b.do("the reason", chromedp.SendKeys(chromedp.ID("reason-input"), reason))
	if status := b.submit("rejecting", chromedp.Click(chromedp.ID("reject"))); status != 200 {
		t.Fatalf("rejecting: HTTP %d: %s", status, b.text("main"))
	}
	mustContain(t, "after rejecting", b.text("#notice"), "You rejected this request.")
	if got := strings.ToLower(b.text("#status")); got != "rejected" {
		t.Errorf("after rejecting, status %q", got)
	}
	if got := b.text("#reason"); got != reason {
		t.Errorf("the reason on the page: %q, want %q (as text)", got, reason)
	}
	mustContain(t, "the decision", b.text("#approver-decision"), "bob")
	browsertest.Screenshot(t, b.ctx, "rejected-desktop")

	// 8. The agent's retry: rejected, with bob's reason, and nothing written.
	terminate["approval_id"] = terminateID
	st = writeStatus(t, "update_client_product (rejected)", callTool(t, agent, "update_client_product", terminate))
	if st.Status != tools.StatusRejected || st.Reason != reason {
		t.Errorf("after the rejection: want rejected with %q, got %+v", reason, st)
	}
	if n := faults.Count("UpdateClientProduct"); n != 0 {
		t.Errorf("the rejected termination sent %d UpdateClientProduct", n)
	}
	if writesOf(faults) != 1 {
		t.Errorf("the rejected termination wrote to WHMCS")
	}
	if got := serviceOf(t, whmcsURL, 3).Status; got != "Active" {
		t.Errorf("service 3 after the rejection: %s, want Active", got)
	}
	b.do("the list", chromedp.Navigate(p.url+"/approvals"))
	mustContain(t, "the rejected request among the recent ones", b.text(fmt.Sprintf(`#recent a[href="/approvals/%s"]`, terminateID)), "REJECTED", "by bob")
	browsertest.Screenshot(t, b.ctx, "list-decided-desktop")
}

// countCalcOnly counts the calconly quotes among UpgradeProduct requests.
func countCalcOnly(faults *faultwhmcs.WHMCS) int {
	n := 0
	for _, r := range faults.Requests() {
		if strings.EqualFold(r.Action, "UpgradeProduct") && !faultwhmcs.IsWrite(r) {
			n++
		}
	}
	return n
}

// serviceOf reads service id from WHMCS.
func serviceOf(t *testing.T, whmcsURL string, id int) whmcs.ClientProduct {
	t.Helper()
	resp, err := sandboxtest.Client(t, whmcsURL).GetClientsProducts(context.Background(), whmcs.GetClientsProductsRequest{ServiceID: &id})
	if err != nil || len(resp.Products) != 1 {
		t.Fatalf("GetClientsProducts %d: %v", id, err)
	}
	return resp.Products[0]
}
