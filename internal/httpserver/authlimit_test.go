package httpserver_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
)

// Guessing tokens is throttled: after a burst of failures an address gets
// 429 with Retry-After, and the failures are logged in bounded volume,
// without the tokens.
func TestAuthFailuresAreThrottled(t *testing.T) {
	var logs logBuffer
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) { o.Logger = logs.logger() }})
	var unauthorized, throttled int
	for i := range 200 {
		resp := w.post("/mcp", fmt.Sprintf("guess-%03d-0123456789abcdef0123456789abcdef", i), nil, initializeBody)
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests:
			throttled++
			if retry, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || retry < 1 || !resp.Close {
				t.Fatalf("429 with Retry-After %q, Connection: close %v", resp.Header.Get("Retry-After"), resp.Close)
			}
		default:
			t.Fatalf("guess %d: %s", i, resp.Status)
		}
	}
	if unauthorized < httpserver.DefaultAuthFailureBurst || throttled < 100 {
		t.Errorf("200 wrong tokens: %d answered 401, %d answered 429", unauthorized, throttled)
	}

	if err := w.shutdown(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "guess-") {
		t.Error("a bearer token is in the log")
	}
	if lines := logs.records(t, "wrong bearer token"); len(lines) != 1 || lines[0]["remote"] != "127.0.0.1" {
		t.Errorf("wrong tokens logged one by one: %d lines, the first %v", len(lines), lines[:min(1, len(lines))])
	}
	if lines := logs.records(t, "too many authentication failures"); len(lines) != 1 {
		t.Errorf("throttled requests logged one by one: %d lines", len(lines))
	}
	sum := logs.records(t, "HTTP requests refused")
	if len(sum) != 1 || sum[0]["wrong_credentials"] != float64(unauthorized) || sum[0]["throttled"] != float64(throttled) {
		t.Errorf("summary %v, want %d wrong tokens and %d throttled", sum, unauthorized, throttled)
	}
}

// Once an address has spent its budget, its requests are refused before
// their token is looked at, the right token's too; other addresses and
// /healthz are served. A request without a token guesses nothing and spends
// nothing.
func TestAuthBudgetComesBeforeTheToken(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.AuthFailureRate, o.AuthFailureBurst = 0.001, 3 // then one more every 1000 s
	}})
	for range 20 {
		if resp := w.post("/mcp", "", nil, initializeBody); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("no token: %s", resp.Status)
		}
	}
	for i := range 3 {
		if resp := w.post("/mcp", strings.Repeat("x", 40), nil, initializeBody); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d within the budget: %s", i+1, resp.Status)
		}
	}
	resp := w.post("/mcp", fullToken, nil, initializeBody)
	if retry, err := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || err != nil || retry < 1 {
		t.Errorf("the right token from an address over its budget: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	for _, path := range []string{"/mcp", "/sse", "/message?sessionId=x"} {
		if resp := w.post(path, "", nil, initializeBody); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s without a token from an address over its budget: %s", path, resp.Status)
		}
	}
	if !w.initialize(clientFrom(t, "127.0.0.2")) {
		t.Error("the right token from another address is refused")
	}
	if !w.healthz(http.DefaultClient) {
		t.Error("/healthz is refused to an address over its budget")
	}
	if n := w.requests.Load(); n != 0 {
		t.Errorf("%d requests reached WHMCS", n)
	}
}
