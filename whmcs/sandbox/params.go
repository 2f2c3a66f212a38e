package sandbox

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// params are a request's form fields.
//
// A parameter counts as given when it is present with a non-empty value: PHP
// code like WHMCS's tests parameters for truthiness, so an empty field means
// "not given" and clearing a text field takes UpdateClientProduct's unset[].
// (Unlike PHP, "0" counts as given: diskusage=0 sets the usage to 0.)
type params struct {
	v url.Values
}

// get returns the first value of name, or "".
func (p params) get(name string) string { return p.v.Get(name) }

// has reports whether name was given with a non-empty value.
func (p params) has(name string) bool { return p.v.Get(name) != "" }

// list returns the values of a PHP form array name[]=a&name[]=b (also
// name[0]=a&name[1]=b), in key order.
func (p params) list(name string) []string {
	var out []string
	out = append(out, p.v[name+"[]"]...)
	for _, kv := range p.indexed(name) {
		if kv.key != "" {
			out = append(out, kv.val)
		}
	}
	return out
}

// keyValue is one element of a PHP form array.
type keyValue struct{ key, val string }

// indexed returns the elements name[KEY]=VALUE of a PHP form array, sorted by
// key (numerically when both keys are integers).
func (p params) indexed(name string) []keyValue {
	prefix := name + "["
	var out []keyValue
	for k, vs := range p.v {
		if !strings.HasPrefix(k, prefix) || !strings.HasSuffix(k, "]") {
			continue
		}
		key := k[len(prefix) : len(k)-1]
		if key == "" {
			continue // name[] is a list, see list
		}
		for _, v := range vs {
			out = append(out, keyValue{key, v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, errA := strconv.Atoi(out[i].key)
		b, errB := strconv.Atoi(out[j].key)
		if errA == nil && errB == nil {
			return a < b
		}
		return out[i].key < out[j].key
	})
	return out
}

// id reads an id parameter. Like PHP's (int) cast, anything that is not a
// positive integer reads as 0, which no record has, so the caller reports its
// usual "... ID Not Found".
func (p params) id(name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(p.get(name)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// optInt reads an optional non-negative integer parameter; the bool reports
// whether it was given.
func (p params) optInt(name string) (int, bool, error) {
	if !p.has(name) {
		return 0, false, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(p.get(name)))
	if err != nil || n < 0 {
		return 0, false, apiError(fmt.Sprintf("Invalid %s: expected a non-negative integer", name))
	}
	return n, true, nil
}

// optAmount reads an optional non-negative amount.
func (p params) optAmount(name string) (cents, bool, error) {
	if !p.has(name) {
		return 0, false, nil
	}
	c, ok := parseAmount(p.get(name))
	if !ok {
		return 0, false, apiError(fmt.Sprintf("Invalid %s: expected a non-negative amount", name))
	}
	return c, true, nil
}

// optDate reads an optional Y-m-d date parameter. The message for a value
// that is not a real calendar date is a choice (WHMCS documents none):
// "Invalid Date Format. <name> must be a valid date in the format Y-m-d".
// allowZero accepts WHMCS's "no date", 0000-00-00, which clears dates such as
// a termination date.
func (p params) optDate(name string, allowZero bool) (string, bool, error) {
	if !p.has(name) {
		return "", false, nil
	}
	s := strings.TrimSpace(p.get(name))
	if allowZero && s == zeroDate {
		return s, true, nil
	}
	if _, ok := parseDate(s); !ok {
		return "", false, apiError(fmt.Sprintf("Invalid Date Format. %s must be a valid date in the format Y-m-d", name))
	}
	return s, true, nil
}

// optBool reads an optional boolean parameter (see parseBool).
func (p params) optBool(name string) (value, given bool, err error) {
	if !p.has(name) {
		return false, false, nil
	}
	v, ok := parseBool(p.get(name))
	if !ok {
		return false, false, apiError(fmt.Sprintf("Invalid %s: expected a boolean (1, 0, true, false)", name))
	}
	return v, true, nil
}

// optStatus reads an optional status parameter.
func (p params) optStatus(name string) (string, bool, error) {
	if !p.has(name) {
		return "", false, nil
	}
	st, ok := lookupStatus(p.get(name))
	if !ok {
		return "", false, apiError("Invalid Status. Valid options include " + strings.Join(serviceStatuses, ","))
	}
	return st, true, nil
}

// optCycle reads an optional billing cycle parameter, by WHMCS name or short
// form in any case.
func (p params) optCycle(name string) (cycle, bool, error) {
	if !p.has(name) {
		return cycle{}, false, nil
	}
	c, ok := lookupCycle(p.get(name))
	if !ok {
		return cycle{}, false, apiError("Invalid Billing Cycle. Valid options include " + cycleNames())
	}
	return c, true, nil
}
