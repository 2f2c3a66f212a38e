package whmcs

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A list WHMCS sends in a shape the client cannot map is an error naming the
// member and the shape, never a zero record (issue 12: a list keyed by
// number decoded as one empty record, a phantom service 0).
func TestListShapeErrors(t *testing.T) {
	one := product(nil)
	for _, tc := range []struct {
		products string // raw JSON for "products"
		want     string // in the error
	}{
		{`{"product":["text"]}`, `string "text" into Go struct field GetClientsProductsResponse.products.product.0 of type whmcs.ClientProduct`},
		{`{"product":[` + one + `,42]}`, `number 42 into Go struct field GetClientsProductsResponse.products.product.1 of type whmcs.ClientProduct`},
		{`{"product":[null]}`, `null into Go struct field GetClientsProductsResponse.products.product.0 of type whmcs.ClientProduct`},
		{`{"product":[[` + one + `]]}`, `array into Go struct field GetClientsProductsResponse.products.product.0 of type whmcs.ClientProduct`},
		{`{"product":{"0":` + one + `,"1":"text"}}`, `string "text" into Go struct field GetClientsProductsResponse.products.product.1 of type whmcs.ClientProduct`},
		{`{"product":{"7":[` + one + `]}}`, `array into Go struct field GetClientsProductsResponse.products.product.7 of type whmcs.ClientProduct`},
		{`{"product":{"7":null}}`, `null into Go struct field GetClientsProductsResponse.products.product.7 of type whmcs.ClientProduct`},
		{`{"0":` + one + `,"1":true}`, `bool into Go struct field GetClientsProductsResponse.products.1 of type whmcs.ClientProduct`},
		{`{"product":"cash"}`, `string "cash" into Go struct field GetClientsProductsResponse.products.product of type []whmcs.ClientProduct`},
		{`42`, `number 42 into Go struct field GetClientsProductsResponse.products of type []whmcs.ClientProduct`},
		{`{"a":[],"b":[]}`, `object with members "a", "b" (a wrapper has one) into Go struct field GetClientsProductsResponse.products of type []whmcs.ClientProduct`},
		{`{"pro duct":["x"]}`, `string "x" into Go struct field GetClientsProductsResponse.products."pro duct".0 of type whmcs.ClientProduct`},
		{`{"product":{"3":` + product(map[string]string{"customfields": `{"customfield":{"0":"Hostname"}}`}) + `}}`,
			`string "Hostname" into Go struct field GetClientsProductsResponse.products.product.3.customfields.customfield.0 of type whmcs.CustomFieldValue`},
		{`{"product":[` + product(map[string]string{"configoptions": `{"configoption":[{"id":"1"},[]]}`}) + `]}`,
			`array into Go struct field GetClientsProductsResponse.products.product.0.configoptions.configoption.1 of type whmcs.ConfigOptionValue`},
		{`{"product":["` + strings.Repeat("é", 50) + `"]}`, `string "` + strings.Repeat("é", 40) + `…" into`},
	} {
		reply := `{"result":"success","totalresults":"2","products":` + tc.products + `}`
		sameDecoding(t, reply, &GetClientsProductsResponse{})
		var resp GetClientsProductsResponse
		err := decodeReply("GetClientsProducts", read, 200, "application/json", []byte(reply), &resp)
		var re *ResponseError
		if !errors.As(err, &re) {
			t.Errorf("products %s: err = %v, want a *ResponseError", tc.products, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("products %s:\nerror %s\nlacks %s", tc.products, err, tc.want)
		}
		if len(resp.Products) != 0 {
			t.Errorf("products %s: decoded %+v along with the error", tc.products, resp.Products)
		}
	}
}

// TestEveryListReadsEveryShape: each list type the client reads takes the
// numeric-keyed shapes, wrapped or not.
func TestEveryListReadsEveryShape(t *testing.T) {
	check := func(name string, got any, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	var addons GetClientsAddonsResponse
	if err := decodeValid([]byte(`{"addons":{"addon":{"12":{"id":"12","name":"SSL"},"3":{"id":"3","name":"Backups"}}}}`), &addons); err != nil {
		t.Fatal(err)
	}
	check("addons", addons.Addons, Wrapped[ClientAddon]{{ID: 3, Name: "Backups"}, {ID: 12, Name: "SSL"}})

	var methods GetPaymentMethodsResponse
	if err := decodeValid([]byte(`{"paymentmethods":{"paymentmethod":{"0":{"module":"paypal"},"1":{"module":"mailin"}}}}`), &methods); err != nil {
		t.Fatal(err)
	}
	check("payment methods", methods.PaymentMethods, Wrapped[PaymentMethod]{{Module: "paypal"}, {Module: "mailin"}})

	var products GetProductsResponse
	if err := decodeValid([]byte(`{"products":{"product":{"0":{"pid":"5",
		"customfields":{"customfield":{"2":{"id":"2","name":"Ref"}}},
		"configoptions":{"configoption":{"0":{"id":"4","name":"Disk","options":{"option":{"9":{"id":"9","name":"GB"},"10":{"id":"10","name":"TB"}}}}}}}}}}`), &products); err != nil {
		t.Fatal(err)
	}
	want := Wrapped[Product]{{PID: 5,
		CustomFields:  Wrapped[ProductCustomField]{{ID: 2, Name: "Ref"}},
		ConfigOptions: Wrapped[ProductConfigOption]{{ID: 4, Name: "Disk", Options: Wrapped[ProductConfigChoice]{{ID: 9, Name: "GB"}, {ID: 10, Name: "TB"}}}},
	}}
	check("products", products.Products, want)

	var services GetClientsProductsResponse
	if err := decodeValid([]byte(`{"products":{"product":[{"id":"1",
		"customfields":{"customfield":{"1":{"id":"1","value":"b"},"0":{"id":"0","value":"a"}}},
		"configoptions":{"3":{"id":"3","option":"RAM"}}}]}}`), &services); err != nil {
		t.Fatal(err)
	}
	check("custom fields", services.Products[0].CustomFields, Wrapped[CustomFieldValue]{{Value: "a"}, {ID: 1, Value: "b"}})
	check("config options", services.Products[0].ConfigOptions, Wrapped[ConfigOptionValue]{{ID: 3, Option: "RAM"}})

	var l List[CustomFieldValue]
	if err := l.UnmarshalJSON([]byte(`{"1":{"id":"5"},"0":{"id":"4"}}`)); err != nil {
		t.Fatal(err)
	}
	check("List", l, List[CustomFieldValue]{{ID: 4}, {ID: 5}})
}

// rekey rewrites every list of records in a decoded reply (an array of
// objects under a wrapper) as an object of records keyed by key(i, item).
func rekey(v any, key func(i int, item map[string]any) string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, item := range v {
			out[k] = rekey(item, key)
		}
		return out
	case []any:
		if len(v) == 0 {
			return v
		}
		out := map[string]any{}
		for i, item := range v {
			obj, ok := item.(map[string]any)
			if !ok {
				return v
			}
			out[key(i, obj)] = rekey(obj, key)
		}
		return out
	}
	return v
}

// TestKeyedListsDecodeAsArrays: the same reply with its lists as arrays, as
// objects keyed by index and as objects keyed by id decodes to the same
// services, in the same order (ids 1 to 30: "10" comes after "9").
func TestKeyedListsDecodeAsArrays(t *testing.T) {
	for _, raw := range [][]byte{[]byte(docsGetClientsProducts), benchProductsReply(t, 30)} {
		var want GetClientsProductsResponse
		if err := decodeValid(raw, &want); err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for name, key := range map[string]func(int, map[string]any) string{
			"index": func(i int, _ map[string]any) string { return fmt.Sprint(i) },
			"id":    func(_ int, item map[string]any) string { return fmt.Sprint(item["id"]) },
		} {
			keyed, err := json.Marshal(rekey(doc, key)) // encoding/json sorts keys as text: "10" before "9"
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(keyed), `"product":{"`) {
				t.Fatalf("keyed by %s: %.200s", name, keyed)
			}
			var got GetClientsProductsResponse
			if err := decodeReply("GetClientsProducts", read, 200, "application/json", keyed, &got); err != nil {
				t.Fatalf("keyed by %s: %v", name, err)
			}
			sameDecoding(t, string(keyed), &GetClientsProductsResponse{})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("keyed by %s: got %+v\nwant %+v", name, got, want)
			}
		}
	}
}

// The rule that tells one record from an object of records, on its own.
func TestOneRecordOrAnObjectOfRecords(t *testing.T) {
	for obj, keyed := range map[string]bool{
		`{"0":{}}`:                        true,
		`{"7":{"id":"7"},"9":{"id":"9"}}`: true,
		`{"-1":{},"007":{}}`:              true,
		`{"0":"text"}`:                    true, // an object of records, one of which is not: an error
		`{"\u0031":{}}`:                   true, // "1"
		`{"id":"7","name":"x"}`:           false,
		`{"0":{},"id":"7"}`:               false,
		`{"1.5":{}}`:                      false,
		`{"":{}}`:                         false,
		`{"-":{}}`:                        false,
		`{"+1":{}}`:                       false,
		`{" 1":{}}`:                       false,
		`{"１":{}}`:                        false, // a full-width digit
	} {
		got, err := isObjectOfRecords([]byte(obj))
		if err != nil || got != keyed {
			t.Errorf("isObjectOfRecords(%s) = %v, %v; want %v", obj, got, err, keyed)
		}
	}
}

func TestIndexKeyOrder(t *testing.T) {
	keys := []string{"10", "9", "-2", "0", "07", "7", "-10", "100", "-0", "00"}
	slices.SortFunc(keys, compareIndexKeys)
	want := []string{"-10", "-2", "-0", "0", "00", "07", "7", "9", "10", "100"}
	if !slices.Equal(keys, want) {
		t.Errorf("sorted %v, want %v", keys, want)
	}
}
