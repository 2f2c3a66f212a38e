package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// Operations returns a function that makes the operation a write tool's call
// with the given arguments would ask its gate to run, without running it:
// the same validation, checks and operation as a call through MCP, as a
// caller with every client in scope. The approval pages re-read a stored
// request's preview with it.
func Operations(wc *whmcs.Client) func(ctx context.Context, tool string, args json.RawMessage) (*Operation, error) {
	// The tools are made on first use: most servers never re-read a
	// request, and start-up should not pay for a second set.
	handlers := sync.OnceValue(func() map[string]Tool {
		out := map[string]Tool{}
		for _, t := range All(&Deps{WHMCS: wc, Gate: capturer{}}) {
			out[t.Name] = t
		}
		return out
	})
	return func(ctx context.Context, tool string, args json.RawMessage) (*Operation, error) {
		t, ok := handlers()[tool]
		if !ok || t.Kind != Write {
			return nil, fmt.Errorf("%q is not a write tool", tool)
		}
		var arguments map[string]any
		if err := json.Unmarshal(args, &arguments); err != nil {
			return nil, fmt.Errorf("the arguments of %s: %w", tool, err)
		}
		slot := &captured{}
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = tool, arguments
		res, err := t.Handler(context.WithValue(ctx, capturedKey{}, slot), req)
		switch {
		case slot.op != nil:
			return slot.op, nil
		case err != nil:
			return nil, err
		case res != nil && res.IsError:
			return nil, errors.New(resultText(res))
		}
		return nil, fmt.Errorf("%s made no operation of these arguments", tool)
	}
}

// capturer is the Gate of Operations: it keeps the operation instead of
// running it.
type capturer struct{}

type capturedKey struct{}

type captured struct{ op *Operation }

// errCaptured ends a call whose operation was kept.
var errCaptured = errors.New("operation captured, not run")

func (capturer) Run(ctx context.Context, op *Operation) (any, error) {
	if slot, ok := ctx.Value(capturedKey{}).(*captured); ok {
		slot.op = op
	}
	return nil, errCaptured
}

func (capturer) Scope(context.Context) []int { return nil }

func (capturer) Refused(context.Context, string, json.RawMessage, string) {}

// resultText is the text of a tool result's text blocks.
func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}
