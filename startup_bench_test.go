package main

// BenchmarkStartup is the start-up work of `whmcs-mcp` on stdio after the
// package initialisation: the app (logger, ledger, policy, WHMCS client, the
// MCP server with every tool) and the answer to initialize. Figure 1 of the
// bench times the whole process. Run with:
//
//	go test -run '^$' -bench Startup .

import (
	"context"
	"encoding/json"
	"io"
	"testing"
)

func BenchmarkStartup(b *testing.B) {
	s := settings{url: "http://127.0.0.1:1", identifier: "id", secret: "secret", logLevel: "info", logFormat: "text", instance: "bench"}
	initialize := json.RawMessage(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		a, err := newApp(&s, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		resp := a.server.HandleMessage(context.Background(), initialize)
		if out, err := json.Marshal(resp); err != nil || len(out) == 0 {
			b.Fatal(err)
		}
		a.close()
	}
}
