package tools

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"
)

// Fields declares which fields of a list tool's records a call returns when
// it does not choose them (Spec.Fields). Every byte of a result is read by
// the model on every turn, so a list returns the fields that answer the
// common questions, says which others its records hold (omitted), and
// returns any of them, or all ("*"), when the call names them in its fields
// argument. The shared path (handle) applies it, so that no list tool can
// leave a field unreachable.
//
// A list tool with Fields has an argument type that embeds FieldsArg and a
// result type that embeds LeftOut and has a records method returning its
// slice of records (listResult).
type Fields struct {
	// Default are the fields of each record that a call without a fields
	// argument returns, by their JSON names.
	Default []string
	// Always are kept whatever fields selects: what identifies a record.
	// The client a record belongs to ("clientid", "userid") is always kept
	// too, without being declared: the shared path checks it against the
	// caller's scope.
	Always []string
	// Whole are arguments that select a single record: a call with one of
	// them and no fields argument returns every field.
	Whole []string
}

// FieldsArg is the fields argument of a list tool (see Fields); its argument
// type embeds it. The JSON names it takes, and the default, are added to the
// input schema from the Spec (Spec.ExtendSchemas).
type FieldsArg struct {
	Fields []string `json:"fields,omitempty" jsonschema_description:"The fields of each record to return."`
}

func (f *FieldsArg) fieldsArg() []string { return f.Fields }

// LeftOut says which fields a list result left out of its records, and how
// to get them; a list tool's result type embeds it.
type LeftOut struct {
	Omitted []string `json:"omitted,omitempty" jsonschema_description:"Fields the records hold that were left out; absent when none were."`
	More    string   `json:"more,omitempty" jsonschema_description:"How to get the fields left out."`
}

func (l *LeftOut) leftOut() *LeftOut { return l }

// listResult is the result of a list tool with Fields.
type listResult interface {
	// records returns the records, a slice of structs, which the shared
	// path changes in place.
	records() any
	leftOut() *LeftOut
}

// allFields is the fields value that selects every field.
const allFields = "*"

// scopeKeys are the fields that name the client a record belongs to, which
// the shared path checks against a scoped caller's clients (outsideScope).
var scopeKeys = []string{"clientid", "userid"}

// recordFields is a Fields compiled for one tool's record and argument types.
type recordFields struct {
	tool   string
	names  []string // JSON names of the record's fields, in order
	index  []int    // the struct field of each name
	omit   []omitRule
	def    []bool // kept by default
	always []bool // kept whatever fields selects
	whole  [][]int
}

// omitRule is how encoding/json decides that a field is left out.
type omitRule int

const (
	omitNever omitRule = iota
	omitZero
	omitEmpty
)

// compileFields compiles spec.Fields for the argument type args; nil when
// the spec declares none. A declaration that does not fit the types panics:
// it is a programming error, and the registry's tests build every tool.
func compileFields(spec Spec, args reflect.Type) *recordFields {
	if spec.Fields == nil {
		return nil
	}
	fail := func(format string, a ...any) {
		panic(fmt.Sprintf("tool %s: Fields: %s", spec.Name, fmt.Sprintf(format, a...)))
	}
	list, ok := spec.Result.(listResult)
	if !ok {
		fail("the result type %T must embed LeftOut and have a records method", spec.Result)
	}
	if _, ok := reflect.New(args).Interface().(interface{ fieldsArg() []string }); !ok {
		fail("the argument type %s must embed FieldsArg", args)
	}
	rec := reflect.TypeOf(list.records())
	if rec.Kind() != reflect.Slice || rec.Elem().Kind() != reflect.Struct {
		fail("records must return a slice of structs, not %s", rec)
	}
	rec = rec.Elem()
	f := &recordFields{tool: spec.Name}
	for i := range rec.NumField() {
		sf := rec.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" || sf.Anonymous {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		rule := omitNever
		switch {
		case slices.Contains(strings.Split(opts, ","), "omitzero"):
			rule = omitZero
		case slices.Contains(strings.Split(opts, ","), "omitempty"):
			rule = omitEmpty
		}
		f.names = append(f.names, name)
		f.index = append(f.index, i)
		f.omit = append(f.omit, rule)
	}
	f.def = f.mask(spec.Fields.Default, fail)
	f.always = f.mask(spec.Fields.Always, fail)
	for i, name := range f.names {
		if slices.Contains(scopeKeys, name) {
			f.always[i] = true
		}
		if f.always[i] && !f.def[i] {
			fail("%q is always kept, so it belongs in Default", name)
		}
	}
	for _, arg := range spec.Fields.Whole {
		idx, ok := argIndex(args, arg)
		if !ok {
			fail("Whole names %q, which is not an argument", arg)
		}
		f.whole = append(f.whole, idx)
	}
	return f
}

func (f *recordFields) mask(names []string, fail func(string, ...any)) []bool {
	m := make([]bool, len(f.names))
	for _, name := range names {
		i := slices.Index(f.names, name)
		if i < 0 {
			fail("%q is not a field of the records", name)
		}
		m[i] = true
	}
	return m
}

// argIndex finds the struct field of argument name in t, embedded structs
// included.
func argIndex(t reflect.Type, name string) ([]int, bool) {
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if idx, ok := argIndex(sf.Type, name); ok {
				return append([]int{i}, idx...), true
			}
			continue
		}
		if n, _, _ := strings.Cut(sf.Tag.Get("json"), ","); n == name {
			return []int{i}, true
		}
	}
	return nil, false
}

// selection returns the fields a call keeps (nil: every field) for its
// decoded arguments args (a pointer to the argument struct).
func (f *recordFields) selection(args any) ([]bool, error) {
	given := args.(interface{ fieldsArg() []string }).fieldsArg()
	if len(given) == 0 {
		v := reflect.ValueOf(args).Elem()
		for _, idx := range f.whole {
			if !v.FieldByIndex(idx).IsZero() {
				return nil, nil
			}
		}
		return f.def, nil
	}
	keep := slices.Clone(f.always)
	var unknown []string
	for _, name := range given {
		if name == allFields {
			return nil, nil
		}
		i := slices.Index(f.names, name)
		if i < 0 {
			unknown = append(unknown, Describe(name))
			continue
		}
		keep[i] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("invalid arguments: %s", unknownFields(unknown, f.tool, f.validList()))
	}
	return keep, nil
}

// validList lists the values fields takes, for an error.
func (f *recordFields) validList() []any {
	values := []any{allFields}
	for _, n := range f.names {
		values = append(values, n)
	}
	return values
}

// unknownFields is the error of fields values that name no field, the same
// whether the input schema or the shared path finds them: given are the
// values, described; valid is what fields takes.
func unknownFields(given []string, tool string, valid []any) string {
	if tool != "" {
		tool = " of " + tool
	}
	var names []any
	for _, v := range valid {
		if v != allFields {
			names = append(names, v)
		}
	}
	verb := "names"
	if len(given) > 1 {
		verb = "name"
	}
	return fmt.Sprintf(`argument "fields": %s %s no field%s; valid: "*" for every field, or any of %s`,
		strings.Join(given, ", "), verb, tool, enumList(names))
}

// apply leaves out of result's records the fields keep does not keep, and
// names in result's LeftOut those that any record held. keep nil keeps
// everything.
func (f *recordFields) apply(result any, keep []bool) {
	if keep == nil {
		return
	}
	list, ok := result.(listResult)
	if !ok {
		return // an answer of the shared path, e.g. Scope.Empty
	}
	records := reflect.ValueOf(list.records())
	held := make([]bool, len(f.names))
	for r := range records.Len() {
		rec := records.Index(r)
		for i, idx := range f.index {
			if keep[i] {
				continue
			}
			v := rec.Field(idx)
			if !held[i] && !f.empty(i, v) {
				held[i] = true
			}
			v.SetZero()
		}
	}
	var omitted []string
	for i, h := range held {
		if h {
			omitted = append(omitted, f.names[i])
		}
	}
	if len(omitted) == 0 {
		return
	}
	lo := list.leftOut()
	lo.Omitted = omitted
	lo.More = f.more()
}

// empty reports whether encoding/json leaves field i of value v out.
func (f *recordFields) empty(i int, v reflect.Value) bool {
	switch f.omit[i] {
	case omitZero:
		if z, ok := v.Addr().Interface().(interface{ IsZero() bool }); ok {
			return z.IsZero()
		}
		return v.IsZero()
	case omitEmpty:
		switch v.Kind() {
		case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
			return v.Len() == 0
		}
		return v.IsZero()
	}
	return false
}

// more is the hint of a result that left fields out: how to get them.
func (f *recordFields) more() string {
	return fmt.Sprintf(`Call again with "fields" naming each field you want, from omitted and from those returned (%s), or "fields": ["*"] for every field.`,
		f.alwaysCome())
}

// alwaysCome says which fields come whatever fields selects.
func (f *recordFields) alwaysCome() string {
	var names []string
	for i, a := range f.always {
		if a {
			names = append(names, f.names[i])
		}
	}
	if len(names) == 1 {
		return names[0] + " always comes"
	}
	return strings.Join(names, " and ") + " always come"
}

// describe writes what fields takes into the input schema's fields
// property.
func (f *recordFields) describe(in *jsonschema.Schema, whole []string) {
	if p, ok := in.Properties.Get("fields"); ok {
		p.Items = &jsonschema.Schema{Type: "string", Enum: f.validList()}
		var def []string
		for i, d := range f.def {
			if d {
				def = append(def, f.names[i])
			}
		}
		p.Description = fmt.Sprintf("Fields to return instead of the default (%s); [\"*\"] for all. %s.",
			strings.Join(def, ", "), f.alwaysCome())
		if len(whole) > 0 {
			p.Description += fmt.Sprintf(" With %s and no fields, all come.", strings.Join(whole, " or "))
		}
	}
}

// ExtendSchemas adds to a tool's reflected input and output schemas what
// the Spec declares beyond its Go types: for a list tool with Fields, the
// names its fields argument takes and its default set. The output schema
// needs nothing: every field of a record is optional, so it describes the
// default records and whole ones alike. schemas/gen calls it.
func (s Spec) ExtendSchemas(in, _ *jsonschema.Schema) {
	if s.Fields == nil {
		return
	}
	f := compileFields(s, reflect.TypeOf(s.Args).Elem())
	f.describe(in, s.Fields.Whole)
}
