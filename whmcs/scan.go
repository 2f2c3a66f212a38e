package whmcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// A fast path for the lists of a WHMCS reply (List and Wrapped), which hold
// nearly all of its bytes.
//
// encoding/json validates its whole input before decoding it, and every
// UnmarshalJSON method that calls json.Unmarshal again validates its part
// again: with a list wrapped in an object, of structs whose fields are
// lenient types, each byte of a GetClientsProducts reply was scanned about
// ten times. The methods of List and Wrapped are only ever handed bytes that
// encoding/json has already validated, so they walk them with the plain
// scanner below and decode each struct field by field, calling the fields'
// own UnmarshalJSON methods directly. Anything the scanner does not expect
// makes them fall back to encoding/json, so the errors stay encoding/json's.

// errScan says that the fast path does not apply; the caller falls back to
// encoding/json.
var errScan = errors.New("whmcs: not handled by the fast path")

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value that starts at b[i],
// or -1 when there is none.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	case ',', ':', '}', ']':
		return -1
	}
	j := i // a number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	return j
}

// stringEnd returns the index just past the JSON string that starts at b[i].
// WHMCS's strings are short: a plain loop beats bytes.IndexByte here.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// atEnd returns errScan unless only white space follows b[i-1].
func atEnd(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errScan
	}
	return nil
}

// scanElements returns the elements of the JSON array b. Unlike eachMember
// it takes no callback: a closure appending to the caller's slice would move
// that slice to the heap, an allocation for every array of a reply.
func scanElements(b []byte) ([]json.RawMessage, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, errScan
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil, atEnd(b, i+1)
	}
	var elems []json.RawMessage
	for {
		end := valueEnd(b, i)
		if end < 0 {
			return nil, errScan
		}
		elems = append(elems, b[i:end])
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, errScan
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return elems, atEnd(b, i+1)
		default:
			return nil, errScan
		}
	}
}

// eachMember calls fn with each member of the JSON object b. The key is
// valid until fn returns.
func eachMember(b []byte, fn func(key []byte, value []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errScan
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return atEnd(b, i+1)
	}
	for {
		end := valueEnd(b, i)
		if end < 0 || b[i] != '"' {
			return errScan
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var unescaped string
			if json.Unmarshal(b[i:end], &unescaped) != nil {
				return errScan
			}
			key = []byte(unescaped)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errScan
		}
		i = skipSpace(b, i+1)
		if end = valueEnd(b, i); end < 0 {
			return errScan
		}
		if err := fn(key, b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return errScan
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return atEnd(b, i+1)
		default:
			return errScan
		}
	}
}

// plainString returns the text of a quoted JSON string that needs no
// unescaping: no backslash, no control character, valid UTF-8 (which
// encoding/json would have replaced).
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	ascii := true
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

// structFields maps a struct's JSON member names to its fields, for decoding
// it field by field. It exists only for structs all of whose fields decode
// themselves (implement json.Unmarshaler), so that decoding a field is
// exactly what encoding/json would do.
type structFields struct {
	exact  map[string]int // JSON name -> field index
	folded map[string]int // foldName(JSON name) -> first field index
	names  []string       // field index -> JSON name
}

var structFieldsCache sync.Map // reflect.Type -> *structFields (nil: use encoding/json)

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func fieldsOf(t reflect.Type) *structFields {
	if cached, ok := structFieldsCache.Load(t); ok {
		return cached.(*structFields)
	}
	f := &structFields{exact: map[string]int{}, folded: map[string]int{}, names: make([]string, t.NumField())}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		if sf.Anonymous || !reflect.PointerTo(sf.Type).Implements(unmarshalerType) {
			f = nil
			break
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if strings.Contains(","+opts+",", ",string,") {
			f = nil
			break
		}
		if name == "" {
			name = sf.Name
		}
		f.exact[name] = i
		f.names[i] = name
		if _, seen := f.folded[foldName([]byte(name))]; !seen {
			f.folded[foldName([]byte(name))] = i
		}
	}
	structFieldsCache.Store(t, f)
	return f
}

// foldName folds a member name the way encoding/json does to match names
// without regard to case (as bytes.EqualFold): ASCII letters to upper case,
// other runes to the smallest rune of their Unicode fold set, so that
// "reſult" (long s) and "\u212aey" (Kelvin sign) match as they do there.
func foldName(name []byte) string {
	out := make([]byte, 0, len(name))
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return string(out)
}

// decodeValid decodes b, which must be valid JSON, into out as
// json.Unmarshal(b, out) would, field by field for structs whose fields all
// decode themselves.
func decodeValid(b []byte, out any) error {
	if u, ok := out.(json.Unmarshaler); ok {
		return u.UnmarshalJSON(b)
	}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct || len(b) == 0 || b[0] != '{' {
		return json.Unmarshal(b, out)
	}
	v = v.Elem()
	fields := fieldsOf(v.Type())
	if fields == nil {
		return json.Unmarshal(b, out)
	}
	err := eachMember(b, func(key []byte, value []byte) error {
		i, ok := fields.exact[string(key)]
		if !ok {
			if i, ok = fields.folded[foldName(key)]; !ok {
				return nil // encoding/json ignores unknown members too
			}
		}
		err := v.Field(i).Addr().Interface().(json.Unmarshaler).UnmarshalJSON(value)
		if err != nil {
			addFieldContext(err, v.Type().Name(), fields.names[i])
		}
		return err
	})
	if errors.Is(err, errScan) {
		return json.Unmarshal(b, out)
	}
	return err
}

// addFieldContext names the struct and the field path in a type error, as
// encoding/json does.
func addFieldContext(err error, structName, field string) {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		typeErr.Struct = structName
		typeErr.Field = strings.TrimSuffix(field+"."+typeErr.Field, ".")
	}
}

// decodeItem decodes one list item with decodeValid. An item of a list of
// records must be an object: anything else is an error naming its shape,
// never a zero record.
func decodeItem[T any](raw []byte, record bool, item *T) error {
	if record {
		if i := skipSpace(raw, 0); i >= len(raw) || raw[i] != '{' {
			return shapeError(raw, reflect.TypeFor[T]())
		}
	}
	return decodeValid(raw, item)
}

// shapeError says that the JSON value b cannot be read as a t, naming its
// shape and, for a string or a number, its text. It is a
// *json.UnmarshalTypeError so that decodeValid, encoding/json and
// inMember name the member it was found in on the way up.
func shapeError(b []byte, t reflect.Type) error {
	b = bytes.TrimSpace(b)
	shape := "nothing"
	if len(b) > 0 {
		switch b[0] {
		case '"':
			var s string
			if json.Unmarshal(b, &s) == nil {
				shape = "string " + quoteShort(s)
			} else {
				shape = "string"
			}
		case '{':
			shape = "object"
		case '[':
			shape = "array"
		case 'n':
			shape = "null"
		case 't', 'f':
			shape = "bool"
		default:
			shape = "number " + cut(string(b))
		}
	}
	return &json.UnmarshalTypeError{Value: shape, Type: t}
}

// quoteShort quotes s as a Go string (valid UTF-8, control characters
// escaped), cut to its first 40 runes.
func quoteShort(s string) string { return strconv.Quote(cut(s)) }

// cut returns s cut to its first 40 runes, with "…" when something was cut.
func cut(s string) string {
	const n = 40
	i := 0
	for runes := 0; i < len(s); runes++ {
		if runes == n {
			return s[:i] + "…"
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s
}

// inMember names the member (a list index, a key, a wrapper's name) in which
// err, a type error, was found: the path grows from the inside out, as
// encoding/json builds it for struct fields. A name other than letters,
// digits, _ and - is quoted.
func inMember(err error, name string) error {
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if name == "" || strings.ContainsFunc(name, func(r rune) bool {
			return !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			name = quoteShort(name)
		}
		typeErr.Field = strings.TrimSuffix(name+"."+typeErr.Field, ".")
	}
	return err
}
