// Package mcpserver assembles the MCP server: the tools of package tools on
// an mcp-go server, with the instructions a model reads at initialize and the
// filter that decides which tools a caller may see and call.
package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// Name is the server name announced at initialize.
const Name = "whmcs-mcp"

// Instructions tell the model how the tools fit together; the reads are
// listed from their specs.
var Instructions = instructions(tools.Specs())

func instructions(all []tools.Spec) string {
	var reads []string
	for _, t := range all {
		if t.Kind == tools.Read {
			reads = append(reads, fmt.Sprintf("%s (%s)", t.Name, strings.ReplaceAll(t.Summary, "`", "")))
		}
	}
	return "Tools for a WHMCS billing system. Find ids first with the reads: " + strings.Join(reads, ", ") + ". " +
		"Changes to a service's or addon's status, product, price, billing cycle or dates, and upgrades, are guarded: the first call changes nothing and returns a preview " +
		"(a before/after diff, or WHMCS's prorated upgrade quote): the server asks the user directly, or returns a confirmation_token. " +
		"Show the preview to the user and call again with the same arguments plus confirmation_token only if the user agrees. Never confirm on your own initiative."
}

// Options configure the server.
type Options struct {
	WHMCS *whmcs.Client
	// Gate runs writes; nil means tools.NoConfirmation, which refuses every
	// guarded change.
	Gate    tools.Gate
	Logger  *slog.Logger
	Version string
	// Tailor, if set, fits each tool's definition to the policy in force
	// (policy.Policy.Tailor).
	Tailor func(mcp.Tool) mcp.Tool
	// Allowed decides, per call context, whether a tool is visible and
	// callable; nil allows every tool.
	Allowed func(ctx context.Context, tool string) bool
	// ServerOptions are added last (e.g. elicitation support).
	ServerOptions []server.ServerOption
}

// New returns the MCP server with every tool registered.
func New(opts Options) (*server.MCPServer, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	gate := opts.Gate
	if gate == nil {
		gate = tools.NoConfirmation{}
	}
	serverTools, err := tools.ServerTools(tools.All(&tools.Deps{WHMCS: opts.WHMCS, Gate: gate, Logger: logger}))
	if err != nil {
		return nil, err
	}
	if opts.Tailor != nil {
		for i := range serverTools {
			serverTools[i].Tool = opts.Tailor(serverTools[i].Tool)
		}
	}
	serverOpts := []server.ServerOption{
		server.WithHooks(&server.Hooks{}), // first: a caller's own hooks replace these, and get validRequestID below
		server.WithToolCapabilities(false),
		server.WithInstructions(Instructions),
		server.WithRecovery(),
		server.WithLogger(logger),
	}
	if opts.Allowed != nil {
		allowed := opts.Allowed
		serverOpts = append(serverOpts, server.WithToolFilter(func(ctx context.Context, list []mcp.Tool) []mcp.Tool {
			kept := list[:0:0]
			for _, t := range list {
				if allowed(ctx, t.Name) {
					kept = append(kept, t)
				}
			}
			return kept
		}))
	}
	serverOpts = append(serverOpts, opts.ServerOptions...)
	s := server.NewMCPServer(Name, opts.Version, serverOpts...)
	if hooks := s.GetHooks(); hooks != nil {
		hooks.AddOnRequestInitialization(validRequestID)
		if opts.Allowed != nil {
			hooks.AddBeforeCallTool(auditDisallowed(opts.Allowed, gate))
		}
	}
	s.AddTools(serverTools...)
	return s, nil
}

// auditDisallowed records a call of a tool the caller may not use; mcp-go's
// tool filter then answers it as an unknown tool.
func auditDisallowed(allowed func(context.Context, string) bool, gate tools.Gate) server.OnBeforeCallToolFunc {
	return func(ctx context.Context, _ any, req *mcp.CallToolRequest) {
		if !allowed(ctx, req.Params.Name) {
			args, _ := json.Marshal(req.GetRawArguments())
			gate.Refused(ctx, req.Params.Name, args, "the tool is not one this caller may use; answered as an unknown tool")
		}
	}
}

// validRequestID refuses a request whose id is neither a string nor a number,
// as JSON-RPC 2.0 requires, before anything runs: mcp-go would otherwise
// serve it (a tools/call included) and echo the odd id back.
func validRequestID(_ context.Context, id any, _ any) error {
	var kind string
	switch id.(type) {
	case string, float64, json.Number, int, int64:
		return nil
	case bool:
		kind = "a boolean"
	case map[string]any:
		kind = "an object"
	case []any:
		kind = "an array"
	default:
		kind = fmt.Sprintf("a %T", id)
	}
	return fmt.Errorf("invalid request: the id must be a string or a number, not %s", kind)
}
