package policy

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ledgers returns a fresh ledger of each kind; for the file ledger, two
// handles on one file, as two processes would have.
func ledgers(t *testing.T) map[string][2]Ledger {
	t.Helper()
	mem := NewMemoryLedger()
	path := filepath.Join(t.TempDir(), "state.db")
	a, err := OpenFileLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenFileLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return map[string][2]Ledger{"memory": {mem, mem}, "file": {a, b}}
}

func TestLedgerTakesOnce(t *testing.T) {
	ctx := context.Background()
	for name, l := range ledgers(t) {
		t.Run(name, func(t *testing.T) {
			_, key, err := newToken()
			if err != nil {
				t.Fatal(err)
			}
			e := &Entry{Use: useConfirm, Tool: "update_client_product", Args: "ab", Caller: "{}", Policy: "p", Expires: time.Now().Add(time.Minute).Truncate(time.Second)}
			if got, err := l[1].Take(ctx, key); got != nil || err != nil {
				t.Fatalf("Take before Put: %v %v", got, err)
			}
			if err := l[0].Put(ctx, key, e, e.Expires.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			got, err := l[1].Take(ctx, key)
			if err != nil || got == nil || got.Tool != e.Tool || !got.Expires.Equal(e.Expires) {
				t.Fatalf("Take: %+v %v", got, err)
			}
			if got, err := l[0].Take(ctx, key); got != nil || !errors.Is(err, ErrSpent) {
				t.Errorf("second Take: %v %v, want ErrSpent", got, err)
			}
		})
	}
}

func TestLedgerConcurrentTakesHaveOneWinner(t *testing.T) {
	ctx := context.Background()
	for name, l := range ledgers(t) {
		t.Run(name, func(t *testing.T) {
			_, key, _ := newToken()
			if err := l[0].Put(ctx, key, &Entry{Use: useConfirm, Expires: time.Now().Add(time.Minute)}, time.Now().Add(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			var won, spent atomic.Int32
			var wg sync.WaitGroup
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					switch e, err := l[i%2].Take(ctx, key); {
					case e != nil && err == nil:
						won.Add(1)
					case errors.Is(err, ErrSpent):
						spent.Add(1)
					default:
						t.Errorf("Take: %v %v", e, err)
					}
				}()
			}
			wg.Wait()
			if won.Load() != 1 || spent.Load() != 39 {
				t.Errorf("%d won, %d spent; want 1 and 39", won.Load(), spent.Load())
			}
		})
	}
}
