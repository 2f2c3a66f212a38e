// Package redisstore keeps what several replicas of the server must share
// in Redis: the confirmation ledger (policy.Ledger) and the per-principal
// rate limits (httpserver.RateLimiter).
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

// Ledger returns the confirmation ledger kept in Redis.
func (s *Store) Ledger() policy.Ledger { return ledger{s} }

type ledger struct{ s *Store }

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
