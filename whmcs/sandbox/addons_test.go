package sandbox

import (
	"testing"
)

// addon returns GetClientsAddons's object for client addon id (on service sid).
func (h *harness) addon(sid, id string) map[string]any {
	h.t.Helper()
	r := h.ok("GetClientsAddons", "serviceid", sid)
	for _, a := range r.m["addons"].(map[string]any)["addon"].([]any) {
		if m := a.(map[string]any); m["id"] == id {
			return m
		}
	}
	h.t.Fatalf("addon %s not on service %s: %s", id, sid, r.raw)
	return nil
}

func TestUpdateClientAddonSuccess(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.ok("UpdateClientAddon", "id", "3", "status", "suspended", "name", "Spam filter (custom)",
		"setupfee", "1.25", "recurring", "3.10", "billingcycle", "quarterly", "nextduedate", "2027-01-05",
		"terminationdate", "2027-02-01", "notes", "n1")
	if string(r.raw) != `{"result":"success","id":"3"}` {
		t.Fatalf("reply %s", r.raw)
	}
	a := h.addon("3", "3")
	for k, want := range map[string]string{
		"status": "Suspended", "name": "Spam filter (custom)", "setupfee": "1.25", "recurring": "3.10",
		"billingcycle": "Quarterly", "nextduedate": "2027-01-05", "nextinvoicedate": "2027-01-05", "notes": "n1",
	} {
		if a[k] != want {
			t.Errorf("%s = %v, want %q", k, a[k], want)
		}
	}
	var term string
	h.sb.DB().QueryRow("SELECT termination_date FROM tblhostingaddons WHERE id = 3").Scan(&term)
	if term != "2027-02-01" {
		t.Errorf("termination_date %q", term)
	}
	// The docs' example: status only.
	h.ok("UpdateClientAddon", "id", "1", "status", "Terminated")
	if s := h.addon("2", "1")["status"]; s != "Terminated" {
		t.Errorf("status %v", s)
	}
	if h.sb.Writes() != 2 {
		t.Errorf("Writes() = %d, want 2", h.sb.Writes())
	}
}

func TestUpdateClientAddonAutorecalc(t *testing.T) {
	h := newHarness(t, Options{})
	// Addon 4: Dedicated IP, Annually 36.00; to Monthly with autorecalc: 3.00.
	h.ok("UpdateClientAddon", "id", "4", "billingcycle", "Monthly", "recurring", "99", "autorecalc", "1")
	if r := h.addon("4", "4")["recurring"]; r != "3.00" {
		t.Fatalf("recurring %v, want 3.00", r)
	}
	// Changing the catalog addon and recalculating: SSL Certificate annually 49.00.
	h.ok("UpdateClientAddon", "id", "4", "addonid", "1", "billingcycle", "annually", "autorecalc", "yes")
	a := h.addon("4", "4")
	if a["recurring"] != "49.00" || a["addonid"] != "1" || a["name"] != "SSL Certificate" {
		t.Fatalf("after addon change: %v", a)
	}
	// A cycle the addon is not offered on: the cycle is stored, the amount
	// left as it is.
	h.ok("UpdateClientAddon", "id", "4", "billingcycle", "Quarterly", "autorecalc", "1")
	if a := h.addon("4", "4"); a["recurring"] != "49.00" || a["billingcycle"] != "Quarterly" {
		t.Fatalf("autorecalc on a cycle not offered: %v", a)
	}
}

// TestUpdateClientAddonErrors checks WHMCS's two documented errors: each
// changes nothing.
func TestUpdateClientAddonErrors(t *testing.T) {
	h := newHarness(t, Options{})
	for _, tc := range []struct {
		message string
		args    []string
	}{
		{"Addon ID Not Found", []string{"status", "Active"}},
		{"Addon ID Not Found", []string{"id", "999", "status", "Active"}},
		{"Nothing to Update", []string{"id", "1"}},
		{"Nothing to Update", []string{"id", "1", "autorecalc", "0"}},
	} {
		before := snapshot(t, h.sb)
		h.fails(tc.message, "UpdateClientAddon", tc.args...)
		if snapshot(t, h.sb) != before {
			t.Fatalf("%v: a failed UpdateClientAddon changed data", tc.args)
		}
	}
	if h.sb.Writes() != 0 {
		t.Fatalf("Writes() = %d, want 0", h.sb.Writes())
	}
}

// TestUpdateClientAddonStoresWhatItIsGiven sends values WHMCS documents no
// error for: each is stored as doc.go says WHMCS most plausibly stores it.
func TestUpdateClientAddonStoresWhatItIsGiven(t *testing.T) {
	h := newHarness(t, Options{})
	for _, tc := range []struct {
		args []string
		key  string
		want string
	}{
		{[]string{"status", "Sleeping"}, "status", "Sleeping"},
		{[]string{"status", "fraud"}, "status", "Fraud"},
		{[]string{"addonid", "77"}, "addonid", "77"},
		{[]string{"setupfee", "-1"}, "setupfee", "-1.00"},
		{[]string{"recurring", "abc"}, "recurring", "0.00"},
		{[]string{"nextduedate", "2026-13-45"}, "nextduedate", zeroDate},
		{[]string{"billingcycle", "Fortnightly"}, "billingcycle", "Fortnightly"},
	} {
		h.ok("UpdateClientAddon", append([]string{"id", "1"}, tc.args...)...)
		if got := h.addon("2", "1")[tc.key]; got != tc.want {
			t.Errorf("%v: %s = %v, want %q", tc.args, tc.key, got, tc.want)
		}
	}
	// An addon id that names no catalog addon keeps the addon's own name (none
	// here) and the catalog's name is gone.
	if got := h.addon("2", "1")["name"]; got != "" {
		t.Errorf("name %v", got)
	}
}
