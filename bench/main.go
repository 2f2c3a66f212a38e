// Command bench builds whmcs-mcp and measures it as whole processes on this
// machine: stdio cold start, memory, per-call overhead against WHMCS called
// directly, streamable HTTP under load, the guarded preview+confirm round
// trip, the bytes a model reads, and the guarded round trip and throughput
// over streamable HTTP of one replica against two sharing Redis. It prints a
// table and writes the figures as JSON. Run it from the module root:
//
//	go run ./bench                     # writes bench/results.json
//	go run ./bench -quick              # fewer runs, for a smoke test
//	go run ./bench -only 7,8           # the replica figures (redis-server on PATH)
//	go run ./bench -only 9             # a 25-service read against a stub WHMCS
//
// The MCP server and the sandbox WHMCS it talks to run as separate
// processes, both on 127.0.0.1. The stdio figures drive the server with raw
// JSON-RPC lines over its pipes, so that they measure the server and not an
// SDK client. BENCHMARKS.md explains the figures and the budgets.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Report is everything one run measured, as written to the JSON file.
type Report struct {
	Machine   Machine    `json:"machine"`
	Commit    string     `json:"commit"`
	Date      string     `json:"date"`
	Command   string     `json:"command"`
	Figures   []int      `json:"figures_measured"`
	ColdStart ColdStart  `json:"cold_start"`
	Memory    Memory     `json:"memory"`
	PerCall   PerCall    `json:"per_call"`
	HTTP      []HTTPLoad `json:"streamable_http"`
	Guarded   []Guarded  `json:"guarded_round_trip"`
	Bytes     ModelBytes `json:"model_bytes"`
	// HTTPRoundTrips is figure 7 and Replicas figure 8: one replica with
	// the ledger in memory against two sharing Redis.
	HTTPRoundTrips []HTTPRoundTrip `json:"guarded_round_trip_http"`
	Replicas       []ReplicaLoad   `json:"streamable_http_replicas"`
	// RedisPing is a PING from the bench to the Redis of figures 7 and 8.
	RedisPing *Summary `json:"redis_ping,omitempty"`
	// StubRead is figure 9: a 25-service read over stdio against a stub
	// WHMCS, next to the same request sent to the stub directly.
	StubRead *StubRead `json:"stub_read,omitempty"`
	Budgets  []Budget  `json:"budgets"`
}

// Machine is where the figures were taken.
type Machine struct {
	CPUs    int    `json:"cpus"`
	CPU     string `json:"cpu_model"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Kernel  string `json:"kernel,omitempty"`
	MemoryG int    `json:"memory_gb,omitempty"`
	// LoadBefore and LoadAfter are the 1-minute load averages when the run
	// started and ended: other work on the machine skews every figure.
	LoadBefore float64 `json:"load_average_before"`
	LoadAfter  float64 `json:"load_average_after"`
}

// Budget is one budget of the issue and whether this run met it.
type Budget struct {
	Figure string  `json:"figure"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Limit  string  `json:"budget"`
	Met    *bool   `json:"met"` // nil when not measured
}

type options struct {
	out         string
	bin         string
	coldRuns    int
	calls       int
	warmup      int
	roundTrips  int
	httpFor     time.Duration
	httpClients int
	only        string
	waitIdle    time.Duration
}

// wants reports whether figure n is to be measured.
func (o *options) wants(n int) bool {
	return o.only == "" || slices.Contains(strings.Split(o.only, ","), strconv.Itoa(n))
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == floorCommand {
		if err := serveFloor(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench: stdio floor:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 3 && os.Args[1] == stubCommand {
		if err := serveStub(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench: stub WHMCS:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.out, "o", "", "write the figures as JSON to this file (default: bench/results.json for a full run, bench/results-partial.json with -only or -quick, so that they never replace the published figures)")
	flag.StringVar(&o.bin, "bin", "", "measure this whmcs-mcp binary instead of building one")
	flag.IntVar(&o.coldRuns, "cold", 20, "cold starts to time")
	flag.IntVar(&o.calls, "calls", 10000, "get_clients_products calls for the memory and per-call figures")
	flag.IntVar(&o.roundTrips, "roundtrips", 300, "guarded preview+confirm round trips")
	flag.DurationVar(&o.httpFor, "http-duration", 10*time.Second, "length of the streamable HTTP load")
	flag.IntVar(&o.httpClients, "http-sessions", 32, "concurrent streamable HTTP sessions")
	flag.StringVar(&o.only, "only", "", "measure only these figures, e.g. 1,3 (default: all)")
	flag.DurationVar(&o.waitIdle, "wait-idle", 0, "first wait up to this long for the 1-minute load average to fall below 0.3")
	quick := flag.Bool("quick", false, "fewer runs and calls: a smoke test, not figures to publish")
	flag.Parse()
	o.warmup = 500
	if o.out == "" {
		o.out = filepath.Join("bench", "results.json")
		if o.only != "" || *quick {
			o.out = filepath.Join("bench", "results-partial.json")
		}
	}
	if *quick {
		o.coldRuns, o.calls, o.warmup, o.roundTrips, o.httpFor = 5, 500, 50, 20, 2*time.Second
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "whmcs-mcp-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-interrupted // the children die with the bench (dieWithBench)
		os.RemoveAll(dir)
		os.Exit(130)
	}()
	bin := o.bin
	if bin == "" {
		bin = filepath.Join(dir, "whmcs-mcp")
		step("building whmcs-mcp")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build (run the bench from the module root): %w", err)
		}
	}
	if o.waitIdle > 0 {
		waitIdle(o.waitIdle)
	}
	var figures []int
	for n := 1; n <= 9; n++ {
		if o.wants(n) {
			figures = append(figures, n)
		}
	}
	r := Report{Machine: machine(), Commit: commit(), Date: time.Now().UTC().Format(time.RFC3339), Command: strings.Join(os.Args[1:], " "), Figures: figures}

	step("starting the sandbox WHMCS (its own process)")
	sb, err := startSandbox(bin)
	if err != nil {
		return err
	}
	defer sb.stop()

	if o.wants(1) {
		step(fmt.Sprintf("1. cold start: %d spawns", o.coldRuns))
		if r.ColdStart, err = measureColdStart(bin, sb.URL, o.coldRuns); err != nil {
			return fmt.Errorf("cold start: %w", err)
		}
	}
	if o.wants(2) || o.wants(3) {
		step(fmt.Sprintf("2+3. memory and per-call overhead: %d calls after %d warm-up", o.calls, o.warmup))
		if r.Memory, r.PerCall, err = measureCalls(bin, sb, o.calls, o.warmup); err != nil {
			return fmt.Errorf("per call: %w", err)
		}
		step("3. the floors of a call on stdio: ping through cat, mcp-go alone, mcp-go's stdio transport")
		if r.PerCall.Floors, err = measureFloors(o.calls / 5); err != nil {
			return fmt.Errorf("stdio floors: %w", err)
		}
	}
	var stub *stubWHMCS
	if (o.wants(4) || o.wants(7) || o.wants(8)) && hasHTTP(bin) {
		if stub, err = startStub(sb.URL, dir); err != nil {
			return err
		}
		defer stub.stop()
	}
	if o.wants(4) {
		if !hasHTTP(bin) {
			r.HTTP = []HTTPLoad{{Reason: "--http not available yet"}}
		} else {
			for _, backend := range []struct {
				name, url string
				pid       int
			}{{"stub", stub.URL, stub.cmd.Process.Pid}, {"sandbox", sb.URL, sb.cmd.Process.Pid}} {
				step(fmt.Sprintf("4. streamable HTTP: %d sessions for %s against the %s WHMCS", o.httpClients, o.httpFor, backend.name))
				load, err := measureHTTP(bin, backend.url, backend.name, backend.pid, o.httpClients, o.httpFor)
				if err != nil {
					return fmt.Errorf("streamable HTTP: %w", err)
				}
				r.HTTP = append(r.HTTP, load)
			}
		}
	}
	for _, audit := range []bool{true, false} {
		if !o.wants(5) {
			break
		}
		step(fmt.Sprintf("5. guarded round trip: %d previews+confirmations, audit log %v", o.roundTrips, audit))
		g, err := measureGuarded(bin, sb.URL, dir, o.roundTrips, o.roundTrips/10, audit)
		if err != nil {
			return fmt.Errorf("guarded round trip: %w", err)
		}
		r.Guarded = append(r.Guarded, g)
	}
	if o.wants(7) || o.wants(8) {
		step("7+8. one replica with the ledger in memory against two sharing a Redis of the bench's own")
		f, err := measureReplicas(bin, dir, &o, sb, stub)
		if err != nil {
			return fmt.Errorf("replicas: %w", err)
		}
		r.HTTPRoundTrips, r.Replicas, r.RedisPing = f.trips, f.loads, f.redisPing
	}
	if o.wants(6) || o.wants(9) {
		step("6+9. a sandbox with 250 more services")
		fixture := filepath.Join(dir, "fixture.db")
		if err := makeFixture(fixture, 250); err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
		big, err := startSandbox(bin, "--db", fixture)
		if err != nil {
			return err
		}
		if o.wants(6) {
			step("6. bytes a model reads")
			if r.Bytes, err = measureModelBytes(bin, big.URL, []int{25, 250}); err != nil {
				big.stop()
				return fmt.Errorf("model bytes: %w", err)
			}
		}
		if o.wants(9) {
			n := max(o.calls/4, 1)
			step(fmt.Sprintf("9. a %d-service read against a stub WHMCS: %d rounds after %d warm-up", stubReadServices, n, o.warmup/5))
			f, err := measureStubRead(bin, big.URL, dir, n, o.warmup/5)
			if err != nil {
				big.stop()
				return fmt.Errorf("stub read: %w", err)
			}
			r.StubRead = &f
		}
		big.stop()
	}

	r.Machine.LoadAfter = loadAverage()
	r.Budgets = budgets(&r, &o)
	printTable(os.Stdout, &r)
	if o.out != "" {
		b, err := json.MarshalIndent(&r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Printf("\nwrote %s\n", o.out)
	}
	return nil
}

// step tells the user, on stderr, what the bench is doing.
func step(s string) { fmt.Fprintf(os.Stderr, "bench: %s\n", s) }

// budgets checks the figures against the budgets of issues 6 and 15; a
// figure not measured in this run is "not measured".
func budgets(r *Report, o *options) []Budget {
	check := func(figure int, name string, value float64, unit, limit string, ok bool) Budget {
		b := Budget{Figure: name, Unit: unit, Limit: limit}
		if o.wants(figure) {
			b.Value, b.Met = value, &ok
		}
		return b
	}
	memory := func(b Budget) Budget {
		if r.Memory.Unavailable != "" {
			b.Value, b.Met = 0, nil
		}
		return b
	}
	b := []Budget{
		check(1, "1 cold start median", r.ColdStart.MedianMS, "ms", "<= 15 ms", r.ColdStart.MedianMS <= 15),
		memory(check(2, "2 peak RSS after initialize", r.Memory.PeakAfterInitializeMB, "MB", "<= 20 MB", r.Memory.PeakAfterInitializeMB <= 20)),
		memory(check(2, "2 RSS growth over the calls", r.Memory.GrowthMB, "MB", "<= 10 MB", r.Memory.GrowthMB <= 10)),
		check(3, "3 MCP median / direct median", r.PerCall.Ratio, "x", "<= 1.25 x", r.PerCall.Ratio <= 1.25),
		check(3, "3 MCP median - direct median", r.PerCall.AddedUS, "us", "<= 150 us", r.PerCall.AddedUS <= 150),
	}
	var capacity *HTTPLoad
	for i := range r.HTTP {
		if r.HTTP[i].Measured && r.HTTP[i].Backend == "stub" {
			capacity = &r.HTTP[i]
		}
	}
	if capacity != nil {
		b = append(b,
			check(4, "4 streamable HTTP read calls/s", capacity.CallsPerSecond, "calls/s", ">= 3000", capacity.CallsPerSecond >= 3000),
			check(4, "4 streamable HTTP p99", round(capacity.Latency.P99/1000), "ms", "<= 25 ms", capacity.Latency.P99/1000 <= 25))
	} else {
		b = append(b,
			Budget{Figure: "4 streamable HTTP read calls/s", Unit: "calls/s", Limit: ">= 3000"},
			Budget{Figure: "4 streamable HTTP p99", Unit: "ms", Limit: "<= 25 ms"})
	}
	var page25 int
	for _, p := range r.Bytes.Pages {
		if p.Services == 25 {
			page25 = p.Result
		}
	}
	b = append(b, check(6, "6 25-service page, default text", float64(page25), "bytes", "<= 6000 bytes", page25 > 0 && page25 <= 6000))
	var stubRatio float64
	if r.StubRead != nil {
		stubRatio = r.StubRead.Ratio
	}
	b = append(b, check(9, "9 stub WHMCS, 25 services: MCP median / direct median", stubRatio, "x", "<= 3 x", stubRatio > 0 && stubRatio <= 3))
	return b
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, LoadBefore: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryG = (kb + 1<<19) >> 20
		}
	}
	return m
}

// loadAverage is the 1-minute load average (Linux), or -1.
func loadAverage() float64 {
	var load float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	if _, err := fmt.Sscan(string(b), &load); err != nil {
		return -1
	}
	return load
}

// waitIdle waits until the machine is idle (1-minute load average below
// 0.3), at most max.
func waitIdle(max time.Duration) {
	deadline := time.Now().Add(max)
	for load := loadAverage(); load >= 0.3 && time.Now().Before(deadline); load = loadAverage() {
		step(fmt.Sprintf("waiting for the machine to be idle: load average %.2f", load))
		time.Sleep(15 * time.Second)
	}
}

// commit is the checked-out commit, with "+dirty" for uncommitted changes.
func commit() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty=+dirty", "--abbrev=12").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
