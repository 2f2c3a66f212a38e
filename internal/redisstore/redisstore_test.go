package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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

func TestRedisApprovals(t *testing.T) {
	url := redistest.URL(t)
	a, ok := open(t, url).Ledger().(policy.ApprovalStore)
	if !ok {
		t.Fatal("the Redis ledger is not an ApprovalStore")
	}
	b := open(t, url).Ledger().(policy.ApprovalStore) // another replica's connection
	ledgertest.RunApprovals(t, a, b)
}

func TestRedisSessions(t *testing.T) {
	url := redistest.URL(t)
	a, ok := open(t, url).Ledger().(policy.SessionStore)
	if !ok {
		t.Fatal("the Redis ledger is not a SessionStore")
	}
	b := open(t, url).Ledger().(policy.SessionStore) // another replica's connection
	ledgertest.RunSessions(t, a, b)
}

// TestRedisApprovalKeys: a request's key lives until its keep time, also
// after an update; a second put of an id is refused; the index forgets
// requests whose keys have expired.
func TestRedisApprovalKeys(t *testing.T) {
	url := redistest.URL(t)
	s := open(t, url).Ledger().(policy.ApprovalStore)
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(opts)
	defer raw.Close()
	prefix := "test:" + t.Name() + ":"
	ctx := context.Background()
	// A shared Redis (WHMCS_MCP_TEST_REDIS) may hold an earlier run's keys.
	old, err := raw.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(old) > 0 {
		raw.Del(ctx, old...)
	}
	now := time.Now()

	a := &policy.Approval{ID: "apr_long", Status: policy.ApprovalPending, Created: now}
	if err := s.PutApproval(ctx, a, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ttl := raw.PTTL(ctx, prefix+"approval:apr_long").Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL of a request kept for an hour: %v", ttl)
	}
	decided := *a
	decided.Status = policy.ApprovalApproved
	if ok, err := s.UpdateApproval(ctx, &decided, policy.ApprovalPending); !ok || err != nil {
		t.Fatalf("UpdateApproval: %v %v", ok, err)
	}
	if ttl := raw.PTTL(ctx, prefix+"approval:apr_long").Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL after an update: %v, want the put's", ttl)
	}
	if err := s.PutApproval(ctx, &policy.Approval{ID: "apr_long", Status: policy.ApprovalPending}, now.Add(time.Hour)); err == nil {
		t.Error("a second PutApproval of one id was accepted")
	}
	if got, err := s.Approval(ctx, "apr_long"); err != nil || got == nil || got.Status != policy.ApprovalApproved {
		t.Errorf("after a second PutApproval: %+v %v", got, err)
	}

	// Requests whose keep time passed: one is unlisted by the next put,
	// and one that expires later by the next listing.
	if err := s.PutApproval(ctx, &policy.Approval{ID: "apr_brief", Created: now.Add(time.Second)}, now.Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutApproval(ctx, &policy.Approval{ID: "apr_brief2", Created: now.Add(2 * time.Second)}, now.Add(400*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(now.Add(200 * time.Millisecond)))
	if err := s.PutApproval(ctx, &policy.Approval{ID: "apr_next", Created: now}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := raw.ZRange(ctx, prefix+"approvals", 0, -1).Val(); strings.Join(got, " ") != "apr_long apr_next apr_brief2" && strings.Join(got, " ") != "apr_next apr_long apr_brief2" {
		t.Errorf("index after apr_brief's keep time: %v", got)
	}
	time.Sleep(time.Until(now.Add(500 * time.Millisecond)))
	list, err := s.Approvals(ctx, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("Approvals after every brief request expired: %v %v", list, err)
	}
	for _, k := range []string{"approvals", "approvals:keep"} {
		if got := raw.ZCard(ctx, prefix+k).Val(); got != 2 {
			t.Errorf("%s holds %d entries, want 2", k, got)
		}
	}
}

// TestApprovalsFailClosed: with Redis down, every approval operation is an
// error, never "no such request" or a lost update.
func TestApprovalsFailClosed(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL).Ledger().(policy.ApprovalStore)
	ctx := context.Background()
	a := &policy.Approval{ID: "apr_x", Status: policy.ApprovalPending, Created: time.Now()}
	if err := s.PutApproval(ctx, a, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := s.PutApproval(ctx, &policy.Approval{ID: "apr_y"}, time.Now().Add(time.Hour)); err == nil {
		t.Error("PutApproval with Redis down did not fail")
	}
	if got, err := s.Approval(ctx, "apr_x"); err == nil {
		t.Errorf("Approval with Redis down: %v, no error", got)
	}
	if _, err := s.UpdateApproval(ctx, a, policy.ApprovalPending); err == nil {
		t.Error("UpdateApproval with Redis down did not fail")
	}
	if _, err := s.Approvals(ctx, 10); err == nil {
		t.Error("Approvals with Redis down did not fail")
	}
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
