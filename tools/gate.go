package tools

import (
	"context"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

// OpKind says what a write operation does, which decides how it is guarded.
type OpKind int

// The kinds of write operation.
const (
	// OpUpdate changes fields of a record (a service or an addon); it is
	// guarded when it sets status or a field the policy guards.
	OpUpdate OpKind = iota
	// OpQuote asks WHMCS for an upgrade quote (calconly): it changes nothing.
	OpQuote
	// OpUpgrade orders an upgrade: always guarded.
	OpUpgrade
)

// Subject is the record an operation touches, as WHMCS has it now.
type Subject struct {
	// ClientID owns the record; scope checks compare it with the caller's clients.
	ClientID int
	// Label names the record in plain words, e.g. "service #2 Plus (demodomain2.net)".
	Label string
	// Values are the record's current values, by the operation's argument
	// names, for the fields the operation changes.
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
	// ConfirmationToken is the token the caller sent, if any.
	ConfirmationToken string
	// Changes are the fields an update sets, by argument name.
	Changes map[string]any
	// Subject reads the record the operation touches.
	Subject func(ctx context.Context) (*Subject, error)
	// Quote returns WHMCS's calconly quote (OpQuote and OpUpgrade only).
	Quote func(ctx context.Context) (*Quote, error)
	// Execute performs the write and returns WHMCS's reply.
	Execute func(ctx context.Context) (any, error)
}

// Guarded reports whether op needs a preview and a confirmation before it
// runs, given the fields the policy guards besides status.
func (op *Operation) Guarded(guardedFields []string) bool {
	switch op.Kind {
	case OpUpgrade:
		return true
	case OpQuote:
		return false
	}
	if _, ok := op.Changes["status"]; ok {
		return true
	}
	for _, f := range guardedFields {
		if _, ok := op.Changes[f]; ok {
			return true
		}
	}
	return false
}

// Gate runs write operations: at once, after a confirmation, or not at all.
// It returns the tool's structured result, or an error for a tool error.
type Gate interface {
	Run(ctx context.Context, op *Operation) (any, error)
}

// ErrConfirmationUnavailable refuses a guarded operation when no policy
// layer is configured to preview and confirm it.
var ErrConfirmationUnavailable = errors.New("this change needs a preview and a confirmation, which this server is not configured to provide; nothing was changed")

// NoConfirmation is a Gate that runs unguarded writes and refuses every
// guarded operation: nothing guarded ever runs through it. An upgrade quote
// comes back as a preview without a token.
type NoConfirmation struct{}

// Run implements Gate.
func (NoConfirmation) Run(ctx context.Context, op *Operation) (any, error) {
	if op.Guarded(nil) {
		return nil, ErrConfirmationUnavailable
	}
	if op.Kind == OpQuote {
		q, err := op.Quote(ctx)
		if err != nil {
			return nil, err
		}
		return &WriteStatus{Status: StatusConfirmationRequired, Preview: &Preview{Summary: q.Summary(fmt.Sprintf("service #%d", q.ServiceID)), Quote: q}}, nil
	}
	reply, err := op.Execute(ctx)
	if err != nil {
		return nil, err
	}
	return reply, nil
}
