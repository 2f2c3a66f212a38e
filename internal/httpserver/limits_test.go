package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
)

// patience is how long a test waits for what must happen at once before it
// fails instead of hanging; a passing test never waits that long.
const patience = 20 * time.Second

// rawRequest opens a connection from 127.0.0.1, sends head (a request
// without its body) and returns the connection and the response read.
func (w *world) rawRequest(head string) (net.Conn, *http.Response) {
	w.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(w.url, "http://"))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, head); err != nil {
		w.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		w.t.Fatalf("no answer: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return c, resp
}

// checkClosed fails unless the server has closed c.
func checkClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_, err := c.Read(make([]byte, 1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Error("the connection is still open")
	} else if err == nil {
		t.Error("the server sent more after its answer")
	}
}

// A request refused before its body is read is answered although the body
// never comes, and its connection is closed: an unread body cannot keep a
// connection open.
func TestRefusalDoesNotWaitForTheBody(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.ReadTimeout = time.Hour // the answer must not come from the body's deadline
	}})
	host := strings.TrimPrefix(w.url, "http://")
	for name, c := range map[string]struct {
		header string
		want   int
	}{
		"no token":           {"", http.StatusUnauthorized},
		"wrong token":        {"Authorization: Bearer " + strings.Repeat("x", 40) + "\r\n", http.StatusUnauthorized},
		"origin not allowed": {"Authorization: Bearer " + fullToken + "\r\nOrigin: http://evil.example\r\n", http.StatusForbidden},
	} {
		conn, resp := w.rawRequest(fmt.Sprintf("POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n%s\r\n", host, c.header))
		if resp.StatusCode != c.want || !resp.Close {
			t.Errorf("%s: %s, Connection: close %v; want %d and close", name, resp.Status, resp.Close, c.want)
		}
		checkClosed(t, conn)
	}
}

// Every request body has a deadline, whoever reads it: the handler (a
// request authenticated, whose body stalls) or net/http after the handler
// (a path that does not exist).
func TestEveryBodyHasADeadline(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.ReadTimeout = 100 * time.Millisecond
	}})
	host := strings.TrimPrefix(w.url, "http://")
	for name, head := range map[string]string{
		"a stalled body": "POST /mcp HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + fullToken +
			"\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{\"jsonrpc\":",
		"an unknown path": "POST /nowhere HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 200000\r\n\r\n",
	} {
		conn, resp := w.rawRequest(head)
		if resp.StatusCode < 400 {
			t.Errorf("%s: %s", name, resp.Status)
		}
		checkClosed(t, conn)
	}
	if w.requests.Load() != 0 {
		t.Error("a request without its body reached WHMCS")
	}
}

// The read deadline bounds reading a request, not its answer: an event
// stream, and a call that waits for WHMCS, outlive it.
func TestStreamsOutliveTheReadDeadline(t *testing.T) {
	const readTimeout = 50 * time.Millisecond
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.ReadTimeout = readTimeout
	}})
	endpoint, events := w.openSSE(fullToken)
	s := w.connect("streamable", fullToken, nil)
	w.holdWHMCS("UpdateClientProduct")
	type result struct {
		res *sdk.CallToolResult
		err error
	}
	got := make(chan result, 1)
	go func() {
		res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: "update_client_product",
			Arguments: map[string]any{"serviceid": 2, "notes": "after the read deadline"}})
		got <- result{res, err}
	}()
	<-w.arrived
	time.Sleep(10 * readTimeout) // the call and the stream outlive the deadline
	w.releaseWHMCS()
	r := <-got
	if r.err != nil || r.res.IsError || !strings.Contains(text(r.res), `"done"`) {
		t.Fatalf("a call longer than the read deadline: %v %v", r.err, r.res)
	}
	if resp := w.post(endpoint, fullToken, nil, initializeBody); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("posting to the SSE session: %s", resp.Status)
	}
	if ev := nextEvent(t, events); !strings.Contains(ev, `"protocolVersion"`) {
		t.Errorf("the SSE stream after the read deadline: %s", ev)
	}
}

// healthz reports whether GET /healthz through client is answered 200.
func (w *world) healthz(client *http.Client) bool {
	resp, err := client.Get(w.url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// initialize reports whether an authenticated initialize through client is
// answered 200.
func (w *world) initialize(client *http.Client) bool {
	req, _ := http.NewRequest(http.MethodPost, w.url+"/mcp", strings.NewReader(initializeBody))
	req.Header.Set("Authorization", "Bearer "+fullToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// flood opens n connections from 127.0.0.1 that send nothing, and returns
// them and how many the server serves: each then asks for /healthz, which
// those over a bound never get.
func (w *world) flood(n int) (conns []net.Conn, served int) {
	w.t.Helper()
	addr := strings.TrimPrefix(w.url, "http://")
	conns = make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			w.t.Fatal(err)
		}
		w.t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	for _, c := range conns {
		c.SetDeadline(time.Now().Add(patience))
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.t.Fatal("a connection of the flood was neither served nor closed")
		}
		if err == nil && resp.StatusCode == http.StatusOK {
			served++
		}
	}
	return conns, served
}

// A flood of connections from one address stops at the address's bound:
// /healthz and authenticated clients from another address are served, and
// the refusals are logged in bounded volume.
func TestConnectionsPerAddressAreBounded(t *testing.T) {
	var logs logBuffer
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.MaxConnsPerAddr = 8
		o.ReadHeaderTimeout = time.Hour // the flood's connections stay open
		o.Logger = logs.logger()
	}})
	other := clientFrom(t, "127.0.0.2")
	conns, served := w.flood(50)
	if served != 8 {
		t.Errorf("%d connections of 50 from one address served, want 8", served)
	}
	if !w.healthz(other) {
		t.Error("/healthz from another address is not served during the flood")
	}
	if !w.initialize(other) {
		t.Error("an authenticated client from another address is not served during the flood")
	}
	if w.healthz(http.DefaultClient) {
		t.Error("a 9th connection from the flooding address was served")
	}
	// Once its connections close, the address is served again.
	for _, c := range conns {
		c.Close()
	}
	for deadline := time.Now().Add(patience); !w.healthz(http.DefaultClient); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the address is not served again after its connections closed")
		}
	}

	if err := w.shutdown(); err != nil {
		t.Fatal(err)
	}
	lines := logs.records(t, "connection refused: too many open from this address")
	if len(lines) != 1 || lines[0]["remote"] != "127.0.0.1" {
		t.Errorf("refusals logged one by one: %v", lines)
	}
	sum := logs.records(t, "connections refused over the connection bounds")
	if len(sum) != 1 || sum[0]["refused"].(float64) < 43 || sum[0]["over_per_address_cap"] != sum[0]["refused"] || sum[0]["top_address"] != "127.0.0.1" {
		t.Errorf("summary: %v", sum)
	}
}

// The bound on all connections holds whatever their addresses.
func TestConnectionsInAllAreBounded(t *testing.T) {
	var logs logBuffer
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.MaxConns = 10
		o.MaxConnsPerAddr = -1
		o.ReadHeaderTimeout = time.Hour
		o.Logger = logs.logger()
	}})
	other := clientFrom(t, "127.0.0.2")
	if _, served := w.flood(10); served != 10 {
		t.Errorf("%d connections of 10 served, want all", served)
	}
	if w.healthz(other) {
		t.Error("an 11th connection was served")
	}
	if err := w.shutdown(); err != nil {
		t.Fatal(err)
	}
	if lines := logs.records(t, "connection refused: too many connections open"); len(lines) != 1 || lines[0]["cap"] != float64(10) {
		t.Errorf("refusals logged: %v", lines)
	}
}

// The per-address bounds count an IPv6 host's /64 as one address.
func TestAddressesOfTheBounds(t *testing.T) {
	for remote, want := range map[string]string{
		"127.0.0.1:5000":              "127.0.0.1",
		"[::ffff:192.0.2.7]:5000":     "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:5000": "2001:db8:1:2::/64",
		"[2001:db8:1:2::9]:443":       "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":           "fe80::/64",
		"@":                           "unknown",
	} {
		if got := httpserver.AddrOf(remote); got != want {
			t.Errorf("%s counts as %s, want %s", remote, got, want)
		}
	}
}
