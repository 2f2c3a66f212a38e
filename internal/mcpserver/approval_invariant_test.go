package mcpserver

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// needsStaff are the statuses the approval invariant's policy holds for a
// member of staff.
var needsStaff = []string{"Terminated", "Cancelled", "Fraud"}

// staffStatuses returns every service's and addon's status that needs a
// member of staff, by record.
func staffStatuses(t *testing.T, w *trustWorld) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{"SELECT 'service ' || id, domainstatus FROM tblhosting", "SELECT 'addon ' || id, status FROM tblhostingaddons"} {
		rows, err := w.sb.DB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, status string
			if err := rows.Scan(&id, &status); err != nil {
				t.Fatal(err)
			}
			out[id] = status
		}
		rows.Close()
	}
	return out
}

// upgrades counts the upgrades placed.
func upgrades(t *testing.T, w *trustWorld) int {
	t.Helper()
	var n int
	if err := w.sb.DB().QueryRow(`SELECT count(*) FROM tblupgrades`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNoStaffChangeWithoutAStaffApproval is the approvals' invariant as a
// property: with a policy that holds terminations, cancellations, fraud and
// every upgrade for a member of staff, a model making random write calls
// through a host that accepts every question, carrying tokens and approval
// ids from earlier results (right or wrong, fresh or used), changes none of
// them except by a call that carries an approval an approver gave for
// exactly that call, once.
func TestNoStaffChangeWithoutAStaffApproval(t *testing.T) {
	steps := 200
	if testing.Short() {
		steps = 20
	}
	p := randPicker{rand.New(rand.NewPCG(7, 0xa99))}
	w := newTrustWorld(t)
	file, err := policy.Parse([]byte(`
allowed_statuses: []
max_upgrade_price: 1000
approvals:
  require:
    statuses: [Terminated, Cancelled, Fraud]
    tools: [upgrade_product]
  approvers:
    - name: alice
      token_sha256: `+policy.TokenSHA256(strings.Repeat("a", 40))+`
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, pol := w.serverWithPolicy(file)
	yes := &scriptedAsker{accept: true} // a host that approves every question by itself
	c := w.connectWith(srv, client.WithElicitationHandler(yes))

	type request struct{ id, key string }
	var requests []request
	used := map[string]bool{}
	executed := 0
	for step := range steps {
		tool, args := randomCall(p)
		var carried request
		if len(requests) > 0 && p.pick(2) == 0 {
			carried = requests[p.pick(len(requests))]
			if p.pick(3) > 0 { // mostly the request's own call
				json.Unmarshal([]byte(strings.SplitN(carried.key, " ", 2)[1]), &args)
				tool = strings.SplitN(carried.key, " ", 2)[0]
			}
			args["approval_id"] = carried.id
		}
		approved := false
		if carried.id != "" {
			a, err := pol.ApprovalRequest(context.Background(), carried.id)
			approved = err == nil && a.Status == policy.ApprovalApproved
		}
		statusBefore, upgradesBefore := staffStatuses(t, w), upgrades(t, w)
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = tool, args
		res, err := c.CallTool(context.Background(), req)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		statusAfter, upgradesAfter := staffStatuses(t, w), upgrades(t, w)

		changed := upgradesAfter != upgradesBefore
		for id, status := range statusAfter {
			if status != statusBefore[id] && slices.Contains(needsStaff, status) {
				changed = true
			}
		}
		byApproval := approved && carried.key == callKey(tool, withoutApproval(args)) && !used[carried.id]
		if changed && !byApproval {
			t.Fatalf("step %d: %s %v changed what needs a member of staff without an approval for it\nresult: %v", step, tool, args, res.StructuredContent)
		}
		if changed {
			used[carried.id] = true
			executed++
		}

		var out struct {
			Status string `json:"status"`
			ID     string `json:"approval_id"`
		}
		raw, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(raw, &out)
		if out.Status == "approval_required" {
			requests = append(requests, request{id: out.ID, key: callKey(tool, withoutApproval(args))})
			switch p.pick(4) {
			case 0, 1:
				pol.Decide(context.Background(), out.ID, "alice", true, "")
			case 2:
				pol.Decide(context.Background(), out.ID, "alice", false, "no")
			}
		}
	}
	if executed == 0 {
		t.Errorf("no call of %d made an approved change: the property held for want of trying", steps)
	}
	t.Logf("%d of %d calls made an approved change; %d approval requests", executed, steps, len(requests))
}

// withoutApproval returns a copy of args without approval_id.
func withoutApproval(args map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range args {
		if k != "approval_id" {
			out[k] = v
		}
	}
	return out
}
