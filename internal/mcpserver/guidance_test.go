package mcpserver

// What the model reads: many hosts show it neither the server's
// instructions nor output schemas, so the tool descriptions and the results
// themselves say what matters, and the schemas follow the policy in force.

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

func TestSchemasFollowThePolicy(t *testing.T) {
	w := newTrustWorld(t)
	file := policy.Default() // allowed_statuses: [Active, Suspended], max_upgrade_price: 50
	c := w.connect(w.server(file), nil)
	list, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for _, tool := range list.Tools {
		var schema struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		raw, _ := json.Marshal(tool.InputSchema)
		if tool.RawInputSchema != nil {
			raw = tool.RawInputSchema
		}
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatalf("%s: %v", tool.Name, err)
		}
		if status, ok := schema.Properties["status"]; ok && !slices.Equal(status.Enum, []string{"Active", "Suspended"}) {
			t.Errorf("%s: the status enum is %v, want exactly the allowed statuses [Active Suspended]", tool.Name, status.Enum)
		}
		if tool.Annotations.ReadOnlyHint != nil && *tool.Annotations.ReadOnlyHint {
			continue
		}
		writes++
		for _, want := range []string{"changes nothing at first", "never confirm on your own initiative", "the user is asked in the same call"} {
			if !strings.Contains(strings.ToLower(tool.Description), strings.ToLower(want)) {
				t.Errorf("%s's description does not say %q: %s", tool.Name, want, tool.Description)
			}
		}
	}
	if writes == 0 {
		t.Fatal("no write tools listed")
	}
	var upgrade string
	for _, tool := range list.Tools {
		if strings.Contains(tool.Description, "quoted above 50.00 are refused") {
			upgrade = tool.Name
		}
	}
	if upgrade == "" {
		t.Error("no description states the upgrade price cap of 50")
	}
}

func TestConfirmationRequiredSaysWhatToDoFirst(t *testing.T) {
	w := newTrustWorld(t)
	c := w.connect(w.server(withMode(policy.ConfirmToken)), nil)
	_, _, text := call(t, c, "update_client_product", map[string]any{"serviceid": 2, "status": "Suspended"})
	if !strings.HasPrefix(text, `{"message":"Nothing has changed yet. Show this preview to the user; only if they agree`) ||
		!strings.Contains(text, "Never confirm on your own initiative") {
		t.Errorf("a confirmation_required result does not start with what to do: %s", text)
	}
}

func TestEitherSpellingOfABillingCycle(t *testing.T) {
	w := newTrustWorld(t)
	file := withMode(policy.ConfirmToken)
	file.GuardedFields = []string{} // status only: the cycle is written at once
	c := w.connect(w.server(file), nil)
	res, _, text := call(t, c, "update_client_product", map[string]any{"serviceid": 2, "billingcycle": "semiannually"})
	var cycle string
	w.sb.DB().QueryRow(`SELECT billingcycle FROM tblhosting WHERE id = 2`).Scan(&cycle)
	if res.IsError || cycle != "Semi-Annually" {
		t.Errorf("billingcycle semiannually: %s; WHMCS holds %q", text, cycle)
	}
	quote := map[string]any{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "Monthly", "calconly": true}
	if _, out, text := call(t, c, "upgrade_product", quote); out["status"] != "confirmation_required" {
		t.Errorf("newproductbillingcycle Monthly: %s", text)
	}
	if res, _, text := call(t, c, "update_client_product", map[string]any{"serviceid": 2, "billingcycle": "fortnightly"}); !res.IsError || !strings.Contains(text, "billingcycle") {
		t.Errorf("an unknown cycle: %s", text)
	}
}

func TestDescriptionsSayWhatNeedsAnApproval(t *testing.T) {
	w := newTrustWorld(t)
	file, err := policy.Parse([]byte(`
allowed_statuses: [Active, Suspended, Terminated]
approvals:
  require:
    statuses: [Terminated]
    upgrade_price_above: 20
  approvers:
    - name: alice
      token_sha256: `+policy.TokenSHA256(strings.Repeat("a", 40))+`
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := w.connect(w.server(file), nil)
	list, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"update_client_product": "a change of status to Terminated needs a member of staff's approval",
		"update_client_addon":   "a change of status to Terminated needs a member of staff's approval",
		"upgrade_product":       "an upgrade quoted above 20.00 needs a member of staff's approval",
	}
	for _, tool := range list.Tools {
		phrase, isWrite := want[tool.Name]
		if !isWrite {
			if strings.Contains(tool.Description, "approval") {
				t.Errorf("the read %s mentions approvals: %s", tool.Name, tool.Description)
			}
			continue
		}
		for _, p := range []string{phrase, "approval_url", "approval_id"} {
			if !strings.Contains(tool.Description, p) {
				t.Errorf("%s's description does not say %q: %s", tool.Name, p, tool.Description)
			}
		}
		delete(want, tool.Name)
	}
	if len(want) > 0 {
		t.Errorf("write tools not listed: %v", want)
	}
}

// urlAsker records the URL elicitations it is sent and answers accept.
type urlAsker struct{ params []mcp.ElicitationParams }

func (a *urlAsker) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.params = append(a.params, req.Params)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}, nil
}

func TestApprovalPageIsShownThroughURLElicitation(t *testing.T) {
	w := newTrustWorld(t)
	file, err := policy.Parse([]byte(`
allowed_statuses: [Active, Suspended, Terminated]
approvals:
  require:
    statuses: [Terminated]
  approvers:
    - name: alice
      token_sha256: `+policy.TokenSHA256(strings.Repeat("a", 40))+`
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	asker := &urlAsker{}
	c := w.connectWith(w.server(file), client.WithElicitationHandler(asker),
		client.WithClientCapabilities(mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}}}))
	res, out, raw := call(t, c, "update_client_product", map[string]any{"serviceid": 2, "status": "Terminated"})
	id, _ := out["approval_id"].(string)
	if res.IsError || out["status"] != "approval_required" || id == "" {
		t.Fatalf("result: %s", raw)
	}
	if len(asker.params) != 1 {
		t.Fatalf("%d elicitations sent, want one URL elicitation", len(asker.params))
	}
	p := asker.params[0]
	if p.Mode != mcp.ElicitationModeURL || p.URL != "https://mcp.example.com/approvals/"+id || p.URL != out["approval_url"] ||
		p.ElicitationID != id || !strings.Contains(p.Message, "Terminated") {
		t.Errorf("elicitation %+v for result %s", p, raw)
	}
	if w.sb.Writes() != 0 {
		t.Errorf("%d writes", w.sb.Writes())
	}
}
