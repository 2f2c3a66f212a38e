package whmcs

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// referenceDir holds the API reference's example replies (see its README.md).
const referenceDir = "testdata/reference"

// referenceCalls calls, for each action of referenceDir, the client's method
// with the example request of the action's reference page, and returns the
// decoded reply (nil for an action whose method returns none). kind is the
// fixture's kind ("calconly" for UpgradeProduct.calconly.json).
var referenceCalls = map[string]func(c *Client, t *testing.T, kind string) (any, error){
	"GetClientsProducts": func(c *Client, t *testing.T, _ string) (any, error) {
		return c.GetClientsProducts(ctx(t), GetClientsProductsRequest{ClientID: ptr(1)})
	},
	"GetProducts": func(c *Client, t *testing.T, _ string) (any, error) {
		return c.GetProducts(ctx(t), GetProductsRequest{PID: ptr(1)})
	},
	"GetClientsAddons": func(c *Client, t *testing.T, _ string) (any, error) {
		return c.GetClientsAddons(ctx(t), GetClientsAddonsRequest{ClientID: ptr(1)})
	},
	"GetPaymentMethods": func(c *Client, t *testing.T, _ string) (any, error) {
		return c.GetPaymentMethods(ctx(t))
	},
	"UpdateClientProduct": func(c *Client, t *testing.T, _ string) (any, error) {
		return c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1, Status: ptr("Terminated")})
	},
	"UpdateClientAddon": func(c *Client, t *testing.T, _ string) (any, error) {
		return c.UpdateClientAddon(ctx(t), UpdateClientAddonRequest{ID: 1, Status: ptr("Terminated")})
	},
	"UpgradeProduct": func(c *Client, t *testing.T, kind string) (any, error) {
		return c.UpgradeProduct(ctx(t), UpgradeProductRequest{ServiceID: 1, CalcOnly: kind == "calconly", PaymentMethod: "paypal",
			Type: "product", NewProductID: ptr(11), NewProductBillingCycle: ptr("monthly")})
	},
	"AddInvoicePayment": func(c *Client, t *testing.T, _ string) (any, error) {
		return nil, c.AddInvoicePayment(ctx(t), AddInvoicePaymentRequest{InvoiceID: 1, TransID: "D28DJIDJW393JDWQKQI332",
			Gateway: "mailin", Date: "2016-01-01 12:33:12"})
	},
}

// referenceUnmapped lists, by fixture, the members of the examples that the
// client's reply types leave out on purpose, by path ("[]" for every record
// of a list, whose wrapper the path leaves out). A member a reply type stops
// mapping, or a new one in an example, fails TestReferenceReplies until it is
// mapped or listed here.
var referenceUnmapped = map[string][]string{
	// The filters, echoed back.
	"GetClientsProducts": {"clientid", "serviceid", "pid", "domain"},
	// Order-form details; the tools read products for upgrades.
	"GetProducts": {
		"products[].slug", "products[].product-url", "products[].allowqty", "products[].quantity_available",
		"products[].configoptions[].minqty", "products[].configoptions[].maxqty",
		"products[].configoptions[].options[].rawName", "products[].configoptions[].options[].recurring",
		"products[].configoptions[].options[].required",
	},
	// The filters, echoed back; qty (WHMCS 8.12) and the gateway's display
	// name are not in ClientAddon.
	"GetClientsAddons": {"serviceid", "clientid", "addons[].qty", "addons[].paymentmethodname"},
}

// The conformance suite's client half: the client decodes every example
// reply of the API reference without an error and without losing a member
// its reply type maps. Loss is judged on the reply encoded again, as the
// tools encode it: each mapped member must come back with the same meaning
// (numbers as numbers, WHMCS's "none" values such as "", "0", "0.00" and
// 0000-00-00 as absent, a list as an array of its records).
func TestReferenceReplies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(referenceDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		action, kind, _ := strings.Cut(name, ".")
		seen[action] = true
		t.Run(name, func(t *testing.T) {
			call, ok := referenceCalls[action]
			if !ok {
				t.Fatalf("%s: no client method for action %s", file, action)
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, rec := fakeWHMCS(t, string(raw))
			out, err := call(c, t, kind)
			if err != nil {
				t.Fatalf("%s: %v", action, err)
			}
			if got := rec.only(t).Get("action"); got != action {
				t.Errorf("the client sent action %q, want %q", got, action)
			}
			fixture := decodeGeneric(t, raw)
			var unmapped []string
			if out != nil {
				encoded, err := json.Marshal(out)
				if err != nil {
					t.Fatal(err)
				}
				cmpMapped(t, "", reflect.TypeOf(out).Elem(), fixture, decodeGeneric(t, encoded), &unmapped)
			}
			for key := range fixture.(map[string]any) {
				if out == nil && key != "result" {
					unmapped = append(unmapped, key)
				}
			}
			for _, path := range unmapped {
				if !slices.Contains(referenceUnmapped[name], path) && !slices.Contains(referenceUnmapped[action], path) {
					t.Errorf("%s: %s is not mapped by the reply type: map it, or list it in referenceUnmapped", file, path)
				}
			}
			// The evidence for List's rule: no record has a member named by a
			// decimal integer, so such members can only key a list.
			eachObject(fixture, func(obj map[string]any) {
				for key := range obj {
					if isIndexKey(key) {
						t.Errorf("%s: member %q is a decimal integer", file, key)
					}
				}
			})
		})
	}
	for action := range referenceCalls {
		if !seen[action] {
			t.Errorf("no example reply of %s in %s", action, referenceDir)
		}
	}
}

// The GetClientsAddons fixture is the reference's example, nested: flattened
// the way the page prints it, it is that example, member for member.
func TestReferenceGetClientsAddonsIsThePagesExample(t *testing.T) {
	page, err := os.ReadFile(filepath.Join(referenceDir, "GetClientsAddons.flattened.txt"))
	if err != nil {
		t.Fatal(err)
	}
	fixture, err := os.ReadFile(filepath.Join(referenceDir, "GetClientsAddons.json"))
	if err != nil {
		t.Fatal(err)
	}
	var flat []string
	var flatten func(prefix string, v any)
	flatten = func(prefix string, v any) {
		switch v := v.(type) {
		case orderedObject:
			for _, m := range v {
				key := m.key
				if prefix != "" {
					key = prefix + "[" + m.key + "]"
				}
				flatten(key, m.value)
			}
		case []any:
			for i, item := range v {
				flatten(prefix+"["+strconv.Itoa(i)+"]", item)
			}
		default:
			b, _ := json.Marshal(v)
			flat = append(flat, strconv.Quote(prefix)+": "+string(b))
		}
	}
	flatten("", decodeOrdered(t, fixture))
	var want []string
	for _, m := range decodeOrdered(t, page).(orderedObject) {
		b, _ := json.Marshal(m.value)
		want = append(want, strconv.Quote(m.key)+": "+string(b))
	}
	if !slices.Equal(flat, want) {
		t.Errorf("flattened, the fixture is\n%s\nthe page's example\n%s", strings.Join(flat, "\n"), strings.Join(want, "\n"))
	}
}

// decodeGeneric decodes JSON into maps, slices, strings, json.Numbers,
// bools and nils.
func decodeGeneric(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// orderedObject is a JSON object with its members in order.
type orderedObject []member

type member struct {
	key   string
	value any
}

// decodeOrdered decodes JSON as decodeGeneric does, objects as orderedObject.
func decodeOrdered(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var value func() any
	value = func() any {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch tok {
		case json.Delim('{'):
			var obj orderedObject
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					t.Fatal(err)
				}
				obj = append(obj, member{key.(string), value()})
			}
			dec.Token()
			return obj
		case json.Delim('['):
			list := []any{}
			for dec.More() {
				list = append(list, value())
			}
			dec.Token()
			return list
		}
		return tok
	}
	return value()
}

// eachObject calls fn with every object in v.
func eachObject(v any, fn func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		fn(v)
		for _, item := range v {
			eachObject(item, fn)
		}
	case []any:
		for _, item := range v {
			eachObject(item, fn)
		}
	}
}

var (
	wrappedPrefix = reflect.TypeFor[Wrapped[int]]().PkgPath() + ".Wrapped["
	listPrefix    = reflect.TypeFor[List[int]]().PkgPath() + ".List["
)

// cmpMapped compares want, a member of a WHMCS reply as the reference gives
// it, with got, the same member of the decoded reply encoded again (nil when
// left out), as a value of typ. The members of want that typ does not map
// are added to unmapped, by path.
func cmpMapped(t *testing.T, path string, typ reflect.Type, want, got any, unmapped *[]string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
	}
	full := typ.PkgPath() + "." + typ.Name()
	switch {
	case typ == intType || typ == floatType:
		w, g := numberOf(want), numberOf(got)
		if w == nil || g == nil || *w != *g {
			fail("the reference has %#v, the client gives %#v", want, got)
		}
	case typ == stringType || typ == dateType:
		w, g := textOf(want), textOf(got)
		if typ == dateType && strings.HasPrefix(w, "0000-00-00") {
			w = "" // WHMCS's zero date: none
		}
		if w != g {
			fail("the reference has %#v, the client gives %#v", want, got)
		}
	case typ == boolType:
		w := false
		switch v := want.(type) {
		case bool:
			w = v
		case string:
			w = v == "1" || v == "on" || v == "true" || v == "yes"
		case json.Number:
			w = v.String() != "0"
		}
		if g, _ := got.(bool); w != g {
			fail("the reference has %#v, the client gives %#v", want, got)
		}
	case strings.HasPrefix(full, wrappedPrefix) || strings.HasPrefix(full, listPrefix):
		items := recordsOf(want, strings.HasPrefix(full, wrappedPrefix))
		gotItems, _ := got.([]any)
		if got != nil && gotItems == nil || len(items) != len(gotItems) {
			fail("the reference lists %d records, the client %#v", len(items), got)
			return
		}
		for i, item := range items {
			cmpMapped(t, path+"[]", typ.Elem(), item, gotItems[i], unmapped)
		}
	case typ.Kind() == reflect.Map:
		w, _ := want.(map[string]any)
		g, _ := got.(map[string]any)
		if w == nil || g == nil {
			fail("the reference has %#v, the client gives %#v", want, got)
			return
		}
		for key, value := range w {
			cmpMapped(t, path+"."+key, typ.Elem(), value, g[key], unmapped)
		}
	case typ.Kind() == reflect.Struct:
		w, _ := want.(map[string]any)
		g, _ := got.(map[string]any)
		if w == nil || g == nil {
			fail("the reference has %#v, the client gives %#v", want, got)
			return
		}
		for key, value := range w {
			sub := strings.TrimPrefix(path+"."+key, ".")
			field, ok := fieldByJSONName(typ, key)
			if !ok {
				if path != "" || key != "result" { // the envelope's
					*unmapped = append(*unmapped, sub)
				}
				continue
			}
			cmpMapped(t, sub, field.Type, value, g[key], unmapped)
		}
	default:
		fail("no comparison for %s", typ)
	}
}

// fieldByJSONName returns the field of struct type typ that encoding/json
// writes as name.
func fieldByJSONName(typ reflect.Type, name string) (reflect.StructField, bool) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name || tag == "" && f.Name == name {
			return f, f.IsExported()
		}
	}
	return reflect.StructField{}, false
}

// recordsOf returns the records of a list as the reference gives it: an
// array, one record, nothing ("", {}, [], null), or any of these inside a
// wrapper object with one member.
func recordsOf(v any, wrapped bool) []any {
	switch v := v.(type) {
	case []any:
		return v
	case map[string]any:
		if len(v) == 0 {
			return nil
		}
		if wrapped && len(v) == 1 {
			for _, inner := range v {
				return recordsOf(inner, false)
			}
		}
		return []any{v}
	}
	return nil
}

// numberOf returns the value of a number or of a string holding one, 0 for
// nothing ("", null, absent), and nil for anything else.
func numberOf(v any) *float64 {
	var text string
	switch v := v.(type) {
	case nil:
		text = "0"
	case json.Number:
		text = v.String()
	case string:
		text = cmp.Or(v, "0")
	default:
		return nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil
	}
	return &f
}

// textOf returns the text of a string or a number, "" for null or absent.
func textOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	}
	return fmt.Sprintf("%#v", v)
}
