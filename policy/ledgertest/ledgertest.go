// Package ledgertest holds the tests every policy.Ledger must pass, for the
// packages that implement one.
package ledgertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// key returns a fresh random ledger key.
func key(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Run tests a ledger through two handles, a and b, on the same store (as
// two processes or replicas would have; they may be the same value).
func Run(t *testing.T, a, b policy.Ledger) {
	t.Run("takes once", func(t *testing.T) { takesOnce(t, a, b) })
	t.Run("concurrent takes have one winner", func(t *testing.T) { oneWinner(t, a, b) })
}

func takesOnce(t *testing.T, a, b policy.Ledger) {
	ctx := context.Background()
	k := key(t)
	e := &policy.Entry{Use: "confirm", Tool: "a_tool", Args: "ab", Caller: "{}", Policy: "p", State: []byte(`{"status":"Active"}`),
		Expires: time.Now().Add(time.Minute).Truncate(time.Second)}
	if got, err := b.Take(ctx, k); got != nil || err != nil {
		t.Fatalf("Take before Put: %v %v, want nothing", got, err)
	}
	if err := a.Put(ctx, k, e, e.Expires.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := b.Take(ctx, k)
	if err != nil || got == nil || got.Tool != e.Tool || string(got.State) != string(e.State) || !got.Expires.Equal(e.Expires) {
		t.Fatalf("Take: %+v %v, want %+v", got, err, e)
	}
	if got, err := a.Take(ctx, k); got != nil || !errors.Is(err, policy.ErrSpent) {
		t.Errorf("second Take: %v %v, want ErrSpent", got, err)
	}
}

func oneWinner(t *testing.T, a, b policy.Ledger) {
	ctx := context.Background()
	k := key(t)
	if err := a.Put(ctx, k, &policy.Entry{Use: "confirm", Expires: time.Now().Add(time.Minute)}, time.Now().Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var won, spent atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := a
			if i%2 == 1 {
				l = b
			}
			switch e, err := l.Take(ctx, k); {
			case e != nil && err == nil:
				won.Add(1)
			case errors.Is(err, policy.ErrSpent):
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
}
