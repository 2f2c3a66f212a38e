// Package phpserial encodes JSON-like values the way PHP's serialize() does
// and decodes PHP serialized arrays of scalars.
//
// WHMCS takes some parameters (UpdateClientProduct's customfields and
// configoptions) as base64(serialize(array(...))). The one Go PHP-serialize
// library reachable from this project's module proxy
// (github.com/elliotchance/phpserialize v1.4.0) writes a single quote in a
// string as \' while keeping the byte count, which PHP's unserialize() does not
// undo: a custom field value such as "O'Brien" would reach WHMCS corrupted. The
// format is small and fully specified by PHP's behaviour, so it is implemented
// here, with tests against PHP's own output and a fuzz target.
package phpserial

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Marshal returns PHP's serialize() of v, which must be a value as
// encoding/json decodes it: nil, bool, float64, json.Number, string, []any or
// map[string]any (Go ints are accepted too).
//
// Object keys follow PHP's array key rules: a key that is a canonical decimal
// integer ("1", "-4", not "01") becomes an integer key, as PHP's
// array("1" => "Yahoo") does. Keys are written in ascending order (integer keys
// numerically, then string keys) so the output is deterministic. Whole numbers
// are written as integers, other numbers as doubles.
func Marshal(v any) ([]byte, error) {
	var b strings.Builder
	if err := encode(&b, v, 0); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// maxDepth bounds nesting in both directions; WHMCS's arrays are at most two deep.
const maxDepth = 32

func encode(b *strings.Builder, v any, depth int) error {
	if depth > maxDepth {
		return errors.New("phpserial: value nested too deeply")
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("N;")
	case bool:
		if v {
			b.WriteString("b:1;")
		} else {
			b.WriteString("b:0;")
		}
	case int:
		writeInt(b, int64(v))
	case int64:
		writeInt(b, v)
	case float64:
		return writeNumber(b, v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			writeInt(b, i)
			return nil
		}
		f, err := v.Float64()
		if err != nil {
			return fmt.Errorf("phpserial: bad number %q", v.String())
		}
		return writeNumber(b, f)
	case string:
		b.WriteString("s:")
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteString(":\"")
		b.WriteString(v)
		b.WriteString("\";")
	case []any:
		b.WriteString("a:")
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteString(":{")
		for i, item := range v {
			writeInt(b, int64(i))
			if err := encode(b, item, depth+1); err != nil {
				return err
			}
		}
		b.WriteString("}")
	case map[string]any:
		return encodeMap(b, v, depth)
	default:
		return fmt.Errorf("phpserial: cannot serialize a %T", v)
	}
	return nil
}

func writeInt(b *strings.Builder, i int64) {
	b.WriteString("i:")
	b.WriteString(strconv.FormatInt(i, 10))
	b.WriteString(";")
}

// writeNumber writes a whole number as PHP integer and anything else as a PHP
// double in the shortest form that round-trips (PHP 7.1+ serialize_precision -1).
func writeNumber(b *strings.Builder, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("phpserial: cannot serialize NaN or infinity")
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		writeInt(b, int64(f))
		return nil
	}
	b.WriteString("d:")
	b.WriteString(strconv.FormatFloat(f, 'G', -1, 64))
	b.WriteString(";")
	return nil
}

type arrayKey struct {
	raw    string
	intKey int64
	isInt  bool
}

func encodeMap(b *strings.Builder, m map[string]any, depth int) error {
	keys := make([]arrayKey, 0, len(m))
	for k := range m {
		i, ok := IntegerKey(k)
		keys = append(keys, arrayKey{raw: k, intKey: i, isInt: ok})
	}
	sort.Slice(keys, func(x, y int) bool {
		a, c := keys[x], keys[y]
		if a.isInt != c.isInt {
			return a.isInt
		}
		if a.isInt {
			return a.intKey < c.intKey
		}
		return a.raw < c.raw
	})
	b.WriteString("a:")
	b.WriteString(strconv.Itoa(len(keys)))
	b.WriteString(":{")
	for _, k := range keys {
		if k.isInt {
			writeInt(b, k.intKey)
		} else if err := encode(b, k.raw, depth+1); err != nil {
			return err
		}
		if err := encode(b, m[k.raw], depth+1); err != nil {
			return err
		}
	}
	b.WriteString("}")
	return nil
}

// IntegerKey reports whether PHP would store the array key k as an integer,
// and which: canonical decimal integers within int64 ("0", "17", "-3"; not
// "007", "+1", "-0" or "1.5").
func IntegerKey(k string) (int64, bool) {
	if k == "" || len(k) > 20 {
		return 0, false
	}
	digits := k
	if k[0] == '-' {
		digits = k[1:]
	}
	if digits == "" || (digits[0] == '0' && (len(digits) > 1 || k[0] == '-')) {
		return 0, false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(k, 10, 64)
	if err != nil {
		return 0, false
	}
	return i, true
}
