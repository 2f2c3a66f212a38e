package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// newSandboxDeps serves a fresh sandbox on 127.0.0.1 and returns tool
// dependencies that talk to it, with the sandbox's URL.
func newSandboxDeps(t *testing.T) (*Deps, string) {
	t.Helper()
	_, baseURL := sandboxtest.Serve(t, sandbox.Options{})
	c := sandboxtest.Client(t, baseURL)
	return &Deps{WHMCS: c, Gate: NoConfirmation{}}, baseURL
}

func callHandler(t *testing.T, tool Tool, args string) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool.Name
	req.Params.Arguments = json.RawMessage(args)
	res, err := tool.Handler(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", tool.Name, err)
	}
	return res
}

// rawWHMCS posts an action straight to the sandbox and returns its reply.
func rawWHMCS(t *testing.T, base string, form url.Values) []byte {
	t.Helper()
	form.Set("identifier", sandbox.DefaultIdentifier)
	form.Set("secret", sandbox.DefaultSecret)
	form.Set("responsetype", "json")
	resp, err := http.PostForm(base+"/includes/api.php", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestClientsProductsIsCompactAndLosesNothing: for the WHMCS docs' example
// (client 1), the text result with every field is at most half the bytes of
// WHMCS's raw reply, and every field that carries information is still
// there, with the same value, except the password, which is redacted.
func TestClientsProductsIsCompactAndLosesNothing(t *testing.T) {
	deps, base := newSandboxDeps(t)
	raw := rawWHMCS(t, base, url.Values{"action": {"GetClientsProducts"}, "clientid": {"1"}})
	res := callHandler(t, GetClientsProducts(deps), `{"clientid": 1, "fields": ["*"]}`)
	if res.IsError {
		t.Fatal(resultText(res))
	}
	text := resultText(res)
	if len(text)*2 > len(raw) {
		t.Errorf("result is %d bytes, WHMCS's reply %d: want at most half", len(text), len(raw))
	}
	t.Logf("WHMCS reply %d bytes, tool result %d bytes (%.0f%%)", len(raw), len(text), 100*float64(len(text))/float64(len(raw)))
	var result ClientsProductsResult
	if err := json.Unmarshal([]byte(text), &result); err != nil {
		t.Fatal(err)
	}
	if result.Total != 2 || result.Returned != 2 || result.NextOffset != nil || len(result.Products) != 2 || result.Omitted != nil {
		t.Fatalf("want 2 of 2 services, no next page and nothing omitted, got %+v", result)
	}
	compareWithReply(t, raw, text)
}

// carriesNothing reports the WHMCS values the spec leaves out.
func carriesNothing(field string, v any, product map[string]any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		switch v {
		case "", "0", "0.00", "0000-00-00", "0000-00-00 00:00:00":
			return true
		}
		if base, ok := strings.CutPrefix(field, "translated_"); ok {
			return product[base] == v
		}
	case map[string]any:
		for _, list := range v {
			if l, ok := list.([]any); ok && len(l) > 0 {
				return false
			}
		}
		return true
	}
	return false
}

// sameValue compares WHMCS's string-typed value with the result's typed one.
func sameValue(whmcsValue, resultValue any) bool {
	s := fmt.Sprint(whmcsValue)
	switch r := resultValue.(type) {
	case float64:
		f, err := strconv.ParseFloat(s, 64)
		return err == nil && f == r
	case string:
		return s == r
	case bool:
		return r == (s == "1" || s == "on" || s == "true")
	}
	return false
}

func TestPagingEnvelope(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	var all ClientsProductsResult
	if err := json.Unmarshal([]byte(resultText(callHandler(t, GetClientsProducts(deps), `{}`))), &all); err != nil {
		t.Fatal(err)
	}
	if all.Total < 3 {
		t.Fatalf("the sandbox should have more than 2 services, has %d", all.Total)
	}
	var page ClientsProductsResult
	json.Unmarshal([]byte(resultText(callHandler(t, GetClientsProducts(deps), `{"limitnum": 2}`))), &page)
	if page.Returned != 2 || page.NextOffset == nil || *page.NextOffset != 2 || page.Total != all.Total {
		t.Errorf("first page of 2: %+v", page)
	}
	last := all.Total - 1
	var lastPage ClientsProductsResult
	json.Unmarshal([]byte(resultText(callHandler(t, GetClientsProducts(deps), fmt.Sprintf(`{"limitnum": 2, "limitstart": %d}`, last)))), &lastPage)
	if lastPage.Returned != 1 || lastPage.NextOffset != nil {
		t.Errorf("last page: %+v", lastPage)
	}
	res := callHandler(t, GetClientsProducts(deps), `{"clientid": 999}`)
	if res.IsError || !strings.Contains(resultText(res), `"products":[]`) {
		t.Errorf("no services: want an empty array, got %s", resultText(res))
	}
}

func TestArgumentErrorsNameTheArgument(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	cases := map[string]string{
		`{"clientid": "one"}`:          `argument "clientid": expected integer, got string`,
		`{"clientid": 1, "colour": 2}`: `unknown argument "colour"`,
		`{"limitnum": 0}`:              `argument "limitnum"`,
		`[1, 2]`:                       `expected object`,
		`{"clientid": 1.5}`:            `argument "clientid"`,
	}
	for args, want := range cases {
		res := callHandler(t, GetClientsProducts(deps), args)
		if !res.IsError || !strings.Contains(resultText(res), want) {
			t.Errorf("%s: want a tool error containing %q, got %v %s", args, want, res.IsError, resultText(res))
		}
	}
	res := callHandler(t, UpdateClientProduct(deps), `{"serviceid": 1, "nextduedate": "2026-13-45"}`)
	if !res.IsError || !strings.Contains(resultText(res), `"nextduedate"`) || !strings.Contains(resultText(res), "YYYY-MM-DD") {
		t.Errorf("bad date: %s", resultText(res))
	}
}

func TestOtherReads(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	var products ProductsResult
	json.Unmarshal([]byte(resultText(callHandler(t, GetProducts(deps), `{}`))), &products)
	if products.Returned == 0 || products.Returned != len(products.Products) {
		t.Fatalf("get_products: %+v", products)
	}
	for _, p := range products.Products {
		for _, price := range p.Prices {
			if price.Price < 0 {
				t.Errorf("product %d lists a disabled cycle %s", p.PID, price.Cycle)
			}
		}
	}
	var methods PaymentMethodsResult
	json.Unmarshal([]byte(resultText(callHandler(t, GetPaymentMethods(deps), `{}`))), &methods)
	modules := map[whmcs.String]bool{}
	for _, m := range methods.PaymentMethods {
		modules[m.Module] = true
	}
	if !modules["paypal"] || !modules["authorize"] {
		t.Errorf("payment methods: %+v", methods)
	}
	var addons ClientsAddonsResult
	json.Unmarshal([]byte(resultText(callHandler(t, GetClientsAddons(deps), `{}`))), &addons)
	if addons.Returned == 0 || addons.Addons[0].ID == 0 {
		t.Errorf("addons: %+v", addons)
	}
}

func TestGuardedCallsNeverRunWithoutAPolicy(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	for _, c := range []struct {
		tool Tool
		args string
	}{
		{UpdateClientProduct(deps), `{"serviceid": 2, "status": "Suspended"}`},
		{UpdateClientAddon(deps), `{"id": 1, "status": "Suspended"}`},
		{UpgradeProduct(deps), `{"serviceid": 2, "paymentmethod": "paypal", "type": "product", "newproductid": 1, "newproductbillingcycle": "monthly"}`},
	} {
		res := callHandler(t, c.tool, c.args)
		if !res.IsError || !strings.Contains(resultText(res), "nothing was changed") {
			t.Errorf("%s %s: want a refusal, got %s", c.tool.Name, c.args, resultText(res))
		}
	}
	res := callHandler(t, GetClientsProducts(deps), `{"serviceid": 2}`)
	if !strings.Contains(resultText(res), `"status":"Active"`) {
		t.Errorf("service 2 changed: %s", resultText(res))
	}
}

// scopedGate is NoConfirmation for a caller scoped to some clients, which
// remembers the refusals it was told about.
type scopedGate struct {
	NoConfirmation
	clients []int
	refused []string
}

func (g *scopedGate) Scope(context.Context) []int { return g.clients }

func (g *scopedGate) Refused(_ context.Context, tool string, _ json.RawMessage, reason string) {
	g.refused = append(g.refused, tool+": "+reason)
}

func TestScopeOfReads(t *testing.T) {
	deps, _ := newSandboxDeps(t)
	gate := &scopedGate{clients: []int{2}}
	deps.Gate = gate
	res := callHandler(t, GetClientsProducts(deps), `{}`)
	var got ClientsProductsResult
	json.Unmarshal([]byte(resultText(res)), &got)
	if got.Returned == 0 {
		t.Fatalf("client 2 has no services: %s", resultText(res))
	}
	for _, p := range got.Products {
		if p.ClientID != 2 {
			t.Errorf("scoped to client 2, saw service %d of client %d", p.ID, p.ClientID)
		}
	}
	// Client 1 exists, client 999 does not: a scoped caller cannot tell them apart.
	outside := resultText(callHandler(t, GetClientsProducts(deps), `{"clientid": 1}`))
	missing := resultText(callHandler(t, GetClientsProducts(&Deps{WHMCS: deps.WHMCS, Gate: NoConfirmation{}}), `{"clientid": 999}`))
	if outside != missing {
		t.Errorf("client 1 from a client-2 scope: %s\nwant what a client that does not exist gets: %s", outside, missing)
	}
	if len(gate.refused) != 1 {
		t.Errorf("refusals recorded: %v", gate.refused)
	}
}
