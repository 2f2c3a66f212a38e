package main

// The end of stdin: a client that writes its calls and closes stdin (a
// script, a pipe) gets every call answered, and the server then exits
// cleanly. mcp-go cancels the calls in flight when its input ends; the
// server holds the end back until they are answered.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/faultwhmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

const (
	eofInitialize  = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"eof","version":"1"}}}`
	eofInitialized = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
)

// toolResult returns the result of the response with id 2 among lines.
func toolResult(t *testing.T, lines [][]byte) (isError bool, text string, structured json.RawMessage) {
	t.Helper()
	for _, line := range lines {
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Error  json.RawMessage `json:"error"`
			Result *struct {
				IsError bool `json:"isError"`
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
				StructuredContent json.RawMessage `json:"structuredContent"`
			} `json:"result"`
		}
		if json.Unmarshal(line, &msg) != nil || string(msg.ID) != "2" {
			continue
		}
		if msg.Result == nil {
			t.Fatalf("the call got a JSON-RPC error: %s", line)
		}
		for _, c := range msg.Result.Content {
			text += c.Text
		}
		return msg.Result.IsError, text, msg.Result.StructuredContent
	}
	t.Fatalf("no response to the call (id 2) on stdout: %q", lines)
	return
}

// The report: initialize and a read piped in, stdin closed right after.
// The read used to be answered "WHMCS GetClientsProducts: context canceled".
func TestStdioAnswersACallInFlightAtEOF(t *testing.T) {
	_, url := serveSandbox(t, sandbox.Options{})
	s := startRaw(t, url, nil)
	s.send([]byte(eofInitialize))
	s.send([]byte(eofInitialized))
	s.send([]byte(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_clients_products","arguments":{"clientid":1}}}`))
	s.stdin.Close()
	var lines [][]byte
	for line := range s.lines {
		lines = append(lines, line)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("the server did not exit cleanly at EOF: %v", err)
	}
	isError, text, structured := toolResult(t, lines)
	if isError {
		t.Fatalf("get_clients_products failed: %s", text)
	}
	var got struct {
		Products []struct {
			ID int `json:"id"`
		} `json:"products"`
	}
	if err := json.Unmarshal(structured, &got); err != nil || len(got.Products) != 2 {
		t.Errorf("want client 1's 2 products, got %s (%v)", structured, err)
	}
}

// A write that has reached WHMCS when stdin ends is carried out and
// answered, not cut off: WHMCS holds the request until the server has seen
// the end of its input (or has exited, as it did before the fix).
func TestStdioFinishesAWriteInFlightAtEOF(t *testing.T) {
	sb, faults, url := serveFaulty(t)
	s := startEOFServer(t, url)

	faults.OnRequest(func(r faultwhmcs.Request) {
		if !strings.EqualFold(r.Action, "UpdateClientProduct") {
			return
		}
		s.stdin.Close()
		select {
		case <-s.draining:
		case <-s.exited:
		}
	})
	for _, line := range []string{eofInitialize, eofInitialized,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"x"}}}`} {
		if _, err := s.stdin.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	<-s.exited
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("the server did not exit cleanly at EOF: %v", err)
	}
	isError, text, _ := toolResult(t, s.stdout)
	if isError || !strings.Contains(text, `"status":"done"`) {
		t.Errorf("update_client_product: isError %v, %s", isError, text)
	}
	faults.Wait() // what reached WHMCS is carried out by now
	var notes string
	if err := sb.DB().QueryRow(`SELECT notes FROM tblhosting WHERE id = 2`).Scan(&notes); err != nil {
		t.Fatal(err)
	}
	if notes != "x" {
		t.Errorf("service 2's notes are %q, want %q", notes, "x")
	}
	if n := faults.Count("UpdateClientProduct"); n != 1 {
		t.Errorf("UpdateClientProduct sent %d times, want 1", n)
	}
}

// eofServer is the binary with stdin as a raw pipe, its stdout collected and
// its stderr watched for the log line that says it saw the end of stdin
// with requests in flight.
type eofServer struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stdout   [][]byte      // complete once exited is closed
	exited   chan struct{} // closed when stdout ends
	draining chan struct{} // closed at the log line
}

func startEOFServer(t *testing.T, url string) *eofServer {
	t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(),
		"WHMCS_URL="+url,
		"WHMCS_IDENTIFIER="+sandbox.DefaultIdentifier,
		"WHMCS_SECRET="+sandbox.DefaultSecret,
		"NO_COLOR=1",
	)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &watchWriter{want: []byte("end of input: answering the requests in flight"), seen: make(chan struct{})}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &eofServer{cmd: cmd, stdin: stdin, exited: make(chan struct{}), draining: stderr.seen}
	go func() {
		defer close(s.exited)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				s.stdout = append(s.stdout, line)
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server stderr:\n%s", stderr.String())
		}
	})
	return s
}

// watchWriter keeps what is written and closes seen once want has been
// written.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want []byte
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
