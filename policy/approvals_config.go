package policy

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Approval request lifetimes.
const (
	// DefaultApprovalTTL is how long an approval request waits for a
	// decision, and an approval for the agent's call, by default.
	DefaultApprovalTTL = time.Hour
	// MaxApprovalTTL is the longest approvals.ttl a policy file may set.
	MaxApprovalTTL = 7 * 24 * time.Hour
)

// Approvals is the policy file's approvals section: which guarded changes
// need a member of staff to approve them on the approval pages (where
// neither the model nor the MCP host can answer), and who may.
//
// A change that needs an approval is not asked of the user: the approver's
// decision takes the place of the confirmation.
type Approvals struct {
	// Require says which guarded changes need an approval; a change that
	// matches any of its rules does.
	Require ApprovalRules `yaml:"require"`
	// Approvers are the members of staff who may decide, each known by
	// the SHA-256 of the token they sign in with.
	Approvers []ApproverConfig `yaml:"approvers"`
	// TTL is how long a request waits for a decision, and an approval for
	// the agent's call: default 1h, at most 7 days (168h).
	TTL Duration `yaml:"ttl"`
	// NotifyURL, if set, receives a JSON POST when a request is waiting.
	NotifyURL string `yaml:"notify_url"`
}

// ApprovalRules are the rules of approvals.require.
type ApprovalRules struct {
	// Statuses: a change of a service's or addon's status to one of these.
	Statuses []string `yaml:"statuses"`
	// UpgradePriceAbove: an upgrade WHMCS quotes above this price.
	UpgradePriceAbove *float64 `yaml:"upgrade_price_above"`
	// Principals: every guarded change asked for by these callers (a
	// principal of the file, or local for stdio and the command line).
	Principals []string `yaml:"principals"`
	// Tools: every guarded change through these write tools.
	Tools []string `yaml:"tools"`
}

// any reports whether any rule is set.
func (r ApprovalRules) any() bool {
	return len(r.Statuses) > 0 || r.UpgradePriceAbove != nil || len(r.Principals) > 0 || len(r.Tools) > 0
}

// ApproverConfig is one member of staff who may approve.
type ApproverConfig struct {
	// Name identifies the approver on the pages and in the audit log. A
	// person who is also an MCP principal should have the same name in
	// both places: nobody may approve a request of the principal of their
	// own name.
	Name string `yaml:"name"`
	// TokenSHA256 is the lowercase hex SHA-256 of the token the approver
	// signs in with; it may not be a principal's bearer token.
	TokenSHA256 string `yaml:"token_sha256"`
}

// Enabled reports whether any change needs an approval.
func (a *Approvals) Enabled() bool { return a.Require.any() }

// fillApprovalDefaults gives approvals.ttl its default and makes empty lists nil.
func (p *fileParser) fillApprovalDefaults(a *Approvals) {
	if !p.set["approvals.ttl"] {
		a.TTL = Duration(DefaultApprovalTTL)
	}
	for _, list := range []*[]string{&a.Require.Statuses, &a.Require.Principals, &a.Require.Tools} {
		if len(*list) == 0 {
			*list = nil
		}
	}
	if len(a.Approvers) == 0 {
		a.Approvers = nil
	}
}

// validateApprovals checks the approvals section against the rest of f.
func (p *fileParser) validateApprovals(f *File) {
	a := &f.Approvals
	r := &a.Require
	p.names("approvals.require.statuses", r.Statuses, StatusValues, "a WHMCS status")
	for i, s := range r.Statuses {
		if len(f.AllowedStatuses) > 0 && slices.Contains(StatusValues, s) && !slices.Contains(f.AllowedStatuses, s) {
			p.invalid(fmt.Sprintf("approvals.require.statuses[%d]", i), "%s is not in allowed_statuses, so agents may not ask for it at all; add it there to let them ask for it with an approval", s)
		}
	}
	if price := r.UpgradePriceAbove; price != nil && (math.IsNaN(*price) || math.IsInf(*price, 0) || *price < 0) {
		p.invalid("approvals.require.upgrade_price_above", "must be a number of 0 or more, got %v", *price)
	} else if limit := f.MaxUpgradePrice; price != nil && limit != nil && *price >= *limit {
		bound := fmt.Sprintf("%.2f", *limit)
		if !p.set["max_upgrade_price"] {
			bound += ", the default"
		}
		p.invalid("approvals.require.upgrade_price_above", "%.2f is not below max_upgrade_price (%s), which refuses every upgrade quoted above it before anyone could approve it; set max_upgrade_price to the most an approver may approve", *price, bound)
	}
	known := slices.Clone(ReservedNames)
	for _, pr := range f.Principals {
		known = append(known, pr.Name)
	}
	p.names("approvals.require.principals", r.Principals, known, "a principal of this file (or local, token, anonymous)")
	var writes []string
	for _, name := range ToolNames {
		if IsWrite(name) {
			writes = append(writes, name)
		}
	}
	p.names("approvals.require.tools", r.Tools, writes, "a write tool")

	switch ttl := time.Duration(a.TTL); {
	case ttl <= 0:
		p.invalid("approvals.ttl", "must be more than 0, got %s", ttl)
	case ttl > MaxApprovalTTL:
		p.invalid("approvals.ttl", "must be at most 168h (7 days), got %s", ttl)
	}
	if a.NotifyURL != "" {
		if u, err := url.Parse(a.NotifyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.invalid("approvals.notify_url", "want an absolute http:// or https:// URL, got %q", a.NotifyURL)
		}
	}
	if r.any() && len(a.Approvers) == 0 {
		p.invalid("approvals.approvers", "required when approvals.require has a rule: nobody could approve the changes it names")
	}
	principalTokens := map[string]string{}
	for i, pr := range f.Principals {
		if pr.TokenSHA256 != "" {
			principalTokens[pr.TokenSHA256] = fmt.Sprintf("principals[%d]", i)
		}
	}
	names, tokens := map[string]string{}, map[string]string{}
	for i, ap := range a.Approvers {
		path := fmt.Sprintf("approvals.approvers[%d]", i)
		switch name := strings.TrimSpace(ap.Name); {
		case name == "":
			p.invalid(path+".name", "required: a name for the approval pages and the audit log")
		case !isPrintableName(name):
			p.invalid(path+".name", "want printable characters, got %q", ap.Name)
		case names[name] != "":
			p.invalid(path+".name", "%q is also the name of %s", ap.Name, names[name])
		default:
			names[name] = path
		}
		if other := principalTokens[ap.TokenSHA256]; other != "" {
			p.invalid(path+".token_sha256", "the bearer token of %s: an approver signs in with a token of their own, never an MCP principal's", other)
			continue
		}
		p.tokenMatch(path, ap.TokenSHA256, tokens)
	}
}

// isPrintableName reports whether s has no control characters.
func isPrintableName(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// approvalRule says which rule of approvals.require makes the call c with
// preview pv need an approval, or "" when none does.
func (p *Policy) approvalRule(c *call, pv *previewed) string {
	r := &p.file.Approvals.Require
	if status, ok := c.op.Changes["status"].(string); ok && slices.Contains(r.Statuses, status) {
		return fmt.Sprintf("a change of status to %s needs a staff approval", status)
	}
	if limit := r.UpgradePriceAbove; limit != nil && pv != nil && pv.preview.Quote != nil && pv.preview.Quote.Amount > *limit {
		return fmt.Sprintf("an upgrade above %.2f needs a staff approval", *limit)
	}
	if slices.Contains(r.Principals, c.principal.Name) {
		return fmt.Sprintf("every guarded change asked for by %s needs a staff approval", c.principal.Name)
	}
	if slices.Contains(r.Tools, c.op.Tool) {
		return fmt.Sprintf("every guarded change through %s needs a staff approval", c.op.Tool)
	}
	return ""
}
