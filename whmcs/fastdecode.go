package whmcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// The read path: a WHMCS reply decoded in one pass.
//
// jsontext (github.com/go-json-experiment/json, the prototype and mirror of
// Go's encoding/json/v2, which it becomes an alias of where the standard
// library has it) reads the reply token by token, checking its syntax and
// UTF-8 as it goes, and the decoder below puts each value straight into its
// field: no second scan to validate, no raw copy of a member handed to an
// UnmarshalJSON method that scans it again. The reply is copied into one
// string, and every text field that needs no unescaping is a slice of it, so
// that a reply of hundreds of fields costs a handful of allocations.
//
// It decodes what encoding/json decodes, into the same values, and it only
// takes the common road: anything it does not expect (a syntax error, a
// value of the wrong shape, invalid UTF-8, which encoding/json replaces, a
// name given twice where the result would depend on it, an object of records
// whose keys are mixed) makes it give up, and decodeReply decodes the reply
// again the way it always did (json.Valid, then scan.go's path, which
// encoding/json checks), so results and errors stay encoding/json's.
// FuzzFastPath holds both to that.

// errSlow says that the one-pass decoder gives up on a reply; the caller
// decodes it with encoding/json's semantics instead.
var errSlow = errors.New("whmcs: not handled by the one-pass decoder")

// onePass is the state of one decode; pooled.
type onePass struct {
	dec     jsontext.Decoder
	in      bytes.Buffer
	src     string // the reply: text fields are slices of it
	scratch []byte
	lists   map[reflect.Type]any // list item type T -> *listState[T] (see listStateOf)
}

// listState is what the decoder keeps for lists of T: how an item is
// decoded, and the buffer their items are decoded into (see onePassList),
// inUse while a list is being decoded, so that a list nested in one of its
// own items does not share it.
type listState[T any] struct {
	record   *onePassStruct // T's field map when T is a record the decoder fills, else nil
	isRecord bool           // T is a struct: an item must be an object
	fn       onePassFunc    // how an item that is not filled field by field is decoded
	items    []T
	inUse    bool
}

// listStateOf returns p's state for lists of T, made on first use. Its buffer is
// p's own unless in use.
func listStateOf[T any](p *onePass) *listState[T] {
	t := reflect.TypeFor[T]()
	b, _ := p.lists[t].(*listState[T])
	if b == nil {
		if p.lists == nil {
			p.lists = map[reflect.Type]any{}
		}
		b = &listState[T]{isRecord: t.Kind() == reflect.Struct, fn: onePassFuncOf(t)}
		if b.isRecord {
			b.record = onePassStructOf(t)
		}
		p.lists[t] = b
	}
	if b.inUse {
		return &listState[T]{record: b.record, isRecord: b.isRecord, fn: b.fn}
	}
	b.inUse = true
	return b
}

// release clears the buffer, so that it keeps nothing of the reply alive,
// and frees it for the next list.
func (b *listState[T]) release() {
	clear(b.items)
	b.items = b.items[:0]
	b.inUse = false
}

var onePassPool = sync.Pool{New: func() any { return new(onePass) }}

var decoderOptions = jsontext.AllowDuplicateNames(true) // repeated names are handled below, as encoding/json does

// onePassTakes reports whether decodeOnePass decodes into out: nil, or a
// pointer to a zero struct of a type it handles.
func onePassTakes(out any) bool {
	if out == nil {
		return true
	}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct || !v.Elem().IsZero() {
		return false
	}
	s := onePassStructOf(v.Type().Elem())
	return s != nil && !s.sharesNames(envelopeFields())
}

// decodeOnePass decodes the JSON object reply into env and out in one pass;
// out must be one onePassTakes takes. errSlow means that it gave up, and
// that env and out may hold part of the reply.
func decodeOnePass(reply []byte, env *envelope, out any) error {
	var outBase unsafe.Pointer
	var outFields *onePassStruct
	if out != nil {
		v := reflect.ValueOf(out)
		outFields, outBase = onePassStructOf(v.Type().Elem()), v.UnsafePointer()
	}
	p := onePassPool.Get().(*onePass)
	defer func() {
		p.in = bytes.Buffer{}
		p.dec.Reset(&p.in) // keeps no reference to the reply
		p.src = ""
		onePassPool.Put(p)
	}()
	p.in = *bytes.NewBuffer(reply)
	p.dec.Reset(&p.in, decoderOptions)
	p.src = string(reply)
	if tok, err := p.dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return errSlow
	}
	envFields := envelopeFields()
	for {
		switch p.dec.PeekKind() {
		case '}':
			if _, err := p.dec.ReadToken(); err != nil {
				return errSlow
			}
			if len(bytes.TrimLeft(reply[p.dec.InputOffset():], " \t\r\n")) > 0 {
				return errSlow // something follows the object
			}
			return nil
		case '"':
		default:
			return errSlow
		}
		name, err := p.name()
		if err != nil {
			return err
		}
		if i := envFields.lookup(name, &p.scratch); i >= 0 {
			if err := envFields.fields[i].decode(unsafe.Pointer(env), p); err != nil {
				return err
			}
			continue
		}
		if outFields != nil {
			if i := outFields.lookup(name, &p.scratch); i >= 0 {
				if err := outFields.fields[i].decode(outBase, p); err != nil {
					return err
				}
				continue
			}
		}
		if err := p.dec.SkipValue(); err != nil {
			return errSlow
		}
	}
}

// name reads an object member's name. It is valid until the next read.
func (p *onePass) name() ([]byte, error) {
	raw, err := p.dec.ReadValue()
	if err != nil || len(raw) < 2 {
		return nil, errSlow
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	p.scratch, err = jsontext.AppendUnquote(p.scratch[:0], raw)
	if err != nil {
		return nil, errSlow
	}
	return slices.Clone(p.scratch), nil // scratch is also the lookup's buffer
}

// text reads a scalar as scalarText does: the text of a string, a number or
// a boolean, "" for null and for {} and []. Any other object or array gives
// up (scalarText's error is encoding/json's to report).
func (p *onePass) text() (string, error) {
	raw, err := p.dec.ReadValue()
	if err != nil || len(raw) == 0 {
		return "", errSlow
	}
	switch raw[0] {
	case 'n':
		return "", nil
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			end := int(p.dec.InputOffset()) - 1
			return p.src[end-len(raw)+2 : end], nil
		}
		unquoted, err := jsontext.AppendUnquote(p.scratch[:0], raw)
		if err != nil {
			return "", errSlow
		}
		p.scratch = unquoted
		return string(unquoted), nil
	case '{', '[':
		if len(raw) == 2 {
			return "", nil
		}
		return "", errSlow
	}
	end := int(p.dec.InputOffset())
	return p.src[end-len(raw) : end], nil
}

// onePassDecoder is implemented by the reply types that the one-pass decoder
// reads itself: the scalars and the lists. decodeOnePass reads the next
// value into the receiver exactly as UnmarshalJSON would from its bytes, or
// returns errSlow.
type onePassDecoder interface {
	decodeOnePass(p *onePass) error
}

// onePassFunc decodes the next value into the field at ptr.
type onePassFunc func(ptr unsafe.Pointer, p *onePass) error

// onePassField is one field of a struct the decoder fills.
type onePassField struct {
	offset uintptr
	fn     onePassFunc
}

func (f *onePassField) decode(base unsafe.Pointer, p *onePass) error {
	return f.fn(unsafe.Add(base, f.offset), p)
}

// onePassStruct maps a struct's JSON member names to its fields, as
// encoding/json matches them: the exact name first, then the first field
// whose name folds to the same (see foldName).
type onePassStruct struct {
	fields []onePassField
	exact  map[string]int
	folded map[string]int
	names  []string
	// table finds an exact name without hashing it whole: the field whose
	// name may be name is table[nameHash(name, seed)&mask] (-1 for none).
	table []int8
	seed  uint32
	mask  uint32
}

// nameHash mixes a member name's length and five of its bytes (the first
// two, the middle one, the last two): enough to tell apart the few dozen
// names of a record, with the right seed.
func nameHash(name string, seed uint32) uint32 {
	n := len(name)
	if n == 0 {
		return 0
	}
	h := uint32(n)*seed ^ uint32(name[0])<<8 ^ uint32(name[n-1]) ^ uint32(name[n/2])<<16
	if n > 1 {
		h ^= uint32(name[1])<<24 ^ uint32(name[n-2])<<4
	}
	h *= 0x9e3779b1
	return h ^ h>>15
}

// buildTable finds a seed and a table size with which nameHash tells every
// name of s apart; without one, lookups use the maps alone.
func (s *onePassStruct) buildTable() {
	if len(s.names) == 0 || len(s.names) > 100 {
		return
	}
	for size := uint32(1); size <= 1<<12; size <<= 1 {
		if size < uint32(2*len(s.names)) {
			continue
		}
	seeds:
		for seed := uint32(1); seed < 64; seed++ {
			table := make([]int8, size)
			for i := range table {
				table[i] = -1
			}
			for i, name := range s.names {
				h := nameHash(name, seed) & (size - 1)
				if table[h] >= 0 {
					continue seeds
				}
				table[h] = int8(i)
			}
			s.table, s.seed, s.mask = table, seed, size-1
			return
		}
	}
}

// lookup returns the field that member name decodes into, or -1. buf is
// scratch space for folding.
func (s *onePassStruct) lookup(name []byte, buf *[]byte) int {
	if s.table != nil {
		if i := s.table[nameHash(string(name), s.seed)&s.mask]; i >= 0 && s.names[i] == string(name) {
			return int(i)
		}
	} else if i, ok := s.exact[string(name)]; ok {
		return i
	}
	*buf = appendFolded((*buf)[:0], name)
	if i, ok := s.folded[string(*buf)]; ok {
		return i
	}
	return -1
}

// sharesNames reports whether a member name could match a field of both s
// and t: one pass cannot give one value to two structs.
func (s *onePassStruct) sharesNames(t *onePassStruct) bool {
	for folded := range s.folded {
		if _, ok := t.folded[folded]; ok {
			return true
		}
	}
	return false
}

var (
	onePassStructs sync.Map // reflect.Type -> *onePassStruct, or nil for "not handled"
	envelopeOnce   = sync.OnceValue(func() *onePassStruct { return onePassStructOf(reflect.TypeFor[envelope]()) })
)

func envelopeFields() *onePassStruct { return envelopeOnce() }

var onePassDecoderType = reflect.TypeFor[onePassDecoder]()

// onePassStructOf returns the field map of struct type t, or nil when the
// one-pass decoder does not handle t: embedded structs, the string option,
// names encoding/json would not take as they are or that two fields share.
// A field of a type that does not decode itself this way is read as a raw
// value and handed to encoding/json, as json.Unmarshal would decode it.
func onePassStructOf(t reflect.Type) *onePassStruct {
	if cached, ok := onePassStructs.Load(t); ok {
		return cached.(*onePassStruct)
	}
	s := &onePassStruct{exact: map[string]int{}, folded: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			s = nil
			break
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if strings.Contains(","+opts+",", ",string,") || !plainName(name) {
			s = nil
			break
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := s.exact[name]; dup {
			s = nil // encoding/json drops both fields
			break
		}
		s.exact[name] = len(s.fields)
		if folded := string(appendFolded(nil, []byte(name))); !hasKey(s.folded, folded) {
			s.folded[folded] = len(s.fields)
		}
		s.names = append(s.names, name)
		s.fields = append(s.fields, onePassField{offset: sf.Offset, fn: onePassFuncOf(sf.Type)})
	}
	if s != nil {
		s.buildTable()
	}
	onePassStructs.Store(t, s)
	return s
}

func hasKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// plainName reports whether a tag name is made of ASCII letters, digits and
// underscores (or is empty): names encoding/json takes as they are.
func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// onePassFuncer is implemented by the list types: it returns the function
// that decodes a field of the type, without going through an interface for
// every value.
type onePassFuncer interface {
	onePassFunc() onePassFunc
}

var onePassFuncerType = reflect.TypeFor[onePassFuncer]()

// onePassFuncOf returns how a field of type t is decoded.
func onePassFuncOf(t reflect.Type) onePassFunc {
	switch t {
	case stringType:
		return func(ptr unsafe.Pointer, p *onePass) error { return (*String)(ptr).decodeOnePass(p) }
	case intType:
		return func(ptr unsafe.Pointer, p *onePass) error { return (*Int)(ptr).decodeOnePass(p) }
	case floatType:
		return func(ptr unsafe.Pointer, p *onePass) error { return (*Float)(ptr).decodeOnePass(p) }
	case boolType:
		return func(ptr unsafe.Pointer, p *onePass) error { return (*Bool)(ptr).decodeOnePass(p) }
	case dateType:
		return func(ptr unsafe.Pointer, p *onePass) error { return (*Date)(ptr).decodeOnePass(p) }
	}
	if t.Implements(onePassFuncerType) {
		return reflect.Zero(t).Interface().(onePassFuncer).onePassFunc()
	}
	if reflect.PointerTo(t).Implements(onePassDecoderType) {
		return func(ptr unsafe.Pointer, p *onePass) error {
			return reflect.NewAt(t, ptr).Interface().(onePassDecoder).decodeOnePass(p)
		}
	}
	// Any other type: its raw value, decoded by encoding/json as
	// json.Unmarshal would decode it as a member.
	return func(ptr unsafe.Pointer, p *onePass) error {
		raw, err := p.dec.ReadValue()
		if err != nil {
			return errSlow
		}
		if json.Unmarshal(raw, reflect.NewAt(t, ptr).Interface()) != nil {
			return errSlow
		}
		return nil
	}
}

// appendFolded appends name folded as foldName folds it.
func appendFolded(dst, name []byte) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 {
			return append(dst, foldName(name[i:])...)
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// The scalars decode the text of their value as their UnmarshalJSON does.

func (s *String) decodeOnePass(p *onePass) error {
	t, err := p.text()
	*s = String(t)
	return err
}

func (d *Date) decodeOnePass(p *onePass) error {
	t, err := p.text()
	*d = Date(t)
	return err
}

func (i *Int) decodeOnePass(p *onePass) error {
	t, err := p.text()
	if err != nil {
		return err
	}
	if parseInt(i, t) != nil {
		return errSlow
	}
	return nil
}

func (f *Float) decodeOnePass(p *onePass) error {
	t, err := p.text()
	if err != nil {
		return err
	}
	if parseFloat(f, t) != nil {
		return errSlow
	}
	return nil
}

func (v *Bool) decodeOnePass(p *onePass) error {
	t, err := p.text()
	if err != nil {
		return err
	}
	if parseBool(v, t) != nil {
		return errSlow
	}
	return nil
}

func (List[T]) onePassFunc() onePassFunc {
	return func(ptr unsafe.Pointer, p *onePass) error { return (*List[T])(ptr).decodeOnePass(p) }
}

func (Wrapped[T]) onePassFunc() onePassFunc {
	return func(ptr unsafe.Pointer, p *onePass) error { return (*Wrapped[T])(ptr).decodeOnePass(p) }
}

func (l *List[T]) decodeOnePass(p *onePass) error {
	items, err := onePassList[T](p)
	*l = items
	return err
}

func (w *Wrapped[T]) decodeOnePass(p *onePass) error {
	items, err := onePassWrapped[T](p)
	*w = items
	return err
}

// onePassList reads a list in any of List's shapes, as listOf does.
func onePassList[T any](p *onePass) ([]T, error) {
	switch p.dec.PeekKind() {
	case 'n':
		_, err := p.dec.ReadValue()
		return nil, orSlow(err)
	case '"':
		raw, err := p.dec.ReadValue()
		if err != nil || len(raw) != 2 {
			return nil, errSlow // only "" is an empty list
		}
		return nil, nil
	case '[':
		if _, err := p.dec.ReadToken(); err != nil {
			return nil, errSlow
		}
		if p.dec.PeekKind() == ']' {
			_, err := p.dec.ReadToken()
			return []T{}, orSlow(err) // an array, even an empty one, is a non-nil slice
		}
		// The items are decoded into a buffer kept with the decoder, then
		// copied into a slice of their number: a list of large records
		// grown one doubling at a time leaves most of its bytes behind.
		list := listStateOf[T](p)
		for p.dec.PeekKind() != ']' {
			list.items = append(list.items, *new(T))
			if err := list.item(p, &list.items[len(list.items)-1]); err != nil {
				list.release()
				return nil, err
			}
		}
		items := slices.Clone(list.items)
		list.release()
		_, err := p.dec.ReadToken()
		return items, orSlow(err)
	case '{':
		if _, err := p.dec.ReadToken(); err != nil {
			return nil, errSlow
		}
		if p.dec.PeekKind() == '}' {
			_, err := p.dec.ReadToken()
			return nil, orSlow(err)
		}
		first, err := p.name()
		if err != nil {
			return nil, err
		}
		if isIndexKey(string(first)) {
			return onePassKeyed[T](p, first)
		}
		// One record on its own.
		var item T
		s := onePassRecord[T]()
		if s == nil {
			return nil, errSlow
		}
		if err := s.members(unsafe.Pointer(&item), p, first); err != nil {
			return nil, err
		}
		return []T{item}, nil
	}
	return nil, errSlow
}

// onePassWrapped reads a Wrapped list, as wrappedOf does: the wrapper object
// with its one member, or the list itself.
func onePassWrapped[T any](p *onePass) ([]T, error) {
	if p.dec.PeekKind() != '{' {
		return onePassList[T](p)
	}
	if _, err := p.dec.ReadToken(); err != nil {
		return nil, errSlow
	}
	if p.dec.PeekKind() == '}' {
		_, err := p.dec.ReadToken()
		return nil, orSlow(err)
	}
	first, err := p.name()
	if err != nil {
		return nil, err
	}
	if isIndexKey(string(first)) {
		return onePassKeyed[T](p, first) // an object of records without the wrapper
	}
	items, err := onePassList[T](p)
	if err != nil {
		return nil, err
	}
	if p.dec.PeekKind() != '}' {
		return nil, errSlow // a second member: an error, or a repeated name whose last value counts
	}
	_, err = p.dec.ReadToken()
	return items, orSlow(err)
}

// onePassKeyed reads the rest of an object of records whose first key,
// already read, is first, and returns the records in the numeric order of
// their keys, as keyedItems does.
func onePassKeyed[T any](p *onePass, first []byte) ([]T, error) {
	type keyed struct {
		key  string
		item T
	}
	list := listStateOf[T](p)
	defer list.release() // its buffer is not used here
	var items []keyed
	key := string(first)
	for {
		items = append(items, keyed{key: key})
		if err := list.item(p, &items[len(items)-1].item); err != nil {
			return nil, err
		}
		if p.dec.PeekKind() == '}' {
			break
		}
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		if key = string(name); !isIndexKey(key) {
			return nil, errSlow // not an object of records after all
		}
	}
	if _, err := p.dec.ReadToken(); err != nil {
		return nil, errSlow
	}
	slices.SortStableFunc(items, func(a, b keyed) int { return compareIndexKeys(a.key, b.key) })
	out := make([]T, len(items))
	for i := range items {
		if i > 0 && items[i].key == items[i-1].key {
			return nil, errSlow // a repeated key: its last value counts
		}
		out[i] = items[i].item
	}
	return out, nil
}

// item reads one list item into item, as decodeItem does: a record must be
// an object.
func (l *listState[T]) item(p *onePass, item *T) error {
	if !l.isRecord {
		return l.fn(unsafe.Pointer(item), p)
	}
	if p.dec.PeekKind() != '{' {
		return errSlow
	}
	if l.record == nil {
		return l.fn(unsafe.Pointer(item), p)
	}
	if _, err := p.dec.ReadToken(); err != nil {
		return errSlow
	}
	if p.dec.PeekKind() == '}' {
		_, err := p.dec.ReadToken()
		return orSlow(err)
	}
	first, err := p.name()
	if err != nil {
		return err
	}
	return l.record.members(unsafe.Pointer(item), p, first)
}

// onePassRecord returns the field map of T when T is a record the decoder
// fills field by field, nil otherwise.
func onePassRecord[T any]() *onePassStruct {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil
	}
	return onePassStructOf(t)
}

// members reads the members of an object whose '{' and first name have been
// read, through its '}', into the struct at base. WHMCS sends a record's
// members in the order of its documentation, which the structs follow: the
// field after the last one decoded is tried first.
func (s *onePassStruct) members(base unsafe.Pointer, p *onePass, name []byte) error {
	next := 0
	for {
		i := next
		if i >= len(s.names) || s.names[i] != string(name) {
			i = s.lookup(name, &p.scratch)
		}
		if i >= 0 {
			if err := s.fields[i].decode(base, p); err != nil {
				return err
			}
			next = i + 1
		} else if err := p.dec.SkipValue(); err != nil {
			return errSlow
		}
		if p.dec.PeekKind() == '}' {
			_, err := p.dec.ReadToken()
			return orSlow(err)
		}
		var err error
		if name, err = p.name(); err != nil {
			return err
		}
	}
}

func orSlow(err error) error {
	if err != nil {
		return errSlow
	}
	return nil
}
