package sandbox

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// upgradeArgs are the docs' example request, on the seeded service 3
// (client 2, "Pro", Monthly 29.95, due in 13 days) to product 2 ("Lite",
// Monthly 9.95).
var upgradeArgs = []string{"serviceid", "3", "paymentmethod", "paypal", "type", "product",
	"newproductid", "2", "newproductbillingcycle", "monthly"}

// TestUpgradeProductDocsExample reproduces the UpgradeProduct example of the
// reference: 13 of 30 days left, (9.95 - 29.95) / 30 x 13 = -8.666 -> $-8.67 USD.
func TestUpgradeProductDocsExample(t *testing.T) {
	h := newHarness(t, Options{})
	before := snapshot(t, h.sb)
	r := h.ok("UpgradeProduct", append(upgradeArgs, "calconly", "true")...)
	want := `{"result":"success","oldproductid":"4","oldproductname":"Pro","newproductid":2,` +
		`"newproductname":"Lite","daysuntilrenewal":13,"totaldays":30,"newproductbillingcycle":"monthly",` +
		`"price":"$-8.67 USD","upgradeinprogress":false}`
	if string(r.raw) != want {
		t.Fatalf("calconly:\ngot  %s\nwant %s", r.raw, want)
	}
	if snapshot(t, h.sb) != before || h.sb.Writes() != 0 {
		t.Fatal("calconly changed data or counted as a write")
	}

	// The real downgrade: nothing is due, so it applies at once.
	r = h.ok("UpgradeProduct", upgradeArgs...)
	prefix := strings.TrimSuffix(want, `,"upgradeinprogress":false}`)
	wantReal := prefix + fmt.Sprintf(`,"id":"1","orderid":13,"order_number":"%s","invoiceid":null}`, orderNumber(13))
	if string(r.raw) != wantReal {
		t.Fatalf("upgrade:\ngot  %s\nwant %s", r.raw, wantReal)
	}
	if on := r.str("order_number"); len(on) != 10 || strings.Trim(on, "0123456789") != "" {
		t.Errorf("order_number %q is not 10 digits", on)
	}
	s := h.service(3)
	if s["pid"] != "2" || s["name"] != "Lite" || s["recurringamount"] != "9.95" || s["billingcycle"] != "Monthly" {
		t.Fatalf("service after downgrade: pid %v name %v amount %v cycle %v", s["pid"], s["name"], s["recurringamount"], s["billingcycle"])
	}
	var upStatus, paid, ordStatus string
	var invoices int
	db := h.sb.DB()
	db.QueryRow("SELECT status, paid FROM tblupgrades WHERE id = 1").Scan(&upStatus, &paid)
	db.QueryRow("SELECT status FROM tblorders WHERE id = 13").Scan(&ordStatus)
	db.QueryRow("SELECT COUNT(*) FROM tblinvoices").Scan(&invoices)
	if upStatus != "Completed" || paid != "Y" || ordStatus != "Active" || invoices != 1 {
		t.Errorf("upgrade %s/%s, order %s, %d invoices (want Completed/Y, Active, 1 seeded)", upStatus, paid, ordStatus, invoices)
	}
	if h.sb.Writes() != 1 {
		t.Fatalf("Writes() = %d, want 1", h.sb.Writes())
	}
}

// TestUpgradeProductSeedRelativeToClock opens sandboxes at other dates: the
// demo dates follow the clock, so the docs' example holds on any day.
func TestUpgradeProductSeedRelativeToClock(t *testing.T) {
	for _, day := range []time.Time{
		time.Date(2027, 3, 1, 23, 59, 0, 0, time.UTC),
		time.Date(2028, 2, 20, 0, 0, 0, 0, time.FixedZone("X", -7*3600)),
	} {
		h := newHarness(t, Options{Now: FixedClock(day)})
		r := h.ok("UpgradeProduct", append(upgradeArgs, "calconly", "1")...)
		if r.str("price") != "$-8.67 USD" || r.m["daysuntilrenewal"] != float64(13) {
			t.Errorf("%v: %s", day, r.raw)
		}
	}
}

// TestUpgradeProductMoneyDue: an upgrade with money due creates an unpaid
// invoice and changes the service only once AddInvoicePayment pays it.
func TestUpgradeProductMoneyDue(t *testing.T) {
	h := newHarness(t, Options{})
	// Service 7: VPS Small Monthly 19.99, due in 5 days. VPS Medium Monthly
	// 39.99: (39.99 - 19.99) / 30 x 5 = 3.333 -> $3.33 USD.
	args := []string{"serviceid", "7", "paymentmethod", "paypal", "type", "product", "newproductid", "6",
		"newproductbillingcycle", "Monthly"}
	r := h.ok("UpgradeProduct", args...)
	if r.str("price") != "$3.33 USD" || r.m["daysuntilrenewal"] != float64(5) || r.m["totaldays"] != float64(30) {
		t.Fatalf("quote: %s", r.raw)
	}
	inv, ok := r.m["invoiceid"].(float64)
	if !ok || inv != 2 {
		t.Fatalf("invoiceid = %v, want 2: %s", r.m["invoiceid"], r.raw)
	}
	if r.m["orderid"] != float64(13) || r.str("id") != "1" {
		t.Fatalf("ids: %s", r.raw)
	}
	var status string
	var total float64
	h.sb.DB().QueryRow("SELECT status, total FROM tblinvoices WHERE id = 2").Scan(&status, &total)
	if status != "Unpaid" || total != 3.33 {
		t.Fatalf("invoice 2: %s %.2f", status, total)
	}
	if s := h.service(7); s["pid"] != "5" || s["recurringamount"] != "19.99" {
		t.Fatalf("service changed before payment: %v %v", s["pid"], s["recurringamount"])
	}

	// While the invoice is unpaid: no second upgrade, and quotes say so.
	before := snapshot(t, h.sb)
	h.fails(unpaidUpgradeMessage, "UpgradeProduct", args...)
	h.fails(unpaidUpgradeMessage, "UpgradeProduct", "serviceid", "7", "paymentmethod", "paypal", "type", "configoptions", "configoptions[4]", "1")
	q := h.ok("UpgradeProduct", append(args, "calconly", "1")...)
	if q.m["upgradeinprogress"] != true || q.str("price") != "$3.33 USD" {
		t.Fatalf("calconly during pending upgrade: %s", q.raw)
	}
	if other := h.ok("UpgradeProduct", append(upgradeArgs, "calconly", "1")...); other.m["upgradeinprogress"] != false {
		t.Fatalf("another service reports an upgrade in progress: %s", other.raw)
	}
	if snapshot(t, h.sb) != before {
		t.Fatal("refused upgrade or quote changed data")
	}

	// A partial payment leaves the invoice unpaid and the service as it was.
	h.ok("AddInvoicePayment", "invoiceid", "2", "transid", "T-1", "gateway", "paypal", "amount", "1.00")
	if s := h.service(7); s["pid"] != "5" {
		t.Fatalf("service changed after a partial payment: %v", s["pid"])
	}
	h.fails(unpaidUpgradeMessage, "UpgradeProduct", args...)

	// The rest (amount defaults to the balance) pays it and applies the upgrade.
	r = h.ok("AddInvoicePayment", "invoiceid", "2", "transid", "T-2", "gateway", "paypal", "date", "2026-11-22 11:00:00")
	if string(r.raw) != `{"result":"success"}` {
		t.Fatalf("AddInvoicePayment reply %s", r.raw)
	}
	s := h.service(7)
	if s["pid"] != "6" || s["name"] != "VPS Medium" || s["recurringamount"] != "39.99" || s["billingcycle"] != "Monthly" {
		t.Fatalf("service after payment: %v %v %v", s["pid"], s["recurringamount"], s["billingcycle"])
	}
	var datepaid string
	var sum float64
	h.sb.DB().QueryRow("SELECT status, datepaid FROM tblinvoices WHERE id = 2").Scan(&status, &datepaid)
	h.sb.DB().QueryRow("SELECT SUM(amountin) FROM tblaccounts WHERE invoiceid = 2").Scan(&sum)
	if status != "Paid" || datepaid != "2026-11-22 11:00:00" || fmt.Sprintf("%.2f", sum) != "3.33" {
		t.Fatalf("invoice 2 after payment: %s %s %.2f", status, datepaid, sum)
	}
	// WHMCS documents no refusal for a payment to a Paid invoice: it is
	// recorded and changes nothing else.
	h.ok("AddInvoicePayment", "invoiceid", "2", "transid", "T-3", "gateway", "paypal", "amount", "1.00")
	h.sb.DB().QueryRow("SELECT status FROM tblinvoices WHERE id = 2").Scan(&status)
	h.sb.DB().QueryRow("SELECT SUM(amountin) FROM tblaccounts WHERE invoiceid = 2").Scan(&sum)
	if status != "Paid" || fmt.Sprintf("%.2f", sum) != "4.33" {
		t.Fatalf("invoice 2 after a payment to a Paid invoice: %s %.2f", status, sum)
	}
	if s := h.service(7); s["pid"] != "6" || s["recurringamount"] != "39.99" {
		t.Fatalf("service changed by a payment to a Paid invoice: %v %v", s["pid"], s["recurringamount"])
	}

	// Upgrade once, pay three times: four writes.
	if h.sb.Writes() != 4 {
		t.Fatalf("Writes() = %d, want 4", h.sb.Writes())
	}
	// Paid: the next upgrade is accepted again.
	h.ok("UpgradeProduct", "serviceid", "7", "paymentmethod", "paypal", "type", "product", "newproductid", "7",
		"newproductbillingcycle", "monthly", "calconly", "0")
}

func TestUpgradeProductCycleChangeAndPromo(t *testing.T) {
	h := newHarness(t, Options{})
	// Pro Monthly 29.95 -> Plus Annually 269.50, 13 days left:
	// 269.50 x 13/365 - 29.95 x 13/30 = 9.5986 - 12.9783 = -3.38.
	r := h.ok("UpgradeProduct", "serviceid", "3", "paymentmethod", "paypal", "type", "product",
		"newproductid", "3", "newproductbillingcycle", "Annually", "calconly", "1")
	if r.str("price") != "$-3.38 USD" || r.str("newproductbillingcycle") != "Annually" || r.m["totaldays"] != float64(30) {
		t.Fatalf("cycle change: %s", r.raw)
	}
	// Without newproductbillingcycle the service's cycle is kept.
	r = h.ok("UpgradeProduct", "serviceid", "3", "paymentmethod", "paypal", "type", "product",
		"newproductid", "3", "calconly", "1")
	if r.str("price") != "$-2.17 USD" || r.str("newproductbillingcycle") != "monthly" {
		t.Fatalf("default cycle: %s", r.raw)
	}
	// UPGRADE10 takes 10% off a positive price: 3.33 - 0.33 = 3.00.
	r = h.ok("UpgradeProduct", "serviceid", "7", "paymentmethod", "paypal", "type", "product",
		"newproductid", "6", "newproductbillingcycle", "monthly", "promocode", "upgrade10", "calconly", "1")
	if r.str("price") != "$3.00 USD" {
		t.Fatalf("promo: %s", r.raw)
	}
}

func TestUpgradeProductConfigOptions(t *testing.T) {
	h := newHarness(t, Options{})
	// Service 7: 1 GB -> 4 GB (+15.00) and backups on (+4.00), Monthly, 5 of
	// 30 days: 19.00 / 30 x 5 = 3.1666 -> $3.17 USD.
	args := []string{"serviceid", "7", "paymentmethod", "authorize", "type", "configoptions",
		"configoptions[2]", "5", "configoptions[4]", "1", "configoptions[5]", "9"}
	r := h.ok("UpgradeProduct", append(args, "calconly", "1")...)
	want := `{"result":"success","oldproductid":"5","oldproductname":"VPS Small","newproductid":5,` +
		`"newproductname":"VPS Small","daysuntilrenewal":5,"totaldays":30,"newproductbillingcycle":"monthly",` +
		`"configoptions":[{"id":"2","name":"Memory","oldvalue":"1 GB","newvalue":"4 GB"},` +
		`{"id":"4","name":"Daily Backups","oldvalue":"0","newvalue":"1"}],"price":"$3.17 USD","upgradeinprogress":false}`
	if string(r.raw) != want {
		t.Fatalf("calconly:\ngot  %s\nwant %s", r.raw, want)
	}
	r = h.ok("UpgradeProduct", args...)
	inv := fmt.Sprint(r.m["invoiceid"])
	if inv != "2" {
		t.Fatalf("invoiceid %v", r.m["invoiceid"])
	}
	h.ok("AddInvoicePayment", "invoiceid", inv, "transid", "CC-1", "gateway", "authorize")
	s := h.service(7)
	var got []string
	for _, o := range s["configoptions"].(map[string]any)["configoption"].([]any) {
		got = append(got, o.(map[string]any)["value"].(string))
	}
	if strings.Join(got, ",") != "4 GB,0,1,Debian 12" || s["recurringamount"] != "38.99" {
		t.Fatalf("after payment: options %v, recurring %v", got, s["recurringamount"])
	}
	// A downgrade of options is free and applies at once.
	r = h.ok("UpgradeProduct", "serviceid", "7", "paymentmethod", "paypal", "type", "configoptions", "configoptions[4]", "0")
	if r.m["invoiceid"] != nil || r.str("price") != "$-0.67 USD" {
		t.Fatalf("downgrade: %s", r.raw)
	}
	if s := h.service(7); s["recurringamount"] != "34.99" {
		t.Fatalf("after downgrade: %v", s["recurringamount"])
	}
}

// TestUpgradeProductErrors checks WHMCS's documented errors: each changes
// nothing.
func TestUpgradeProductErrors(t *testing.T) {
	h := newHarness(t, Options{})
	for _, tc := range []struct {
		message string
		args    []string
	}{
		{"Service ID Not Found", upgradeWith("serviceid", "")},
		{"Service ID Not Found", upgradeWith("serviceid", "404")},
		{"Invalid Payment Method. Valid options include paypal,authorize", upgradeWith("paymentmethod", "")},
		{"Invalid Payment Method. Valid options include paypal,authorize", upgradeWith("paymentmethod", "banktransfer")},
		{"Invalid Upgrade Type", upgradeWith("type", "")},
		{"Invalid Upgrade Type", upgradeWith("type", "addon")},
	} {
		before := snapshot(t, h.sb)
		h.fails(tc.message, "UpgradeProduct", tc.args...)
		if snapshot(t, h.sb) != before {
			t.Fatalf("%v: a failed upgrade changed data", tc.args)
		}
	}
	if h.sb.Writes() != 0 {
		t.Fatalf("Writes() = %d, want 0", h.sb.Writes())
	}
}

// upgradeWith is the docs' example request on service 3 with kv replacing
// its parameters ("" leaves one out).
func upgradeWith(kv ...string) []string {
	m := map[string]string{"serviceid": "3", "paymentmethod": "paypal", "type": "product",
		"newproductid": "2", "newproductbillingcycle": "monthly"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	var out []string
	for k, v := range m {
		if v != "" {
			out = append(out, k, v)
		}
	}
	return out
}

// TestUpgradeProductInventsNoErrors quotes requests WHMCS documents no error
// for: each is answered as doc.go says WHMCS most plausibly answers it.
func TestUpgradeProductInventsNoErrors(t *testing.T) {
	h := newHarness(t, Options{})
	for _, tc := range []struct {
		name string
		args []string
		want string // the quote's newproductid, newproductbillingcycle and price
	}{
		// Starter is not sold triennially: its new recurring is 0.00, so
		// 13 days of Pro (29.95 / 30 x 13 = 12.98) come back.
		{"cycle not sold", upgradeWith("newproductid", "1", "newproductbillingcycle", "triennially"), "1 triennially $-12.98 USD"},
		// Not a cycle: the service's own (Monthly), echoed as given.
		{"unknown cycle", upgradeWith("newproductbillingcycle", "weekly"), "2 weekly $-8.67 USD"},
		// Not a product: the service's own, Pro, on the same cycle: nothing to pay.
		{"unknown product", upgradeWith("newproductid", "99"), "4 monthly $0.00 USD"},
		{"no product", upgradeWith("newproductid", ""), "4 monthly $0.00 USD"},
		{"same product and cycle", upgradeWith("newproductid", "4"), "4 monthly $0.00 USD"},
		// No upgrade path is configured from Pro to the one-time Website
		// Migration; the admin API does not ask for one. Its monthly column
		// holds its one-time price, 49.00: (49.00 - 29.95) / 30 x 13 = 8.26.
		{"product outside the upgrade paths", upgradeWith("newproductid", "8"), "8 monthly $8.26 USD"},
		{"promotion not for upgrades", upgradeWith("newproductid", "6", "promocode", "WELCOME5"), "6 monthly $4.35 USD"},
		{"unknown promotion", upgradeWith("newproductid", "6", "promocode", "NOPE"), "6 monthly $4.35 USD"},
		{"configoptions without options", upgradeWith("type", "configoptions"), "4 monthly $0.00 USD"},
		{"configoptions of another product", upgradeWith("type", "configoptions", "configoptions[2]", "4"), "4 monthly $0.00 USD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.with(t).ok("UpgradeProduct", append(tc.args, "calconly", "1")...)
			got := fmt.Sprintf("%v %v %v", r.m["newproductid"], r.m["newproductbillingcycle"], r.m["price"])
			if got != tc.want {
				t.Errorf("got %s, want %s: %s", got, tc.want, r.raw)
			}
		})
	}
	// calconly is PHP truthiness: "false" is a quote too, never an order.
	r := h.ok("UpgradeProduct", append(upgradeArgs, "calconly", "false")...)
	if _, ok := r.m["orderid"]; ok || r.m["upgradeinprogress"] != false {
		t.Errorf("calconly=false: %s", r.raw)
	}
	if h.sb.Writes() != 0 {
		t.Fatalf("quotes wrote: Writes() = %d", h.sb.Writes())
	}
	// The real upgrade to the same product and cycle applies at once and
	// changes nothing but the order records.
	r = h.ok("UpgradeProduct", upgradeWith("newproductid", "4")...)
	if r.m["invoiceid"] != nil {
		t.Fatalf("same product: %s", r.raw)
	}
	if s := h.service(3); s["pid"] != "4" || s["recurringamount"] != "29.95" || s["billingcycle"] != "Monthly" {
		t.Errorf("service 3 after an upgrade to itself: %v %v %v", s["pid"], s["recurringamount"], s["billingcycle"])
	}
}

// TestAddInvoicePaymentErrors checks WHMCS's two documented errors: each
// changes nothing.
func TestAddInvoicePaymentErrors(t *testing.T) {
	h := newHarness(t, Options{})
	if _, err := h.sb.DB().Exec("UPDATE tblinvoices SET status = 'Cancelled' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		message string
		args    []string
	}{
		{"Invoice ID Not Found", []string{"transid", "x", "gateway", "paypal"}},
		{"Invoice ID Not Found", []string{"invoiceid", "99", "transid", "x", "gateway", "paypal"}},
		{cancelledInvoiceMessage, []string{"invoiceid", "1", "transid", "x", "gateway", "paypal"}},
	} {
		before := snapshot(t, h.sb)
		h.fails(tc.message, "AddInvoicePayment", tc.args...)
		if snapshot(t, h.sb) != before {
			t.Fatalf("%v: a failed payment changed data", tc.args)
		}
	}
	if h.sb.Writes() != 0 {
		t.Fatalf("Writes() = %d", h.sb.Writes())
	}
}

// TestAddInvoicePaymentStoresWhatItIsGiven pays the seeded unpaid invoice
// with values WHMCS documents no error for: the payment is recorded as given.
func TestAddInvoicePaymentStoresWhatItIsGiven(t *testing.T) {
	h := newHarness(t, Options{})
	// No transid, an unknown gateway, a date that is not one, a fee in words.
	h.ok("AddInvoicePayment", "invoiceid", "1", "gateway", "cash", "amount", "-3", "date", "2026-13-45", "fees", "some",
		"noemail", "1")
	var gw, transid, date string
	var amount, fees float64
	h.sb.DB().QueryRow("SELECT gateway, transid, date, amountin, fees FROM tblaccounts WHERE invoiceid = 1").
		Scan(&gw, &transid, &date, &amount, &fees)
	if gw != "cash" || transid != "" || date != docsToday.Format(dateTimeLayout) || amount != -3 || fees != 0 {
		t.Errorf("transaction: gateway %q transid %q date %q amount %.2f fees %.2f", gw, transid, date, amount, fees)
	}
	// The balance is now 326.40; paying it (the default amount) marks it Paid.
	h.ok("AddInvoicePayment", "invoiceid", "1", "transid", "PP-1", "gateway", "paypal", "fees", "0.50")
	var status string
	h.sb.DB().QueryRow("SELECT status FROM tblinvoices WHERE id = 1").Scan(&status)
	if status != "Paid" || h.sb.Writes() != 2 {
		t.Fatalf("invoice 1 %s, Writes() %d", status, h.sb.Writes())
	}
}
