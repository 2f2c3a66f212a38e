package tools

import (
	"context"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/faultwhmcs"
)

// testCatalog is a Catalog of a counted sandbox with a settable clock.
func testCatalog(t *testing.T, ttl time.Duration) (*Catalog, *counted, *time.Time) {
	t.Helper()
	w := newCounted(t, nil)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c := NewCatalog(w.deps.WHMCS, ttl)
	c.now = func() time.Time { return now }
	return c, w, &now
}

// TestCatalogKeepsAnswersForItsTTL: each answer (a product that does not
// exist included) is read once per TTL.
func TestCatalogKeepsAnswersForItsTTL(t *testing.T) {
	c, w, now := testCatalog(t, CatalogTTL)
	ctx := context.Background()
	for range 3 {
		methods, err := c.PaymentMethods(ctx)
		if err != nil || len(methods) != 2 || methods[0].Module != "paypal" {
			t.Fatalf("PaymentMethods: %v %v", methods, err)
		}
		p, err := c.Product(ctx, 3)
		if err != nil || p == nil || p.Name != "Plus" {
			t.Fatalf("Product(3): %v %v", p, err)
		}
		if p, err := c.Product(ctx, 99); err != nil || p != nil {
			t.Fatalf("Product(99): %v %v", p, err)
		}
		*now = now.Add(CatalogTTL - time.Second)
	}
	// 3 rounds, 2 s short of two TTLs: each read twice.
	if m, p := w.whmcs.Count(getPaymentMethods), w.whmcs.Count(getProducts); m != 2 || p != 4 {
		t.Errorf("GetPaymentMethods %d, GetProducts %d requests; want 2 and 4", m, p)
	}
}

// TestCatalogWithoutTTLKeepsNothing: a TTL of 0 reads WHMCS every time.
func TestCatalogWithoutTTLKeepsNothing(t *testing.T) {
	c, w, _ := testCatalog(t, 0)
	for range 3 {
		if _, err := c.PaymentMethods(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Product(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	}
	if m, p := w.whmcs.Count(getPaymentMethods), w.whmcs.Count(getProducts); m != 3 || p != 3 {
		t.Errorf("GetPaymentMethods %d, GetProducts %d requests; want 3 each", m, p)
	}
}

// TestCatalogIsBounded: past its bound, the product closest to expiry goes.
func TestCatalogIsBounded(t *testing.T) {
	c, w, now := testCatalog(t, CatalogTTL)
	c.max = 2
	ctx := context.Background()
	for _, pid := range []int{1, 2, 3} {
		if _, err := c.Product(ctx, pid); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(time.Second)
	}
	if len(c.products) != 2 {
		t.Fatalf("%d products kept, want 2", len(c.products))
	}
	for _, pid := range []int{3, 2, 1} {
		if _, err := c.Product(ctx, pid); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.whmcs.Count(getProducts); got != 4 {
		t.Errorf("%d GetProducts requests, want 4 (1, 2, 3, then 1 again)", got)
	}
	if len(c.products) != 2 {
		t.Errorf("%d products kept, want 2", len(c.products))
	}
}

// TestCatalogDoesNotKeepFailures: a failed read is tried again next time.
func TestCatalogDoesNotKeepFailures(t *testing.T) {
	c, w, _ := testCatalog(t, CatalogTTL)
	w.whmcs.Set(faultwhmcs.Rule{Fault: faultwhmcs.HTTP503, Actions: []string{getPaymentMethods}, Times: 1})
	if _, err := c.PaymentMethods(context.Background()); err == nil {
		t.Fatal("want the 503 as an error")
	}
	for range 2 {
		if methods, err := c.PaymentMethods(context.Background()); err != nil || len(methods) != 2 {
			t.Fatalf("after the failure: %v %v", methods, err)
		}
	}
	if got := w.whmcs.Count(getPaymentMethods); got != 2 {
		t.Errorf("%d GetPaymentMethods requests, want 2 (the failure, then one kept)", got)
	}
}
