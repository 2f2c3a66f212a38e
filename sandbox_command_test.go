package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// startSandboxCommand runs `whmcs-mcp sandbox` in the test's process on a
// free loopback port with args, and returns the API's URL. The command stops
// when the test ends.
func startSandboxCommand(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	logs, logw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- sandboxCommand(ctx, append([]string{"--listen", "127.0.0.1:0", "--log-format", "json"}, args...), logw)
		logw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sandbox command: %v", err)
		}
	})
	lines := bufio.NewScanner(logs)
	for lines.Scan() {
		var line struct{ URL string }
		if json.Unmarshal(lines.Bytes(), &line) == nil && line.URL != "" {
			go io.Copy(io.Discard, logs) // the rest of the log
			return line.URL
		}
	}
	t.Fatalf("the sandbox command logged no URL: %v", lines.Err())
	return ""
}

// TestSandboxCommandAllowIP: --allow-ip lets listed addresses in without
// --access-key; others need the key or get WHMCS's "Invalid IP".
func TestSandboxCommandAllowIP(t *testing.T) {
	post := func(api, key string) (int, string) {
		form := url.Values{"action": {"GetPaymentMethods"}, "identifier": {sandbox.DefaultIdentifier},
			"secret": {sandbox.DefaultSecret}, "responsetype": {"json"}}
		if key != "" {
			form.Set("accesskey", key)
		}
		resp, err := http.PostForm(api, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	allowed := startSandboxCommand(t, "--allow-ip", "192.0.2.1, 127.0.0.1", "--access-key", "k")
	if code, body := post(allowed, ""); code != http.StatusOK || !strings.Contains(body, `"result":"success"`) {
		t.Errorf("from an allowed address: %d %s", code, body)
	}
	other := startSandboxCommand(t, "--allow-ip", "192.0.2.1", "--access-key", "k")
	if code, body := post(other, ""); code != http.StatusForbidden || body != `{"result":"error","message":"Invalid IP 127.0.0.1"}` {
		t.Errorf("from another address without the key: %d %s", code, body)
	}
	if code, body := post(other, "k"); code != http.StatusOK {
		t.Errorf("from another address with the key: %d %s", code, body)
	}
	if err := sandboxCommand(t.Context(), []string{"--listen", "127.0.0.1:0", "--allow-ip", "not-an-ip"}, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "not-an-ip") {
		t.Errorf("--allow-ip not-an-ip: %v", err)
	}
}
