package tools

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeArgs feeds arbitrary JSON to each tool's argument decoding
// (schema validation, then strict decoding). It must never panic; an error
// must say something; and arguments it accepts must be accepted again, to the
// same encoding, once re-encoded (what the policy digests and the audit log
// records is that encoding).
func FuzzDecodeArgs(f *testing.F) {
	for i, s := range []string{
		`{"clientid": 1}`, `{"limitstart": 0, "limitnum": 250, "serviceid": 2, "domain": "x.example"}`,
		`{"pid": 3, "gid": 1, "module": "cpanel"}`, `{"serviceid": 2}`, `{}`,
		`{"serviceid": 2, "status": "Suspended", "confirmation_token": "wmc1.x.y"}`,
		`{"serviceid": 2, "customfields": {"1": "Yahoo", "2": "O'Brien"}, "configoptions": {"4": 2, "7": {"optionid": 3, "qty": 2}}, "unset": ["ns1", "ns2"]}`,
		`{"id": 1, "status": "Active", "nextduedate": "2026-12-01", "recurring": 9.5}`,
		`{"serviceid": 3, "calconly": true, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "monthly"}`,
		`{"serviceid": 3, "paymentmethod": "paypal", "type": "configoptions", "configoptions": {"4": 2, "5": "x"}}`,
		`{"serviceid": "2"}`, `{"serviceid": 2.5}`, `{"serviceid": 1e30}`, `{"nextduedate": "2026-02-30"}`, `[1]`, `null`, `"x"`,
		`{"serviceid": 2, "notes": "\ud800"}`, `{"serviceid": 2, "serviceid": 3}`,
	} {
		f.Add(uint8(i), []byte(s))
	}
	specs := All(nil)
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		spec := specs[int(which)%len(specs)]
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
