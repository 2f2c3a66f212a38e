// Package redistest gives tests a real Redis on 127.0.0.1: the one
// WHMCS_MCP_TEST_REDIS names (.ci/run starts one), or a redis-server of
// its own. Without either a test is skipped, except under CI=true, where it
// fails: CI must never pass a test it did not run.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// URL returns the redis:// URL of a Redis for t, flushed of earlier keys
// when it is shared.
func URL(t testing.TB) string {
	t.Helper()
	if url := os.Getenv("WHMCS_MCP_TEST_REDIS"); url != "" {
		if err := ping(url); err != nil {
			t.Fatalf("WHMCS_MCP_TEST_REDIS=%s: %v", url, err)
		}
		return url
	}
	return Start(t).URL
}

// Server is a redis-server process of a test's own.
type Server struct {
	URL  string
	Port int
	cmd  *exec.Cmd
}

// Start runs a redis-server on a free loopback port, without persistence,
// until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed: .ci/run installs it (Debian package redis-server)")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server); CI runs this test")
	}
	s := &Server{Port: freePort(t)}
	s.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port)
	s.start(t, bin)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(t testing.TB, bin string) {
	t.Helper()
	s.cmd = exec.Command(bin, "--port", fmt.Sprint(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ping(s.URL) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not answer within 10 s", s.Port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (its data is gone).
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	bin, _ := exec.LookPath("redis-server")
	s.start(t, bin)
}

func ping(url string) error {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
