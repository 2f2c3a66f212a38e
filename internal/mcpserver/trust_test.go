package mcpserver

// Regression tests of the trust promise, one a hole found by trying the
// server as an attacker would: no status change, upgrade or money change
// without the confirmation the policy demands, and a scoped caller sees
// nothing beyond its clients. Each runs through the MCP protocol (mcp-go's
// in-process client) against the sandbox over loopback.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// trustWorld is one sandbox behind servers whose policies may differ but
// may share a confirmation ledger, as replicas do.
type trustWorld struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	url    string
	ledger policy.Ledger
	audit  string
	log    *audit.Log
}

func newTrustWorld(t *testing.T) *trustWorld {
	t.Helper()
	sb, url := sandboxtest.Serve(t, sandbox.Options{})
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return &trustWorld{t: t, sb: sb, url: url, ledger: policy.NewMemoryLedger(), audit: path, log: log}
}

// server returns an MCP server with policy file on the world's sandbox,
// ledger and audit log.
func (w *trustWorld) server(file *policy.File) *server.MCPServer {
	w.t.Helper()
	srv, _ := w.serverWithPolicy(file)
	return srv
}

// serverWithPolicy returns server's MCP server and its policy.
func (w *trustWorld) serverWithPolicy(file *policy.File) (*server.MCPServer, *policy.Policy) {
	w.t.Helper()
	wc := sandboxtest.Client(w.t, w.url)
	pol, err := policy.New(file, policy.Options{Ledger: w.ledger, Audit: w.log, Operations: tools.Operations(wc),
		ApprovalURL: "https://mcp.example.com/approvals"})
	if err != nil {
		w.t.Fatal(err)
	}
	srv, err := New(Options{WHMCS: wc, Gate: pol, Allowed: pol.Allowed, Tailor: pol.Tailor, Version: "test",
		ServerOptions: []server.ServerOption{server.WithElicitation()}})
	if err != nil {
		w.t.Fatal(err)
	}
	return srv, pol
}

// connect returns an initialized in-process client of srv; with a handler
// it can ask its user (elicitation).
func (w *trustWorld) connect(srv *server.MCPServer, asker *answer) *client.Client {
	w.t.Helper()
	if asker != nil {
		return w.connectWith(srv, client.WithElicitationHandler(asker))
	}
	return w.connectWith(srv)
}

// connectWith returns an initialized in-process client of srv.
func (w *trustWorld) connectWith(srv *server.MCPServer, opts ...client.ClientOption) *client.Client {
	w.t.Helper()
	c, err := client.NewInProcessClientWithOptions(srv, opts...)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "attacker", Version: "1"}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := c.Initialize(ctx, init); err != nil {
		w.t.Fatal(err)
	}
	return c
}

// records returns the audit log's records.
func (w *trustWorld) records() []audit.Record {
	w.t.Helper()
	data, err := os.ReadFile(w.audit)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []audit.Record
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// callAs calls a tool as the caller of ctx.
func callAs(t *testing.T, ctx context.Context, c *client.Client, name string, args map[string]any) (*mcp.CallToolResult, map[string]any, string) {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var text string
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	var out map[string]any
	json.Unmarshal([]byte(text), &out)
	return res, out, text
}

func withMode(mode string) *policy.File {
	f := policy.Default()
	f.Confirmation = mode
	return f
}

func accepting() *answer {
	return &answer{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": true}}
}

func with(args map[string]any, key string, value any) map[string]any {
	out := map[string]any{key: value}
	for k, v := range args {
		out[k] = v
	}
	return out
}

// downgradeArgs is the WHMCS docs' example upgrade ($-8.67 USD), which every
// default limit allows.
func downgradeArgs() map[string]any {
	return map[string]any{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "monthly"}
}

// Hole 1: in human mode a calconly quote's token confirmed the upgrade.
func TestHumanModeIsNotBypassedWithAQuotesToken(t *testing.T) {
	w := newTrustWorld(t)
	human := w.server(withMode(policy.ConfirmHuman))
	for name, asker := range map[string]*answer{"client without elicitation": nil, "client with elicitation": accepting()} {
		t.Run(name, func(t *testing.T) {
			c := w.connect(human, asker)
			_, out, text := call(t, c, "upgrade_product", with(downgradeArgs(), "calconly", true))
			if out["status"] != "quote" || out["confirmation_token"] != nil {
				t.Errorf("a quote in human mode: want status quote and no token, got %s", text)
			}
			if asker != nil && len(asker.messages) != 0 {
				t.Errorf("a quote asked the user %q", asker.messages)
			}
		})
	}
	// A token from a replica in token mode sharing the ledger, or from a
	// client of this server that cannot elicit (auto mode), confirms nothing
	// here.
	token := w.connect(w.server(withMode(policy.ConfirmToken)), nil)
	_, out, _ := call(t, token, "upgrade_product", with(downgradeArgs(), "calconly", true))
	quoteToken, _ := out["confirmation_token"].(string)
	if quoteToken == "" {
		t.Fatal("token mode issued no token with the quote")
	}
	asker := accepting()
	res, _, text := call(t, w.connect(human, asker), "upgrade_product", with(downgradeArgs(), "confirmation_token", quoteToken))
	if !res.IsError || !strings.Contains(text, "confirms nothing here") {
		t.Errorf("a quote's token in human mode: %s", text)
	}

	auto := w.server(withMode(policy.ConfirmAuto))
	suspend := map[string]any{"serviceid": 2, "status": "Suspended"}
	_, out, text = call(t, w.connect(auto, nil), "update_client_product", suspend)
	autoToken, _ := out["confirmation_token"].(string)
	if autoToken == "" {
		t.Fatalf("auto mode, a client that cannot elicit: want a token, got %s", text)
	}
	res, _, text = call(t, w.connect(auto, asker), "update_client_product", with(suspend, "confirmation_token", autoToken))
	if !res.IsError || !strings.Contains(text, "confirms nothing here") {
		t.Errorf("auto mode, a client that can elicit, with a token: %s", text)
	}
	if w.sb.Writes() != 0 || len(asker.messages) != 0 {
		t.Errorf("%d writes, the user was asked %q", w.sb.Writes(), asker.messages)
	}
}

// Hole 2: guards matched argument names: autorecalc, configoptions, pid and
// unset changed guarded effects at once, and an addon's money was unguarded.
func TestGuardsFollowEffects(t *testing.T) {
	w := newTrustWorld(t)
	c := w.connect(w.server(withMode(policy.ConfirmToken)), nil)
	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"update_client_product", map[string]any{"serviceid": 2, "configoptions": map[string]any{"1": 2}, "autorecalc": true}},
		{"update_client_product", map[string]any{"serviceid": 7, "autorecalc": true}},
		{"update_client_product", map[string]any{"serviceid": 2, "pid": 4}},
		{"update_client_product", map[string]any{"serviceid": 2, "configoptions": map[string]any{"1": 2}}},
		{"update_client_product", map[string]any{"serviceid": 2, "promoid": 1}},
		{"update_client_product", map[string]any{"serviceid": 2, "firstpaymentamount": 1}},
		{"update_client_product", map[string]any{"serviceid": 2, "terminationdate": "2027-01-01"}},
		{"update_client_product", map[string]any{"serviceid": 2, "overideautosuspend": "on"}},
		{"update_client_addon", map[string]any{"id": 1, "recurring": 99}},
		{"update_client_addon", map[string]any{"id": 1, "setupfee": 99}},
		{"update_client_addon", map[string]any{"id": 1, "billingcycle": "Annually"}},
		{"update_client_addon", map[string]any{"id": 1, "nextduedate": "2027-01-01"}},
		{"update_client_addon", map[string]any{"id": 1, "addonid": 2}},
		{"update_client_addon", map[string]any{"id": 1, "autorecalc": true}},
	} {
		_, out, text := call(t, c, tc.tool, tc.args)
		if out["status"] != "confirmation_required" {
			t.Errorf("%s %v: want a preview, got %s", tc.tool, tc.args, text)
		}
	}
	if w.sb.Writes() != 0 {
		t.Errorf("%d writes", w.sb.Writes())
	}

	// unset of a guarded field changes it.
	notes := policy.Default()
	notes.Confirmation = policy.ConfirmToken
	notes.GuardedFields = []string{"notes"}
	if _, err := w.sb.DB().Exec(`UPDATE tblhosting SET notes = 'keep' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	_, out, text := call(t, w.connect(w.server(notes), nil), "update_client_product", map[string]any{"serviceid": 2, "unset": []string{"notes"}})
	if out["status"] != "confirmation_required" || w.sb.Writes() != 0 {
		t.Errorf("unset of a guarded field: %s", text)
	}
}

// Hole 3: without a policy file no guard applied but status.
func TestDefaultsGuardEveryEffect(t *testing.T) {
	w := newTrustWorld(t)
	c := w.connect(w.server(nil), nil)
	for _, args := range []map[string]any{{"serviceid": 2, "pid": 4}, {"serviceid": 2, "recurringamount": 1}, {"serviceid": 2, "nextduedate": "2027-01-01"}} {
		if _, out, text := call(t, c, "update_client_product", args); out["status"] != "confirmation_required" {
			t.Errorf("%v: want a preview, got %s", args, text)
		}
	}
	if res, _, text := call(t, c, "update_client_product", map[string]any{"serviceid": 2, "status": "Fraud"}); !res.IsError || !strings.Contains(text, "not one the policy allows") {
		t.Errorf("status Fraud: %s", text)
	}
	expensive := map[string]any{"serviceid": 4, "paymentmethod": "paypal", "type": "product", "newproductid": 7, "newproductbillingcycle": "monthly"}
	if res, _, text := call(t, c, "upgrade_product", expensive); !res.IsError || !strings.Contains(text, "max_upgrade_price") {
		t.Errorf("an upgrade above 50: %s", text)
	}
	if w.sb.Writes() != 0 {
		t.Errorf("%d writes", w.sb.Writes())
	}
}

// Hole 4: refusals named other clients' services and domains.
func TestOutOfScopeLooksLikeNotFound(t *testing.T) {
	w := newTrustWorld(t)
	c := w.connect(w.server(withMode(policy.ConfirmToken)), nil)
	scoped := policy.WithPrincipal(context.Background(), &policy.Principal{Name: "support-bot", Clients: []int{2}})
	var clientFourAddon int
	if err := w.sb.DB().QueryRow(`SELECT id FROM tblhostingaddons WHERE userid = 4 LIMIT 1`).Scan(&clientFourAddon); err != nil {
		t.Fatal(err)
	}
	upgrade := func(id int) map[string]any {
		return map[string]any{"serviceid": id, "paymentmethod": "paypal", "type": "product", "newproductid": 5, "newproductbillingcycle": "monthly", "calconly": true}
	}
	for _, tc := range []struct {
		tool             string
		outside, missing map[string]any
	}{
		{"upgrade_product", upgrade(9), upgrade(99999)},
		{"update_client_product", map[string]any{"serviceid": 9, "status": "Suspended"}, map[string]any{"serviceid": 99999, "status": "Suspended"}},
		{"update_client_product", map[string]any{"serviceid": 9, "notes": "x"}, map[string]any{"serviceid": 99999, "notes": "x"}},
		{"update_client_addon", map[string]any{"id": clientFourAddon, "status": "Suspended"}, map[string]any{"id": 99999, "status": "Suspended"}},
		{"get_clients_products", map[string]any{"serviceid": 9}, map[string]any{"serviceid": 99999}},
		{"get_clients_products", map[string]any{"clientid": 4}, map[string]any{"clientid": 99999}},
		{"get_clients_addons", map[string]any{"clientid": 4}, map[string]any{"clientid": 99999}},
	} {
		a, _, outside := callAs(t, scoped, c, tc.tool, tc.outside)
		b, _, missing := callAs(t, scoped, c, tc.tool, tc.missing)
		if outside != missing || a.IsError != b.IsError {
			t.Errorf("%s %v: %s\nwhile what does not exist gets: %s", tc.tool, tc.outside, outside, missing)
		}
		if strings.Contains(outside, "tanakalabs") || strings.Contains(outside, "#4") || strings.Contains(outside, "VPS") {
			t.Errorf("%s %v names client 4's records: %s", tc.tool, tc.outside, outside)
		}
	}
	refusals := 0
	for _, r := range w.records() {
		if r.Event == "refusal" && r.Principal == "support-bot" {
			refusals++
		}
	}
	if refusals < 7 {
		t.Errorf("%d refusals audited, want one for each out-of-scope call (7)", refusals)
	}
	if w.sb.Writes() != 0 {
		t.Errorf("%d writes", w.sb.Writes())
	}
}

// Hole 5: the token carried sha256(current service password).
func TestNothingSentIsDerivedFromASecret(t *testing.T) {
	w := newTrustWorld(t)
	c := w.connect(w.server(withMode(policy.ConfirmToken)), nil)
	var password string
	if err := w.sb.DB().QueryRow(`SELECT password FROM tblhosting WHERE id = 2`).Scan(&password); err != nil || password == "" {
		t.Fatalf("service 2's password: %q %v", password, err)
	}
	_, out, text := call(t, c, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended", "servicepassword": "n3w-Secret!"})
	if out["status"] != "confirmation_required" {
		t.Fatalf("preview: %s", text)
	}
	b, _ := json.Marshal(password)
	for _, sum := range [][32]byte{sha256.Sum256(b), sha256.Sum256([]byte(password))} {
		if strings.Contains(text, hex.EncodeToString(sum[:])) {
			t.Errorf("the result carries a digest of the password: %s", text)
		}
	}
	for _, secret := range []string{password, "n3w-Secret!", "sha256"} {
		if strings.Contains(text, secret) {
			t.Errorf("the result carries %q: %s", secret, text)
		}
	}
	if token := out["confirmation_token"].(string); len(token) > policy.MaxTokenLength {
		t.Errorf("token of %d characters", len(token))
	}
}

// Hole 6: a value with line breaks pushed the status line out of the
// question a person reads.
func TestTheQuestionCannotBeForged(t *testing.T) {
	w := newTrustWorld(t)
	asker := &answer{action: mcp.ElicitationResponseActionDecline}
	c := w.connect(w.server(withMode(policy.ConfirmHuman)), asker)
	forged := "(none).\n\nThis request only updates the internal note; nothing else changes.\n\n\n\n" + strings.Repeat("x", 300)
	call(t, c, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended", "notes": forged})
	if len(asker.messages) != 1 {
		t.Fatalf("asked %d times", len(asker.messages))
	}
	lines := strings.Split(asker.messages[0], "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], "- status: ") || !strings.HasPrefix(lines[2], "- notes: ") || lines[3] != "" {
		t.Fatalf("the question is not one change a line, status first:\n%s", asker.messages[0])
	}
	if !strings.Contains(lines[2], `\n\nThis request`) || !strings.Contains(lines[2], "characters in all") || len(lines[2]) > 200 {
		t.Errorf("the notes line is not escaped and cut: %s", lines[2])
	}
	if w.sb.Writes() != 0 {
		t.Errorf("%d writes", w.sb.Writes())
	}
}

// Hole 9: a token was bound only to a principal's name, so a replica with
// another policy accepted it.
func TestTokensAreBoundToThePolicyAndTheCaller(t *testing.T) {
	w := newTrustWorld(t)
	generous := withMode(policy.ConfirmToken)
	limit := 1000.0
	generous.MaxUpgradePrice = &limit
	issuer := w.connect(w.server(withMode(policy.ConfirmToken)), nil)
	other := w.connect(w.server(generous), nil)
	suspend := map[string]any{"serviceid": 2, "status": "Suspended"}
	_, out, _ := call(t, issuer, "update_client_product", suspend)
	res, _, text := call(t, other, "update_client_product", with(suspend, "confirmation_token", out["confirmation_token"]))
	if !res.IsError || !strings.Contains(text, "another policy") {
		t.Errorf("a token used under another policy: %s", text)
	}
	// The same name with another scope is another caller.
	_, out, _ = call(t, issuer, "update_client_product", suspend)
	narrower := policy.WithPrincipal(context.Background(), &policy.Principal{Name: policy.LocalPrincipal, Clients: []int{1}})
	res, _, text = callAs(t, narrower, issuer, "update_client_product", with(suspend, "confirmation_token", out["confirmation_token"]))
	if !res.IsError || !strings.Contains(text, "another caller") {
		t.Errorf("a token used by the same name with another scope: %s", text)
	}
	if w.sb.Writes() != 0 {
		t.Errorf("%d writes", w.sb.Writes())
	}
}

// Hole 10: read-scope refusals, not-found ids on writes and calls of tools a
// caller may not use left no record; a quote was recorded without calconly.
func TestRefusalsAreAudited(t *testing.T) {
	w := newTrustWorld(t)
	limited := withMode(policy.ConfirmToken)
	limited.Tools = []string{"get_clients_products", "update_client_product", "upgrade_product"}
	c := w.connect(w.server(limited), nil)
	scoped := policy.WithPrincipal(context.Background(), &policy.Principal{Name: "support-bot", Clients: []int{2}})
	callAs(t, scoped, c, "get_clients_products", map[string]any{"clientid": 1})
	call(t, c, "update_client_product", map[string]any{"serviceid": 99999, "status": "Suspended"})
	req := mcp.CallToolRequest{}
	req.Params.Name = "get_payment_methods"
	if _, err := c.CallTool(context.Background(), req); err == nil {
		t.Error("a tool outside the allowlist was callable")
	}
	call(t, c, "upgrade_product", with(downgradeArgs(), "calconly", true))

	want := map[string]bool{}
	for _, r := range w.records() {
		switch {
		case r.Event == "refusal" && r.Tool == "get_clients_products" && r.Principal == "support-bot":
			want["read out of scope"] = true
		case r.Event == "failure" && r.Tool == "update_client_product" && strings.Contains(r.Reply.(string), "Service ID Not Found"):
			want["write of a service that does not exist"] = true
		case r.Event == "refusal" && r.Tool == "get_payment_methods":
			want["tool not allowed"] = true
		case r.Tool == "upgrade_product" && r.Arguments["calconly"] == true:
			want["quote with calconly"] = true
		}
	}
	for _, what := range []string{"read out of scope", "write of a service that does not exist", "tool not allowed", "quote with calconly"} {
		if !want[what] {
			t.Errorf("no audit record of a %s", what)
		}
	}
}

// Hole 11: a change to the value a field already holds asked anyway.
func TestNoChangeAsksNobody(t *testing.T) {
	w := newTrustWorld(t)
	asker := accepting()
	c := w.connect(w.server(withMode(policy.ConfirmAuto)), asker)
	_, out, text := call(t, c, "update_client_product", map[string]any{"serviceid": 2, "status": "Active"})
	if out["status"] != "unchanged" || len(asker.messages) != 0 || w.sb.Writes() != 0 {
		t.Errorf("status Active → Active: %s (asked %d times, %d writes)", text, len(asker.messages), w.sb.Writes())
	}
	if last := w.records(); last[len(last)-1].Event != "unchanged" {
		t.Errorf("audited as %s", last[len(last)-1].Event)
	}
}
