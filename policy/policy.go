// Package policy stands between the agent and every change: it decides which
// tools a caller sees, keeps a client-scoped caller to its clients, previews
// guarded changes (a before/after diff, or WHMCS's calconly quote), asks for
// a confirmation (a signed single-use token, or the user through
// elicitation), re-checks the previewed state, and records every step in the
// audit log before and after the write.
package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// LocalPrincipal names the caller on stdio and the command line.
const LocalPrincipal = "local"

// Options are a Policy's collaborators.
type Options struct {
	// Ledger keeps outstanding confirmations; nil means in memory.
	Ledger Ledger
	// Audit receives every record; nil means audit.Discard().
	Audit *audit.Log
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Instance names this server in the audit log (e.g. its host name).
	Instance string
	// Approvals keeps the approval requests; nil means the Ledger's when it
	// keeps them too (SQLite, Redis), else memory.
	Approvals ApprovalStore
	// ApprovalURL is the address of the approval pages (ending in
	// /approvals), for approval_url and notifications; "" when unknown.
	ApprovalURL string
	// Operations makes a write tool's operation from stored arguments
	// (tools.OperationOf): the approval pages re-read a request's preview
	// with it. Nil: requests cannot be re-read, so none can be approved.
	Operations func(ctx context.Context, tool string, args json.RawMessage) (*tools.Operation, error)
}

// Policy implements tools.Gate with the rules of a policy File.
type Policy struct {
	file     *File
	digest   string
	local    *Principal
	ledger   Ledger
	audit    *audit.Log
	now      func() time.Time
	log      *slog.Logger
	instance string

	approvals   ApprovalStore
	approvalURL string
	operations  func(ctx context.Context, tool string, args json.RawMessage) (*tools.Operation, error)
	notifier    *notifier
}

// New returns the Policy for file.
func New(file *File, opts Options) (*Policy, error) {
	if file == nil {
		file = Default()
	}
	p := &Policy{
		file:     file,
		digest:   file.Digest(),
		local:    &Principal{Name: LocalPrincipal, Clients: file.Clients},
		ledger:   opts.Ledger,
		audit:    opts.Audit,
		now:      opts.Now,
		log:      opts.Logger,
		instance: opts.Instance,

		approvals:   opts.Approvals,
		approvalURL: opts.ApprovalURL,
		operations:  opts.Operations,
		notifier:    newNotifier(),
	}
	if p.ledger == nil {
		p.ledger = NewMemoryLedger()
	}
	if p.audit == nil {
		p.audit = audit.Discard()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.approvals == nil {
		if store, ok := p.ledger.(ApprovalStore); ok {
			p.approvals = store
		} else {
			p.approvals = NewMemoryApprovals()
		}
	}
	return p, nil
}

// File returns the policy file in force.
func (p *Policy) File() *File { return p.file }

// Principal returns the caller of ctx: the one an HTTP middleware stored, or
// the local principal.
func (p *Policy) Principal(ctx context.Context) *Principal {
	if pr := PrincipalFrom(ctx); pr != nil {
		return pr
	}
	return p.local
}

// Allowed reports whether the caller of ctx may see and call a tool: the
// file's mode and allowlist, narrowed by the principal's.
func (p *Policy) Allowed(ctx context.Context, tool string) bool {
	pr := p.Principal(ctx)
	if IsWrite(tool) && (p.file.Mode == ModeReadOnly || pr.Mode == ModeReadOnly) {
		return false
	}
	if len(p.file.Tools) > 0 && !slices.Contains(p.file.Tools, tool) {
		return false
	}
	return len(pr.Tools) == 0 || slices.Contains(pr.Tools, tool)
}

// Scope implements tools.Gate: the client ids the caller of ctx may see;
// nil means all.
func (p *Policy) Scope(ctx context.Context) []int {
	return p.Principal(ctx).Clients
}

// Refused implements tools.Gate: it records a call refused before it ran.
func (p *Policy) Refused(ctx context.Context, tool string, args json.RawMessage, reason string) {
	var m map[string]any
	_ = json.Unmarshal(args, &m)
	c := &call{op: &tools.Operation{Tool: tool}, principal: p.Principal(ctx), args: m}
	p.record(c, audit.Record{Event: "refusal", Outcome: "refused: " + reason})
}

// IsWrite reports whether tool writes; unknown tools count as writes, so
// read-only mode hides them.
func IsWrite(tool string) bool {
	spec, known := specs[tool]
	return !known || spec.Kind == tools.Write
}

// Refusal is a call the policy refused; nothing reached WHMCS's write API.
type Refusal struct {
	Reason string
}

func (r *Refusal) Error() string { return "refused: " + r.Reason + "; nothing was changed" }

// call is one operation on its way through the policy.
type call struct {
	op        *tools.Operation
	principal *Principal
	args      map[string]any // for the audit log
}

// Run implements tools.Gate. Which confirmation a guarded call needs is
// decided here, by the policy in force, whatever the call brings with it.
func (p *Policy) Run(ctx context.Context, op *tools.Operation) (any, error) {
	c := &call{op: op, principal: p.Principal(ctx), args: argumentsOf(op.Args)}
	if op.Kind == tools.OpQuote && c.args != nil {
		c.args["calconly"] = true // the operation is bound without it; the record says what was asked
	}
	if status, ok := op.Changes["status"].(string); ok && len(p.file.AllowedStatuses) > 0 && !slices.Contains(p.file.AllowedStatuses, status) {
		return nil, p.refuse(c, "", fmt.Sprintf("status %q is not one the policy allows agents to set (allowed: %s)", status, strings.Join(p.file.AllowedStatuses, ", ")))
	}
	switch {
	case op.Kind == tools.OpQuote:
		return p.quote(ctx, c)
	case !op.Guarded(p.file.GuardedFields):
		return p.execute(ctx, c, "")
	case op.ApprovalID != "":
		return p.confirmWithApproval(ctx, c)
	case op.ConfirmationToken != "":
		return p.confirmWithToken(ctx, c)
	case strings.HasPrefix(op.Request.Params.RequestState, approvalPrefix):
		return p.approvalShown(ctx, c, op.Request.Params.RequestState)
	case op.Request.Params.RequestState != "":
		return p.confirmElicited(ctx, c)
	}
	return p.preview(ctx, c)
}

// refuse records a refusal and returns it as the call's error.
func (p *Policy) refuse(c *call, tokenID, reason string) error {
	p.record(c, audit.Record{Event: "refusal", TokenID: tokenID, Outcome: "refused: " + reason})
	return &Refusal{Reason: reason}
}

// record appends an audit record for c; a failure is logged (the records
// that must be on disk before a write go through recordIntent instead).
func (p *Policy) record(c *call, r audit.Record) {
	r.Instance, r.Principal, r.Tool, r.Arguments = p.instance, c.principal.Name, c.op.Tool, c.args
	r.Subject, r.ClientID = c.principal.Subject, c.principal.ClientID
	if _, err := p.audit.Append(r); err != nil {
		p.log.Error("audit log append failed", "event", r.Event, "tool", r.Tool, "err", err)
	}
}

// execute writes the intent record, performs the write and records the outcome.
func (p *Policy) execute(ctx context.Context, c *call, tokenID string) (any, error) {
	intent := audit.Record{Event: "intent", Instance: p.instance, TokenID: tokenID, Principal: c.principal.Name,
		Subject: c.principal.Subject, ClientID: c.principal.ClientID, Tool: c.op.Tool, Arguments: c.args}
	if _, err := p.audit.Append(intent); err != nil {
		return nil, fmt.Errorf("the audit log cannot be written (%v); nothing was sent to WHMCS", err)
	}
	reply, err := c.op.Execute(ctx)
	switch {
	case err == nil:
		p.record(c, audit.Record{Event: "execution", TokenID: tokenID, Outcome: tools.StatusDone, Reply: reply})
		return reply, nil
	case errors.Is(err, whmcs.ErrOutcomeUnknown):
		p.record(c, audit.Record{Event: "outcome_unknown", TokenID: tokenID, Outcome: "outcome unknown", Reply: err.Error()})
		return nil, outcomeUnknown(c, tokenID, err)
	default:
		p.record(c, audit.Record{Event: "failure", TokenID: tokenID, Outcome: "failed", Reply: err.Error()})
		return nil, err
	}
}

// outcomeUnknown is the error of a write whose request reached WHMCS without
// a usable reply: it says so, and how to find out whether the change was made.
func outcomeUnknown(c *call, tokenID string, err error) error {
	var b strings.Builder
	if !strings.Contains(err.Error(), "outcome is unknown") {
		b.WriteString(" The outcome is unknown: WHMCS may have made the change.")
	}
	fmt.Fprintf(&b, " Do not retry blindly: read %s to see whether the change was made.", c.op.ReadBack)
	if tokenID != "" {
		b.WriteString(" The confirmation token is used up: if the change was not made, call again without it for a fresh preview.")
	}
	return fmt.Errorf("%w.%s", err, b.String())
}

// argumentsOf returns a call's arguments as a JSON object for the audit log
// (which redacts secrets when it writes them).
func argumentsOf(args any) map[string]any {
	b, err := json.Marshal(args)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}
