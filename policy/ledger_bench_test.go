package policy

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// BenchmarkArgsDigest is what binding a confirmation to its arguments costs.
func BenchmarkArgsDigest(b *testing.B) {
	status := "Suspended"
	args := whmcs.UpdateClientProductRequest{ServiceID: 2, Status: &status}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ArgsDigest(args); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLedgerPutTake is one confirmation's ledger work: a token issued
// (Put) and spent (Take), in memory and in an SQLite file.
func BenchmarkLedgerPutTake(b *testing.B) {
	file, err := OpenFileLedger(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	for _, l := range []struct {
		name   string
		ledger Ledger
	}{{"memory", NewMemoryLedger()}, {"sqlite", file}} {
		b.Run(l.name, func(b *testing.B) {
			ctx := context.Background()
			e := &Entry{Use: useConfirm, Tool: "a_tool", Args: "ab", Caller: "{}", Policy: "p", State: []byte(`{"status":"Active"}`)}
			b.ReportAllocs()
			for b.Loop() {
				_, key, err := newToken()
				if err != nil {
					b.Fatal(err)
				}
				e.Expires = time.Now().Add(time.Minute)
				if err := l.ledger.Put(ctx, key, e, e.Expires); err != nil {
					b.Fatal(err)
				}
				if got, err := l.ledger.Take(ctx, key); err != nil || got == nil {
					b.Fatal(got, err)
				}
			}
		})
	}
}
