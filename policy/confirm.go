package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/internal/logging"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// confirmKey names the elicitation's one field.
const confirmKey = "confirm"

// What the model is told to do next, first in the results that need it.
const (
	nextConfirm  = "Nothing has changed yet. Show this preview to the user; only if they agree, call again with exactly the same arguments plus confirmation_token. Never confirm on your own initiative."
	nextQuote    = "This is WHMCS's price only; nothing has changed. To place the upgrade, call upgrade_product without calconly: the user will be asked to confirm."
	nextNone     = "Nothing was written: every field already holds the value asked for."
	nextDeclined = "The user did not confirm; nothing was changed. Do not retry unless the user asks again."
)

// previewed is what a guarded call would change, read from WHMCS.
type previewed struct {
	// state is what a confirmation re-checks: the changed fields' current
	// values, or the quote's product, cycle and price.
	state   map[string]any
	preview *tools.Preview
	// subject is the record, as WHMCS has it now.
	subject *tools.Subject
	// unchanged: every field already holds the value asked for.
	unchanged bool
}

// tokensConfirm reports whether the policy lets a confirmation_token
// confirm a call of the caller of ctx: in token mode, and in auto mode for a
// client that cannot ask its user.
func (p *Policy) tokensConfirm(ctx context.Context) bool {
	switch p.file.Confirmation {
	case ConfirmToken:
		return true
	case ConfirmAuto:
		return !clientCanElicit(ctx)
	}
	return false
}

// preview answers a guarded call made without a confirmation: by asking the
// user (elicitation), or with the preview and a token where tokens confirm.
func (p *Policy) preview(ctx context.Context, c *call) (any, error) {
	pv, err := p.previewOf(ctx, c)
	if err != nil {
		return nil, p.previewFailed(c, err)
	}
	if pv.unchanged {
		p.record(c, event("unchanged", "", "nothing to change: every field already holds the value asked for", pv.preview))
		return &tools.WriteStatus{Status: tools.StatusUnchanged, Message: nextNone, Preview: pv.preview}, nil
	}
	if rule := p.approvalRule(c, pv); rule != "" {
		return p.requestApproval(ctx, c, pv, rule)
	}
	switch {
	case p.tokensConfirm(ctx):
		return p.issueToken(ctx, c, pv)
	case clientCanElicit(ctx):
		return p.elicit(ctx, c, pv)
	}
	return nil, p.refuse(c, "", "the policy requires a person to confirm this change, and this MCP client cannot ask its user (it does not support elicitation)")
}

// quote answers upgrade_product with calconly: WHMCS's quote, a read. Where
// tokens confirm, it comes with a token for the real upgrade, as the
// preview of the upgrade itself would; elsewhere with none.
func (p *Policy) quote(ctx context.Context, c *call) (any, error) {
	pv, err := p.previewOf(ctx, c)
	if err != nil {
		return nil, p.previewFailed(c, err)
	}
	if p.approvalRule(c, pv) != "" {
		p.record(c, event("quote", "", "quoted; no token (placing the upgrade needs a staff approval)", pv.preview))
		return &tools.WriteStatus{Status: tools.StatusQuote, Message: nextQuoteApproval, Preview: pv.preview}, nil
	}
	if p.tokensConfirm(ctx) {
		return p.issueToken(ctx, c, pv)
	}
	p.record(c, event("quote", "", "quoted; no token (the policy needs the user to confirm)", pv.preview))
	return &tools.WriteStatus{Status: tools.StatusQuote, Message: nextQuote, Preview: pv.preview}, nil
}

// previewOf reads what a guarded call would change from WHMCS: the record's
// current values of the changed fields, or a fresh calconly quote.
func (p *Policy) previewOf(ctx context.Context, c *call) (*previewed, error) {
	subject, err := c.op.Subject(ctx)
	if err != nil {
		return nil, err
	}
	if c.op.Kind == tools.OpUpdate {
		pv := updatePreview(c.op, subject)
		pv.subject = subject
		return pv, nil
	}
	q, err := c.op.Quote(ctx)
	if err != nil {
		return nil, err
	}
	if limit := p.file.MaxUpgradePrice; limit != nil && q.Amount > *limit {
		return nil, p.refuse(c, "", fmt.Sprintf("the upgrade costs %s, above the policy's max_upgrade_price of %.2f", q.Price, *limit))
	}
	state := map[string]any{"newproductid": q.NewProductID, "billingcycle": q.BillingCycle, "amount": q.Amount}
	return &previewed{state: canonical(state), preview: &tools.Preview{Summary: q.Summary(subject.Label), Quote: q}, subject: subject}, nil
}

// previewFailed records a preview that could not be made (a record that
// does not exist, WHMCS down) and returns its error; refusals are recorded
// already.
func (p *Policy) previewFailed(c *call, err error) error {
	var refusal *Refusal
	if !errors.As(err, &refusal) {
		p.record(c, audit.Record{Event: "failure", Outcome: "no preview", Reply: err.Error()})
	}
	return err
}

// uncomparable are fields whose effect cannot be told from the record's
// current value, so a call that sets them is never "unchanged".
var uncomparable = []string{"autorecalc", "configoptions", "customfields"}

// updatePreview builds the before/after diff of an update. Secret fields
// show as [redacted] and are not part of the re-checked state: nothing
// derived from a secret leaves the server or is kept in the ledger.
func updatePreview(op *tools.Operation, subject *tools.Subject) *previewed {
	state := map[string]any{}
	diff := map[string]tools.Change{}
	unchanged := true
	for _, field := range op.Fields {
		from, cleared := subject.Values[field], isUnset(op.Changes, field)
		to, given := op.Changes[field]
		switch {
		case logging.IsSecretKey(field):
			diff[field] = tools.Change{From: logging.Redacted, To: logging.Redacted}
			unchanged = false
			continue
		case field == "autorecalc":
			from = subject.Values[op.PriceField]
			state[op.PriceField] = from
			diff[op.PriceField] = tools.Change{From: from, To: "recalculated by WHMCS from the price list"}
			unchanged = false
			continue
		case cleared && !given:
			to = nil
		}
		state[field] = from
		diff[field] = tools.Change{From: from, To: to}
		if slices.Contains(uncomparable, field) || !sameValue(field, from, to) {
			unchanged = false
		}
	}
	return &previewed{
		state:     canonical(state),
		preview:   &tools.Preview{Summary: tools.ChangeSummary(subject.Label, diff, op.Effects), Changes: diff},
		unchanged: unchanged,
	}
}

// isUnset reports whether an update's unset lists field.
func isUnset(changes map[string]any, field string) bool {
	items, _ := changes["unset"].([]any)
	return slices.Contains(items, any(field))
}

// sameValue reports whether a record's current value of field (nil when
// WHMCS holds none) is the value asked for. When unsure it says no, so that
// the change is confirmed rather than skipped.
func sameValue(field string, current, wanted any) bool {
	norm := func(v any) string {
		switch t := v.(type) {
		case nil:
			return ""
		case bool:
			if t {
				return "on"
			}
			return ""
		case json.Number:
			return numberText(t.String())
		case float64:
			return numberText(fmt.Sprint(t))
		case string:
			if field == "overideautosuspend" && t == "off" {
				return ""
			}
			return t
		}
		b, _ := json.Marshal(v)
		return "json:" + string(b)
	}
	return norm(current) == norm(wanted)
}

// numberText writes a number so that 24.9, 24.90 and "24.90" compare equal.
func numberText(s string) string {
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		return s
	}
	return fmt.Sprint(f)
}

// canonical round-trips a state through JSON so that values compare the
// same whether they were just read or came back from the ledger.
func canonical(state map[string]any) map[string]any {
	b, _ := json.Marshal(state)
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

// caller describes a principal for the binding of a confirmation: its name
// and everything that narrows what it may do.
func caller(pr *Principal) string {
	b, _ := json.Marshal(pr)
	return string(b)
}

// issue stores a new ledger entry binding c to pv's state and returns its
// token and key.
func (p *Policy) issue(ctx context.Context, c *call, use string, pv *previewed) (string, string, *Entry, error) {
	args, err := ArgsDigest(c.op.Args)
	if err != nil {
		return "", "", nil, err
	}
	state, err := json.Marshal(pv.state)
	if err != nil {
		return "", "", nil, err
	}
	token, key, err := newToken()
	if err != nil {
		return "", "", nil, err
	}
	expires := p.now().Add(time.Duration(p.file.TokenTTL)).Truncate(time.Second)
	e := &Entry{Use: use, Tool: c.op.Tool, Args: args, Caller: caller(c.principal), Policy: p.digest, State: state, Expires: expires}
	// The entry outlives its expiry by a minute, so that a late
	// confirmation is told it expired rather than that it is unknown.
	if err := p.ledger.Put(ctx, key, e, expires.Add(time.Minute)); err != nil {
		p.log.Error("the confirmation ledger cannot be written", "err", err)
		return "", "", nil, p.refuse(c, "", ErrLedgerUnavailable.Error())
	}
	return token, key, e, nil
}

// issueToken returns the preview with a confirmation token.
func (p *Policy) issueToken(ctx context.Context, c *call, pv *previewed) (any, error) {
	token, key, e, err := p.issue(ctx, c, useConfirm, pv)
	if err != nil {
		return nil, err
	}
	p.record(c, event("preview", tokenID(key), tools.StatusConfirmationRequired, pv.preview))
	return &tools.WriteStatus{
		Status:            tools.StatusConfirmationRequired,
		Message:           nextConfirm,
		Preview:           pv.preview,
		ConfirmationToken: token,
		ExpiresAt:         e.Expires.UTC().Format(time.RFC3339),
	}, nil
}

// elicit asks the user, through the client, to confirm the change. The
// request state is a ledger token, bound like a confirmation token.
func (p *Policy) elicit(ctx context.Context, c *call, pv *previewed) (any, error) {
	requestState, key, _, err := p.issue(ctx, c, useElicit, pv)
	if err != nil {
		return nil, err
	}
	p.record(c, event("preview", tokenID(key), "confirmation requested from the user", pv.preview))
	params := mcp.ElicitationParams{
		Message: pv.preview.Summary + "\n\nDo you want to make this change?",
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				confirmKey: map[string]any{"type": "boolean", "title": "Confirm", "description": "Yes, make this change.", "default": true},
			},
		},
	}
	return server.NewInputRequestBuilder(requestState).Elicit(confirmKey, params).ToolResult(), nil
}

// confirmWithToken executes a guarded call that carries a confirmation token,
// if the policy lets a token confirm it, the token holds, and the previewed
// state still does.
func (p *Policy) confirmWithToken(ctx context.Context, c *call) (any, error) {
	if !p.tokensConfirm(ctx) {
		return nil, p.refuse(c, "", "a confirmation_token confirms nothing here: the policy needs the user to confirm through the MCP client. Call again without confirmation_token, and the user will be asked")
	}
	key, err := p.take(ctx, c, c.op.ConfirmationToken, useConfirm)
	if err != nil {
		return nil, err
	}
	p.record(c, event("confirmation", tokenID(key), "confirmed with token", nil))
	return p.execute(ctx, c, tokenID(key))
}

// confirmElicited finishes an elicitation round trip: it executes when the
// user accepted with confirm: true, and changes nothing otherwise.
func (p *Policy) confirmElicited(ctx context.Context, c *call) (any, error) {
	req := c.op.Request.Params
	if p.file.Confirmation == ConfirmToken {
		return nil, p.refuse(c, "", "the policy confirms changes with a confirmation_token, not by asking the user; call again without it")
	}
	answer := server.ElicitationResponse(req.InputResponses, confirmKey)
	if answer == nil {
		return nil, p.refuse(c, "", "the confirmation request was not answered")
	}
	key, err := p.take(ctx, c, req.RequestState, useElicit)
	if err != nil {
		return nil, err
	}
	if !accepted(answer) {
		p.record(c, event("declined", tokenID(key), "not confirmed by the user: "+string(answer.Action), nil))
		return &tools.WriteStatus{Status: tools.StatusDeclined, Message: nextDeclined}, nil
	}
	p.record(c, event("confirmation", tokenID(key), "confirmed by the user", nil))
	return p.execute(ctx, c, tokenID(key))
}

// take spends a token: it takes its entry from the ledger (once, whatever
// happens next), checks what the entry is bound to, and re-checks the
// previewed state against WHMCS. It returns the entry's key; any failure is
// a recorded refusal.
func (p *Policy) take(ctx context.Context, c *call, token, use string) (string, error) {
	if !wellFormed(token) {
		return "", p.refuse(c, "", "the confirmation token is malformed: it is not one this server issues; call again without it for a fresh preview")
	}
	key := ledgerKey(token)
	e, err := p.ledger.Take(ctx, key)
	if errors.Is(err, ErrSpent) {
		return "", p.refuse(c, tokenID(key), "the token was already used; call again without it for a fresh preview")
	}
	if err != nil {
		p.log.Error("the confirmation ledger cannot be read", "err", err)
		return "", p.refuse(c, tokenID(key), ErrLedgerUnavailable.Error())
	}
	if e == nil {
		return "", p.refuse(c, tokenID(key), "the confirmation token is unknown: not issued by this server, or long expired; call again without it for a fresh preview")
	}
	if reason := p.mismatch(c, e, use); reason != "" {
		return "", p.refuse(c, tokenID(key), reason+" (the token is now spent); call again without it for a fresh preview")
	}
	var before map[string]any
	dec := json.NewDecoder(bytes.NewReader(e.State))
	dec.UseNumber()
	if err := dec.Decode(&before); err != nil {
		return "", p.refuse(c, tokenID(key), "the previewed state is unreadable")
	}
	now, err := p.previewOf(ctx, c)
	if err != nil {
		var refusal *Refusal
		if errors.As(err, &refusal) {
			return "", err
		}
		return "", fmt.Errorf("re-reading WHMCS before the change: %w", err)
	}
	if changed := stateChanges(before, now.state); changed != "" {
		return "", p.refuse(c, tokenID(key), "WHMCS changed since the preview: "+changed+"; call again without a token for a fresh preview")
	}
	if rule := p.approvalRule(c, now); rule != "" {
		return "", p.refuse(c, tokenID(key), rule+", which a confirmation cannot replace (the token is now spent); call again without it to ask for the approval")
	}
	return key, nil
}

// mismatch says why entry e cannot confirm c, or "" when it can.
func (p *Policy) mismatch(c *call, e *Entry, use string) string {
	args, err := ArgsDigest(c.op.Args)
	switch {
	case err != nil:
		return "the arguments cannot be compared"
	case e.Use != use && use == useConfirm:
		return "the token was not issued as a confirmation_token"
	case e.Use != use:
		return "the request state was not issued for a question to the user"
	case !p.now().Before(e.Expires):
		return fmt.Sprintf("the confirmation expired at %s", e.Expires.UTC().Format(time.RFC3339))
	case e.Tool != c.op.Tool:
		return fmt.Sprintf("the token was issued for %s, not %s", e.Tool, c.op.Tool)
	case e.Args != args:
		return "the token was issued for other arguments; call with exactly the previewed arguments"
	case e.Caller != caller(c.principal):
		return "the token was issued to another caller"
	case e.Policy != p.digest:
		return "the token was issued under another policy than the one in force"
	}
	return ""
}

// ArgsDigest is the hex SHA-256 of an operation's canonical arguments: their
// JSON encoding, which is deterministic for the tools' argument structs
// (fields in declaration order, map keys sorted).
func ArgsDigest(args any) (string, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// event is an audit record of c's progress.
func event(name, tokenID, outcome string, detail any) audit.Record {
	return audit.Record{Event: name, TokenID: tokenID, Outcome: outcome, Reply: detail}
}

// accepted reports whether the user confirmed: Accept, with the confirm box
// as the form shows it (ticked by default) or ticked; unticking it, Decline
// and Cancel confirm nothing.
func accepted(answer *mcp.ElicitationResult) bool {
	if answer.Action != mcp.ElicitationResponseActionAccept {
		return false
	}
	content, _ := answer.Content.(map[string]any)
	confirmed, given := content[confirmKey]
	return !given || confirmed == true
}

// stateChanges describes the fields whose value differs from the preview.
func stateChanges(previewed, now map[string]any) string {
	var out []string
	for _, field := range slices.Sorted(maps.Keys(previewed)) {
		was, is := previewed[field], now[field]
		a, _ := json.Marshal(was)
		b, _ := json.Marshal(is)
		if !bytes.Equal(a, b) {
			out = append(out, fmt.Sprintf("%s is now %s (the preview showed %s)", field, tools.Describe(is), tools.Describe(was)))
		}
	}
	return strings.Join(out, ", ")
}

// clientCanElicit reports whether the caller's MCP client can ask its user:
// per request from protocol 2026-07-28 on, per session before.
func clientCanElicit(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return info.ClientCapabilities != nil && info.ClientCapabilities.Elicitation != nil
	}
	session := server.ClientSessionFromContext(ctx)
	withInfo, ok := session.(server.SessionWithClientInfo)
	if !ok || withInfo.GetClientCapabilities().Elicitation == nil {
		return false
	}
	_, ok = session.(server.SessionWithElicitation)
	return ok
}
