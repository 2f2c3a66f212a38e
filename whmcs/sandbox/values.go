package sandbox

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// cents is an amount of money in hundredths of the currency unit. WHMCS keeps
// amounts as DECIMAL(16,2); the sandbox stores them as SQLite REAL and does all
// arithmetic in cents so that sums and prorations are exact.
type cents int64

// toCents rounds a stored amount to cents.
func toCents(f float64) cents { return cents(math.Round(f * 100)) }

// float returns c as a float64 for storage.
func (c cents) float() float64 { return float64(c) / 100 }

// String formats c like WHMCS does: two decimals, no thousands separator
// ("12.95", "-1.00", "-8.67").
func (c cents) String() string {
	sign := ""
	v := int64(c)
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// disabledPrice is WHMCS's marker for a billing cycle a product does not
// offer (-1.00 in tblpricing).
const disabledPrice cents = -100

// maxDecimal is the largest amount a DECIMAL(16,2) column holds, in cents.
const maxDecimal cents = 99999999999999_99

// decimalCents rounds f to cents and bounds it to DECIMAL(16,2)'s range, as
// MySQL stores an out-of-range value outside strict mode.
func decimalCents(f float64) cents {
	switch {
	case math.IsNaN(f):
		return 0
	case f*100 >= float64(maxDecimal):
		return maxDecimal
	case f*100 <= -float64(maxDecimal):
		return -maxDecimal
	}
	return toCents(f)
}

// prorate returns diff * days / total rounded to cents, half away from zero
// (PHP's round()). total must be positive.
func prorate(diff cents, days, total int) cents {
	num := int64(diff) * int64(days)
	den := int64(total)
	q, r := num/den, num%den
	if r < 0 {
		r = -r
	}
	if 2*r >= den {
		if num < 0 {
			q--
		} else {
			q++
		}
	}
	return cents(q)
}

// Billing cycles.

// cycle describes one of WHMCS's billing cycles.
type cycle struct {
	Name     string // WHMCS's name as stored in tblhosting.billingcycle: "Semi-Annually"
	Key      string // short lower-case form and tblpricing column: "semiannually"
	SetupKey string // tblpricing setup fee column: "ssetupfee" ("" for Free Account)
	// Days is the cycle length used for upgrade proration. WHMCS's docs only
	// show 30 for Monthly; the sandbox uses 30 days a month and 365 a year:
	// Monthly 30, Quarterly 90, Semi-Annually 180, Annually 365,
	// Biennially 730, Triennially 1095. 0 for cycles that do not recur.
	Days int
	// Months is the cycle's length in calendar months, by which a next due
	// date moves on: Monthly 1 ... Triennially 36. 0 for cycles that do not
	// recur.
	Months int
}

// Recurring reports whether the cycle renews.
func (c cycle) Recurring() bool { return c.Days > 0 }

// PriceColumn is the tblpricing column holding the cycle's price. WHMCS keeps
// one-time prices in the monthly column.
func (c cycle) PriceColumn() string {
	if c.Key == "onetime" {
		return "monthly"
	}
	return c.Key
}

// SetupColumn is the tblpricing column holding the cycle's setup fee.
func (c cycle) SetupColumn() string {
	if c.Key == "onetime" {
		return "msetupfee"
	}
	return c.SetupKey
}

var cycles = []cycle{
	{"Free Account", "free", "", 0, 0},
	{"One Time", "onetime", "msetupfee", 0, 0},
	{"Monthly", "monthly", "msetupfee", 30, 1},
	{"Quarterly", "quarterly", "qsetupfee", 90, 3},
	{"Semi-Annually", "semiannually", "ssetupfee", 180, 6},
	{"Annually", "annually", "asetupfee", 365, 12},
	{"Biennially", "biennially", "bsetupfee", 730, 24},
	{"Triennially", "triennially", "tsetupfee", 1095, 36},
}

// recurringCycles are the cycles that have a price column of their own, in
// tblpricing's column order.
var recurringCycles = cycles[2:]

// lookupCycle finds a cycle by WHMCS name or short form, ignoring case, spaces,
// hyphens and underscores: "Semi-Annually", "semiannually", "One-Time",
// "one time", "onetime", "Free Account" and "free" all match.
func lookupCycle(s string) (cycle, bool) {
	k := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
	if k == "freeaccount" {
		k = "free"
	}
	for _, c := range cycles {
		if c.Key == k {
			return c, true
		}
	}
	return cycle{}, false
}

// Statuses.

// serviceStatuses are the statuses of a service (tblhosting.domainstatus) and,
// in the sandbox, of a client addon.
var serviceStatuses = []string{"Pending", "Active", "Suspended", "Terminated", "Cancelled", "Fraud", "Completed"}

// lookupStatus returns the canonical spelling of a status, matched
// case-insensitively.
func lookupStatus(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, st := range serviceStatuses {
		if strings.EqualFold(s, st) {
			return st, true
		}
	}
	return "", false
}

// Dates.

const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02 15:04:05"
	zeroDate       = "0000-00-00"
	zeroDateTime   = "0000-00-00 00:00:00"
)

// parseDate accepts a real calendar date in WHMCS's Y-m-d format.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) != len(dateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// civil returns t's calendar date (in t's own location) as midnight UTC, so
// that day arithmetic is free of time zone and DST effects.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// daysBetween returns the number of calendar days from a to b (negative when b
// is before a). Both must come from civil or parseDate.
func daysBetween(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}
