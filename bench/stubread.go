package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"time"
)

// StubRead is figure 9: a read over MCP stdio against a WHMCS that answers
// at once with a recorded page of 25 services (figure 6's page, custom
// fields and configurable options included), next to the same request sent
// straight to that WHMCS. Against the sandbox (figure 3) SQLite's time hides
// the server's; here the server's own work is most of what is left.
type StubRead struct {
	Services int `json:"services"`
	// ReplyBytes is the size of the recorded WHMCS reply.
	ReplyBytes int    `json:"whmcs_reply_bytes"`
	Arguments  string `json:"arguments"`
	// MCP is the call with the default fields, MCPAll with fields ["*"].
	MCP    Summary `json:"mcp_stdio"`
	MCPAll Summary `json:"mcp_stdio_all_fields"`
	Direct Summary `json:"direct_http"`
	// Ratio is the MCP median over the direct median (default fields),
	// RatioAll the same with every field; AddedUS the difference.
	Ratio    float64 `json:"median_ratio"`
	RatioAll float64 `json:"median_ratio_all_fields"`
	AddedUS  float64 `json:"added_median_us"`
	// ServerCPUUS is the server's CPU time per MCP call, StubCPUUS the
	// stub's per request (MCP calls and direct requests alike).
	ServerCPUUS float64 `json:"server_cpu_per_call_us"`
	StubCPUUS   float64 `json:"stub_cpu_per_request_us"`
}

// stubReadServices is the page size of figure 9.
const stubReadServices = 25

// measureStubRead is figure 9. It records the fixture sandbox's reply to a
// page of stubReadServices services of the fixture client, serves it from
// a stub process, and makes calls rounds of an MCP call with the default
// fields, one with every field and a direct request to the stub, rotating
// their order so that all three see the same machine.
func measureStubRead(bin, fixtureURL, dir string, calls, warmup int) (StubRead, error) {
	form := url.Values{
		"action": {"GetClientsProducts"}, "clientid": {fmt.Sprint(fixtureClient)}, "limitnum": {fmt.Sprint(stubReadServices)},
		"identifier": {"sandbox-identifier"}, "secret": {"sandbox-secret"}, "responsetype": {"json"},
	}.Encode()
	reply, err := newDirectClient(fixtureURL).post(form)
	if err != nil {
		return StubRead{}, err
	}
	reply = bytes.Clone(reply)
	stub, err := startStubProcess(map[string]json.RawMessage{stubKey("GetClientsProducts", ""): reply},
		filepath.Join(dir, "stub-read-replies.json"), "")
	if err != nil {
		return StubRead{}, err
	}
	defer stub.stop()
	s, err := spawn(bin, serverEnv(stub.URL))
	if err != nil {
		return StubRead{}, err
	}
	defer s.close()
	if err := s.initialize(); err != nil {
		return StubRead{}, err
	}
	args := fmt.Sprintf(`{"clientid":%d,"limitnum":%d}`, fixtureClient, stubReadServices)
	argsAll := fmt.Sprintf(`{"clientid":%d,"limitnum":%d,"fields":["*"]}`, fixtureClient, stubReadServices)
	mcpCall := func(args string) func() (time.Duration, error) {
		params := json.RawMessage(`{"name":"get_clients_products","arguments":` + args + `}`)
		want := []byte(fmt.Sprintf(`"returned":%d`, stubReadServices))
		return func() (time.Duration, error) {
			start := time.Now()
			line, err := s.send("tools/call", params)
			elapsed := time.Since(start)
			if err != nil {
				return 0, err
			}
			if !bytes.Contains(line, []byte(`"structuredContent"`)) || !bytes.Contains(line, want) || bytes.Contains(line, []byte(`"isError":true`)) {
				_, err := decodeToolResult(line)
				return 0, fmt.Errorf("get_clients_products %s: %v (%.200s)", args, err, line)
			}
			return elapsed, nil
		}
	}
	direct := newDirectClient(stub.URL)
	directCall := func() (time.Duration, error) {
		start := time.Now()
		_, err := direct.post(form)
		return time.Since(start), err
	}
	kinds := []func() (time.Duration, error){mcpCall(args), mcpCall(argsAll), directCall}
	for range warmup {
		for _, call := range kinds {
			if _, err := call(); err != nil {
				return StubRead{}, err
			}
		}
	}
	pid, stubPid := s.cmd.Process.Pid, stub.cmd.Process.Pid
	serverCPU0, _ := cpuTime(pid)
	stubCPU0, _ := cpuTime(stubPid)
	times := make([][]time.Duration, len(kinds))
	for i := range calls {
		for j := range kinds {
			k := (i + j) % len(kinds)
			d, err := kinds[k]()
			if err != nil {
				return StubRead{}, err
			}
			times[k] = append(times[k], d)
		}
	}
	serverCPU1, _ := cpuTime(pid)
	stubCPU1, _ := cpuTime(stubPid)
	f := StubRead{Services: stubReadServices, ReplyBytes: len(bytes.TrimSpace(reply)), Arguments: args,
		MCP: summarize(times[0]), MCPAll: summarize(times[1]), Direct: summarize(times[2]),
		ServerCPUUS: round(float64(serverCPU1-serverCPU0) / float64(time.Microsecond) / float64(2*calls)),
		StubCPUUS:   round(float64(stubCPU1-stubCPU0) / float64(time.Microsecond) / float64(3*calls))}
	f.Ratio = round2(f.MCP.Median / f.Direct.Median)
	f.RatioAll = round2(f.MCPAll.Median / f.Direct.Median)
	f.AddedUS = round(f.MCP.Median - f.Direct.Median)
	return f, nil
}
