package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// Tailor fits a tool's definition to the policy in force, so that what the
// model reads is what will happen: the status enum lists only
// allowed_statuses, and a write's description says which changes need a
// person's confirmation here, how the confirmation arrives, and the upgrade
// price cap. Reads are left as they are.
func (p *Policy) Tailor(t mcp.Tool) mcp.Tool {
	spec, ok := specs[t.Name]
	if !ok || spec.Kind != tools.Write {
		return t
	}
	if allowed := p.file.AllowedStatuses; len(allowed) > 0 {
		t.RawInputSchema = narrowEnum(t.RawInputSchema, "status", allowed)
	}
	var notes []string
	if spec.Effects != nil {
		guarded := []string{tools.EffectStatus}
		for _, g := range p.file.GuardedFields {
			if !slices.Contains(guarded, g) {
				guarded = append(guarded, g)
			}
		}
		notes = append(notes, "Here, changes to "+strings.Join(guarded, ", ")+" need a person's confirmation.")
	} else if limit := p.file.MaxUpgradePrice; limit != nil {
		notes = append(notes, fmt.Sprintf("Upgrades quoted above %.2f are refused.", *limit))
	}
	if allowed := p.file.AllowedStatuses; len(allowed) > 0 && spec.Effects != nil {
		notes = append(notes, "Statuses you may set: "+strings.Join(allowed, ", ")+".")
	}
	switch p.file.Confirmation {
	case ConfirmHuman:
		notes = append(notes, "The user is asked in the same call; a client that cannot ask its user cannot make such changes.")
	case ConfirmToken:
		notes = append(notes, "A preview with a confirmation_token comes back; call again with it only after the user agrees.")
	default:
		notes = append(notes, "The user is asked in the same call where the client can ask; otherwise a preview with a confirmation_token comes back, to use only after the user agrees.")
	}
	if note := p.approvalNote(spec); note != "" {
		notes = append(notes, note)
	}
	t.Description += " " + strings.Join(notes, " ")
	return t
}

// approvalNote says which of the tool's changes need a member of staff's
// approval, and what the model does then; "" when none do.
func (p *Policy) approvalNote(spec tools.Spec) string {
	r := &p.file.Approvals.Require
	var which []string
	if slices.Contains(r.Tools, spec.Name) {
		which = append(which, "every guarded change")
	} else {
		if len(r.Statuses) > 0 && spec.Effects != nil {
			which = append(which, "a change of status to "+strings.Join(r.Statuses, " or "))
		}
		if r.UpgradePriceAbove != nil && spec.Effects == nil {
			which = append(which, fmt.Sprintf("an upgrade quoted above %.2f", *r.UpgradePriceAbove))
		}
		if len(r.Principals) > 0 {
			which = append(which, "every guarded change asked for by "+strings.Join(r.Principals, ", "))
		}
	}
	if len(which) == 0 {
		return ""
	}
	return "Here, " + strings.Join(which, "; ") + " needs a member of staff's approval instead: the result is approval_required with approval_url and approval_id, and nothing changes. " +
		"Tell the user it waits for staff; later call again with the same arguments plus approval_id to learn the decision (pending, rejected with a reason, expired) and, once approved, to carry it out."
}

// specs are the tools' declarations by name.
var specs = func() map[string]tools.Spec {
	out := map[string]tools.Spec{}
	for _, t := range tools.Specs() {
		out[t.Name] = t
	}
	return out
}()

// narrowEnum keeps, of the enum of a top-level property of an input schema,
// the values in keep. A schema it cannot read is returned as it is.
func narrowEnum(schema json.RawMessage, property string, keep []string) json.RawMessage {
	var root map[string]any
	if json.Unmarshal(schema, &root) != nil {
		return schema
	}
	props, _ := root["properties"].(map[string]any)
	prop, _ := props[property].(map[string]any)
	enum, _ := prop["enum"].([]any)
	if enum == nil {
		return schema
	}
	var narrowed []any
	for _, v := range enum {
		if s, _ := v.(string); slices.Contains(keep, s) {
			narrowed = append(narrowed, v)
		}
	}
	prop["enum"] = narrowed
	out, err := json.Marshal(root)
	if err != nil {
		return schema
	}
	return out
}
