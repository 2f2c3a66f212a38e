package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// What the model is told about an approval, first in the results.
const (
	nextApproval        = "Nothing has changed yet: %s. Tell the user that a member of staff must approve it at approval_url, and show them the preview. Later, call again with exactly the same arguments plus approval_id to learn the decision; once approved, that call carries out the change."
	nextApprovalNoURL   = "Nothing has changed yet: %s. Tell the user that a member of staff must approve request %s on the approval pages, and show them the preview. Later, call again with exactly the same arguments plus approval_id to learn the decision; once approved, that call carries out the change."
	nextPending         = "A member of staff has not decided yet; nothing has changed. Tell the user it waits for approval, and call again with the same arguments and approval_id later, not in a loop."
	nextRejected        = "A member of staff rejected the change; nothing was changed. Tell the user, with the reason. Do not ask again unless the user asks for something new."
	nextExpired         = "Nobody approved the change in time; nothing was changed. Call again without approval_id only if the user still wants it: that makes a new request."
	nextQuoteApproval   = "This is WHMCS's price only; nothing has changed. Placing this upgrade needs a member of staff's approval: call upgrade_product without calconly to ask for it."
	maxApprovalReason   = 500
	maxApprovalsListed  = 200
	approvalReasonShort = "a reason of at most 500 characters"
)

// ErrApprovalNotFound is the error for an approval id that names no request.
var ErrApprovalNotFound = errors.New("no such approval request")

// ApprovalError is a decision the policy refused: the page shows its text.
type ApprovalError struct{ Reason string }

func (e *ApprovalError) Error() string { return e.Reason }

// requestApproval answers a guarded call that needs a staff approval: it
// stores the request and returns approval_required; nothing is changed.
func (p *Policy) requestApproval(ctx context.Context, c *call, pv *previewed, rule string) (any, error) {
	args, err := ArgsDigest(c.op.Args)
	if err != nil {
		return nil, err
	}
	shown, err := audit.Redact(c.op.Args)
	if err != nil {
		return nil, err
	}
	arguments, err := json.Marshal(shown)
	if err != nil {
		return nil, err
	}
	state, err := json.Marshal(pv.state)
	if err != nil {
		return nil, err
	}
	id, err := newApprovalID()
	if err != nil {
		return nil, err
	}
	now := p.now()
	a := &Approval{
		ID: id, Status: ApprovalPending, Tool: c.op.Tool, Args: args, Arguments: arguments,
		Caller: caller(c.principal), Principal: c.principal.Name, Subject: c.principal.Subject, OAuthClient: c.principal.ClientID,
		Policy: p.digest, Rule: rule, Preview: pv.preview, State: state, Created: now,
		Expires: now.Add(time.Duration(p.file.Approvals.TTL)),
	}
	if pv.subject != nil {
		a.ClientID, a.Label = pv.subject.ClientID, pv.subject.Label
	}
	if err := p.approvals.PutApproval(ctx, a, a.Expires.Add(approvalKeep)); err != nil {
		p.log.Error("the approval store cannot be written", "err", err)
		return nil, p.refuse(c, "", ErrLedgerUnavailable.Error())
	}
	p.recordApproval(c, a, "approval_requested", "approval_required: "+rule, "", "")
	p.notify(a)
	if p.approvalURL != "" && clientCanOpenURL(ctx) {
		// The host shows the page's address to its user; the answer
		// comes back to approvalShown. The request waits either way.
		params := mcp.ElicitationParams{
			Mode: mcp.ElicitationModeURL, ElicitationID: a.ID, URL: p.ApprovalURL(a.ID),
			Message: "A member of staff must approve this change before it is made: " + a.Preview.Summary +
				"\n\nOpen the approval page if you are an approver, or pass its address to one.",
		}
		return server.NewInputRequestBuilder(a.ID).Elicit(approvalKey, params).ToolResult(), nil
	}
	return p.approvalRequired(a), nil
}

// approvalKey names the URL elicitation of an approval request.
const approvalKey = "approval"

// approvalRequired is the result that tells the model a change waits for
// request a's approval.
func (p *Policy) approvalRequired(a *Approval) *tools.WriteStatus {
	message := fmt.Sprintf(nextApproval, a.Rule)
	if p.approvalURL == "" {
		message = fmt.Sprintf(nextApprovalNoURL, a.Rule, a.ID)
	}
	return &tools.WriteStatus{
		Status: tools.StatusApprovalRequired, Message: message, Preview: a.Preview,
		ApprovalID: a.ID, ApprovalURL: p.ApprovalURL(a.ID), ExpiresAt: a.Expires.UTC().Format(time.RFC3339),
	}
}

// approvalShown ends the URL elicitation of request id: whatever the user
// answered, the change waits for the approval, and the model is told so.
func (p *Policy) approvalShown(ctx context.Context, c *call, id string) (any, error) {
	a, err := p.approvals.Approval(ctx, id)
	if err != nil {
		p.log.Error("the approval store cannot be read", "err", err)
		return nil, p.refuse(c, "", ErrLedgerUnavailable.Error())
	}
	if a == nil || !WellFormedApprovalID(id) {
		return nil, p.refuse(c, "", "the request state is not one this server issued; call again without it")
	}
	if reason := p.approvalMismatch(c, a); reason != "" {
		return nil, p.refuse(c, "", reason+"; call again without the request state")
	}
	return p.approvalRequired(a), nil
}

// clientCanOpenURL reports whether the caller's MCP client can show its
// user a URL (URL-mode elicitation): per request from protocol 2026-07-28
// on, per session before.
func clientCanOpenURL(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		caps := info.ClientCapabilities
		return caps != nil && caps.Elicitation != nil && caps.Elicitation.URL != nil
	}
	session := server.ClientSessionFromContext(ctx)
	withInfo, ok := session.(server.SessionWithClientInfo)
	if !ok {
		return false
	}
	caps := withInfo.GetClientCapabilities()
	if caps.Elicitation == nil || caps.Elicitation.URL == nil {
		return false
	}
	_, ok = session.(server.SessionWithElicitation)
	return ok
}

// ApprovalURL is the page of approval request id, or "" when the pages'
// address is not known.
func (p *Policy) ApprovalURL(id string) string {
	if p.approvalURL == "" {
		return ""
	}
	return strings.TrimSuffix(p.approvalURL, "/") + "/" + id
}

// confirmWithApproval answers a call that carries an approval_id: the
// request's state, or, once approved, the change itself, once, after the
// previewed state is re-checked.
func (p *Policy) confirmWithApproval(ctx context.Context, c *call) (any, error) {
	id := c.op.ApprovalID
	if !WellFormedApprovalID(id) {
		return nil, p.refuse(c, "", "the approval_id is malformed: it is not one this server issues; call again without it")
	}
	a, err := p.approvals.Approval(ctx, id)
	if err != nil {
		p.log.Error("the approval store cannot be read", "err", err)
		return nil, p.refuse(c, "", ErrLedgerUnavailable.Error())
	}
	if a == nil {
		return nil, p.refuse(c, "", "the approval_id is unknown: not issued by this server, or long forgotten; call again without it")
	}
	if reason := p.approvalMismatch(c, a); reason != "" {
		return nil, p.refuse(c, "", reason+"; call again with exactly the arguments of the request, or without approval_id")
	}
	a, err = p.expireIfDue(ctx, a)
	if err != nil {
		return nil, p.refuse(c, "", ErrLedgerUnavailable.Error())
	}
	status := &tools.WriteStatus{ApprovalID: a.ID, ApprovalURL: p.ApprovalURL(a.ID), Preview: a.Preview}
	switch a.Status {
	case ApprovalPending:
		status.Status, status.Message, status.ExpiresAt = tools.StatusPending, nextPending, a.Expires.UTC().Format(time.RFC3339)
		return status, nil
	case ApprovalRejected:
		p.recordApproval(c, a, "approval_answered", "rejected", a.Approver, a.Reason)
		status.Status, status.Message, status.Reason = tools.StatusRejected, nextRejected, a.Reason
		return status, nil
	case ApprovalExpired:
		status.Status, status.Message = tools.StatusExpired, nextExpired
		return status, nil
	case ApprovalUsed:
		return nil, p.refuse(c, "", "the approval was already used: its change was carried out (or tried) once; call again without approval_id for a new request")
	case ApprovalApproved:
		return p.executeApproved(ctx, c, a)
	}
	return nil, p.refuse(c, "", fmt.Sprintf("the approval request is in an unknown state %q", a.Status))
}

// executeApproved uses an approval, once: it marks it used, re-checks the
// state the approver saw, and carries out the change.
func (p *Policy) executeApproved(ctx context.Context, c *call, a *Approval) (any, error) {
	used := *a
	used.Status = ApprovalUsed
	ok, err := p.approvals.UpdateApproval(ctx, &used, ApprovalApproved)
	if err != nil {
		p.log.Error("the approval store cannot be written", "err", err)
		return nil, p.refuse(c, "", ErrLedgerUnavailable.Error())
	}
	if !ok {
		return nil, p.refuse(c, "", "the approval was already used by another call; call again without approval_id for a new request")
	}
	now, err := p.previewOf(ctx, c)
	if err != nil {
		var refusal *Refusal
		if errors.As(err, &refusal) {
			return nil, err
		}
		return nil, fmt.Errorf("re-reading WHMCS before the change: %w (the approval is now used up)", err)
	}
	if changed := stateChanges(decodeState(a.State), now.state); changed != "" {
		return nil, p.refuse(c, "", "WHMCS changed since the approval: "+changed+" (the approval is now used up); call again without approval_id for a new request")
	}
	p.recordApproval(c, a, "confirmation", "approved by "+a.Approver, a.Approver, a.Reason)
	return p.execute(ctx, c, "")
}

// approvalMismatch says why request a cannot answer c, or "" when it can.
func (p *Policy) approvalMismatch(c *call, a *Approval) string {
	args, err := ArgsDigest(c.op.Args)
	switch {
	case err != nil:
		return "the arguments cannot be compared"
	case a.Tool != c.op.Tool:
		return fmt.Sprintf("the approval request is for %s, not %s", a.Tool, c.op.Tool)
	case a.Args != args:
		return "the approval request is for other arguments"
	case a.Caller != caller(c.principal):
		return "the approval request was made by another caller"
	case a.Policy != p.digest:
		return "the approval request was made under another policy than the one in force"
	}
	return ""
}

// expireIfDue marks a pending request whose time is up as expired, records
// it, and returns the request as it is now.
func (p *Policy) expireIfDue(ctx context.Context, a *Approval) (*Approval, error) {
	if a.Status != ApprovalPending && a.Status != ApprovalApproved || p.now().Before(a.Expires) {
		return a, nil
	}
	expired := *a
	from := a.Status
	expired.Status = ApprovalExpired
	ok, err := p.approvals.UpdateApproval(ctx, &expired, from)
	if err != nil {
		return nil, err
	}
	if !ok { // decided meanwhile: read what it is now
		return p.approvals.Approval(ctx, a.ID)
	}
	outcome := "expired: nobody decided in time"
	if from == ApprovalApproved {
		outcome = "expired: approved, but not used in time"
	}
	p.recordApproval(p.requester(&expired), &expired, "approval_expired", outcome, "", "")
	return &expired, nil
}

// ApprovalRequests returns the newest requests (at most 200), marking those
// whose time is up as expired.
func (p *Policy) ApprovalRequests(ctx context.Context) ([]*Approval, error) {
	list, err := p.approvals.Approvals(ctx, maxApprovalsListed)
	if err != nil {
		return nil, err
	}
	for i, a := range list {
		if list[i], err = p.expireIfDue(ctx, a); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// ApprovalRequest returns request id (ErrApprovalNotFound when there is
// none), marked expired if its time is up.
func (p *Policy) ApprovalRequest(ctx context.Context, id string) (*Approval, error) {
	if !WellFormedApprovalID(id) {
		return nil, ErrApprovalNotFound
	}
	a, err := p.approvals.Approval(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case a == nil:
		return nil, ErrApprovalNotFound
	}
	return p.expireIfDue(ctx, a)
}

// LivePreview re-reads request a's preview from WHMCS now, and says what
// changed in WHMCS since the request ("" when nothing did). A request
// whose record changed cannot be approved.
func (p *Policy) LivePreview(ctx context.Context, a *Approval) (*tools.Preview, string, error) {
	c, err := p.rebuild(ctx, a)
	if err != nil {
		return nil, "", err
	}
	pv, err := p.previewOf(ctx, c)
	if err != nil {
		return nil, "", err
	}
	return pv.preview, stateChanges(decodeState(a.State), pv.state), nil
}

// rebuild makes the call of request a again from its stored arguments (with
// secrets redacted: enough to read, never to write).
func (p *Policy) rebuild(ctx context.Context, a *Approval) (*call, error) {
	if p.operations == nil {
		return nil, errors.New("this server cannot re-read requests (no WHMCS connection)")
	}
	op, err := p.operations(ctx, a.Tool, a.Arguments)
	if err != nil {
		return nil, err
	}
	c := p.requester(a)
	c.op = op
	return c, nil
}

// requester is the call of request a as the audit log names it: its tool,
// principal and arguments (redacted).
func (p *Policy) requester(a *Approval) *call {
	var args map[string]any
	dec := json.NewDecoder(bytes.NewReader(a.Arguments))
	dec.UseNumber()
	_ = dec.Decode(&args)
	return &call{
		op:        &tools.Operation{Tool: a.Tool},
		principal: &Principal{Name: a.Principal, Subject: a.Subject, ClientID: a.OAuthClient},
		args:      args,
	}
}

// Decide records an approver's decision on request id: approve, or reject
// with a reason. Of concurrent decisions exactly one wins. It refuses the
// approver's own requests, decided and expired requests, and an approval
// of a request whose record changed in WHMCS since it was made.
func (p *Policy) Decide(ctx context.Context, id, approver string, approve bool, reason string) (*Approval, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > maxApprovalReason || !utf8.ValidString(reason) {
		return nil, &ApprovalError{Reason: "write " + approvalReasonShort}
	}
	a, err := p.ApprovalRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	req := p.requester(a)
	refuse := func(why string) (*Approval, error) {
		p.recordApproval(req, a, "approval_refused", "refused: "+why, approver, reason)
		return nil, &ApprovalError{Reason: why}
	}
	switch {
	case approver == a.Principal:
		return refuse(fmt.Sprintf("you cannot decide this request: it was asked for by %s, your own name; another approver must decide (four eyes)", a.Principal))
	case a.Status == ApprovalExpired:
		return refuse("the request expired at " + a.Expires.UTC().Format(time.RFC3339) + "; nothing can be decided any more")
	case a.Status != ApprovalPending:
		return refuse("the request was already " + outcomeOf(a))
	case a.Policy != p.digest:
		return refuse("the request was made under another policy than the one in force; reject it, and the agent may ask again")
	case !approve && reason == "":
		return nil, &ApprovalError{Reason: "a rejection needs a reason: the agent tells it to the user"}
	}
	if approve {
		if _, changed, err := p.LivePreview(ctx, a); err != nil {
			return refuse("WHMCS cannot be read to check the request: " + err.Error())
		} else if changed != "" {
			return refuse("WHMCS changed since the request: " + changed + "; reject it, and the agent may ask again")
		}
	}
	decided := *a
	decided.Approver, decided.Reason, decided.Decided = approver, reason, p.now().Truncate(time.Second)
	event, outcome := "approval_rejected", "rejected"
	decided.Status = ApprovalRejected
	if approve {
		decided.Status, event, outcome = ApprovalApproved, "approval_approved", "approved"
		decided.Expires = decided.Decided.Add(time.Duration(p.file.Approvals.TTL))
	}
	ok, err := p.approvals.UpdateApproval(ctx, &decided, ApprovalPending)
	if err != nil {
		return nil, err
	}
	if !ok {
		now, _ := p.approvals.Approval(ctx, id)
		if now != nil {
			return refuse("another decision came first: the request was " + outcomeOf(now))
		}
		return refuse("the request is gone")
	}
	p.recordApproval(req, &decided, event, outcome, approver, reason)
	return &decided, nil
}

// outcomeOf says what became of a decided or expired request, e.g.
// "rejected by bob". An approved request that was used was approved by
// its approver and carried out by the agent, not used by the approver.
func outcomeOf(a *Approval) string {
	switch {
	case a.Status == ApprovalUsed:
		return "approved by " + a.Approver + " and carried out"
	case a.Status == ApprovalExpired && a.Approver != "":
		return "approved by " + a.Approver + ", then expired unused"
	case a.Status == ApprovalExpired:
		return "expired"
	}
	return a.Status + " by " + a.Approver
}

// SignIn returns the name of the approver whose token it is. Tokens are
// compared by their SHA-256, in constant time.
func (p *Policy) SignIn(token string) (string, bool) {
	sum := sha256.Sum256([]byte(token))
	name := ""
	for _, ap := range p.file.Approvals.Approvers {
		want, err := hex.DecodeString(ap.TokenSHA256)
		if err == nil && subtle.ConstantTimeCompare(want, sum[:]) == 1 {
			name = ap.Name
		}
	}
	return name, name != ""
}

// IsApprover reports whether the policy in force names an approver name
// whose token has the SHA-256 digest (hex): a session of an approver
// removed from the policy, or whose token was replaced, ends.
func (p *Policy) IsApprover(name, digest string) bool {
	for _, ap := range p.file.Approvals.Approvers {
		if ap.Name == name && subtle.ConstantTimeCompare([]byte(ap.TokenSHA256), []byte(digest)) == 1 {
			return true
		}
	}
	return false
}

// recordApproval appends an audit record of request a's progress.
func (p *Policy) recordApproval(c *call, a *Approval, event, outcome, approver, reason string) {
	p.record(c, audit.Record{Event: event, ApprovalID: a.ID, Outcome: outcome, Approver: approver, Reason: reason})
}

// decodeState decodes a stored previewed state as canonical does.
func decodeState(raw json.RawMessage) map[string]any {
	var state map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&state)
	return state
}
