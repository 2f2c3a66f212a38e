package whmcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The reply types below decode whatever WHMCS sends for a field and encode
// compactly: numbers as JSON numbers, and, with the omitzero tag option,
// nothing at all for the values WHMCS uses to mean "none". String, Int and
// Bool mean none by their zero value, which omitzero sees without help; the
// others say it with an IsZero method. Those methods have pointer receivers:
// encoding/json calls a value-receiver IsZero through an interface, which
// copies the value to the heap for every field of every result.

var null = []byte("null")

// scalarText returns the text of a JSON string, number or boolean, and "" for
// null. Objects and arrays are an error.
func scalarText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, null):
		return "", nil
	case b[0] == '"':
		if s, ok := plainString(b); ok {
			return s, nil
		}
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	case b[0] == '{' || b[0] == '[':
		if len(b) == 2 { // {} and [] stand for "nothing" in WHMCS's XML-to-JSON replies
			return "", nil
		}
		return "", fmt.Errorf("want a scalar, got %.40s", b)
	}
	return string(b), nil
}

// String is text that WHMCS may send as a string, a number or null.
type String string

// UnmarshalJSON accepts strings, numbers, booleans and null.
func (s *String) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	*s = String(t)
	return err
}

// Int is an integer that WHMCS may send as "12", 12, "" or null.
type Int int64

// UnmarshalJSON accepts integers as numbers or strings; "" and null are 0.
func (i *Int) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil || t == "" {
		*i = 0
		return err
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(t, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return fmt.Errorf("want an integer, got %q", t)
		}
		n = int64(f)
	}
	*i = Int(n)
	return nil
}

// Float is an amount that WHMCS sends as "12.95", 12.95, "" or null.
// encoding/json writes it in the shortest decimal form, e.g. 12.95 (with an
// exponent only below 1e-6 or from 1e21). It has no MarshalJSON of its own:
// encoding/json would re-scan every value such a method returns.
type Float float64

// UnmarshalJSON accepts numbers as numbers or strings; "" and null are 0.
func (f *Float) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil || t == "" {
		*f = 0
		return err
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("want a number, got %q", t)
	}
	*f = Float(v)
	return nil
}

// IsZero reports 0.00, which WHMCS uses for "no amount".
func (f *Float) IsZero() bool { return *f == 0 }

// Bool is a flag that WHMCS may send as true, 1, "1", "on", "true", "",
// "0", "off", "false" or null.
type Bool bool

// UnmarshalJSON accepts the spellings above.
func (v *Bool) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return err
	}
	switch strings.ToLower(t) {
	case "1", "true", "on", "yes":
		*v = true
	case "", "0", "false", "off", "no":
		*v = false
	default:
		return fmt.Errorf("want a boolean, got %q", t)
	}
	return nil
}

// Date is a WHMCS date, "Y-m-d". WHMCS's zero date 0000-00-00 counts as none.
type Date string

// UnmarshalJSON accepts a string or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	*d = Date(t)
	return err
}

// IsZero reports an empty date or WHMCS's 0000-00-00 (with or without a time).
func (d *Date) IsZero() bool {
	return *d == "" || strings.HasPrefix(string(*d), "0000-00-00")
}

// List is a list that WHMCS may send as an array, a single object, "", {} or
// null. It always encodes as a JSON array.
type List[T any] []T

// UnmarshalJSON accepts the spellings above.
func (l *List[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*l = nil
	switch {
	case len(b) == 0 || bytes.Equal(b, null) || bytes.Equal(b, []byte(`""`)):
		return nil
	case b[0] == '[':
		items, err := decodeList[T](b)
		if errors.Is(err, errScan) {
			items = nil
			err = json.Unmarshal(b, &items)
		}
		if err != nil {
			return err
		}
		*l = items
		return nil
	case b[0] == '{':
		if isEmptyObject(b) {
			return nil
		}
		var item T
		if err := decodeItem(b, &item); err != nil {
			return err
		}
		*l = List[T]{item}
		return nil
	}
	return fmt.Errorf("want a list, got %.40s", b)
}

// MarshalJSON writes an array, [] when empty.
func (l List[T]) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]T(l))
}

// IsZero reports an empty list.
func (l *List[T]) IsZero() bool { return len(*l) == 0 }

// Wrapped is a list that WHMCS wraps in an object named after its items,
// {"product": [...]} under "products". Unwrapped it may also be "", {}, [] or
// null. It encodes as a plain array, without the wrapper.
type Wrapped[T any] []T

// UnmarshalJSON accepts the wrapper object and the empty spellings.
func (w *Wrapped[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*w = nil
	if len(b) == 0 || b[0] != '{' {
		var l List[T] // "", null, or a bare array
		err := l.UnmarshalJSON(b)
		*w = Wrapped[T](l)
		return err
	}
	inner, err := members(b)
	if errors.Is(err, errScan) {
		inner = nil
		err = json.Unmarshal(b, &inner)
	}
	if err != nil {
		return err
	}
	if len(inner) > 1 {
		return fmt.Errorf("want an object with one list in it, got keys %v", keysOf(inner))
	}
	for _, raw := range inner {
		var l List[T]
		if err := l.UnmarshalJSON(raw); err != nil {
			return err
		}
		*w = Wrapped[T](l)
	}
	return nil
}

// MarshalJSON writes an array, [] when empty.
func (w Wrapped[T]) MarshalJSON() ([]byte, error) { return List[T](w).MarshalJSON() }

// IsZero reports an empty list.
func (w *Wrapped[T]) IsZero() bool { return len(*w) == 0 }

// members returns the members of a JSON object; a repeated name keeps its
// last value, as when decoding into a map.
func members(b []byte) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	err := eachMember(b, func(key []byte, value []byte) error {
		m[string(key)] = value
		return nil
	})
	return m, err
}

func isEmptyObject(b []byte) bool {
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

func keysOf(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
