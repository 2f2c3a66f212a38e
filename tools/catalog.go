package tools

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// CatalogTTL is how long a Catalog keeps what WHMCS listed.
//
// The staleness is acceptable because the checks only refuse what is
// plainly wrong before it is sent: WHMCS still has the last word on every
// write. Within CatalogTTL of a change in WHMCS's admin area, a gateway just
// deactivated or a product just deleted still passes the check (and WHMCS
// judges the write as it would without the check), and a gateway just
// activated or a product just created is refused by the check until the
// entry expires. Writes invalidate nothing: they change services and
// addons, never the gateways or the product catalogue.
const CatalogTTL = 30 * time.Second

// maxCatalogProducts bounds how many products a Catalog keeps: enough for
// any catalogue a model works on at once, a few MB at most.
const maxCatalogProducts = 256

// Catalog reads, for the checks of the write tools (see Checks), what one
// WHMCS lists: its active payment gateways (GetPaymentMethods) and its
// products (GetProducts, one product per request), and keeps each answer for
// its TTL, so that a write costs no catalogue request while the answers are
// fresh. It is safe for concurrent use; concurrent callers that miss the same
// entry share one request. Failed reads are not kept. What it returns is
// shared: callers must not modify it.
type Catalog struct {
	whmcs *whmcs.Client
	ttl   time.Duration
	max   int              // bound on products
	now   func() time.Time // the clock (tests set it)

	flight singleflight.Group

	mu       sync.Mutex
	methods  *entry[[]whmcs.PaymentMethod]
	products map[int]entry[*whmcs.Product]
}

// entry is a kept answer and when it expires.
type entry[T any] struct {
	value   T
	expires time.Time
}

// NewCatalog returns a Catalog of c's WHMCS that keeps answers for ttl; a ttl
// of 0 or less keeps nothing (every check reads WHMCS).
func NewCatalog(c *whmcs.Client, ttl time.Duration) *Catalog {
	return &Catalog{whmcs: c, ttl: ttl, max: maxCatalogProducts, now: time.Now, products: map[int]entry[*whmcs.Product]{}}
}

// PaymentMethods returns WHMCS's active payment gateways.
func (c *Catalog) PaymentMethods(ctx context.Context) ([]whmcs.PaymentMethod, error) {
	c.mu.Lock()
	if e := c.methods; e != nil && c.now().Before(e.expires) {
		c.mu.Unlock()
		return e.value, nil
	}
	c.mu.Unlock()
	return share(ctx, &c.flight, "paymentmethods", func(ctx context.Context) ([]whmcs.PaymentMethod, error) {
		resp, err := c.whmcs.GetPaymentMethods(ctx)
		if err != nil {
			return nil, err
		}
		methods := []whmcs.PaymentMethod(resp.PaymentMethods)
		if c.ttl > 0 {
			c.mu.Lock()
			c.methods = &entry[[]whmcs.PaymentMethod]{value: methods, expires: c.now().Add(c.ttl)}
			c.mu.Unlock()
		}
		return methods, nil
	})
}

// Product returns catalogue product pid, or nil when WHMCS has no such
// product (an answer kept like any other).
func (c *Catalog) Product(ctx context.Context, pid int) (*whmcs.Product, error) {
	c.mu.Lock()
	if e, ok := c.products[pid]; ok && c.now().Before(e.expires) {
		c.mu.Unlock()
		return e.value, nil
	}
	c.mu.Unlock()
	return share(ctx, &c.flight, "product:"+strconv.Itoa(pid), func(ctx context.Context) (*whmcs.Product, error) {
		resp, err := c.whmcs.GetProducts(ctx, whmcs.GetProductsRequest{PID: &pid})
		if err != nil {
			return nil, err
		}
		var product *whmcs.Product
		for i := range resp.Products {
			if int(resp.Products[i].PID) == pid {
				product = &resp.Products[i]
				break
			}
		}
		if c.ttl > 0 {
			c.mu.Lock()
			c.keepProduct(pid, entry[*whmcs.Product]{value: product, expires: c.now().Add(c.ttl)})
			c.mu.Unlock()
		}
		return product, nil
	})
}

// keepProduct stores e under pid, first making room when the Catalog holds
// its bound: expired entries go, then the one closest to expiry. c.mu is
// held.
func (c *Catalog) keepProduct(pid int, e entry[*whmcs.Product]) {
	if _, ok := c.products[pid]; !ok && len(c.products) >= c.max {
		now := c.now()
		oldest, first := 0, true
		for id, kept := range c.products {
			if !now.Before(kept.expires) {
				delete(c.products, id)
				continue
			}
			if first || kept.expires.Before(c.products[oldest].expires) {
				oldest, first = id, false
			}
		}
		if len(c.products) >= c.max {
			delete(c.products, oldest)
		}
	}
	c.products[pid] = e
}

// share runs load once for every concurrent caller with the same key. load
// runs detached from the caller's cancellation, bounded by the WHMCS
// client's own timeout, so that one caller giving up does not fail the
// others waiting on the same read; each caller still returns when its own
// context ends.
func share[T any](ctx context.Context, g *singleflight.Group, key string, load func(context.Context) (T, error)) (T, error) {
	detached := context.WithoutCancel(ctx)
	ch := g.DoChan(key, func() (any, error) { return load(detached) })
	select {
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			var zero T
			return zero, r.Err
		}
		return r.Val.(T), nil
	}
}
