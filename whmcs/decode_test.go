package whmcs

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// docsGetClientsProducts is the example reply of WHMCS's API reference for
// GetClientsProducts.
var docsGetClientsProducts = string(mustRead(filepath.Join(referenceDir, "GetClientsProducts.json")))

// mustRead returns the contents of a test data file, for package-level test
// values.
func mustRead(name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

func TestGetClientsProductsDocsExample(t *testing.T) {
	c, rec := fakeWHMCS(t, docsGetClientsProducts)
	resp, err := c.GetClientsProducts(ctx(t), GetClientsProductsRequest{ClientID: ptr(1)})
	if err != nil {
		t.Fatalf("GetClientsProducts: %v", err)
	}
	if got := rec.only(t).Get("clientid"); got != "1" {
		t.Errorf("clientid sent = %q, want 1", got)
	}
	if resp.TotalResults != 2 || resp.StartNumber != 0 || resp.NumReturned != 2 {
		t.Errorf("totals = %d/%d/%d, want 2/0/2", resp.TotalResults, resp.StartNumber, resp.NumReturned)
	}
	if len(resp.Products) != 2 {
		t.Fatalf("got %d products, want 2", len(resp.Products))
	}
	p1, p2 := resp.Products[0], resp.Products[1]
	if p1.ID != 1 || p1.Qty != 1 || p1.ClientID != 1 || p1.OrderID != 1 || p1.OrderNumber != "456789" || p1.PID != 1 {
		t.Errorf("service 1 ids: %+v", p1)
	}
	if p1.RegDate != "2015-01-01" || p1.NextDueDate != "2016-11-25" || p1.Status != "Terminated" || p1.Name != "Starter" {
		t.Errorf("service 1 fields: %+v", p1)
	}
	if p1.FirstPaymentAmount != 12.95 || p1.RecurringAmount != 12.95 {
		t.Errorf("service 1 amounts = %v, %v; want 12.95", p1.FirstPaymentAmount, p1.RecurringAmount)
	}
	if bool(p1.OverideAutoSuspend) || !p1.OverideSuspendUntil.IsZero() || !p1.LastUpdate.IsZero() {
		t.Errorf("service 1 override/lastupdate: %+v", p1)
	}
	if p1.CustomFields == nil || len(p1.CustomFields) != 0 || len(p1.ConfigOptions) != 0 {
		t.Errorf("service 1 lists = %#v, %#v; want empty", p1.CustomFields, p1.ConfigOptions)
	}
	if p2.ID != 2 || p2.Qty != 2 || p2.PID != 3 || p2.Status != "Active" || p2.RecurringAmount != 24.95 || p2.PaymentMethod != "paypal" {
		t.Errorf("service 2: %+v", p2)
	}
	want := ConfigOptionValue{ID: 1, Option: "Sample Config Option", Type: "dropdown", Value: "Selected option value"}
	if len(p2.ConfigOptions) != 1 || p2.ConfigOptions[0] != want {
		t.Errorf("service 2 config options = %+v, want [%+v]", p2.ConfigOptions, want)
	}
}

// product is one service in the shape WHMCS sends it, with some fields
// replaced by the caller (raw JSON values).
func product(fields map[string]string) string {
	base := map[string]string{
		"id": `"7"`, "clientid": `"1"`, "pid": `"3"`, "name": `"Plus"`, "status": `"Active"`,
		"recurringamount": `"24.95"`, "regdate": `"2015-05-20"`,
	}
	for k, v := range fields {
		if v == "" {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	parts := make([]string, 0, len(base))
	for k, v := range base {
		parts = append(parts, `"`+k+`":`+v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestGetClientsProductsListShapes(t *testing.T) {
	one := product(nil)
	two := product(map[string]string{"id": "8"})
	nine := product(map[string]string{"id": `"9"`})
	ten := product(map[string]string{"id": `"10"`})
	cases := []struct {
		name     string
		products string // raw JSON for "products"; "" leaves the key out
		ids      []Int
	}{
		{"wrapped array", `{"product":[` + one + `,` + two + `]}`, []Int{7, 8}},
		{"wrapped single object", `{"product":` + one + `}`, []Int{7}},
		{"wrapped empty array", `{"product":[]}`, nil},
		{"wrapped empty string", `{"product":""}`, nil},
		{"wrapped empty object", `{"product":{}}`, nil},
		{"wrapped null", `{"product":null}`, nil},
		{"keyed by index", `{"product":{"0":` + one + `,"1":` + two + `}}`, []Int{7, 8}},
		{"keyed by index, members out of order", `{"product":{"1":` + two + `,"0":` + one + `}}`, []Int{7, 8}},
		{"keyed by id", `{"product":{"8":` + two + `,"7":` + one + `}}`, []Int{7, 8}},
		{"keyed by id, numeric order", `{"product":{"10":` + ten + `,"9":` + nine + `,"7":` + one + `}}`, []Int{7, 9, 10}},
		{"keyed, one record", `{"product":{"7":` + one + `}}`, []Int{7}},
		{"keyed without the wrapper", `{"0":` + one + `,"1":` + two + `}`, []Int{7, 8}},
		{"empty string", `""`, nil},
		{"empty object", `{}`, nil},
		{"empty array", `[]`, nil},
		{"null", `null`, nil},
		{"bare array", `[` + one + `]`, []Int{7}},
		{"missing", ``, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reply := `{"result":"success","totalresults":"2","startnumber":0,"numreturned":2`
			if tc.products != "" {
				reply += `,"products":` + tc.products
			}
			reply += `}`
			c, _ := fakeWHMCS(t, reply)
			resp, err := c.GetClientsProducts(ctx(t), GetClientsProductsRequest{})
			if err != nil {
				t.Fatalf("GetClientsProducts: %v", err)
			}
			var ids []Int
			for _, p := range resp.Products {
				ids = append(ids, p.ID)
			}
			if !reflect.DeepEqual(ids, tc.ids) {
				t.Errorf("ids = %v, want %v", ids, tc.ids)
			}
			// Whatever WHMCS sent, the list re-encodes as an array.
			b, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			var back struct {
				Products json.RawMessage `json:"products"`
			}
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if len(back.Products) == 0 || back.Products[0] != '[' {
				t.Errorf("products re-encoded as %s, want an array", back.Products)
			}
		})
	}
}

func TestScalarSpellings(t *testing.T) {
	cases := []struct {
		field, raw string
		check      func(p ClientProduct) bool
	}{
		{"recurringamount", `"12.95"`, func(p ClientProduct) bool { return p.RecurringAmount == 12.95 }},
		{"recurringamount", `12.95`, func(p ClientProduct) bool { return p.RecurringAmount == 12.95 }},
		{"recurringamount", `""`, func(p ClientProduct) bool { return p.RecurringAmount == 0 }},
		{"recurringamount", `null`, func(p ClientProduct) bool { return p.RecurringAmount == 0 }},
		{"recurringamount", `"-1.00"`, func(p ClientProduct) bool { return p.RecurringAmount == -1 }},
		{"recurringamount", `12`, func(p ClientProduct) bool { return p.RecurringAmount == 12 }},
		{"id", `"1"`, func(p ClientProduct) bool { return p.ID == 1 }},
		{"id", `1`, func(p ClientProduct) bool { return p.ID == 1 }},
		{"id", `""`, func(p ClientProduct) bool { return p.ID == 0 }},
		{"id", `null`, func(p ClientProduct) bool { return p.ID == 0 }},
		{"id", `"12.0"`, func(p ClientProduct) bool { return p.ID == 12 }},
		{"overideautosuspend", `""`, func(p ClientProduct) bool { return !bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `"0"`, func(p ClientProduct) bool { return !bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `0`, func(p ClientProduct) bool { return !bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `false`, func(p ClientProduct) bool { return !bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `null`, func(p ClientProduct) bool { return !bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `"off"`, func(p ClientProduct) bool { return !bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `"1"`, func(p ClientProduct) bool { return bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `1`, func(p ClientProduct) bool { return bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `true`, func(p ClientProduct) bool { return bool(p.OverideAutoSuspend) }},
		{"overideautosuspend", `"on"`, func(p ClientProduct) bool { return bool(p.OverideAutoSuspend) }},
		{"ordernumber", `456789`, func(p ClientProduct) bool { return p.OrderNumber == "456789" }},
		{"ordernumber", `"456789"`, func(p ClientProduct) bool { return p.OrderNumber == "456789" }},
		{"ordernumber", `null`, func(p ClientProduct) bool { return p.OrderNumber == "" }},
		{"nextduedate", `null`, func(p ClientProduct) bool { return p.NextDueDate == "" && p.NextDueDate.IsZero() }},
	}
	for _, tc := range cases {
		t.Run(tc.field+"="+tc.raw, func(t *testing.T) {
			var p ClientProduct
			if err := json.Unmarshal([]byte(product(map[string]string{tc.field: tc.raw})), &p); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !tc.check(p) {
				t.Errorf("decoded %s=%s as %+v", tc.field, tc.raw, p)
			}
		})
	}
}

func TestScalarRejects(t *testing.T) {
	// A value that is not what the field holds is an error naming the field
	// and the value, not a silent zero.
	for _, tc := range []struct{ field, raw, want string }{
		{"id", `"abc"`, `string "abc" into Go struct field ClientProduct.id of type whmcs.Int`},
		{"id", `"1.5"`, `string "1.5" into Go struct field ClientProduct.id of type whmcs.Int`},
		{"id", `1e300`, `number 1e300 into Go struct field ClientProduct.id of type whmcs.Int`},
		{"recurringamount", `"twelve"`, `string "twelve" into Go struct field ClientProduct.recurringamount of type whmcs.Float`},
		{"overideautosuspend", `"maybe"`, `string "maybe" into Go struct field ClientProduct.overideautosuspend of type whmcs.Bool`},
		{"name", `{"a":1}`, `object into Go struct field ClientProduct.name of type whmcs.String`},
		{"nextduedate", `["2026-01-01"]`, `array into Go struct field ClientProduct.nextduedate of type whmcs.Date`},
		{"id", `[1]`, `array into Go struct field ClientProduct.id of type whmcs.Int`},
	} {
		var p ClientProduct
		err := json.Unmarshal([]byte(product(map[string]string{tc.field: tc.raw})), &p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: error %v, want one with %s", tc.field, tc.raw, err, tc.want)
		}
	}
	// Through a whole reply, the path leads from the reply to the field,
	// also where encoding/json decodes the record (Product, for its pricing).
	for _, tc := range []struct {
		out         any
		reply, want string
	}{
		{&GetClientsProductsResponse{}, `{"result":"success","products":{"product":[{"id":"1"},{"id":"seven"}]}}`,
			`string "seven" into Go struct field GetClientsProductsResponse.products.product.1.id of type whmcs.Int`},
		{&GetClientsProductsResponse{}, `{"result":"success","products":{"product":{"7":{"id":"7","configoptions":{"configoption":[{"id":"x"}]}}}}}`,
			`string "x" into Go struct field GetClientsProductsResponse.products.product.7.configoptions.configoption.0.id of type whmcs.Int`},
		{&GetProductsResponse{}, `{"result":"success","products":{"product":[{"pid":"1","pricing":{"USD":{"monthly":"free"}}}]}}`,
			`string "free" into Go struct field GetProductsResponse.products.product.0.pricing.monthly of type whmcs.Float`},
		{&GetProductsResponse{}, `{"result":"success","totalresults":"many"}`,
			`string "many" into Go struct field GetProductsResponse.totalresults of type whmcs.Int`},
	} {
		sameDecoding(t, tc.reply, tc.out)
		err := decodeReply("Action", read, 200, "application/json", []byte(tc.reply), tc.out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %s", tc.reply, err, tc.want)
		}
	}
}

func TestDecodeErrorsAreResponseErrors(t *testing.T) {
	c, _ := fakeWHMCS(t, `{"result":"success","products":{"product":[{"id":"seven"}]}}`)
	_, err := c.GetClientsProducts(ctx(t), GetClientsProductsRequest{})
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %T %v, want *ResponseError", err, err)
	}
	if !strings.Contains(re.Error(), "expected shape") {
		t.Errorf("error %q does not say the shape is unexpected", re.Error())
	}
}

func TestCompactEncoding(t *testing.T) {
	var resp GetClientsProductsResponse
	if err := json.Unmarshal([]byte(docsGetClientsProducts), &resp); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(resp.Products[0])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{
		"dedicatedip", "suspensionreason", "subscriptionid", "ns1", "ns2", "assignedips", "notes", // ""
		"promoid", "diskusage", "disklimit", "bwusage", "bwlimit", // "0"
		"overideautosuspend",                // ""
		"overidesuspenduntil", "lastupdate", // zero dates
		"customfields", "configoptions", // empty lists
	} {
		if v, ok := got[gone]; ok {
			t.Errorf("%s = %v is kept, want it left out", gone, v)
		}
	}
	wantNumbers := map[string]string{"id": "1", "qty": "1", "clientid": "1", "orderid": "1", "pid": "1", "serverid": "1",
		"firstpaymentamount": "12.95", "recurringamount": "12.95"}
	for k, want := range wantNumbers {
		n, ok := got[k].(json.Number)
		if !ok || n.String() != want {
			t.Errorf("%s = %#v, want the JSON number %s", k, got[k], want)
		}
	}
	wantStrings := map[string]string{"ordernumber": "456789", "regdate": "2015-01-01", "nextduedate": "2016-11-25",
		"name": "Starter", "status": "Terminated", "billingcycle": "Monthly", "paymentmethod": "authorize", "domain": "demodomain.com"}
	for k, want := range wantStrings {
		if got[k] != want {
			t.Errorf("%s = %#v, want %q", k, got[k], want)
		}
	}
	if strings.Contains(string(b), `"12.95"`) {
		t.Errorf("amount encoded as a string: %s", b)
	}

	// Lists stay arrays, also a list WHMCS sent as a single object.
	var p ClientProduct
	raw := product(map[string]string{
		"configoptions":      `{"configoption":{"id":"1","option":"Disk","type":"quantity","value":"5"}}`,
		"customfields":       `{"customfield":[{"id":"2","name":"Ref","value":"x"}]}`,
		"overideautosuspend": `"on"`, "promoid": `"0"`, "firstpaymentamount": `"0.00"`,
	})
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"configoptions":[{"id":1,"option":"Disk","type":"quantity","value":"5"}]`,
		`"customfields":[{"id":2,"name":"Ref","value":"x"}]`,
		`"overideautosuspend":true`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("encoding %s lacks %s", s, want)
		}
	}
	for _, gone := range []string{`"promoid"`, `"firstpaymentamount"`} {
		if strings.Contains(s, gone) {
			t.Errorf("encoding %s keeps %s", s, gone)
		}
	}
}

func TestListEncodesEmptyAsArray(t *testing.T) {
	b, err := json.Marshal(struct {
		L List[int]    `json:"l"`
		W Wrapped[int] `json:"w"`
	}{})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"l":[],"w":[]}` {
		t.Errorf("got %s", b)
	}
}

const addonsReply = `{"result":"success","clientid":"1","totalresults":"2","addons":{"addon":[
{"id":"1","userid":"1","orderid":"1","serviceid":"1","addonid":"1","name":"SSL","setupfee":"0.00","recurring":"4.95",
 "billingcycle":"Monthly","tax":"1","status":"Active","regdate":"2015-01-01","nextduedate":"2016-11-25",
 "nextinvoicedate":"0000-00-00","paymentmethod":"paypal","notes":""},
{"id":2,"userid":1,"serviceid":2,"addonid":"2","name":"Backups","setupfee":5,"recurring":2.5,"tax":"","status":"Pending"}
]}}`

func TestGetClientsAddons(t *testing.T) {
	c, rec := fakeWHMCS(t, addonsReply)
	resp, err := c.GetClientsAddons(ctx(t), GetClientsAddonsRequest{ServiceID: ptr(1)})
	if err != nil {
		t.Fatalf("GetClientsAddons: %v", err)
	}
	form := rec.only(t)
	if form.Get("serviceid") != "1" || form.Has("clientid") || form.Has("addonid") {
		t.Errorf("form = %v", form)
	}
	if resp.TotalResults != 2 || len(resp.Addons) != 2 {
		t.Fatalf("got %d (%d) addons", len(resp.Addons), resp.TotalResults)
	}
	a, b := resp.Addons[0], resp.Addons[1]
	if a.ID != 1 || a.ServiceID != 1 || a.Recurring != 4.95 || !bool(a.Tax) || a.Status != "Active" || !a.NextInvoiceDate.IsZero() {
		t.Errorf("addon 1 = %+v", a)
	}
	if b.ID != 2 || b.SetupFee != 5 || b.Recurring != 2.5 || bool(b.Tax) || b.Status != "Pending" {
		t.Errorf("addon 2 = %+v", b)
	}
	enc, _ := json.Marshal(a)
	if strings.Contains(string(enc), "nextinvoicedate") || strings.Contains(string(enc), "setupfee") || !strings.Contains(string(enc), `"recurring":4.95`) {
		t.Errorf("addon encodes as %s", enc)
	}

	for _, shape := range []string{`""`, `{}`, `[]`, `{"addon":[]}`} {
		c, _ := fakeWHMCS(t, `{"result":"success","totalresults":0,"addons":`+shape+`}`)
		resp, err := c.GetClientsAddons(ctx(t), GetClientsAddonsRequest{})
		if err != nil || len(resp.Addons) != 0 {
			t.Errorf("addons %s: %v, %v", shape, resp, err)
		}
	}
	c, _ = fakeWHMCS(t, `{"result":"success","totalresults":1,"addons":{"addon":{"id":"9","name":"One"}}}`)
	resp, err = c.GetClientsAddons(ctx(t), GetClientsAddonsRequest{})
	if err != nil || len(resp.Addons) != 1 || resp.Addons[0].ID != 9 {
		t.Errorf("single addon object: %+v, %v", resp, err)
	}
}

func TestGetPaymentMethods(t *testing.T) {
	c, rec := fakeWHMCS(t, `{"result":"success","totalresults":2,"paymentmethods":{"paymentmethod":[
		{"module":"paypal","displayname":"PayPal"},{"module":"authorize","displayname":"Credit Card"}]}}`)
	resp, err := c.GetPaymentMethods(ctx(t))
	if err != nil {
		t.Fatalf("GetPaymentMethods: %v", err)
	}
	if got := rec.only(t).Get("action"); got != "GetPaymentMethods" {
		t.Errorf("action = %q", got)
	}
	want := Wrapped[PaymentMethod]{{"paypal", "PayPal"}, {"authorize", "Credit Card"}}
	if resp.TotalResults != 2 || !reflect.DeepEqual(resp.PaymentMethods, want) {
		t.Errorf("got %+v", resp)
	}
	for shape, n := range map[string]int{
		`{"paymentmethod":{"module":"banktransfer","displayname":"Bank Transfer"}}`: 1,
		`""`:                       0,
		`{}`:                       0,
		`[]`:                       0,
		`{"paymentmethod":[]}`:     0,
		`[{"module":"mailin"}]`:    1,
		`{"paymentmethod":null}`:   0,
		`{"paymentmethod":""}`:     0,
		`{"paymentmethod":{}}`:     0,
		`{"paymentmethod":[{}]}`:   1,
		`{"paymentmethod":"cash"}`: -1, // not a list: an error
	} {
		c, _ := fakeWHMCS(t, `{"result":"success","paymentmethods":`+shape+`}`)
		resp, err := c.GetPaymentMethods(ctx(t))
		if n < 0 {
			if err == nil {
				t.Errorf("paymentmethods %s: no error, got %+v", shape, resp)
			}
			continue
		}
		if err != nil || len(resp.PaymentMethods) != n {
			t.Errorf("paymentmethods %s: %+v, %v; want %d", shape, resp, err, n)
		}
	}
	c, _ = fakeWHMCS(t, `{"result":"success","totalresults":0}`)
	resp, err = c.GetPaymentMethods(ctx(t))
	if err != nil || len(resp.PaymentMethods) != 0 {
		t.Errorf("missing list: %+v, %v", resp, err)
	}
}

const productsReply = `{"result":"success","totalresults":"2","products":{"product":[
{"pid":"1","gid":"1","type":"hostingaccount","name":"Starter","description":"","module":"cpanel","paytype":"recurring",
 "pricing":{"USD":{"prefix":"$","suffix":" USD","msetupfee":"0.00","qsetupfee":"0.00","ssetupfee":"0.00","asetupfee":"0.00",
   "bsetupfee":"0.00","tsetupfee":"0.00","monthly":"12.95","quarterly":"-1.00","semiannually":"-1.00","annually":"129.50",
   "biennially":"-1.00","triennially":"-1.00"}},
 "customfields":{"customfield":[]},
 "configoptions":{"configoption":[{"id":"4","name":"Disk","type":"quantity","options":{"option":{"id":"9","name":"GB",
   "pricing":{"USD":{"monthly":"1.00","annually":"-1.00"}}}}}]}},
{"pid":3,"gid":1,"name":"Plus","paytype":"recurring",
 "pricing":{"USD":{"prefix":"$","suffix":" USD","msetupfee":5,"monthly":24.95,"quarterly":-1,"semiannually":-1,
   "annually":0,"biennially":"-1.00","triennially":-1}},
 "customfields":"","configoptions":""}
]}}`

func TestGetProducts(t *testing.T) {
	c, rec := fakeWHMCS(t, productsReply)
	resp, err := c.GetProducts(ctx(t), GetProductsRequest{GID: ptr(1)})
	if err != nil {
		t.Fatalf("GetProducts: %v", err)
	}
	form := rec.only(t)
	if form.Get("gid") != "1" || form.Has("pid") || form.Has("module") {
		t.Errorf("form = %v", form)
	}
	if resp.TotalResults != 2 || len(resp.Products) != 2 {
		t.Fatalf("got %+v", resp)
	}
	starter, plus := resp.Products[0], resp.Products[1]
	usd := starter.Pricing["USD"]
	if usd.Prefix != "$" || usd.Suffix != " USD" || usd.Monthly != 12.95 || usd.Quarterly != -1 || usd.Annually != 129.5 {
		t.Errorf("starter USD pricing = %+v", usd)
	}
	wantStarter := []CyclePrice{{"monthly", 12.95, 0}, {"annually", 129.5, 0}}
	if got := usd.Cycles(); !reflect.DeepEqual(got, wantStarter) {
		t.Errorf("starter cycles = %+v, want %+v", got, wantStarter)
	}
	// A price of 0.00 is a free cycle, which is offered; only -1.00 is left out.
	wantPlus := []CyclePrice{{"monthly", 24.95, 5}, {"annually", 0, 0}}
	if got := plus.Pricing["USD"].Cycles(); !reflect.DeepEqual(got, wantPlus) {
		t.Errorf("plus cycles = %+v, want %+v", got, wantPlus)
	}
	if len(starter.ConfigOptions) != 1 || starter.ConfigOptions[0].ID != 4 || len(starter.ConfigOptions[0].Options) != 1 ||
		starter.ConfigOptions[0].Options[0].ID != 9 || starter.ConfigOptions[0].Options[0].Pricing["USD"].Monthly != 1 {
		t.Errorf("starter config options = %+v", starter.ConfigOptions)
	}
	if plus.PID != 3 || len(plus.CustomFields) != 0 || len(plus.ConfigOptions) != 0 {
		t.Errorf("plus = %+v", plus)
	}
	if got := (CurrencyPricing{Monthly: -1, Quarterly: -1, SemiAnnually: -1, Annually: -1, Biennially: -1, Triennially: -1}).Cycles(); len(got) != 0 {
		t.Errorf("all disabled: %+v", got)
	}
}
