package tools

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// keyedWHMCS is a WHMCS stand-in on 127.0.0.1 that answers GetClientsProducts
// with products, raw JSON, and any other action with an error. It records
// the actions it was asked for.
func keyedWHMCS(t *testing.T, products string) (*whmcs.Client, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var actions []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := r.PostFormValue("action")
		mu.Lock()
		actions = append(actions, action)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if action != "GetClientsProducts" {
			w.Write([]byte(`{"result":"error","message":"the stand-in answers GetClientsProducts only"}`))
			return
		}
		w.Write([]byte(`{"result":"success","clientid":"1","serviceid":null,"pid":null,"domain":null,` +
			`"totalresults":"3","startnumber":0,"numreturned":3,"products":` + products + `}`))
	}))
	t.Cleanup(srv.Close)
	c, err := whmcs.New(whmcs.Config{URL: srv.URL, Identifier: "id", Secret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	return c, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(actions)
	}
}

// overMCP serves tool on an MCP server and returns an initialized
// in-process MCP client of it.
func overMCP(t *testing.T, tool Tool) *client.Client {
	t.Helper()
	serverTools, err := ServerTools([]Tool{tool})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.NewMCPServer("whmcs-mcp-test", "1", server.WithToolCapabilities(false))
	srv.AddTools(serverTools...)
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

// service is one service of a GetClientsProducts reply, as WHMCS sends it.
func service(id, domain, status string) string {
	return `{"id":"` + id + `","qty":"1","clientid":"1","orderid":"` + id + `","pid":"1","regdate":"2015-01-01",` +
		`"name":"Starter","groupname":"Shared Hosting","domain":"` + domain + `","billingcycle":"Monthly",` +
		`"recurringamount":"12.95","nextduedate":"2026-01-01","status":"` + status + `","password":"secret",` +
		`"customfields":{"customfield":[]},"configoptions":{"configoption":[]}}`
}

// Issue 12: WHMCS sends a list keyed by number ({"product": {"0": {...}, ...}},
// or keyed by service id), which the client read as one empty service, id 0.
// Through get_clients_products over MCP, every service comes back.
func TestNumericKeyedServicesOverMCP(t *testing.T) {
	s3, s7, s12 := service("3", "three.example", "Active"), service("7", "seven.example", "Suspended"), service("12", "twelve.example", "Active")
	for name, products := range map[string]string{
		"keyed by index":            `{"product":{"0":` + s3 + `,"1":` + s7 + `,"2":` + s12 + `}}`,
		"keyed by id":               `{"product":{"12":` + s12 + `,"3":` + s3 + `,"7":` + s7 + `}}`,
		"keyed, without a wrapper":  `{"3":` + s3 + `,"7":` + s7 + `,"12":` + s12 + `}`,
		"an array, as the docs say": `{"product":[` + s3 + `,` + s7 + `,` + s12 + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			wc, actions := keyedWHMCS(t, products)
			c := overMCP(t, GetClientsProducts(&Deps{WHMCS: wc, Gate: NoConfirmation{}}))
			req := mcp.CallToolRequest{}
			req.Params.Name = "get_clients_products"
			req.Params.Arguments = map[string]any{"clientid": 1, "fields": []string{"*"}}
			res, err := c.CallTool(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			text := resultText(res)
			if res.IsError {
				t.Fatalf("tool error: %s", text)
			}
			var result ClientsProductsResult
			if err := json.Unmarshal([]byte(text), &result); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range result.Products {
				got = append(got, string(s.Domain)+" "+string(s.Status))
				if s.ID == 0 || s.Password != redacted || s.RecurringAmount != 12.95 {
					t.Errorf("service %+v", s)
				}
			}
			want := []string{"three.example Active", "seven.example Suspended", "twelve.example Active"}
			if !slices.Equal(got, want) || result.Total != 3 || result.Returned != 3 {
				t.Errorf("got %d of %d services %q, want 3 of 3 %q", result.Returned, result.Total, got, want)
			}
			if a := actions(); !slices.Equal(a, []string{"GetClientsProducts"}) {
				t.Errorf("WHMCS was asked for %v", a)
			}
		})
	}
}

// A list item the client cannot map reaches the model as a tool error that
// names it, not as a service with id 0.
func TestUnmappableServiceIsAToolError(t *testing.T) {
	wc, _ := keyedWHMCS(t, `{"product":{"3":`+service("3", "three.example", "Active")+`,"7":"gone"}}`)
	c := overMCP(t, GetClientsProducts(&Deps{WHMCS: wc, Gate: NoConfirmation{}}))
	req := mcp.CallToolRequest{}
	req.Params.Name = "get_clients_products"
	req.Params.Arguments = map[string]any{"clientid": 1}
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	text := resultText(res)
	if !res.IsError || !strings.Contains(text, `string "gone" into Go struct field GetClientsProductsResponse.products.product.7`) {
		t.Errorf("result (error %v): %s", res.IsError, text)
	}
	if strings.Contains(text, "three.example") {
		t.Errorf("a partial list came back: %s", text)
	}
}
