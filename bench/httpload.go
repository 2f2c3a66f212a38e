package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
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

// newToken returns a random bearer token.
func newToken() string {
	key := make([]byte, 32)
	rand.Read(key)
	return hex.EncodeToString(key)
}

// startHTTPServer serves MCP over HTTP on a free loopback port against the
// WHMCS at base, for one full-access principal with token
// (WHMCS_MCP_TOKEN). The per-principal rate limit (10 requests/s by
// default) is turned off: the figure is the server's capacity, not the
// limit's. args are more flags (a flag wins over its environment variable).
func startHTTPServer(bin, base, token string, args ...string) (*httpServer, error) {
	cmd := exec.Command(bin, append([]string{"--http", "127.0.0.1:0", "--log-format", "json"}, args...)...)
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
// With several servers (replicas behind a load balancer without sticky
// sessions) it is opened on the first and its requests go to each in turn.
type mcpSession struct {
	servers []*httpServer
	turn    int
	client  *http.Client
	id      string // Mcp-Session-Id
	nextID  int
	body    bytes.Buffer
}

// next is the server the next request goes to.
func (s *mcpSession) next() *httpServer {
	h := s.servers[s.turn%len(s.servers)]
	s.turn++
	return h
}

// post sends one JSON-RPC message to h and returns the JSON-RPC response
// (from a JSON body or an event stream), or nil for a notification.
func (s *mcpSession) post(h *httpServer, msg string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, h.url, strings.NewReader(msg))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+h.token)
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

// open initializes the session on the first server.
func (s *mcpSession) open() error {
	h := s.servers[0]
	line, err := s.post(h, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"whmcs-mcp-bench","version":"1"}}}`)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if s.id == "" || !bytes.Contains(line, []byte(`"result"`)) {
		return fmt.Errorf("initialize: no session (%.200s)", line)
	}
	_, err = s.post(h, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return err
}

// tool calls a tool on h and returns the JSON-RPC response, valid until the
// next request; a tool error is an error.
func (s *mcpSession) tool(h *httpServer, name, args string) ([]byte, error) {
	s.nextID++
	line, err := s.post(h, `{"jsonrpc":"2.0","id":`+strconv.Itoa(s.nextID)+
		`,"method":"tools/call","params":{"name":"`+name+`","arguments":`+args+`}}`)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(line, []byte(`"structuredContent"`)) || bytes.Contains(line, []byte(`"isError":true`)) {
		return nil, fmt.Errorf("%s: %.200s", name, line)
	}
	return line, nil
}

// call makes one get_clients_products call, on the next server in turn.
func (s *mcpSession) call() error {
	_, err := s.tool(s.next(), "get_clients_products", readArgs)
	return err
}

// openSessions opens n sessions sharing one HTTP client; with several
// servers, session i is opened on server i mod len(servers) and then
// takes them in turn from there.
func openSessions(servers []*httpServer, n int) ([]*mcpSession, func(), error) {
	transport := &http.Transport{
		MaxIdleConnsPerHost: n,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	all := make([]*mcpSession, n)
	for i := range all {
		k := i % len(servers)
		all[i] = &mcpSession{servers: append(slices.Clone(servers[k:]), servers[:k]...), client: client}
		if err := all[i].open(); err != nil {
			transport.CloseIdleConnections()
			return nil, nil, fmt.Errorf("%w (server stderr: %s)", err, all[i].servers[0].stderr.String())
		}
	}
	return all, transport.CloseIdleConnections, nil
}

// loadRun is what drive measured: the time of each operation completed in
// the counted window, and the errors.
type loadRun struct {
	times  []time.Duration
	errors int
	first  error
}

// drive runs op back to back on every session at once: a second of
// warm-up, then d counted. An operation counts when it ends in the window,
// so that the work done in it (which onStart and onEnd read: CPU times,
// counters) is that of the operations counted, give or take one in flight
// per session. onStart and onEnd have run when drive returns.
func drive(all []*mcpSession, d time.Duration, onStart, onEnd func(), op func(*mcpSession) error) loadRun {
	start := time.Now().Add(time.Second)
	end := start.Add(d)
	started, ended := make(chan struct{}), make(chan struct{})
	time.AfterFunc(time.Until(start), func() { onStart(); close(started) })
	time.AfterFunc(time.Until(end), func() { onEnd(); close(ended) })
	results := make([]loadRun, len(all))
	var wg sync.WaitGroup
	for i, s := range all {
		wg.Go(func() {
			r := &results[i]
			for {
				t0 := time.Now()
				err := op(s)
				t1 := time.Now()
				switch {
				case t1.After(end):
					return
				case err != nil && r.first == nil:
					r.first = err
				}
				if t1.Before(start) {
					continue // warm-up
				}
				if err != nil {
					r.errors++
					continue
				}
				r.times = append(r.times, t1.Sub(t0))
			}
		})
	}
	wg.Wait()
	<-started
	<-ended
	var run loadRun
	for _, r := range results {
		run.times = append(run.times, r.times...)
		run.errors += r.errors
		if run.first == nil {
			run.first = r.first
		}
	}
	return run
}

// measureHTTP is figure 4 against one WHMCS backend: sessions concurrent
// streamable HTTP sessions each call get_clients_products back to back for
// d, after a warm-up of a second.
func measureHTTP(bin, base, backend string, backendPid, sessions int, d time.Duration) (HTTPLoad, error) {
	if !hasHTTP(bin) {
		return HTTPLoad{Reason: "--http not available yet"}, nil
	}
	h, err := startHTTPServer(bin, base, newToken())
	if err != nil {
		return HTTPLoad{}, err
	}
	defer h.stop()
	all, closeIdle, err := openSessions([]*httpServer{h}, sessions)
	if err != nil {
		return HTTPLoad{}, err
	}
	defer closeIdle()
	var cpu0, backendCPU0, benchCPU0, cpu1, backendCPU1, benchCPU1 time.Duration
	run := drive(all, d, func() {
		cpu0, _ = cpuTime(h.cmd.Process.Pid)
		backendCPU0, _ = cpuTime(backendPid)
		benchCPU0, _ = cpuTime(os.Getpid())
	}, func() {
		cpu1, _ = cpuTime(h.cmd.Process.Pid)
		backendCPU1, _ = cpuTime(backendPid)
		benchCPU1, _ = cpuTime(os.Getpid())
	}, (*mcpSession).call)
	times := run.times
	load := HTTPLoad{Measured: true, Backend: backend, Sessions: sessions, Duration: d.String(), Errors: run.errors}
	if run.first != nil {
		load.FirstError = run.first.Error()
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

// stubWHMCS is a WHMCS that answers every request at once with a reply
// recorded from the sandbox: with it, the HTTP figures measure the MCP
// server and not a database. It runs as its own process (the bench binary,
// re-run with stubCommand). It knows three requests: get_clients_products
// {"clientid":1}, and the read and the write of a status change of
// guardedService. Its replies never change, so the service stays in
// ServiceStatus: a round trip asking for the other status changes
// something every time.
type stubWHMCS struct {
	cmd *exec.Cmd
	URL string
	// ServiceStatus is guardedService's status in the recorded reply.
	ServiceStatus string
}

// stubCommand is the hidden first argument that makes the bench binary serve
// recorded replies: bench stub-whmcs REPLYFILE.
const stubCommand = "stub-whmcs"

// guardedService is the service whose status the guarded round trips
// change.
const guardedService = 3

// stubKey is what the stub tells requests apart by: the action, and the
// serviceid when there is one.
func stubKey(action, serviceID string) string {
	if serviceID == "" {
		return action
	}
	return action + " serviceid=" + serviceID
}

// startStub records the sandbox's replies to the requests the stub knows
// and serves them from a separate process. The write it records sets
// guardedService's status to the one it has, so the sandbox is unchanged.
func startStub(sandboxURL, dir string) (*stubWHMCS, error) {
	direct := newDirectClient(sandboxURL)
	service := strconv.Itoa(guardedService)
	form := func(action string, kv ...string) string {
		v := url.Values{"action": {action}, "identifier": {"sandbox-identifier"}, "secret": {"sandbox-secret"}, "responsetype": {"json"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	replies := map[string]json.RawMessage{}
	record := func(key, form string) ([]byte, error) {
		reply, err := direct.post(form)
		if err != nil {
			return nil, err
		}
		replies[key] = slices.Clone(reply)
		return reply, nil
	}
	if _, err := record(stubKey("GetClientsProducts", ""), directForm()); err != nil {
		return nil, err
	}
	reply, err := record(stubKey("GetClientsProducts", service), form("GetClientsProducts", "serviceid", service))
	if err != nil {
		return nil, err
	}
	var read struct {
		Products struct {
			Product []struct {
				Status string `json:"status"`
			} `json:"product"`
		} `json:"products"`
	}
	if err := json.Unmarshal(reply, &read); err != nil || len(read.Products.Product) != 1 || read.Products.Product[0].Status == "" {
		return nil, fmt.Errorf("stub WHMCS: service %d: %.200s", guardedService, reply)
	}
	status := read.Products.Product[0].Status
	if _, err := record(stubKey("UpdateClientProduct", service), form("UpdateClientProduct", "serviceid", service, "status", status)); err != nil {
		return nil, err
	}
	return startStubProcess(replies, dir+"/stub-replies.json", status)
}

// startStubProcess writes replies (by stubKey) to file and serves them from
// a stub process.
func startStubProcess(replies map[string]json.RawMessage, file, status string) (*stubWHMCS, error) {
	b, err := json.Marshal(replies)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
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
	return &stubWHMCS{cmd: cmd, URL: "http://" + strings.TrimSpace(addr), ServiceStatus: status}, nil
}

func (s *stubWHMCS) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// serveStub is the stub process: it prints its address and serves the
// replies in file (by stubKey) until killed. A request it has no reply for
// gets a WHMCS error naming it.
func serveStub(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var replies map[string]json.RawMessage
	if err := json.Unmarshal(b, &replies); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		key := stubKey(r.PostForm.Get("action"), r.PostForm.Get("serviceid"))
		reply, ok := replies[key]
		if !ok {
			msg, _ := json.Marshal("bench stub: no reply recorded for " + key)
			reply = []byte(`{"result":"error","message":` + string(msg) + `}`)
		}
		w.Write(reply)
	}))
}
