package main

// Several replicas sharing one Redis and one WHMCS (the sandbox): a
// confirmation is used once whichever replica sees it, an elicitation begun
// on one replica is finished on another, and a Redis that goes away stops
// guarded changes (not reads) until it is back.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/redistest"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// roundRobin sends each request to the next replica in turn, as a load
// balancer without sticky sessions would.
type roundRobin struct {
	hosts []string // host:port of each replica
	next  atomic.Int64
	base  http.RoundTripper
}

func (rr *roundRobin) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Host = rr.hosts[int(rr.next.Add(1)-1)%len(rr.hosts)]
	r.Host = r.URL.Host
	return rr.base.RoundTrip(r)
}

// replicas starts n replicas on the sandbox at url sharing the Redis at
// redisURL, each with its own audit log.
func replicas(t *testing.T, n int, url, redisURL string) ([]*httpProcess, []string) {
	t.Helper()
	var procs []*httpProcess
	var logs []string
	for i := range n {
		logs = append(logs, filepath.Join(t.TempDir(), fmt.Sprintf("audit-%d.jsonl", i)))
		procs = append(procs, startHTTP(t, append(sandboxEnv(url), "WHMCS_MCP_TOKEN="+e2eFullToken),
			"--state", redisURL, "--instance", fmt.Sprintf("replica-%d", i), "--audit-log", logs[i], "--rate-limit", "0"))
	}
	return procs, logs
}

func hostOf(p *httpProcess) string { return strings.TrimPrefix(p.url, "http://") }

func TestReplicasShareConfirmationsThroughRedis(t *testing.T) {
	sb, url := serveSandbox(t, sandbox.Options{})
	redis := redistest.Start(t)
	procs, logs := replicas(t, 3, url, redis.URL)
	a := connectHTTP(t, "streamable", procs[0].url, e2eFullToken, nil)
	b := connectHTTP(t, "streamable", procs[1].url, e2eFullToken, nil)
	c := connectHTTP(t, "streamable", procs[2].url, e2eFullToken, nil)

	// Preview on A, confirm on B, the same token again on C.
	args := map[string]any{"serviceid": 4, "status": "Suspended"}
	preview := resultJSON(t, callTool(t, a, "update_client_product", args))
	if preview["status"] != "confirmation_required" {
		t.Fatalf("preview on A: %v", preview)
	}
	args["confirmation_token"] = preview["confirmation_token"]
	if done := resultJSON(t, callTool(t, b, "update_client_product", args)); done["status"] != "done" {
		t.Fatalf("confirm on B: %v", done)
	}
	if err := sb.SetServiceStatus(context.Background(), 4, "Active"); err != nil {
		t.Fatal(err)
	}
	if res := callTool(t, c, "update_client_product", args); !res.IsError || !strings.Contains(text(res), "already used") {
		t.Errorf("the same token on C: %s", text(res))
	}
	if sb.Writes() != 1 {
		t.Errorf("%d writes, want 1", sb.Writes())
	}
	var confirmedOnB bool
	for _, r := range auditRecords(t, logs[1]) {
		confirmedOnB = confirmedOnB || (r.Event == "execution" && r.Instance == "replica-1")
	}
	if !confirmedOnB {
		t.Error("B's audit log does not name replica-1 for its execution")
	}

	// 50 concurrent confirmations of one token, round-robin over the three.
	rr := &roundRobin{hosts: []string{hostOf(procs[0]), hostOf(procs[1]), hostOf(procs[2])}, base: http.DefaultTransport.(*http.Transport).Clone()}
	spread := connectHTTP(t, "streamable", procs[0].url, e2eFullToken, rr)
	args = map[string]any{"serviceid": 3, "status": "Suspended"}
	preview = resultJSON(t, callTool(t, spread, "update_client_product", args))
	args["confirmation_token"] = preview["confirmation_token"]
	before := sb.Writes()
	var done atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := spread.CallTool(context.Background(), &sdk.CallToolParams{Name: "update_client_product", Arguments: args})
			if err == nil && !res.IsError && strings.Contains(text(res), `"done"`) {
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := sb.Writes() - before; got != 1 || done.Load() != 1 {
		t.Errorf("50 concurrent confirmations over 3 replicas: %d writes, %d done; want 1 and 1", got, done.Load())
	}
}

// TestElicitationBegunOnOneReplicaFinishesOnAnother: with the 2026-07-28
// protocol the question's state comes back with the retry, which a load
// balancer may send to any replica.
func TestElicitationBegunOnOneReplicaFinishesOnAnother(t *testing.T) {
	sb, url := serveSandbox(t, sandbox.Options{})
	redis := redistest.Start(t)
	procs, _ := replicas(t, 2, url, redis.URL)
	rr := &roundRobin{hosts: []string{hostOf(procs[0]), hostOf(procs[1])}, base: http.DefaultTransport.(*http.Transport).Clone()}
	httpClient := &http.Client{Transport: bearerTransport{token: e2eFullToken, base: rr}}
	tr, err := transport.NewStreamableHTTP(procs[0].url+"/mcp", transport.WithHTTPBasicClient(httpClient))
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	cl := client.NewClient(tr, client.WithElicitationHandler(elicitFunc(func(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
		asked++
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}}, nil
	})))
	ctx := context.Background()
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20260728
	init.Params.ClientInfo = mcp.Implementation{Name: "round-robin", Version: "1"}
	if got, err := cl.Initialize(ctx, init); err != nil || got.ProtocolVersion != mcp.ProtocolVersion20260728 {
		t.Fatalf("initialize: %v; want protocol %s", err, mcp.ProtocolVersion20260728)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "update_client_product"
	req.Params.Arguments = map[string]any{"serviceid": 4, "status": "Suspended"}
	before := rr.next.Load()
	res, err := cl.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal([]byte(mcpText(res)), &out)
	if res.IsError || out["status"] != "done" || asked != 1 {
		t.Fatalf("elicited change over two replicas: %s (asked %d times)", mcpText(res), asked)
	}
	if rr.next.Load()-before < 2 {
		t.Errorf("the call and its retry went through %d requests: they did not reach both replicas", rr.next.Load()-before)
	}
	if sb.Writes() != 1 {
		t.Errorf("%d writes, want 1", sb.Writes())
	}
}

type elicitFunc func(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error)

func (f elicitFunc) Elicit(ctx context.Context, r mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return f(ctx, r)
}

func mcpText(res *mcp.CallToolResult) string {
	var s string
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			s += tc.Text
		}
	}
	return s
}

// TestRedisDownStopsGuardedChangesNotReads: fail closed, then recover
// without a restart.
func TestRedisDownStopsGuardedChangesNotReads(t *testing.T) {
	sb, url := serveSandbox(t, sandbox.Options{})
	redis := redistest.Start(t)
	procs, _ := replicas(t, 1, url, redis.URL)
	s := connectHTTP(t, "streamable", procs[0].url, e2eFullToken, nil)
	args := map[string]any{"serviceid": 4, "status": "Suspended"}
	preview := resultJSON(t, callTool(t, s, "update_client_product", args))

	redis.Stop()
	confirm := map[string]any{"serviceid": 4, "status": "Suspended", "confirmation_token": preview["confirmation_token"]}
	for what, call := range map[string]map[string]any{"a confirmation": confirm, "a preview": args} {
		res := callTool(t, s, "update_client_product", call)
		if !res.IsError || !strings.Contains(text(res), "confirmation ledger cannot be reached") {
			t.Errorf("%s with Redis down: %s", what, text(res))
		}
	}
	if res := callTool(t, s, "get_clients_products", map[string]any{"serviceid": 4}); res.IsError || !strings.Contains(text(res), `"Active"`) {
		t.Errorf("a read with Redis down: %s", text(res))
	}
	if sb.Writes() != 0 {
		t.Errorf("%d writes with Redis down", sb.Writes())
	}

	redis.Restart(t)
	preview = resultJSON(t, callTool(t, s, "update_client_product", args))
	args["confirmation_token"] = preview["confirmation_token"]
	if done := resultJSON(t, callTool(t, s, "update_client_product", args)); done["status"] != "done" || sb.Writes() != 1 {
		t.Errorf("after Redis came back: %v", done)
	}
}

// TestTokenIsUsedOnceAcrossRestarts is the new user's reproduction: preview,
// confirm, the service set back by hand, the same token again in a new
// process: refused, with a file ledger and with Redis.
func TestTokenIsUsedOnceAcrossRestarts(t *testing.T) {
	for _, kind := range []string{"file", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sb, url := serveSandbox(t, sandbox.Options{})
			state := filepath.Join(t.TempDir(), "state.db")
			if kind == "redis" {
				state = redistest.Start(t).URL
			}
			call := func(args string) (string, error) {
				cmd := exec.Command(binary, "call", "--state", state, "update_client_product", args)
				cmd.Env = append(append(os.Environ(), "NO_COLOR=1", "WHMCS_MCP_STATE="), sandboxEnv(url)...)
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			out, err := call(`{"serviceid": 4, "status": "Suspended"}`)
			var preview map[string]any
			if err != nil || json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &preview) != nil {
				t.Fatalf("preview: %v\n%s", err, out)
			}
			confirm := fmt.Sprintf(`{"serviceid": 4, "status": "Suspended", "confirmation_token": %q}`, preview["confirmation_token"])
			if out, err := call(confirm); err != nil || !strings.Contains(out, `"done"`) {
				t.Fatalf("confirm in a new process: %v\n%s", err, out)
			}
			if err := sb.SetServiceStatus(context.Background(), 4, "Active"); err != nil {
				t.Fatal(err)
			}
			if out, err := call(confirm); err == nil || !strings.Contains(out, "already used") {
				t.Errorf("the same token in a third process: %v\n%s", err, out)
			}
			if sb.Writes() != 1 {
				t.Errorf("%d writes, want 1", sb.Writes())
			}
		})
	}
}
