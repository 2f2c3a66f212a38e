package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/whmcs-mcp/whmcs-mcp/internal/fixture"
	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/schemas"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// fixtureDeps serves a sandbox with the bench's figure-6 data
// (internal/fixture): client fixture.Client with n services, each with
// custom field values and configurable options.
func fixtureDeps(t *testing.T, n int) (*Deps, string) {
	t.Helper()
	sb, base := sandboxtest.Serve(t, sandbox.Options{Now: sandbox.FixedClock(fixture.Now)})
	if err := fixture.Services(context.Background(), sb, n); err != nil {
		t.Fatal(err)
	}
	return &Deps{WHMCS: sandboxtest.Client(t, base), Gate: NoConfirmation{}}, base
}

// TestFigure6PageIsSmallAndEveryFieldReachable is issue 15's test: the
// bench's 25-service page (figure 6) is at most 6,000 bytes of text by
// default, and every field of WHMCS's reply for the same request comes back
// through fields, compared field by field with the raw reply.
func TestFigure6PageIsSmallAndEveryFieldReachable(t *testing.T) {
	deps, base := fixtureDeps(t, 25)
	tool := GetClientsProducts(deps)
	page := fmt.Sprintf(`"clientid": %d, "limitnum": 25`, fixture.Client)
	raw := rawWHMCS(t, base, url.Values{"action": {"GetClientsProducts"}, "clientid": {fmt.Sprint(fixture.Client)}, "limitnum": {"25"}})

	def := callHandler(t, tool, "{"+page+"}")
	if def.IsError {
		t.Fatal(resultText(def))
	}
	text := resultText(def)
	const budget = 6000
	if len(text) > budget {
		t.Errorf("the 25-service page is %d bytes of text by default, want at most %d", len(text), budget)
	}
	all := callHandler(t, tool, "{"+page+`, "fields": ["*"]}`)
	if all.IsError {
		t.Fatal(resultText(all))
	}
	t.Logf("25-service page: WHMCS's reply %d bytes, default %d bytes, all fields %d bytes", len(raw), len(text), len(resultText(all)))

	var result ClientsProductsResult
	if err := json.Unmarshal([]byte(text), &result); err != nil {
		t.Fatal(err)
	}
	if result.Returned != 25 {
		t.Fatalf("the page returned %d services, want 25", result.Returned)
	}
	for _, want := range []string{"customfields", "configoptions", "server", "password"} {
		if !slices.Contains(result.Omitted, want) {
			t.Errorf("omitted %v does not name %s, which the services hold", result.Omitted, want)
		}
	}
	if !strings.Contains(result.More, `"fields"`) || !strings.Contains(result.More, `["*"]`) {
		t.Errorf("more does not say how to get the fields left out: %q", result.More)
	}
	// What the default set answers: which services, status, product,
	// cost, when due; and whose.
	reply := replyServices(t, raw)
	var services []map[string]any
	pageOf(t, text, &services)
	for i, s := range services {
		w := reply[i]
		for _, field := range []string{"id", "clientid", "name", "domain", "status", "billingcycle", "recurringamount", "nextduedate"} {
			if !carriesNothing(field, w[field], w) && !sameValue(w[field], s[field]) {
				t.Errorf("service %v: %s is %v in WHMCS's reply, %v by default", s["id"], field, w[field], s[field])
			}
		}
	}

	// ["*"] returns everything WHMCS sent.
	compareWithReply(t, raw, resultText(all))
	// And so does naming each field: every name in omitted, with the
	// default set, is the whole record.
	named, _ := json.Marshal(append(slices.Clone(tool.Fields.Default), result.Omitted...))
	byName := callHandler(t, tool, "{"+page+`, "fields": `+string(named)+"}")
	if resultText(byName) != resultText(all) {
		t.Errorf("the default fields and the omitted ones, named, differ from [\"*\"]:\n%s\nwant\n%s", resultText(byName), resultText(all))
	}
}

// pageOf decodes a list result's records (its one array member).
func pageOf(t *testing.T, text string, records *[]map[string]any) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"products", "addons"} {
		if list, ok := m[key]; ok {
			if err := json.Unmarshal(list, records); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no records in %s", text)
}

// compareWithReply checks a get_clients_products result against WHMCS's raw
// reply to the same request, field by field: every field that carries
// information is in the result with the same value, the password
// redacted.
func compareWithReply(t *testing.T, raw []byte, text string) {
	t.Helper()
	reply := replyServices(t, raw)
	var compact struct {
		Products []map[string]any `json:"products"`
	}
	if err := json.Unmarshal([]byte(text), &compact); err != nil {
		t.Fatal(err)
	}
	if len(compact.Products) != len(reply) {
		t.Fatalf("%d services in the result, %d in WHMCS's reply", len(compact.Products), len(reply))
	}
	for i, whmcsProduct := range reply {
		got := compact.Products[i]
		for field, value := range whmcsProduct {
			switch {
			case field == "password":
				want := any("[redacted]")
				if value == "" {
					want = nil
				}
				if got[field] != want {
					t.Errorf("service %d: password is %v, want %v", i+1, got[field], want)
				}
				continue
			case strings.HasPrefix(field, "server"):
				server, _ := got["server"].(map[string]any)
				name := map[string]string{"serverid": "id", "servername": "name", "serverip": "ip", "serverhostname": "hostname"}[field]
				if carriesNothing(field, value, whmcsProduct) {
					if _, kept := server[name]; kept {
						t.Errorf("service %d: %s=%v carries nothing, yet is kept", i+1, field, value)
					}
				} else if !sameValue(value, server[name]) {
					t.Errorf("service %d: %s is %v in WHMCS's reply, server.%s %v in the result", i+1, field, value, name, server[name])
				}
			case field == "qty" && value == "1", field == "firstpaymentamount" && value == whmcsProduct["recurringamount"]:
				if _, kept := got[field]; kept {
					t.Errorf("service %d: %s=%v only repeats a default or another field, yet is kept", i+1, field, value)
				}
			case carriesNothing(field, value, whmcsProduct):
				if _, kept := got[field]; kept {
					t.Errorf("service %d: %s=%v carries nothing, yet is kept", i+1, field, value)
				}
			case field == "customfields" || field == "configoptions":
				compareList(t, fmt.Sprintf("service %d: %s", i+1, field), value, got[field])
			default:
				if !sameValue(value, got[field]) {
					t.Errorf("service %d: %s is %v in WHMCS's reply, %v in the result", i+1, field, value, got[field])
				}
			}
		}
	}
	if strings.Contains(text, "xxxxxxxx") {
		t.Error("the service password reached the result")
	}
}

// replyServices decodes the services of WHMCS's raw GetClientsProducts
// reply, as WHMCS sends them.
func replyServices(t *testing.T, raw []byte) []map[string]any {
	t.Helper()
	var reply struct {
		Products struct {
			Product []map[string]any `json:"product"`
		} `json:"products"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		t.Fatal(err)
	}
	return reply.Products.Product
}

// compareList compares WHMCS's {"customfield": [...]} (or configoption) with
// the result's array, entry by entry and member by member.
func compareList(t *testing.T, what string, whmcsValue, resultValue any) {
	t.Helper()
	var entries []any
	for _, list := range whmcsValue.(map[string]any) {
		entries, _ = list.([]any)
	}
	got, _ := resultValue.([]any)
	if len(got) != len(entries) {
		t.Errorf("%s: %d entries in WHMCS's reply, %d in the result", what, len(entries), len(got))
		return
	}
	for j, e := range entries {
		want, _ := e.(map[string]any)
		have, _ := got[j].(map[string]any)
		for k, v := range want {
			if carriesNothing(k, v, want) {
				continue
			}
			if !sameValue(v, have[k]) {
				t.Errorf("%s[%d].%s is %v in WHMCS's reply, %v in the result", what, j, k, v, have[k])
			}
		}
	}
}

// listTools are the tools of All that declare Fields, with deps.
func listTools(deps *Deps) []Tool {
	var out []Tool
	for _, tool := range All(deps) {
		if tool.Fields != nil {
			out = append(out, tool)
		}
	}
	return out
}

// records decodes a list result: its records and what it says it left out.
func records(t *testing.T, text string) ([]map[string]any, LeftOut) {
	t.Helper()
	var recs []map[string]any
	pageOf(t, text, &recs)
	var lo LeftOut
	if err := json.Unmarshal([]byte(text), &lo); err != nil {
		t.Fatal(err)
	}
	return recs, lo
}

// TestNothingIsUnreachable: for every list tool, the default records are
// the whole records cut to the default fields, omitted names exactly the
// fields cut that any record holds, and the output schema validates both.
func TestNothingIsUnreachable(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	tools := listTools(deps)
	if len(tools) < 3 {
		t.Fatalf("list tools with Fields: %d, want get_clients_products, get_products and get_clients_addons at least", len(tools))
	}
	for _, tool := range tools {
		t.Run(tool.Name, func(t *testing.T) {
			out := outputSchema(t, tool.Name)
			def := callHandler(t, tool, `{}`)
			all := callHandler(t, tool, `{"fields": ["*"]}`)
			if def.IsError || all.IsError {
				t.Fatalf("%s\n%s", resultText(def), resultText(all))
			}
			validate(t, out, resultText(def))
			validate(t, out, resultText(all))
			cut, lo := records(t, resultText(def))
			whole, loAll := records(t, resultText(all))
			if loAll.Omitted != nil || loAll.More != "" {
				t.Errorf(`["*"] left out %v (%q)`, loAll.Omitted, loAll.More)
			}
			if len(cut) != len(whole) || len(cut) == 0 {
				t.Fatalf("%d records by default, %d with every field", len(cut), len(whole))
			}
			held := map[string]bool{}
			for i := range whole {
				for field, v := range whole[i] {
					if slices.Contains(tool.Fields.Default, field) {
						if !jsonEqual(cut[i][field], v) {
							t.Errorf("record %d: %s is %v by default, %v with every field", i, field, cut[i][field], v)
						}
						continue
					}
					held[field] = true
					if _, ok := cut[i][field]; ok {
						t.Errorf("record %d: %s is not a default field, yet is there", i, field)
					}
				}
				for field := range cut[i] {
					if _, ok := whole[i][field]; !ok {
						t.Errorf("record %d: %s is there by default only", i, field)
					}
				}
			}
			var want []string
			for _, name := range fieldNames(t, tool) {
				if held[name] {
					want = append(want, name)
				}
			}
			if !slices.Equal(lo.Omitted, want) {
				t.Errorf("omitted is %v, want %v", lo.Omitted, want)
			}
			if len(want) > 0 && (!strings.Contains(lo.More, `"fields"`) || !strings.Contains(lo.More, `["*"]`)) {
				t.Errorf("more does not say how to get what was left out: %q", lo.More)
			}
			if len(resultText(def)) >= len(resultText(all)) {
				t.Errorf("the default is %d bytes, every field %d", len(resultText(def)), len(resultText(all)))
			}
			t.Logf("default %d bytes, every field %d bytes; omitted %v", len(resultText(def)), len(resultText(all)), lo.Omitted)
		})
	}
}

// fieldNames returns the names the tool's fields argument takes, "*" aside,
// from its input schema.
func fieldNames(t *testing.T, tool Tool) []string {
	t.Helper()
	def, err := tool.Definition()
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties struct {
			Fields struct {
				Items struct {
					Enum []string `json:"enum"`
				} `json:"items"`
			} `json:"fields"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(def.RawInputSchema, &schema); err != nil {
		t.Fatal(err)
	}
	enum := schema.Properties.Fields.Items.Enum
	if len(enum) < 2 || enum[0] != "*" {
		t.Fatalf("%s: the fields argument's enum is %v, want \"*\" and the field names", tool.Name, enum)
	}
	return enum[1:]
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// outputSchema compiles a tool's output schema.
func outputSchema(t *testing.T, tool string) *jsonschema.Schema {
	t.Helper()
	raw, err := schemas.Output(tool)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///out.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///out.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, schema *jsonschema.Schema, text string) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Errorf("the result does not match the output schema: %v\n%s", err, text)
	}
}

// TestFieldsSelects: fields returns the fields named, with the record's id
// and client, and nothing else; "*" everything; a single service
// everything unless fields says otherwise; an empty list the default.
func TestFieldsSelects(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	tool := GetClientsProducts(deps)
	keys := func(args string) []string {
		t.Helper()
		res := callHandler(t, tool, args)
		if res.IsError {
			t.Fatalf("%s: %s", args, resultText(res))
		}
		recs, _ := records(t, resultText(res))
		seen := map[string]bool{}
		for _, r := range recs {
			for k := range r {
				seen[k] = true
			}
		}
		return slices.Sorted(maps.Keys(seen))
	}
	if got := keys(`{"clientid": 1, "fields": ["status", "domain"]}`); !slices.Equal(got, []string{"clientid", "domain", "id", "status"}) {
		t.Errorf(`fields ["status", "domain"]: records hold %v`, got)
	}
	if got := keys(`{"clientid": 1, "fields": ["status", "*"]}`); !slices.Contains(got, "configoptions") || !slices.Contains(got, "server") {
		t.Errorf(`fields with "*": records hold %v`, got)
	}
	if got, want := keys(`{"clientid": 1, "fields": []}`), keys(`{"clientid": 1}`); !slices.Equal(got, want) {
		t.Errorf("fields []: records hold %v, the default %v", got, want)
	}

	one := resultText(callHandler(t, tool, `{"serviceid": 3}`))
	if one != resultText(callHandler(t, tool, `{"serviceid": 3, "fields": ["*"]}`)) || !strings.Contains(one, `"customfields"`) {
		t.Errorf("serviceid alone does not return every field: %s", one)
	}
	if got := keys(`{"serviceid": 3, "fields": ["notes"]}`); !slices.Equal(got, []string{"clientid", "id"}) {
		t.Errorf(`serviceid with fields ["notes"] (service 3 has none): records hold %v`, got)
	}

	// The password is redacted whatever selects it.
	for _, args := range []string{`{"clientid": 1, "fields": ["password"]}`, `{"clientid": 1, "fields": ["*"]}`, `{"serviceid": 1}`} {
		text := resultText(callHandler(t, tool, args))
		if !strings.Contains(text, `"password":"[redacted]"`) || strings.Contains(text, "xxxxxxxx") {
			t.Errorf("%s: the password is not redacted: %s", args, text)
		}
	}
}

// TestUnknownFieldsAreNamed: a name that is no field is refused with an
// error that lists the valid names, whether the input schema or the shared
// path finds it.
func TestUnknownFieldsAreNamed(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	for _, tool := range listTools(deps) {
		res := callHandler(t, tool, `{"fields": ["colour", "*", "size"]}`)
		text := resultText(res)
		names := fieldNames(t, tool)
		if !res.IsError || !strings.Contains(text, `argument "fields": "colour", "size" name no field`) ||
			!strings.Contains(text, `"*" for every field`) || !strings.Contains(text, fmt.Sprintf("%q, %q", names[0], names[1])) {
			t.Errorf("%s: %s", tool.Name, text)
		}
	}
	// The shared path's own check, for a schema that would let one through.
	tool := GetClientsProducts(nil)
	f := compileFields(tool.Spec, reflect.TypeFor[ClientsProductsArgs]())
	_, err := f.selection(&ClientsProductsArgs{FieldsArg: FieldsArg{Fields: []string{"status", "colour"}}})
	if err == nil || !strings.Contains(err.Error(), `argument "fields": "colour" names no field of get_clients_products; valid: "*" for every field, or any of "id", "qty"`) {
		t.Errorf("selection: %v", err)
	}
}

// TestFieldsKeepTheScope: whatever fields selects, a record keeps the client
// it belongs to, which the shared path checks for a scoped caller.
func TestFieldsKeepTheScope(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	deps.Gate = &scopedGate{clients: []int{2}}
	for _, c := range []struct {
		tool Tool
		args string
	}{
		{GetClientsProducts(deps), `{"fields": ["domain"]}`},
		{GetClientsAddons(deps), `{"fields": ["name"]}`},
	} {
		tool, args := c.tool, c.args
		recs, _ := records(t, resultText(callHandler(t, tool, args)))
		if len(recs) == 0 {
			t.Fatalf("%s: client 2 has no records", tool.Name)
		}
		for _, r := range recs {
			owner := r["clientid"]
			if owner == nil {
				owner = r["userid"]
			}
			if owner != float64(2) {
				t.Errorf("%s %s: record %v does not say it is client 2's", tool.Name, args, r)
			}
		}
	}
}

// TestListToolsDeclareFields: a list tool's Fields fits its types (the
// declaration is compiled when the handler is made) and keeps by default
// what a model asks most: here, for the services, which, whose, what
// status, what product, what it costs, when it is due.
func TestListToolsDeclareFields(t *testing.T) {
	for _, tool := range listTools(nil) {
		if !slices.Contains(tool.Fields.Default, tool.Fields.Always[0]) {
			t.Errorf("%s: Always %v is not in Default", tool.Name, tool.Fields.Always)
		}
		for _, arg := range tool.Fields.Whole {
			if !argNames(tool.Args)[arg] {
				t.Errorf("%s: Whole names %q, which is not an argument", tool.Name, arg)
			}
		}
	}
	services := GetClientsProducts(nil).Fields.Default
	for _, field := range []string{"id", "clientid", "name", "domain", "status", "billingcycle", "recurringamount", "nextduedate"} {
		if !slices.Contains(services, field) {
			t.Errorf("get_clients_products: the default leaves out %s", field)
		}
	}
}
