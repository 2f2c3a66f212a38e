package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The conformance check holds the sandbox's replies to WHMCS's API
// reference: for each action, the reply to the reference example's request
// has the keys and JSON types of the example's reply.
//
// The example replies are read from whmcs/testdata/reference/<Action>.json,
// the fixtures the client's tests decode too.

// sharedReference is the project's directory of reference example replies.
const sharedReference = "../testdata/reference"

// exampleRequests are, for each action the sandbox serves, the reference
// example's request, then requests that fill lists the example's request
// leaves empty in the sandbox's data, so that every key of the example is
// compared at least once.
var exampleRequests = map[string][]url.Values{
	"GetClientsProducts": {{"clientid": {"1"}}},
	// Product 1 has no custom fields or configurable options; product 5 has both.
	"GetProducts":       {{"pid": {"1"}}, {"pid": {"5"}}},
	"GetClientsAddons":  {{"clientid": {"1"}}},
	"GetPaymentMethods": {{}},
	"UpdateClientProduct": {{"serviceid": {"1"}, "status": {"Terminated"},
		"customfields": {base64.StdEncoding.EncodeToString([]byte(`a:1:{s:1:"1";s:5:"Yahoo";}`))}}},
	"UpdateClientAddon": {{"id": {"1"}, "status": {"Terminated"}}},
	// Then the sandbox's reproduction of the example (service 3 to product 2).
	"UpgradeProduct": {
		{"serviceid": {"1"}, "paymentmethod": {"paypal"}, "newproductbillingcycle": {"monthly"}, "type": {"product"}, "newproductid": {"11"}},
		{"serviceid": {"3"}, "paymentmethod": {"paypal"}, "newproductbillingcycle": {"monthly"}, "type": {"product"}, "newproductid": {"2"}},
	},
	"AddInvoicePayment": {{"invoiceid": {"1"}, "transid": {"D28DJIDJW393JDWQKQI332"}, "gateway": {"mailin"},
		"date": {"2016-01-01 12:33:12"}}},
}

func TestConformanceWithTheReferenceExamples(t *testing.T) {
	for _, action := range referenceActions(t) {
		t.Run(action, func(t *testing.T) {
			requests, ok := exampleRequests[action]
			if !ok {
				if _, served := actions[strings.ToLower(action)]; served {
					t.Fatalf("no example request for %s: add the reference example's request to exampleRequests", action)
				}
				t.Skipf("the sandbox does not serve %s", action)
			}
			want := decodeJSON(t, referenceExample(t, action))
			paths := map[string]bool{}
			shapePaths(want, "", paths)
			h := newHarness(t, Options{})
			for _, req := range requests {
				var kv []string
				for k, vs := range req {
					kv = append(kv, k, vs[0])
				}
				r := h.with(t).ok(action, kv...)
				compareShapes(t, fmt.Sprint(req), "", want, decodeJSON(t, r.raw), paths)
			}
			var missed []string
			for p, seen := range paths {
				if !seen {
					missed = append(missed, p)
				}
			}
			if len(missed) > 0 {
				sort.Strings(missed)
				t.Errorf("no request filled %v: add one to exampleRequests", missed)
			}
		})
	}
}

// referenceActions lists the actions with an example reply.
func referenceActions(t *testing.T) []string {
	t.Helper()
	var out []string
	files, err := filepath.Glob(filepath.Join(sharedReference, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if a := strings.TrimSuffix(filepath.Base(f), ".json"); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("no reference examples")
	}
	return out
}

// referenceExample returns the example reply of action's reference page
// (whmcs/testdata/reference, shared with the client's tests). A fixture that
// wraps the reply in an object of its own (with the request, say) is
// unwrapped to the member that is a WHMCS reply.
func referenceExample(t *testing.T, action string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedReference, action+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatalf("%s's example: %v", action, err)
	}
	if _, ok := top["result"]; ok {
		return data
	}
	for _, v := range top {
		var inner map[string]json.RawMessage
		if json.Unmarshal(v, &inner) == nil && inner["result"] != nil {
			return v
		}
	}
	t.Fatalf("%s's example has no WHMCS reply (an object with a result)", action)
	return nil
}

// decodeJSON decodes a reply, turning the flattened keys some reference
// examples are written with ("addons[addon][0][id]", how the page renders a
// PHP array) into the nested objects and arrays they stand for.
func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if m, ok := v.(map[string]any); ok {
		return unflatten(t, m)
	}
	return v
}

// unflatten nests m's keys of the form a[b][0][c].
func unflatten(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, v := range m {
		name, rest, nested := strings.Cut(k, "[")
		if !nested {
			out[k] = v
			continue
		}
		path := append([]string{name}, strings.Split(strings.TrimSuffix(rest, "]"), "][")...)
		var node any = out
		for i, seg := range path {
			last := i == len(path)-1
			switch n := node.(type) {
			case map[string]any:
				if last {
					n[seg] = v
				} else if n[seg] == nil {
					n[seg] = container(path[i+1])
				}
				node = n[seg]
			case *[]any:
				idx, err := strconv.Atoi(seg)
				if err != nil {
					t.Fatalf("flattened key %q: %q is not an index", k, seg)
				}
				for len(*n) <= idx {
					*n = append(*n, nil)
				}
				if last {
					(*n)[idx] = v
				} else if (*n)[idx] == nil {
					(*n)[idx] = container(path[i+1])
				}
				node = (*n)[idx]
			}
		}
	}
	return derefLists(out).(map[string]any)
}

// container is the value a flattened key's segment opens: a list for an
// index, an object otherwise.
func container(next string) any {
	if _, err := strconv.Atoi(next); err == nil {
		return &[]any{}
	}
	return map[string]any{}
}

// derefLists replaces unflatten's list pointers by the lists.
func derefLists(v any) any {
	switch x := v.(type) {
	case *[]any:
		return derefLists(*x)
	case []any:
		for i := range x {
			x[i] = derefLists(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = derefLists(x[k])
		}
	}
	return v
}

// jsonType names a decoded JSON value's type.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// shapePaths records the paths of every value of v (array elements as []),
// not yet seen.
func shapePaths(v any, path string, paths map[string]bool) {
	paths[path] = false
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			shapePaths(e, path+"[]", paths)
		}
	case map[string]any:
		for k, e := range x {
			shapePaths(e, path+"."+k, paths)
		}
	}
}

// compareShapes reports where got's keys and JSON types differ from want's,
// and marks the paths of want it compared. Each element of a list is
// compared with the example's element of the same index, or its last.
func compareShapes(t *testing.T, req, path string, want, got any, paths map[string]bool) {
	t.Helper()
	paths[path] = true
	if jsonType(want) != jsonType(got) {
		t.Errorf("%s: %s is %s (%v), the example's is %s (%v)", req, orTop(path), jsonType(got), got, jsonType(want), want)
		return
	}
	switch w := want.(type) {
	case []any:
		g := got.([]any)
		for i := range g {
			if len(w) > 0 {
				compareShapes(t, req, path+"[]", w[min(i, len(w)-1)], g[i], paths)
			}
		}
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				compareShapes(t, req, path+"."+k, wv, gv, paths)
			} else {
				t.Errorf("%s: %s has no %q, the example has", req, orTop(path), k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("%s: %s has %q, the example has not", req, orTop(path), k)
			}
		}
	}
}

// orTop names the top level of a reply.
func orTop(path string) string {
	if path == "" {
		return "the reply"
	}
	return path
}
