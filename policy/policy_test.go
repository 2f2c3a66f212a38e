package policy_test

// These tests drive the tools through the policy against the sandbox WHMCS
// over HTTP on 127.0.0.1, and read the sandbox back to prove what changed.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// world is a sandbox, a policy in front of it, and the tools.
type world struct {
	t        *testing.T
	sb       *sandbox.Sandbox
	policy   *policy.Policy
	tools    map[string]tools.Tool
	auditLog string
	clock    *clock
}

// clock is a settable clock for token expiry.
type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *clock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func newWorld(t *testing.T, file *policy.File) *world {
	t.Helper()
	sb, baseURL := sandboxtest.Serve(t, sandbox.Options{})
	c := sandboxtest.Client(t, baseURL)
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	clk := &clock{}
	clk.now.Store(time.Now().UnixNano())
	if file == nil {
		file = policy.Default()
	}
	file.Confirmation = policy.ConfirmToken
	p, err := policy.New(file, policy.Options{Audit: log, Now: clk.Now, Operations: tools.Operations(c),
		ApprovalURL: "https://mcp.example.com/approvals"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, sb: sb, policy: p, tools: map[string]tools.Tool{}, auditLog: logPath, clock: clk}
	for _, tool := range tools.All(&tools.Deps{WHMCS: c, Gate: p}) {
		w.tools[tool.Name] = tool
	}
	return w
}

// call runs a tool as the local principal (or as p) and returns its result
// text and whether it was a tool error.
func (w *world) call(ctx context.Context, name string, args map[string]any) (map[string]any, string, bool) {
	w.t.Helper()
	raw, _ := json.Marshal(args)
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = json.RawMessage(raw)
	res, err := w.tools[name].Handler(ctx, req)
	if err != nil {
		w.t.Fatalf("%s: %v", name, err)
	}
	var text string
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	var out map[string]any
	json.Unmarshal([]byte(text), &out)
	return out, text, res.IsError
}

// serviceStatus reads a service's status back from the sandbox.
func (w *world) serviceStatus(id int) string {
	w.t.Helper()
	var status string
	if err := w.sb.DB().QueryRow(`SELECT domainstatus FROM tblhosting WHERE id = ?`, id).Scan(&status); err != nil {
		w.t.Fatal(err)
	}
	return status
}

func withToken(args map[string]any, token any) map[string]any {
	out := map[string]any{"confirmation_token": token}
	for k, v := range args {
		out[k] = v
	}
	return out
}

var ctx = context.Background()

func TestStatusChangePreviewConfirmReplay(t *testing.T) {
	w := newWorld(t, nil)
	args := map[string]any{"serviceid": 2, "status": "Suspended"}

	out, text, isErr := w.call(ctx, "update_client_product", args)
	if isErr || out["status"] != "confirmation_required" {
		t.Fatalf("first call: want confirmation_required, got %s", text)
	}
	preview := out["preview"].(map[string]any)
	change := preview["changes"].(map[string]any)["status"].(map[string]any)
	if change["from"] != "Active" || change["to"] != "Suspended" {
		t.Errorf("preview diff: %v", change)
	}
	if !strings.Contains(preview["summary"].(string), `status: "Active" → "Suspended"`) {
		t.Errorf("summary: %v", preview["summary"])
	}
	if w.sb.Writes() != 0 || w.serviceStatus(2) != "Active" {
		t.Fatalf("the preview changed WHMCS: %d writes, status %s", w.sb.Writes(), w.serviceStatus(2))
	}
	expires, err := time.Parse(time.RFC3339, out["expires_at"].(string))
	if err != nil || expires.Before(w.clock.Now()) {
		t.Errorf("expires_at %v: %v", out["expires_at"], err)
	}

	token := out["confirmation_token"]
	out, text, isErr = w.call(ctx, "update_client_product", withToken(args, token))
	if isErr || out["status"] != "done" {
		t.Fatalf("confirm: %s", text)
	}
	if w.sb.Writes() != 1 || w.serviceStatus(2) != "Suspended" {
		t.Fatalf("after confirmation: %d writes, status %s", w.sb.Writes(), w.serviceStatus(2))
	}

	_, text, isErr = w.call(ctx, "update_client_product", withToken(args, token))
	if !isErr || !strings.Contains(text, "already used") {
		t.Errorf("replay: %s", text)
	}
	if w.sb.Writes() != 1 {
		t.Errorf("replay wrote: %d writes", w.sb.Writes())
	}
}

// previewToken returns the token of a fresh preview of args.
func (w *world) previewToken(ctx context.Context, tool string, args map[string]any) string {
	w.t.Helper()
	out, text, isErr := w.call(ctx, tool, args)
	if isErr || out["status"] != "confirmation_required" {
		w.t.Fatalf("preview of %s %v: %s", tool, args, text)
	}
	return out["confirmation_token"].(string)
}

func TestRefusals(t *testing.T) {
	suspend := map[string]any{"serviceid": 2, "status": "Suspended"}
	cases := []struct {
		name   string
		file   func(*policy.File)
		run    func(w *world) (string, bool)
		reason string
	}{
		{"expired", nil, func(w *world) (string, bool) {
			token := w.previewToken(ctx, "update_client_product", suspend)
			w.clock.Advance(6 * time.Minute)
			_, text, isErr := w.call(ctx, "update_client_product", withToken(suspend, token))
			return text, isErr
		}, "expired"},
		{"tampered", nil, func(w *world) (string, bool) {
			token := w.previewToken(ctx, "update_client_product", suspend)
			last := "A"
			if strings.HasSuffix(token, last) {
				last = "B"
			}
			forged := token[:len(token)-1] + last // well formed, but not issued
			_, text, isErr := w.call(ctx, "update_client_product", withToken(suspend, forged))
			return text, isErr
		}, "unknown"},
		{"garbage", nil, func(w *world) (string, bool) {
			_, text, isErr := w.call(ctx, "update_client_product", withToken(suspend, "hello"))
			return text, isErr
		}, "malformed"},
		{"other arguments", nil, func(w *world) (string, bool) {
			token := w.previewToken(ctx, "update_client_product", suspend)
			_, text, isErr := w.call(ctx, "update_client_product", withToken(map[string]any{"serviceid": 2, "status": "Suspended", "notes": "and more"}, token))
			return text, isErr
		}, "other arguments"},
		{"other tool", nil, func(w *world) (string, bool) {
			token := w.previewToken(ctx, "update_client_product", suspend)
			_, text, isErr := w.call(ctx, "update_client_addon", withToken(map[string]any{"id": 1, "status": "Suspended"}, token))
			return text, isErr
		}, "issued for update_client_product"},
		{"other principal", nil, func(w *world) (string, bool) {
			token := w.previewToken(ctx, "update_client_product", suspend)
			other := policy.WithPrincipal(ctx, &policy.Principal{Name: "mallory"})
			_, text, isErr := w.call(other, "update_client_product", withToken(suspend, token))
			return text, isErr
		}, "another caller"},
		{"status changed since the preview", nil, func(w *world) (string, bool) {
			token := w.previewToken(ctx, "update_client_product", suspend)
			if err := w.sb.SetServiceStatus(ctx, 2, "Cancelled"); err != nil {
				t.Fatal(err)
			}
			_, text, isErr := w.call(ctx, "update_client_product", withToken(suspend, token))
			return text, isErr
		}, `status is now "Cancelled"`},
		{"price changed since the preview", nil, func(w *world) (string, bool) {
			args := downgrade()
			token := w.previewToken(ctx, "upgrade_product", args)
			if err := w.sb.SetProductPrice(ctx, 2, "USD", "monthly", 12.34); err != nil {
				t.Fatal(err)
			}
			_, text, isErr := w.call(ctx, "upgrade_product", withToken(args, token))
			return text, isErr
		}, "amount is now"},
		{"over max_upgrade_price", func(f *policy.File) { limit := 1.0; f.MaxUpgradePrice = &limit }, func(w *world) (string, bool) {
			_, text, isErr := w.call(ctx, "upgrade_product", map[string]any{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 7, "newproductbillingcycle": "monthly"})
			return text, isErr
		}, "max_upgrade_price"},
		{"status not allowed", func(f *policy.File) { f.AllowedStatuses = []string{"Active", "Suspended"} }, func(w *world) (string, bool) {
			_, text, isErr := w.call(ctx, "update_client_product", map[string]any{"serviceid": 2, "status": "Terminated"})
			return text, isErr
		}, "not one the policy allows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := policy.Default()
			if c.file != nil {
				c.file(file)
			}
			w := newWorld(t, file)
			text, isErr := c.run(w)
			if !isErr || !strings.Contains(text, c.reason) || !strings.Contains(text, "nothing was changed") {
				t.Errorf("want a tool error saying %q and that nothing changed, got isError=%v %s", c.reason, isErr, text)
			}
			if w.sb.Writes() != 0 {
				t.Errorf("WHMCS was written %d times", w.sb.Writes())
			}
			if c.name != "status changed since the preview" && w.serviceStatus(2) != "Active" {
				t.Errorf("service 2 is now %s", w.serviceStatus(2))
			}
		})
	}
}

// downgrade is the WHMCS docs' example: 13 days of 30 left, $-8.67 USD.
func downgrade() map[string]any {
	return map[string]any{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "monthly"}
}

func TestUpgradeQuoteAndConfirm(t *testing.T) {
	w := newWorld(t, nil)
	quote := downgrade()
	quote["calconly"] = true
	out, text, isErr := w.call(ctx, "upgrade_product", quote)
	if isErr || out["status"] != "confirmation_required" {
		t.Fatalf("calconly: %s", text)
	}
	summary := out["preview"].(map[string]any)["summary"].(string)
	if !strings.Contains(summary, "of client #2") || !strings.Contains(summary, "$-8.67 USD") {
		t.Errorf("summary: %s", summary)
	}
	q := out["preview"].(map[string]any)["quote"].(map[string]any)
	if q["price"] != "$-8.67 USD" || q["amount"] != -8.67 || q["daysuntilrenewal"] != 13.0 || q["totaldays"] != 30.0 {
		t.Errorf("quote: %v", q)
	}
	// The quote's token confirms the real upgrade (calconly left out).
	out, text, isErr = w.call(ctx, "upgrade_product", withToken(downgrade(), out["confirmation_token"]))
	if isErr || out["status"] != "done" {
		t.Fatalf("confirm: %s", text)
	}
	if w.sb.Writes() != 1 {
		t.Errorf("%d writes, want 1", w.sb.Writes())
	}
	var pid int
	w.sb.DB().QueryRow(`SELECT packageid FROM tblhosting WHERE id = 3`).Scan(&pid)
	if pid != 2 {
		t.Errorf("service 3 is on product %d, want 2", pid)
	}
}

func TestConcurrentConfirmationsWriteOnce(t *testing.T) {
	w := newWorld(t, nil)
	args := map[string]any{"serviceid": 2, "status": "Suspended"}
	token := w.previewToken(ctx, "update_client_product", args)
	var done, refused atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, _, isErr := w.call(ctx, "update_client_product", withToken(args, token))
			switch {
			case !isErr && out["status"] == "done":
				done.Add(1)
			case isErr:
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	if w.sb.Writes() != 1 || done.Load() != 1 || refused.Load() != 49 {
		t.Errorf("50 concurrent confirmations: %d writes, %d done, %d refused; want 1, 1, 49", w.sb.Writes(), done.Load(), refused.Load())
	}
}

func TestGuardedFieldsAndUnguardedWrites(t *testing.T) {
	file := policy.Default()
	file.GuardedFields = []string{"recurringamount"}
	w := newWorld(t, file)
	out, text, _ := w.call(ctx, "update_client_product", map[string]any{"serviceid": 2, "recurringamount": 1.5})
	if out["status"] != "confirmation_required" {
		t.Errorf("a policy-guarded field: %s", text)
	}
	out, text, _ = w.call(ctx, "update_client_product", map[string]any{"serviceid": 2, "notes": "hello"})
	if out["status"] != "done" || w.sb.Writes() != 1 {
		t.Errorf("an unguarded field: %s (%d writes)", text, w.sb.Writes())
	}

	// guarded_fields names the fields of both update tools.
	notesGuarded := policy.Default()
	notesGuarded.GuardedFields = []string{"notes"}
	w = newWorld(t, notesGuarded)
	if _, err := w.sb.DB().Exec(`UPDATE tblhosting SET notes = 'keep me' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"update_client_addon", map[string]any{"id": 1, "notes": "addon notes"}},
		{"update_client_product", map[string]any{"serviceid": 2, "notes": "again"}},
		{"update_client_product", map[string]any{"serviceid": 1, "unset": []string{"notes"}}},
	} {
		out, text, _ = w.call(ctx, c.tool, c.args)
		if out["status"] != "confirmation_required" || w.sb.Writes() != 0 {
			t.Errorf("%s %v with notes guarded: %s", c.tool, c.args, text)
		}
	}
}

func TestAuditLogChainsAndHidesSecrets(t *testing.T) {
	w := newWorld(t, nil)
	args := map[string]any{"serviceid": 2, "status": "Suspended", "servicepassword": "hunter2-secret"}
	token := w.previewToken(ctx, "update_client_product", args)
	w.call(ctx, "update_client_product", withToken(args, token))
	w.call(ctx, "update_client_product", withToken(args, token)) // refused: replay
	w.call(ctx, "update_client_product", map[string]any{"serviceid": 2, "notes": "n"})

	data, err := os.ReadFile(w.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2-secret", token, sandbox.DefaultSecret} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the audit log contains a secret: %.20s...", secret)
		}
	}
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		events = append(events, r.Event)
	}
	want := "preview confirmation intent execution refusal intent execution"
	if strings.Join(events, " ") != want {
		t.Errorf("events: %v\nwant: %s", events, want)
	}
	if n, err := audit.VerifyFile(w.auditLog); err != nil || n != len(events) {
		t.Fatalf("verify: %d records, %v", n, err)
	}
	tampered := []byte(strings.Replace(string(data), `"Suspended"`, `"Suspendee"`, 1))
	bad := filepath.Join(t.TempDir(), "tampered.jsonl")
	os.WriteFile(bad, tampered, 0o600)
	if _, err := audit.VerifyFile(bad); err == nil {
		t.Error("a changed byte was not detected")
	}
}

func TestTokensAreShortOpaqueIDs(t *testing.T) {
	w := newWorld(t, nil)
	args := map[string]any{"serviceid": 2, "status": "Suspended"}
	token := w.previewToken(ctx, "update_client_product", args)
	if len(token) > policy.MaxTokenLength || !strings.HasPrefix(token, "wmc_") {
		t.Errorf("token %q: want at most %d characters", token, policy.MaxTokenLength)
	}
	for _, part := range []string{"update_client_product", "Active", "Suspended", "local"} {
		if strings.Contains(token, part) {
			t.Errorf("the token carries %q: %s", part, token)
		}
	}
}
