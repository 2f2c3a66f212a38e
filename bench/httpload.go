package main

import (
	"os/exec"
	"strings"
	"time"
)

// HTTPLoad is figure 4: streamable HTTP under concurrent sessions.
type HTTPLoad struct {
	Measured       bool    `json:"measured"`
	Reason         string  `json:"reason,omitempty"`
	Sessions       int     `json:"sessions,omitempty"`
	Duration       string  `json:"duration,omitempty"`
	Calls          int     `json:"calls,omitempty"`
	Errors         int     `json:"errors,omitempty"`
	CallsPerSecond float64 `json:"calls_per_second,omitempty"`
	Latency        Summary `json:"latency"`
}

// measureHTTP is figure 4. It needs `whmcs-mcp --http ADDR`.
func measureHTTP(bin, base string, sessions int, d time.Duration) (HTTPLoad, error) {
	if !hasHTTP(bin) {
		return HTTPLoad{Reason: "--http not available yet"}, nil
	}
	return HTTPLoad{Reason: "--http exists but the bench does not drive it yet"}, nil
}

// hasHTTP reports whether the binary has the --http flag.
func hasHTTP(bin string) bool {
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	return strings.Contains(string(out), "-http ")
}
