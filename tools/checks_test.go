package tools

// The checks of the write tools against what WHMCS lists: every refusal is
// a tool error that names the argument and what is valid, made before the
// Gate (no preview, no question) and with no write reaching WHMCS.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/faultwhmcs"
)

// TestChecksRefuseWhatWHMCSDoesNotList: each argument that names something
// WHMCS lists is refused, naming the argument and what is valid, with only
// the catalogue reads the check needs reaching WHMCS.
func TestChecksRefuseWhatWHMCSDoesNotList(t *testing.T) {
	w := newCounted(t, nil)
	methods := []string{getPaymentMethods}
	products := []string{getProducts}
	service := []string{getClientsProducts, getProducts}
	for _, c := range []struct {
		tool, args string
		reads      []string
		wants      []string
	}{
		{"update_client_product", `{"serviceid": 2, "paymentmethod": "stripe"}`, methods,
			[]string{`argument "paymentmethod": "stripe" is not an active payment gateway; valid: "paypal" (PayPal), "authorize" (Credit Card) (see get_payment_methods)`}},
		{"update_client_product", `{"serviceid": 2, "paymentmethod": "PayPal"}`, methods, []string{`argument "paymentmethod": "PayPal" is not`}},
		{"upgrade_product", `{"serviceid": 3, "paymentmethod": "stripe", "type": "product", "newproductid": 2}`, append(methods, getProducts),
			[]string{`argument "paymentmethod": "stripe" is not an active payment gateway`}},
		{"update_client_product", `{"serviceid": 2, "pid": 99}`, products, []string{`argument "pid": product 99 does not exist in WHMCS (see get_products)`}},
		{"upgrade_product", `{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 99}`, append(methods, getProducts),
			[]string{`argument "newproductid": product 99 does not exist in WHMCS`}},
		{"update_client_product", `{"serviceid": 4, "customfields": {"7": "x"}}`, service,
			[]string{`argument "customfields": "7" is not a custom field of product 6 (VPS Medium); its custom fields: 3 (Hostname)`}},
		{"update_client_product", `{"serviceid": 4, "customfields": {"07": "x"}}`, service,
			[]string{`argument "customfields": "07" is not a custom field of product 6 (VPS Medium)`}},
		{"update_client_product", `{"serviceid": 1, "customfields": {"1": "x"}}`, service,
			[]string{`argument "customfields": "1" is not a custom field of product 1 (Starter), which has none`}},
		{"update_client_product", `{"serviceid": 4, "configoptions": {"9": 1}}`, service,
			[]string{`argument "configoptions": "9" is not a configurable option of product 6 (VPS Medium); its options: 2 (Memory), 3 (Extra IPv4 Addresses), 4 (Daily Backups), 5 (Operating System)`}},
		{"update_client_product", `{"serviceid": 4, "configoptions": {"2": 9}}`, service,
			[]string{`argument "configoptions.2": 9 is not a choice of option 2 (Memory); its choices: 3 (1 GB), 4 (2 GB), 5 (4 GB)`}},
		{"update_client_product", `{"serviceid": 4, "configoptions": {"5": {"optionid": 3, "qty": 0}}}`, service,
			[]string{`argument "configoptions.5": 3 is not a choice of option 5 (Operating System); its choices: 8 (Ubuntu 24.04), 9 (Debian 12), 10 (AlmaLinux 9)`}},
		{"update_client_product", `{"serviceid": 4, "configoptions": {"3": 2}}`, service,
			[]string{`argument "configoptions.3": option 3 (Extra IPv4 Addresses) is a quantity option: give {"optionid": 6, "qty": N}; a plain choice id sets quantity 0`}},
		{"update_client_product", `{"serviceid": 4, "configoptions": {"4": 7}}`, service,
			[]string{`argument "configoptions.4": option 4 (Daily Backups) is a yes/no option (qty 1 for yes, 0 for no): give {"optionid": 7, "qty": N}`}},
		{"update_client_product", `{"serviceid": 4, "configoptions": {"4": {"optionid": 7, "qty": 2}}}`, service,
			[]string{`argument "configoptions.4": option 4 (Daily Backups) is yes/no: qty 1 (yes) or 0 (no), not 2`}},
		// pid moves service 2 (Plus) to VPS Small: the options are VPS Small's,
		// and the service need not be read.
		{"update_client_product", `{"serviceid": 2, "pid": 5, "configoptions": {"1": 2}}`, products,
			[]string{`argument "configoptions": "1" is not a configurable option of product 5 (VPS Small)`}},
		{"upgrade_product", `{"serviceid": 4, "paymentmethod": "paypal", "type": "configoptions", "configoptions": {"2": 1, "4": 3, "5": "x"}}`,
			append(methods, service...), []string{
				`argument "configoptions.2": 1 is not a choice of option 2 (Memory); its choices: 3 (1 GB), 4 (2 GB), 5 (4 GB)`,
				`argument "configoptions.4": option 4 (Daily Backups) is yes/no: 1 (yes) or 0 (no), not 3`,
				`argument "configoptions.5": expected an integer (a choice id, a quantity, or 1/0 for yes/no), got "x"`}},
		// A product upgrade's options are the target product's.
		{"upgrade_product", `{"serviceid": 2, "paymentmethod": "paypal", "type": "product", "newproductid": 5, "configoptions": {"1": 1}}`,
			append(methods, getProducts), []string{`argument "configoptions": "1" is not a configurable option of product 5 (VPS Small)`}},
		// Every problem of a call at once.
		{"update_client_product", `{"serviceid": 4, "paymentmethod": "cash", "pid": 99, "customfields": {"1": "x"}}`, append(methods, getProducts),
			[]string{`argument "paymentmethod": "cash" is not`, `argument "pid": product 99 does not exist`}},
		// A service that does not exist is WHMCS's own answer.
		{"update_client_product", `{"serviceid": 999, "customfields": {"1": "x"}}`, []string{getClientsProducts}, []string{"Service ID Not Found"}},
	} {
		w.refused(t, c.tool, c.args, c.reads, c.wants...)
	}
}

// TestChecksLetValidCallsThrough: a call whose arguments WHMCS lists
// reaches WHMCS.
func TestChecksLetValidCallsThrough(t *testing.T) {
	w := newCounted(t, nil)
	for _, c := range []struct{ tool, args, action string }{
		{"update_client_product", `{"serviceid": 2, "paymentmethod": "authorize"}`, "UpdateClientProduct"},
		{"update_client_product", `{"serviceid": 7, "pid": 7, "customfields": {"4": "a.example", "5": "ssh-ed25519 AAAA"}}`, "UpdateClientProduct"},
		{"update_client_product", `{"serviceid": 4, "customfields": {"3": "vps.example"}, "configoptions": {"2": 5, "3": {"optionid": 6, "qty": 3}, "4": {"optionid": 7, "qty": 0}, "5": {"optionid": 9}}}`, "UpdateClientProduct"},
		{"upgrade_product", `{"serviceid": 4, "paymentmethod": "paypal", "type": "configoptions", "configoptions": {"2": 5, "3": 4, "4": "1", "5": 10}}`, "UpgradeProduct"},
		{"upgrade_product", `{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "monthly"}`, "UpgradeProduct"},
	} {
		w.sent(t, c.tool, c.args, c.action)
	}
}

// TestChecksComeAfterScope: for a caller scoped to other clients, a service
// outside the scope is not found, whatever else the call holds, and nothing
// is read for the checks.
func TestChecksComeAfterScope(t *testing.T) {
	w := newCounted(t, nil)
	w.gate.scope = []int{2}
	w.refused(t, "update_client_product", `{"serviceid": 1, "paymentmethod": "stripe", "pid": 99, "customfields": {"9": "x"}}`,
		[]string{getClientsProducts}, "Service ID Not Found")
	if got := w.whmcs.Count(getPaymentMethods) + w.whmcs.Count(getProducts); got != 0 {
		t.Errorf("%d catalogue reads for a call out of scope", got)
	}
	if len(w.gate.refuse) != 1 {
		t.Errorf("want the scope refusal recorded once, got %q", w.gate.refuse)
	}
}

// TestChecksCostNoRequestWhenKept: with the catalogue kept, a refused call
// sends no request at all and a valid write sends only itself.
func TestChecksCostNoRequestWhenKept(t *testing.T) {
	w := newCounted(t, nil)
	bad := `{"serviceid": 2, "paymentmethod": "stripe", "pid": 99}`
	w.refused(t, "update_client_product", bad, []string{getPaymentMethods, getProducts}, `"stripe" is not`)
	w.refused(t, "update_client_product", bad, nil, `"stripe" is not`, `product 99 does not exist`)
	before := len(w.whmcs.Requests())
	w.sent(t, "update_client_product", `{"serviceid": 2, "paymentmethod": "paypal", "notes": "kept"}`, "UpdateClientProduct")
	if got := w.actions(before); !slices.Equal(got, []string{"UpdateClientProduct"}) {
		t.Errorf("valid write: requests %v, want the write alone", got)
	}
}

// TestChecksRefuseWhenTheyCannotRead: a catalogue read that fails refuses
// the call with WHMCS's failure, and sends nothing.
func TestChecksRefuseWhenTheyCannotRead(t *testing.T) {
	w := newCounted(t, nil)
	w.whmcs.Set(faultwhmcs.Rule{Fault: faultwhmcs.HTTP503, Actions: []string{getPaymentMethods}})
	w.refused(t, "update_client_product", `{"serviceid": 2, "paymentmethod": "paypal"}`, []string{getPaymentMethods},
		`could not check the arguments against WHMCS (GetPaymentMethods, for "paymentmethod": `, "nothing was sent")
}

// docsProducts is the GetProducts example reply of WHMCS's API reference
// (developers.whmcs.com/api-reference/getproducts/), with WHMCS's numeric
// option types and 8.12's minqty/maxqty, plus a quantity option (id 5) made
// after the example's one.
const docsProducts = `{"result":"success","totalresults":1,"products":{"product":[{"pid":1,"gid":1,"type":"hostingaccount",
"name":"Best Hosting Plan","slug":"best-hosting-plan","product-url":"https:\/\/www.example.com\/whmcs\/product-group\/best-hosting-plan",
"description":"This is our best hosting plan, with all the bells and whistles.","module":"cpanel","paytype":"recurring",
"allowqty":2,"quantity_available":0,"pricing":{"USD":{"prefix":"$","suffix":" USD","msetupfee":"0.00","qsetupfee":"0.00",
"ssetupfee":"0.00","asetupfee":"0.00","bsetupfee":"0.00","tsetupfee":"0.00","monthly":"25.99","quarterly":"-1.00",
"semiannually":"-1.00","annually":"-1.00","biennially":"-1.00","triennially":"-1.00"}},
"customfields":{"customfield":[{"id":2,"name":"Secondary Contact","description":"Would you like to provide a secondary point of contact?","required":""}]},
"configoptions":{"configoption":[
{"id":4,"name":"MultiPHP Services","type":"3","minqty":1,"maxqty":10,"options":{"option":[{"id":4,"name":"Include MultiPHP Options",
"rawName":null,"recurring":0,"required":null,"pricing":{"USD":{"msetupfee":"0.00","qsetupfee":"0.00","ssetupfee":"0.00","asetupfee":"0.00",
"bsetupfee":"0.00","tsetupfee":"0.00","monthly":"2.99","quarterly":"0.00","semiannually":"0.00","annually":"0.00","biennially":"0.00","triennially":"0.00"}}}]}},
{"id":5,"name":"Extra Databases","type":"4","minqty":1,"maxqty":10,"options":{"option":[{"id":5,"name":"Database",
"rawName":null,"recurring":0,"required":null,"pricing":{"USD":{"msetupfee":"0.00","qsetupfee":"0.00","ssetupfee":"0.00","asetupfee":"0.00",
"bsetupfee":"0.00","tsetupfee":"0.00","monthly":"1.00","quarterly":"0.00","semiannually":"0.00","annually":"0.00","biennially":"0.00","triennially":"0.00"}}}]}}
]}}]}}`

// TestChecksReadWHMCSsOwnShapes: against a WHMCS whose GetProducts answers
// as the API reference shows (the sandbox serves the rest; its service 1 has
// product 1), option types are WHMCS's codes and quantities are bounded by
// minqty and maxqty.
func TestChecksReadWHMCSsOwnShapes(t *testing.T) {
	var sb http.Handler
	w := newCounted(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.ParseForm() == nil && strings.EqualFold(r.PostForm.Get("action"), getProducts) {
			rw.Header().Set("Content-Type", "application/json")
			rw.Write([]byte(docsProducts))
			return
		}
		sb.ServeHTTP(rw, r)
	}))
	sb = w.sb
	service := []string{getClientsProducts, getProducts}
	methods := append([]string{getPaymentMethods}, service...)
	w.refused(t, "update_client_product", `{"serviceid": 1, "configoptions": {"4": {"optionid": 4, "qty": 2}}}`, service,
		`argument "configoptions.4": option 4 (MultiPHP Services) is yes/no: qty 1 (yes) or 0 (no), not 2`)
	w.refused(t, "update_client_product", `{"serviceid": 1, "configoptions": {"5": {"optionid": 5, "qty": 11}}}`, service,
		`argument "configoptions.5": quantity 11 is outside option 5 (Extra Databases)'s bounds, 1 to 10`)
	w.refused(t, "update_client_product", `{"serviceid": 1, "configoptions": {"5": {"optionid": 5}}}`, service,
		`argument "configoptions.5": quantity 0 is outside option 5 (Extra Databases)'s bounds, 1 to 10`)
	w.refused(t, "update_client_product", `{"serviceid": 1, "configoptions": {"5": 5}}`, service,
		`option 5 (Extra Databases) is a quantity option: give {"optionid": 5, "qty": N}`)
	w.refused(t, "update_client_product", `{"serviceid": 1, "customfields": {"1": "x"}}`, service,
		`argument "customfields": "1" is not a custom field of product 1 (Best Hosting Plan); its custom fields: 2 (Secondary Contact)`)
	w.refused(t, "upgrade_product", `{"serviceid": 1, "paymentmethod": "paypal", "type": "configoptions", "configoptions": {"5": 11}}`, methods,
		`argument "configoptions.5": quantity 11 is outside option 5 (Extra Databases)'s bounds, 1 to 10`)
	w.refused(t, "upgrade_product", `{"serviceid": 1, "paymentmethod": "paypal", "type": "configoptions", "configoptions": {"4": 2}}`, methods,
		`argument "configoptions.4": option 4 (MultiPHP Services) is yes/no: 1 (yes) or 0 (no), not 2`)

	w.sent(t, "update_client_product", `{"serviceid": 1, "customfields": {"2": "ops@example.com"}, "configoptions": {"4": {"optionid": 4, "qty": 1}, "5": {"optionid": 5, "qty": 10}}}`, "UpdateClientProduct")
	w.sent(t, "upgrade_product", `{"serviceid": 1, "paymentmethod": "paypal", "type": "configoptions", "configoptions": {"4": 1, "5": 1}}`, "UpgradeProduct")
}
