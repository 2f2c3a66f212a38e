package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

// OpKind says what a write operation does, which decides how it is guarded.
type OpKind int

// The kinds of write operation.
const (
	// OpUpdate changes fields of a record (a service or an addon); it is
	// guarded when it can change status or another effect the policy guards.
	OpUpdate OpKind = iota
	// OpQuote asks WHMCS for an upgrade quote (calconly): a read.
	OpQuote
	// OpUpgrade orders an upgrade: always guarded.
	OpUpgrade
)

// Subject is the record an operation touches, as WHMCS has it now.
type Subject struct {
	// ClientID owns the record.
	ClientID int
	// Label names the record in plain words, e.g. "service #2 Plus (demodomain2.net) of client #1".
	Label string
	// Values are the record's current values, by the operation's argument
	// names; a field WHMCS holds no value for is absent.
	Values map[string]any
}

// Operation is one write (or upgrade quote) a tool asks the Gate to run.
type Operation struct {
	Kind    OpKind
	Tool    string
	Request mcp.CallToolRequest
	// Args are the decoded arguments without confirmation_token: what a
	// confirmation is bound to.
	Args any
	// Confirmation is the token or approval id the caller sent, if any.
	Confirmation
	// Changes are the arguments an update sets, by name (the record's id
	// left out).
	Changes map[string]any
	// Fields are the fields an update changes: Changes' names, with each
	// field of unset standing for itself and autorecalc only when true.
	Fields []string
	// Effects maps each field to the effect it has (EffectStatus...);
	// fields without an effect are absent.
	Effects map[string]string
	// PriceField names the record's recurring amount, which autorecalc
	// recomputes (recurringamount, or recurring for an addon).
	PriceField string
	// ReadBack says how to read the record back, e.g.
	// get_clients_products {"serviceid": 2}: what to do when a write's
	// outcome is unknown.
	ReadBack string
	// Subject reads the record the operation touches.
	Subject func(ctx context.Context) (*Subject, error)
	// Quote returns WHMCS's calconly quote (OpQuote and OpUpgrade only).
	Quote func(ctx context.Context) (*Quote, error)
	// Execute performs the write and returns WHMCS's reply.
	Execute func(ctx context.Context) (any, error)
}

// Guarded reports whether op needs a preview and a confirmation before it
// runs: every upgrade, and every update that can change its status or an
// effect or field named in guarded (effects and field names alike).
func (op *Operation) Guarded(guarded []string) bool {
	switch op.Kind {
	case OpUpgrade:
		return true
	case OpQuote:
		return false
	}
	for _, f := range op.Fields {
		effect := op.Effects[f]
		if effect == EffectStatus {
			return true
		}
		for _, g := range guarded {
			if g == f || (effect != "" && g == effect) {
				return true
			}
		}
	}
	return false
}

// Gate stands between the tools and WHMCS: it knows the caller's scope,
// records refusals, and runs write operations at once, after a
// confirmation, or not at all.
type Gate interface {
	// Run runs op and returns the tool's structured result, or an error
	// for a tool error.
	Run(ctx context.Context, op *Operation) (any, error)
	// Scope returns the client ids the caller of ctx may see; empty means
	// every client.
	Scope(ctx context.Context) []int
	// Refused records a call refused before it ran, with its arguments
	// and the reason (which the caller may not be told).
	Refused(ctx context.Context, tool string, args json.RawMessage, reason string)
}

// ErrConfirmationUnavailable refuses a guarded operation when no policy
// layer is configured to preview and confirm it.
var ErrConfirmationUnavailable = errors.New("this change needs a preview and a confirmation, which this server is not configured to provide; nothing was changed")

// NoConfirmation is a Gate without a policy: every client is in scope, it
// runs writes that change no effect, and refuses every other write; an
// upgrade quote comes back as a quote.
type NoConfirmation struct{}

// Run implements Gate.
func (NoConfirmation) Run(ctx context.Context, op *Operation) (any, error) {
	if op.Guarded(Effects) {
		return nil, ErrConfirmationUnavailable
	}
	if op.Kind == OpQuote {
		q, err := op.Quote(ctx)
		if err != nil {
			return nil, err
		}
		return &WriteStatus{Status: StatusQuote, Preview: &Preview{Summary: q.Summary(fmt.Sprintf("service #%d", q.ServiceID)), Quote: q}}, nil
	}
	return op.Execute(ctx)
}

// Scope implements Gate: every client.
func (NoConfirmation) Scope(context.Context) []int { return nil }

// Refused implements Gate: nothing is recorded.
func (NoConfirmation) Refused(context.Context, string, json.RawMessage, string) {}
