package sandbox

import (
	"context"
	"path/filepath"
	"testing"
)

func TestFileDatabasePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox db.sqlite")
	first, err := Open(Options{DBPath: path, Now: FixedClock(docsToday)})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.SetServiceStatus(context.Background(), 2, "Suspended"); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened (even with another clock): no reseeding, the change is there.
	h := newHarness(t, Options{DBPath: path})
	if s := h.service(2); s["status"] != "Suspended" {
		t.Fatalf("status after reopen: %v", s["status"])
	}
	var clients int
	h.sb.DB().QueryRow("SELECT COUNT(*) FROM tblclients").Scan(&clients)
	if clients != 4 {
		t.Fatalf("%d clients after reopen, want 4", clients)
	}
}

// TestOlderFileDatabaseGetsNewColumns opens a file made before the columns
// of addedColumns existed: Open adds them and the actions that read them work.
func TestOlderFileDatabaseGetsNewColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.sqlite")
	old, err := Open(Options{DBPath: path, Now: FixedClock(docsToday)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range addedColumns {
		if _, err := old.DB().Exec("ALTER TABLE " + c.table + " DROP COLUMN " + c.column); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{DBPath: path})
	if p := productList(t, h.ok("GetProducts", "pid", "1"))[0]; p["allowqty"] != float64(0) {
		t.Fatalf("product 1 after reopening: %v", p)
	}
}

func TestInMemorySandboxesAreSeparate(t *testing.T) {
	a := newHarness(t, Options{})
	b := newHarness(t, Options{})
	a.ok("UpdateClientProduct", "serviceid", "1", "notes", "only in a")
	if n := b.service(1)["notes"]; n != "" {
		t.Fatalf("sandbox b sees a's change: %q", n)
	}
	if a.sb.Writes() != 1 || b.sb.Writes() != 0 {
		t.Fatalf("Writes: a %d, b %d", a.sb.Writes(), b.sb.Writes())
	}
}

func TestTestHooks(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	if err := h.sb.SetProductPrice(ctx, 2, "USD", "Monthly", 7.95); err != nil {
		t.Fatal(err)
	}
	r := h.ok("UpgradeProduct", append(upgradeArgs, "calconly", "1")...)
	// (7.95 - 29.95) / 30 x 13 = -9.5333 -> -9.53
	if r.str("price") != "$-9.53 USD" {
		t.Fatalf("price after SetProductPrice: %s", r.raw)
	}
	if err := h.sb.SetProductPrice(ctx, 2, "USD", "monthly", -1); err != nil {
		t.Fatal(err)
	}
	// A disabled cycle prices at 0.00: (0.00 - 29.95) / 30 x 13 = -12.98.
	if r := h.ok("UpgradeProduct", append(upgradeArgs, "calconly", "1")...); r.str("price") != "$-12.98 USD" {
		t.Fatalf("price after disabling the cycle: %s", r.raw)
	}

	if err := h.sb.SetServiceStatus(ctx, 3, "terminated"); err != nil {
		t.Fatal(err)
	}
	if s := h.service(3)["status"]; s != "Terminated" {
		t.Fatalf("status %v", s)
	}
	for name, err := range map[string]error{
		"unknown product":  h.sb.SetProductPrice(ctx, 99, "USD", "monthly", 1),
		"unknown currency": h.sb.SetProductPrice(ctx, 1, "EUR", "monthly", 1),
		"unknown cycle":    h.sb.SetProductPrice(ctx, 1, "USD", "weekly", 1),
		"unknown service":  h.sb.SetServiceStatus(ctx, 99, "Active"),
		"unknown status":   h.sb.SetServiceStatus(ctx, 1, "Paused"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if h.sb.Writes() != 0 {
		t.Fatalf("test hooks counted as writes: %d", h.sb.Writes())
	}
}

func TestProrate(t *testing.T) {
	for _, tc := range []struct {
		diff        cents
		days, total int
		want        cents
	}{
		{-2000, 13, 30, -867}, // the docs' example
		{2000, 13, 30, 867},
		{2000, 5, 30, 333},
		{100, 1, 2, 50},
		{1, 1, 2, 1},   // 0.5 cent rounds away from zero
		{-1, 1, 2, -1}, // and so does -0.5
		{0, 13, 30, 0},
		{2995, 30, 30, 2995},
	} {
		if got := prorate(tc.diff, tc.days, tc.total); got != tc.want {
			t.Errorf("prorate(%d, %d, %d) = %d, want %d", tc.diff, tc.days, tc.total, got, tc.want)
		}
	}
	if s := cents(-867).String(); s != "-8.67" {
		t.Errorf("format: %s", s)
	}
	if s := cents(-5).String(); s != "-0.05" {
		t.Errorf("format: %s", s)
	}
}

func TestLookupCycle(t *testing.T) {
	for in, want := range map[string]string{
		"monthly": "Monthly", "Semi-Annually": "Semi-Annually", "semiannually": "Semi-Annually",
		"One-Time": "One Time", "one time": "One Time", "onetime": "One Time", "Free Account": "Free Account",
		"free": "Free Account", "TRIENNIALLY": "Triennially",
	} {
		c, ok := lookupCycle(in)
		if !ok || c.Name != want {
			t.Errorf("lookupCycle(%q) = %q, %v; want %q", in, c.Name, ok, want)
		}
	}
	for _, in := range []string{"", "weekly", "semi annual", "annual"} {
		if _, ok := lookupCycle(in); ok {
			t.Errorf("lookupCycle(%q) accepted", in)
		}
	}
}
