package sandbox

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestGetPaymentMethods(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.ok("GetPaymentMethods")
	want := `{"result":"success","totalresults":2,"paymentmethods":{"paymentmethod":[` +
		`{"module":"paypal","displayname":"PayPal"},{"module":"authorize","displayname":"Credit Card"}]}}`
	if string(r.raw) != want {
		t.Fatalf("got  %s\nwant %s", r.raw, want)
	}
}

func TestGetClientsProductsFilters(t *testing.T) {
	h := newHarness(t, Options{})
	ids := func(r reply) string {
		var s []string
		for _, p := range productList(t, r) {
			s = append(s, p["id"].(string))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"clientid", "2"}, "3,4,5"},
		{[]string{"clientid", "4"}, "9,10,11,12"},
		{[]string{"serviceid", "7"}, "7"},
		{[]string{"pid", "1"}, "1,5,10"},
		{[]string{"clientid", "2", "pid", "1"}, "5"},
		{[]string{"domain", "ruizphoto.example"}, "6"},
		{[]string{"username2", "root"}, "4,7,9"},
		{[]string{"limitstart", "2", "limitnum", "3"}, "3,4,5"},
		{nil, "1,2,3,4,5,6,7,8,9,10,11,12"},
	} {
		r := h.ok("GetClientsProducts", tc.args...)
		if got := ids(r); got != tc.want {
			t.Errorf("%v: services %s, want %s", tc.args, got, tc.want)
		}
	}

	// Echoed filters, counts and paging fields.
	r := h.ok("GetClientsProducts", "serviceid", "7", "pid", "5")
	if r.m["clientid"] != nil || r.str("serviceid") != "7" || r.str("pid") != "5" || r.m["domain"] != nil {
		t.Errorf("echoed filters: %s", r.raw)
	}
	r = h.ok("GetClientsProducts", "limitstart", "10", "limitnum", "5")
	if r.str("totalresults") != "12" || r.m["startnumber"] != float64(10) || r.m["numreturned"] != float64(2) {
		t.Errorf("paging: %s", r.raw)
	}

	// Nothing matches: WHMCS's empty-list shape.
	r = h.ok("GetClientsProducts", "clientid", "999")
	want := `{"result":"success","clientid":"999","serviceid":null,"pid":null,"domain":null,` +
		`"totalresults":"0","startnumber":0,"numreturned":0,"products":""}`
	if string(r.raw) != want {
		t.Errorf("empty:\ngot  %s\nwant %s", r.raw, want)
	}
}

func TestGetClientsProductsDetails(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.service(4)
	for k, want := range map[string]string{
		"name": "VPS Medium", "groupname": "VPS", "billingcycle": "Annually", "recurringamount": "587.89",
		"servername": "Neptune", "nextduedate": "2027-06-10", "regdate": "2026-06-10", "paymentmethodname": "Credit Card",
		"diskusage": "20480", "lastupdate": "2026-11-21 03:00:00",
	} {
		if got, _ := s[k].(string); got != want {
			t.Errorf("service 4 %s = %q, want %q", k, got, want)
		}
	}
	if _, ok := s["ordernumber"].(string); !ok {
		t.Errorf("service 4 has no ordernumber: %v", s)
	}
	cf := s["customfields"].(map[string]any)["customfield"].([]any)
	if len(cf) != 1 || cf[0].(map[string]any)["value"] != "vps1.smithwebdesign.example" {
		t.Errorf("custom fields: %v", cf)
	}
	co := s["configoptions"].(map[string]any)["configoption"].([]any)
	var got []string
	for _, o := range co {
		m := o.(map[string]any)
		got = append(got, m["id"].(string)+"/"+m["type"].(string)+"/"+m["value"].(string))
	}
	want := "2/dropdown/2 GB,3/quantity/2,4/yesno/1,5/radio/Ubuntu 24.04"
	if strings.Join(got, ",") != want {
		t.Errorf("config options %v, want %s", got, want)
	}
	if s := h.service(5); s["status"] != "Suspended" || s["suspensionreason"] != "Overdue on Payment" {
		t.Errorf("service 5: %v", s)
	}
}

func TestGetProducts(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.ok("GetProducts")
	if r.m["totalresults"] != float64(8) {
		t.Fatalf("totalresults: %s", r.raw)
	}
	r = h.ok("GetProducts", "pid", "1")
	want := `{"result":"success","totalresults":1,"products":{"product":[{"pid":1,"gid":1,"type":"hostingaccount",` +
		`"name":"Starter","slug":"starter","product-url":"` + h.srv.URL + `/shared-hosting/starter",` +
		`"description":"1 website, 10 GB SSD, free SSL","module":"cpanel","paytype":"recurring","allowqty":0,"quantity_available":0,` +
		`"pricing":{"USD":{"prefix":"$","suffix":" USD","msetupfee":"0.00","qsetupfee":"0.00","ssetupfee":"0.00",` +
		`"asetupfee":"0.00","bsetupfee":"0.00","tsetupfee":"0.00","monthly":"12.95","quarterly":"36.95",` +
		`"semiannually":"69.95","annually":"129.50","biennially":"239.00","triennially":"-1.00"}},` +
		`"customfields":{"customfield":[]},"configoptions":{"configoption":[]}}]}}`
	if string(r.raw) != want {
		t.Fatalf("pid=1:\ngot  %s\nwant %s", r.raw, want)
	}

	r = h.ok("GetProducts", "gid", "2")
	prods := productList(t, r)
	if len(prods) != 3 || prods[0]["name"] != "VPS Small" || prods[2]["name"] != "VPS Large" {
		t.Fatalf("gid=2: %s", r.raw)
	}
	usd := prods[0]["pricing"].(map[string]any)["USD"].(map[string]any)
	if usd["msetupfee"] != "10.00" || usd["monthly"] != "19.99" || usd["biennially"] != "-1.00" {
		t.Errorf("VPS Small pricing: %v", usd)
	}
	opts := prods[0]["configoptions"].(map[string]any)["configoption"].([]any)
	if len(opts) != 4 {
		t.Fatalf("VPS Small config options: %v", opts)
	}
	mem := opts[0].(map[string]any)
	choices := mem["options"].(map[string]any)["option"].([]any)
	if mem["name"] != "Memory" || len(choices) != 3 ||
		choices[1].(map[string]any)["pricing"].(map[string]any)["USD"].(map[string]any)["monthly"] != "5.00" {
		t.Errorf("Memory option: %v", mem)
	}
	// WHMCS's numeric type codes, as strings; minqty and maxqty on every
	// option; numeric ids.
	var types []string
	for _, o := range opts {
		m := o.(map[string]any)
		types = append(types, fmt.Sprintf("%v:%v:%v-%v", m["id"], m["type"], m["minqty"], m["maxqty"]))
	}
	if got := strings.Join(types, ","); got != "2:1:0-0,3:4:0-8,4:3:0-0,5:2:0-0" {
		t.Errorf("config option id:type:min-max = %s", got)
	}
	var wantChoice any
	json.Unmarshal([]byte(`{"id":4,"name":"2 GB","rawName":null,"recurring":0,"required":null,"pricing":{"USD":{
		"msetupfee":"0.00","qsetupfee":"0.00","ssetupfee":"0.00","asetupfee":"0.00","bsetupfee":"0.00","tsetupfee":"0.00",
		"monthly":"5.00","quarterly":"15.00","semiannually":"30.00","annually":"60.00","biennially":"120.00","triennially":"180.00"}}}`),
		&wantChoice)
	if !reflect.DeepEqual(choices[1], wantChoice) {
		t.Errorf("a choice:\ngot  %v\nwant %v", choices[1], wantChoice)
	}
	cf := prods[0]["customfields"].(map[string]any)["customfield"].([]any)
	if len(cf) != 1 || cf[0].(map[string]any)["id"] != float64(2) {
		t.Errorf("VPS Small custom fields: %v", cf)
	}
	migration := productList(t, h.ok("GetProducts", "pid", "8"))[0]
	if migration["allowqty"] != float64(1) || migration["product-url"] != h.srv.URL+"/services/website-migration" {
		t.Errorf("Website Migration: %v", migration)
	}

	if n := len(productList(t, h.ok("GetProducts", "pid", "1,3"))); n != 2 {
		t.Errorf("pid=1,3: %d products", n)
	}
	if n := len(productList(t, h.ok("GetProducts", "module", "cpanel"))); n != 4 {
		t.Errorf("module=cpanel: %d products", n)
	}
	r = h.ok("GetProducts", "pid", "99")
	if string(r.raw) != `{"result":"success","totalresults":0,"products":""}` {
		t.Errorf("no match: %s", r.raw)
	}
}

func TestGetClientsAddons(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.ok("GetClientsAddons", "serviceid", "2", "clientid", "1")
	want := `{"result":"success","serviceid":"2","clientid":"1","totalresults":"1","addons":{"addon":[{"id":"1","qty":"1",` +
		`"userid":"1","orderid":"2","serviceid":"2","addonid":"1","name":"SSL Certificate","setupfee":"0.00",` +
		`"recurring":"4.99","billingcycle":"Monthly","tax":"","status":"Active","regdate":"2015-05-20",` +
		`"nextduedate":"2017-01-20","nextinvoicedate":"2017-01-20","paymentmethod":"paypal","paymentmethodname":"PayPal",` +
		`"notes":""}]}}`
	if string(r.raw) != want {
		t.Fatalf("got  %s\nwant %s", r.raw, want)
	}
	// Unset filters are echoed as "", as in the reference example.
	r = h.ok("GetClientsAddons", "clientid", "4")
	if r.str("totalresults") != "3" || r.m["serviceid"] != "" || r.str("clientid") != "4" {
		t.Errorf("clientid=4: %s", r.raw)
	}
	var names, statuses []string
	for _, a := range r.m["addons"].(map[string]any)["addon"].([]any) {
		names = append(names, a.(map[string]any)["name"].(string))
		statuses = append(statuses, a.(map[string]any)["status"].(string))
	}
	// Custom name first, catalog name otherwise.
	if strings.Join(names, ",") != "Dedicated IP,Wildcard SSL,SSL Certificate" {
		t.Errorf("names %v", names)
	}
	if strings.Join(statuses, ",") != "Cancelled,Suspended,Active" {
		t.Errorf("statuses %v", statuses)
	}
	if n := h.ok("GetClientsAddons", "addonid", "2").m["totalresults"]; n != "3" {
		t.Errorf("addonid=2: %v addons", n)
	}
	// serviceid takes a comma-separated list, as WHMCS documents.
	r = h.ok("GetClientsAddons", "serviceid", "2, 3,9")
	var ids []string
	for _, a := range r.m["addons"].(map[string]any)["addon"].([]any) {
		ids = append(ids, a.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "1,3,8,10" || r.str("serviceid") != "2, 3,9" || r.m["clientid"] != "" {
		t.Errorf("serviceid=2, 3,9: addons %v: %s", ids, r.raw)
	}
	r = h.ok("GetClientsAddons", "serviceid", "12")
	if string(r.raw) != `{"result":"success","serviceid":"12","clientid":"","totalresults":"0","addons":""}` {
		t.Errorf("none: %s", r.raw)
	}
}
