package policy_test

// Writes whose outcome is unknown: the request reached WHMCS (served by the
// sandbox behind internal/faultwhmcs) and no usable reply came back.

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/faultwhmcs"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// newFaultWorld is newWorld with WHMCS behind a fault injector, and a short
// WHMCS timeout.
func newFaultWorld(t *testing.T) (*world, *faultwhmcs.WHMCS) {
	t.Helper()
	sb, err := sandbox.Open(sandbox.Options{Now: sandbox.FixedClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	faults := faultwhmcs.New(sb)
	srv := httptest.NewServer(faults)
	t.Cleanup(func() { faults.Close(); srv.Close(); sb.Close() })
	c, err := whmcs.New(whmcs.Config{URL: srv.URL, Identifier: sandbox.DefaultIdentifier, Secret: sandbox.DefaultSecret,
		Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	file := policy.Default()
	file.Confirmation = policy.ConfirmToken
	p, err := policy.New(file, policy.Options{Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, sb: sb, policy: p, tools: map[string]tools.Tool{}, auditLog: logPath}
	for _, tool := range tools.All(&tools.Deps{WHMCS: c, Gate: p}) {
		w.tools[tool.Name] = tool
	}
	return w, faults
}

// records reads the audit log.
func records(t *testing.T, path string) []audit.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func TestOutcomeUnknownKeepsTheTokenSpent(t *testing.T) {
	cases := []struct {
		name   string
		tool   string
		args   map[string]any
		rule   faultwhmcs.Rule
		action string
		writes int64  // writes the sandbox made
		text   string // in the tool error
		check  string // how to check, in the tool error
	}{
		{"reply lost to a reset", "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"},
			faultwhmcs.Rule{Fault: faultwhmcs.Reset, Pass: true}, "UpdateClientProduct", 1,
			"the request was sent but no reply came", `read the service back with get_clients_products {"serviceid": 2}`},
		{"no reply within the timeout", "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"},
			faultwhmcs.Rule{Fault: faultwhmcs.Timeout}, "UpdateClientProduct", 0,
			"no reply came within 1s; the outcome is unknown", `read the service back with get_clients_products {"serviceid": 2}`},
		{"maintenance page", "update_client_addon", map[string]any{"id": 1, "status": "Suspended"},
			faultwhmcs.Rule{Fault: faultwhmcs.Maintenance}, "UpdateClientAddon", 0,
			"reply is an HTML page", "read the addon back with get_clients_addons (client addon id 1)"},
		{"truncated reply", "upgrade_product", downgrade(),
			faultwhmcs.Rule{Fault: faultwhmcs.Truncated}, "UpgradeProduct", 1,
			"reply is malformed JSON", `read the service back with get_clients_products {"serviceid": 3}`},
		{"Malformed UTF-8 after the upgrade", "upgrade_product", downgrade(),
			faultwhmcs.Rule{Fault: faultwhmcs.MalformedUTF8, Pass: true}, "UpgradeProduct", 1,
			faultwhmcs.MalformedUTF8Message + ". The outcome is unknown: WHMCS may have made the change.",
			`read the service back with get_clients_products {"serviceid": 3}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, faults := newFaultWorld(t)
			token := w.previewToken(ctx, c.tool, c.args)
			c.rule.Match = faultwhmcs.IsWrite // the confirmation's re-read and fresh quote go through
			faults.Set(c.rule)
			before := faults.Count(c.action)
			_, text, isErr := w.call(ctx, c.tool, withToken(c.args, token))
			faults.Clear()
			if !isErr {
				t.Fatalf("confirmed call: want a tool error, got %s", text)
			}
			for _, want := range []string{c.text, "outcome is unknown", c.check, "Do not retry blindly", "The confirmation token is used up"} {
				if !strings.Contains(text, want) {
					t.Errorf("the tool error does not say %q:\n%s", want, text)
				}
			}
			if c.tool == "upgrade_product" && !strings.HasPrefix(text, "WHMCS UpgradeProduct") && !strings.HasPrefix(text, faultwhmcs.MalformedUTF8Message) {
				t.Errorf("the tool error does not start with WHMCS's error: %s", text)
			}

			// The same token again: refused, nothing sent.
			sent := faults.Count(c.action)
			_, text, isErr = w.call(ctx, c.tool, withToken(c.args, token))
			if !isErr || !strings.Contains(text, "the token was already used") {
				t.Errorf("second confirmation: want a refusal, got %s", text)
			}
			if got := faults.Count(c.action) - sent; got != 0 {
				t.Errorf("the refused confirmation sent %d %s requests", got, c.action)
			}
			writes := 0
			for _, r := range faults.Requests() {
				if faultwhmcs.IsWrite(r) {
					writes++
				}
			}
			if writes != 1 {
				t.Errorf("%d %s write requests reached WHMCS, want exactly 1 (sent %d requests in all since the preview)", writes, c.action, faults.Count(c.action)-before)
			}
			if w.sb.Writes() != c.writes {
				t.Errorf("the sandbox made %d writes, want %d", w.sb.Writes(), c.writes)
			}

			var events []string
			var unknown audit.Record
			for _, r := range records(t, w.auditLog) {
				events = append(events, r.Event)
				if r.Event == audit.EventOutcomeUnknown {
					unknown = r
				}
			}
			want := "preview confirmation intent outcome_unknown refusal"
			if strings.Join(events, " ") != want {
				t.Errorf("audit events: %v, want %s", events, want)
			}
			reply, _ := unknown.Reply.(string)
			if unknown.TokenID == "" || !strings.Contains(reply, c.text[:20]) || unknown.Tool != c.tool {
				t.Errorf("outcome_unknown record: %+v", unknown)
			}
			if _, err := audit.VerifyFile(w.auditLog); err != nil {
				t.Errorf("audit verify: %v", err)
			}
		})
	}
}

// An unguarded write (no token) whose outcome is unknown: the same message
// without the token advice, and the outcome_unknown record.
func TestOutcomeUnknownOfAnUnguardedWrite(t *testing.T) {
	w, faults := newFaultWorld(t)
	faults.Set(faultwhmcs.Rule{Fault: faultwhmcs.HTTP503, Actions: []string{"UpdateClientProduct"}})
	_, text, isErr := w.call(ctx, "update_client_product", map[string]any{"serviceid": 2, "notes": "n"})
	if !isErr || !strings.Contains(text, "(HTTP 503") || !strings.Contains(text, "the outcome is unknown") ||
		!strings.Contains(text, `get_clients_products {"serviceid": 2}`) || strings.Contains(text, "token") {
		t.Errorf("tool error: %s", text)
	}
	if n := faults.Count("UpdateClientProduct"); n != 1 {
		t.Errorf("%d UpdateClientProduct requests, want 1 (a write is never retried)", n)
	}
	var events []string
	for _, r := range records(t, w.auditLog) {
		events = append(events, r.Event)
	}
	if strings.Join(events, " ") != "intent outcome_unknown" {
		t.Errorf("audit events: %v", events)
	}
}

// WHMCS refusing the write (403 Invalid IP) is a known outcome: a failure,
// WHMCS's message unchanged.
func TestRefusedWriteIsAFailure(t *testing.T) {
	w, faults := newFaultWorld(t)
	token := w.previewToken(ctx, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"})
	faults.Set(faultwhmcs.Rule{Fault: faultwhmcs.InvalidIP, Actions: []string{"UpdateClientProduct"}})
	_, text, isErr := w.call(ctx, "update_client_product", withToken(map[string]any{"serviceid": 2, "status": "Suspended"}, token))
	if !isErr || text != faultwhmcs.InvalidIPMessage {
		t.Errorf("tool error: %q, want %q", text, faultwhmcs.InvalidIPMessage)
	}
	var events []string
	for _, r := range records(t, w.auditLog) {
		events = append(events, r.Event)
	}
	if strings.Join(events, " ") != "preview confirmation intent failure" {
		t.Errorf("audit events: %v", events)
	}
}
