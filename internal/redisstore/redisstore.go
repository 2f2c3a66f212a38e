// Package redisstore keeps what several replicas of the server must share
// in Redis: the confirmation ledger (policy.Ledger), the staff approval
// requests (policy.ApprovalStore) and the per-principal rate limits
// (httpserver.RateLimiter).
//
// Single use rests on one atomic command: a token's entry is taken with
// SET key "spent" XX KEEPTTL GET, which returns the entry and leaves a
// tombstone until the entry would have been forgotten, so that of any
// number of concurrent takes on any replicas exactly one gets it. Commands
// are never retried: a take whose outcome is unknown counts as spent.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// DefaultPrefix starts every key the server writes.
const DefaultPrefix = "whmcs-mcp:"

// spent is the tombstone a taken entry leaves.
const spent = "spent"

// Options configure a Store.
type Options struct {
	// URL is redis://[user:password@]host:port[/db] or rediss://... (TLS).
	URL string
	// Prefix starts every key (default DefaultPrefix), so that several
	// deployments can share one Redis.
	Prefix string
	// Timeout bounds each command (default 2 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Store is a connection to Redis.
type Store struct {
	c       *redis.Client
	prefix  string
	where   string // the URL without its password, for errors and logs
	log     *slog.Logger
	lastLog atomic.Int64 // unix seconds of the last rate-limiter error logged
}

// Open connects to Redis and checks that it answers: a server that cannot
// reach its ledger does not start.
func Open(ctx context.Context, opts Options) (*Store, error) {
	where := redacted(opts.URL)
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("--state %s: %w", where, err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ro.MaxRetries = -1 // never retried: a take must happen at most once
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, ro.PoolTimeout = timeout, timeout, timeout, timeout
	s := &Store{c: redis.NewClient(ro), prefix: opts.Prefix, where: where, log: opts.Logger}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.c.Ping(ctx).Err(); err != nil {
		s.c.Close()
		return nil, fmt.Errorf("the confirmation ledger at %s cannot be reached: %w", where, err)
	}
	return s, nil
}

// Close closes the connections.
func (s *Store) Close() error { return s.c.Close() }

// String names the store without its password.
func (s *Store) String() string { return s.where }

// redacted returns a Redis URL without its password.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unreadable Redis URL)"
	}
	return u.Redacted()
}

// Ledger returns the confirmation ledger kept in Redis. It is also the
// policy.ApprovalStore of the approval requests and the
// policy.SessionStore of the approval pages.
func (s *Store) Ledger() policy.Ledger { return ledger{s} }

type ledger struct{ s *Store }

var (
	_ policy.ApprovalStore = ledger{}
	_ policy.SessionStore  = ledger{}
)

func (l ledger) key(k string) string { return l.s.prefix + "confirm:" + k }

// Put implements policy.Ledger: the entry expires from Redis at keep.
func (l ledger) Put(ctx context.Context, key string, e *policy.Entry, keep time.Time) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// A duration of 0 or less would make SET keep the entry for ever.
	if err := l.s.c.Set(ctx, l.key(key), b, max(time.Until(keep), time.Millisecond)).Err(); err != nil {
		return fmt.Errorf("%s: %w", l.s.where, err)
	}
	return nil
}

// Take implements policy.Ledger with one atomic command.
func (l ledger) Take(ctx context.Context, key string) (*policy.Entry, error) {
	old, err := l.s.c.SetArgs(ctx, l.key(key), spent, redis.SetArgs{Mode: "XX", KeepTTL: true, Get: true}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", l.s.where, err)
	case old == spent:
		return nil, policy.ErrSpent
	}
	var e policy.Entry
	if err := json.Unmarshal([]byte(old), &e); err != nil {
		return nil, fmt.Errorf("%s: an unreadable ledger entry: %w", l.s.where, err)
	}
	return &e, nil
}

func (l ledger) sessionKey(k string) string { return l.s.prefix + "session:" + k }

// PutSession implements policy.SessionStore: the session expires from Redis
// when it expires.
func (l ledger) PutSession(ctx context.Context, key string, s *policy.ApproverSession) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := l.s.c.Set(ctx, l.sessionKey(key), b, max(time.Until(s.Expires), time.Millisecond)).Err(); err != nil {
		return fmt.Errorf("%s: %w", l.s.where, err)
	}
	return nil
}

// Session implements policy.SessionStore.
func (l ledger) Session(ctx context.Context, key string) (*policy.ApproverSession, error) {
	raw, err := l.s.c.Get(ctx, l.sessionKey(key)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", l.s.where, err)
	}
	var s policy.ApproverSession
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, fmt.Errorf("%s: an unreadable session: %w", l.s.where, err)
	}
	if !time.Now().Before(s.Expires) {
		return nil, nil
	}
	return &s, nil
}

// DeleteSession implements policy.SessionStore.
func (l ledger) DeleteSession(ctx context.Context, key string) error {
	if err := l.s.c.Del(ctx, l.sessionKey(key)).Err(); err != nil {
		return fmt.Errorf("%s: %w", l.s.where, err)
	}
	return nil
}

func (l ledger) approvalKey(id string) string { return l.s.prefix + "approval:" + id }

// approvalsIndex lists the requests by creation time (unix ms);
// approvalsKeep lists them by keep time, to trim both when their keys have
// expired.
func (l ledger) approvalsIndex() string { return l.s.prefix + "approvals" }
func (l ledger) approvalsKeep() string  { return l.s.prefix + "approvals:keep" }

// putApproval stores a request that is not there yet and lists it, and
// unlists (up to 1000) requests whose keep time is past, all at once.
// KEYS: the request, the index, the keep index. ARGV: the JSON, its time
// to live (ms), the id, its creation and keep times and now (unix ms).
var putApproval = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return 0
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3])
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[6], 'LIMIT', 0, 1000)
if #gone > 0 then
	redis.call('ZREM', KEYS[2], unpack(gone))
	redis.call('ZREM', KEYS[3], unpack(gone))
end
return 1
`)

// updateApproval replaces request KEYS[1] with ARGV[2], keeping its time
// to live, if its status is ARGV[1]; it returns 1 when it did.
var updateApproval = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
	return 0
end
local ok, a = pcall(cjson.decode, cur)
if not ok or type(a) ~= 'table' then
	return redis.error_reply('an unreadable approval request')
end
if a['status'] ~= ARGV[1] then
	return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)

// PutApproval implements policy.ApprovalStore: the request expires from
// Redis at keep. An id already stored is an error: a request is never
// replaced but by UpdateApproval.
func (l ledger) PutApproval(ctx context.Context, a *policy.Approval, keep time.Time) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	now := time.Now()
	ttl := max(keep.Sub(now).Milliseconds(), 1)
	stored, err := putApproval.Run(ctx, l.s.c, []string{l.approvalKey(a.ID), l.approvalsIndex(), l.approvalsKeep()},
		b, ttl, a.ID, a.Created.UnixMilli(), keep.UnixMilli(), now.UnixMilli()).Int()
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", l.s.where, err)
	case stored != 1:
		return fmt.Errorf("%s: approval request %s is already stored", l.s.where, a.ID)
	}
	return nil
}

// Approval implements policy.ApprovalStore.
func (l ledger) Approval(ctx context.Context, id string) (*policy.Approval, error) {
	raw, err := l.s.c.Get(ctx, l.approvalKey(id)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", l.s.where, err)
	}
	return l.decodeApproval(raw)
}

// UpdateApproval implements policy.ApprovalStore with one Lua script, which
// Redis runs atomically.
func (l ledger) UpdateApproval(ctx context.Context, a *policy.Approval, from string) (bool, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	n, err := updateApproval.Run(ctx, l.s.c, []string{l.approvalKey(a.ID)}, from, b).Int()
	if err != nil {
		return false, fmt.Errorf("%s: %w", l.s.where, err)
	}
	return n == 1, nil
}

// Approvals implements policy.ApprovalStore: it reads the index newest
// first, skipping (and unlisting) the requests that have expired.
func (l ledger) Approvals(ctx context.Context, limit int) ([]*policy.Approval, error) {
	var out []*policy.Approval
	var gone []string
	seen := map[string]bool{}
	for start := int64(0); len(out) < limit; {
		ids, err := l.s.c.ZRevRange(ctx, l.approvalsIndex(), start, start+int64(limit-len(out))-1).Result()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.s.where, err)
		}
		if len(ids) == 0 {
			break
		}
		start += int64(len(ids))
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = l.approvalKey(id)
		}
		vals, err := l.s.c.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.s.where, err)
		}
		for i, v := range vals {
			raw, ok := v.(string)
			switch {
			case !ok:
				gone = append(gone, ids[i])
			case !seen[ids[i]]: // the index may shift between pages
				seen[ids[i]] = true
				a, err := l.decodeApproval(raw)
				if err != nil {
					return nil, err
				}
				out = append(out, a)
			}
		}
	}
	if len(gone) > 0 {
		// Best effort: a later call or PutApproval unlists them otherwise.
		pipe := l.s.c.Pipeline()
		pipe.ZRem(ctx, l.approvalsIndex(), gone)
		pipe.ZRem(ctx, l.approvalsKeep(), gone)
		_, _ = pipe.Exec(ctx)
	}
	policy.SortApprovals(out) // the same order as the other stores among equal milliseconds
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (l ledger) decodeApproval(raw string) (*policy.Approval, error) {
	a, err := policy.DecodeApproval([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: an unreadable approval request: %w", l.s.where, err)
	}
	return a, nil
}

// RateLimiter returns a limit of every principal's requests shared by all
// the replicas that use this Redis (GCRA, github.com/go-redis/redis_rate):
// limit per second sustained, burst at once.
func (s *Store) RateLimiter(limit rate.Limit, burst int) *RateLimiter {
	rl := &RateLimiter{s: s, limiter: redis_rate.NewLimiter(s.c), limit: redis_rate.Limit{Rate: 1, Burst: burst, Period: time.Second}}
	if limit >= 1 && float64(limit) == math.Trunc(float64(limit)) {
		rl.limit.Rate = int(limit)
	} else if limit > 0 {
		rl.limit.Period = time.Duration(float64(time.Second) / float64(limit))
	}
	return rl
}

// RateLimiter is a per-principal rate limit kept in Redis.
type RateLimiter struct {
	s       *Store
	limiter *redis_rate.Limiter
	limit   redis_rate.Limit
}

// Allow reports how long principal must wait before its next request: 0
// when it may make it now. When Redis cannot be reached the request is let
// through (a rate limit guards no write) and the failure logged, at most
// every 10 s.
func (r *RateLimiter) Allow(ctx context.Context, principal string) time.Duration {
	res, err := r.limiter.Allow(ctx, r.s.prefix+"rate:"+principal, r.limit)
	if err != nil {
		now := time.Now().Unix()
		if last := r.s.lastLog.Load(); now-last >= 10 && r.s.lastLog.CompareAndSwap(last, now) {
			r.s.log.Warn("the shared rate limit cannot be read from Redis; requests are let through meanwhile", "redis", r.s.where, "err", err)
		}
		return 0
	}
	if res.Allowed > 0 {
		return 0
	}
	return max(res.RetryAfter, time.Millisecond)
}
