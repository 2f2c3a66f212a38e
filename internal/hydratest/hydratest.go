// Package hydratest runs a real Ory Hydra for tests: `hydra serve all` on
// two loopback ports, in-memory storage, JWT (or opaque) access tokens.
// The binary is the one WHMCS_MCP_TEST_HYDRA names; .ci/hydra builds it
// from the module in ./build (Hydra's dependencies stay out of the
// project's go.mod) and caches it. Without it a test is skipped, except under CI=true, where it
// fails: CI must never pass a test it did not run.
package hydratest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvBinary names the Hydra binary.
const EnvBinary = "WHMCS_MCP_TEST_HYDRA"

// Binary returns the path of the Hydra binary, or skips the test (fails it
// under CI=true) when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: .ci/run builds Ory Hydra with .ci/hydra and sets it", EnvBinary)
		}
		t.Skipf("no Ory Hydra: build it with `export %s=$(.ci/hydra)` (cached after the first build); CI runs this test", EnvBinary)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v", EnvBinary, bin, err)
	}
	return bin
}

// Server is a running Hydra.
type Server struct {
	// Issuer is Hydra's issuer identifier, http://127.0.0.1:PORT/ (with
	// the slash Hydra's metadata gives it).
	Issuer string
	// Public and Admin are the base URLs of the public and admin APIs.
	Public, Admin string
	// Version is what `hydra version` says.
	Version string
	// Startup is the time from the start of the process until both APIs
	// answered healthy.
	Startup time.Duration

	cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{}
}

// Options change how Hydra is run.
type Options struct {
	// OpaqueAccessTokens has Hydra issue opaque access tokens (its
	// default, STRATEGIES_ACCESS_TOKEN=opaque), checked through its token
	// introspection endpoint, instead of JWTs.
	OpaqueAccessTokens bool
}

// IntrospectionEndpoint returns the URL of Hydra's token introspection
// endpoint (RFC 7662), on the admin API: with --dev it asks no client
// authentication (and ignores any).
func (s *Server) IntrospectionEndpoint() string { return s.Admin + "/admin/oauth2/introspect" }

// Start runs Hydra until the test ends: DSN=memory, JWT access tokens
// (opaque ones with opts' OpaqueAccessTokens), --dev (plain HTTP on
// loopback). Its output is logged if the test fails.
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	bin := Binary(t)
	version, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, version)
	}
	var lastErr error
	for range 3 { // a port taken between picking and binding: try others
		s, err := start(bin, o)
		if err == nil {
			s.Version = firstField(string(version), "Version:")
			t.Cleanup(func() {
				s.stop()
				if t.Failed() {
					t.Logf("Ory Hydra's output:\n%s", s.out.String())
				}
			})
			return s
		}
		lastErr = err
	}
	t.Fatalf("starting Ory Hydra (%s): %v", bin, lastErr)
	return nil
}

func start(bin string, o Options) (*Server, error) {
	public, admin, err := freePorts()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	s := &Server{
		Issuer: fmt.Sprintf("http://127.0.0.1:%d/", public),
		Public: fmt.Sprintf("http://127.0.0.1:%d", public),
		Admin:  fmt.Sprintf("http://127.0.0.1:%d", admin),
		out:    &logBuffer{},
		done:   make(chan struct{}),
	}
	strategy := "jwt"
	if o.OpaqueAccessTokens {
		strategy = "opaque"
	}
	s.cmd = exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out")
	// Only what Hydra needs: it reads its whole configuration from the
	// environment, so nothing of the test's may leak in.
	s.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"DSN=memory",
		"URLS_SELF_ISSUER=" + s.Issuer,
		"SERVE_PUBLIC_HOST=127.0.0.1",
		fmt.Sprintf("SERVE_PUBLIC_PORT=%d", public),
		"SERVE_ADMIN_HOST=127.0.0.1",
		fmt.Sprintf("SERVE_ADMIN_PORT=%d", admin),
		"STRATEGIES_ACCESS_TOKEN=" + strategy,
		"SECRETS_SYSTEM=" + hex.EncodeToString(secret),
		"LOG_LEVEL=info",
	}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	began := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.After(60 * time.Second)
	for !healthy(s.Public+"/health/ready") || !healthy(s.Admin+"/health/ready") {
		select {
		case <-s.done:
			return nil, fmt.Errorf("it exited: %v\n%s", s.cmd.ProcessState, s.out.String())
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("not healthy within 60 s\n%s", s.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.Startup = time.Since(began)
	return s, nil
}

func (s *Server) stop() {
	s.cmd.Process.Kill()
	<-s.done
}

func healthy(u string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Client is an OAuth 2.0 client of Hydra's for the client-credentials
// grant, authenticating with client_secret_basic.
type Client struct {
	ID, Secret string
	// Scope is the space-separated scopes the client may ask for.
	Scope string
	// Audience is the audiences (resource URIs) it may ask tokens for.
	Audience []string
}

// CreateClient registers c through the admin API.
func (s *Server) CreateClient(t testing.TB, c Client) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"client_id":                  c.ID,
		"client_secret":              c.Secret,
		"grant_types":                []string{"client_credentials"},
		"scope":                      c.Scope,
		"audience":                   c.Audience,
		"token_endpoint_auth_method": "client_secret_basic",
	})
	resp, err := http.Post(s.Admin+"/admin/clients", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("creating Hydra client %s: %s %s", c.ID, resp.Status, msg)
	}
}

func freePorts() (int, int, error) {
	var ports []int
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports[0], ports[1], nil
}

func firstField(text, label string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), label); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// logBuffer collects the process's output, written from two pipes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
