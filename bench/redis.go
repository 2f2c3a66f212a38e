package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisProc is a redis-server of the bench's own on a free loopback port,
// without persistence, for the replica figures (7 and 8).
type redisProc struct {
	cmd    *exec.Cmd
	URL    string // redis://127.0.0.1:PORT/0
	client *redis.Client
	stderr *tailBuffer
	exited chan struct{} // closed when the process has been waited for
}

// errNoRedis is why the Redis figures are not measured on a machine
// without Redis.
var errNoRedis = errors.New("redis-server not found")

// startRedis starts redis-server and waits until it answers PING.
func startRedis() (*redisProc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNoRedis
	}
	for attempt := 0; ; attempt++ {
		r, err := tryRedis(bin)
		if err == nil || attempt == 2 {
			return r, err
		}
		// Another process may have taken the free port first.
	}
}

func tryRedis(bin string) (*redisProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &redisProc{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), stderr: &tailBuffer{max: 4 << 10}}
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")
	r.cmd.Stdout, r.cmd.Stderr = r.stderr, r.stderr
	dieWithBench(r.cmd)
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	r.exited = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.exited) }()
	r.client = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := r.client.Ping(ctx).Err()
		cancel()
		if err == nil {
			return r, nil
		}
		select {
		case <-r.exited:
			r.client.Close()
			return nil, fmt.Errorf("redis-server exited: %s", strings.TrimSpace(r.stderr.String()))
		default:
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer within 10s: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback port nobody listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// redisCounts are Redis's counters since it started (INFO stats).
type redisCounts struct {
	// requests is total_reads_processed: the read events on client
	// connections, one per request when, as here, no client pipelines.
	requests int64
	// commands is total_commands_processed, which also counts the commands
	// a script runs.
	commands int64
}

// counts reads the counters. The INFO that asks counts as one request
// (before it answers) and one command (after).
func (r *redisProc) counts() (redisCounts, error) {
	info, err := r.client.Info(context.Background(), "stats").Result()
	if err != nil {
		return redisCounts{}, err
	}
	var c redisCounts
	found := 0
	for line := range strings.SplitSeq(info, "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "total_reads_processed":
			dst = &c.requests
		case "total_commands_processed":
			dst = &c.commands
		default:
			continue
		}
		if *dst, err = strconv.ParseInt(value, 10, 64); err != nil {
			return c, err
		}
		found++
	}
	if found != 2 {
		return c, errors.New("no total_reads_processed or total_commands_processed in INFO stats")
	}
	return c, nil
}

// since returns what the replicas sent between c0 and c, per operation
// over n operations, less the INFO that read c0.
func (c redisCounts) since(c0 redisCounts, n int) (requests, commands float64) {
	return round(float64(c.requests-c0.requests-1) / float64(n)), round(float64(c.commands-c0.commands-1) / float64(n))
}

// ping times n PINGs, one at a time, after a tenth as many untimed.
func (r *redisProc) ping(n int) (Summary, error) {
	ctx := context.Background()
	times := make([]time.Duration, 0, n)
	for i := -n / 10; i < n; i++ {
		start := time.Now()
		if err := r.client.Ping(ctx).Err(); err != nil {
			return Summary{}, err
		}
		if i >= 0 {
			times = append(times, time.Since(start))
		}
	}
	return summarize(times), nil
}

// pid is the redis-server's process id.
func (r *redisProc) pid() int { return r.cmd.Process.Pid }

// stop kills the server (it keeps nothing) and waits for it.
func (r *redisProc) stop() {
	r.client.Close()
	r.cmd.Process.Kill()
	<-r.exited
}
