package check

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

func serve(t *testing.T, opts sandbox.Options) (*sandbox.Sandbox, string) {
	return sandboxtest.Serve(t, opts)
}

func run(t *testing.T, cfg whmcs.Config) *Report {
	t.Helper()
	if cfg.Identifier == "" {
		cfg.Identifier, cfg.Secret = sandbox.DefaultIdentifier, sandbox.DefaultSecret
	}
	cfg.Timeout = 5 * time.Second
	c, err := whmcs.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Run(context.Background(), c)
}

func text(r *Report) string {
	var b bytes.Buffer
	r.Write(&b)
	return b.String()
}

func TestAllGood(t *testing.T) {
	sb, url := serve(t, sandbox.Options{})
	r := run(t, whmcs.Config{URL: url})
	if !r.OK() {
		t.Fatalf("a healthy sandbox fails the check:\n%s", text(r))
	}
	for _, tool := range tools.All(nil) {
		if !strings.Contains(text(r), tool.Action) {
			t.Errorf("the report does not mention %s:\n%s", tool.Action, text(r))
		}
	}
	if sb.Writes() != 0 {
		t.Errorf("the check wrote to WHMCS %d times", sb.Writes())
	}
}

func TestFailures(t *testing.T) {
	_, url := serve(t, sandbox.Options{})
	_, keyed := serve(t, sandbox.Options{AccessKey: "the-key"})
	_, denied := serve(t, sandbox.Options{DeniedActions: []string{"UpdateClientProduct", "UpgradeProduct"}})
	tlsSrv := httptest.NewUnstartedServer(nil)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failures are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "http://" + closed.Addr().String()
	closed.Close()

	cases := []struct {
		name string
		cfg  whmcs.Config
		want []string
	}{
		{"bad credentials", whmcs.Config{URL: url, Identifier: "x", Secret: "y"}, []string{"rejected the API credentials", "WHMCS_IDENTIFIER"}},
		{"IP not allowed", whmcs.Config{URL: keyed}, []string{"IP address 127.0.0.1", "API IP Access Restriction", "WHMCS_ACCESS_KEY"}},
		{"wrong URL", whmcs.Config{URL: url + "/not-whmcs"}, []string{"HTTP 404", "base URL"}},
		{"connection refused", whmcs.Config{URL: closedURL}, []string{"connection refused"}},
		{"https to plain http", whmcs.Config{URL: strings.Replace(url, "http://", "https://", 1)}, []string{"does not speak HTTPS"}},
		{"untrusted certificate", whmcs.Config{URL: tlsSrv.URL}, []string{"certificate is not trusted"}},
		{"missing permissions", whmcs.Config{URL: denied}, []string{"FAIL UpdateClientProduct", "missing API permission: allow UpdateClientProduct", "FAIL UpgradeProduct", "OK   GetClientsProducts"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, c.cfg)
			out := text(r)
			if r.OK() {
				t.Fatalf("passes:\n%s", out)
			}
			for _, want := range c.want {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
