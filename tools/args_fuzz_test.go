package tools

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeArgs feeds arbitrary JSON to a tool's argument decoding (schema
// validation, then strict decoding), the tool chosen by name, so that saved
// inputs keep their tool when tools are added. It must never panic; an error
// must say something; and arguments it accepts must be accepted again, to the
// same encoding, once re-encoded (what the policy digests and the audit log
// records is that encoding).
func FuzzDecodeArgs(f *testing.F) {
	specs := map[string]Spec{}
	for _, t := range All(nil) {
		specs[t.Name] = t.Spec
		for _, s := range []string{`{}`, `[1]`, `null`, `"x"`, `{"serviceid": "2"}`, `{"serviceid": 2.5}`, `{"serviceid": 1e30}`} {
			f.Add(t.Name, []byte(s))
		}
	}
	for _, c := range []struct{ tool, args string }{
		{"get_clients_products", `{"clientid": 1}`},
		{"get_clients_products", `{"limitstart": 0, "limitnum": 250, "serviceid": 2, "domain": "x.example"}`},
		{"get_products", `{"pid": 3, "gid": 1, "module": "cpanel"}`},
		{"update_client_product", `{"serviceid": 2, "status": "Suspended", "confirmation_token": "wmc_x"}`},
		{"update_client_product", `{"serviceid": 2, "customfields": {"1": "Yahoo", "2": "O'Brien"}, "configoptions": {"4": 2, "7": {"optionid": 3, "qty": 2}}, "unset": ["ns1", "ns2"]}`},
		{"update_client_product", `{"nextduedate": "2026-02-30"}`},
		{"update_client_product", `{"serviceid": 2, "notes": "\ud800"}`},
		{"update_client_product", `{"serviceid": 2, "serviceid": 3}`},
		{"update_client_addon", `{"id": 1, "status": "Active", "nextduedate": "2026-12-01", "recurring": 9.5}`},
		{"upgrade_product", `{"serviceid": 3, "calconly": true, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "monthly"}`},
		{"upgrade_product", `{"serviceid": 3, "paymentmethod": "paypal", "type": "configoptions", "configoptions": {"4": 2, "5": "x"}}`},
	} {
		f.Add(c.tool, []byte(c.args))
	}
	f.Fuzz(func(t *testing.T, tool string, raw []byte) {
		spec, ok := specs[tool]
		if !ok {
			return // the fuzzer's own tool names: only the real ones are fuzzed
		}
		typ := reflect.TypeOf(spec.Args).Elem()
		args := reflect.New(typ).Interface()
		if err := decodeArgs(spec.Name, json.RawMessage(raw), args); err != nil {
			if msg := err.Error(); msg == "" || !utf8.ValidString(msg) {
				t.Fatalf("%s %q: error %q is empty or not UTF-8", spec.Name, raw, msg)
			}
			return
		}
		again, err := json.Marshal(args)
		if err != nil {
			t.Fatalf("%s accepted %q but cannot encode it: %v", spec.Name, raw, err)
		}
		args2 := reflect.New(typ).Interface()
		if err := decodeArgs(spec.Name, json.RawMessage(again), args2); err != nil {
			t.Fatalf("%s accepted %q but not its own encoding %s: %v", spec.Name, raw, again, err)
		}
		again2, _ := json.Marshal(args2)
		if string(again) != string(again2) {
			t.Fatalf("%s: %q encodes as %s, which encodes as %s", spec.Name, raw, again, again2)
		}
	})
}
