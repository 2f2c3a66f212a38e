package sandbox

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/phpserial"
)

// serialized is base64_encode(serialize(v)).
func serialized(t *testing.T, v any) string {
	t.Helper()
	b, err := phpserial.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestUpdateClientProductSuccess(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.ok("UpdateClientProduct", "serviceid", "7",
		"pid", "6", "serverid", "1", "regdate", "2026-01-02", "nextduedate", "2026-12-24",
		"terminationdate", "2027-01-01", "domain", "new.example", "firstpaymentamount", "1.5",
		"recurringamount", "44.44", "paymentmethod", "authorize", "billingcycle", "semiannually",
		"subscriptionid", "SUB-1", "status", "suspended", "notes", "hello", "serviceusername", "admin2",
		"servicepassword", "s3cret!", "overideautosuspend", "on", "overidesuspenduntil", "2026-12-31",
		"ns1", "ns1.new.example", "ns2", "ns2.new.example", "dedicatedip", "198.51.100.1",
		"assignedips", "198.51.100.2", "diskusage", "10", "disklimit", "20", "bwusage", "30", "bwlimit", "40",
		"suspendreason", "Testing", "promoid", "1")
	if string(r.raw) != `{"result":"success","serviceid":"7"}` {
		t.Fatalf("reply %s", r.raw)
	}
	s := h.service(7)
	for k, want := range map[string]string{
		"pid": "6", "name": "VPS Medium", "serverid": "1", "servername": "Saturn", "regdate": "2026-01-02",
		"nextduedate": "2026-12-24", "domain": "new.example", "firstpaymentamount": "1.50",
		"recurringamount": "44.44", "paymentmethod": "authorize", "paymentmethodname": "Credit Card",
		"billingcycle": "Semi-Annually", "subscriptionid": "SUB-1", "status": "Suspended", "notes": "hello",
		"username": "admin2", "password": "s3cret!", "overideautosuspend": "on", "overidesuspenduntil": "2026-12-31",
		"ns1": "ns1.new.example", "ns2": "ns2.new.example", "dedicatedip": "198.51.100.1",
		"assignedips": "198.51.100.2", "diskusage": "10", "disklimit": "20", "bwusage": "30", "bwlimit": "40",
		"suspensionreason": "Testing", "promoid": "1", "lastupdate": "2026-11-22 10:00:00",
	} {
		if got, _ := s[k].(string); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var term, nextinv string
	h.sb.DB().QueryRow("SELECT termination_date, nextinvoicedate FROM tblhosting WHERE id = 7").Scan(&term, &nextinv)
	if term != "2027-01-01" || nextinv != "2026-12-24" {
		t.Errorf("termination_date %q, nextinvoicedate %q", term, nextinv)
	}
	if h.sb.Writes() != 1 {
		t.Errorf("Writes() = %d, want 1", h.sb.Writes())
	}

	// overideautosuspend=off clears; One-Time spelling is accepted.
	h.ok("UpdateClientProduct", "serviceid", "7", "overideautosuspend", "off", "billingcycle", "One-Time")
	s = h.service(7)
	if s["overideautosuspend"] != "" || s["billingcycle"] != "One Time" {
		t.Errorf("after off/One-Time: %v %v", s["overideautosuspend"], s["billingcycle"])
	}
}

func TestUpdateClientProductOnlyServiceID(t *testing.T) {
	h := newHarness(t, Options{})
	before := snapshot(t, h.sb)
	r := h.ok("UpdateClientProduct", "serviceid", "1")
	if string(r.raw) != `{"result":"success","serviceid":"1"}` {
		t.Fatalf("reply %s", r.raw)
	}
	if snapshot(t, h.sb) != before {
		t.Fatal("an update with only serviceid changed data")
	}
	if h.sb.Writes() != 1 {
		t.Fatalf("Writes() = %d, want 1", h.sb.Writes())
	}
}

// TestUpdateClientProductStoresWhatItIsGiven sends values WHMCS documents
// no error for: each request succeeds (the only documented error is "Service
// ID Not Found") and the value is stored as doc.go says WHMCS most plausibly
// stores it.
func TestUpdateClientProductStoresWhatItIsGiven(t *testing.T) {
	h := newHarness(t, Options{})
	// stored reads what service 7 holds under key: a GetClientsProducts key,
	// "column:NAME" (tblhosting), "option:ID" (a selection as optionid/qty,
	// or none) or "customfields" (id=value;...).
	stored := func(t *testing.T, s map[string]any, key string) string {
		t.Helper()
		var v string
		switch kind, name, _ := strings.Cut(key, ":"); kind {
		case "column":
			h.sb.DB().QueryRow("SELECT CAST(" + name + " AS TEXT) FROM tblhosting WHERE id = 7").Scan(&v)
		case "option":
			var optionid, qty int
			if err := h.sb.DB().QueryRow("SELECT optionid, qty FROM tblhostingconfigoptions WHERE relid = 7 AND configid = ?",
				name).Scan(&optionid, &qty); err != nil {
				return "none"
			}
			v = fmt.Sprintf("%d/%d", optionid, qty)
		case "customfields":
			var fields []string
			for _, f := range s["customfields"].(map[string]any)["customfield"].([]any) {
				m := f.(map[string]any)
				fields = append(fields, fmt.Sprint(m["id"], "=", m["value"]))
			}
			v = strings.Join(fields, ";")
		default:
			v = fmt.Sprint(s[key])
		}
		return v
	}
	for _, tc := range []struct {
		name string
		args []string
		want map[string]string
	}{
		// First, while the service is as seeded (Monthly, no priced options):
		// recalculated, the recurringamount given alongside ignored.
		{"autorecalc spelled out", []string{"autorecalc", "perhaps", "recurringamount", "1.00"}, map[string]string{"recurringamount": "19.99"}},
		{"impossible date", []string{"nextduedate", "2026-13-45"}, map[string]string{"nextduedate": zeroDate, "column:nextinvoicedate": zeroDate}},
		{"february 30", []string{"regdate", "2026-02-30"}, map[string]string{"regdate": zeroDate}},
		{"d/m/Y date", []string{"terminationdate", "22/11/2026"}, map[string]string{"column:termination_date": zeroDate}},
		{"unknown status", []string{"status", "Paused"}, map[string]string{"status": "Paused"}},
		{"status in lower case", []string{"status", "suspended"}, map[string]string{"status": "Suspended"}},
		{"negative amount", []string{"recurringamount", "-5"}, map[string]string{"recurringamount": "-5.00"}},
		{"text amount", []string{"firstpaymentamount", "ten"}, map[string]string{"firstpaymentamount": "0.00"}},
		{"amount with a currency", []string{"firstpaymentamount", "12.5 USD"}, map[string]string{"firstpaymentamount": "12.50"}},
		{"negative usage", []string{"diskusage", "-1"}, map[string]string{"diskusage": "-1"}},
		{"unknown product", []string{"pid", "99"}, map[string]string{"pid": "5", "name": "VPS Small"}},
		{"unknown server", []string{"serverid", "99"}, map[string]string{"serverid": "99", "servername": ""}},
		{"unknown promotion", []string{"promoid", "99"}, map[string]string{"promoid": "99"}},
		{"unknown cycle", []string{"billingcycle", "Weekly"}, map[string]string{"billingcycle": "Weekly"}},
		{"cycle short form", []string{"billingcycle", "semiannually"}, map[string]string{"billingcycle": "Semi-Annually"}},
		{"unknown gateway", []string{"paymentmethod", "bitcoin"}, map[string]string{"paymentmethod": "bitcoin", "paymentmethodname": ""}},
		{"overideautosuspend on", []string{"overideautosuspend", "ON"}, map[string]string{"overideautosuspend": "on"}},
		{"overideautosuspend neither on nor off", []string{"overideautosuspend", "maybe"}, map[string]string{"overideautosuspend": ""}},
		{"unknown unset item", []string{"unset[]", "notes", "unset[]", "status"}, map[string]string{"notes": "", "status": "Suspended"}},
		{"broken base64", []string{"customfields", "%%%not-base64"}, nil},
		{"not serialized", []string{"customfields", base64.StdEncoding.EncodeToString([]byte("hello"))}, nil},
		{"serialized scalar", []string{"configoptions", base64.StdEncoding.EncodeToString([]byte(`s:1:"x";`))}, nil},
		{"foreign custom field", []string{"customfields", serialized(t, map[string]any{"1": "Yahoo", "2": "kept.example"})},
			map[string]string{"customfields": "2=kept.example"}},
		{"foreign config option", []string{"configoptions", serialized(t, map[string]any{"1": 1})}, map[string]string{"option:1": "none"}},
		{"foreign choice", []string{"configoptions", serialized(t, map[string]any{"2": 1})}, map[string]string{"option:2": "1/0"}},
		{"quantity above the maximum", []string{"configoptions", serialized(t, map[string]any{"3": 9})}, map[string]string{"option:3": "6/9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writes := h.sb.Writes()
			note := "note for " + tc.name
			r := h.with(t).ok("UpdateClientProduct", append([]string{"serviceid", "7", "notes", note}, tc.args...)...)
			if string(r.raw) != `{"result":"success","serviceid":"7"}` {
				t.Fatalf("reply %s", r.raw)
			}
			if h.sb.Writes() != writes+1 {
				t.Error("the update was not counted as a write")
			}
			s := h.with(t).service(7)
			if _, unsets := tc.want["notes"]; !unsets && s["notes"] != note {
				t.Errorf("notes %v: the rest of the update was not applied", s["notes"])
			}
			for key, want := range tc.want {
				if got := stored(t, s, key); got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
		})
	}

	// autorecalc on a cycle the product does not sell leaves the amount.
	h.ok("UpdateClientProduct", "serviceid", "10", "billingcycle", "Triennially", "autorecalc", "1")
	if s := h.service(10); s["recurringamount"] != "12.95" || s["billingcycle"] != "Triennially" {
		t.Errorf("service 10: recurringamount %v, billingcycle %v", s["recurringamount"], s["billingcycle"])
	}
	h.fails("Service ID Not Found", "UpdateClientProduct", "serviceid", "999", "status", "Active")
	h.fails("Service ID Not Found", "UpdateClientProduct", "serviceid", "abc")
	h.fails("Service ID Not Found", "UpdateClientProduct")
}

func TestUpdateClientProductUnset(t *testing.T) {
	h := newHarness(t, Options{})
	h.ok("UpdateClientProduct", "serviceid", "4", "unset[]", "dedicatedip", "unset[]", "assignedips",
		"unset[]", "ns1", "unset[]", "servicepassword", "ns2", "kept.example")
	s := h.service(4)
	if s["dedicatedip"] != "" || s["assignedips"] != "" || s["ns1"] != "" || s["password"] != "" {
		t.Errorf("not unset: %v", s)
	}
	if s["ns2"] != "kept.example" || s["domain"] != "vps1.smithwebdesign.example" {
		t.Errorf("unrelated fields changed: ns2 %v domain %v", s["ns2"], s["domain"])
	}
	// unset wins over a value given in the same request.
	h.ok("UpdateClientProduct", "serviceid", "4", "notes", "x", "unset[]", "notes")
	if n := h.service(4)["notes"]; n != "" {
		t.Errorf("notes = %q, want unset", n)
	}
}

func TestUpdateClientProductCustomFieldsAndConfigOptions(t *testing.T) {
	h := newHarness(t, Options{})
	h.ok("UpdateClientProduct", "serviceid", "9",
		"customfields", serialized(t, map[string]any{"4": "ci.tanakalabs.example", "5": "ssh-ed25519 AAAA new"}),
		"configoptions", serialized(t, map[string]any{
			"2": 3,                                       // dropdown: choice id
			"3": map[string]any{"optionid": 6, "qty": 7}, // quantity as array
			"4": 0,                                       // yes/no: no
			"5": map[string]any{"optionid": 9},           // radio as array
		}))
	s := h.service(9)
	var got []string
	for _, f := range s["customfields"].(map[string]any)["customfield"].([]any) {
		m := f.(map[string]any)
		got = append(got, m["id"].(string)+"="+m["value"].(string))
	}
	if strings.Join(got, ";") != "4=ci.tanakalabs.example;5=ssh-ed25519 AAAA new" {
		t.Errorf("custom fields %v", got)
	}
	got = nil
	for _, o := range s["configoptions"].(map[string]any)["configoption"].([]any) {
		m := o.(map[string]any)
		got = append(got, m["id"].(string)+"="+m["value"].(string))
	}
	if strings.Join(got, ";") != "2=1 GB;3=7;4=0;5=Debian 12" {
		t.Errorf("config options %v", got)
	}
	// Without autorecalc the recurring amount stays.
	if s["recurringamount"] != "309.00" {
		t.Errorf("recurringamount %v changed without autorecalc", s["recurringamount"])
	}
	// Replacing an existing value (service 3 had "Google").
	h.ok("UpdateClientProduct", "serviceid", "3", "customfields", serialized(t, map[string]any{"1": "Yahoo"}))
	cf := h.service(3)["customfields"].(map[string]any)["customfield"].([]any)
	if cf[0].(map[string]any)["value"] != "Yahoo" {
		t.Errorf("custom field 1 of service 3: %v", cf)
	}
}

func TestUpdateClientProductAutorecalc(t *testing.T) {
	h := newHarness(t, Options{})
	// VPS Small monthly 19.99 + 4 GB memory (15.00) + 3 IPs (3 x 2.00);
	// the recurringamount given alongside is ignored.
	h.ok("UpdateClientProduct", "serviceid", "7", "autorecalc", "true", "recurringamount", "1.00",
		"configoptions", serialized(t, map[string]any{"2": 5, "3": 3}))
	if got := h.service(7)["recurringamount"]; got != "40.99" {
		t.Fatalf("recurringamount = %v, want 40.99", got)
	}
	// New cycle and product in the same request: VPS Medium quarterly 114.00
	// + 4 GB (45.00) + 3 IPs (3 x 6.00).
	h.ok("UpdateClientProduct", "serviceid", "7", "autorecalc", "on", "pid", "6", "billingcycle", "Quarterly")
	if got := h.service(7)["recurringamount"]; got != "177.00" {
		t.Fatalf("recurringamount = %v, want 177.00", got)
	}
	// autorecalc=0 keeps the given amount.
	h.ok("UpdateClientProduct", "serviceid", "7", "autorecalc", "0", "recurringamount", "12.34")
	if got := h.service(7)["recurringamount"]; got != "12.34" {
		t.Fatalf("recurringamount = %v, want 12.34", got)
	}
	// After a price change, autorecalc follows the catalog.
	if err := h.sb.SetProductPrice(t.Context(), 1, "USD", "monthly", 14.5); err != nil {
		t.Fatal(err)
	}
	h.ok("UpdateClientProduct", "serviceid", "10", "autorecalc", "1")
	if got := h.service(10)["recurringamount"]; got != "14.50" {
		t.Fatalf("service 10 recurringamount = %v, want 14.50", got)
	}
	if h.sb.Writes() != 4 {
		t.Fatalf("Writes() = %d, want 4", h.sb.Writes())
	}
}
