package sandbox

import (
	"errors"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
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

// optInt reads an optional integer parameter as PHP's (int) cast does (see
// phpInt); the bool reports whether it was given.
func (p params) optInt(name string) (int64, bool) {
	if !p.has(name) {
		return 0, false
	}
	return phpInt(p.get(name)), true
}

// optAmount reads an optional amount as PHP's (float) cast does (see
// phpFloat), rounded to cents and bounded as MySQL's DECIMAL(16,2) column
// stores it. Negative amounts are kept.
func (p params) optAmount(name string) (cents, bool) {
	if !p.has(name) {
		return 0, false
	}
	return decimalCents(phpFloat(p.get(name))), true
}

// optDate reads an optional date parameter as a MySQL DATE column stores it:
// a real Y-m-d date as it is, WHMCS's "no date" 0000-00-00 as it is, and
// anything else as 0000-00-00 (MySQL's conversion of an invalid date outside
// strict mode).
func (p params) optDate(name string) (string, bool) {
	if !p.has(name) {
		return "", false
	}
	s := strings.TrimSpace(p.get(name))
	if _, ok := parseDate(s); !ok {
		return zeroDate, true
	}
	return s, true
}

// optBool reads an optional boolean parameter as PHP tests it (see phpBool).
func (p params) optBool(name string) bool {
	return phpBool(p.get(name))
}

// optStatus reads an optional status parameter: one of WHMCS's statuses in
// any case is stored with WHMCS's spelling, as an ENUM column does; anything
// else as given.
func (p params) optStatus(name string) (string, bool) {
	if !p.has(name) {
		return "", false
	}
	if st, ok := lookupStatus(p.get(name)); ok {
		return st, true
	}
	return p.get(name), true
}

// optCycleName reads an optional billing cycle parameter: one of WHMCS's
// cycles, by name or short form in any case, is stored as WHMCS's name;
// anything else as given.
func (p params) optCycleName(name string) (string, bool) {
	if !p.has(name) {
		return "", false
	}
	if c, ok := lookupCycle(p.get(name)); ok {
		return c.Name, true
	}
	return p.get(name), true
}

// numericPrefix matches the leading numeric part of a string as PHP reads
// it: optional blanks and sign, digits with an optional fraction, and an
// optional exponent. Compiled on first use: the sandbox is linked into
// every whmcs-mcp, which starts far more often than it serves a sandbox.
var numericPrefix = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?`)
})

// phpInt is PHP's (int) cast of a string: the leading integer part ("12abc"
// is 12, "abc" is 0, "7.9" is 7), saturated at the int64 range.
func phpInt(s string) int64 {
	if m := numericPrefix().FindString(s); m != "" && !strings.ContainsAny(m, ".eE") {
		if n, err := strconv.ParseInt(strings.TrimLeft(m, " \t\n\r\v\f"), 10, 64); err == nil {
			return n
		}
	}
	return floatInt(phpFloat(s))
}

// floatInt is PHP's (int) cast of a float: truncated, saturated at the int64
// range, 0 for NaN.
func floatInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// phpFloat is PHP's (float) cast of a string: the leading numeric part
// ("12.5 USD" is 12.5), 0 when there is none.
func phpFloat(s string) float64 {
	m := numericPrefix().FindString(s)
	if m == "" {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimLeft(m, " \t\n\r\v\f"), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0
	}
	return f
}

// phpBool is PHP's truthiness of a request parameter: "" and "0" are false,
// every other string true ("false", "off" and "no" included).
func phpBool(s string) bool {
	return s != "" && s != "0"
}
