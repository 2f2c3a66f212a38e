package mcpserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// A request whose id is not a string or a number is refused before it runs:
// even a write's tools/call.
func TestRequestIDMustBeAStringOrANumber(t *testing.T) {
	sb, baseURL := sandboxtest.Serve(t, sandbox.Options{})
	wc := sandboxtest.Client(t, baseURL)
	srv, err := New(Options{WHMCS: wc, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	call := `"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"n"}}`
	for id, want := range map[string]string{
		`{"a":1}`: `"error":{"code":-32600,"message":"invalid request: the id must be a string or a number, not an object"}`,
		`[1]`:     `"error":{"code":-32600,"message":"invalid request: the id must be a string or a number, not an array"}`,
		`false`:   `"error":{"code":-32600,"message":"invalid request: the id must be a string or a number, not a boolean"}`,
		`"s"`:     `"result":`,
		`7`:       `"result":`,
		`7.5`:     `"result":`,
	} {
		before := sb.Writes()
		resp := srv.HandleMessage(context.Background(), json.RawMessage(`{"jsonrpc":"2.0","id":`+id+`,`+call+`}`))
		raw, _ := json.Marshal(resp)
		if !strings.Contains(string(raw), want) {
			t.Errorf("id %s: %s, want %s", id, raw, want)
		}
		wrote := sb.Writes() - before
		if refused := strings.Contains(want, "error"); (refused && wrote != 0) || (!refused && wrote != 1) {
			t.Errorf("id %s: %d writes", id, wrote)
		}
	}
}
