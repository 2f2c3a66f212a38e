package whmcs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/phpserial"
)

// encoding/json matches member names without regard to case by Unicode
// folding: "reſult" (long s) is "result", "\u212a" (Kelvin sign) is "k".
// The fast path folded with strings.ToLower, which keeps both apart.
func TestFastPathFoldsKeysAsEncodingJSON(t *testing.T) {
	for _, reply := range []string{
		`{"reſult":"error","meſſage":"x"}`,
		`{"RESULT":"success","Message":"y"}`,
		`{"products":{"product":[{"ſtatus":"Active","domain":"a","DOMAIN":"b","\u212aey":"k"}]}}`,
	} {
		sameDecoding(t, reply, &envelope{})
		sameDecoding(t, reply, &GetClientsProductsResponse{})
	}
}

// FuzzEncodeForm decodes arbitrary JSON into UpdateClientProduct's request,
// as the tool does (numbers kept exact), and encodes it as WHMCS's form. It
// must never panic, and customfields and configoptions must reach WHMCS as
// base64(serialize(...)) of exactly the JSON given.
func FuzzEncodeForm(f *testing.F) {
	for _, s := range []string{
		`{"serviceid":2,"customfields":{"1":"Yahoo","2":"O'Brien"},"configoptions":{"4":2,"7":{"optionid":3,"qty":2}}}`,
		`{"serviceid":2,"status":"Suspended","nextduedate":"2026-12-01","recurringamount":9.95,"autorecalc":true,"unset":["ns1"]}`,
		`{"serviceid":2,"customfields":{},"configoptions":{"1":[1,2,{"a":null}],"x":1e300,"y":-0.5}}`,
		`{"serviceid":2,"nextduedate":"2026-02-30"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var req UpdateClientProductRequest
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&req) != nil {
			return
		}
		form, err := encodeForm(&req)
		if err != nil {
			return // a bad date, a number PHP cannot hold: refused before anything is sent
		}
		if got := form.Get("serviceid"); got != strconv.Itoa(req.ServiceID) {
			t.Fatalf("serviceid %q, want %d", got, req.ServiceID)
		}
		for name, arr := range map[string]PHPArray{"customfields": req.CustomFields, "configoptions": req.ConfigOptions} {
			sent, ok := form[name]
			if len(arr) == 0 {
				if ok {
					t.Fatalf("%s: an empty array was sent: %q", name, sent)
				}
				continue
			}
			if len(sent) != 1 {
				t.Fatalf("%s: sent %q", name, sent)
			}
			serialized, err := base64.StdEncoding.DecodeString(sent[0])
			if err != nil {
				t.Fatalf("%s: not base64: %v", name, err)
			}
			back, err := phpserial.Unmarshal(serialized)
			if err != nil {
				t.Fatalf("%s: PHP cannot unserialize %q: %v", name, serialized, err)
			}
			if want := asPHP(map[string]any(arr)); !reflect.DeepEqual(back, want) {
				t.Fatalf("%s: PHP reads %#v, want %#v", name, back, want)
			}
		}
	})
}

// asPHP is the value PHP holds after unserializing the serialization of a
// JSON value (see internal/phpserial).
func asPHP(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, item := range v {
			m[k] = asPHP(item)
		}
		return m
	case []any:
		m := make(map[string]any, len(v))
		for i, item := range v {
			m[strconv.Itoa(i)] = asPHP(item)
		}
		return m
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		return f
	}
	return v
}
