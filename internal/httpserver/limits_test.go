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
