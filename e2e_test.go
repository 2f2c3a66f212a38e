package main

// End-to-end tests: the real binary, driven over stdio by an independent MCP
// client (the official Go SDK), against the sandbox WHMCS served over HTTP on
// 127.0.0.1 by the test process, so that the test can look at the sandbox's
// state directly.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// binary is the whmcs-mcp binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "whmcs-mcp-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "whmcs-mcp")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building whmcs-mcp: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// serveSandbox serves a fresh sandbox WHMCS on 127.0.0.1.
func serveSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Sandbox, string) {
	return sandboxtest.Serve(t, opts)
}

// connectStdio starts the binary against WHMCS at url and connects the
// official Go SDK client to it over stdio.
func connectStdio(t *testing.T, url string, env []string, opts *sdk.ClientOptions, args ...string) *sdk.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(),
		"WHMCS_URL="+url,
		"WHMCS_IDENTIFIER="+sandbox.DefaultIdentifier,
		"WHMCS_SECRET="+sandbox.DefaultSecret,
		"NO_COLOR=1",
	)
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client := sdk.NewClient(&sdk.Implementation{Name: "e2e", Version: "1"}, opts)
	session, err := client.Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		session.Close()
		if t.Failed() {
			t.Logf("server stderr:\n%s", stderr.String())
		}
	})
	return session
}

func compileSchema(t *testing.T, name string, schema any) *jsonschema.Schema {
	t.Helper()
	raw, err := json.Marshal(schema)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///"+name, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///" + name)
	if err != nil {
		t.Fatalf("schema %s does not compile: %v", name, err)
	}
	return s
}

func callTool(t *testing.T, s *sdk.ClientSession, name string, args map[string]any) *sdk.CallToolResult {
	t.Helper()
	res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func text(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestStdioEndToEnd(t *testing.T) {
	sb, url := serveSandbox(t, sandbox.Options{})
	session := connectStdio(t, url, nil, nil)
	ctx := context.Background()

	list, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]*jsonschema.Schema{}
	for _, tool := range list.Tools {
		compileSchema(t, tool.Name+".input", tool.InputSchema)
		if tool.OutputSchema == nil {
			t.Errorf("%s has no outputSchema", tool.Name)
			continue
		}
		outputs[tool.Name] = compileSchema(t, tool.Name+".output", tool.OutputSchema)
	}
	var want []string
	for _, tool := range tools.All(nil) {
		want = append(want, tool.Name)
	}
	if len(list.Tools) != len(want) {
		t.Errorf("listed %d tools, want %d", len(list.Tools), len(want))
	}
	for _, name := range want {
		if outputs[name] == nil {
			t.Errorf("tool %s not listed", name)
		}
	}

	// Every read, called with {} unless it is given arguments here.
	reads := map[string]map[string]any{"get_clients_products": {"clientid": 1}}
	for _, tool := range tools.All(nil) {
		if _, given := reads[tool.Name]; !given && tool.Kind == tools.Read {
			reads[tool.Name] = map[string]any{}
		}
	}
	for name, args := range reads {
		res := callTool(t, session, name, args)
		if res.IsError {
			t.Errorf("%s: tool error %s", name, text(res))
			continue
		}
		checkStructured(t, outputs[name], name, res)
	}

	// An unguarded write reaches the sandbox and reads back.
	before := sb.Writes()
	res := callTool(t, session, "update_client_product", map[string]any{"serviceid": 2, "notes": "called from e2e"})
	if res.IsError {
		t.Fatalf("update notes: %s", text(res))
	}
	if got := sb.Writes() - before; got != 1 {
		t.Errorf("sandbox counted %d writes, want 1", got)
	}
	checkStructured(t, outputs["update_client_product"], "update_client_product (done)", res)
	preview := callTool(t, session, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"})
	checkStructured(t, outputs["update_client_product"], "update_client_product (confirmation_required)", preview)
	quote := callTool(t, session, "upgrade_product", map[string]any{"serviceid": 3, "calconly": true, "paymentmethod": "paypal", "type": "product", "newproductid": 2})
	checkStructured(t, outputs["upgrade_product"], "upgrade_product (quote)", quote)
	res = callTool(t, session, "get_clients_products", map[string]any{"serviceid": 2})
	if !strings.Contains(text(res), `"notes":"called from e2e"`) {
		t.Errorf("notes did not read back: %s", text(res))
	}

	// Bad arguments: a tool error naming the argument; nothing reaches WHMCS.
	before = sb.Writes()
	for args, wantText := range map[string]string{
		`{"serviceid": "two", "notes": "x"}`: `"serviceid"`,
		`{"serviceid": 2, "colour": "red"}`:  `"colour"`,
		`{"serviceid": 2, "status": "Gone"}`: `"status"`,
		`{"notes": "x"}`:                     `"serviceid"`,
	} {
		var m map[string]any
		json.Unmarshal([]byte(args), &m)
		res := callTool(t, session, "update_client_product", m)
		if !res.IsError || !strings.Contains(text(res), wantText) {
			t.Errorf("args %s: want a tool error naming %s, got isError=%v %s", args, wantText, res.IsError, text(res))
		}
	}
	if sb.Writes() != before {
		t.Errorf("bad arguments reached WHMCS: %d writes", sb.Writes()-before)
	}

	// WHMCS's own error passes through unchanged.
	res = callTool(t, session, "update_client_product", map[string]any{"serviceid": 999, "notes": "x"})
	if !res.IsError || text(res) != "Service ID Not Found" {
		t.Errorf("unknown service: isError=%v %q", res.IsError, text(res))
	}
}

// checkStructured checks that a result's structuredContent matches the
// tool's outputSchema and that its text is the same JSON.
func checkStructured(t *testing.T, schema *jsonschema.Schema, name string, res *sdk.CallToolResult) {
	t.Helper()
	if res.IsError || res.StructuredContent == nil {
		t.Errorf("%s: no structuredContent (isError=%v): %s", name, res.IsError, text(res))
		return
	}
	raw, _ := json.Marshal(res.StructuredContent)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Errorf("%s: structuredContent does not match outputSchema: %v\n%s", name, err, raw)
	}
	var fromText, fromStructured any
	if err := json.Unmarshal([]byte(text(res)), &fromText); err != nil {
		t.Errorf("%s: text content is not JSON: %v", name, err)
	}
	json.Unmarshal(raw, &fromStructured)
	if !jsonEqual(fromText, fromStructured) {
		t.Errorf("%s: text and structuredContent differ", name)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestRefusesToStartUnconfigured(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "NO_COLOR=1"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		t.Fatal("started without WHMCS settings")
	}
	for _, want := range []string{"WHMCS_URL", "WHMCS_IDENTIFIER", "WHMCS_SECRET", "--sandbox"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the refusal does not mention %s:\n%s", want, stderr.String())
		}
	}
}

func TestSandboxFlagSaysSoOnStderr(t *testing.T) {
	cmd := exec.Command(binary, "--sandbox")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	cmd.Stdin = strings.NewReader("") // EOF: the server stops at once
	if err := cmd.Run(); err != nil {
		t.Fatalf("whmcs-mcp --sandbox: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "SANDBOX") {
		t.Errorf("no sandbox banner on stderr:\n%s", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout is MCP's alone, yet got %q", stdout.String())
	}
}

// TestElicitationWithTheGoSDK: a host that can ask its user gets the
// question in the same call; only an accept with confirm: true changes WHMCS.
func TestElicitationWithTheGoSDK(t *testing.T) {
	for _, c := range []struct {
		name   string
		result *sdk.ElicitResult
		status string
		writes int64
	}{
		{"accept", &sdk.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, "done", 1},
		{"accept with the form untouched", &sdk.ElicitResult{Action: "accept"}, "done", 1},
		{"accept with confirm unticked", &sdk.ElicitResult{Action: "accept", Content: map[string]any{"confirm": false}}, "declined", 0},
		{"decline", &sdk.ElicitResult{Action: "decline"}, "declined", 0},
		{"cancel", &sdk.ElicitResult{Action: "cancel"}, "declined", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			sb, url := serveSandbox(t, sandbox.Options{})
			var asked []string
			opts := &sdk.ClientOptions{ElicitationHandler: func(_ context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
				asked = append(asked, req.Params.Message)
				return c.result, nil
			}}
			session := connectStdio(t, url, nil, opts)
			res := callTool(t, session, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"})
			var out map[string]any
			json.Unmarshal([]byte(text(res)), &out)
			if res.IsError || out["status"] != c.status {
				t.Fatalf("want %s, got %s", c.status, text(res))
			}
			if len(asked) != 1 || !strings.Contains(asked[0], `status: "Active" → "Suspended"`) {
				t.Errorf("the user was asked %q", asked)
			}
			if sb.Writes() != c.writes {
				t.Errorf("%d writes, want %d", sb.Writes(), c.writes)
			}
		})
	}
}

// TestGuardedRoundTripOverStdio: without elicitation, the token round trip.
func TestGuardedRoundTripOverStdio(t *testing.T) {
	sb, url := serveSandbox(t, sandbox.Options{})
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	session := connectStdio(t, url, []string{"WHMCS_MCP_AUDIT_LOG=" + auditLog}, nil)
	args := map[string]any{"serviceid": 2, "status": "Suspended"}
	res := callTool(t, session, "update_client_product", args)
	var out map[string]any
	json.Unmarshal([]byte(text(res)), &out)
	if out["status"] != "confirmation_required" || sb.Writes() != 0 {
		t.Fatalf("preview: %s", text(res))
	}
	args["confirmation_token"] = out["confirmation_token"]
	res = callTool(t, session, "update_client_product", args)
	json.Unmarshal([]byte(text(res)), &out)
	if out["status"] != "done" || sb.Writes() != 1 {
		t.Fatalf("confirm: %s", text(res))
	}
	session.Close()
	verify := exec.Command(binary, "audit", "verify", auditLog)
	if msg, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(msg), "chain intact") {
		t.Errorf("audit verify: %v %s", err, msg)
	}
}

func TestCheckCommand(t *testing.T) {
	_, good := serveSandbox(t, sandbox.Options{})
	_, denied := serveSandbox(t, sandbox.Options{DeniedActions: []string{"UpgradeProduct"}})
	for url, want := range map[string]string{good: "OK   UpgradeProduct", denied: "missing API permission: allow UpgradeProduct"} {
		cmd := exec.Command(binary, "check")
		cmd.Env = append(os.Environ(), "WHMCS_URL="+url, "WHMCS_IDENTIFIER="+sandbox.DefaultIdentifier,
			"WHMCS_SECRET="+sandbox.DefaultSecret, "NO_COLOR=1")
		out, err := cmd.Output()
		if !strings.Contains(string(out), want) {
			t.Errorf("check against %s: want %q in:\n%s", url, want, out)
		}
		if (err == nil) != (url == good) {
			t.Errorf("check against %s: exit error %v", url, err)
		}
	}
}
