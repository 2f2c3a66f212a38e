package main

// Reliability end to end: the binary on stdio, driven by the official Go SDK
// client, against the sandbox WHMCS behind internal/faultwhmcs, which makes
// it misbehave. Each fault must give a clear tool error (the text is
// asserted, never a duration), no write may be sent twice, the server must
// keep serving, and calls must succeed again once WHMCS recovers.

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/faultwhmcs"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// faultTimeout is WHMCS_TIMEOUT in these tests: short, so that the faults
// that never answer end soon, yet far above what a healthy sandbox call takes.
const faultTimeout = "2s"

// serveFaulty serves a fresh sandbox WHMCS behind a fault injector on 127.0.0.1.
func serveFaulty(t *testing.T) (*sandbox.Sandbox, *faultwhmcs.WHMCS, string) {
	t.Helper()
	sb, err := sandbox.Open(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	faults := faultwhmcs.New(sb)
	srv := httptest.NewServer(faults)
	t.Cleanup(func() { faults.Close(); srv.Close(); sb.Close() })
	return sb, faults, srv.URL
}

// faultCase is one way WHMCS misbehaves and the tool errors it must give.
type faultCase struct {
	name  string
	rule  faultwhmcs.Rule
	read  []string // in get_clients_products's tool error
	write []string // in update_client_product's tool error
	exact bool     // the read's tool error is exactly read[0] (WHMCS's own message)
	// known: WHMCS refused the write, so its outcome is known (a failure);
	// otherwise the error must say the outcome is unknown and how to check.
	known bool
}

var faultCases = []faultCase{
	{name: "no reply within WHMCS_TIMEOUT", rule: faultwhmcs.Rule{Fault: faultwhmcs.Timeout},
		read:  []string{"WHMCS GetClientsProducts: no reply within " + faultTimeout},
		write: []string{"WHMCS UpdateClientProduct: the request was sent but no reply came within " + faultTimeout}},
	{name: "connection reset", rule: faultwhmcs.Rule{Fault: faultwhmcs.Reset},
		read:  []string{"WHMCS GetClientsProducts: ", "connection reset by peer"},
		write: []string{"WHMCS UpdateClientProduct: the request was sent but no reply came (", "connection reset by peer"}},
	{name: "HTTP 500", rule: faultwhmcs.Rule{Fault: faultwhmcs.HTTP500},
		read:  []string{"WHMCS GetClientsProducts: reply is an HTML page, not JSON", "(HTTP 500, text/html", "Internal Server Error"},
		write: []string{"WHMCS UpdateClientProduct: reply is an HTML page, not JSON", "(HTTP 500, text/html"}},
	{name: "HTTP 503", rule: faultwhmcs.Rule{Fault: faultwhmcs.HTTP503},
		read:  []string{"WHMCS GetClientsProducts: reply is an HTML page, not JSON", "(HTTP 503, text/html", "Service Unavailable"},
		write: []string{"WHMCS UpdateClientProduct: reply is an HTML page, not JSON", "(HTTP 503, text/html"}},
	{name: "maintenance page with HTTP 200", rule: faultwhmcs.Rule{Fault: faultwhmcs.Maintenance},
		read:  []string{"WHMCS GetClientsProducts: reply is an HTML page, not JSON (maintenance mode", "(HTTP 200, text/html", "Down for Maintenance"},
		write: []string{"WHMCS UpdateClientProduct: reply is an HTML page, not JSON (maintenance mode", "(HTTP 200, text/html"}},
	{name: "truncated JSON", rule: faultwhmcs.Rule{Fault: faultwhmcs.Truncated},
		read:  []string{"WHMCS GetClientsProducts: reply is malformed JSON: unexpected end of JSON input (HTTP 200, application/json)"},
		write: []string{"WHMCS UpdateClientProduct: reply is malformed JSON: unexpected end of JSON input"}},
	{name: "malformed JSON (a PHP notice after it)", rule: faultwhmcs.Rule{Fault: faultwhmcs.MalformedJSON},
		read:  []string{"WHMCS GetClientsProducts: reply is malformed JSON: invalid character '<' after top-level value"},
		write: []string{"WHMCS UpdateClientProduct: reply is malformed JSON: invalid character '<' after top-level value"}},
	{name: "Malformed UTF-8 error", rule: faultwhmcs.Rule{Fault: faultwhmcs.MalformedUTF8},
		read: []string{faultwhmcs.MalformedUTF8Message}, exact: true,
		write: []string{faultwhmcs.MalformedUTF8Message + ". The outcome is unknown: WHMCS may have made the change."}},
	{name: "403 Invalid IP", rule: faultwhmcs.Rule{Fault: faultwhmcs.InvalidIP},
		read: []string{faultwhmcs.InvalidIPMessage}, exact: true,
		write: []string{faultwhmcs.InvalidIPMessage}, known: true},
}

func TestWHMCSFaultsOverStdio(t *testing.T) {
	sb, faults, url := serveFaulty(t)
	session := connectStdio(t, url, []string{"WHMCS_TIMEOUT=" + faultTimeout}, nil)
	ctx := context.Background()
	n := 0
	healthy := func(t *testing.T) {
		t.Helper()
		n++
		notes := "healthy " + string(rune('a'+n%26))
		res := callTool(t, session, "update_client_product", map[string]any{"serviceid": 2, "notes": notes})
		if res.IsError {
			t.Fatalf("after recovery, update_client_product: %s", text(res))
		}
		res = callTool(t, session, "get_clients_products", map[string]any{"serviceid": 2})
		if res.IsError || !strings.Contains(text(res), `"notes":"`+notes+`"`) {
			t.Fatalf("after recovery, get_clients_products: isError=%v %.300s", res.IsError, text(res))
		}
	}
	healthy(t)

	for _, c := range faultCases {
		for _, pass := range []bool{false, true} {
			if pass && c.rule.Fault == faultwhmcs.Timeout {
				continue // the same to the client; see policy's TestOutcomeUnknownKeepsTheTokenSpent
			}
			if pass && (c.known || c.rule.Fault == faultwhmcs.Truncated || c.rule.Fault == faultwhmcs.MalformedJSON) {
				continue // WHMCS refuses before it acts; the corrupted replies always are WHMCS's real ones
			}
			name := c.name
			if pass {
				name += " after WHMCS acted"
			}
			t.Run(name, func(t *testing.T) {
				rule := c.rule
				rule.Pass = pass
				faults.Set(rule)
				reads, writes, sandboxWrites := faults.Count("GetClientsProducts"), faults.Count("UpdateClientProduct"), sb.Writes()

				res := callTool(t, session, "get_clients_products", map[string]any{"serviceid": 2})
				checkToolError(t, "get_clients_products", res, c.read, c.exact)
				if got := faults.Count("GetClientsProducts") - reads; got != 1 {
					t.Errorf("the read reached WHMCS %d times, want 1 (the request was sent: no retry)", got)
				}

				notes := "fault " + name
				res = callTool(t, session, "update_client_product", map[string]any{"serviceid": 2, "notes": notes})
				want := c.write
				if !c.known {
					want = append(want, "outcome is unknown", `Do not retry blindly: read the service back with get_clients_products {"serviceid": 2}`)
				}
				checkToolError(t, "update_client_product", res, want, c.known)
				if c.known && strings.Contains(text(res), "outcome") {
					t.Errorf("a refused write is a known outcome: %s", text(res))
				}
				if got := faults.Count("UpdateClientProduct") - writes; got != 1 {
					t.Errorf("the write reached WHMCS %d times, want exactly 1 (a write is never retried)", got)
				}
				wantWrites := int64(0)
				if pass || rule.Fault == faultwhmcs.Truncated || rule.Fault == faultwhmcs.MalformedJSON { // these corrupt WHMCS's real reply
					wantWrites = 1
				}
				if got := sb.Writes() - sandboxWrites; got != wantWrites {
					t.Errorf("the sandbox made %d writes, want %d", got, wantWrites)
				}

				faults.Clear()
				if err := session.Ping(ctx, nil); err != nil {
					t.Fatalf("the server stopped serving: %v", err)
				}
				healthy(t)
			})
		}
	}

	t.Run("latency within WHMCS_TIMEOUT", func(t *testing.T) {
		faults.Set(faultwhmcs.Rule{Fault: faultwhmcs.Latency, Delay: 300 * time.Millisecond})
		defer faults.Clear()
		before := faults.Count("UpdateClientProduct")
		healthy(t)
		if got := faults.Count("UpdateClientProduct") - before; got != 1 {
			t.Errorf("the write reached WHMCS %d times, want 1", got)
		}
	})
	t.Run("latency beyond WHMCS_TIMEOUT", func(t *testing.T) {
		faults.Set(faultwhmcs.Rule{Fault: faultwhmcs.Latency, Delay: time.Hour})
		res := callTool(t, session, "get_payment_methods", map[string]any{})
		checkToolError(t, "get_payment_methods", res, []string{"WHMCS GetPaymentMethods: no reply within " + faultTimeout}, false)
		faults.Clear()
		healthy(t)
	})

	// Everything still listed and served.
	list, err := session.ListTools(ctx, nil)
	if err != nil || len(list.Tools) != len(tools.All(nil)) {
		t.Fatalf("tools/list after the faults: %v, %d tools", err, len(list.Tools))
	}
}

// checkToolError checks that res is a tool error (isError, not a protocol
// error) whose text contains every one of want, or is exactly want[0].
func checkToolError(t *testing.T, tool string, res *sdk.CallToolResult, want []string, exact bool) {
	t.Helper()
	got := text(res)
	if !res.IsError {
		t.Errorf("%s: want a tool error, got %.300s", tool, got)
		return
	}
	if exact {
		if got != want[0] {
			t.Errorf("%s: tool error %q, want exactly %q", tool, got, want[0])
		}
		return
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: tool error does not say %q:\n%s", tool, w, got)
		}
	}
}

// TestOutcomeUnknownOverStdio: a confirmed status change whose reply is lost
// after WHMCS made it. The tool error says the outcome is unknown and how to
// check; the audit log records it; the token stays spent.
func TestOutcomeUnknownOverStdio(t *testing.T) {
	sb, faults, url := serveFaulty(t)
	dir := t.TempDir()
	auditLog := filepath.Join(dir, "audit.jsonl")
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte("confirmation: token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	session := connectStdio(t, url, []string{"WHMCS_TIMEOUT=" + faultTimeout}, nil, "--audit-log", auditLog, "--policy", policyFile)

	args := map[string]any{"serviceid": 2, "status": "Suspended"}
	res := callTool(t, session, "update_client_product", args)
	var out map[string]any
	json.Unmarshal([]byte(text(res)), &out)
	token, _ := out["confirmation_token"].(string)
	if res.IsError || out["status"] != "confirmation_required" || token == "" {
		t.Fatalf("preview: %s", text(res))
	}

	// WHMCS makes the change, then the connection is reset before the reply.
	faults.Set(faultwhmcs.Rule{Fault: faultwhmcs.Reset, Pass: true, Match: faultwhmcs.IsWrite})
	args["confirmation_token"] = token
	res = callTool(t, session, "update_client_product", args)
	faults.Clear()
	checkToolError(t, "confirmed update_client_product", res, []string{
		"WHMCS UpdateClientProduct: the request was sent but no reply came", "the outcome is unknown",
		`Do not retry blindly: read the service back with get_clients_products {"serviceid": 2} to see whether the change was made.`,
		"The confirmation token is used up",
	}, false)

	// The same token again: refused, and nothing reaches WHMCS's write API.
	res = callTool(t, session, "update_client_product", args)
	checkToolError(t, "second confirmation", res, []string{"refused: the token was already used"}, false)
	var writes int
	for _, r := range faults.Requests() {
		if faultwhmcs.IsWrite(r) {
			writes++
		}
	}
	if writes != 1 || sb.Writes() != 1 {
		t.Errorf("%d write requests reached WHMCS and the sandbox made %d writes; want exactly 1 each", writes, sb.Writes())
	}

	// The check the error advises tells what happened.
	res = callTool(t, session, "get_clients_products", map[string]any{"serviceid": 2})
	if res.IsError || !strings.Contains(text(res), `"status":"Suspended"`) {
		t.Errorf("reading the service back: %.300s", text(res))
	}

	session.Close()
	events := auditEvents(t, auditLog)
	if want := "preview confirmation intent outcome_unknown refusal"; strings.Join(events, " ") != want {
		t.Errorf("audit events %v, want %s", events, want)
	}
	verify := exec.Command(binary, "audit", "verify", auditLog)
	if msg, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(msg), "5 records, chain intact") {
		t.Errorf("audit verify: %v %s", err, msg)
	}
}

// auditEvents returns the event of every complete record in an audit log.
func auditEvents(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r audit.Record
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			events = append(events, r.Event)
		}
	}
	return events
}
