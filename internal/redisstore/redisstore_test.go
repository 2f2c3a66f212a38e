package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/whmcs-mcp/whmcs-mcp/internal/redisstore"
	"github.com/whmcs-mcp/whmcs-mcp/internal/redistest"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/ledgertest"
)

func open(t *testing.T, url string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), redisstore.Options{URL: url, Prefix: "test:" + t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRedisLedger(t *testing.T) {
	url := redistest.URL(t)
	ledgertest.Run(t, open(t, url).Ledger(), open(t, url).Ledger()) // two replicas' connections
}

// TestPutInThePastIsForgotten: an entry whose keep time has passed is not
// kept for ever (SET with no expiry).
func TestPutInThePastIsForgotten(t *testing.T) {
	l := open(t, redistest.URL(t)).Ledger()
	ctx := context.Background()
	if err := l.Put(ctx, "k", &policy.Entry{Tool: "x"}, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if e, err := l.Take(ctx, "k"); e != nil || err != nil {
		t.Errorf("Take of an entry put past its keep time: %+v %v, want nothing", e, err)
	}
}

func TestOpenSaysWhatIsWrong(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop()
	_, err := redisstore.Open(context.Background(), redisstore.Options{URL: fmt.Sprintf("redis://:hunter2@127.0.0.1:%d/0", srv.Port), Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "cannot be reached") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a Redis that is down: %v; want an error that names the ledger, without the password", err)
	}
	if _, err := redisstore.Open(context.Background(), redisstore.Options{URL: "http://example.com"}); err == nil {
		t.Error("an http:// URL was accepted")
	}
}

// TestLedgerFailsClosedAndRecovers: with Redis down, a take fails (the
// policy refuses the write); back up, the ledger works again without a new
// connection being made by hand.
func TestLedgerFailsClosedAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	l := open(t, srv.URL).Ledger()
	ctx := context.Background()
	srv.Stop()
	if _, err := l.Take(ctx, "k"); err == nil {
		t.Fatal("a take with Redis down did not fail")
	}
	if err := l.Put(ctx, "k", &policy.Entry{}, time.Now().Add(time.Minute)); err == nil {
		t.Fatal("a put with Redis down did not fail")
	}
	srv.Restart(t)
	if err := l.Put(ctx, "k", &policy.Entry{Tool: "x"}, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("after Redis came back: %v", err)
	}
	if e, err := l.Take(ctx, "k"); err != nil || e == nil || e.Tool != "x" {
		t.Errorf("after Redis came back: %v %v", e, err)
	}
}

// TestRateLimitIsShared: two replicas' limiters of one principal draw on
// one budget.
func TestRateLimitIsShared(t *testing.T) {
	url := redistest.URL(t)
	a := open(t, url).RateLimiter(rate.Limit(1), 4)
	b, err := redisstore.Open(context.Background(), redisstore.Options{URL: url, Prefix: "test:" + t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	other := b.RateLimiter(rate.Limit(1), 4)
	ctx := context.Background()
	allowed := 0
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = other
		}
		if l.Allow(ctx, "support-bot") == 0 {
			allowed++
		}
	}
	if allowed != 4 {
		t.Errorf("8 requests over two replicas with a shared burst of 4: %d allowed", allowed)
	}
	if wait := a.Allow(ctx, "support-bot"); wait <= 0 || wait > 2*time.Second {
		t.Errorf("over the limit: wait %v, want about a second", wait)
	}
	if a.Allow(ctx, "reporting") != 0 {
		t.Error("another principal was limited")
	}
}
