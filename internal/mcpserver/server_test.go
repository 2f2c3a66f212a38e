package mcpserver

// In-process tests with mcp-go's own client: the tools as a host sees them,
// and the human confirmation by elicitation in both protocol eras mcp-go
// serves (2026-07-28's multi round-trip request, and elicitation/create).

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// answer is an elicitation handler that answers every request the same way
// and remembers the messages it was shown.
type answer struct {
	action   mcp.ElicitationResponseAction
	content  map[string]any
	messages []string
}

func (a *answer) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.messages = append(a.messages, req.Params.Message)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: a.action, Content: a.content}}, nil
}

// setup serves a sandbox on 127.0.0.1 and returns an initialized in-process
// client of a server whose policy is file.
func setup(t *testing.T, file *policy.File, opts ...client.ClientOption) (*client.Client, *sandbox.Sandbox) {
	t.Helper()
	sb, baseURL := sandboxtest.Serve(t, sandbox.Options{})
	wc := sandboxtest.Client(t, baseURL)
	pol, err := policy.New(file, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{WHMCS: wc, Gate: pol, Allowed: pol.Allowed, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewInProcessClientWithOptions(srv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c, sb
}

// call calls a tool as the local caller; see callAs.
func call(t *testing.T, c *client.Client, name string, args map[string]any) (*mcp.CallToolResult, map[string]any, string) {
	t.Helper()
	return callAs(t, context.Background(), c, name, args)
}

func serviceStatus(t *testing.T, sb *sandbox.Sandbox, id int) string {
	t.Helper()
	var status string
	if err := sb.DB().QueryRow(`SELECT domainstatus FROM tblhosting WHERE id = ?`, id).Scan(&status); err != nil {
		t.Fatal(err)
	}
	return status
}

var eras = map[string]string{"2026-07-28 multi round-trip": "", "elicitation/create (2025-06-18)": "2025-06-18"}

func TestElicitation(t *testing.T) {
	for era, version := range eras {
		for _, c := range []struct {
			name    string
			answer  *answer
			status  string
			service string
		}{
			{"accept", &answer{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": true}}, "done", "Suspended"},
			{"accept without confirm", &answer{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": false}}, "declined", "Active"},
			{"decline", &answer{action: mcp.ElicitationResponseActionDecline}, "declined", "Active"},
			{"cancel", &answer{action: mcp.ElicitationResponseActionCancel}, "declined", "Active"},
		} {
			t.Run(era+"/"+c.name, func(t *testing.T) {
				opts := []client.ClientOption{client.WithElicitationHandler(c.answer)}
				if version != "" {
					opts = append(opts, client.WithProtocolVersion(version))
				}
				cl, sb := setup(t, nil, opts...)
				res, out, text := call(t, cl, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"})
				if res.IsError || out["status"] != c.status {
					t.Fatalf("want status %s, got %s", c.status, text)
				}
				if len(c.answer.messages) != 1 || !strings.Contains(c.answer.messages[0], `status: "Active" → "Suspended"`) ||
					!strings.Contains(c.answer.messages[0], "client #1") {
					t.Errorf("the user was asked %q", c.answer.messages)
				}
				if got := serviceStatus(t, sb, 2); got != c.service {
					t.Errorf("service 2 is %s, want %s", got, c.service)
				}
				wantWrites := int64(0)
				if c.status == "done" {
					wantWrites = 1
				}
				if sb.Writes() != wantWrites {
					t.Errorf("%d writes, want %d", sb.Writes(), wantWrites)
				}
			})
		}
	}
}

func TestHumanModeWithoutElicitation(t *testing.T) {
	file := policy.Default()
	file.Confirmation = policy.ConfirmHuman
	cl, sb := setup(t, file) // no elicitation handler: the client cannot ask its user
	res, _, text := call(t, cl, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"})
	if !res.IsError || !strings.Contains(text, "elicitation") {
		t.Errorf("want a tool error about elicitation, got %s", text)
	}
	if sb.Writes() != 0 || serviceStatus(t, sb, 2) != "Active" {
		t.Errorf("WHMCS changed: %d writes", sb.Writes())
	}
}

func TestTokenModeIgnoresElicitation(t *testing.T) {
	file := policy.Default()
	file.Confirmation = policy.ConfirmToken
	a := &answer{action: mcp.ElicitationResponseActionAccept, content: map[string]any{"confirm": true}}
	cl, sb := setup(t, file, client.WithElicitationHandler(a))
	_, out, text := call(t, cl, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"})
	if out["status"] != "confirmation_required" || len(a.messages) != 0 || sb.Writes() != 0 {
		t.Fatalf("token mode: %s (asked %d times)", text, len(a.messages))
	}
	_, out, text = call(t, cl, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended", "confirmation_token": out["confirmation_token"]})
	if out["status"] != "done" || sb.Writes() != 1 {
		t.Errorf("confirm: %s", text)
	}
}

func TestReadOnlyModeHidesWrites(t *testing.T) {
	file := policy.Default()
	file.Mode = policy.ModeReadOnly
	cl, sb := setup(t, file)
	list, err := cl.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	var reads []string
	for _, tool := range tools.All(nil) {
		if tool.Kind == tools.Read {
			reads = append(reads, tool.Name)
		}
	}
	slices.Sort(reads)
	if len(reads) == 0 || !slices.Equal(names, reads) {
		t.Errorf("read-only tools: %v, want the reads %v", names, reads)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "update_client_product"
	req.Params.Arguments = map[string]any{"serviceid": 2, "notes": "x"}
	if _, err := cl.CallTool(context.Background(), req); err == nil || !strings.Contains(err.Error(), "not found") || sb.Writes() != 0 {
		t.Errorf("a hidden write tool was callable: %v (%d writes)", err, sb.Writes())
	}
}

func TestInstructionsReachTheClient(t *testing.T) {
	srv, err := New(Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := client.NewInProcessClient(srv)
	defer c.Close()
	ctx := context.Background()
	c.Start(ctx)
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-06-18"
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"preview", "confirmation_token", "user"} {
		if !strings.Contains(res.Instructions, want) {
			t.Errorf("instructions do not mention %q: %s", want, res.Instructions)
		}
	}
}
