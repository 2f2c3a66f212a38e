// Package sandboxtest serves the sandbox WHMCS over HTTP on 127.0.0.1 for
// tests, the way every test of this project talks to "WHMCS".
package sandboxtest

import (
	"net/http/httptest"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// Serve opens a sandbox with opts, serves it on a loopback port until the
// test ends, and returns it with its base URL.
func Serve(t testing.TB, opts sandbox.Options) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, err := sandbox.Open(opts)
	if err != nil {
		t.Fatalf("sandbox.Open: %v", err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		if err := sb.Close(); err != nil {
			t.Errorf("sandbox.Close: %v", err)
		}
	})
	return sb, srv.URL
}

// Client returns a WHMCS client of the sandbox at url, with its default
// credentials.
func Client(t testing.TB, url string) *whmcs.Client {
	t.Helper()
	c, err := whmcs.New(whmcs.Config{URL: url, Identifier: sandbox.DefaultIdentifier, Secret: sandbox.DefaultSecret})
	if err != nil {
		t.Fatalf("whmcs.New: %v", err)
	}
	return c
}
