package httpserver

import (
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Bounds of what is kept and logged about the addresses that are refused.
const (
	// maxTrackedAddrs bounds the addresses a refusal log counts one by one,
	// and those whose authentication failures are budgeted.
	maxTrackedAddrs = 10000
	// firstRefusalLines bounds the refusals logged on a line of their own
	// in each period (the first from each address).
	firstRefusalLines = 10
	// refusalSummaryEvery is the period of the refusal summaries.
	refusalSummaryEvery = time.Minute
)

// addrKey is what the per-address bounds count by: an IPv4 address, or the
// /64 of an IPv6 address (the block a host usually has to itself, so a host
// cannot escape the bounds by changing addresses within it).
func addrKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	bits := 64
	if ip.Is4() {
		bits = 32
	}
	p, _ := ip.Prefix(bits)
	return p
}

// remoteKey returns the addrKey of a remote address ("ip:port"), and false
// if it is not an IP address.
func remoteKey(addr string) (netip.Prefix, bool) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return netip.Prefix{}, false
	}
	return addrKey(ap.Addr()), true
}

// keyString shows an addrKey in logs: the IPv4 address, or the IPv6 /64.
func keyString(p netip.Prefix, ok bool) string {
	switch {
	case !ok:
		return "unknown"
	case p.Addr().Is4():
		return p.Addr().String()
	}
	return p.String()
}

// refusalLog logs, in bounded volume, refusals that anyone can provoke at
// will. In each period the first refusal of a kind (reason) from an address
// gets a line of its own, firstRefusalLines of them at most; the others are
// only counted, and summarise then logs one line of counts.
type refusalLog struct {
	log     *slog.Logger
	summary string // the summary line's message

	mu       sync.Mutex
	since    time.Time              // start of the period
	byAddr   map[string]int         // refusals per address (maxTrackedAddrs of them at most)
	byReason map[string]int         // refusals per reason
	logged   map[[2]string]struct{} // reason and address of the lines of their own
	total    int                    // refusals
}

func newRefusalLog(log *slog.Logger, summary string) *refusalLog {
	l := &refusalLog{log: log, summary: summary}
	l.reset(time.Now())
	return l
}

// add records a refusal from addr for reason (a word, counted in the
// summary under that key, so none that the logger redacts: see
// logging.IsSecretKey); msg and attrs make its line if it gets one.
func (l *refusalLog) add(addr, reason, msg string, attrs ...any) {
	l.mu.Lock()
	if n, seen := l.byAddr[addr]; seen || len(l.byAddr) < maxTrackedAddrs {
		l.byAddr[addr] = n + 1
	}
	l.byReason[reason]++
	l.total++
	_, seen := l.logged[[2]string{reason, addr}]
	own := !seen && len(l.logged) < firstRefusalLines
	if own {
		l.logged[[2]string{reason, addr}] = struct{}{}
	}
	l.mu.Unlock()
	if own {
		l.log.Warn(msg, append([]any{"remote", addr, "reason", reason, "then", "more like it are counted in a summary each minute"}, attrs...)...)
	}
}

// summarise ends the period: it logs the period's counts if some of its
// refusals had no line of their own.
func (l *refusalLog) summarise() {
	now := time.Now()
	l.mu.Lock()
	since, byAddr, byReason, total, lines := l.since, l.byAddr, l.byReason, l.total, len(l.logged)
	l.reset(now)
	l.mu.Unlock()
	if total == lines {
		return
	}
	top, topN := "", 0
	for a, n := range byAddr {
		if n > topN || (n == topN && a < top) {
			top, topN = a, n
		}
	}
	attrs := []any{"period", now.Sub(since).Round(time.Second), "refused", total, "not_logged_one_by_one", total - lines,
		"addresses", len(byAddr), "top_address", top, "top_address_refused", topN}
	for _, reason := range slices.Sorted(maps.Keys(byReason)) {
		attrs = append(attrs, reason, byReason[reason])
	}
	l.log.Warn(l.summary, attrs...)
}

func (l *refusalLog) reset(now time.Time) {
	l.since, l.byAddr, l.byReason, l.logged, l.total = now, map[string]int{}, map[string]int{}, map[[2]string]struct{}{}, 0
}

// connLimit is a listener that bounds the connections open at once, in all
// and per address (see addrKey); a bound below 1 is no bound. A connection
// over a bound is closed as soon as it is accepted, before anything is read
// from it, so that a flood from one address leaves room for the others.
type connLimit struct {
	net.Listener
	max, perAddr int
	refused      *refusalLog

	mu     sync.Mutex
	open   int
	byAddr map[netip.Prefix]int
}

func newConnLimit(ln net.Listener, max, perAddr int, refused *refusalLog) *connLimit {
	return &connLimit{Listener: ln, max: max, perAddr: perAddr, refused: refused, byAddr: map[netip.Prefix]int{}}
}

// Accept returns the next connection within the bounds.
func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, keyed := remoteKey(c.RemoteAddr().String())
		switch l.admit(key, keyed) {
		case "":
			return &limitedConn{Conn: c, release: func() { l.release(key, keyed) }}, nil
		case "over_per_address_cap":
			c.Close()
			l.refused.add(keyString(key, keyed), "over_per_address_cap",
				"connection refused: too many open from this address", "cap", l.perAddr)
		default:
			c.Close()
			l.refused.add(keyString(key, keyed), "over_total_cap",
				"connection refused: too many connections open", "cap", l.max)
		}
	}
}

// admit takes a place for a connection from key, or says which bound is
// full.
func (l *connLimit) admit(key netip.Prefix, keyed bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case keyed && l.perAddr > 0 && l.byAddr[key] >= l.perAddr:
		return "over_per_address_cap"
	case l.max > 0 && l.open >= l.max:
		return "over_total_cap"
	}
	l.open++
	if keyed {
		l.byAddr[key]++
	}
	return ""
}

func (l *connLimit) release(key netip.Prefix, keyed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if keyed {
		if l.byAddr[key]--; l.byAddr[key] <= 0 {
			delete(l.byAddr, key)
		}
	}
}

// limitedConn gives its place back when it closes.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite lets net/http half-close the connection before closing it, as
// it would the bare TCP connection, so that a client still sending reads
// the answer instead of a reset.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// authThrottle budgets the authentication failures of each address (see
// addrKey) with a token bucket, for maxTrackedAddrs addresses at most; a
// rate of rate.Inf is no budget.
type authThrottle struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[netip.Prefix]*rate.Limiter
}

func newAuthThrottle(r rate.Limit, burst int) *authThrottle {
	return &authThrottle{rate: r, burst: burst, buckets: map[netip.Prefix]*rate.Limiter{}}
}

// wait returns how long key must wait for its next attempt: 0 while its
// budget allows one.
func (a *authThrottle) wait(key netip.Prefix, now time.Time) time.Duration {
	if a.rate == rate.Inf {
		return 0
	}
	a.mu.Lock()
	b := a.buckets[key]
	a.mu.Unlock()
	if b == nil {
		return 0
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(a.rate) * float64(time.Second))
}

// fail spends one failure of key's budget.
func (a *authThrottle) fail(key netip.Prefix, now time.Time) {
	if a.rate == rate.Inf {
		return
	}
	a.mu.Lock()
	b := a.buckets[key]
	if b == nil {
		if len(a.buckets) >= maxTrackedAddrs {
			a.evict(now)
		}
		b = rate.NewLimiter(a.rate, a.burst)
		a.buckets[key] = b
	}
	a.mu.Unlock()
	b.AllowN(now, 1)
}

// evict makes room for an address: it forgets those whose budget is whole
// again (as good as new), or else the one with the most left.
func (a *authThrottle) evict(now time.Time) {
	var fullest netip.Prefix
	most := -1.0
	for key, b := range a.buckets {
		switch tokens := b.TokensAt(now); {
		case tokens >= float64(a.burst):
			delete(a.buckets, key)
		case tokens > most:
			fullest, most = key, tokens
		}
	}
	if len(a.buckets) >= maxTrackedAddrs {
		delete(a.buckets, fullest)
	}
}

// FailureBudget is the per-address budget of authentication failures that
// /mcp keeps, for other pages that take credentials (the approval pages'
// sign-in): an address (an IPv4 address, an IPv6 /64) that has spent it
// waits before its next attempt is even looked at.
type FailureBudget struct{ t *authThrottle }

// NewFailureBudget returns a budget of burst failures at once, refilled at
// r a second.
func NewFailureBudget(r rate.Limit, burst int) *FailureBudget {
	return &FailureBudget{t: newAuthThrottle(r, burst)}
}

// Wait returns how long the remote address ("ip:port") must wait for its
// next attempt: 0 while its budget allows one.
func (b *FailureBudget) Wait(remoteAddr string) time.Duration {
	key, ok := remoteKey(remoteAddr)
	if !ok {
		return 0
	}
	return b.t.wait(key, time.Now())
}

// Fail spends one failure of the remote address's budget.
func (b *FailureBudget) Fail(remoteAddr string) {
	if key, ok := remoteKey(remoteAddr); ok {
		b.t.fail(key, time.Now())
	}
}
