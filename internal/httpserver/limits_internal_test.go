package httpserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// An address that spent its budget stays throttled while more addresses
// than the map holds fail: the map stays bounded, and those evicted are
// those with the most budget left.
func TestAuthThrottleStaysBounded(t *testing.T) {
	a := newAuthThrottle(0.001, 2)
	now := time.Now()
	guesser := addrKey(netip.MustParseAddr("192.0.2.1"))
	a.fail(guesser, now)
	a.fail(guesser, now)
	if a.wait(guesser, now) == 0 {
		t.Fatal("an address that spent its budget may try again")
	}
	for i := range maxTrackedAddrs + 100 {
		a.fail(addrKey(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})), now)
	}
	if n := len(a.buckets); n > maxTrackedAddrs {
		t.Errorf("%d addresses kept, at most %d wanted", n, maxTrackedAddrs)
	}
	if a.wait(guesser, now) == 0 {
		t.Error("the address that spent its budget was forgotten")
	}
}

// countHandler counts log records by message.
type countHandler struct {
	mu    sync.Mutex
	n     map[string]int
	attrs map[string][]slog.Attr
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countHandler) WithGroup(string) slog.Handler            { return h }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n[r.Message]++
	r.Attrs(func(a slog.Attr) bool { h.attrs[r.Message] = append(h.attrs[r.Message], a); return true })
	return nil
}

// Refusals from many addresses make at most firstRefusalLines lines of
// their own and one summary a period.
func TestRefusalLogIsBounded(t *testing.T) {
	h := &countHandler{n: map[string]int{}, attrs: map[string][]slog.Attr{}}
	l := newRefusalLog(slog.New(h), "summary")
	for i := range 1000 {
		l.add(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "wrong_credentials", "one")
		l.add("192.0.2.1", "wrong_credentials", "one")
	}
	l.summarise()
	if h.n["one"] != firstRefusalLines || h.n["summary"] != 1 {
		t.Fatalf("lines logged: %v", h.n)
	}
	got := map[string]string{}
	for _, a := range h.attrs["summary"] {
		got[a.Key] = a.Value.String()
	}
	if got["refused"] != "2000" || got["wrong_credentials"] != "2000" || got["top_address"] != "192.0.2.1" || got["top_address_refused"] != "1000" {
		t.Errorf("summary: %v", got)
	}
	// A period without refusals, or with only lines of their own, has no summary.
	l.summarise()
	l.add("192.0.2.1", "wrong_credentials", "one")
	l.summarise()
	if h.n["summary"] != 1 {
		t.Errorf("%d summaries", h.n["summary"])
	}
}
