package sandbox

import (
	"encoding/base64"
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

// TestUpdateClientProductBadInput sends invalid requests, each with a valid
// change alongside, and checks that each gets an error and changes nothing.
func TestUpdateClientProductBadInput(t *testing.T) {
	h := newHarness(t, Options{})
	validCF := serialized(t, map[string]any{"2": "x.example"})
	for _, tc := range []struct {
		name, message string
		args          []string
	}{
		{"missing serviceid", "Service ID Not Found", []string{}},
		{"unknown serviceid", "Service ID Not Found", []string{"serviceid", "999"}},
		{"non-numeric serviceid", "Service ID Not Found", []string{"serviceid", "abc"}},
		{"impossible date", "Invalid Date Format. nextduedate must be a valid date in the format Y-m-d", []string{"serviceid", "7", "nextduedate", "2026-13-45"}},
		{"february 30", "Invalid Date Format. regdate must be a valid date in the format Y-m-d", []string{"serviceid", "7", "regdate", "2026-02-30"}},
		{"d/m/Y date", "Invalid Date Format. terminationdate must be a valid date in the format Y-m-d", []string{"serviceid", "7", "terminationdate", "22/11/2026"}},
		{"unknown status", "Invalid Status. Valid options include Pending,Active,Suspended,Terminated,Cancelled,Fraud,Completed", []string{"serviceid", "7", "status", "Paused"}},
		{"negative amount", "Invalid recurringamount: expected a non-negative amount", []string{"serviceid", "7", "recurringamount", "-5"}},
		{"text amount", "Invalid firstpaymentamount: expected a non-negative amount", []string{"serviceid", "7", "firstpaymentamount", "ten"}},
		{"negative usage", "Invalid diskusage: expected a non-negative integer", []string{"serviceid", "7", "diskusage", "-1"}},
		{"unknown product", "Product ID Not Found", []string{"serviceid", "7", "pid", "99"}},
		{"unknown server", "Server ID Not Found", []string{"serviceid", "7", "serverid", "99"}},
		{"unknown promotion", "Promotion ID Not Found", []string{"serviceid", "7", "promoid", "99"}},
		{"bad cycle", "Invalid Billing Cycle. Valid options include Free Account,One Time,Monthly,Quarterly,Semi-Annually,Annually,Biennially,Triennially", []string{"serviceid", "7", "billingcycle", "Weekly"}},
		{"bad gateway", "Invalid Payment Method. Valid options include paypal,authorize", []string{"serviceid", "7", "paymentmethod", "bitcoin"}},
		{"bad overideautosuspend", "Invalid overideautosuspend. Valid options include on,off", []string{"serviceid", "7", "overideautosuspend", "maybe"}},
		{"bad unset", `Invalid unset item "status". Valid options include domain,serviceusername,servicepassword,subscriptionid,ns1,ns2,dedicatedip,assignedips,notes,suspendreason`, []string{"serviceid", "7", "unset[]", "notes", "unset[]", "status"}},
		{"bad autorecalc", "Invalid autorecalc: expected a boolean (1, 0, true, false)", []string{"serviceid", "7", "autorecalc", "perhaps"}},
		{"broken base64", "Invalid customfields: expected base64_encode(serialize(array(...)))", []string{"serviceid", "7", "customfields", "%%%not-base64"}},
		{"not serialized", "Invalid customfields: expected base64_encode(serialize(array(...)))", []string{"serviceid", "7", "customfields", base64.StdEncoding.EncodeToString([]byte("hello"))}},
		{"serialized scalar", "Invalid configoptions: expected base64_encode(serialize(array(...)))", []string{"serviceid", "7", "configoptions", base64.StdEncoding.EncodeToString([]byte(`s:1:"x";`))}},
		{"foreign custom field", "Invalid customfields: 1 is not a custom field of product 5", []string{"serviceid", "7", "customfields", serialized(t, map[string]any{"1": "Yahoo"})}},
		{"foreign config option", "Invalid configoptions: 1 is not a configurable option of product 5", []string{"serviceid", "7", "configoptions", serialized(t, map[string]any{"1": 1})}},
		{"foreign choice", "Invalid configoptions: 1 is not a choice of option 2 (Memory)", []string{"serviceid", "7", "configoptions", serialized(t, map[string]any{"2": 1})}},
		{"quantity too high", "Invalid configoptions: quantity for option 3 (Extra IPv4 Addresses) must be between 0 and 8", []string{"serviceid", "7", "configoptions", serialized(t, map[string]any{"3": 9})}},
		{"autorecalc on disabled cycle", "Unable to recalculate: product 1 is not offered on the Triennially billing cycle", []string{"serviceid", "10", "billingcycle", "Triennially", "autorecalc", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, h.sb)
			writes := h.sb.Writes()
			// A valid change rides along: it must not be applied either.
			args := append([]string{"notes", "must not be written", "customfields", validCF}, tc.args...)
			if tc.name == "broken base64" || tc.name == "not serialized" || tc.name == "foreign custom field" ||
				tc.name == "autorecalc on disabled cycle" {
				args = append([]string{"notes", "must not be written"}, tc.args...)
			}
			h.with(t).fails(tc.message, "UpdateClientProduct", args...)
			if after := snapshot(t, h.sb); after != before {
				t.Fatal("a failed UpdateClientProduct changed the database")
			}
			if h.sb.Writes() != writes {
				t.Fatal("a failed UpdateClientProduct was counted as a write")
			}
		})
	}
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
