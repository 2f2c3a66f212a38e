package main

// Hostile input on stdio, through raw pipes (no SDK in between): garbage
// lines, a 10 MB line, JSON-RPC that is wrong in every way, unknown methods
// and tools. The server must answer with JSON-RPC errors, keep serving, write
// nothing but JSON-RPC messages on stdout, and never run a write it was not
// properly asked for.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// rawServer is the binary with its stdin and stdout as raw pipes.
type rawServer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte // stdout, line by line; closed at EOF
	stderr *bytes.Buffer
}

func startRaw(t *testing.T, url string, env []string, args ...string) *rawServer {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(),
		"WHMCS_URL="+url,
		"WHMCS_IDENTIFIER="+sandbox.DefaultIdentifier,
		"WHMCS_SECRET="+sandbox.DefaultSecret,
		"NO_COLOR=1",
	)
	cmd.Env = append(cmd.Env, env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &rawServer{t: t, cmd: cmd, stdin: stdin, lines: make(chan []byte, 1024), stderr: stderr}
	go func() {
		defer close(s.lines)
		r := bufio.NewReaderSize(stdout, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				s.lines <- line
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

func (s *rawServer) send(line []byte) {
	s.t.Helper()
	if _, err := s.stdin.Write(append(line, '\n')); err != nil {
		s.t.Fatalf("writing to the server's stdin: %v\nstderr:\n%s", err, s.stderr.String())
	}
}

// until collects stdout lines until one is a response with id (its JSON),
// which it returns with the lines before it.
func (s *rawServer) until(id string) (json.RawMessage, [][]byte) {
	s.t.Helper()
	var seen [][]byte
	for line := range s.lines {
		seen = append(seen, line)
		var msg struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(line, &msg) == nil && string(msg.ID) == id {
			return line, seen
		}
	}
	s.t.Fatalf("stdout ended before the response with id %s", id)
	return nil, nil
}

// rpcMessage is what every stdout line must be: a JSON-RPC 2.0 request or
// notification (method), or a response (id and exactly one of result and
// error, the error with an integer code and a message).
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  *string         `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    *int            `json:"code"`
		Message *string         `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func checkRPCLine(line []byte) (*rpcMessage, error) {
	if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
		return nil, fmt.Errorf("not one line")
	}
	var m rpcMessage
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON-RPC object: %v", err)
	}
	if m.JSONRPC != "2.0" {
		return nil, fmt.Errorf(`jsonrpc is %q, want "2.0"`, m.JSONRPC)
	}
	if m.Method != nil {
		if m.Result != nil || m.Error != nil {
			return nil, fmt.Errorf("a request with a result or an error")
		}
		return &m, nil
	}
	if m.ID == nil {
		return nil, fmt.Errorf("a response without an id")
	}
	if (m.Result != nil) == (m.Error != nil) {
		return nil, fmt.Errorf("a response needs exactly one of result and error")
	}
	if m.Error != nil && (m.Error.Code == nil || m.Error.Message == nil) {
		return nil, fmt.Errorf("an error without an integer code and a message")
	}
	return &m, nil
}

func TestHostileInputOnStdio(t *testing.T) {
	sb, url := serveSandbox(t, sandbox.Options{})
	s := startRaw(t, url, nil)

	s.send([]byte(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"hostile","version":"1"}}}`))
	s.send([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))

	// expect: id (as JSON) -> "error" (a JSON-RPC error), "result", or
	// "tool error" (a result with isError).
	expect := map[string]string{}
	parseErrors := 0 // requests answered with id null
	req := func(id, rest string, want string) {
		s.send([]byte(`{"jsonrpc":"2.0","id":` + id + `,` + rest + `}`))
		expect[id] = want
	}
	garbage := func(line []byte) {
		s.send(line)
		parseErrors++
	}

	garbage([]byte("garbage"))
	garbage([]byte(""))
	garbage([]byte("\xff\xfe\x00\x01 not UTF-8"))
	garbage(bytes.Repeat([]byte("x"), 10<<20)) // 10 MB of garbage
	garbage([]byte(`{"jsonrpc":"2.0","id":"cut","method":"tools/list"`))
	garbage([]byte(`{"jsonrpc":2,"id":"number version","method":"ping"}`))    // wrong type
	garbage([]byte(`{"jsonrpc":"2.0","id":"number method","method":42}`))     // wrong type
	garbage([]byte(`[{"jsonrpc":"2.0","id":"batch","method":"ping"}]`))       // batches are not MCP
	garbage([]byte(`{"jsonrpc":"2.0","id":"deep","method":"ping","params":` + // deeper than any decoder goes
		strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`))
	for _, v := range []string{"null", "1", `"string"`, "{}", "[]", "true"} {
		garbage([]byte(v))
	}

	s.send([]byte(`{"id":"no version","method":"ping"}`))
	expect[`"no version"`] = "error"
	s.send([]byte(`{"jsonrpc":"1.0","id":"old version","method":"ping"}`))
	expect[`"old version"`] = "error"
	req(`{"odd":"id"}`, `"method":"ping"`, "error")
	req(`[1,2]`, `"method":"ping"`, "error")
	req(`true`, `"method":"ping"`, "error")
	req(`{"a":1}`, `"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"odd id"}}`, "error")
	req(`"unknown method"`, `"method":"no/such/method"`, "error")
	req(`"empty method"`, `"method":""`, "error")
	req(`"unknown tool"`, `"method":"tools/call","params":{"name":"drop_database","arguments":{}}`, "error")
	req(`"params not an object"`, `"method":"tools/call","params":"get_products"`, "error")
	req(`"arguments not an object"`, `"method":"tools/call","params":{"name":"get_products","arguments":[1]}`, "tool error")
	req(`"wrong argument type"`, `"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":"2","notes":"x"}}`, "tool error")
	req(`"unknown argument"`, `"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"sql":"DROP"}}`, "tool error")
	req(`"fractional id"`, `"method":"ping"`, "result")
	req(`-7`, `"method":"ping"`, "result")
	// A valid request of 10 MB: served, or (with a bound on a message's
	// size) refused with a parse error; either way answered.
	s.send([]byte(`{"jsonrpc":"2.0","id":"huge but valid","method":"ping","params":{"padding":"` + strings.Repeat("a", 10<<20) + `"}}`))
	s.send([]byte(`{"jsonrpc":"2.0","id":"crlf","method":"ping"}` + "\r"))
	expect[`"crlf"`] = "result"
	// A write sent as a notification (no id) must not run: nobody could
	// learn its outcome.
	s.send([]byte(`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"from a notification"}}}`))
	// Responses to requests the server never sent.
	s.send([]byte(`{"jsonrpc":"2.0","id":"stray result","result":{}}`))
	s.send([]byte(`{"jsonrpc":"2.0","id":12345,"error":{"code":1,"message":"stray"}}`))

	// After all that, a valid call is still served.
	s.send([]byte(`{"jsonrpc":"2.0","id":"final","method":"tools/call","params":{"name":"get_payment_methods","arguments":{}}}`))
	final, lines := s.until(`"final"`)
	if !bytes.Contains(final, []byte(`"paymentmethods"`)) || bytes.Contains(final, []byte(`"isError":true`)) {
		t.Errorf("the final call: %s", final)
	}
	// Close stdin: the server answers what is in flight, then exits cleanly.
	s.stdin.Close()
	for line := range s.lines {
		lines = append(lines, line)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("the server did not exit cleanly at EOF: %v", err)
	}

	got := map[string]string{}
	nullErrors := 0
	for _, line := range lines {
		m, err := checkRPCLine(line)
		if err != nil {
			t.Errorf("stdout line is not a JSON-RPC message (%v): %.200q", err, line)
			continue
		}
		id := string(m.ID)
		switch {
		case m.Method != nil:
			t.Errorf("unexpected request from the server: %.200s", line)
		case id == "null":
			if m.Error == nil || (*m.Error.Code != -32700 && *m.Error.Code != -32600) {
				t.Errorf("a response with id null that is not a parse or invalid-request error: %.200s", line)
			}
			nullErrors++
		case got[id] != "":
			t.Errorf("a second response to id %s: %.200s", id, line)
		case m.Error != nil:
			got[id] = "error"
		case bytes.Contains(m.Result, []byte(`"isError":true`)):
			got[id] = "tool error"
		default:
			got[id] = "result"
		}
	}
	for id, want := range expect {
		switch {
		case got[id] == "":
			t.Errorf("no response to id %s", id)
		case got[id] != want:
			t.Errorf("id %s: got %s, want %s", id, got[id], want)
		}
	}
	if got[`"init"`] != "result" {
		t.Errorf("initialize: %s", got[`"init"`])
	}
	if got[`"huge but valid"`] == "" {
		parseErrors++ // refused for its size
	}
	if nullErrors < parseErrors {
		t.Errorf("%d errors with id null for %d unparsable lines", nullErrors, parseErrors)
	}
	if sb.Writes() != 0 {
		t.Errorf("hostile input made %d writes", sb.Writes())
	}
}
