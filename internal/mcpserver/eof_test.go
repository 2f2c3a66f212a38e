package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// msgHandler is a slog handler that sends each message to msgs.
type msgHandler struct{ msgs chan string }

func (h msgHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h msgHandler) Handle(_ context.Context, r slog.Record) error {
	h.msgs <- r.Message
	return nil
}
func (h msgHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h msgHandler) WithGroup(string) slog.Handler      { return h }

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stdioWithSlowTool serves a server with a tool "slow" that signals started,
// then waits for release or for its context to end, on mcp-go's stdio
// server behind HoldEOF. It returns stdin's writer, stdout, the log
// messages and Listen's result.
func stdioWithSlowTool(t *testing.T, ctx context.Context, timeout time.Duration, started chan<- struct{}, release <-chan struct{}) (io.WriteCloser, *lockedBuffer, chan string, chan error) {
	t.Helper()
	srv, err := New(Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddTool(mcp.NewTool("slow"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		started <- struct{}{}
		select {
		case <-release:
			return mcp.NewToolResultText("done"), nil
		case <-ctx.Done():
			return mcp.NewToolResultError("cancelled: " + ctx.Err().Error()), nil
		}
	})
	pr, pw := io.Pipe()
	out := &lockedBuffer{}
	msgs := make(chan string, 16)
	in, w := HoldEOF(ctx, pr, out, timeout, slog.New(msgHandler{msgs}))
	done := make(chan error, 1)
	go func() { done <- server.NewStdioServer(srv).Listen(ctx, in, w) }()
	for _, line := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{}}}`,
	} {
		if _, err := pw.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	return pw, out, msgs, done
}

// resultText returns the text of the response with id 2 in out.
func resultText(t *testing.T, out string) string {
	t.Helper()
	for line := range strings.SplitSeq(out, "\n") {
		var msg struct {
			ID     any `json:"id"`
			Result struct {
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"result"`
		}
		if json.Unmarshal([]byte(line), &msg) == nil && msg.ID == 2.0 && len(msg.Result.Content) == 1 {
			return msg.Result.Content[0].Text
		}
	}
	t.Fatalf("no result for id 2 in %q", out)
	return ""
}

// A call in flight when stdin ends keeps its context and is answered
// before Listen returns.
func TestHoldEOFAnswersTheCallInFlight(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	stdin, out, msgs, done := stdioWithSlowTool(t, context.Background(), time.Hour, started, release)
	<-started
	stdin.Close()
	if msg := <-msgs; !strings.HasPrefix(msg, "end of input") {
		t.Fatalf("log: %q", msg)
	}
	select {
	case err := <-done:
		t.Fatalf("Listen returned before the call was answered: %v", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := resultText(t, out.String()); got != "done" {
		t.Errorf("the call's result: %q, want done", got)
	}
}

// The hold is bounded: by the timeout, and by the context (SIGINT,
// SIGTERM), either of which cancels the call.
func TestHoldEOFEndsAtTheTimeoutOrTheContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		cancel  bool
	}{
		{"timeout", time.Millisecond, false},
		{"context", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started, never := make(chan struct{}, 1), make(chan struct{})
			stdin, out, _, done := stdioWithSlowTool(t, ctx, tc.timeout, started, never)
			<-started
			stdin.Close()
			if tc.cancel {
				cancel()
			}
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			if got := resultText(t, out.String()); !strings.HasPrefix(got, "cancelled") {
				t.Errorf("the call's result: %q, want it cancelled", got)
			}
		})
	}
}

// Only requests are waited for, each until the line that answers its id.
func TestHoldEOFCountsRequestsAndTheirAnswers(t *testing.T) {
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,   // a notification
		`{"jsonrpc":"2.0","id":7,"result":{}}`,                     // a client's answer
		`{"jsonrpc":"2.0","id":8,"method":"ping","error":{}}`,      // an answer by its shape
		`{"jsonrpc":"2.0","id":9,"method":"subscriptions/listen"}`, // a stream
		`{"jsonrpc":"2.0","id":null,"method":"ping"}`,              // no id
		`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`,           // not a valid id
		`{"jsonrpc":"2.0","id":1,"method":""}`,                     // no method
		`{"jsonrpc":2,"id":10,"method":"ping"}`,                    // answered with id null
		`not JSON`,                                                 //
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,                 // requests:
		`{"jsonrpc":"2.0","id":1.0,"method":"ping"}`,               //  the same id as 1
		`{"jsonrpc":"2.0","id":"1","method":"ping"}`,               //  another id
		`{"jsonrpc":"2.0","id":3,"method":"tools/call"}` + "\r",    //
		`{"jsonrpc":"2.0","id":4,"method":"ping"}`,                 // unfinished: never served
	}, "\n")
	r, w := HoldEOF(context.Background(), strings.NewReader(in), io.Discard, time.Hour, nil)
	h := r.(*holdReader).h
	if out, err := io.ReadAll(io.LimitReader(r, int64(len(in)))); err != nil || string(out) != in {
		t.Fatalf("passed on %q, %v", out, err)
	}
	pending := func() (map[string]int, int) {
		h.mu.Lock()
		defer h.mu.Unlock()
		return maps.Clone(h.pending), h.n
	}
	if got, n := pending(); !maps.Equal(got, map[string]int{"n1": 2, "s1": 1, "n3": 1}) || n != 4 {
		t.Fatalf("pending %v (%d), want 1 twice, \"1\" and 3", got, n)
	}

	done := make(chan error, 1)
	go func() { _, err := r.Read(make([]byte, 1)); done <- err }()
	for _, answer := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"elicitation/create"}` + "\n", // a request to the client
		`{"jsonrpc":"2.0","id":5,"result":{}}` + "\n",                   // no such request
		`{"jsonrpc":"2.0","id":null,"error":{}}` + "\n",                 // a parse error
		`{"jsonrpc":"2.0","id":1,"result":{}}` + "\n" + `{"jsonrpc":"2.0","id":1,"error":{}}` + "\n",
		`{"jsonrpc":"2.0","id":"1",`, `"result":{}}` + "\n", // one line, two writes
	} {
		if _, err := w.Write([]byte(answer)); err != nil {
			t.Fatal(err)
		}
	}
	if got, n := pending(); !maps.Equal(got, map[string]int{"n3": 1}) || n != 1 {
		t.Fatalf("pending %v (%d), want only 3", got, n)
	}
	select {
	case err := <-done:
		t.Fatalf("the end of input passed with request 3 unanswered: %v", err)
	default:
	}
	w.Write([]byte(`{"jsonrpc":"2.0","id":3,"result":{}}` + "\n"))
	if err := <-done; err != io.EOF {
		t.Errorf("after the last answer: %v, want EOF", err)
	}
}

// Without requests in flight the end of input passes at once.
func TestHoldEOFPassesAnIdleEnd(t *testing.T) {
	in := `{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n"
	r, w := HoldEOF(context.Background(), strings.NewReader(in), io.Discard, time.Hour, nil)
	buf := make([]byte, len(in))
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}` + "\n"))
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("got %d, %v; want EOF", n, err)
	}
}

// answerIDEncodingJSON is what answerID replaced: the line decoded by
// encoding/json.
func answerIDEncodingJSON(line []byte) (json.RawMessage, bool) {
	var m struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &m) != nil || m.Method != "" {
		return nil, false
	}
	return m.ID, true
}

var answerLines = []string{
	`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\"a\":1}"}],"structuredContent":{"a":1}}}`,
	`{"jsonrpc":"2.0","id":"x-1","error":{"code":-32602,"message":"bad"}}`,
	`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}}`,
	`{"jsonrpc":"2.0","id":7,"method":"elicitation/create","params":{}}`,
	`{"jsonrpc":"2.0","ID":3,"Method":"","result":{}}`,
	`{"jsonrpc":"2.0","\u0069d":4,"result":{}}`,
	`{"id":1,"id":2,"result":{}}`,
	`{"id":1,"method":"x","method":null}`,
	`{"id":1,"method":null}`,
	`{"id":1,"method":5}`,
	`{"id":1,"method":""}`,
	`{"id":null,"result":{}}`,
	`{"id":{"a":1},"result":{}}`,
	`{"id":1,"result":"caf` + "\xff" + `"}`,
	`{"id":1,"result":{}} x`,
	`{"id":1,"result":{}} {}`,
	`{"id":1,"result":{}`,
	`{"id":1,"result":{}}  `,
	`[1,2]`,
	`null`,
	`"text"`,
	``,
	`{}`,
}

// TestAnswerIDAgreesWithEncodingJSON: written counts the same answers, with
// the same ids, as when it decoded lines with encoding/json.
func TestAnswerIDAgreesWithEncodingJSON(t *testing.T) {
	for _, line := range answerLines {
		gotID, gotOK := answerID([]byte(line))
		wantID, wantOK := answerIDEncodingJSON([]byte(line))
		gotKey, gotKeyOK := idKey(gotID)
		wantKey, wantKeyOK := idKey(wantID)
		gotOK, wantOK = gotOK && gotKeyOK, wantOK && wantKeyOK // what written acts on
		if gotOK != wantOK || (gotOK && gotKey != wantKey) {
			t.Errorf("%s: answerID %q %v (key %q %v), encoding/json %q %v (key %q %v)",
				line, gotID, gotOK, gotKey, gotKeyOK, wantID, wantOK, wantKey, wantKeyOK)
		}
	}
}

// FuzzAnswerID: on any line, answerID tells answers and their ids as
// encoding/json did (as far as written acts on them).
func FuzzAnswerID(f *testing.F) {
	for _, line := range answerLines {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		gotID, gotOK := answerID([]byte(line))
		wantID, wantOK := answerIDEncodingJSON([]byte(line))
		gotKey, gotKeyOK := idKey(gotID)
		wantKey, wantKeyOK := idKey(wantID)
		gotOK, wantOK = gotOK && gotKeyOK, wantOK && wantKeyOK // what written acts on
		if gotOK != wantOK || (gotOK && gotKey != wantKey) {
			t.Fatalf("%q: answerID %q %v (key %q %v), encoding/json %q %v (key %q %v)",
				line, gotID, gotOK, gotKey, gotKeyOK, wantID, wantOK, wantKey, wantKeyOK)
		}
	})
}
