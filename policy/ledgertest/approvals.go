package ledgertest

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// RunApprovals tests an approval store through two handles, a and b, on the
// same store (as two processes or replicas would have; they may be the
// same value). The store may hold requests from earlier tests.
func RunApprovals(t *testing.T, a, b policy.ApprovalStore) {
	t.Run("round trip", func(t *testing.T) { approvalRoundTrip(t, a, b) })
	t.Run("updates from the status given", func(t *testing.T) { approvalUpdates(t, a, b) })
	t.Run("concurrent decisions have one winner", func(t *testing.T) { approvalOneWinner(t, a, b) })
	t.Run("lists newest first", func(t *testing.T) { approvalsNewestFirst(t, a, b) })
	t.Run("forgets past keep", func(t *testing.T) { approvalsForgotten(t, a, b) })
	t.Run("never replaces a request", func(t *testing.T) { approvalNeverReplaced(t, a, b) })
}

// approval returns a pending request with every field set, made at created.
func approval(t *testing.T, created time.Time) *policy.Approval {
	return &policy.Approval{
		ID: "apr_" + key(t)[:24], Status: policy.ApprovalPending,
		Tool: "a_write_tool", Args: key(t), Arguments: json.RawMessage(`{"serviceid":7,"password":"[redacted]"}`),
		Caller: `{"name":"support-bot","mode":"confirm"}`, Principal: "support-bot", Subject: "user-1", OAuthClient: "client-1",
		Policy: "sha256:abc", Rule: "upgrade price above 50.00",
		ClientID: 42, Label: `Hosting <b>"gold"</b> & more`,
		Preview: &tools.Preview{
			Summary: "upgrade service 7 to product 9",
			Changes: map[string]tools.Change{"packageid": {From: float64(3), To: float64(9)}, "note": {From: nil, To: "a\nb"}},
			Quote:   &tools.Quote{ServiceID: 7, OldProductID: 3},
		},
		State:   json.RawMessage(`{"packageid":3,"status":"Active","amount":"12.50"}`),
		Created: created,
		Expires: created.Add(time.Hour),
	}
}

// sameApproval fails t unless got is want as a store keeps it.
func sameApproval(t *testing.T, what string, got, want *policy.Approval) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no request, want %s", what, want.ID)
	}
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) || !got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) || !got.Decided.Equal(want.Decided) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func approvalRoundTrip(t *testing.T, a, b policy.ApprovalStore) {
	ctx := context.Background()
	now := time.Now()
	want := approval(t, now)
	if got, err := b.Approval(ctx, want.ID); got != nil || err != nil {
		t.Fatalf("Approval before PutApproval: %v %v, want nil, nil", got, err)
	}
	if err := a.PutApproval(ctx, want, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := b.Approval(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameApproval(t, "Approval on the other handle", got, want)
	if string(got.State) != string(want.State) || got.Preview.Changes["note"].To != "a\nb" {
		t.Errorf("State %s, Preview %+v", got.State, got.Preview)
	}
	got.Status = "changed by the caller"
	if again, err := a.Approval(ctx, want.ID); err != nil || again == nil || again.Status != policy.ApprovalPending {
		t.Errorf("a request returned shares memory with the store: %+v %v", again, err)
	}
	if got, err := a.Approval(ctx, "apr_"+key(t)[:24]); got != nil || err != nil {
		t.Errorf("Approval of an unknown id: %v %v, want nil, nil", got, err)
	}
}

func approvalUpdates(t *testing.T, a, b policy.ApprovalStore) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	req := approval(t, now)
	if err := a.PutApproval(ctx, req, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	decided := *req
	decided.Status, decided.Approver, decided.Reason, decided.Decided = policy.ApprovalApproved, "alice", "fine by me", now.Add(time.Minute)
	decided.Expires = decided.Decided.Add(time.Hour)
	if ok, err := b.UpdateApproval(ctx, &decided, policy.ApprovalApproved); ok || err != nil {
		t.Fatalf("UpdateApproval from the wrong status: %v %v, want false, nil", ok, err)
	}
	if got, err := a.Approval(ctx, req.ID); err != nil {
		t.Fatal(err)
	} else {
		sameApproval(t, "after a refused update", got, req)
	}
	if ok, err := b.UpdateApproval(ctx, &decided, policy.ApprovalPending); !ok || err != nil {
		t.Fatalf("UpdateApproval from pending: %v %v, want true, nil", ok, err)
	}
	got, err := a.Approval(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameApproval(t, "after the update", got, &decided)
	if ok, err := a.UpdateApproval(ctx, &decided, policy.ApprovalPending); ok || err != nil {
		t.Errorf("a second update from pending: %v %v, want false, nil", ok, err)
	}
	used := decided
	used.Status = policy.ApprovalUsed
	if ok, err := a.UpdateApproval(ctx, &used, policy.ApprovalApproved); !ok || err != nil {
		t.Errorf("UpdateApproval approved → used: %v %v, want true, nil", ok, err)
	}
	unknown := approval(t, now)
	if ok, err := b.UpdateApproval(ctx, unknown, policy.ApprovalPending); ok || err != nil {
		t.Errorf("UpdateApproval of an unknown id: %v %v, want false, nil", ok, err)
	}
	if got, err := b.Approval(ctx, unknown.ID); got != nil || err != nil {
		t.Errorf("a refused update of an unknown id stored it: %v %v", got, err)
	}
}

func approvalOneWinner(t *testing.T, a, b policy.ApprovalStore) {
	ctx := context.Background()
	now := time.Now()
	req := approval(t, now)
	if err := a.PutApproval(ctx, req, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var won atomic.Int32
	winner := make(chan policy.Approval, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			d := *req
			d.Approver, d.Decided = "approver-"+string(rune('a'+i)), now
			d.Status, d.Reason = policy.ApprovalApproved, ""
			if i%4 >= 2 {
				d.Status, d.Reason = policy.ApprovalRejected, "no"
			}
			ok, err := s.UpdateApproval(ctx, &d, policy.ApprovalPending)
			if err != nil {
				t.Errorf("UpdateApproval: %v", err)
			}
			if ok {
				won.Add(1)
				winner <- d
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of %d concurrent decisions won; want exactly 1", won.Load(), n)
	}
	w := <-winner
	got, err := b.Approval(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameApproval(t, "the request after the race", got, &w)
}

func approvalsNewestFirst(t *testing.T, a, b policy.ApprovalStore) {
	ctx := context.Background()
	// Made in the future, so that they are the newest in a store that
	// holds other tests' requests too.
	base := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	var want []string
	var newest *policy.Approval
	for i := range 5 {
		s := a
		if i%2 == 1 {
			s = b
		}
		req := approval(t, base.Add(time.Duration(i)*time.Second))
		if err := s.PutApproval(ctx, req, base.Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		want = append([]string{req.ID}, want...)
		newest = req
	}
	for _, limit := range []int{0, 1, 3, 5} {
		list, err := b.Approvals(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, want[:limit]) {
			t.Errorf("Approvals(%d): %v, want %v", limit, got, want[:limit])
		}
	}
	list, err := a.Approvals(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 5 || !slices.IsSortedFunc(list, func(x, y *policy.Approval) int { return y.Created.Compare(x.Created) }) {
		t.Errorf("Approvals(1000): %d requests, not newest first", len(list))
	}
	sameApproval(t, "Approvals' newest", list[0], newest)
}

func approvalsForgotten(t *testing.T, a, b policy.ApprovalStore) {
	ctx := context.Background()
	now := time.Now()
	brief := approval(t, now)
	keep := now.Add(300 * time.Millisecond)
	if err := a.PutApproval(ctx, brief, keep); err != nil {
		t.Fatal(err)
	}
	lasting := approval(t, now)
	if err := b.PutApproval(ctx, lasting, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Approval(ctx, brief.ID); err != nil || got == nil {
		t.Fatalf("a request before its keep time: %v %v", got, err)
	}
	time.Sleep(time.Until(keep) + 300*time.Millisecond)
	// A store may forget lazily, when it next stores a request.
	later := approval(t, time.Now())
	if err := b.PutApproval(ctx, later, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []policy.ApprovalStore{a, b} {
		if got, err := s.Approval(ctx, brief.ID); got != nil || err != nil {
			t.Errorf("a request past its keep time: %v %v, want nil, nil", got, err)
		}
		if ok, err := s.UpdateApproval(ctx, brief, policy.ApprovalPending); ok || err != nil {
			t.Errorf("UpdateApproval of a request past its keep time: %v %v, want false, nil", ok, err)
		}
		list, err := s.Approvals(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		if slices.Contains(ids, brief.ID) || !slices.Contains(ids, lasting.ID) || !slices.Contains(ids, later.ID) {
			t.Errorf("Approvals after %s's keep time: %v; want %s and %s, without it", brief.ID, ids, lasting.ID, later.ID)
		}
	}
}

func approvalNeverReplaced(t *testing.T, a, b policy.ApprovalStore) {
	ctx := context.Background()
	first := approval(t, time.Now())
	if err := a.PutApproval(ctx, first, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	second := *first
	second.Status, second.Approver = policy.ApprovalApproved, "mallory"
	if err := b.PutApproval(ctx, &second, time.Now().Add(time.Hour)); err == nil {
		t.Error("a second PutApproval of the same id was taken")
	}
	got, err := a.Approval(ctx, first.ID)
	if err != nil || got == nil || got.Status != policy.ApprovalPending || got.Approver != "" {
		t.Errorf("after a second PutApproval of the same id: %+v %v", got, err)
	}
}
