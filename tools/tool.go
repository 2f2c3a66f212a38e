// Package tools defines one MCP tool per WHMCS action.
//
// A tool is a Spec (name, description, annotations, and the Go types of its
// arguments and result, from which schemas/ is generated) plus a handler.
// Handlers validate arguments against the generated input schema, decode them
// strictly into the argument struct, and hand every write to a Gate, which
// decides whether it runs now, needs a confirmation, or is refused.
package tools

//go:generate sh -c "UPDATE_TOOLSNAPS=1 go test -run TestToolSnapshots ."

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/schemas"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// Kind tells reads from writes.
type Kind int

// The kinds of tool.
const (
	Read Kind = iota
	Write
)

// Spec describes a tool independently of any running server. It is the one
// place a tool's facts are declared: the policy's tool names, read-only
// mode, the schemas, the README's tools table, the server's instructions,
// the connection check and every test's list of tools are derived from the
// specs of All.
type Spec struct {
	// Name is the MCP tool name: Action in snake_case.
	Name string
	// Action is the WHMCS API action the tool calls.
	Action string
	// Summary says in a few words what a model uses the tool for (the
	// README's tools table and the server's instructions).
	Summary     string
	Description string
	Kind        Kind
	// Destructive and Idempotent are the annotation hints of a write.
	Destructive bool
	Idempotent  bool
	// Args and Result are pointers to zero values of the argument and result
	// types; schemas/ is generated from them.
	Args   any
	Result any
	// Scope says which arguments select a client or a client's record; the
	// shared handler path keeps scoped callers to their clients with it.
	Scope Scope
	// Effects maps a write's arguments to what they change (EffectStatus,
	// ...), which decides which calls the policy guards.
	Effects map[string]string
	// Checks names a write's arguments that are checked against what WHMCS
	// lists (payment gateways, products, their custom fields and
	// configurable options) before the write is previewed or sent.
	Checks Checks
	// Fields declares, for a list tool, which fields of its records a call
	// returns by default; a fields argument selects others, or all (see
	// Fields).
	Fields *Fields
	// Probe tries Action without changing anything (whmcs-mcp check).
	Probe Probe
}

// Probe is how the connection check tries a tool's WHMCS action.
type Probe struct {
	// Run calls the action in a way that changes nothing.
	Run func(ctx context.Context, c *whmcs.Client) error
	// NotFound is WHMCS's answer to a permitted probe of a record that does
	// not exist ("" when the probe reads real records).
	NotFound string
}

// Tool is a Spec with its handler.
type Tool struct {
	Spec
	Handler server.ToolHandlerFunc
}

// Deps is what handlers need at run time. It is shared by pointer and not
// copied once in use.
type Deps struct {
	WHMCS  *whmcs.Client
	Gate   Gate
	Logger *slog.Logger
	// Catalog answers the checks of the write tools (see Checks); nil means
	// one made on first use, of WHMCS, keeping answers for CatalogTTL.
	Catalog *Catalog

	catalogOnce sync.Once
}

// catalog returns d.Catalog, made on first use when nil.
func (d *Deps) catalog() *Catalog {
	d.catalogOnce.Do(func() {
		if d.Catalog == nil {
			d.Catalog = NewCatalog(d.WHMCS, CatalogTTL)
		}
	})
	return d.Catalog
}

// All returns every tool, in the order they are listed. deps may be nil when
// only the specs are wanted (schema generation, snapshots).
func All(deps *Deps) []Tool {
	return []Tool{
		GetClientsProducts(deps),
		GetProducts(deps),
		GetClientsAddons(deps),
		GetPaymentMethods(deps),
		UpdateClientProduct(deps),
		UpdateClientAddon(deps),
		UpgradeProduct(deps),
	}
}

// Specs returns the specs of All, made once: the policy and the server read
// them at start-up, and making them (schemas' field tables included) three
// times was a share of every start.
var Specs = sync.OnceValue(func() []Spec {
	all := All(nil)
	specs := make([]Spec, len(all))
	for i, t := range all {
		specs[i] = t.Spec
	}
	return specs
})

// Definition returns the MCP tool definition with the schemas embedded in
// package schemas.
func (s Spec) Definition() (mcp.Tool, error) {
	in, err := schemas.Input(s.Name)
	if err != nil {
		return mcp.Tool{}, err
	}
	out, err := schemas.Output(s.Name)
	if err != nil {
		return mcp.Tool{}, err
	}
	tool := mcp.NewToolWithRawSchema(s.Name, s.Description, in)
	tool.RawOutputSchema = out
	readOnly := s.Kind == Read
	destructive := s.Kind == Write && s.Destructive
	idempotent := s.Kind == Read || s.Idempotent
	openWorld := false
	tool.Annotations = mcp.ToolAnnotation{
		ReadOnlyHint:    &readOnly,
		DestructiveHint: &destructive,
		IdempotentHint:  &idempotent,
		OpenWorldHint:   &openWorld,
	}
	return tool, nil
}

// ServerTools returns the tools as mcp-go server tools.
func ServerTools(tools []Tool) ([]server.ServerTool, error) {
	out := make([]server.ServerTool, 0, len(tools))
	for _, t := range tools {
		def, err := t.Definition()
		if err != nil {
			return nil, err
		}
		out = append(out, server.ServerTool{Tool: def, Handler: t.Handler})
	}
	return out, nil
}

// handle wraps a typed handler: it validates the arguments, applies the
// caller's client scope (see Scope), decodes the arguments into A, checks
// them against what WHMCS lists (see Checks), runs fn, leaves out of a list's
// records the fields the call does not select (see Fields), and turns its
// result or error into a tool result. Scope comes first, so that a record
// outside the caller's scope looks like one that does not exist whatever
// else the call holds; the checks come before fn, so that a refused write is
// never previewed, asked about or sent; the fields are left out before the
// result's clients are checked against the scope, which they never hide.
func handle[A any](spec Spec, deps *Deps, fn func(ctx context.Context, req mcp.CallToolRequest, args *A) (any, error)) server.ToolHandlerFunc {
	fields := compileFields(spec, reflect.TypeFor[A]())
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		raw, err := validateArgs(spec.Name, req.GetRawArguments())
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		scope := enforceScope(ctx, &spec, deps, raw)
		switch {
		case scope.err != nil:
			return ErrorResult(scope.err), nil
		case scope.answer != nil:
			return StructuredResult(scope.answer)
		}
		var args A
		if err := decodeInto(scope.args, &args); err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		var keep []bool
		if fields != nil {
			if keep, err = fields.selection(&args); err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
		}
		if err := spec.Checks.run(ctx, deps, scope.args); err != nil {
			return ErrorResult(err), nil
		}
		result, err := fn(ctx, req, &args)
		if err != nil {
			return ErrorResult(err), nil
		}
		if r, ok := result.(*mcp.CallToolResult); ok {
			return r, nil
		}
		if fields != nil {
			fields.apply(result, keep)
		}
		out, err := json.Marshal(result)
		if err != nil {
			return nil, fmt.Errorf("encoding result: %w", err)
		}
		if clients := deps.Gate.Scope(ctx); len(clients) > 0 && outsideScope(out, clients) {
			deps.Gate.Refused(ctx, spec.Name, raw, "the result held records of clients outside the caller's scope; it was withheld")
			if deps.Logger != nil {
				deps.Logger.Error("a tool's result held records of clients outside the caller's scope; withheld", "tool", spec.Name)
			}
			if spec.Scope.Record != nil {
				return ErrorResult(spec.Scope.Record.notFound(spec.Name)), nil
			}
			return mcp.NewToolResultError("refused: the result held records you may not see; nothing was changed"), nil
		}
		return mcp.NewToolResultStructured(json.RawMessage(out), string(out)), nil
	}
}

// StructuredResult returns v as structuredContent and as the same JSON in a
// text block. v is encoded once.
func StructuredResult(v any) (*mcp.CallToolResult, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding result: %w", err)
	}
	return mcp.NewToolResultStructured(json.RawMessage(raw), string(raw)), nil
}

// ErrorResult turns an error into a tool error (isError: true). WHMCS's own
// error messages pass through unchanged, except that a write whose outcome
// is unknown keeps the whole text (what to check before doing anything else).
func ErrorResult(err error) *mcp.CallToolResult {
	var apiErr *whmcs.APIError
	if errors.As(err, &apiErr) && !errors.Is(err, whmcs.ErrOutcomeUnknown) {
		return mcp.NewToolResultError(apiErr.Message)
	}
	return mcp.NewToolResultError(err.Error())
}
