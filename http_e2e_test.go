package main

// End-to-end tests of `whmcs-mcp --http`: the real binary on 127.0.0.1,
// driven by the official Go SDK client and plain HTTP requests.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

const (
	e2eFullToken    = "e2e-full-access-token-0123456789abcdef0123"
	e2eSupportToken = "e2e-support-bot-token-0123456789abcdef0123"
	e2eReaderToken  = "e2e-reporting-token-0123456789abcdef012345"
)

// e2ePolicy writes a policy file with a principal scoped to client 2 and a
// read-only one.
func e2ePolicy(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	content := fmt.Sprintf(`confirmation: token
principals:
  - name: support-bot
    token_sha256: %s
    clients: [2]
  - name: reporting
    token_sha256: %s
    mode: read-only
`, policy.TokenSHA256(e2eSupportToken), policy.TokenSHA256(e2eReaderToken))
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// httpProcess is a running `whmcs-mcp --http`.
type httpProcess struct {
	cmd    *exec.Cmd
	url    string // scheme://127.0.0.1:PORT
	mu     sync.Mutex
	stderr strings.Builder
	lines  chan map[string]any // stderr's JSON log lines
	done   chan struct{}       // closed when the process has exited
	err    error               // cmd.Wait's, once done
}

// exited returns cmd.Wait's error if the process has exited.
func (p *httpProcess) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

func (p *httpProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startHTTP starts the binary with --http 127.0.0.1:0 and waits for it to
// say where it listens. It fails the test if the process exits first.
func startHTTP(t *testing.T, env []string, args ...string) *httpProcess {
	t.Helper()
	p, err := tryStartHTTP(t, env, args...)
	if err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, p.log())
	}
	return p
}

func tryStartHTTP(t *testing.T, env []string, args ...string) (*httpProcess, error) {
	t.Helper()
	args = append([]string{"--http", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "WHMCS_MCP_TOKEN=", "WHMCS_MCP_POLICY=", "WHMCS_MCP_AUDIT_LOG=")
	cmd.Env = append(cmd.Env, env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &httpProcess{cmd: cmd, lines: make(chan map[string]any, 1024), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			if rec["msg"] == "serving MCP over HTTP" {
				listening <- rec["streamable"].(string)
			}
			select {
			case p.lines <- rec:
			default:
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill() // if still running
		<-p.done
		if t.Failed() {
			t.Logf("server stderr:\n%s", p.log())
		}
	})
	select {
	case u := <-listening:
		p.url = strings.TrimSuffix(u, "/mcp")
		return p, nil
	case <-p.done:
		return p, fmt.Errorf("whmcs-mcp exited before serving: %v", p.err)
	}
}

// waitLog waits for a log line whose msg contains text.
func (p *httpProcess) waitLog(t *testing.T, text string) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case rec := <-p.lines:
			if msg, _ := rec["msg"].(string); strings.Contains(msg, text) {
				return rec
			}
		case <-timeout:
			t.Fatalf("no log line %q", text)
		}
	}
}

type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.token != "" {
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.base.RoundTrip(r)
}

// connectHTTP connects the Go SDK client over streamable HTTP or SSE.
func connectHTTP(t *testing.T, kind, url, token string, base http.RoundTripper) *sdk.ClientSession {
	t.Helper()
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	hc := &http.Client{Transport: bearerTransport{token: token, base: base}}
	var transport sdk.Transport = &sdk.StreamableClientTransport{Endpoint: url + "/mcp", HTTPClient: hc, MaxRetries: -1}
	if kind == "sse" {
		transport = &sdk.SSEClientTransport{Endpoint: url + "/sse", HTTPClient: hc}
	}
	ctx, cancel := context.WithCancel(context.Background()) // the SSE stream lives in it
	t.Cleanup(cancel)
	s, err := sdk.NewClient(&sdk.Implementation{Name: "e2e-http", Version: "1"}, nil).Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("connect over %s: %v", kind, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func listNames(t *testing.T, s *sdk.ClientSession) []string {
	t.Helper()
	list, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	return names
}

func resultJSON(t *testing.T, res *sdk.CallToolResult) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(text(res)), &m); err != nil {
		t.Fatalf("not JSON: %s", text(res))
	}
	return m
}

func sandboxEnv(url string) []string {
	return []string{"WHMCS_URL=" + url, "WHMCS_IDENTIFIER=" + sandbox.DefaultIdentifier, "WHMCS_SECRET=" + sandbox.DefaultSecret}
}

func TestHTTPRefusesToServeWithoutPrincipals(t *testing.T) {
	_, url := serveSandbox(t, sandbox.Options{})
	p, err := tryStartHTTP(t, sandboxEnv(url))
	if err == nil {
		t.Fatal("served MCP over HTTP without any principal")
	}
	for _, want := range []string{"WHMCS_MCP_TOKEN", "token_sha256", "--sandbox"} {
		if !strings.Contains(p.log(), want) {
			t.Errorf("the refusal does not mention %s:\n%s", want, p.log())
		}
	}
	// A too short WHMCS_MCP_TOKEN is refused too.
	p, err = tryStartHTTP(t, append(sandboxEnv(url), "WHMCS_MCP_TOKEN=short"))
	if err == nil || !strings.Contains(p.log(), "at least 32") {
		t.Errorf("a short WHMCS_MCP_TOKEN: %v\n%s", err, p.log())
	}
}

func TestHTTPSandboxWithoutTokenOnLoopback(t *testing.T) {
	p := startHTTP(t, nil, "--sandbox")
	if !strings.Contains(p.log(), "NO AUTHENTICATION") || !strings.Contains(p.log(), "SANDBOX") {
		t.Errorf("no loud warning on stderr:\n%s", p.log())
	}
	s := connectHTTP(t, "streamable", p.url, "", nil)
	if got := listNames(t, s); len(got) != len(tools.All(nil)) {
		t.Errorf("tools: %v", got)
	}
	res := callTool(t, s, "get_clients_products", map[string]any{"clientid": 1})
	if res.IsError {
		t.Errorf("read: %s", text(res))
	}
}

// The binary's HTTP front with principals from the policy file and
// WHMCS_MCP_TOKEN, and the flags that bound requests.
func TestHTTPEndToEnd(t *testing.T) {
	sb, url := serveSandbox(t, sandbox.Options{})
	p := startHTTP(t, append(sandboxEnv(url), "WHMCS_MCP_TOKEN="+e2eFullToken),
		"--policy", e2ePolicy(t), "--allowed-origins", "https://support.example.com",
		"--max-body", "4096", "--rate-limit", "0.001", "--rate-burst", "20")

	for _, kind := range []string{"streamable", "sse"} {
		// The scoped principal: client 2's services, a guarded write with
		// its token round trip.
		s := connectHTTP(t, kind, p.url, e2eSupportToken, nil)
		if got := listNames(t, s); len(got) != len(tools.All(nil)) {
			t.Errorf("%s: support-bot lists %v", kind, got)
		}
		page := resultJSON(t, callTool(t, s, "get_clients_products", map[string]any{}))
		for _, prod := range page["products"].([]any) {
			if c := prod.(map[string]any)["clientid"]; c != float64(2) {
				t.Errorf("%s: support-bot saw a service of client %v", kind, c)
			}
		}
		if res := callTool(t, s, "update_client_product", map[string]any{"serviceid": 1, "status": "Active"}); !res.IsError {
			t.Errorf("%s: support-bot changed client 1's service: %s", kind, text(res))
		}
		service := map[string]int{"streamable": 3, "sse": 4}[kind]
		args := map[string]any{"serviceid": service, "status": "Suspended"}
		preview := resultJSON(t, callTool(t, s, "update_client_product", args))
		if preview["status"] != "confirmation_required" {
			t.Fatalf("%s: %v", kind, preview)
		}
		args["confirmation_token"] = preview["confirmation_token"]
		if done := resultJSON(t, callTool(t, s, "update_client_product", args)); done["status"] != "done" {
			t.Fatalf("%s: %v", kind, done)
		}
		var status string
		sb.DB().QueryRow(`SELECT domainstatus FROM tblhosting WHERE id = ?`, service).Scan(&status)
		if status != "Suspended" {
			t.Errorf("%s: service %d is %s", kind, service, status)
		}

		// The read-only principal sees no write tool.
		r := connectHTTP(t, kind, p.url, e2eReaderToken, nil)
		if got := strings.Join(listNames(t, r), ","); strings.Contains(got, "update_") || strings.Contains(got, "upgrade_") {
			t.Errorf("%s: the read-only principal lists %s", kind, got)
		}
	}
	writes := sb.Writes()

	post := func(token string, header map[string]string, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, p.url+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"update_client_product","arguments":{"serviceid":2,"notes":"x"}}}`
	if resp := post("", nil, call); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %s", resp.Status)
	}
	if resp := post(e2eFullToken+"x", nil, call); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %s", resp.Status)
	}
	if resp := post(e2eFullToken, map[string]string{"Origin": "http://evil.example"}, init); resp.StatusCode != http.StatusForbidden {
		t.Errorf("evil origin: %s", resp.Status)
	}
	if resp := post(e2eFullToken, map[string]string{"Origin": "https://support.example.com"}, init); resp.StatusCode != http.StatusOK {
		t.Errorf("allowed origin: %s", resp.Status)
	}
	if resp := post(e2eFullToken, nil, strings.Repeat(" ", 5000)+init); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("5000-byte body over --max-body 4096: %s", resp.Status)
	}
	if sb.Writes() != writes {
		t.Error("a refused request reached WHMCS")
	}
	// The full-access principal has a burst of 20 and then one request per
	// 1000 s: the 21st is over the rate.
	var last *http.Response
	for range 21 {
		if last = post(e2eFullToken, nil, init); last.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("a burst over the rate: %s, Retry-After %q", last.Status, last.Header.Get("Retry-After"))
	}
}

// SIGTERM while a write waits for WHMCS: the call completes, the process
// exits 0 and the audit log verifies.
func TestHTTPGracefulShutdownOnSIGTERM(t *testing.T) {
	sb, err := sandbox.Open(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if strings.EqualFold(r.PostForm.Get("action"), "UpdateClientProduct") {
			once.Do(func() { close(arrived) })
			<-release
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { slow.Close(); sb.Close() })
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	p := startHTTP(t, append(sandboxEnv(slow.URL), "WHMCS_MCP_TOKEN="+e2eFullToken), "--audit-log", auditLog)
	s := connectHTTP(t, "streamable", p.url, e2eFullToken, nil)

	done := make(chan *sdk.CallToolResult, 1)
	go func() {
		res, err := s.CallTool(context.Background(), &sdk.CallToolParams{Name: "update_client_product",
			Arguments: map[string]any{"serviceid": 2, "notes": "written during shutdown"}})
		if err != nil {
			t.Errorf("the call in flight: %v", err)
		}
		done <- res
	}()
	<-arrived // the write is at WHMCS, held there

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "shutting down")
	if c, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://")); err == nil {
		c.Close()
		t.Error("the server still accepts connections after SIGTERM")
	}
	if exited, err := p.exited(); exited {
		t.Fatalf("exited with a call in flight: %v", err)
	}
	close(release)

	res := <-done
	if res == nil || res.IsError || resultJSON(t, res)["status"] != "done" {
		t.Fatalf("the call in flight did not complete: %v", res)
	}
	<-p.done
	if p.err != nil {
		t.Fatalf("exit after SIGTERM: %v", p.err)
	}
	if p.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("exit code %d", p.cmd.ProcessState.ExitCode())
	}
	if sb.Writes() != 1 {
		t.Errorf("sandbox writes: %d", sb.Writes())
	}
	out, err := exec.Command(binary, "audit", "verify", auditLog).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "2 records, chain intact") {
		t.Errorf("whmcs-mcp audit verify: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(auditLog)
	if !strings.Contains(string(raw), `"event":"execution"`) {
		t.Errorf("no execution record:\n%s", raw)
	}
}

func TestHTTPSWithTLSFlags(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	p := startHTTP(t, []string{"WHMCS_MCP_TOKEN=" + e2eFullToken}, "--sandbox", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(p.url, "https://") {
		t.Fatalf("url %s", p.url)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	s := connectHTTP(t, "streamable", p.url, e2eFullToken, tr)
	if got := listNames(t, s); len(got) != len(tools.All(nil)) {
		t.Errorf("tools over HTTPS: %v", got)
	}
	// Plain HTTP on the TLS port gets nothing served.
	resp, err := http.Post(strings.Replace(p.url, "https://", "http://", 1)+"/mcp", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served on the TLS port")
		}
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key.
func selfSignedCert(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "whmcs-mcp test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTokenCommand(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"token", "support-bot"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var token, digest string
	for line := range strings.SplitSeq(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "token: "); ok {
			token = v
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "token_sha256: "); ok {
			digest = v
		}
	}
	if len(token) != 64 || digest != policy.TokenSHA256(token) || !strings.Contains(out.String(), "- name: support-bot") {
		t.Fatalf("token output:\n%s", out.String())
	}
	// The entry it prints is a valid policy file, and the token then
	// authenticates its principal.
	_, entry, _ := strings.Cut(out.String(), "only the digest is kept):\n")
	f, err := policy.Parse([]byte("principals:\n"+entry), "token output")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := policy.NewAuthenticator(f, "")
	if err != nil {
		t.Fatal(err)
	}
	if p := auth.Authenticate(token); p == nil || p.Name != "support-bot" {
		t.Errorf("the printed token does not authenticate support-bot: %v", p)
	}
}

// TestHTTPConnectionBoundsFromFlags: --max-conns-per-addr reaches the
// server (behind a proxy an operator lifts it with -1); 0 is refused.
func TestHTTPConnectionBoundsFromFlags(t *testing.T) {
	_, url := serveSandbox(t, sandbox.Options{})
	if p, err := tryStartHTTP(t, append(sandboxEnv(url), "WHMCS_MCP_TOKEN="+e2eFullToken), "--max-conns-per-addr", "0"); err == nil || !strings.Contains(p.log(), "-1 for no bound") {
		t.Errorf("--max-conns-per-addr 0 was accepted: %v\n%s", err, p.log())
	}
	p := startHTTP(t, append(sandboxEnv(url), "WHMCS_MCP_TOKEN="+e2eFullToken), "--max-conns-per-addr", "1")
	held, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(p.url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a second connection from the address was served (%s) with --max-conns-per-addr 1", resp.Status)
	}
	held.Close()
	var resp *http.Response
	for range 50 { // the server sees the held connection close soon after
		if resp, err = client.Get(p.url + "/healthz"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("once the address's connection closed: %v", err)
	} else {
		resp.Body.Close()
	}
}
