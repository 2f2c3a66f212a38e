package sandbox

import (
	"math"
	"testing"
)

// TestPHPCasts holds the parameter reading to PHP's casts of strings.
func TestPHPCasts(t *testing.T) {
	for s, want := range map[string]int64{
		"12": 12, " 12abc": 12, "-7": -7, "+3": 3, "7.9": 7, "1e3": 1000, "abc": 0, "": 0, ".5": 0,
		"99999999999999999999": math.MaxInt64, "-99999999999999999999": math.MinInt64,
	} {
		if got := phpInt(s); got != want {
			t.Errorf("phpInt(%q) = %d, want %d", s, got, want)
		}
	}
	for s, want := range map[string]float64{
		"12.5 USD": 12.5, "-3": -3, "ten": 0, "1e2": 100, ".25": 0.25, "5.": 5,
	} {
		if got := phpFloat(s); got != want {
			t.Errorf("phpFloat(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{"": false, "0": false, "1": true, "false": true, "off": true, "0.0": true} {
		if got := phpBool(s); got != want {
			t.Errorf("phpBool(%q) = %v, want %v", s, got, want)
		}
	}
	for f, want := range map[float64]cents{12.345: 1235, -5: -500, 1e300: maxDecimal, -1e300: -maxDecimal, math.NaN(): 0} {
		if got := decimalCents(f); got != want {
			t.Errorf("decimalCents(%v) = %d, want %d", f, got, want)
		}
	}
}
