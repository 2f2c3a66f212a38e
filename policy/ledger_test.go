package policy_test

import (
	"path/filepath"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/ledgertest"
)

func TestMemoryLedger(t *testing.T) {
	l := policy.NewMemoryLedger()
	ledgertest.Run(t, l, l)
}

func TestFileLedger(t *testing.T) {
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
	ledgertest.Run(t, a, b)
}

func TestMemoryApprovals(t *testing.T) {
	s := policy.NewMemoryApprovals()
	ledgertest.RunApprovals(t, s, s)
}
