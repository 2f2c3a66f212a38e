package httpserver_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
)

// waitRefused waits until the server accepts no new connection: the sign
// that the shutdown has begun.
func (w *world) waitRefused() {
	w.t.Helper()
	addr := strings.TrimPrefix(w.url, "http://")
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			w.t.Fatal("the server still accepts connections after its context ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A call in flight when the shutdown begins completes and delivers its
// result on the POST's response, while new work is refused; then Serve
// returns nil and the audit log is whole.
func TestShutdownLetsCallsInFlightFinishStreamable(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy})
	s := w.connect("streamable", fullToken, nil)
	w.holdWHMCS("UpdateClientProduct")

	type result struct {
		res *sdk.CallToolResult
		err error
	}
	got := make(chan result, 1)
	go func() {
		res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: "update_client_product",
			Arguments: map[string]any{"serviceid": 2, "notes": "written during shutdown"}})
		got <- result{res, err}
	}()
	if action := <-w.arrived; !strings.EqualFold(action, "UpdateClientProduct") {
		t.Fatalf("held %s", action)
	}

	w.stop()
	w.waitRefused()
	// New work on the open session is refused.
	if _, err := s.ListTools(context.Background(), nil); err == nil {
		t.Error("tools/list was served during the shutdown")
	}
	w.checkStillServing()

	w.releaseWHMCS()
	r := <-got
	if r.err != nil {
		t.Fatalf("the call in flight failed: %v", r.err)
	}
	if r.res.IsError || !strings.Contains(text(r.res), `"done"`) {
		t.Fatalf("the call in flight: %s", text(r.res))
	}
	w.checkShutdownClean()
}

// Over SSE the result of a call in flight goes on the session's stream,
// which stays open until it is written. (The stream is read here as it
// comes: the Go SDK's SSE client may drop the last event of a stream that
// ends, whatever the server does.)
func TestShutdownLetsCallsInFlightFinishSSE(t *testing.T) {
	// Without the courtesy delay for SSE clients: the result must be on the
	// stream before it ends, not merely in time.
	defer httpserver.SetSSELinger(0)()
	w := newWorld(t, worldOptions{policy: testPolicy})
	endpoint, events := w.openSSE(fullToken)
	if resp := w.post(endpoint, fullToken, nil, initializeBody); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("initialize: %s", resp.Status)
	}
	nextEvent(t, events)
	w.post(endpoint, fullToken, nil, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	w.holdWHMCS("UpdateClientProduct")
	resp := w.post(endpoint, fullToken, nil, `{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"written during shutdown"}}}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("tools/call: %s", resp.Status)
	}
	if action := <-w.arrived; !strings.EqualFold(action, "UpdateClientProduct") {
		t.Fatalf("held %s", action)
	}

	w.stop()
	w.waitRefused()
	w.checkStillServing()

	w.releaseWHMCS()
	ev := nextEvent(t, events)
	if !strings.Contains(ev, `"id":"call-7"`) || !strings.Contains(ev, `\"status\":\"done\"`) {
		t.Fatalf("the result of the call in flight: %s", ev)
	}
	w.checkShutdownClean()
}

// checkStillServing fails if Serve has returned.
func (w *world) checkStillServing() {
	w.t.Helper()
	select {
	case err := <-w.served:
		w.served <- err
		w.t.Fatalf("Serve returned with a call in flight: %v", err)
	default:
	}
}

// checkShutdownClean checks that Serve returned nil, that the write was
// made once and that the audit log is whole.
func (w *world) checkShutdownClean() {
	w.t.Helper()
	err := <-w.served
	w.served <- nil // for the cleanup
	if err != nil {
		w.t.Errorf("Serve: %v", err)
	}
	if w.sb.Writes() != 1 {
		w.t.Errorf("sandbox writes: %d", w.sb.Writes())
	}
	var events []string
	for _, r := range auditRecords(w.t, w.auditLog) {
		events = append(events, r.Event)
	}
	if strings.Join(events, ",") != "intent,execution" {
		w.t.Errorf("audit events %v, want intent, execution", events)
	}
}

// Calls still running at the end of the bound are cancelled, and Serve says
// so; the outcome is recorded.
func TestShutdownBound(t *testing.T) {
	w := newWorld(t, worldOptions{policy: testPolicy, mutate: func(o *httpserver.Options) {
		o.ShutdownTimeout = 50 * time.Millisecond
	}})
	s := w.connect("streamable", fullToken, nil)
	w.holdWHMCS("UpdateClientProduct") // never released
	got := make(chan *sdk.CallToolResult, 1)
	go func() {
		res, _ := s.CallTool(context.Background(), &sdk.CallToolParams{Name: "update_client_product",
			Arguments: map[string]any{"serviceid": 2, "notes": "never answered"}})
		got <- res
	}()
	<-w.arrived
	w.stop()
	err := <-w.served
	w.served <- nil
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("Serve: %v, want an error about calls that did not finish", err)
	}
	if res := <-got; res != nil && !res.IsError {
		t.Errorf("the cancelled call reported success: %s", text(res))
	}
	recs := auditRecords(t, w.auditLog)
	if len(recs) != 2 || recs[0].Event != "intent" || recs[1].Event != "outcome_unknown" {
		t.Errorf("audit records: %+v", recs)
	}
}
