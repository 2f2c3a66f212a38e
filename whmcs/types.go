package whmcs

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
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

// The scalar types, named in the errors of values they cannot hold (see
// shapeError), such as: json: cannot unmarshal string "seven" into Go struct
// field GetClientsProductsResponse.products.product.0.id of type whmcs.Int.
var (
	stringType = reflect.TypeFor[String]()
	intType    = reflect.TypeFor[Int]()
	floatType  = reflect.TypeFor[Float]()
	boolType   = reflect.TypeFor[Bool]()
	dateType   = reflect.TypeFor[Date]()
)

// scalarText returns the text of a JSON string, number or boolean, and "" for
// null. Objects and arrays are an error saying that they are no t.
func scalarText(b []byte, t reflect.Type) (string, error) {
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
		return "", shapeError(b, t)
	}
	return string(b), nil
}

// String is text that WHMCS may send as a string, a number or null.
type String string

// UnmarshalJSON accepts strings, numbers, booleans and null.
func (s *String) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b, stringType)
	*s = String(t)
	return err
}

// Int is an integer that WHMCS may send as "12", 12, "" or null.
type Int int64

// UnmarshalJSON accepts integers as numbers or strings; "" and null are 0.
func (i *Int) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b, intType)
	if err != nil {
		*i = 0
		return err
	}
	if parseInt(i, t) != nil {
		return shapeError(b, intType)
	}
	return nil
}

// parseInt sets *i to the integer t holds ("" is 0): decimal digits, or a
// number with no fraction that a float64 holds exactly.
func parseInt(i *Int, t string) error {
	if t == "" {
		*i = 0
		return nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(t, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return errNotScalar
		}
		n = int64(f)
	}
	*i = Int(n)
	return nil
}

// errNotScalar says that a text is not what a scalar type holds; the
// UnmarshalJSON methods turn it into a shapeError naming the value.
var errNotScalar = errors.New("whmcs: not a value of this type")

// Float is an amount that WHMCS sends as "12.95", 12.95, "" or null.
// encoding/json writes it in the shortest decimal form, e.g. 12.95 (with an
// exponent only below 1e-6 or from 1e21). It has no MarshalJSON of its own:
// encoding/json would re-scan every value such a method returns.
type Float float64

// UnmarshalJSON accepts numbers as numbers or strings; "" and null are 0.
func (f *Float) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b, floatType)
	if err != nil {
		*f = 0
		return err
	}
	if parseFloat(f, t) != nil {
		return shapeError(b, floatType)
	}
	return nil
}

// parseFloat sets *f to the finite number t holds ("" is 0).
func parseFloat(f *Float, t string) error {
	if t == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return errNotScalar
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
	t, err := scalarText(b, boolType)
	if err != nil {
		return err
	}
	if parseBool(v, t) != nil {
		return shapeError(b, boolType)
	}
	return nil
}

// parseBool sets *v to the flag t spells.
func parseBool(v *Bool, t string) error {
	switch strings.ToLower(t) {
	case "1", "true", "on", "yes":
		*v = true
	case "", "0", "false", "off", "no":
		*v = false
	default:
		return errNotScalar
	}
	return nil
}

// Date is a WHMCS date, "Y-m-d". WHMCS's zero date 0000-00-00 counts as none.
type Date string

// UnmarshalJSON accepts a string or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b, dateType)
	*d = Date(t)
	return err
}

// IsZero reports an empty date or WHMCS's 0000-00-00 (with or without a time).
func (d *Date) IsZero() bool {
	return *d == "" || strings.HasPrefix(string(*d), "0000-00-00")
}

// List is a list of records that WHMCS may send in any of these shapes, and
// always encodes as a JSON array:
//
//   - an array: [{...}, {...}];
//   - one record on its own, as WHMCS's XML-style replies write a list of
//     one: {"id": "7", ...};
//   - an object of records keyed by index or by record id:
//     {"0": {...}, "1": {...}} or {"7": {...}, "9": {...}};
//   - nothing: "", [], {} or null.
//
// An object is an object of records when every one of its keys is a decimal
// integer ("0", "17", "-1"), and one record otherwise. The evidence: WHMCS
// builds a list as a PHP array and encodes it with json_encode, which writes
// an array as a JSON array only when its keys are exactly 0 to n-1 in order;
// a list keyed by id, or filtered with its keys kept, becomes an object whose
// keys are those integers (php.net's json_encode page, "Sequential versus
// non-sequential array example"). A record is a row whose members are named
// after its fields, and no record in the API reference's example replies
// has a member named by a number. So the keys alone decide, whatever the
// values: in an object of records, a value that is not a record (a string, a
// number, an array, null) is an error that names it, rather than a record
// with no fields. The records of an object of records are listed in the
// numeric order of their keys: the list's order for index keys, ascending
// ids for id keys.
//
// Anything else that cannot be read as a list, or as one of its records, is
// an error that names the member and the shape found, never an empty record,
// such as: json: cannot unmarshal string "text" into Go struct field
// GetClientsProductsResponse.products.product.0 of type whmcs.ClientProduct.
type List[T any] []T

// UnmarshalJSON accepts the shapes above.
func (l *List[T]) UnmarshalJSON(b []byte) error {
	items, err := listOf[T](b)
	*l = items
	return err
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
// {"product": [...]} under "products", the list inside taking any of List's
// shapes. Unwrapped it may also be an array, an object of records, "", {}, []
// or null. It encodes as a plain array, without the wrapper.
type Wrapped[T any] []T

// UnmarshalJSON accepts the wrapper object and the unwrapped shapes.
func (w *Wrapped[T]) UnmarshalJSON(b []byte) error {
	items, err := wrappedOf[T](b)
	*w = items
	return err
}

// MarshalJSON writes an array, [] when empty.
func (w Wrapped[T]) MarshalJSON() ([]byte, error) { return List[T](w).MarshalJSON() }

// IsZero reports an empty list.
func (w *Wrapped[T]) IsZero() bool { return len(*w) == 0 }

var emptyString = []byte(`""`)

// listOf decodes a list in any of List's shapes. An array, even an empty
// one, gives a non-nil slice, as encoding/json does; nothing gives nil.
func listOf[T any](b []byte) ([]T, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, null) || bytes.Equal(b, emptyString):
		return nil, nil
	case b[0] == '[':
		elems, err := elements(b)
		if err != nil {
			return nil, err
		}
		items := make([]T, len(elems))
		record := isRecord[T]()
		for i, raw := range elems {
			if err := decodeItem(raw, record, &items[i]); err != nil {
				return nil, inMember(err, strconv.Itoa(i))
			}
		}
		return items, nil
	case b[0] == '{':
		if isEmptyObject(b) {
			return nil, nil
		}
		keyed, err := isObjectOfRecords(b)
		if err != nil {
			return nil, err
		}
		if keyed {
			m, err := objectMembers(b)
			if err != nil {
				return nil, err
			}
			return keyedItems[T](m)
		}
		var item T
		if err := decodeItem(b, isRecord[T](), &item); err != nil {
			return nil, err
		}
		return []T{item}, nil
	}
	return nil, shapeError(b, reflect.TypeFor[[]T]())
}

// wrappedOf decodes a Wrapped list: a wrapper object with one member, the
// list, or the list itself.
func wrappedOf[T any](b []byte) ([]T, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return listOf[T](b) // "", null, an array
	}
	inner, err := objectMembers(b)
	switch {
	case err != nil:
		return nil, err
	case len(inner) == 0:
		return nil, nil
	case allIndexKeys(inner): // an object of records without the wrapper
		return keyedItems[T](inner)
	case len(inner) > 1:
		return nil, &json.UnmarshalTypeError{Value: "object with members " + quotedKeys(inner) + " (a wrapper has one)",
			Type: reflect.TypeFor[[]T]()}
	}
	var name string
	var raw json.RawMessage
	for name, raw = range inner { // the one member
	}
	items, err := listOf[T](raw)
	return items, inMember(err, name)
}

// keyedItems decodes the members of an object of records, in the numeric
// order of their keys.
func keyedItems[T any](m map[string]json.RawMessage) ([]T, error) {
	keys := slices.SortedFunc(maps.Keys(m), compareIndexKeys)
	items := make([]T, len(keys))
	record := isRecord[T]()
	for i, key := range keys {
		if err := decodeItem(m[key], record, &items[i]); err != nil {
			return nil, inMember(err, key)
		}
	}
	return items, nil
}

// isRecord reports whether T is a record: a struct, read from an object.
func isRecord[T any]() bool { return reflect.TypeFor[T]().Kind() == reflect.Struct }

// errNotKeyed stops the scan of an object at its first key that is not a
// decimal integer.
var errNotKeyed = errors.New("whmcs: a key is not a decimal integer")

// isObjectOfRecords reports whether every key of the JSON object b is a
// decimal integer. It stops at the first key that is not, which for a record
// is its first.
func isObjectOfRecords(b []byte) (bool, error) {
	err := eachMember(b, func(key []byte, _ []byte) error {
		if !isIndexKey(string(key)) {
			return errNotKeyed
		}
		return nil
	})
	switch {
	case err == errNotKeyed:
		return false, nil
	case errors.Is(err, errScan):
		m, err := objectMembers(b)
		return err == nil && allIndexKeys(m), err
	}
	return err == nil, err
}

// isIndexKey reports whether key is a decimal integer: an optional minus
// sign and one or more ASCII digits.
func isIndexKey(key string) bool {
	if len(key) > 0 && key[0] == '-' {
		key = key[1:]
	}
	if len(key) == 0 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return false
		}
	}
	return true
}

// allIndexKeys reports whether m has members and every key is a decimal
// integer.
func allIndexKeys(m map[string]json.RawMessage) bool {
	for key := range m {
		if !isIndexKey(key) {
			return false
		}
	}
	return len(m) > 0
}

// compareIndexKeys orders decimal integer keys by their value, and keys of
// the same value ("7" and "07") by their text, so that the order never
// depends on the order of the members.
func compareIndexKeys(a, b string) int {
	if c := cmp.Compare(indexSign(a), indexSign(b)); c != 0 {
		return c
	}
	am, bm := indexMagnitude(a), indexMagnitude(b)
	c := cmp.Compare(len(am), len(bm))
	if c == 0 {
		c = strings.Compare(am, bm)
	}
	if indexSign(a) < 0 {
		c = -c
	}
	if c == 0 {
		c = strings.Compare(a, b)
	}
	return c
}

// indexMagnitude returns the digits of a decimal integer key without its sign
// and leading zeros ("" for zero).
func indexMagnitude(key string) string {
	return strings.TrimLeft(strings.TrimPrefix(key, "-"), "0")
}

// indexSign returns -1, 0 or 1 as the decimal integer key is negative, zero
// or positive.
func indexSign(key string) int {
	switch {
	case indexMagnitude(key) == "":
		return 0
	case key[0] == '-':
		return -1
	}
	return 1
}

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

// objectMembers returns the members of the JSON object b as members does,
// falling back to encoding/json where the scanner does not apply.
func objectMembers(b []byte) (map[string]json.RawMessage, error) {
	m, err := members(b)
	if errors.Is(err, errScan) {
		var fallback map[string]json.RawMessage // declared here, so that only a fallback allocates it
		err = json.Unmarshal(b, &fallback)
		m = fallback
	}
	return m, err
}

// elements returns the elements of the JSON array b, falling back to
// encoding/json where the scanner does not apply.
func elements(b []byte) ([]json.RawMessage, error) {
	elems, err := scanElements(b)
	if errors.Is(err, errScan) {
		var fallback []json.RawMessage // declared here, so that only a fallback allocates it
		err = json.Unmarshal(b, &fallback)
		elems = fallback
	}
	return elems, err
}

func isEmptyObject(b []byte) bool {
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// quotedKeys lists the keys of m, sorted and quoted, the first five of them.
func quotedKeys(m map[string]json.RawMessage) string {
	keys := slices.Sorted(maps.Keys(m))
	quoted := make([]string, 0, 6)
	for i, k := range keys {
		if i == 5 {
			quoted = append(quoted, fmt.Sprintf("and %d more", len(keys)-5))
			break
		}
		quoted = append(quoted, quoteShort(k))
	}
	return strings.Join(quoted, ", ")
}
