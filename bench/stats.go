package main

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of latencies.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median_us"`
	P90    float64 `json:"p90_us"`
	P99    float64 `json:"p99_us"`
	Min    float64 `json:"min_us"`
	Max    float64 `json:"max_us"`
}

// summarize sorts a copy of d and returns its percentiles in microseconds.
func summarize(d []time.Duration) Summary {
	if len(d) == 0 {
		return Summary{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	us := func(x time.Duration) float64 { return round(float64(x) / float64(time.Microsecond)) }
	return Summary{
		N:      len(s),
		Median: us(quantile(s, 0.5)),
		P90:    us(quantile(s, 0.9)),
		P99:    us(quantile(s, 0.99)),
		Min:    us(s[0]),
		Max:    us(s[len(s)-1]),
	}
}

// quantile returns the q-quantile of sorted s by the nearest-rank method (the
// median of an even count is the mean of the two middle values).
func quantile(s []time.Duration, q float64) time.Duration {
	if q == 0.5 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// round keeps one decimal.
func round(x float64) float64 { return math.Round(x*10) / 10 }

// ms converts microseconds to milliseconds with two decimals: start-up
// times, where a tenth of a millisecond matters.
func ms(us float64) float64 { return math.Round(us/10) / 100 }
