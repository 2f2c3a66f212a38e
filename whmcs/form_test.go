package whmcs

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"sync/atomic"
	"testing"
)

func keys(form url.Values) []string {
	ks := make([]string, 0, len(form))
	for k := range form {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestAuthFieldsAreSent(t *testing.T) {
	rec := &recorder{reply: `{"result":"success","serviceid":"1"}`}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	plain := newTestClient(t, Config{URL: srv.URL, Identifier: "id-123", Secret: "s3cret"})
	if _, err := plain.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1}); err != nil {
		t.Fatal(err)
	}
	keyed := newTestClient(t, Config{URL: srv.URL + "/", Identifier: "id-123", Secret: "s3cret", AccessKey: "ak&=?"})
	if _, err := keyed.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1}); err != nil {
		t.Fatal(err)
	}
	forms := rec.requests()
	if len(forms) != 2 {
		t.Fatalf("got %d requests", len(forms))
	}
	want := url.Values{"identifier": {"id-123"}, "secret": {"s3cret"}, "responsetype": {"json"},
		"action": {"UpdateClientProduct"}, "serviceid": {"1"}}
	if !reflect.DeepEqual(forms[0], want) {
		t.Errorf("without access key sent %v, want %v", forms[0], want)
	}
	want.Set("accesskey", "ak&=?")
	if !reflect.DeepEqual(forms[1], want) {
		t.Errorf("with access key sent %v, want %v", forms[1], want)
	}
}

func TestRequestHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = w.Write([]byte(`{"result":"success"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, Config{URL: srv.URL, UserAgent: "ua-test/1"})
	if _, err := c.GetPaymentMethods(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if got.Get("Content-Type") != "application/x-www-form-urlencoded" || got.Get("User-Agent") != "ua-test/1" {
		t.Errorf("headers = %v", got)
	}
}

// PHP's serialize() of the WHMCS documentation's examples.
const (
	yahooSerialized   = `a:1:{i:1;s:5:"Yahoo";}`
	optionsSerialized = `a:2:{i:4;i:2;i:7;a:2:{s:8:"optionid";i:3;s:3:"qty";i:2;}}`
)

func TestUpdateClientProductForm(t *testing.T) {
	c, rec := fakeWHMCS(t, `{"result":"success","serviceid":"5"}`)
	resp, err := c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{
		ServiceID:       5,
		Status:          ptr("Suspended"),
		Notes:           ptr("note & more=1"),
		RecurringAmount: ptr(12.95),
		DiskUsage:       ptr(0), // explicit zero: sent
		PromoID:         ptr(0),
		NextDueDate:     "2026-12-01",
		Unset:           []string{"domain", "notes"},
		AutoRecalc:      ptr(false), // false: not sent
		CustomFields:    PHPArray{"1": "Yahoo"},
		ConfigOptions:   PHPArray{"4": 2, "7": map[string]any{"optionid": 3, "qty": 2}},
	})
	if err != nil {
		t.Fatalf("UpdateClientProduct: %v", err)
	}
	if resp.ServiceID != 5 {
		t.Errorf("serviceid = %d", resp.ServiceID)
	}
	form := rec.only(t)
	wantKeys := []string{"action", "configoptions", "customfields", "diskusage", "identifier", "nextduedate", "notes",
		"promoid", "recurringamount", "responsetype", "secret", "serviceid", "status", "unset[]"}
	if got := keys(form); !reflect.DeepEqual(got, wantKeys) {
		t.Errorf("fields sent = %v, want %v", got, wantKeys)
	}
	for k, want := range map[string]string{
		"action": "UpdateClientProduct", "serviceid": "5", "status": "Suspended", "notes": "note & more=1",
		"recurringamount": "12.95", "diskusage": "0", "promoid": "0", "nextduedate": "2026-12-01",
	} {
		if got := form.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := form["unset[]"]; !reflect.DeepEqual(got, []string{"domain", "notes"}) {
		t.Errorf("unset[] = %v", got)
	}
	for k, want := range map[string]string{"customfields": yahooSerialized, "configoptions": optionsSerialized} {
		raw, err := base64.StdEncoding.DecodeString(form.Get(k))
		if err != nil {
			t.Errorf("%s = %q is not base64: %v", k, form.Get(k), err)
			continue
		}
		if string(raw) != want {
			t.Errorf("%s = base64(%s), want base64(%s)", k, raw, want)
		}
	}
}

func TestPHPArrayFromJSON(t *testing.T) {
	// Arguments arrive as JSON, so numbers are float64: 2 must still be PHP i:2.
	var req UpdateClientProductRequest
	if err := json.Unmarshal([]byte(`{"serviceid":1,"customfields":{"1":"Yahoo"},
		"configoptions":{"4":2,"7":{"optionid":3,"qty":2}}}`), &req); err != nil {
		t.Fatal(err)
	}
	form, err := encodeForm(&req)
	if err != nil {
		t.Fatal(err)
	}
	if got := form.Get("customfields"); got != base64.StdEncoding.EncodeToString([]byte(yahooSerialized)) {
		t.Errorf("customfields = %q", got)
	}
	if got := form.Get("configoptions"); got != base64.StdEncoding.EncodeToString([]byte(optionsSerialized)) {
		t.Errorf("configoptions = %q", got)
	}
}

func TestEmptyValuesAreNotSent(t *testing.T) {
	// Per the encoding rules, an empty string, Date, slice or map is not
	// sent, and neither is a nil pointer nor a false bool.
	form, err := encodeForm(&UpdateClientProductRequest{
		ServiceID:     3,
		Unset:         []string{},
		CustomFields:  PHPArray{},
		ConfigOptions: PHPArray{},
		AutoRecalc:    ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (url.Values{"serviceid": {"3"}}); !reflect.DeepEqual(form, want) {
		t.Errorf("sent %v, want %v", form, want)
	}
	form, err = encodeForm(&UpgradeProductRequest{ServiceID: 3, ConfigOptions: FormArray{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (url.Values{"serviceid": {"3"}}); !reflect.DeepEqual(form, want) {
		t.Errorf("sent %v, want %v", form, want)
	}
}

func TestUpdateClientProductNilFieldsNotSent(t *testing.T) {
	c, rec := fakeWHMCS(t, `{"result":"success","serviceid":"9"}`)
	if _, err := c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 9}); err != nil {
		t.Fatal(err)
	}
	want := []string{"action", "identifier", "responsetype", "secret", "serviceid"}
	if got := keys(rec.only(t)); !reflect.DeepEqual(got, want) {
		t.Errorf("fields sent = %v, want %v", got, want)
	}
}

func TestUpgradeProductForm(t *testing.T) {
	c, rec := fakeWHMCS(t, `{"result":"success","oldproductid":"1","oldproductname":"Starter","newproductid":3,
		"newproductname":"Plus","daysuntilrenewal":13,"totaldays":30,"newproductbillingcycle":"monthly",
		"price":"$-8.67 USD","upgradeinprogress":false}`)
	resp, err := c.UpgradeProduct(ctx(t), UpgradeProductRequest{
		ServiceID:     1,
		CalcOnly:      true,
		PaymentMethod: "paypal",
		Type:          "configoptions",
		ConfigOptions: FormArray{"4": 2, "12": "text value", "7": json.Number("3"), "9": 1.5, "10": true},
	})
	if err != nil {
		t.Fatalf("UpgradeProduct: %v", err)
	}
	form := rec.only(t)
	for k, want := range map[string]string{
		"action": "UpgradeProduct", "serviceid": "1", "calconly": "1", "paymentmethod": "paypal", "type": "configoptions",
		"configoptions[4]": "2", "configoptions[12]": "text value", "configoptions[7]": "3", "configoptions[9]": "1.5",
		"configoptions[10]": "1",
	} {
		if got := form.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if form.Has("newproductid") || form.Has("configoptions") {
		t.Errorf("unexpected fields in %v", form)
	}
	if resp.OldProductID != 1 || resp.NewProductID != 3 || resp.DaysUntilRenewal != 13 || resp.TotalDays != 30 || resp.Price != "$-8.67 USD" {
		t.Errorf("resp = %+v", resp)
	}
	if amount, err := resp.Amount(); err != nil || amount != -8.67 {
		t.Errorf("Amount() = %v, %v", amount, err)
	}

	// calconly false is not sent at all: PHP would read "0" or "false" as a string, "false" as true.
	c, rec = fakeWHMCS(t, `{"result":"success","price":"$1.00 USD","id":"44","orderid":73,"order_number":"9093331404","invoiceid":null}`)
	resp, err = c.UpgradeProduct(ctx(t), UpgradeProductRequest{ServiceID: 1, PaymentMethod: "paypal", Type: "product",
		NewProductID: ptr(3), NewProductBillingCycle: ptr("monthly")})
	if err != nil {
		t.Fatal(err)
	}
	form = rec.only(t)
	if form.Has("calconly") || form.Get("newproductid") != "3" || form.Get("newproductbillingcycle") != "monthly" {
		t.Errorf("form = %v", form)
	}
	if resp.ID != 44 || resp.OrderID != 73 || resp.OrderNumber != "9093331404" || resp.InvoiceID != 0 {
		t.Errorf("resp = %+v", resp)
	}
}

func TestUpgradeProductConfigOptionsRejectsObjects(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := newTestClient(t, Config{URL: srv.URL})
	_, err := c.UpgradeProduct(ctx(t), UpgradeProductRequest{ServiceID: 1, PaymentMethod: "paypal", Type: "configoptions",
		ConfigOptions: FormArray{"7": map[string]any{"optionid": 3}}})
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("err = %T %v, want *RequestError", err, err)
	}
	if hits.Load() != 0 {
		t.Errorf("server got %d requests, want 0", hits.Load())
	}
}

func TestUpdateClientAddonForm(t *testing.T) {
	c, rec := fakeWHMCS(t, `{"result":"success","id":"1"}`)
	resp, err := c.UpdateClientAddon(ctx(t), UpdateClientAddonRequest{ID: 1, Status: ptr("Terminated"),
		Recurring: ptr(0.0), AutoRecalc: ptr(true), TerminationDate: "2026-02-28"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != 1 {
		t.Errorf("id = %d", resp.ID)
	}
	form := rec.only(t)
	want := url.Values{"action": {"UpdateClientAddon"}, "identifier": {"test-identifier"}, "secret": {"test-secret"},
		"responsetype": {"json"}, "id": {"1"}, "status": {"Terminated"}, "recurring": {"0"}, "autorecalc": {"1"},
		"terminationdate": {"2026-02-28"}}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("sent %v, want %v", form, want)
	}
}

func TestAddInvoicePaymentForm(t *testing.T) {
	c, rec := fakeWHMCS(t, `{"result":"success"}`)
	if err := c.AddInvoicePayment(ctx(t), AddInvoicePaymentRequest{InvoiceID: 12, TransID: "tx-1", Gateway: "paypal",
		Amount: ptr(8.67), NoEmail: true}); err != nil {
		t.Fatal(err)
	}
	form := rec.only(t)
	for k, want := range map[string]string{"action": "AddInvoicePayment", "invoiceid": "12", "transid": "tx-1",
		"gateway": "paypal", "amount": "8.67", "noemail": "1"} {
		if got := form.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if form.Has("date") || form.Has("fees") {
		t.Errorf("form = %v", form)
	}
}

func TestBadDateIsRequestErrorAndNothingSent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"result":"success"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, Config{URL: srv.URL})
	for _, d := range []Date{"2026-13-45", "2026-02-30", "26-01-01", "2026-1-1", "2026-01-01 00:00:00", "tomorrow"} {
		_, err := c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1, NextDueDate: d})
		var re *RequestError
		if !errors.As(err, &re) {
			t.Errorf("date %q: err = %T %v, want *RequestError", d, err, err)
			continue
		}
		if re.Action != "UpdateClientProduct" || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("date %q: %+v", d, re)
		}
	}
	_, err := c.UpdateClientAddon(ctx(t), UpdateClientAddonRequest{ID: 1, NextDueDate: "2026-13-45"})
	var re *RequestError
	if !errors.As(err, &re) {
		t.Errorf("addon: err = %T %v, want *RequestError", err, err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}
