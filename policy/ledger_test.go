package policy_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/ledgertest"
)

// twoFileHandles opens one SQLite state file twice, as two processes would.
func twoFileHandles(t *testing.T) (*policy.FileLedger, *policy.FileLedger) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	a, err := policy.OpenFileLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := policy.OpenFileLedger(path) // a second process's handle
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestMemoryLedger(t *testing.T) {
	l := policy.NewMemoryLedger()
	ledgertest.Run(t, l, l)
}

func TestFileLedger(t *testing.T) {
	a, b := twoFileHandles(t)
	ledgertest.Run(t, a, b)
}

func TestMemoryApprovals(t *testing.T) {
	s := policy.NewMemoryApprovals()
	ledgertest.RunApprovals(t, s, s)
}

func TestFileApprovals(t *testing.T) {
	a, b := twoFileHandles(t)
	ledgertest.RunApprovals(t, a, b)
}

func TestMemorySessions(t *testing.T) {
	s := policy.NewMemorySessions(nil)
	ledgertest.RunSessions(t, s, s)
}

func TestFileSessions(t *testing.T) {
	a, b := twoFileHandles(t)
	ledgertest.RunSessions(t, a, b)
}

// TestFileApprovalsNeverReplaced: a second PutApproval of an id is an
// error, not a silent replacement of a request that may be decided.
func TestFileApprovalsNeverReplaced(t *testing.T) {
	l, err := policy.OpenFileLedger(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	a := &policy.Approval{ID: "apr_x", Status: policy.ApprovalApproved, Created: time.Now()}
	if err := l.PutApproval(ctx, a, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := l.PutApproval(ctx, &policy.Approval{ID: "apr_x", Status: policy.ApprovalPending}, time.Now().Add(time.Hour)); err == nil {
		t.Error("a second PutApproval of one id was accepted")
	}
	if got, err := l.Approval(ctx, "apr_x"); err != nil || got == nil || got.Status != policy.ApprovalApproved {
		t.Errorf("after a second PutApproval: %+v %v", got, err)
	}
}
