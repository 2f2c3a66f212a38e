package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HTTPLoad is figure 4: streamable HTTP under concurrent sessions.
type HTTPLoad struct {
	Measured bool   `json:"measured"`
	Reason   string `json:"reason,omitempty"`
	// Backend is the WHMCS the server called: "stub" (a process that answers
	// every request at once with a recorded reply, so that the figure is the
	// MCP server's own capacity) or "sandbox" (the sandbox WHMCS process,
	// whose SQLite work then shares the two cores).
	Backend        string  `json:"backend,omitempty"`
	Sessions       int     `json:"sessions,omitempty"`
	Duration       string  `json:"duration,omitempty"`
	Calls          int     `json:"calls,omitempty"`
	Errors         int     `json:"errors,omitempty"`
	FirstError     string  `json:"first_error,omitempty"`
	CallsPerSecond float64 `json:"calls_per_second,omitempty"`
	Latency        Summary `json:"latency"`
	// ServerCPUUS is the MCP server's CPU time per call; BackendCPUUS the
	// WHMCS's (stub or sandbox), LoadCPUUS the load generator's (this
	// process): the three share the machine's cores.
	ServerCPUUS  float64 `json:"server_cpu_per_call_us,omitempty"`
	BackendCPUUS float64 `json:"backend_cpu_per_call_us,omitempty"`
	LoadCPUUS    float64 `json:"load_generator_cpu_per_call_us,omitempty"`
}

// hasHTTP reports whether the binary has the --http flag.
func hasHTTP(bin string) bool {
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	return strings.Contains(string(out), "-http ")
}

// httpServer is `whmcs-mcp --http` running as its own process.
type httpServer struct {
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:PORT/mcp
	token  string
	stderr *tailBuffer
}

// startHTTPServer serves MCP over HTTP on a free loopback port against the
// WHMCS at base, for one full-access principal (WHMCS_MCP_TOKEN). The
// per-principal rate limit (10 requests/s by default) is turned off: the
// figure is the server's capacity, not the limit's.
func startHTTPServer(bin, base string) (*httpServer, error) {
	key := make([]byte, 32)
	rand.Read(key)
	token := hex.EncodeToString(key)
	cmd := exec.Command(bin, "--http", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = serverEnv(base, "WHMCS_MCP_TOKEN="+token, "WHMCS_MCP_RATE_LIMIT=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	dieWithBench(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h := &httpServer{cmd: cmd, token: token, stderr: &tailBuffer{max: 8 << 10}}
	found := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		lines.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for lines.Scan() {
			h.stderr.Write(append(lines.Bytes(), '\n'))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if !sent && json.Unmarshal(lines.Bytes(), &rec) == nil && rec.Msg == "serving MCP over HTTP" && rec.Addr != "" {
				found <- rec.Addr
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			cmd.Wait()
			return nil, fmt.Errorf("whmcs-mcp --http exited: %s", h.stderr.String())
		}
		h.url = "http://" + addr + "/mcp"
		return h, nil
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("whmcs-mcp --http did not start within 10s: %s", h.stderr.String())
	}
}

// stop ends the server with SIGTERM (graceful shutdown) and waits.
func (h *httpServer) stop() {
	h.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
		<-done
	}
}

// mcpSession is one streamable HTTP session, driven with plain requests.
type mcpSession struct {
	h      *httpServer
	client *http.Client
	id     string // Mcp-Session-Id
	nextID int
	body   bytes.Buffer
}

// post sends one JSON-RPC message and returns the JSON-RPC response (from a
// JSON body or an event stream), or nil for a notification.
func (s *mcpSession) post(msg string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, s.h.url, strings.NewReader(msg))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+s.h.token)
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	s.body.Reset()
	if _, err := s.body.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
		s.id = id
	}
	if resp.StatusCode == http.StatusAccepted {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, s.body.Bytes())
	}
	b := s.body.Bytes()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// The response is the data of the event that carries an id.
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			if data, ok := bytes.CutPrefix(line, []byte("data:")); ok && bytes.Contains(data, []byte(`"id"`)) {
				return bytes.TrimSpace(data), nil
			}
		}
		return nil, fmt.Errorf("no response in the event stream: %.200s", b)
	}
	return b, nil
}

func (s *mcpSession) open() error {
	line, err := s.post(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"whmcs-mcp-bench","version":"1"}}}`)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if s.id == "" || !bytes.Contains(line, []byte(`"result"`)) {
		return fmt.Errorf("initialize: no session (%.200s)", line)
	}
	_, err = s.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return err
}

// call makes one get_clients_products call.
func (s *mcpSession) call() error {
	s.nextID++
	line, err := s.post(`{"jsonrpc":"2.0","id":` + strconv.Itoa(s.nextID) +
		`,"method":"tools/call","params":{"name":"get_clients_products","arguments":` + readArgs + `}}`)
	if err != nil {
		return err
	}
	if !bytes.Contains(line, []byte(`"structuredContent"`)) || bytes.Contains(line, []byte(`"isError":true`)) {
		return fmt.Errorf("get_clients_products: %.200s", line)
	}
	return nil
}

// measureHTTP is figure 4 against one WHMCS backend: sessions concurrent
// streamable HTTP sessions each call get_clients_products back to back for
// d, after a warm-up of a second.
func measureHTTP(bin, base, backend string, backendPid, sessions int, d time.Duration) (HTTPLoad, error) {
	if !hasHTTP(bin) {
		return HTTPLoad{Reason: "--http not available yet"}, nil
	}
	h, err := startHTTPServer(bin, base)
	if err != nil {
		return HTTPLoad{}, err
	}
	defer h.stop()
	transport := &http.Transport{
		MaxIdleConnsPerHost: sessions,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	all := make([]*mcpSession, sessions)
	for i := range all {
		all[i] = &mcpSession{h: h, client: client}
		if err := all[i].open(); err != nil {
			return HTTPLoad{}, fmt.Errorf("%w (server stderr: %s)", err, h.stderr.String())
		}
	}

	warmupEnd := time.Now().Add(time.Second)
	var start, end time.Time
	var cpu0, backendCPU0, benchCPU0 time.Duration
	var startOnce sync.Once
	begin := func() {
		start = time.Now()
		end = start.Add(d)
		cpu0, _ = cpuTime(h.cmd.Process.Pid)
		backendCPU0, _ = cpuTime(backendPid)
		benchCPU0, _ = cpuTime(os.Getpid())
	}
	type result struct {
		times  []time.Duration
		errors int
		first  error
	}
	results := make([]result, sessions)
	var wg sync.WaitGroup
	var mu sync.Mutex // guards start and end until every session has read them
	for i, s := range all {
		wg.Go(func() {
			r := &results[i]
			for time.Now().Before(warmupEnd) {
				if err := s.call(); err != nil && r.first == nil {
					r.first = err
				}
			}
			mu.Lock()
			startOnce.Do(begin)
			stop := end
			mu.Unlock()
			for {
				t0 := time.Now()
				err := s.call()
				t1 := time.Now()
				if t1.After(stop) {
					return
				}
				if err != nil {
					r.errors++
					if r.first == nil {
						r.first = err
					}
					continue
				}
				r.times = append(r.times, t1.Sub(t0))
			}
		})
	}
	wg.Wait()
	cpu1, _ := cpuTime(h.cmd.Process.Pid)
	backendCPU1, _ := cpuTime(backendPid)
	benchCPU1, _ := cpuTime(os.Getpid())
	var times []time.Duration
	load := HTTPLoad{Measured: true, Backend: backend, Sessions: sessions, Duration: d.String()}
	var firstErr error
	for _, r := range results {
		times = append(times, r.times...)
		load.Errors += r.errors
		if firstErr == nil {
			firstErr = r.first
		}
	}
	if firstErr != nil {
		load.FirstError = firstErr.Error()
	}
	load.Calls = len(times)
	load.CallsPerSecond = round(float64(len(times)) / d.Seconds())
	load.Latency = summarize(times)
	if n := float64(len(times)); n > 0 {
		perCall := func(d time.Duration) float64 { return round(float64(d) / float64(time.Microsecond) / n) }
		load.ServerCPUUS = perCall(cpu1 - cpu0)
		load.BackendCPUUS = perCall(backendCPU1 - backendCPU0)
		load.LoadCPUUS = perCall(benchCPU1 - benchCPU0)
	}
	if len(times) == 0 {
		return load, errors.New("no call completed")
	}
	return load, nil
}

// stubWHMCS is a WHMCS that answers every request at once with one recorded
// reply: with it, figure 4 measures the MCP server and not a database. It
// runs as its own process (the bench binary, re-run with stubCommand).
type stubWHMCS struct {
	cmd *exec.Cmd
	URL string
}

// stubCommand is the hidden first argument that makes the bench binary serve
// a recorded reply: bench stub-whmcs REPLYFILE.
const stubCommand = "stub-whmcs"

// startStub records the sandbox's reply to the per-call request and serves
// it from a separate process.
func startStub(sandboxURL, dir string) (*stubWHMCS, error) {
	reply, err := newDirectClient(sandboxURL).post(directForm())
	if err != nil {
		return nil, err
	}
	file := dir + "/stub-reply.json"
	if err := os.WriteFile(file, reply, 0o600); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, stubCommand, file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	dieWithBench(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("stub WHMCS: %w", err)
	}
	return &stubWHMCS{cmd: cmd, URL: "http://" + strings.TrimSpace(addr)}, nil
}

func (s *stubWHMCS) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// serveStub is the stub process: it prints its address and serves the reply
// in file until killed.
func serveStub(file string) error {
	reply, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
	}))
}
