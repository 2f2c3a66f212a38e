package main

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/invopop/jsonschema"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// generate returns every schema file by name: TOOL.input.json and
// TOOL.output.json.
func generate() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, t := range tools.All(nil) {
		in, out := reflectSchema(t.Args, true), reflectSchema(t.Result, false)
		// What the Spec declares beyond the Go types (a list's fields).
		t.ExtendSchemas(in, out)
		for suffix, s := range map[string]*jsonschema.Schema{".input.json": in, ".output.json": out} {
			data, err := encodeSchema(s)
			if err != nil {
				return nil, err
			}
			files[t.Name+suffix] = data
		}
	}
	return files, nil
}

func reflectSchema(v any, input bool) *jsonschema.Schema {
	r := &jsonschema.Reflector{
		DoNotReference:             true,
		ExpandedStruct:             true,
		RequiredFromJSONSchemaTags: true,
		Mapper:                     func(t reflect.Type) *jsonschema.Schema { return mapType(t, input) },
	}
	s := r.Reflect(v)
	s.Version = ""
	s.ID = ""
	return s
}

func encodeSchema(s *jsonschema.Schema) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mapType gives the schemas of the whmcs types that reflection cannot infer.
func mapType(t reflect.Type, input bool) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[whmcs.Date]():
		if input {
			return &jsonschema.Schema{Type: "string", Format: "date"}
		}
		return &jsonschema.Schema{Type: "string"}
	case reflect.TypeFor[whmcs.PHPArray](), reflect.TypeFor[whmcs.FormArray]():
		// Keys are WHMCS ids; the values are described by the field's
		// owner (see tools' JSONSchemaExtend methods).
		return &jsonschema.Schema{Type: "object", PropertyNames: &jsonschema.Schema{Pattern: "^[0-9]+$"}}
	}
	return nil
}
