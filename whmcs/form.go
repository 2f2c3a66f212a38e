package whmcs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/phpserial"
)

// Request structs are encoded into form fields the way PHP reads them. Each
// field is sent under its json tag name:
//   - a nil pointer, an empty string, Date, slice or map is not sent;
//   - a non-pointer int is always sent (it is a required id);
//   - a bool is sent as "1" when true and left out when false (PHP treats any
//     non-empty string but "0" as true, so "false" would mean true);
//   - []string as name[]=a&name[]=b;
//   - PHPArray as base64(serialize(array)), FormArray as name[key]=value.

// PHPArray is a JSON object that WHMCS takes as base64(PHP serialize(array)),
// e.g. UpdateClientProduct's customfields {"1": "Yahoo"}.
type PHPArray map[string]any

// FormArray is a JSON object that WHMCS takes as PHP form array fields,
// name[key]=value, e.g. UpgradeProduct's configoptions[4]=2.
type FormArray map[string]any

type formField struct {
	name  string
	index []int
}

var formFieldCache sync.Map // reflect.Type -> []formField

func formFields(t reflect.Type) []formField {
	if cached, ok := formFieldCache.Load(t); ok {
		return cached.([]formField)
	}
	var fields []formField
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || f.Tag.Get("form") == "-" {
			continue
		}
		fields = append(fields, formField{name: name, index: f.Index})
	}
	formFieldCache.Store(t, fields)
	return fields
}

// encodeForm returns the form fields of a request struct (or pointer to one).
func encodeForm(req any) (url.Values, error) {
	v := reflect.Indirect(reflect.ValueOf(req))
	form := url.Values{}
	for _, f := range formFields(v.Type()) {
		if err := encodeField(form, f.name, v.FieldByIndex(f.index)); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return form, nil
}

func encodeField(form url.Values, name string, v reflect.Value) error {
	switch x := v.Interface().(type) {
	case Date:
		if x == "" {
			return nil
		}
		if err := x.Validate(); err != nil {
			return err
		}
		form.Set(name, string(x))
		return nil
	case PHPArray:
		if len(x) == 0 {
			return nil
		}
		serialized, err := phpserial.Marshal(map[string]any(x))
		if err != nil {
			return err
		}
		form.Set(name, base64.StdEncoding.EncodeToString(serialized))
		return nil
	case FormArray:
		return encodeFormArray(form, name, x)
	case []string:
		for _, item := range x {
			form.Add(name+"[]", item)
		}
		return nil
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	} else if v.Kind() != reflect.Int && v.IsZero() {
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		form.Set(name, v.String())
	case reflect.Int, reflect.Int64:
		form.Set(name, strconv.FormatInt(v.Int(), 10))
	case reflect.Float64:
		form.Set(name, strconv.FormatFloat(v.Float(), 'f', -1, 64))
	case reflect.Bool:
		if v.Bool() {
			form.Set(name, "1")
		}
	default:
		return fmt.Errorf("cannot encode a %s as a form field", v.Type())
	}
	return nil
}

func encodeFormArray(form url.Values, name string, m FormArray) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var text string
		switch val := m[k].(type) {
		case string:
			text = val
		case json.Number:
			text = val.String()
		case float64:
			text = strconv.FormatFloat(val, 'f', -1, 64)
		case int:
			text = strconv.Itoa(val)
		case int64:
			text = strconv.FormatInt(val, 10)
		case bool:
			text = "0"
			if val {
				text = "1"
			}
		default:
			return fmt.Errorf("value of %q must be a string, number or boolean, not %T", k, val)
		}
		form.Set(name+"["+k+"]", text)
	}
	return nil
}

// Validate checks that d is a real calendar date written as Y-m-d.
func (d Date) Validate() error {
	if _, err := time.Parse(time.DateOnly, string(d)); err != nil {
		return fmt.Errorf("%q is not a date in the form YYYY-MM-DD", string(d))
	}
	return nil
}
