package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// preview answers a guarded call made without a confirmation: by asking the
// user (elicitation) or by returning the preview with a token.
func (p *Policy) preview(ctx context.Context, c *call) (any, error) {
	state, preview, err := p.previewState(ctx, c)
	if err != nil {
		return nil, err
	}
	canElicit := clientCanElicit(ctx)
	switch mode := p.file.Confirmation; {
	case mode == ConfirmHuman && !canElicit:
		return nil, p.refuse(c, "", "the policy requires a person to confirm this change, and this MCP client cannot ask its user (it does not support elicitation)")
	case mode == ConfirmHuman || (mode != ConfirmToken && canElicit):
		return p.elicit(c, state, preview)
	}
	return p.issueToken(c, state, preview)
}

// quote answers upgrade_product with calconly: WHMCS's quote as a preview,
// with a token that confirms the real upgrade.
func (p *Policy) quote(ctx context.Context, c *call) (any, error) {
	state, preview, err := p.previewState(ctx, c)
	if err != nil {
		return nil, err
	}
	return p.issueToken(c, state, preview)
}

// previewState reads what a guarded call would change from WHMCS: the
// record's current values of the changed fields, or a fresh calconly quote.
// state is what a confirmation re-checks.
func (p *Policy) previewState(ctx context.Context, c *call) (map[string]any, *tools.Preview, error) {
	if c.subject == nil {
		subject, err := c.op.Subject(ctx)
		if err != nil {
			return nil, nil, err
		}
		c.subject = subject
	}
	if c.op.Kind == tools.OpUpdate {
		return updateState(c.subject, c.op.Changes)
	}
	q, err := c.op.Quote(ctx)
	if err != nil {
		return nil, nil, err
	}
	if limit := p.file.MaxUpgradePrice; limit != nil && q.Amount > *limit {
		return nil, nil, p.refuse(c, "", fmt.Sprintf("the upgrade costs %s, above the policy's max_upgrade_price of %.2f", q.Price, *limit))
	}
	state := map[string]any{"newproductid": q.NewProductID, "billingcycle": q.BillingCycle, "amount": q.Amount}
	return canonical(state), &tools.Preview{Summary: q.Summary(c.subject.Label), Quote: q}, nil
}

// updateState builds the before/after diff of an update. Secret fields show
// as [redacted] and are re-checked by digest.
func updateState(subject *tools.Subject, changes map[string]any) (map[string]any, *tools.Preview, error) {
	state := make(map[string]any, len(changes))
	diff := make(map[string]tools.Change, len(changes))
	var words []string
	for _, field := range slices.Sorted(maps.Keys(changes)) {
		from, to := subject.Values[field], changes[field]
		if logging.IsSecretKey(field) {
			state[field] = digest(from)
			from, to = logging.Redacted, logging.Redacted
		} else {
			state[field] = from
		}
		diff[field] = tools.Change{From: from, To: to}
		words = append(words, fmt.Sprintf("%s %s → %s", field, plain(from), plain(to)))
	}
	preview := &tools.Preview{
		Summary: fmt.Sprintf("Change %s: %s.", subject.Label, strings.Join(words, "; ")),
		Changes: diff,
	}
	return canonical(state), preview, nil
}

func plain(v any) string {
	if v == nil {
		return "(none)"
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func digest(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// canonical round-trips a state through JSON so that values compare the
// same whether they were just read or came back from a token.
func canonical(state map[string]any) map[string]any {
	b, _ := json.Marshal(state)
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

// claims returns the claims binding c to state.
func (p *Policy) claims(c *call, use string, state map[string]any) (*Claims, error) {
	args, err := ArgsDigest(c.op.Args)
	if err != nil {
		return nil, err
	}
	rawState, err := json.Marshal(state)
	if err != nil {
		return nil, err
	}
	return &Claims{
		Use: use, Tool: c.op.Tool, Args: args, Principal: c.principal.Name, State: rawState,
		Expires: p.now().Add(time.Duration(p.file.TokenTTL)).Unix(),
	}, nil
}

// issueToken returns the preview with a signed confirmation token.
func (p *Policy) issueToken(c *call, state map[string]any, preview *tools.Preview) (any, error) {
	claims, err := p.claims(c, useConfirm, state)
	if err != nil {
		return nil, err
	}
	token, err := p.signer.Sign(claims)
	if err != nil {
		return nil, err
	}
	p.record(c, event("preview", claims.ID, tools.StatusConfirmationRequired, preview))
	return &tools.WriteStatus{
		Status:            tools.StatusConfirmationRequired,
		Preview:           preview,
		ConfirmationToken: token,
		ExpiresAt:         time.Unix(claims.Expires, 0).UTC().Format(time.RFC3339),
	}, nil
}

// elicit asks the user, through the client, to confirm the change. The
// request state is a signed single-use token bound like a confirmation token.
func (p *Policy) elicit(c *call, state map[string]any, preview *tools.Preview) (any, error) {
	claims, err := p.claims(c, useElicit, state)
	if err != nil {
		return nil, err
	}
	requestState, err := p.signer.Sign(claims)
	if err != nil {
		return nil, err
	}
	p.record(c, event("preview", claims.ID, "confirmation requested from the user", preview))
	params := mcp.ElicitationParams{
		Message: preview.Summary + " Do you want to make this change?",
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				confirmKey: map[string]any{"type": "boolean", "title": "Confirm", "description": "Yes, make this change."},
			},
			"required": []string{confirmKey},
		},
	}
	return server.NewInputRequestBuilder(requestState).Elicit(confirmKey, params).ToolResult(), nil
}

// confirmWithToken executes a guarded call that carries a confirmation token,
// if the token holds and the previewed state still does.
func (p *Policy) confirmWithToken(ctx context.Context, c *call) (any, error) {
	claims, err := p.signer.Verify(c.op.ConfirmationToken)
	if err != nil {
		return nil, p.refuse(c, "", err.Error())
	}
	if err := p.spend(ctx, c, claims, useConfirm); err != nil {
		return nil, err
	}
	p.record(c, event("confirmation", claims.ID, "confirmed with token", nil))
	return p.execute(ctx, c, claims.ID)
}

// confirmElicited finishes an elicitation round trip: it executes when the
// user accepted with confirm: true, and changes nothing otherwise.
func (p *Policy) confirmElicited(ctx context.Context, c *call) (any, error) {
	req := c.op.Request.Params
	claims, err := p.signer.Verify(req.RequestState)
	if err != nil {
		return nil, p.refuse(c, "", "the request state is not authentic: "+err.Error())
	}
	answer := server.ElicitationResponse(req.InputResponses, confirmKey)
	if answer == nil {
		return nil, p.refuse(c, claims.ID, "the confirmation request was not answered")
	}
	if err := p.spend(ctx, c, claims, useElicit); err != nil {
		return nil, err
	}
	if !accepted(answer) {
		p.record(c, event("declined", claims.ID, "not confirmed by the user: "+string(answer.Action), nil))
		return &tools.WriteStatus{Status: tools.StatusDeclined}, nil
	}
	p.record(c, event("confirmation", claims.ID, "confirmed by the user", nil))
	return p.execute(ctx, c, claims.ID)
}

// event is an audit record of c's progress.
func event(name, tokenID, outcome string, detail any) audit.Record {
	return audit.Record{Event: name, TokenID: tokenID, Outcome: outcome, Reply: detail}
}

func accepted(answer *mcp.ElicitationResult) bool {
	if answer.Action != mcp.ElicitationResponseActionAccept {
		return false
	}
	content, _ := answer.Content.(map[string]any)
	confirmed, _ := content[confirmKey].(bool)
	return confirmed
}

// spend checks a token's binding and expiry, uses it up, and re-checks the
// previewed state. Any failure is a recorded refusal.
func (p *Policy) spend(ctx context.Context, c *call, claims *Claims, use string) error {
	args, err := ArgsDigest(c.op.Args)
	if err != nil {
		return err
	}
	switch {
	case claims.Use != use:
		return p.refuse(c, claims.ID, "the token was not issued as a confirmation_token")
	case p.now().Unix() > claims.Expires:
		return p.refuse(c, claims.ID, fmt.Sprintf("the confirmation expired at %s; call again without confirmation_token for a fresh preview",
			time.Unix(claims.Expires, 0).UTC().Format(time.RFC3339)))
	case claims.Tool != c.op.Tool:
		return p.refuse(c, claims.ID, fmt.Sprintf("the token was issued for %s, not %s", claims.Tool, c.op.Tool))
	case claims.Args != args:
		return p.refuse(c, claims.ID, "the token was issued for other arguments; call with exactly the previewed arguments")
	case claims.Principal != c.principal.Name:
		return p.refuse(c, claims.ID, "the token was issued to another caller")
	}
	fresh, err := p.consume(ctx, claims)
	if err != nil {
		return err
	}
	if !fresh {
		return p.refuse(c, claims.ID, "the token was already used")
	}
	var previewed map[string]any
	dec := json.NewDecoder(bytes.NewReader(claims.State))
	dec.UseNumber()
	if err := dec.Decode(&previewed); err != nil {
		return p.refuse(c, claims.ID, "the token's previewed state is unreadable")
	}
	state, _, err := p.previewState(ctx, c)
	if err != nil {
		return err
	}
	if changed := stateChanges(previewed, state); changed != "" {
		return p.refuse(c, claims.ID, "WHMCS changed since the preview: "+changed+"; call again without a token for a fresh preview")
	}
	return nil
}

func (p *Policy) consume(ctx context.Context, claims *Claims) (bool, error) {
	return p.used.Consume(ctx, claims.ID, time.Unix(claims.Expires, 0).Add(time.Minute))
}

// stateChanges describes the fields whose value differs from the preview.
func stateChanges(previewed, now map[string]any) string {
	var out []string
	for _, field := range slices.Sorted(maps.Keys(previewed)) {
		was, is := previewed[field], now[field]
		a, _ := json.Marshal(was)
		b, _ := json.Marshal(is)
		if bytes.Equal(a, b) {
			continue
		}
		if s, ok := was.(string); ok && strings.HasPrefix(s, "sha256:") {
			out = append(out, field+" changed")
			continue
		}
		out = append(out, fmt.Sprintf("%s is now %s (the preview showed %s)", field, plain(is), plain(was)))
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
