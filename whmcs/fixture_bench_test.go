package whmcs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/fixture"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// BenchmarkDecodeFixturePage decodes the sandbox's GetClientsProducts reply
// for a page of the bench's figure-6 services (internal/fixture): members in
// WHMCS's order, custom fields and configurable options included, as figure
// 9's stub WHMCS answers.
func BenchmarkDecodeFixturePage(b *testing.B) {
	for _, n := range []int{25, 250} {
		reply := fixturePage(b, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(reply)))
			for b.Loop() {
				var out whmcs.GetClientsProductsResponse
				if err := whmcs.DecodeReply(reply, &out); err != nil {
					b.Fatal(err)
				}
				if len(out.Products) != n {
					b.Fatalf("decoded %d services, want %d", len(out.Products), n)
				}
			}
		})
	}
}

// fixturePage returns the sandbox's reply for a page of n of the fixture
// client's services.
func fixturePage(tb testing.TB, n int) []byte {
	tb.Helper()
	sb, err := sandbox.Open(sandbox.Options{Now: sandbox.FixedClock(fixture.Now)})
	if err != nil {
		tb.Fatal(err)
	}
	defer sb.Close()
	if err := fixture.Services(context.Background(), sb, n); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+sandbox.APIPath, url.Values{
		"action": {"GetClientsProducts"}, "clientid": {fmt.Sprint(fixture.Client)}, "limitnum": {fmt.Sprint(n)},
		"identifier": {sandbox.DefaultIdentifier}, "secret": {sandbox.DefaultSecret}, "responsetype": {"json"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return reply
}
