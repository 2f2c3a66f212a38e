package whmcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// scanSeeds are replies on which the fast path must agree with
// encoding/json: odd spacing, escapes in keys and values, non-ASCII text,
// nulls, WHMCS's empty spellings, upper-case keys, repeated keys, unknown
// members, a list given as one object, lists keyed by number.
var scanSeeds = []string{
	`{"result":"success","totalresults":"2","products":{"product":[{"id":"1","name":"Starter","customfields":{"customfield":[]}},{"id":2,"name":"Plus"}]}}`,
	" {\n \"totalresults\" : 1 ,\t\"products\" : { \"product\" : { \"id\" : \"7\" , \"domain\" : \"a.example\" } } }\r\n",
	`{"products":{"product":[{"id":"1","notes":"line\nbreak \"quoted\" \\ back \/ slash \u00e9\ud83d\ude00","domain":"caf\u00e9.example"}]}}`,
	`{"products":{"product":[{"id":"1","notes":"naïve 日本 ✓","status":"Active"}]}}`,
	`{"products":{"product":[{"id":null,"name":null,"recurringamount":null,"customfields":null,"configoptions":""}]}}`,
	`{"products":"","totalresults":"0"}`,
	`{"products":{},"totalresults":0}`,
	`{"products":[],"totalresults":0}`,
	`{"products":null}`,
	`{"PRODUCTS":{"Product":[{"ID":"3","Name":"Upper","DOMAIN":"x"}]},"TotalResults":"1"}`,
	`{"products":{"product":[{"id":"1","id":"2","name":"first","name":"second"}]},"totalresults":"1","totalresults":"5"}`,
	`{"unknown":{"deep":[1,2,{"x":"}"}]},"products":{"product":[{"id":"1","extra":[{"a":"]"}],"configoptions":{"configoption":[{"id":"4","option":"Memory","type":"dropdown","value":"4 GB"}]}}]}}`,
	`{"products":{"product":[{"id":"1.0","qty":"2","firstpaymentamount":"12.95","recurringamount":12.95,"overideautosuspend":"on","regdate":"0000-00-00"}]}}`,
	`{"products":{"product":[{"id":"1","customfields":{"customfield":{"id":"5","name":"Hostname","value":"h.example"}}}]}}`,
	`{"products":{"pro\u0064uct":[{"i\u0064":"9"}]}}`,
	`{"products":{"product":[{"id":"1"}],"other":[]}}`,
	`{"products":{"product":[{"id":{"x":1}}]}}`,
	`{"products":{"product":[{"id":"x"}]}}`,
	`{"products":{"product":["text"]}}`,
	`{"products":{"product":[[1]]}}`,
	`{"products":{"product":[null,{"id":"1"}]}}`,
	`{"products":42}`,
	`{"result":"success","message":"ok","products":{"product":[]}}`,
	// Lists as objects keyed by index or by id, wrapped or not, nested, in
	// any member order; keys that are and are not decimal integers; items
	// that are not records.
	`{"products":{"product":{"0":{"id":"1","name":"a"},"1":{"id":"2","name":"b"}}},"totalresults":"2"}`,
	`{"products":{"product":{"9":{"id":"9"},"10":{"id":"10"},"007":{"id":"7"},"7":{"id":"7b"},"-1":{"id":"0"}}}}`,
	`{"products":{"0":{"id":"1"},"1":{"id":"2"}},"totalresults":"2"}`,
	`{"products":{"product":{"7":{"id":"7","customfields":{"customfield":{"3":{"id":"3","value":"x"},"1":{"id":"1","value":"y"}}},"configoptions":{"0":{"id":"4","option":"Disk"}}}}}}`,
	`{"products":{"product":{"0":{"id":"1"},"0":{"id":"2"}}}}`,
	`{"products":{"product":{"\u0030":{"id":"1"},"1":{"id":"2"}}}}`,
	`{"products":{"product":{"00":{"id":"1"},"-0":{"id":"2"},"0":{"id":"3"}}}}`,
	`{"products":{"product":{"0":{"id":"1"},"name":"x"}}}`,
	`{"products":{"product":{"0":"text","1":{"id":"2"}}}}`,
	`{"products":{"product":{"0":42}}}`,
	`{"products":{"product":{"0":[{"id":"1"}]}}}`,
	`{"products":{"product":{"0":null}}}`,
	`{"products":{"product":{"0":true}}}`,
	`{"products":{"product":{}}}`,
	`{"products":{"product":null}}`,
	`{"products":{"product":[{"id":"1"},42]}}`,
	`{"products":{"pro duct":["x"]}}`,
	`{"products":{"product":"cash"}}`,
	`{"addons":{"addon":{"12":{"id":"12"},"3":{"id":"3"}}},"paymentmethods":{"paymentmethod":{"0":{"module":"paypal"}}}}`,
	`{"products":{"product":{"1":{"pid":"1","configoptions":{"configoption":{"0":{"id":"4","options":{"option":{"10":{"id":"10"},"9":{"id":"9"}}}}}}}}}}`,
}

// fastPathTypes are the reply types the fast path is checked on.
func fastPathTypes() []any {
	return []any{&GetClientsProductsResponse{}, &GetClientsAddonsResponse{}, &GetProductsResponse{},
		&GetPaymentMethodsResponse{}, &UpgradeProductResponse{}, &UpdateClientProductResponse{}, &UpdateClientAddonResponse{}, &envelope{}}
}

// sameDecoding decodes reply with the fast path and with encoding/json into
// new values of out's type and reports any difference.
func sameDecoding(t *testing.T, reply string, out any) {
	t.Helper()
	typ := reflect.TypeOf(out).Elem()
	fast, slow := reflect.New(typ).Interface(), reflect.New(typ).Interface()
	fastErr := decodeValid([]byte(reply), fast)
	slowErr := json.Unmarshal([]byte(reply), slow)
	if (fastErr == nil) != (slowErr == nil) || (fastErr != nil && fastErr.Error() != slowErr.Error()) {
		t.Fatalf("%s into %s:\nfast path error: %v\nencoding/json:   %v", reply, typ, fastErr, slowErr)
	}
	if fastErr == nil && !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s into %s:\nfast path:     %+v\nencoding/json: %+v", reply, typ, fast, slow)
	}
}

func TestFastPathAgreesWithEncodingJSON(t *testing.T) {
	for _, reply := range scanSeeds {
		for _, out := range fastPathTypes() {
			sameDecoding(t, reply, out)
		}
	}
	sameDecoding(t, docsGetClientsProducts, &GetClientsProductsResponse{})
	sameDecoding(t, string(benchProductsReply(t, 30)), &GetClientsProductsResponse{})
}

// sameOnePass decodes reply in one pass (fastdecode.go) into new values of
// out's type and, when it does not give up, requires exactly what
// encoding/json decodes: the envelope and out alike.
func sameOnePass(t *testing.T, reply string, out any) {
	t.Helper()
	typ := reflect.TypeOf(out).Elem()
	fast, slow := reflect.New(typ).Interface(), reflect.New(typ).Interface()
	if !onePassTakes(fast) {
		return
	}
	var fastEnv, slowEnv envelope
	if err := decodeOnePass([]byte(reply), &fastEnv, fast); err != nil {
		if !errors.Is(err, errSlow) {
			t.Fatalf("%s into %s: the one-pass decoder failed with %v, not errSlow", reply, typ, err)
		}
		return
	}
	if err := json.Unmarshal([]byte(reply), &slowEnv); err != nil {
		t.Fatalf("%s: the one-pass decoder took what encoding/json refuses as the envelope: %v", reply, err)
	}
	if err := json.Unmarshal([]byte(reply), slow); err != nil {
		t.Fatalf("%s into %s: the one-pass decoder took what encoding/json refuses: %v", reply, typ, err)
	}
	if fastEnv != slowEnv {
		t.Fatalf("%s: envelope\none pass:      %+v\nencoding/json: %+v", reply, fastEnv, slowEnv)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s into %s:\none pass:      %+v\nencoding/json: %+v", reply, typ, fast, slow)
	}
}

// decodeReplyEncodingJSON is decodeReply done with encoding/json alone: what
// decodeReply must give, value and error.
func decodeReplyEncodingJSON(action string, k kind, status int, contentType string, reply []byte, out any) error {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(reply, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return decodeReply(action, k, status, contentType, reply, out) // not JSON: no decoding to compare
	}
	var env envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return &ResponseError{Action: action, Write: bool(k), HTTPStatus: status, ContentType: contentType,
			Reason: "reply is malformed JSON: " + err.Error(), Snippet: snippet(trimmed)}
	}
	if err := checkEnvelope(action, k, status, contentType, trimmed, &env); err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(trimmed, out); err != nil {
		return &ResponseError{Action: action, Write: bool(k), HTTPStatus: status, ContentType: contentType,
			Reason: "reply does not have the expected shape: " + err.Error(), Snippet: snippet(trimmed)}
	}
	return nil
}

// sameReplyDecoding decodes reply with decodeReply and with
// decodeReplyEncodingJSON into new values of out's type and reports any
// difference in value or error.
func sameReplyDecoding(t *testing.T, reply string, out any) {
	t.Helper()
	typ := reflect.TypeOf(out).Elem()
	got, want := reflect.New(typ).Interface(), reflect.New(typ).Interface()
	gotErr := decodeReply("GetClientsProducts", read, 200, "application/json", []byte(reply), got)
	wantErr := decodeReplyEncodingJSON("GetClientsProducts", read, 200, "application/json", []byte(reply), want)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%s into %s:\ndecodeReply:   %v\nencoding/json: %v", reply, typ, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s into %s:\ndecodeReply:   %+v\nencoding/json: %+v", reply, typ, got, want)
	}
}

func TestOnePassAgreesWithEncodingJSON(t *testing.T) {
	replies := append(slices.Clone(scanSeeds), docsGetClientsProducts, string(benchProductsReply(t, 30)))
	for _, reply := range replies {
		for _, out := range fastPathTypes() {
			sameOnePass(t, reply, out)
			sameReplyDecoding(t, `{"result":"success",`+strings.TrimPrefix(strings.TrimSpace(reply), "{"), out)
			sameReplyDecoding(t, reply, out)
		}
	}
}

// TestOnePassTakesTheCommonReplies: the replies WHMCS sends are decoded in
// one pass, not by the fallback (which would be correct, only slower).
func TestOnePassTakesTheCommonReplies(t *testing.T) {
	for _, reply := range []string{docsGetClientsProducts, string(benchProductsReply(t, 30)),
		`{"result":"success","totalresults":0,"products":""}`,
		`{"result":"success","products":{"product":{"7":{"id":"7"},"3":{"id":"3","customfields":{"customfield":[]}}}}}`,
		`{"result":"error","message":"Client ID Not Found"}`} {
		var env envelope
		var out GetClientsProductsResponse
		if err := decodeOnePass([]byte(reply), &env, &out); err != nil {
			t.Errorf("%.80s: %v", reply, err)
		}
	}
}

// FuzzFastPath: on any valid JSON, the fast paths decode what encoding/json
// decodes, for every reply type: scan.go's with the same errors, the
// one-pass decoder whenever it does not give up; and decodeReply, which
// uses both, gives what it gives with encoding/json alone, value and error,
// on any input at all.
func FuzzFastPath(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		for _, out := range fastPathTypes() {
			sameReplyDecoding(t, reply, out)
		}
		if !json.Valid([]byte(reply)) {
			for _, out := range fastPathTypes() {
				sameOnePass(t, reply, out) // it must give up
			}
			return
		}
		for _, out := range fastPathTypes() {
			sameDecoding(t, reply, out)
			sameOnePass(t, reply, out)
		}
	})
}

// TestFallback: what the scanner does not handle goes to encoding/json,
// which decodes it or reports the error.
func TestFallback(t *testing.T) {
	var l List[CustomFieldValue]
	if err := l.UnmarshalJSON([]byte(`[{"id":"1","name":"a"},{"id":"2"}] trailing`)); err == nil {
		t.Error("a list with trailing garbage decoded")
	}
	var w Wrapped[CustomFieldValue]
	if err := w.UnmarshalJSON([]byte(`{"customfield":[{"id":"1"}]`)); err == nil {
		t.Error("a truncated wrapper decoded")
	}
	if _, err := scanElements([]byte(`[{"id":"1"} {"id":"2"}]`)); !errors.Is(err, errScan) {
		t.Errorf("a list without a comma: %v, want errScan", err)
	}
	if err := eachMember([]byte(`{"a" 1}`), func([]byte, []byte) error { return nil }); !errors.Is(err, errScan) {
		t.Errorf("a member without a colon: %v, want errScan", err)
	}
}

// TestDecodedRepliesKeepNothingOfTheirBytes: the client reads replies into
// buffers it reuses (replyBuffers), so nothing decodeReply returns, values
// or errors, may share the reply's bytes.
func TestDecodedRepliesKeepNothingOfTheirBytes(t *testing.T) {
	replies := append(slices.Clone(scanSeeds), docsGetClientsProducts, string(benchProductsReply(t, 30)),
		`{"result":"error","message":"Service ID Not Found"}`, `{"result":"success","products":{"product":[{"id":"x"}]}}`,
		`<html>maintenance</html>`, `{"result":"success",`)
	for _, reply := range replies {
		for _, out := range fastPathTypes() {
			typ := reflect.TypeOf(out).Elem()
			got, want := reflect.New(typ).Interface(), reflect.New(typ).Interface()
			buf := []byte(reply)
			gotErr := decodeReply("GetClientsProducts", read, 200, "application/json", buf, got)
			var gotText string
			if gotErr != nil {
				gotText = gotErr.Error()
			}
			for i := range buf {
				buf[i] = 'x'
			}
			wantErr := decodeReply("GetClientsProducts", read, 200, "application/json", []byte(reply), want)
			if gotErr != nil && (wantErr == nil || gotErr.Error() != wantErr.Error() || gotText != gotErr.Error()) {
				t.Fatalf("%.80s into %s: the error changed with the reply's bytes: %v", reply, typ, gotErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%.80s into %s: the value changed with the reply's bytes:\n%+v\n%+v", reply, typ, got, want)
			}
		}
	}
}
