package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sandboxProc is `whmcs-mcp sandbox` running as its own process.
type sandboxProc struct {
	cmd *exec.Cmd
	URL string // base URL, e.g. http://127.0.0.1:40123
}

// startSandbox runs the sandbox WHMCS on a free loopback port and waits until
// it serves. It reads the port from the sandbox's JSON log line.
func startSandbox(bin string, extra ...string) (*sandboxProc, error) {
	args := append([]string{"sandbox", "--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "warn", "--now", "2026-11-22"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	dieWithBench(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := bufio.NewScanner(stderr)
	found := make(chan string, 1)
	go func() {
		sent := false
		for lines.Scan() {
			var rec struct{ URL string }
			if !sent && json.Unmarshal(lines.Bytes(), &rec) == nil && rec.URL != "" {
				found <- strings.TrimSuffix(rec.URL, "/includes/api.php")
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case url, ok := <-found:
		if !ok {
			cmd.Wait()
			return nil, errors.New("the sandbox exited before it served")
		}
		return &sandboxProc{cmd: cmd, URL: url}, nil
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, errors.New("the sandbox did not start within 10s")
	}
}

// stop ends the sandbox with SIGINT, as a user would, and waits for it.
func (s *sandboxProc) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// serverEnv is the environment of an MCP server configured against a
// WHMCS (here the sandbox process) at url, as a user configures it.
func serverEnv(url string, extra ...string) []string {
	env := append(os.Environ(),
		"WHMCS_URL="+url,
		"WHMCS_IDENTIFIER=sandbox-identifier",
		"WHMCS_SECRET=sandbox-secret",
		"NO_COLOR=1",
	)
	return append(env, extra...)
}

// stdioServer is whmcs-mcp serving MCP on stdio, driven with raw JSON-RPC
// lines over its pipes: the client side costs a write and a line read, so the
// figures are the server's.
type stdioServer struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *tailBuffer
	nextID int64
	buf    []byte
}

// spawn starts the server. It does not wait for anything.
func spawn(bin string, env []string, args ...string) (*stdioServer, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	return spawnCmd(cmd)
}

// spawnCmd starts cmd with its stdin and stdout as the MCP pipes.
func spawnCmd(cmd *exec.Cmd) (*stdioServer, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &stdioServer{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20), stderr: &tailBuffer{max: 8 << 10}}
	cmd.Stderr = s.stderr
	dieWithBench(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// initializeRequest is the first message of a session, as an MCP host sends it.
const initializeRequest = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"whmcs-mcp-bench","version":"1"}}}` + "\n"

const initializedNotification = `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"

// initialize runs the initialize handshake.
func (s *stdioServer) initialize() error {
	if _, err := io.WriteString(s.in, initializeRequest); err != nil {
		return s.fail(err)
	}
	line, err := s.readLine()
	if err != nil {
		return s.fail(err)
	}
	if !bytes.Contains(line, []byte(`"result"`)) {
		return fmt.Errorf("initialize failed: %s", line)
	}
	_, err = io.WriteString(s.in, initializedNotification)
	return s.fail(err)
}

// send writes one request and returns the raw response line. The line is
// valid until the next call.
func (s *stdioServer) send(method string, params json.RawMessage) ([]byte, error) {
	s.nextID++
	s.buf = append(s.buf[:0], `{"jsonrpc":"2.0","id":`...)
	s.buf = strconv.AppendInt(s.buf, s.nextID, 10)
	s.buf = append(s.buf, `,"method":"`...)
	s.buf = append(s.buf, method...)
	s.buf = append(s.buf, `","params":`...)
	s.buf = append(s.buf, params...)
	s.buf = append(s.buf, "}\n"...)
	if _, err := s.in.Write(s.buf); err != nil {
		return nil, s.fail(err)
	}
	line, err := s.readLine()
	return line, s.fail(err)
}

// readLine reads one JSON-RPC message, skipping notifications.
func (s *stdioServer) readLine() ([]byte, error) {
	for {
		line, err := s.out.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A large reply: collect the rest.
			full := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = s.out.ReadSlice('\n')
				full = append(full, line...)
			}
			line = full
		}
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(line, []byte(`{"jsonrpc":"2.0","method"`)) {
			continue
		}
		return line, nil
	}
}

// call sends tools/call and decodes the result; a tool error is an error.
func (s *stdioServer) call(tool string, args string) (*toolResult, []byte, error) {
	params := json.RawMessage(`{"name":"` + tool + `","arguments":` + args + `}`)
	line, err := s.send("tools/call", params)
	if err != nil {
		return nil, nil, err
	}
	res, err := decodeToolResult(line)
	return res, line, err
}

// toolResult is the part of a tools/call result the bench reads.
type toolResult struct {
	IsError bool `json:"isError"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
}

// Text returns the first text block.
func (r *toolResult) Text() string {
	for _, c := range r.Content {
		if c.Type == "text" {
			return c.Text
		}
	}
	return ""
}

func decodeToolResult(line []byte) (*toolResult, error) {
	var msg struct {
		Result *toolResult `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(line, &msg); err != nil {
		return nil, fmt.Errorf("bad response %.200s: %w", line, err)
	}
	if msg.Error != nil {
		return nil, errors.New("JSON-RPC error: " + msg.Error.Message)
	}
	if msg.Result == nil {
		return nil, fmt.Errorf("no result in %.200s", line)
	}
	if msg.Result.IsError {
		return msg.Result, errors.New("tool error: " + msg.Result.Text())
	}
	return msg.Result, nil
}

func (s *stdioServer) fail(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w (server stderr: %s)", err, strings.TrimSpace(s.stderr.String()))
}

// close ends the session as a host does (stdin closed) and waits for exit.
func (s *stdioServer) close() error {
	s.in.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		return errors.New("the server did not exit within 5s of stdin closing")
	}
}

// rss reads a process's resident set from /proc (Linux): now and its peak.
func rss(pid int) (current, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &current
		case "VmHWM":
			dst = &peak
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, err
		}
		*dst = kb << 10
	}
	if peak == 0 {
		return 0, 0, errors.New("no VmHWM in /proc/PID/status")
	}
	return current, peak, nil
}

// cpuTime reads the CPU time (user + system) a process has used so far, from
// /proc (Linux), in clock ticks of 10 ms.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14, stime 15.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
