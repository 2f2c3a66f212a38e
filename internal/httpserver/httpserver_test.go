package httpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/time/rate"

	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
)

// allTools are the names of every tool, readTools those of the reads.
var allTools, readTools = func() (all, reads []string) {
	for _, t := range tools.All(nil) {
		all = append(all, t.Name)
		if t.Kind == tools.Read {
			reads = append(reads, t.Name)
		}
	}
	return all, reads
}()

// roundTrip lists the tools, makes a read, and a guarded write confirmed
// with its token, over one transport.
func roundTrip(t *testing.T, kind string) {
	w := newWorld(t, worldOptions{policy: testPolicy})
	s := w.connect(kind, fullToken, nil)

	if got := toolNames(t, s); !sameSet(got, allTools) {
		t.Errorf("tools/list over %s = %v, want %v", kind, got, allTools)
	}

	res := call(t, s, "get_clients_products", map[string]any{"clientid": 1})
	if res.IsError || !strings.Contains(text(res), `"demodomain.com"`) {
		t.Fatalf("read over %s: isError=%v %s", kind, res.IsError, text(res))
	}

	writes := w.sb.Writes()
	args := map[string]any{"serviceid": 3, "status": "Suspended"}
	res = call(t, s, "update_client_product", args)
	preview := decode(t, res)
	token, _ := preview["confirmation_token"].(string)
	if res.IsError || preview["status"] != "confirmation_required" || token == "" {
		t.Fatalf("guarded write over %s without a token: isError=%v %s", kind, res.IsError, text(res))
	}
	if w.sb.Writes() != writes || w.serviceStatus(3) != "Active" {
		t.Fatalf("the preview changed WHMCS")
	}
	args["confirmation_token"] = token
	res = call(t, s, "update_client_product", args)
	if done := decode(t, res); res.IsError || done["status"] != "done" {
		t.Fatalf("confirmed write over %s: isError=%v %s", kind, res.IsError, text(res))
	}
	if got := w.sb.Writes() - writes; got != 1 {
		t.Errorf("sandbox counted %d writes, want 1", got)
	}
	if got := w.serviceStatus(3); got != "Suspended" {
		t.Errorf("service 3 is %s, want Suspended", got)
	}
	// The token is spent.
	res = call(t, s, "update_client_product", args)
	if !res.IsError {
		t.Errorf("a token used twice over %s: %s", kind, text(res))
	}

	// The audit log names the principal.
	recs := auditRecords(t, w.auditLog)
	if len(recs) == 0 {
		t.Fatal("no audit records")
	}
	for _, r := range recs {
		if r.Principal != "token" {
			t.Errorf("audit record of principal %q, want token", r.Principal)
		}
	}
}

func TestStreamableHTTPRoundTrip(t *testing.T) { roundTrip(t, "streamable") }

func TestSSERoundTrip(t *testing.T) { roundTrip(t, "sse") }

// Over streamable HTTP, a client that can ask its user confirms in the
// same call.
func TestStreamableHTTPElicitation(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy})
	var asked []string
	s := w.connect("streamable", supportToken, &sdk.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
			asked = append(asked, req.Params.Message)
			return &sdk.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
		},
	})
	res := call(t, s, "update_client_product", map[string]any{"serviceid": 4, "status": "Suspended"})
	if done := decode(t, res); res.IsError || done["status"] != "done" {
		t.Fatalf("elicited write: isError=%v %s", res.IsError, text(res))
	}
	if len(asked) != 1 || !strings.Contains(asked[0], "Suspended") {
		t.Errorf("the user was asked %q", asked)
	}
	if got := w.serviceStatus(4); got != "Suspended" {
		t.Errorf("service 4 is %s, want Suspended", got)
	}
}

func TestNoOrWrongTokenIsRefused(t *testing.T) {
	// Without the budget of failures (TestAuthFailuresAreThrottled's): every
	// wrong token here must get its 401.
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) { o.AuthFailureRate = rate.Inf }})
	for name, header := range map[string]map[string]string{
		"no token":        nil,
		"wrong token":     {"Authorization": "Bearer " + strings.Repeat("x", 40)},
		"digest as token": {"Authorization": "Bearer " + strings.Repeat("0", 64)},
		"basic auth":      {"Authorization": "Basic " + fullToken},
		"empty bearer":    {"Authorization": "Bearer "},
	} {
		for _, path := range []string{"/mcp", "/sse", "/message?sessionId=x"} {
			resp := w.post(path, "", header, initializeBody)
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s on %s: %s, WWW-Authenticate %q", name, path, resp.Status, resp.Header.Get("WWW-Authenticate"))
			}
		}
	}
	// A token in the query string is never read.
	for _, q := range []string{"access_token", "token", "auth"} {
		resp := w.post("/mcp?"+q+"="+fullToken, "", nil, initializeBody)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token in ?%s: %s", q, resp.Status)
		}
	}
	// A tool call without a token reaches nothing.
	resp := w.post("/mcp", "", nil, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"x"}}}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tools/call without a token: %s", resp.Status)
	}
	// The Go SDK client cannot connect with a wrong token.
	if s, err := w.tryConnect("streamable", strings.Repeat("y", 40), nil); err == nil {
		s.Close()
		t.Error("the SDK client connected over streamable HTTP with a wrong token")
	}
	if s, err := w.tryConnect("sse", strings.Repeat("y", 40), nil); err == nil {
		s.Close()
		t.Error("the SDK client connected over SSE with a wrong token")
	}
	if n := w.requests.Load(); n != 0 {
		t.Errorf("%d requests reached WHMCS from unauthenticated callers", n)
	}
	if w.sb.Writes() != 0 {
		t.Errorf("the sandbox counted %d writes", w.sb.Writes())
	}
	// The right token passes the same way.
	if resp := w.post("/mcp", fullToken, nil, initializeBody); resp.StatusCode != http.StatusOK {
		t.Errorf("the full-access token: %s", resp.Status)
	}
	if resp := w.post("/mcp", "", map[string]string{"Authorization": "bearer   " + supportToken}, initializeBody); resp.StatusCode != http.StatusOK {
		t.Errorf("a lowercase scheme with extra spaces: %s", resp.Status)
	}
}

func TestClientScopedPrincipal(t *testing.T) {
	for _, kind := range []string{"streamable", "sse"} {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, worldOptions{policy: testPolicy})
			s := w.connect(kind, supportToken, nil)

			// Reads show client 2's services only.
			res := call(t, s, "get_clients_products", map[string]any{})
			var page struct {
				Products []struct {
					ID       int `json:"id"`
					ClientID int `json:"clientid"`
				} `json:"products"`
			}
			if err := json.Unmarshal([]byte(text(res)), &page); err != nil || res.IsError {
				t.Fatalf("read: %v %s", err, text(res))
			}
			var ids []int
			for _, p := range page.Products {
				ids = append(ids, p.ID)
				if p.ClientID != 2 {
					t.Errorf("saw service %d of client %d", p.ID, p.ClientID)
				}
			}
			if !slices.Equal(ids, []int{3, 4, 5}) {
				t.Errorf("services seen: %v, want client 2's [3 4 5]", ids)
			}
			// Another client's records look exactly like records that do
			// not exist (client 999, service 99999, addon 99999).
			same := func(what, tool string, outside, missing map[string]any) {
				a, b := call(t, s, tool, outside), call(t, s, tool, missing)
				if text(a) != text(b) || a.IsError != b.IsError {
					t.Errorf("%s: %v %s\nwhile what does not exist gets: %v %s", what, a.IsError, text(a), b.IsError, text(b))
				}
			}
			same("client 1's services", "get_clients_products", map[string]any{"clientid": 1}, map[string]any{"clientid": 999})
			same("client 1's addons", "get_clients_addons", map[string]any{"clientid": 1}, map[string]any{"clientid": 999})

			// Writes on client 1's service and addon are refused before WHMCS.
			writes, before := w.sb.Writes(), w.requests.Load()
			same("update_client_product on client 1", "update_client_product",
				map[string]any{"serviceid": 2, "notes": "not yours"}, map[string]any{"serviceid": 99999, "notes": "not yours"})
			same("update_client_addon on client 1", "update_client_addon",
				map[string]any{"id": 1, "notes": "not yours"}, map[string]any{"id": 99999, "notes": "not yours"})
			upgrade := func(id int) map[string]any {
				return map[string]any{"serviceid": id, "type": "product", "newproductid": 2, "newproductbillingcycle": "monthly", "paymentmethod": "paypal", "calconly": true}
			}
			same("upgrade_product on client 1", "upgrade_product", upgrade(1), upgrade(99999))
			if w.sb.Writes() != writes {
				t.Error("a write of client 1 reached WHMCS")
			}
			// (Reading a record's owner is the only request that may go out.)
			if reached := w.requests.Load() - before; reached > 6 {
				t.Errorf("%d requests reached WHMCS for 6 refused calls", reached)
			}

			// Client 2's own service can be changed.
			res = call(t, s, "update_client_product", map[string]any{"serviceid": 3, "notes": "by support-bot"})
			if res.IsError {
				t.Fatalf("a write on client 2's service: %s", text(res))
			}
			if w.sb.Writes() != writes+1 {
				t.Error("the write on client 2's service did not reach WHMCS")
			}
		})
	}
}

func TestReadOnlyPrincipalSeesNoWriteTools(t *testing.T) {
	for _, kind := range []string{"streamable", "sse"} {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, worldOptions{policy: testPolicy})
			s := w.connect(kind, readerToken, nil)
			if got := toolNames(t, s); !sameSet(got, readTools) {
				t.Errorf("the read-only principal lists %v, want %v", got, readTools)
			}
			res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: "update_client_product",
				Arguments: map[string]any{"serviceid": 2, "notes": "x"}})
			if err == nil && !res.IsError {
				t.Errorf("the read-only principal called a write tool: %s", text(res))
			}
			if w.sb.Writes() != 0 {
				t.Error("a read-only principal's write reached WHMCS")
			}
			// Another principal on the same server still sees every tool.
			if got := toolNames(t, w.connect(kind, fullToken, nil)); !sameSet(got, allTools) {
				t.Errorf("the full-access principal lists %v", got)
			}
		})
	}
}

func TestOriginIsChecked(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.AllowedOrigins = []string{"https://support.example.com"}
	}})
	for _, origin := range []string{"http://evil.example", "null", "https://support.example.com.evil.example", "http://support.example.com"} {
		for _, path := range []string{"/mcp", "/sse", "/message?sessionId=x"} {
			resp := w.post(path, fullToken, map[string]string{"Origin": origin}, initializeBody)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("Origin %s on %s: %s", origin, path, resp.Status)
			}
		}
	}
	if w.requests.Load() != 0 {
		t.Error("a refused origin reached WHMCS")
	}
	for _, origin := range []string{"https://support.example.com", "https://SUPPORT.example.com:443", "http://localhost:6274", "http://127.0.0.1:3000"} {
		resp := w.post("/mcp", fullToken, map[string]string{"Origin": origin}, initializeBody)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("Origin %s: %s, Access-Control-Allow-Origin %q", origin, resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	// A preflight of an allowed origin is answered without a token.
	req, _ := http.NewRequest(http.MethodOptions, w.url+"/mcp", nil)
	req.Header.Set("Origin", "https://support.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %s %v", resp.Status, resp.Header)
	}
	// No Origin (every non-browser client): no CORS header, not even
	// mcp-go's "*" on the SSE stream.
	sse, _ := http.NewRequest(http.MethodGet, w.url+"/sse", nil)
	sse.Header.Set("Authorization", "Bearer "+fullToken)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err = http.DefaultClient.Do(sse.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET /sse without Origin: %s, Access-Control-Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// Loopback origins are allowed only when the server listens on loopback;
// DNS rebinding (a loopback listener reached by another host name) is
// refused whatever the origin.
func TestDNSRebindingIsRefused(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy})
	resp := w.post("/mcp", fullToken, map[string]string{"Origin": "http://evil.example"}, initializeBody)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("evil origin: %s", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodPost, w.url+"/mcp", strings.NewReader(initializeBody))
	req.Host = "evil.example"
	req.Header.Set("Authorization", "Bearer "+fullToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("Host: evil.example on a loopback listener: %s", r.Status)
	}
}

func TestOversizeBodyIs413(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) { o.MaxBodyBytes = 4096 }})
	big := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"` +
		strings.Repeat("x", 5000) + `"}}}`
	for _, path := range []string{"/mcp", "/message?sessionId=x"} {
		if resp := w.post(path, fullToken, nil, big); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%d bytes to %s: %s", len(big), path, resp.Status)
		}
		// Without Content-Length (chunked), the bound holds while reading.
		req, _ := http.NewRequest(http.MethodPost, w.url+path, io.MultiReader(strings.NewReader(big)))
		req.Header.Set("Authorization", "Bearer "+fullToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if req.ContentLength != 0 && req.ContentLength != -1 {
			t.Fatalf("the request has a Content-Length of %d", req.ContentLength)
		}
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked %d bytes to %s: %s", len(big), path, resp.Status)
		}
	}
	if w.requests.Load() != 0 || w.sb.Writes() != 0 {
		t.Error("an oversize request reached WHMCS")
	}
	if resp := w.post("/mcp", fullToken, nil, initializeBody); resp.StatusCode != http.StatusOK {
		t.Errorf("a small body: %s", resp.Status)
	}
}

func TestOversizeHeadersAreRefused(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) { o.MaxHeaderBytes = 4096 }})
	resp := w.post("/mcp", fullToken, map[string]string{"X-Filler": strings.Repeat("x", 64<<10)}, initializeBody)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB of headers: %s", resp.Status)
	}
}

func TestRateLimitPerPrincipal(t *testing.T) {
	// One request per 1000 s after a burst of 3: the 4th is over the rate
	// however slowly the test runs.
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.RateLimit, o.RateBurst = 0.001, 3
	}})
	for i := range 3 {
		if resp := w.post("/mcp", supportToken, nil, initializeBody); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %s", i+1, resp.Status)
		}
	}
	resp := w.post("/mcp", supportToken, nil, initializeBody)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("request 4: %s, want 429", resp.Status)
	}
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || retry < 1 {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	// The limit is the principal's: another principal is not slowed.
	if resp := w.post("/mcp", readerToken, nil, initializeBody); resp.StatusCode != http.StatusOK {
		t.Errorf("another principal: %s", resp.Status)
	}
}

func TestSSESessionBelongsToItsPrincipal(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy})
	endpoint, events := w.openSSE(supportToken)
	if !strings.HasPrefix(endpoint, "/message?sessionId=") {
		t.Fatalf("endpoint %q", endpoint)
	}
	// Another principal may not post to it, nor list tools through it.
	for _, token := range []string{readerToken, fullToken} {
		if resp := w.post(endpoint, token, nil, initializeBody); resp.StatusCode != http.StatusForbidden {
			t.Errorf("another principal posting to the session: %s", resp.Status)
		}
	}
	if resp := w.post("/message?sessionId=no-such-session", supportToken, nil, initializeBody); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown session: %s", resp.Status)
	}
	// Its own principal may, and the answer comes on the stream.
	if resp := w.post(endpoint, supportToken, nil, initializeBody); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the owner posting to the session: %s", resp.Status)
	}
	if ev := nextEvent(t, events); !strings.Contains(ev, `"protocolVersion"`) {
		t.Errorf("initialize answer: %s", ev)
	}
}

func TestStreamableSessionBelongsToItsPrincipal(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy})
	resp := w.post("/mcp", supportToken, nil, initializeBody)
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || session == "" {
		t.Fatalf("initialize: %s, session %q", resp.Status, session)
	}
	h := map[string]string{"Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
	if resp := w.post("/mcp", readerToken, h, listToolsBody); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another principal on the session: %s", resp.Status)
	}
	if resp := w.post("/mcp", supportToken, h, listToolsBody); resp.StatusCode != http.StatusOK {
		t.Errorf("the owner on the session: %s", resp.Status)
	}
}

func TestHealthz(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy})
	resp, err := http.Get(w.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/healthz: %s %q", resp.Status, body)
	}
}

// fakeListener has an address of choice and never accepts.
type fakeListener struct{ addr net.Addr }

func (f fakeListener) Accept() (net.Conn, error) { return nil, errors.New("closed") }
func (f fakeListener) Close() error              { return nil }
func (f fakeListener) Addr() net.Addr            { return f.addr }

func TestServeRefusesWithoutPrincipals(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy}) // for an MCP server to use
	_ = w
	for name, opts := range map[string]struct {
		anon bool
		addr string
		want string
	}{
		"no principal, no anonymous":    {false, "127.0.0.1:8080", "no principal"},
		"anonymous on a public address": {true, "192.0.2.10:8080", "loopback"},
		"anonymous on all interfaces":   {true, "0.0.0.0:8080", "loopback"},
	} {
		hs, err := httpserver.New(httpserver.Options{MCP: mcpServerForTest(t), Anonymous: anonIf(opts.anon)})
		if err != nil {
			t.Fatal(err)
		}
		addr, _ := net.ResolveTCPAddr("tcp", opts.addr)
		err = hs.Serve(context.Background(), fakeListener{addr})
		if err == nil || !strings.Contains(err.Error(), opts.want) {
			t.Errorf("%s: %v, want an error about %q", name, err, opts.want)
		}
	}
}

func TestAnonymousSandboxOnLoopback(t *testing.T) {
	w := newWorld(t, worldOptions{policy: "{}", anon: true})
	s := w.connect("streamable", "", nil)
	if got := toolNames(t, s); !sameSet(got, allTools) {
		t.Errorf("anonymous tools: %v", got)
	}
	// A token, when sent, must still be right.
	if resp := w.post("/mcp", "wrong-token", nil, initializeBody); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong token in anonymous mode: %s", resp.Status)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func auditRecords(t *testing.T, path string) []audit.Record {
	t.Helper()
	if _, err := audit.VerifyFile(path); err != nil {
		t.Fatalf("audit log: %v", err)
	}
	raw, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	for line := range strings.SplitSeq(strings.TrimSpace(raw), "\n") {
		if line == "" {
			continue
		}
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// Hole 1 over HTTP: in human mode a calconly quote issues no token, and no
// token confirms anything, for clients that can and cannot ask their user,
// on both transports.
func TestHumanModeOverHTTPIssuesNoTokenThatConfirms(t *testing.T) {
	w := newWorld(t, worldOptions{policy: "confirmation: human\n" + testPolicy})
	asker := &sdk.ClientOptions{ElicitationHandler: func(context.Context, *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
		return &sdk.ElicitResult{Action: "decline"}, nil
	}}
	quote := map[string]any{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "monthly", "calconly": true}
	for _, c := range []struct {
		kind string
		opts *sdk.ClientOptions
	}{{"streamable", asker}, {"streamable", nil}, {"sse", nil}} {
		s := w.connect(c.kind, supportToken, c.opts)
		res := call(t, s, "upgrade_product", quote)
		if out := decode(t, res); res.IsError || out["status"] != "quote" || out["confirmation_token"] != nil {
			t.Errorf("%s (elicitation %v): a quote in human mode: %s", c.kind, c.opts != nil, text(res))
		}
		confirm := map[string]any{"serviceid": 3, "paymentmethod": "paypal", "type": "product", "newproductid": 2, "newproductbillingcycle": "monthly", "confirmation_token": "wmc_AAAAAAAAAAAAAAAAAAAAAAAA"}
		if res := call(t, s, "upgrade_product", confirm); !res.IsError || !strings.Contains(text(res), "confirms nothing here") {
			t.Errorf("%s: a token in human mode: %s", c.kind, text(res))
		}
	}
	if w.sb.Writes() != 0 {
		t.Errorf("%d writes", w.sb.Writes())
	}
}
