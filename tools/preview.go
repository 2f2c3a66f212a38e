package tools

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxShown is how many characters of a value a preview shows; the rest is
// cut, and the value's length said.
const maxShown = 80

// Describe writes a value for a preview or a question to a person: strings
// quoted, with control characters escaped, so that a value cannot pass for
// more lines of the message; long values cut with their length said;
// nothing as (none).
func Describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "(none)"
	case string:
		return quoteCut(t)
	case json.Number:
		return t.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "(unreadable)"
	}
	s := string(b)
	if utf8.RuneCountInString(s) > maxShown {
		return cutRunes(s, maxShown) + fmt.Sprintf("… (%d characters)", utf8.RuneCountInString(s))
	}
	return s
}

// quoteCut quotes s, cut to maxShown characters.
func quoteCut(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= maxShown {
		return strconv.Quote(s)
	}
	return strconv.Quote(cutRunes(s, maxShown)) + fmt.Sprintf("… (%d characters in all)", n)
}

func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// Clean makes text read from WHMCS (names, domains) safe to put in a
// message: control characters escaped, and cut to maxShown characters.
func Clean(s string) string {
	q := strconv.Quote(cutRunes(s, maxShown))
	q = q[1 : len(q)-1]
	if utf8.RuneCountInString(s) > maxShown {
		q += "…"
	}
	return q
}

// ChangeSummary states an update in plain words, one change a line: the
// record first, then status, product and money changes, then the rest.
func ChangeSummary(label string, changes map[string]Change, effects map[string]string) string {
	rank := func(field string) int {
		if i := slices.Index(Effects, effects[field]); i >= 0 {
			return i
		}
		return len(Effects)
	}
	fields := slices.SortedFunc(maps.Keys(changes), func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "Change %s:", Clean(label))
	for _, f := range fields {
		c := changes[f]
		if from, _ := c.From.(string); from == redacted {
			fmt.Fprintf(&b, "\n- %s: changed (not shown)", f)
			continue
		}
		to := Describe(c.To)
		if c.To == nil {
			to = "(cleared)"
		}
		fmt.Fprintf(&b, "\n- %s: %s → %s", f, Describe(c.From), to)
	}
	return b.String()
}
