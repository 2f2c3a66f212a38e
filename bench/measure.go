package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ColdStart is figure 1: spawn -> initialize result.
type ColdStart struct {
	Runs     int     `json:"runs"`
	MedianMS float64 `json:"median_ms"`
	MinMS    float64 `json:"min_ms"`
	P90MS    float64 `json:"p90_ms"`
	MaxMS    float64 `json:"max_ms"`
	// InitMS is the median time package initialisation takes, before main
	// runs; Inits are the packages that take most of it.
	InitMS float64    `json:"package_init_ms"`
	Inits  []InitCost `json:"package_inits"`
}

// measureColdStart spawns the server runs times against the sandbox at url
// and times each from just before the fork until the initialize result has
// been read. One untimed spawn first puts the binary in the page cache, as
// it is when a desktop host starts its servers.
func measureColdStart(bin, base string, runs int) (ColdStart, error) {
	env := serverEnv(base)
	var times []time.Duration
	for i := -1; i < runs; i++ {
		start := time.Now()
		s, err := spawn(bin, env)
		if err != nil {
			return ColdStart{}, err
		}
		if _, err := io.WriteString(s.in, initializeRequest); err != nil {
			return ColdStart{}, s.fail(err)
		}
		line, err := s.readLine()
		elapsed := time.Since(start)
		if err != nil {
			return ColdStart{}, s.fail(err)
		}
		if !bytes.Contains(line, []byte(`"result"`)) {
			return ColdStart{}, fmt.Errorf("initialize failed: %s", line)
		}
		if err := s.close(); err != nil {
			return ColdStart{}, s.fail(err)
		}
		if i >= 0 {
			times = append(times, elapsed)
		}
	}
	sum := summarize(times)
	cs := ColdStart{Runs: runs, MedianMS: ms(sum.Median), MinMS: ms(sum.Min), P90MS: ms(sum.P90), MaxMS: ms(sum.Max)}
	var err error
	cs.InitMS, cs.Inits, err = measureInits(bin, runs, 3)
	return cs, err
}

// Memory is figure 2: resident memory of the stdio server.
type Memory struct {
	// PeakAfterInitializeMB is VmHWM right after the initialize result.
	PeakAfterInitializeMB float64 `json:"peak_rss_after_initialize_mb"`
	// Calls is how many get_clients_products calls followed.
	Calls int `json:"calls"`
	// PeakAfterCallsMB and RSSAfterCallsMB are VmHWM and VmRSS after them.
	PeakAfterCallsMB float64 `json:"peak_rss_after_calls_mb"`
	RSSAfterCallsMB  float64 `json:"rss_after_calls_mb"`
	// GrowthMB is the peak after the calls less the peak after initialize.
	GrowthMB float64 `json:"growth_mb"`
	// Unavailable says why the figures are missing (not Linux).
	Unavailable string `json:"unavailable,omitempty"`
}

// PerCall is figure 3: one get_clients_products call over MCP stdio against
// the same WHMCS request sent straight to the sandbox.
type PerCall struct {
	Arguments string  `json:"arguments"`
	MCP       Summary `json:"mcp_stdio"`
	Direct    Summary `json:"direct_http"`
	// Ratio is the MCP median over the direct median; AddedUS their difference.
	Ratio   float64 `json:"median_ratio"`
	AddedUS float64 `json:"added_median_us"`
	// AddedP99US is the difference of the p99s.
	AddedP99US float64 `json:"added_p99_us"`
	// Ping is an MCP ping over the same pipes: the floor of any call.
	Ping Summary `json:"mcp_ping"`
	// Floors are pings through simpler stdio servers (floor.go).
	Floors []Floor `json:"stdio_floors"`
	// ServerCPUUS is the CPU time the MCP server used per call, and
	// SandboxCPUUS what the sandbox used per request, over all of them.
	ServerCPUUS  float64 `json:"server_cpu_per_call_us"`
	SandboxCPUUS float64 `json:"sandbox_cpu_per_request_us"`
}

// readArgs are the arguments of the per-call figure: WHMCS's reference
// example, client 1's two services.
const readArgs = `{"clientid":1}`

// directForm is the form whmcs.Client sends for readArgs.
func directForm() string {
	return url.Values{
		"action":       {"GetClientsProducts"},
		"clientid":     {"1"},
		"identifier":   {"sandbox-identifier"},
		"secret":       {"sandbox-secret"},
		"responsetype": {"json"},
	}.Encode()
}

// directClient posts WHMCS API requests the way whmcs.Client does: one
// keep-alive connection, the whole reply read.
type directClient struct {
	endpoint string
	http     *http.Client
	buf      bytes.Buffer
}

func newDirectClient(base string) *directClient {
	return &directClient{
		endpoint: base + "/includes/api.php",
		http:     &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}},
	}
}

// post sends one form and returns the reply, valid until the next post.
func (d *directClient) post(form string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, d.endpoint, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "whmcs-mcp-bench")
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	d.buf.Reset()
	if _, err := d.buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(d.buf.Bytes(), []byte(`"result":"success"`)) {
		return nil, fmt.Errorf("direct request: HTTP %d %.200s", resp.StatusCode, d.buf.Bytes())
	}
	return d.buf.Bytes(), nil
}

// measureCalls is figures 2 and 3. It starts a server, reads its peak RSS
// after initialize, then makes calls pairs of one MCP call and one direct
// request (alternating which goes first, so that both see the same machine),
// and reads the peak RSS again.
func measureCalls(bin string, sb *sandboxProc, calls, warmup int) (Memory, PerCall, error) {
	base := sb.URL
	s, err := spawn(bin, serverEnv(base))
	if err != nil {
		return Memory{}, PerCall{}, err
	}
	defer s.close()
	if err := s.initialize(); err != nil {
		return Memory{}, PerCall{}, err
	}
	// Without /proc (not Linux) the memory and CPU figures stay zero and
	// Memory.Unavailable says why.
	_, peakInit, rssErr := rss(s.cmd.Process.Pid)
	direct := newDirectClient(base)
	form := directForm()
	params := json.RawMessage(`{"name":"get_clients_products","arguments":` + readArgs + `}`)
	mcpCall := func() (time.Duration, error) {
		start := time.Now()
		line, err := s.send("tools/call", params)
		elapsed := time.Since(start)
		if err != nil {
			return 0, err
		}
		if !bytes.Contains(line, []byte(`"structuredContent"`)) || bytes.Contains(line, []byte(`"isError":true`)) {
			_, err := decodeToolResult(line)
			return 0, fmt.Errorf("get_clients_products: %v", err)
		}
		return elapsed, nil
	}
	directCall := func() (time.Duration, error) {
		start := time.Now()
		_, err := direct.post(form)
		return time.Since(start), err
	}
	for range warmup {
		if _, err := mcpCall(); err != nil {
			return Memory{}, PerCall{}, err
		}
		if _, err := directCall(); err != nil {
			return Memory{}, PerCall{}, err
		}
	}
	pid, sbPid := s.cmd.Process.Pid, sb.cmd.Process.Pid
	serverCPU0, _ := cpuTime(pid)
	sandboxCPU0, _ := cpuTime(sbPid)
	mcpTimes := make([]time.Duration, 0, calls)
	directTimes := make([]time.Duration, 0, calls)
	for i := range calls {
		first, second := mcpCall, directCall
		if i%2 == 1 {
			first, second = directCall, mcpCall
		}
		a, err := first()
		if err != nil {
			return Memory{}, PerCall{}, err
		}
		b, err := second()
		if err != nil {
			return Memory{}, PerCall{}, err
		}
		if i%2 == 1 {
			a, b = b, a
		}
		mcpTimes = append(mcpTimes, a)
		directTimes = append(directTimes, b)
	}
	serverCPU1, _ := cpuTime(pid)
	sandboxCPU1, _ := cpuTime(sbPid)
	current, peak, err := rss(pid)
	if rssErr == nil {
		rssErr = err
	}
	pings := make([]time.Duration, 0, calls/10)
	for range cap(pings) {
		start := time.Now()
		line, err := s.send("ping", json.RawMessage(`{}`))
		if err != nil {
			return Memory{}, PerCall{}, err
		}
		pings = append(pings, time.Since(start))
		if !bytes.Contains(line, []byte(`"result"`)) {
			return Memory{}, PerCall{}, fmt.Errorf("ping: %s", line)
		}
	}
	mem := Memory{
		PeakAfterInitializeMB: mb(peakInit),
		Calls:                 calls + warmup,
		PeakAfterCallsMB:      mb(peak),
		RSSAfterCallsMB:       mb(current),
		GrowthMB:              mb(peak - peakInit),
	}
	if rssErr != nil {
		mem = Memory{Calls: calls + warmup, Unavailable: "no /proc/PID/status: " + rssErr.Error()}
	}
	pc := PerCall{Arguments: readArgs, MCP: summarize(mcpTimes), Direct: summarize(directTimes), Ping: summarize(pings),
		ServerCPUUS:  round(float64(serverCPU1-serverCPU0) / float64(time.Microsecond) / float64(calls)),
		SandboxCPUUS: round(float64(sandboxCPU1-sandboxCPU0) / float64(time.Microsecond) / float64(2*calls))}
	pc.Ratio = round2(pc.MCP.Median / pc.Direct.Median)
	pc.AddedUS = round(pc.MCP.Median - pc.Direct.Median)
	pc.AddedP99US = round(pc.MCP.P99 - pc.Direct.P99)
	return mem, pc, nil
}

func mb(bytes int64) float64 { return round(float64(bytes) / (1 << 20)) }

// Guarded is figure 5: update_client_product setting a status, previewed and
// then confirmed with the token (policy confirmation: token).
type Guarded struct {
	RoundTrips int     `json:"round_trips"`
	AuditLog   bool    `json:"audit_log"`
	Preview    Summary `json:"preview"`
	Confirm    Summary `json:"confirm"`
	RoundTrip  Summary `json:"round_trip"`
}

// measureGuarded runs n preview+confirm round trips on guardedService, switching
// it between Suspended and Active. With auditLog, every step is recorded in
// an audit log in dir (fsync before each write, as in production).
func measureGuarded(bin, base, dir string, n, warmup int, auditLog bool) (Guarded, error) {
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte("confirmation: token\n"), 0o600); err != nil {
		return Guarded{}, err
	}
	env := serverEnv(base, "WHMCS_MCP_POLICY="+policyFile)
	if auditLog {
		log := filepath.Join(dir, fmt.Sprintf("audit-%d.jsonl", time.Now().UnixNano()))
		env = append(env, "WHMCS_MCP_AUDIT_LOG="+log)
	}
	s, err := spawn(bin, env)
	if err != nil {
		return Guarded{}, err
	}
	defer s.close()
	if err := s.initialize(); err != nil {
		return Guarded{}, err
	}
	var previews, confirms, trips []time.Duration
	statuses := [2]string{"Suspended", "Active"}
	for i := -warmup; i < n; i++ {
		args := fmt.Sprintf(`{"serviceid":%d,"status":%q}`, guardedService, statuses[(i+warmup)%2])
		start := time.Now()
		res, _, err := s.call("update_client_product", args)
		previewed := time.Now()
		if err != nil {
			return Guarded{}, err
		}
		var preview struct {
			Status string `json:"status"`
			Token  string `json:"confirmation_token"`
		}
		if err := json.Unmarshal(res.StructuredContent, &preview); err != nil || preview.Status != "confirmation_required" || preview.Token == "" {
			return Guarded{}, fmt.Errorf("want a preview with a token, got %s", res.StructuredContent)
		}
		confirmStart := time.Now()
		res, _, err = s.call("update_client_product", strings.TrimSuffix(args, "}")+`,"confirmation_token":"`+preview.Token+`"}`)
		end := time.Now()
		if err != nil {
			return Guarded{}, err
		}
		if !bytes.Contains(res.StructuredContent, []byte(`"status":"done"`)) {
			return Guarded{}, fmt.Errorf("want done, got %s", res.StructuredContent)
		}
		if i >= 0 {
			previews = append(previews, previewed.Sub(start))
			confirms = append(confirms, end.Sub(confirmStart))
			trips = append(trips, previewed.Sub(start)+end.Sub(confirmStart))
		}
	}
	return Guarded{RoundTrips: n, AuditLog: auditLog, Preview: summarize(previews), Confirm: summarize(confirms), RoundTrip: summarize(trips)}, nil
}

// ModelBytes is figure 6: what the model reads.
type ModelBytes struct {
	// ToolsList is the size of the tools/list result (every tool).
	ToolsList int `json:"tools_list_bytes"`
	// ToolsListJSONRPC is the whole JSON-RPC response line.
	ToolsListJSONRPC int             `json:"tools_list_jsonrpc_bytes"`
	Pages            []ModelBytesRow `json:"get_clients_products"`
}

// ModelBytesRow compares one page of services.
type ModelBytesRow struct {
	Services int `json:"services"`
	// WHMCSReply is WHMCS's raw JSON reply for the same request.
	WHMCSReply int `json:"whmcs_reply_bytes"`
	// Result is the result's JSON (the text block; structuredContent holds
	// the same JSON) with the default fields.
	Result int `json:"result_bytes"`
	// Ratio is Result over WHMCSReply.
	Ratio float64 `json:"ratio"`
	// ToolResult is the whole tools/call result: the text block and
	// structuredContent, as the server sends it.
	ToolResult int `json:"tool_result_bytes"`
	// ResultAll, RatioAll and ToolResultAll are the same with every field
	// (fields ["*"]).
	ResultAll     int     `json:"result_all_fields_bytes"`
	RatioAll      float64 `json:"ratio_all_fields"`
	ToolResultAll int     `json:"tool_result_all_fields_bytes"`
}

// measureModelBytes sizes tools/list and get_clients_products pages of the
// fixture client (see fixture.go) against the sandbox at url, with the
// default fields and with every field.
func measureModelBytes(bin, base string, pages []int) (ModelBytes, error) {
	s, err := spawn(bin, serverEnv(base))
	if err != nil {
		return ModelBytes{}, err
	}
	defer s.close()
	if err := s.initialize(); err != nil {
		return ModelBytes{}, err
	}
	var out ModelBytes
	line, err := s.send("tools/list", json.RawMessage(`{}`))
	if err != nil {
		return out, err
	}
	var list struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(line, &list); err != nil || list.Result == nil {
		return out, fmt.Errorf("tools/list: %.200s", line)
	}
	out.ToolsList = len(list.Result)
	out.ToolsListJSONRPC = len(bytes.TrimSpace(line))
	direct := newDirectClient(base)
	for _, n := range pages {
		form := url.Values{
			"action": {"GetClientsProducts"}, "clientid": {fmt.Sprint(fixtureClient)}, "limitnum": {fmt.Sprint(n)},
			"identifier": {"sandbox-identifier"}, "secret": {"sandbox-secret"}, "responsetype": {"json"},
		}.Encode()
		reply, err := direct.post(form)
		if err != nil {
			return out, err
		}
		row := ModelBytesRow{Services: n, WHMCSReply: len(bytes.TrimSpace(reply))}
		for _, fields := range []string{"", `,"fields":["*"]`} {
			text, whole, err := s.pageBytes(fmt.Sprintf(`{"clientid":%d,"limitnum":%d%s}`, fixtureClient, n, fields), n)
			if err != nil {
				return out, err
			}
			if fields == "" {
				row.Result, row.ToolResult = text, whole
			} else {
				row.ResultAll, row.ToolResultAll = text, whole
			}
		}
		row.Ratio = round2(float64(row.Result) / float64(row.WHMCSReply))
		row.RatioAll = round2(float64(row.ResultAll) / float64(row.WHMCSReply))
		out.Pages = append(out.Pages, row)
	}
	return out, nil
}

// pageBytes calls get_clients_products with args, checks that it returned
// a page of n services, and returns the sizes of its text and of the whole
// tools/call result.
func (s *stdioServer) pageBytes(args string, n int) (text, whole int, err error) {
	res, line, err := s.call("get_clients_products", args)
	if err != nil {
		return 0, 0, err
	}
	var page struct {
		Returned int `json:"returned"`
	}
	if err := json.Unmarshal(res.StructuredContent, &page); err != nil || page.Returned != n {
		return 0, 0, fmt.Errorf("the fixture page of %d services returned %d (%s)", n, page.Returned, args)
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(line, &msg); err != nil {
		return 0, 0, err
	}
	return len(res.Text()), len(msg.Result), nil
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// InitCost is the time one package's initialisation takes at start-up.
type InitCost struct {
	Package string  `json:"package"`
	MS      float64 `json:"median_ms"`
}

// measureInits runs `bin version` runs times with GODEBUG=inittrace=1 and
// returns the median total of package initialisation and its most costly
// packages: start-up time spent before main runs.
func measureInits(bin string, runs, top int) (float64, []InitCost, error) {
	perPackage := map[string][]time.Duration{}
	var totals []time.Duration
	for range runs {
		cmd := exec.Command(bin, "version")
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return 0, nil, fmt.Errorf("%s version: %w", bin, err)
		}
		var total time.Duration
		for line := range strings.SplitSeq(stderr.String(), "\n") {
			// init PACKAGE @T ms, D ms clock, B bytes, A allocs
			f := strings.Fields(line)
			if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			ms, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				continue
			}
			d := time.Duration(ms * float64(time.Millisecond))
			perPackage[f[1]] = append(perPackage[f[1]], d)
			total += d
		}
		totals = append(totals, total)
	}
	var costs []InitCost
	for pkg, d := range perPackage {
		for len(d) < runs {
			d = append(d, 0)
		}
		costs = append(costs, InitCost{Package: pkg, MS: ms(summarize(d).Median)})
	}
	slices.SortFunc(costs, func(a, b InitCost) int { return cmp.Compare(b.MS, a.MS) })
	return ms(summarize(totals).Median), costs[:min(top, len(costs))], nil
}
