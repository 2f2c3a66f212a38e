package mcpserver

// Benchmarks of the MCP server without a transport: one JSON-RPC message in,
// one response out, through mcp-go's dispatch, the policy and a tool, against
// a WHMCS that answers at once. With the logger the server runs with (text
// to a discarded stream), so that the per-request log lines count. Run with:
//
//	go test -run '^$' -bench . ./internal/mcpserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/internal/fixture"
	"github.com/whmcs-mcp/whmcs-mcp/internal/logging"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// benchServer returns an initialized server whose WHMCS answers every
// request with the sandbox's GetClientsProducts reply for client 1, or with
// services > 0, for a page of that many of the bench's figure-6 services
// (internal/fixture).
func benchServer(b *testing.B, services int) (*server.MCPServer, context.Context) {
	b.Helper()
	sb, err := sandbox.Open(sandbox.Options{Now: sandbox.FixedClock(fixture.Now)})
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{"action": {"GetClientsProducts"}, "clientid": {"1"},
		"identifier": {sandbox.DefaultIdentifier}, "secret": {sandbox.DefaultSecret}, "responsetype": {"json"}}
	if services > 0 {
		if err := fixture.Services(context.Background(), sb, services); err != nil {
			b.Fatal(err)
		}
		form.Set("clientid", strconv.Itoa(fixture.Client))
		form.Set("limitnum", strconv.Itoa(services))
	}
	live := httptest.NewServer(sb)
	resp, err := http.PostForm(live.URL+sandbox.APIPath, form)
	if err != nil {
		b.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	live.Close()
	sb.Close()
	canned := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
	}))
	b.Cleanup(canned.Close)
	wc, err := whmcs.New(whmcs.Config{URL: canned.URL, Identifier: "id", Secret: "secret"})
	if err != nil {
		b.Fatal(err)
	}
	log, err := logging.New(io.Discard, logging.Options{})
	if err != nil {
		b.Fatal(err)
	}
	pol, err := policy.New(nil, policy.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{WHMCS: wc, Gate: pol, Allowed: pol.Allowed, Logger: log, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	srv.HandleMessage(ctx, json.RawMessage(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`))
	return srv, ctx
}

func benchMessage(b *testing.B, msg string) { benchMessageOf(b, 0, msg) }

func benchMessageOf(b *testing.B, services int, msg string) {
	srv, ctx := benchServer(b, services)
	raw := json.RawMessage(msg)
	b.ReportAllocs()
	for b.Loop() {
		resp := srv.HandleMessage(ctx, raw)
		out, err := json.Marshal(resp) // as the transport writes it
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkPing(b *testing.B) {
	benchMessage(b, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
}

func BenchmarkToolsList(b *testing.B) {
	benchMessage(b, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
}

// BenchmarkGetClientsProducts is a whole tools/call of get_clients_products
// (WHMCS's reference example: client 1, two services).
func BenchmarkGetClientsProducts(b *testing.B) {
	benchMessage(b, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_clients_products","arguments":{"clientid":1}}}`)
}

// BenchmarkGetClientsProducts25 is a whole tools/call of get_clients_products
// for a page of 25 of the bench's figure-6 services, with the default fields
// and with every field.
func BenchmarkGetClientsProducts25(b *testing.B) {
	for _, c := range []struct{ name, fields string }{{"default", ""}, {"all", `,"fields":["*"]`}} {
		b.Run(c.name, func(b *testing.B) {
			benchMessageOf(b, 25, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_clients_products","arguments":{"clientid":5,"limitnum":25`+c.fields+`}}}`)
		})
	}
}
