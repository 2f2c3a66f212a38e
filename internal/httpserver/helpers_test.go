package httpserver_test

// The tests serve the real MCP server (tools, policy, audit log) over HTTP
// on 127.0.0.1, in front of the sandbox WHMCS, and drive it with the
// official Go SDK client and with plain HTTP requests.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
	"github.com/whmcs-mcp/whmcs-mcp/internal/logging"
	"github.com/whmcs-mcp/whmcs-mcp/internal/mcpserver"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// Bearer tokens of the test principals.
const (
	fullToken    = "full-access-token-0123456789abcdef012345"
	supportToken = "support-bot-token-0123456789abcdef012345"
	readerToken  = "reporting-token-0123456789abcdef01234567"
)

// testPolicy has a principal scoped to client 2 and a read-only one.
var testPolicy = fmt.Sprintf(`
principals:
  - name: support-bot
    token_sha256: %s
    clients: [2]
  - name: reporting
    token_sha256: %s
    mode: read-only
`, policy.TokenSHA256(supportToken), policy.TokenSHA256(readerToken))

// world is the HTTP server in front of the sandbox, and what the test can
// observe of it.
type world struct {
	t        *testing.T
	sb       *sandbox.Sandbox
	url      string       // http://127.0.0.1:PORT
	requests atomic.Int64 // requests that reached the sandbox WHMCS
	auditLog string
	stop     context.CancelFunc
	served   chan error // Serve's result

	gateMu  sync.Mutex
	gate    func(action string) bool // true: hold the request until release
	arrived chan string              // actions held
	release chan struct{}
}

type worldOptions struct {
	policy   string
	token    string // WHMCS_MCP_TOKEN; "" = fullToken
	anon     bool
	mutate   func(*httpserver.Options)
	listener net.Listener
}

func newWorld(t *testing.T, wo worldOptions) *world {
	t.Helper()
	w := &world{t: t, arrived: make(chan string, 16), release: make(chan struct{})}
	sb, err := sandbox.Open(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.sb = sb
	whmcsSrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.requests.Add(1)
		r.ParseForm()
		action := r.PostForm.Get("action")
		w.gateMu.Lock()
		hold := w.gate != nil && w.gate(action)
		w.gateMu.Unlock()
		if hold {
			w.arrived <- action
			select {
			case <-w.release:
			case <-r.Context().Done():
				return
			}
		}
		sb.ServeHTTP(rw, r)
	}))
	t.Cleanup(func() { whmcsSrv.Close(); sb.Close() })

	file, err := policy.Parse([]byte(wo.policy), "test policy")
	if err != nil {
		t.Fatal(err)
	}
	wc, err := whmcs.New(whmcs.Config{URL: whmcsSrv.URL, Identifier: sandbox.DefaultIdentifier, Secret: sandbox.DefaultSecret})
	if err != nil {
		t.Fatal(err)
	}
	w.auditLog = filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(w.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	pol, err := policy.New(file, policy.Options{Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	mcpSrv, err := mcpserver.New(mcpserver.Options{
		WHMCS: wc, Gate: pol, Version: "test",
		Allowed:       pol.Allowed,
		ServerOptions: []server.ServerOption{server.WithElicitation()},
	})
	if err != nil {
		t.Fatal(err)
	}
	token := wo.token
	if token == "" && !wo.anon {
		token = fullToken
	}
	auth, err := policy.NewAuthenticator(file, token)
	if err != nil {
		t.Fatal(err)
	}
	opts := httpserver.Options{MCP: mcpSrv, Auth: auth}
	if wo.anon {
		opts.Anonymous = policy.Anonymous(file)
	}
	if wo.mutate != nil {
		wo.mutate(&opts)
	}
	hs, err := httpserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln := wo.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	w.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	w.served = make(chan error, 1)
	go func() { w.served <- hs.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.served:
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return w
}

// holdWHMCS makes the sandbox hold requests of the given action until
// releaseWHMCS.
func (w *world) holdWHMCS(action string) {
	w.gateMu.Lock()
	w.gate = func(a string) bool { return strings.EqualFold(a, action) }
	w.gateMu.Unlock()
}

func (w *world) releaseWHMCS() { close(w.release) }

// bearer adds a bearer token to every request.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	base := b.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

func httpClient(token string) *http.Client {
	return &http.Client{Transport: bearer{token: token}}
}

// connect opens a Go SDK client session over a transport ("streamable" or
// "sse") with a bearer token.
func (w *world) connect(kind, token string, opts *sdk.ClientOptions) *sdk.ClientSession {
	w.t.Helper()
	s, err := w.tryConnect(kind, token, opts)
	if err != nil {
		w.t.Fatalf("connect over %s: %v", kind, err)
	}
	w.t.Cleanup(func() { s.Close() })
	return s
}

func (w *world) tryConnect(kind, token string, opts *sdk.ClientOptions) (*sdk.ClientSession, error) {
	// The SSE transport's stream lives in Connect's context: it must outlive
	// the session.
	ctx, cancel := context.WithCancel(context.Background())
	w.t.Cleanup(cancel)
	var transport sdk.Transport
	switch kind {
	case "streamable":
		transport = &sdk.StreamableClientTransport{Endpoint: w.url + "/mcp", HTTPClient: httpClient(token), MaxRetries: -1}
	case "sse":
		transport = &sdk.SSEClientTransport{Endpoint: w.url + "/sse", HTTPClient: httpClient(token)}
	default:
		panic(kind)
	}
	client := sdk.NewClient(&sdk.Implementation{Name: "httpserver-test", Version: "1"}, opts)
	return client.Connect(ctx, transport, nil)
}

func call(t *testing.T, s *sdk.ClientSession, name string, args map[string]any) *sdk.CallToolResult {
	t.Helper()
	res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func text(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func decode(t *testing.T, res *sdk.CallToolResult) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(text(res)), &m); err != nil {
		t.Fatalf("result is not a JSON object: %v\n%s", err, text(res))
	}
	return m
}

func toolNames(t *testing.T, s *sdk.ClientSession) []string {
	t.Helper()
	list, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	return names
}

// serviceStatus reads a service's status from the sandbox's database.
func (w *world) serviceStatus(id int) string {
	w.t.Helper()
	var status string
	if err := w.sb.DB().QueryRow(`SELECT domainstatus FROM tblhosting WHERE id = ?`, id).Scan(&status); err != nil {
		w.t.Fatal(err)
	}
	return status
}

// post sends one raw request to the server.
func (w *world) post(path, token string, header map[string]string, body string) *http.Response {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.url+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

const listToolsBody = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`

// openSSE opens GET /sse as token's principal and returns the message
// endpoint it announces, and the stream's events.
func (w *world) openSSE(token string) (string, *bufio.Reader) {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.url+"/sse", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("GET /sse: %s", resp.Status)
	}
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			w.t.Fatalf("reading the SSE stream: %v", err)
		}
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok && strings.Contains(data, "sessionId=") {
			return data, r
		}
	}
}

// nextEvent returns the data of the next event on an SSE stream.
func nextEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the SSE stream: %v", err)
		}
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data:"); ok {
			return strings.TrimSpace(data)
		}
	}
}

// mcpServerForTest is an MCP server that is never called.
func mcpServerForTest(t *testing.T) *server.MCPServer {
	t.Helper()
	s, err := mcpserver.New(mcpserver.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func anonIf(anon bool) *policy.Principal {
	if anon {
		return policy.Anonymous(nil)
	}
	return nil
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// logBuffer collects a server's log lines (JSON).
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// logger returns the binary's logger (JSON, secrets redacted) writing to l.
func (l *logBuffer) logger() *slog.Logger {
	log, err := logging.New(l, logging.Options{Format: "json"})
	if err != nil {
		panic(err)
	}
	return log
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// records returns the log records whose message contains msg.
func (l *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m, _ := rec["msg"].(string); strings.Contains(m, msg) {
			recs = append(recs, rec)
		}
	}
	return recs
}

// dialerFrom returns a dialer whose connections come from ip, a loopback
// address; it skips the test where ip cannot be used.
func dialerFrom(t *testing.T, ip string) *net.Dialer {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("connections from %s: %v", ip, err)
	}
	ln.Close()
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
}

// clientFrom returns an HTTP client whose connections come from ip.
func clientFrom(t *testing.T, ip string) *http.Client {
	tr := &http.Transport{DialContext: dialerFrom(t, ip).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// shutdown ends Serve and returns its result.
func (w *world) shutdown() error {
	w.stop()
	err := <-w.served
	w.served <- nil // for the cleanup
	return err
}
