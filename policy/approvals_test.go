package policy_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// Approver tokens of the tests, and their digests.
var (
	aliceToken = strings.Repeat("a", 40)
	bobToken   = strings.Repeat("b", 40)
)

// approvalsPolicy needs an approval for terminations, upgrades above 5 and
// anything principal "intern" asks for.
func approvalsPolicy(t *testing.T, extra string) *policy.File {
	t.Helper()
	src := `
allowed_statuses: [Active, Suspended, Terminated]
principals:
  - name: intern
    token_sha256: ` + policy.TokenSHA256(strings.Repeat("i", 40)) + `
approvals:
  require:
    statuses: [Terminated]
    upgrade_price_above: 5
    principals: [intern]
  approvers:
    - name: alice
      token_sha256: ` + policy.TokenSHA256(aliceToken) + `
    - name: bob
      token_sha256: ` + policy.TokenSHA256(bobToken) + `
  ttl: 10m
` + extra
	f, err := policy.Parse([]byte(src), "approvals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func withApproval(args map[string]any, id any) map[string]any {
	out := map[string]any{"approval_id": id}
	for k, v := range args {
		out[k] = v
	}
	return out
}

// requestApproval makes a call that needs an approval and returns its id.
func (w *world) requestApproval(args map[string]any, tool string) string {
	w.t.Helper()
	out, text, isErr := w.call(ctx, tool, args)
	if isErr || out["status"] != "approval_required" {
		w.t.Fatalf("%s %v: want approval_required, got %s", tool, args, text)
	}
	return out["approval_id"].(string)
}

func TestApprovalApprovedExecutesOnce(t *testing.T) {
	w := newWorld(t, approvalsPolicy(t, ""))
	terminate := map[string]any{"serviceid": 2, "status": "Terminated"}

	out, text, isErr := w.call(ctx, "update_client_product", terminate)
	if isErr || out["status"] != "approval_required" {
		t.Fatalf("want approval_required, got %s", text)
	}
	id := out["approval_id"].(string)
	if !strings.HasPrefix(out["message"].(string), "Nothing has changed yet: a change of status to Terminated needs a staff approval") ||
		out["approval_url"] != "https://mcp.example.com/approvals/"+id || out["confirmation_token"] != nil {
		t.Errorf("approval_required result: %s", text)
	}
	if w.sb.Writes() != 0 || w.serviceStatus(2) != "Active" {
		t.Fatal("asking for an approval changed WHMCS")
	}
	out, text, _ = w.call(ctx, "update_client_product", withApproval(terminate, id))
	if out["status"] != "pending" || w.sb.Writes() != 0 {
		t.Fatalf("before a decision: %s", text)
	}

	a, err := w.policy.Decide(ctx, id, "alice", true, "")
	if err != nil || a.Status != policy.ApprovalApproved || a.Approver != "alice" {
		t.Fatalf("Decide: %+v %v", a, err)
	}
	out, text, isErr = w.call(ctx, "update_client_product", withApproval(terminate, id))
	if isErr || out["status"] != "done" || w.sb.Writes() != 1 || w.serviceStatus(2) != "Terminated" {
		t.Fatalf("after the approval: %s (%d writes)", text, w.sb.Writes())
	}
	_, text, isErr = w.call(ctx, "update_client_product", withApproval(terminate, id))
	if !isErr || !strings.Contains(text, "already used") || w.sb.Writes() != 1 {
		t.Errorf("second use of the approval: %s (%d writes)", text, w.sb.Writes())
	}

	var events []string
	for _, r := range records(t, w.auditLog) {
		if r.ApprovalID == id || r.Event == "intent" || r.Event == "execution" {
			events = append(events, r.Event+"/"+r.Approver)
		}
	}
	want := "approval_requested/ approval_approved/alice confirmation/alice intent/ execution/"
	if got := strings.Join(events, " "); !strings.HasPrefix(got, want) {
		t.Errorf("audit events %q, want them to start with %q", got, want)
	}
}

func TestApprovalRejectedWritesNothing(t *testing.T) {
	w := newWorld(t, approvalsPolicy(t, ""))
	terminate := map[string]any{"serviceid": 2, "status": "Terminated"}
	id := w.requestApproval(terminate, "update_client_product")
	if _, err := w.policy.Decide(ctx, id, "bob", false, ""); err == nil {
		t.Error("a rejection without a reason was taken")
	}
	if _, err := w.policy.Decide(ctx, id, "bob", false, "The customer has unpaid invoices; ask billing."); err != nil {
		t.Fatal(err)
	}
	out, text, isErr := w.call(ctx, "update_client_product", withApproval(terminate, id))
	if isErr || out["status"] != "rejected" || out["reason"] != "The customer has unpaid invoices; ask billing." {
		t.Fatalf("after the rejection: %s", text)
	}
	if w.sb.Writes() != 0 || w.serviceStatus(2) != "Active" {
		t.Error("a rejected change was written")
	}
	if _, err := w.policy.Decide(ctx, id, "alice", true, ""); err == nil || !strings.Contains(err.Error(), "already rejected by bob") {
		t.Errorf("approving a rejected request: %v", err)
	}
}

func TestApprovalExpires(t *testing.T) {
	w := newWorld(t, approvalsPolicy(t, ""))
	terminate := map[string]any{"serviceid": 2, "status": "Terminated"}
	id := w.requestApproval(terminate, "update_client_product")
	w.clock.Advance(11 * time.Minute)
	if _, err := w.policy.Decide(ctx, id, "alice", true, ""); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("approving an expired request: %v", err)
	}
	out, text, _ := w.call(ctx, "update_client_product", withApproval(terminate, id))
	if out["status"] != "expired" || w.sb.Writes() != 0 {
		t.Errorf("retry after expiry: %s", text)
	}
	expired := 0
	for _, r := range records(t, w.auditLog) {
		if r.Event == "approval_expired" && r.ApprovalID == id {
			expired++
		}
	}
	if expired != 1 {
		t.Errorf("%d approval_expired records, want 1", expired)
	}

	// An approval not used in time expires too.
	id = w.requestApproval(terminate, "update_client_product")
	if _, err := w.policy.Decide(ctx, id, "alice", true, ""); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(11 * time.Minute)
	out, text, _ = w.call(ctx, "update_client_product", withApproval(terminate, id))
	if out["status"] != "expired" || w.sb.Writes() != 0 {
		t.Errorf("an approval used too late: %s", text)
	}
}

func TestApprovalFourEyes(t *testing.T) {
	f := approvalsPolicy(t, "")
	f.Approvals.Require.Principals = append(f.Approvals.Require.Principals, "alice")
	f.Principals = append(f.Principals, policy.PrincipalConfig{Name: "alice", TokenSHA256: policy.TokenSHA256(strings.Repeat("c", 40)), Mode: policy.ModeReadWrite})
	w := newWorld(t, f)
	asAlice := policy.WithPrincipal(ctx, &policy.Principal{Name: "alice"})
	args := map[string]any{"serviceid": 2, "status": "Suspended"}
	out, text, _ := w.call(asAlice, "update_client_product", args)
	if out["status"] != "approval_required" {
		t.Fatalf("alice's suspension: %s", text)
	}
	id := out["approval_id"].(string)
	var refused *policy.ApprovalError
	if _, err := w.policy.Decide(ctx, id, "alice", true, ""); !errors.As(err, &refused) || !strings.Contains(err.Error(), "four eyes") {
		t.Fatalf("alice approving her own request: %v", err)
	}
	// Another caller cannot use alice's request either.
	if _, err := w.policy.Decide(ctx, id, "bob", true, ""); err != nil {
		t.Fatal(err)
	}
	_, text, isErr := w.call(ctx, "update_client_product", withApproval(args, id))
	if !isErr || !strings.Contains(text, "another caller") || w.sb.Writes() != 0 {
		t.Errorf("another caller using alice's approval: %s", text)
	}
	out, text, _ = w.call(asAlice, "update_client_product", withApproval(args, id))
	if out["status"] != "done" || w.sb.Writes() != 1 {
		t.Errorf("alice using bob's approval: %s", text)
	}
}

func TestApprovalRaceHasOneWinner(t *testing.T) {
	w := newWorld(t, approvalsPolicy(t, ""))
	id := w.requestApproval(map[string]any{"serviceid": 2, "status": "Terminated"}, "update_client_product")
	var wg sync.WaitGroup
	results := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.policy.Decide(ctx, id, []string{"alice", "bob"}[i%2], i%2 == 0, "no")
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		if err == nil {
			won++
		}
	}
	a, _ := w.policy.ApprovalRequest(ctx, id)
	if won != 1 || (a.Status != policy.ApprovalApproved && a.Status != policy.ApprovalRejected) {
		t.Errorf("20 concurrent decisions: %d won, request %s; want exactly one", won, a.Status)
	}
}

func TestApprovalRechecksWHMCS(t *testing.T) {
	w := newWorld(t, approvalsPolicy(t, ""))
	terminate := map[string]any{"serviceid": 2, "status": "Terminated"}

	// Changed before the decision: it cannot be approved.
	id := w.requestApproval(terminate, "update_client_product")
	if _, err := w.sb.DB().Exec(`UPDATE tblhosting SET domainstatus = 'Suspended' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.policy.Decide(ctx, id, "alice", true, ""); err == nil || !strings.Contains(err.Error(), "WHMCS changed since the request") {
		t.Errorf("approving a request whose service changed: %v", err)
	}
	a, _ := w.policy.ApprovalRequest(ctx, id)
	_, changed, err := w.policy.LivePreview(ctx, a)
	if err != nil || !strings.Contains(changed, `status is now "Suspended"`) {
		t.Errorf("LivePreview: %q %v", changed, err)
	}

	// Changed after the approval: the approval is used up, nothing written.
	id = w.requestApproval(terminate, "update_client_product")
	if _, err := w.policy.Decide(ctx, id, "alice", true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.DB().Exec(`UPDATE tblhosting SET domainstatus = 'Active' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	_, text, isErr := w.call(ctx, "update_client_product", withApproval(terminate, id))
	if !isErr || !strings.Contains(text, "WHMCS changed since the approval") || w.sb.Writes() != 0 {
		t.Errorf("using an approval after WHMCS changed: %s", text)
	}
}

func TestUpgradeAboveTheBoundNeedsAnApproval(t *testing.T) {
	w := newWorld(t, approvalsPolicy(t, "")) // token mode: tokens confirm everything else
	upgrade := map[string]any{"serviceid": 6, "paymentmethod": "paypal", "type": "product", "newproductid": 3, "newproductbillingcycle": "monthly"}
	quote := map[string]any{"calconly": true}
	for k, v := range upgrade {
		quote[k] = v
	}
	out, text, _ := w.call(ctx, "upgrade_product", quote)
	if out["status"] != "quote" || out["confirmation_token"] != nil || !strings.Contains(out["message"].(string), "approval") {
		t.Fatalf("a quote above the bound: %s", text)
	}
	out, text, _ = w.call(ctx, "upgrade_product", upgrade)
	if out["status"] != "approval_required" || !strings.Contains(out["message"].(string), "above 5.00") {
		t.Fatalf("an upgrade above the bound: %s", text)
	}
	// A token for a change that now needs an approval confirms nothing.
	cheap := map[string]any{"serviceid": 7, "paymentmethod": "paypal", "type": "product", "newproductid": 4, "newproductbillingcycle": "monthly"}
	token := w.previewToken(ctx, "upgrade_product", cheap)
	if _, err := w.sb.DB().Exec(`UPDATE tblpricing SET monthly = monthly + 100 WHERE type = 'product' AND relid = 4`); err != nil {
		t.Fatal(err)
	}
	_, text, isErr := w.call(ctx, "upgrade_product", withToken(cheap, token))
	if !isErr || !strings.Contains(text, "WHMCS changed since the preview") || w.sb.Writes() != 0 {
		t.Errorf("a token after the price rose above the bound: %s (%d writes)", text, w.sb.Writes())
	}
}

func TestApprovalNotificationNamesNoSecret(t *testing.T) {
	got := make(chan []byte, 1)
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
		<-release // the call must not wait for the endpoint
	}))
	defer hook.Close()
	defer close(release)
	w := newWorld(t, approvalsPolicy(t, "  notify_url: "+hook.URL+"\n"))
	args := map[string]any{"serviceid": 2, "status": "Terminated", "servicepassword": "hunter2-secret"}
	id := w.requestApproval(args, "update_client_product") // returns while the endpoint still holds the POST
	var n policy.Notification
	if err := json.Unmarshal(<-got, &n); err != nil {
		t.Fatal(err)
	}
	if n.Event != "approval_requested" || n.ApprovalID != id || n.URL != "https://mcp.example.com/approvals/"+id ||
		n.Tool != "update_client_product" || n.ClientID != 1 || !strings.Contains(n.Summary, "Terminated") {
		t.Errorf("notification: %+v", n)
	}
	a, _ := w.policy.ApprovalRequest(ctx, id)
	stored, _ := json.Marshal(a)
	if body, _ := json.Marshal(n); strings.Contains(string(body)+string(stored), "hunter2") {
		t.Error("the service password reached the notification or the approval store")
	}
}

func TestApprovalsConfigErrors(t *testing.T) {
	agent := policy.TokenSHA256(strings.Repeat("i", 40))
	alice := policy.TokenSHA256(aliceToken)
	base := "principals:\n  - name: bot\n    token_sha256: " + agent + "\n"
	approver := "  approvers:\n    - name: alice\n      token_sha256: " + alice + "\n"
	for _, tc := range []struct{ name, src, want string }{
		{"unknown key", "approvals:\n  requires: {}\n", `unknown key "requires" in approvals (did you mean "require"?)`},
		{"unknown rule", "approvals:\n  require:\n    status: [Terminated]\n", `unknown key "status" in approvals.require`},
		{"no approver", "allowed_statuses: [Terminated]\napprovals:\n  require:\n    statuses: [Terminated]\n", "approvals.approvers: required when approvals.require has a rule"},
		{"status agents may not set", "approvals:\n  require:\n    statuses: [Terminated]\n" + approver, "approvals.require.statuses[0]: Terminated is not in allowed_statuses"},
		{"unknown principal", "approvals:\n  require:\n    principals: [nobody]\n" + approver, `approvals.require.principals[0]: "nobody" is not a principal`},
		{"a read tool", "approvals:\n  require:\n    tools: [get_products]\n" + approver, `approvals.require.tools[0]: "get_products" is not a write tool`},
		{"negative price", "approvals:\n  require:\n    upgrade_price_above: -1\n" + approver, "approvals.require.upgrade_price_above: must be a number of 0 or more"},
		{"price above max_upgrade_price", "approvals:\n  require:\n    upgrade_price_above: 100\n" + approver, "approvals.require.upgrade_price_above: 100.00 is not below max_upgrade_price (50.00, the default), which refuses every upgrade quoted above it"},
		{"price at max_upgrade_price", "max_upgrade_price: 200\napprovals:\n  require:\n    upgrade_price_above: 200\n" + approver, "approvals.require.upgrade_price_above: 200.00 is not below max_upgrade_price (200.00)"},
		{"ttl too long", "approvals:\n  ttl: 200h\n" + approver, "approvals.ttl: must be at most 168h"},
		{"notify_url", "approvals:\n  notify_url: hooks.example.com\n" + approver, "approvals.notify_url: want an absolute http:// or https:// URL"},
		{"a principal's token", "approvals:\n  approvers:\n    - name: alice\n      token_sha256: " + agent + "\n", "approvals.approvers[0].token_sha256: the bearer token of principals[0]"},
		{"same name twice", "approvals:\n  approvers:\n    - name: alice\n      token_sha256: " + alice + "\n    - name: alice\n      token_sha256: " + policy.TokenSHA256(bobToken) + "\n", `approvals.approvers[1].name: "alice" is also the name of approvals.approvers[0]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse([]byte(base+tc.src), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
	f := approvalsPolicy(t, "")
	if !f.Approvals.Enabled() || time.Duration(f.Approvals.TTL) != 10*time.Minute || len(f.Approvals.Approvers) != 2 {
		t.Errorf("parsed approvals: %+v", f.Approvals)
	}
	if policy.Default().Approvals.Enabled() || time.Duration(policy.Default().Approvals.TTL) != policy.DefaultApprovalTTL {
		t.Errorf("default approvals: %+v", policy.Default().Approvals)
	}
}
