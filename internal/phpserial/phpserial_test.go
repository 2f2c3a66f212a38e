package phpserial

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"
)

func decodeJSON(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return v
}

// The expected strings are what PHP 8's serialize() prints for the same array.
func TestMarshalMatchesPHP(t *testing.T) {
	cases := []struct{ json, php string }{
		// The WHMCS docs' example: base64_encode(serialize(array("1"=>"Yahoo"))).
		{`{"1":"Yahoo"}`, `a:1:{i:1;s:5:"Yahoo";}`},
		{`{"4":2,"7":{"optionid":3,"qty":2}}`, `a:2:{i:4;i:2;i:7;a:2:{s:8:"optionid";i:3;s:3:"qty";i:2;}}`},
		{`{"name":"O'Brien \"quoted\" \\ back"}`, `a:1:{s:4:"name";s:23:"O'Brien "quoted" \ back";}`},
		{`{"city":"Zürich"}`, `a:1:{s:4:"city";s:7:"Zürich";}`},
		{`{"10":"b","9":"a","x":true,"-1":null,"01":1.5}`, `a:5:{i:-1;N;i:9;s:1:"a";i:10;s:1:"b";s:2:"01";d:1.5;s:1:"x";b:1;}`},
		{`["a","b"]`, `a:2:{i:0;s:1:"a";i:1;s:1:"b";}`},
		{`{}`, `a:0:{}`},
		{`2.0`, `i:2;`},
		{`false`, `b:0;`},
	}
	for _, c := range cases {
		got, err := Marshal(decodeJSON(t, c.json))
		if err != nil {
			t.Fatalf("Marshal(%s): %v", c.json, err)
		}
		if string(got) != c.php {
			t.Errorf("Marshal(%s)\n got %s\nwant %s", c.json, got, c.php)
		}
	}
}

func TestMarshalRejectsUnsupported(t *testing.T) {
	for _, v := range []any{struct{}{}, map[int]string{}, []int{1}} {
		if _, err := Marshal(v); err == nil {
			t.Errorf("Marshal(%T) succeeded, want an error", v)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	got, err := Unmarshal([]byte(`a:3:{i:1;s:5:"Yahoo";i:7;a:2:{s:8:"optionid";i:3;s:3:"qty";d:2.5;}s:1:"x";b:1;}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"1": "Yahoo",
		"7": map[string]any{"optionid": int64(3), "qty": 2.5},
		"x": true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestUnmarshalRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		``, `a:1:{i:1;s:5:"Yahoo";`, `s:6:"Yahoo";`, `s:-1:"";`, `i:x;`, `b:2;`,
		`O:8:"stdClass":0:{}`, `a:1:{d:1.5;i:1;}`, `i:1;i:2;`, `a:99999999999:{}`, `r:1;`,
	} {
		if v, err := Unmarshal([]byte(in)); err == nil {
			t.Errorf("Unmarshal(%q) = %#v, want an error", in, v)
		}
	}
}

func TestIntegerKey(t *testing.T) {
	for k, want := range map[string]bool{
		"0": true, "1": true, "-3": true, "9223372036854775807": true,
		"": false, "01": false, "-0": false, "+1": false, "1.5": false, " 1": false,
		"9223372036854775808": false, "-": false,
	} {
		if _, got := IntegerKey(k); got != want {
			t.Errorf("IntegerKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// FuzzRoundTrip checks that any JSON object serializes, and that PHP's
// unserialize() (Unmarshal, which follows PHP) reads back exactly what was
// meant: the same keys, and the same values as PHP has them.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{`{"1":"Yahoo"}`, `{"4":2,"7":{"optionid":3,"qty":2}}`, `{"a":[1,"x",null,true,1.25]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.UseNumber()
		var v map[string]any
		if dec.Decode(&v) != nil || v == nil {
			return
		}
		out, err := Marshal(v)
		if err != nil {
			return // numbers out of range, too deep: refused, never a panic
		}
		back, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(%s)) = %v; serialized %q", s, err, out)
		}
		if want := asPHP(v); !reflect.DeepEqual(back, want) {
			t.Fatalf("round trip of %s:\n got %#v\nwant %#v\nserialized %q", s, back, want, out)
		}
	})
}

// asPHP is the value PHP holds after unserializing the serialization of a
// JSON value: lists become arrays keyed 0, 1, ...; whole numbers within 2^53
// become integers, other numbers doubles.
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

// FuzzUnmarshal feeds arbitrary bytes to the decoder: errors are fine,
// panics are not, and what it decodes serializes again to the same value.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`a:1:{i:1;s:5:"Yahoo";}`, `a:2:{i:4;i:2;i:7;a:2:{s:8:"optionid";i:3;s:3:"qty";i:2;}}`, `N;`, `d:0.5;`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		out, err := Marshal(v)
		if err != nil {
			return // NaN or infinity: PHP has them, JSON and this encoder do not
		}
		back, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(Unmarshal(%q))) = %v; serialized %q", data, err, out)
		}
		if !reflect.DeepEqual(wholeToInt(v), wholeToInt(back)) {
			t.Fatalf("%q decodes to %#v, which serializes to %q, which decodes to %#v", data, v, out, back)
		}
	})
}

// wholeToInt turns whole doubles within 2^53 into integers, as Marshal writes them.
func wholeToInt(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, item := range v {
			m[k] = wholeToInt(item)
		}
		return m
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v)
		}
	}
	return v
}
