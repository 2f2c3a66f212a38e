package sandbox

import (
	"bytes"
	"encoding/json"
)

// field is one key/value pair of an ordered JSON object.
type field struct {
	key string
	val any
}

// object is a JSON object that keeps its keys in insertion order. WHMCS (PHP)
// emits keys in the order its code sets them, and clients and the golden test
// compare that order, so replies are built from objects, never Go maps.
//
// Values may be string, int, int64, bool, nil, object, []any or []object, or
// anything else encoding/json can marshal.
type object []field

// set appends key with value v (keys are not deduplicated: callers build each
// reply once, in order).
func (o *object) set(key string, v any) *object {
	*o = append(*o, field{key, v})
	return o
}

// get returns the value of key, or nil.
func (o object) get(key string) any {
	for _, f := range o {
		if f.key == key {
			return f.val
		}
	}
	return nil
}

// MarshalJSON writes the object with its keys in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshalNoEscape(f.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalNoEscape(f.val)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping (PHP's json_encode
// does not turn < > & into \u003c and friends either).
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
