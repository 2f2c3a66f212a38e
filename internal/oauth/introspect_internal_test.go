package oauth

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

func TestIntrospectionCacheIsBounded(t *testing.T) {
	now := time.Now()
	c := &introspectionCache{ttl: 30 * time.Second, max: 100, entries: map[[32]byte]cached{}}
	key := func(i int) [32]byte { return sha256.Sum256(fmt.Appendf(nil, "token-%d", i)) }
	tok := func(exp time.Time) *Token { return &Token{Subject: "s", Expiry: exp} }
	// Full, half of it expiring in 5 s.
	for i := range 100 {
		exp := now.Add(time.Minute)
		if i%2 == 0 {
			exp = now.Add(5 * time.Second)
		}
		c.put(key(i), tok(exp), now)
	}
	// Later, a new token evicts the expired ones first.
	later := now.Add(10 * time.Second)
	c.put(key(100), tok(later.Add(time.Minute)), later)
	if c.len() != 51 {
		t.Errorf("%d entries after evicting the 50 expired, want 51", c.len())
	}
	for i := 1; i < 100; i += 2 {
		if c.get(key(i), later) == nil {
			t.Fatalf("entry %d, not expired, was evicted while expired ones were there", i)
		}
	}
	// Full of live entries: any one goes, the bound holds.
	for i := 101; i < 300; i++ {
		c.put(key(i), tok(later.Add(time.Minute)), later)
		if c.len() > 100 {
			t.Fatalf("%d entries, bound 100", c.len())
		}
	}
	if c.get(key(299), later) == nil {
		t.Error("the newest entry is not cached")
	}
}
