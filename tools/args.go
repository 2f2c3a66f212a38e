package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/whmcs-mcp/whmcs-mcp/schemas"
)

// validators holds each tool's compiled input schema, compiled on first use
// so that start-up does no schema work.
var validators sync.Map // tool name -> func() (*jsonschema.Schema, error)

func inputValidator(tool string) (*jsonschema.Schema, error) {
	once, _ := validators.LoadOrStore(tool, sync.OnceValues(func() (*jsonschema.Schema, error) {
		raw, err := schemas.Input(tool)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		url := "mem:///" + tool + ".input.json"
		if err := c.AddResource(url, doc); err != nil {
			return nil, err
		}
		return c.Compile(url)
	}))
	return once.(func() (*jsonschema.Schema, error))()
}

// decodeArgs checks raw arguments against the tool's input schema and
// decodes them into args. Its errors name the argument and what was expected.
func decodeArgs(tool string, raw any, args any) error {
	data, err := validateArgs(tool, raw)
	if err != nil {
		return err
	}
	return decodeInto(data, args)
}

// validateArgs checks raw arguments (JSON, or a value to encode as JSON)
// against the tool's input schema and returns them as JSON: "{}" when none
// were given.
func validateArgs(tool string, raw any) (json.RawMessage, error) {
	var data []byte
	switch r := raw.(type) {
	case nil:
		data = []byte("{}")
	case json.RawMessage:
		data = r
	case []byte:
		data = r
	default:
		var err error
		if data, err = json.Marshal(r); err != nil {
			return nil, fmt.Errorf("arguments: %v", err)
		}
	}
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		data = []byte("{}")
	}
	data = canonicalSpellings(tool, data)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("arguments are not valid JSON: %v", err)
	}
	schema, err := inputValidator(tool)
	if err != nil {
		return nil, fmt.Errorf("input schema of %s: %w", tool, err)
	}
	if err := schema.Validate(doc); err != nil {
		var verr *jsonschema.ValidationError
		if errors.As(err, &verr) {
			return nil, argumentError(verr)
		}
		return nil, err
	}
	return data, nil
}

// enums holds each tool's top-level arguments that take one of a set of
// strings, with the strings, read from the input schema on first use.
var enums sync.Map // tool name -> func() map[string][]string

func enumArgs(tool string) map[string][]string {
	once, _ := enums.LoadOrStore(tool, sync.OnceValue(func() map[string][]string {
		raw, err := schemas.Input(tool)
		if err != nil {
			return nil
		}
		var schema struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		if json.Unmarshal(raw, &schema) != nil {
			return nil
		}
		out := map[string][]string{}
		for name, p := range schema.Properties {
			if len(p.Enum) > 0 {
				out[name] = p.Enum
			}
		}
		return out
	}))
	return once.(func() map[string][]string)()
}

// spellingKey is what two spellings of one value share: WHMCS writes a
// billing cycle "Semi-Annually" in UpdateClientProduct and "semiannually" in
// UpgradeProduct, "Free Account" in one and "free" in the other.
func spellingKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return strings.TrimSuffix(b.String(), "account")
}

// canonicalSpellings rewrites an argument that takes one of a set of
// strings into the set's own spelling when it is another spelling of one of
// them (any case, with or without hyphens and spaces), so that either of
// WHMCS's spellings of a billing cycle is accepted and each action gets its
// own. Anything else is left for the schema to judge.
func canonicalSpellings(tool string, data []byte) []byte {
	allowed := enumArgs(tool)
	if len(allowed) == 0 {
		return data
	}
	var args map[string]json.RawMessage
	if json.Unmarshal(data, &args) != nil {
		return data
	}
	changed := false
	for name, values := range allowed {
		var given string
		if json.Unmarshal(args[name], &given) != nil || slices.Contains(values, given) {
			continue
		}
		for _, v := range values {
			if spellingKey(v) == spellingKey(given) {
				args[name], _ = json.Marshal(v)
				changed = true
			}
		}
	}
	if !changed {
		return data
	}
	out, err := json.Marshal(args)
	if err != nil {
		return data
	}
	return out
}

// decodeInto decodes validated arguments strictly into args.
func decodeInto(data json.RawMessage, args any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(args); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("argument %q: expected %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return fmt.Errorf("arguments: %v", err)
	}
	return nil
}

// argumentError turns a schema validation error into one line per problem,
// each naming the argument.
func argumentError(verr *jsonschema.ValidationError) error {
	var lines []string
	var badFields []string // values of a list's fields argument that name no field
	var fieldNames []any
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if k, ok := e.ErrorKind.(*kind.Enum); ok && len(e.InstanceLocation) == 2 && e.InstanceLocation[0] == "fields" {
			badFields, fieldNames = append(badFields, Describe(k.Got)), k.Want
			return
		}
		if k, ok := e.ErrorKind.(*kind.PropertyNames); ok {
			// Its causes judge the name alone, without its place, and its
			// InstanceLocation may name another argument (jsonschema v6.0.3
			// does not copy it): the place is read from the schema's.
			lines = append(lines, fmt.Sprintf("argument %s: %s is not an id (digits only)", quotePath(schemaProperties(e.SchemaURL)), Describe(k.Property)))
			return
		}
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		lines = append(lines, describe(e))
	}
	walk(verr)
	if len(badFields) > 0 {
		lines = append(lines, unknownFields(compactStrings(badFields), "", fieldNames))
	}
	sort.Strings(lines)
	lines = compactStrings(lines)
	return errors.New("invalid arguments: " + strings.Join(lines, "; "))
}

func describe(e *jsonschema.ValidationError) string {
	where := "argument " + quotePath(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		return fmt.Sprintf("unknown argument %s (not a parameter of this tool)", quoteList(prefixPath(e.InstanceLocation, k.Properties)))
	case *kind.Required:
		return fmt.Sprintf("missing required argument %s", quoteList(prefixPath(e.InstanceLocation, k.Missing)))
	case *kind.Type:
		return fmt.Sprintf("%s: expected %s, got %s", where, strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		return fmt.Sprintf("%s: must be one of %s", where, enumList(k.Want))
	case *kind.Format:
		if k.Want == "date" {
			return fmt.Sprintf("%s: expected a real date YYYY-MM-DD, got %s", where, Describe(k.Got))
		}
	}
	return fmt.Sprintf("%s: %s", where, e.ErrorKind.LocalizedString(english))
}

var english = message.NewPrinter(language.English)

// schemaProperties returns the argument path of a schema location, e.g.
// ["customfields"] for mem:///t.input.json#/properties/customfields/propertyNames.
func schemaProperties(url string) []string {
	_, pointer, _ := strings.Cut(url, "#")
	parts := strings.Split(pointer, "/")
	var path []string
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "properties" {
			path = append(path, parts[i+1])
			i++
		}
	}
	return path
}

func quotePath(loc []string) string {
	if len(loc) == 0 {
		return "(all)"
	}
	return fmt.Sprintf("%q", strings.Join(loc, "."))
}

func prefixPath(loc []string, names []string) []string {
	if len(loc) == 0 {
		return names
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.Join(loc, ".") + "." + n
	}
	return out
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func enumList(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		b, _ := json.Marshal(v)
		parts[i] = string(b)
	}
	return strings.Join(parts, ", ")
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
