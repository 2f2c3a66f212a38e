package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Figures 7 and 8 compare two ways of deploying the server over streamable
// HTTP: one replica with the confirmation ledger in memory, and two replicas
// sharing a Redis (the ledger and the per-principal rate limits) behind a
// load balancer without sticky sessions, which the bench plays by sending
// each request to the next replica in turn. Figure 7 is the guarded round
// trip one at a time, figure 8 throughput under 32 sessions.

// deployment is one way of running the server for figures 7 and 8.
type deployment struct {
	name     string
	state    string // "memory" or "redis"
	replicas int
	// load is whether figure 8 measures it too; one replica with Redis is
	// only in figure 7, to tell Redis's share from the second replica's.
	load bool
}

var deployments = []deployment{
	{name: "1 replica, ledger in memory", state: "memory", replicas: 1, load: true},
	{name: "1 replica + Redis", state: "redis", replicas: 1},
	{name: "2 replicas + Redis", state: "redis", replicas: 2, load: true},
}

// replicaRateLimit is the per-principal rate limit of figures 7 and 8: on,
// so that every request passes the limiter (the process's own, or the one
// shared through Redis), but far above what the machine can send.
const replicaRateLimit = "1000000"

// HTTPRoundTrip is figure 7: the guarded round trip over streamable HTTP,
// one after another on one session: a preview (update_client_product
// setting guardedService's status, no token) and its confirmation (the same
// call with the token). With two replicas the preview goes to one and the
// confirmation to the other.
type HTTPRoundTrip struct {
	Setup    string `json:"setup"`
	Measured bool   `json:"measured"`
	Reason   string `json:"reason,omitempty"`
	Replicas int    `json:"replicas,omitempty"`
	// State is where the ledger is: "memory" or "redis".
	State   string `json:"state,omitempty"`
	Backend string `json:"backend,omitempty"`
	// RoundTrips were timed, after a tenth as many untimed.
	RoundTrips int     `json:"round_trips,omitempty"`
	Preview    Summary `json:"preview"`
	Confirm    Summary `json:"confirm"`
	RoundTrip  Summary `json:"round_trip"`
	// PerSecond is the round trips over the time they took, one at a time.
	PerSecond float64 `json:"round_trips_per_second,omitempty"`
	// RedisRequests is how many requests the replicas sent Redis per round
	// trip; RedisCommands how many commands Redis ran for them, counting
	// those the rate-limit script runs.
	RedisRequests float64 `json:"redis_requests_per_round_trip,omitempty"`
	RedisCommands float64 `json:"redis_commands_per_round_trip,omitempty"`
}

// ReplicaLoad is figure 8: streamable HTTP under concurrent sessions, each
// running one operation back to back: a read (get_clients_products, as in
// figure 4) or a guarded round trip (as in figure 7).
type ReplicaLoad struct {
	Setup    string `json:"setup"`
	Measured bool   `json:"measured"`
	Reason   string `json:"reason,omitempty"`
	Replicas int    `json:"replicas,omitempty"`
	State    string `json:"state,omitempty"`
	Backend  string `json:"backend,omitempty"`
	// Workload is "read" or "guarded".
	Workload   string `json:"workload"`
	Sessions   int    `json:"sessions,omitempty"`
	Duration   string `json:"duration,omitempty"`
	Operations int    `json:"operations,omitempty"`
	Errors     int    `json:"errors,omitempty"`
	FirstError string `json:"first_error,omitempty"`
	// PerSecond is operations (reads or round trips) per second;
	// CallsPerSecond the tool calls, two per round trip.
	PerSecond      float64 `json:"operations_per_second,omitempty"`
	CallsPerSecond float64 `json:"tool_calls_per_second,omitempty"`
	// Latency is that of one operation.
	Latency Summary `json:"latency"`
	// The CPU time per operation of the replicas (together), the WHMCS,
	// Redis and the load generator (this process).
	ServerCPUUS  float64 `json:"server_cpu_per_operation_us,omitempty"`
	BackendCPUUS float64 `json:"backend_cpu_per_operation_us,omitempty"`
	RedisCPUUS   float64 `json:"redis_cpu_per_operation_us,omitempty"`
	LoadCPUUS    float64 `json:"load_generator_cpu_per_operation_us,omitempty"`
	// RedisRequests and RedisCommands are per operation, as in
	// HTTPRoundTrip.
	RedisRequests float64 `json:"redis_requests_per_operation,omitempty"`
	RedisCommands float64 `json:"redis_commands_per_operation,omitempty"`
}

// hasState reports whether the binary has the --state flag.
func hasState(bin string) bool {
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	return strings.Contains(string(out), "-state ")
}

// backendWHMCS is a WHMCS the replicas call, and the statuses a round trip
// sets guardedService to, in turn.
type backendWHMCS struct {
	name     string
	url      string
	pid      int
	statuses []string
}

// replicaFigures are figures 7 and 8.
type replicaFigures struct {
	trips []HTTPRoundTrip
	loads []ReplicaLoad
	// redisPing is a PING from the bench to its Redis, one at a time: the
	// floor of a request a replica sends Redis.
	redisPing *Summary
}

// measureReplicas is figures 7 and 8. The deployments run side by side for
// each backend, and each measurement is taken of one and then of the next,
// so that all see the same machine. Figure 7 runs against the stub and the
// sandbox, figure 8 against the stub only (against the sandbox, its SQLite
// work would be the figure: see figure 4).
func measureReplicas(bin, dir string, o *options, sb *sandboxProc, stub *stubWHMCS) (replicaFigures, error) {
	var f replicaFigures
	notMeasured := func(d deployment, reason string) {
		for _, b := range []string{"stub", "sandbox"} {
			if o.wants(7) {
				f.trips = append(f.trips, HTTPRoundTrip{Setup: d.name, Backend: b, Reason: reason})
			}
		}
		for _, w := range []string{"read", "guarded"} {
			if o.wants(8) && d.load {
				f.loads = append(f.loads, ReplicaLoad{Setup: d.name, Backend: "stub", Workload: w, Reason: reason})
			}
		}
	}
	switch {
	case !hasHTTP(bin):
		for _, d := range deployments {
			notMeasured(d, "--http not available yet")
		}
		return f, nil
	case !hasState(bin):
		for _, d := range deployments {
			notMeasured(d, "--state not available yet")
		}
		return f, nil
	}
	backends := []backendWHMCS{
		// The stub's service never changes: ask for the other status each time.
		{name: "stub", url: stub.URL, pid: stub.cmd.Process.Pid, statuses: []string{otherStatus(stub.ServiceStatus)}},
		{name: "sandbox", url: sb.URL, pid: sb.cmd.Process.Pid, statuses: []string{"Suspended", "Active"}},
	}
	policyFile := filepath.Join(dir, "policy-replicas.yaml")
	if err := os.WriteFile(policyFile, []byte("confirmation: token\n"), 0o600); err != nil {
		return f, err
	}
	rds, redisErr := startRedis()
	if redisErr == nil {
		defer rds.stop()
		ping, err := rds.ping(1000)
		if err != nil {
			return f, err
		}
		f.redisPing = &ping
	}
	token := newToken()
	for _, b := range backends {
		// The deployments this backend measures, and their servers.
		var active []deployment
		for _, d := range deployments {
			if (d.state == "redis" && redisErr != nil) || !(o.wants(7) || (o.wants(8) && d.load && b.name == "stub")) {
				continue
			}
			active = append(active, d)
		}
		if len(active) == 0 {
			continue
		}
		servers := make([][]*httpServer, len(active))
		stopAll := func() {
			for _, group := range servers {
				for _, h := range group {
					h.stop()
				}
			}
		}
		for i, d := range active {
			for r := range d.replicas {
				args := []string{"--policy", policyFile, "--rate-limit", replicaRateLimit, "--rate-burst", replicaRateLimit,
					"--instance", fmt.Sprintf("%s-%d-%d", d.state, d.replicas, r)}
				if d.state == "redis" {
					args = append(args, "--state", rds.URL)
				}
				h, err := startHTTPServer(bin, b.url, token, args...)
				if err != nil {
					stopAll()
					return f, err
				}
				servers[i] = append(servers[i], h)
			}
		}
		redisOf := func(d deployment) *redisProc {
			if d.state == "redis" {
				return rds
			}
			return nil
		}
		if o.wants(7) {
			for i, d := range active {
				step(fmt.Sprintf("7. guarded round trip over streamable HTTP, %s WHMCS: %s, %d round trips", b.name, d.name, o.roundTrips))
				t, err := measureHTTPRoundTrip(servers[i], b, o.roundTrips, o.roundTrips/10, redisOf(d))
				if err != nil {
					stopAll()
					return f, fmt.Errorf("%s, %s WHMCS: %w", d.name, b.name, err)
				}
				t.Setup, t.Replicas, t.State = d.name, d.replicas, d.state
				f.trips = append(f.trips, t)
			}
		}
		for _, w := range []string{"read", "guarded"} {
			for i, d := range active {
				if !o.wants(8) || !d.load || b.name != "stub" {
					continue
				}
				step(fmt.Sprintf("8. streamable HTTP %s load, %d sessions for %s, %s WHMCS: %s", w, o.httpClients, o.httpFor, b.name, d.name))
				l, err := measureReplicaLoad(servers[i], b, w, o.httpClients, o.httpFor, redisOf(d))
				if err != nil {
					stopAll()
					return f, fmt.Errorf("%s, %s load: %w", d.name, w, err)
				}
				l.Setup, l.Replicas, l.State = d.name, d.replicas, d.state
				f.loads = append(f.loads, l)
			}
		}
		stopAll()
	}
	if redisErr != nil {
		for _, d := range deployments {
			if d.state == "redis" {
				notMeasured(d, redisErr.Error())
			}
		}
	}
	return f, nil
}

// otherStatus is the status a round trip sets a service in status to.
func otherStatus(status string) string {
	if status == "Active" {
		return "Suspended"
	}
	return "Active"
}

// errUnchanged is a preview that found the service in the status asked for.
var errUnchanged = errors.New("the service already has that status")

// roundTrip previews setting service's status with one tools/call and
// confirms it with a second, each to the next server in turn. It returns
// how long each took.
func (s *mcpSession) roundTrip(service int, status string) (preview, confirm time.Duration, err error) {
	args := `{"serviceid":` + strconv.Itoa(service) + `,"status":"` + status + `"`
	t0 := time.Now()
	line, err := s.tool(s.next(), "update_client_product", args+"}")
	t1 := time.Now()
	if err != nil {
		return 0, 0, err
	}
	// structuredContent holds the token as plain JSON; the text block holds
	// it escaped, which this does not match.
	_, rest, ok := bytes.Cut(line, []byte(`"confirmation_token":"`))
	token, _, closed := bytes.Cut(rest, []byte(`"`))
	if !ok || !closed || len(token) == 0 {
		if bytes.Contains(line, []byte(`"status":"unchanged"`)) {
			return 0, 0, errUnchanged
		}
		return 0, 0, fmt.Errorf("want a preview with a token, got %.300s", line)
	}
	line, err = s.tool(s.next(), "update_client_product", args+`,"confirmation_token":"`+string(token)+`"}`)
	t2 := time.Now()
	if err != nil {
		return 0, 0, err
	}
	if !bytes.Contains(line, []byte(`"status":"done"`)) {
		return 0, 0, fmt.Errorf("want done, got %.300s", line)
	}
	return t1.Sub(t0), t2.Sub(t1), nil
}

// measureHTTPRoundTrip times n guarded round trips on one session, after
// warmup untimed ones. Against the sandbox the status alternates (if the
// service starts in the status asked for, the warm-up moves on to the
// next).
func measureHTTPRoundTrip(servers []*httpServer, b backendWHMCS, n, warmup int, rds *redisProc) (HTTPRoundTrip, error) {
	sessions, closeIdle, err := openSessions(servers, 1)
	if err != nil {
		return HTTPRoundTrip{}, err
	}
	defer closeIdle()
	s := sessions[0]
	var previews, confirms, trips []time.Duration
	var start time.Time
	var redis0 redisCounts
	withRedis := rds != nil
	phase := 0
	for i := -warmup; i < n; i++ {
		if i == 0 {
			if withRedis {
				if redis0, err = rds.counts(); err != nil {
					return HTTPRoundTrip{}, err
				}
			}
			start = time.Now()
		}
		status := b.statuses[(i+warmup+phase)%len(b.statuses)]
		p, c, err := s.roundTrip(guardedService, status)
		if errors.Is(err, errUnchanged) && i < 0 && len(b.statuses) > 1 {
			phase++
			continue
		}
		if err != nil {
			return HTTPRoundTrip{}, err
		}
		if i >= 0 {
			previews = append(previews, p)
			confirms = append(confirms, c)
			trips = append(trips, p+c)
		}
	}
	elapsed := time.Since(start)
	t := HTTPRoundTrip{Measured: true, Backend: b.name, RoundTrips: n,
		Preview: summarize(previews), Confirm: summarize(confirms), RoundTrip: summarize(trips),
		PerSecond: round(float64(n) / elapsed.Seconds())}
	if withRedis {
		redis1, err := rds.counts()
		if err != nil {
			return t, err
		}
		t.RedisRequests, t.RedisCommands = redis1.since(redis0, n)
	}
	return t, nil
}

// measureReplicaLoad is one load of figure 8: sessions concurrent sessions
// spread over servers, each running workload back to back for d after a
// second of warm-up.
func measureReplicaLoad(servers []*httpServer, b backendWHMCS, workload string, sessions int, d time.Duration, rds *redisProc) (ReplicaLoad, error) {
	all, closeIdle, err := openSessions(servers, sessions)
	if err != nil {
		return ReplicaLoad{}, err
	}
	defer closeIdle()
	op := (*mcpSession).call
	if workload == "guarded" {
		op = func(s *mcpSession) error {
			_, _, err := s.roundTrip(guardedService, b.statuses[0])
			return err
		}
	}
	withRedis := rds != nil
	pids := []int{b.pid, os.Getpid()}
	if withRedis {
		pids = append(pids, rds.pid())
	}
	for _, h := range servers {
		pids = append(pids, h.cmd.Process.Pid)
	}
	readCPU := func() []time.Duration {
		t := make([]time.Duration, len(pids))
		for i, pid := range pids {
			t[i], _ = cpuTime(pid)
		}
		return t
	}
	var cpu0, cpu1 []time.Duration
	var redis0, redis1 redisCounts
	var redisErr0, redisErr1 error
	run := drive(all, d, func() {
		cpu0 = readCPU()
		if withRedis {
			redis0, redisErr0 = rds.counts()
		}
	}, func() {
		cpu1 = readCPU()
		if withRedis {
			redis1, redisErr1 = rds.counts()
		}
	}, op)
	l := ReplicaLoad{Measured: true, Backend: b.name, Workload: workload, Sessions: sessions, Duration: d.String(),
		Operations: len(run.times), Errors: run.errors, Latency: summarize(run.times)}
	if run.first != nil {
		l.FirstError = run.first.Error()
	}
	if len(run.times) == 0 {
		return l, errors.New("no operation completed: " + l.FirstError)
	}
	n := float64(len(run.times))
	l.PerSecond = round(n / d.Seconds())
	l.CallsPerSecond = l.PerSecond
	if workload == "guarded" {
		l.CallsPerSecond = round(2 * n / d.Seconds())
	}
	perOp := func(i int) float64 { return round(float64(cpu1[i]-cpu0[i]) / float64(time.Microsecond) / n) }
	l.BackendCPUUS, l.LoadCPUUS = perOp(0), perOp(1)
	first := 2
	if withRedis {
		l.RedisCPUUS = perOp(2)
		first = 3
		if redisErr0 == nil && redisErr1 == nil {
			l.RedisRequests, l.RedisCommands = redis1.since(redis0, len(run.times))
		}
	}
	for i := first; i < len(pids); i++ {
		l.ServerCPUUS += perOp(i)
	}
	l.ServerCPUUS = round(l.ServerCPUUS)
	return l, nil
}
