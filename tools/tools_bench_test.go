package tools

// Benchmarks of the tools' hot paths: schema lookup and argument validation,
// shaping services for the model, a whole get_clients_products handler call
// against a WHMCS that answers at once, and the checks of a write against
// what WHMCS lists. Run with:
//
//	go test -run '^$' -bench . ./tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

func BenchmarkDecodeArgs(b *testing.B) {
	cases := []struct {
		tool string
		args string
		into func() any
	}{
		{"get_clients_products", `{"clientid": 1, "limitnum": 25}`, func() any { return &ClientsProductsArgs{} }},
		{"update_client_product", `{"serviceid": 2, "status": "Suspended", "nextduedate": "2026-12-01", "customfields": {"1": "Yahoo"}, "unset": ["ns1"]}`,
			func() any { return &UpdateClientProductArgs{} }},
	}
	for _, c := range cases {
		raw := json.RawMessage(c.args)
		if err := decodeArgs(c.tool, raw, c.into()); err != nil {
			b.Fatal(err)
		}
		b.Run(c.tool, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeArgs(c.tool, raw, c.into()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("invalid", func(b *testing.B) {
		raw := json.RawMessage(`{"serviceid": "two", "colour": "red"}`)
		b.ReportAllocs()
		for b.Loop() {
			if err := decodeArgs("update_client_product", raw, &UpdateClientProductArgs{}); err == nil {
				b.Fatal("no error")
			}
		}
	})
}

// sandboxReply returns the sandbox's GetClientsProducts reply for a page of
// n services of one client: copies of the demo services 3 to 12, added to a
// fresh in-memory sandbox.
func sandboxReply(tb testing.TB, n int) []byte {
	tb.Helper()
	sb, err := sandbox.Open(sandbox.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer sb.Close()
	db := sb.DB()
	if _, err := db.Exec(`INSERT INTO tblclients (id, firstname, lastname, email) VALUES (5, 'Bench', 'Fixture', 'ops@example.com')`); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		src := 3 + i%10
		if _, err := db.Exec(`INSERT INTO tblhosting (userid, orderid, packageid, server, regdate, domain, paymentmethod,
			firstpaymentamount, amount, billingcycle, nextduedate, domainstatus, username, password, dedicatedip, notes)
			SELECT 5, orderid, packageid, server, regdate, ? || domain, paymentmethod, firstpaymentamount, amount,
			billingcycle, nextduedate, domainstatus, username, password, dedicatedip, notes FROM tblhosting WHERE id = ?`,
			fmt.Sprintf("s%d.", i), src); err != nil {
			tb.Fatal(err)
		}
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+sandbox.APIPath, url.Values{
		"action": {"GetClientsProducts"}, "clientid": {"5"}, "limitnum": {fmt.Sprint(n)},
		"identifier": {sandbox.DefaultIdentifier}, "secret": {sandbox.DefaultSecret}, "responsetype": {"json"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var buf json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf
}

func BenchmarkShapeServices(b *testing.B) {
	for _, n := range []int{2, 25, 250} {
		var resp whmcs.GetClientsProductsResponse
		if err := json.Unmarshal(sandboxReply(b, n), &resp); err != nil {
			b.Fatal(err)
		}
		if len(resp.Products) != n {
			b.Fatalf("got %d services, want %d", len(resp.Products), n)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				products := make([]Service, 0, len(resp.Products))
				for _, p := range resp.Products {
					products = append(products, serviceOf(p))
				}
				if _, err := StructuredResult(&ClientsProductsResult{Total: n, Returned: n, Products: products}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// cannedWHMCS serves reply to every request, at once: what is left of a call
// is the server's own work.
func cannedWHMCS(tb testing.TB, reply []byte) *whmcs.Client {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
	}))
	tb.Cleanup(srv.Close)
	c, err := whmcs.New(whmcs.Config{URL: srv.URL, Identifier: "id", Secret: "secret"})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func BenchmarkGetClientsProductsHandler(b *testing.B) {
	for _, n := range []int{2, 25, 250} {
		tool := GetClientsProducts(&Deps{WHMCS: cannedWHMCS(b, sandboxReply(b, n)), Gate: NoConfirmation{}})
		req := mcp.CallToolRequest{}
		req.Params.Name = tool.Name
		req.Params.Arguments = json.RawMessage(fmt.Sprintf(`{"clientid": 5, "limitnum": %d}`, n))
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := tool.Handler(context.Background(), req)
				if err != nil || res.IsError {
					b.Fatal(err, res)
				}
			}
		})
	}
}

// BenchmarkWriteChecks is the cost of the checks on a write, against the
// sandbox on 127.0.0.1: the checks alone ("checks/") and the whole
// update_client_product call run at once, without preview ("write/"), with
// paymentmethod ("pm") or with paymentmethod, pid, custom fields and
// configurable options ("all"), the catalogue kept for CatalogTTL ("cached")
// or read afresh on every call ("uncached"); "write/notes" is a write
// without a checked argument, for scale. requests/op counts what reached
// WHMCS: the write, the service read that custom fields and options need,
// and the catalogue reads when uncached.
func BenchmarkWriteChecks(b *testing.B) {
	const (
		pm  = `{"serviceid": 9, "notes": "bench", "paymentmethod": "paypal"}`
		all = `{"serviceid": 9, "notes": "bench", "paymentmethod": "paypal", "pid": 7, "customfields": {"4": "build.tanakalabs.example"}, ` +
			`"configoptions": {"2": 5, "3": {"optionid": 6, "qty": 4}, "4": {"optionid": 7, "qty": 1}, "5": {"optionid": 10}}}`
	)
	for _, c := range []struct {
		name, args string
		ttl        time.Duration
		write      bool
	}{
		{"checks/pm/cached", pm, CatalogTTL, false},
		{"checks/pm/uncached", pm, 0, false},
		{"checks/all/cached", all, CatalogTTL, false},
		{"checks/all/uncached", all, 0, false},
		{"write/notes", `{"serviceid": 9, "notes": "bench"}`, CatalogTTL, true},
		{"write/all/cached", all, CatalogTTL, true},
		{"write/all/uncached", all, 0, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := newCounted(b, nil)
			w.deps.Catalog = NewCatalog(w.deps.WHMCS, c.ttl)
			tool := w.tools["update_client_product"]
			req := mcp.CallToolRequest{}
			req.Params.Name = tool.Name
			req.Params.Arguments = json.RawMessage(c.args)
			call := func() {
				if !c.write {
					if err := tool.Checks.run(context.Background(), w.deps, req.Params.Arguments.(json.RawMessage)); err != nil {
						b.Fatal(err)
					}
					return
				}
				res, err := tool.Handler(context.Background(), req)
				if err != nil || res.IsError {
					b.Fatal(err, res)
				}
			}
			call() // the catalogue kept, when it is
			before, n := len(w.whmcs.Requests()), 0
			b.ReportAllocs()
			for b.Loop() {
				call()
				n++
			}
			b.ReportMetric(float64(len(w.whmcs.Requests())-before)/float64(n), "requests/op")
		})
	}
}
