package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/whmcs-mcp/whmcs-mcp/internal/check"
	"github.com/whmcs-mcp/whmcs-mcp/internal/logging"
	"github.com/whmcs-mcp/whmcs-mcp/internal/mcpserver"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, turning a flag error into errUsage (already printed).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// app is a configured MCP server and what it needs to be shut down.
type app struct {
	server *server.MCPServer
	policy *policy.Policy
	state  *state
	log    *slog.Logger
	close  func()
}

// newApp configures the MCP server from the shared settings.
func newApp(s *settings, stderr io.Writer) (*app, error) {
	log, err := s.logger(stderr)
	if err != nil {
		return nil, err
	}
	st, err := s.openState(log)
	if err != nil {
		return nil, err
	}
	wc, stop, err := s.connect(log)
	if err != nil {
		st.close()
		return nil, err
	}
	pol, closePolicy, err := s.policy(log, st, wc)
	if err != nil {
		stop()
		st.close()
		return nil, err
	}
	srv, err := mcpserver.New(mcpserver.Options{
		WHMCS: wc, Gate: pol, Logger: log, Version: version,
		Allowed:       pol.Allowed,
		Tailor:        pol.Tailor,
		ServerOptions: []server.ServerOption{server.WithElicitation()},
	})
	if err != nil {
		stop()
		closePolicy()
		st.close()
		return nil, err
	}
	return &app{server: srv, policy: pol, state: st, log: log, close: func() { stop(); closePolicy(); st.close() }}, nil
}

// serveCommand serves MCP on stdio, or over HTTP with --http.
func serveCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var s settings
	var h httpSettings
	fs := newFlagSet("whmcs-mcp", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage, "\nFlags:\n"); fs.PrintDefaults() }
	s.bind(fs)
	h.bind(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if h.addr != "" {
		return serveHTTPCommand(ctx, &s, &h, stderr)
	}
	a, err := newApp(&s, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	stdio := server.NewStdioServer(a.server)
	stdio.SetErrorLogger(log.New(&slogWriter{a.log}, "", 0))
	a.log.Info("serving MCP on stdio", "version", version)
	stdin = mcpserver.LimitLines(stdin, mcpserver.MaxLineBytes, func(n int64) {
		a.log.Warn("dropped an MCP message longer than the limit; the client got a JSON-RPC parse error", "bytes", n, "limit", mcpserver.MaxLineBytes)
	})
	// At the end of stdin, the calls in flight are answered first (bounded
	// by mcpserver.DrainTimeout); SIGINT and SIGTERM (ctx) cancel them.
	in, out := mcpserver.HoldEOF(ctx, stdin, stdout, mcpserver.DrainTimeout, a.log)
	err = stdio.Listen(ctx, in, out)
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// slogWriter sends mcp-go's error log lines to slog.
type slogWriter struct{ log *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	w.log.Error(string(p))
	return len(p), nil
}

// toolsCommand prints every tool definition as JSON.
func toolsCommand(stdout io.Writer) error {
	defs := make([]mcp.Tool, 0)
	for _, t := range tools.All(nil) {
		def, err := t.Definition()
		if err != nil {
			return err
		}
		defs = append(defs, def)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(defs)
}

// callCommand runs one tool call through the MCP server, in process, and
// prints the result's JSON. A tool error goes to stderr with exit code 1.
func callCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var s settings
	fs := newFlagSet("whmcs-mcp call", stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: whmcs-mcp call [flags] TOOL 'JSON arguments'\n\nFlags:\n")
		fs.PrintDefaults()
	}
	s.bind(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return errUsage
	}
	name, rawArgs := fs.Arg(0), "{}"
	if fs.NArg() == 2 {
		rawArgs = fs.Arg(1)
	}
	if !json.Valid([]byte(rawArgs)) {
		return fmt.Errorf("arguments for %s are not valid JSON: %s", name, rawArgs)
	}
	a, err := newApp(&s, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	c, err := client.NewInProcessClient(a.server)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "whmcs-mcp call", Version: version}
	if _, err := c.Initialize(ctx, init); err != nil {
		return err
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = json.RawMessage(rawArgs)
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return err
	}
	text := resultText(res)
	if res.IsError {
		return errors.New(text)
	}
	var pretty any
	if json.Unmarshal([]byte(text), &pretty) == nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(pretty)
	}
	_, err = fmt.Fprintln(stdout, text)
	return err
}

// resultText joins a result's text blocks.
func resultText(res *mcp.CallToolResult) string {
	var out string
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			out += t.Text
		}
	}
	return out
}

// checkCommand tests the WHMCS connection action by action and explains
// each failure; it exits non-zero when anything fails.
func checkCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var s settings
	fs := newFlagSet("whmcs-mcp check", stderr)
	s.bind(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := s.logger(stderr)
	if err != nil {
		return err
	}
	wc, stop, err := s.connect(log)
	if err != nil {
		return err
	}
	defer stop()
	report := check.Run(ctx, wc)
	report.Write(stdout)
	if !report.OK() {
		return errors.New("the WHMCS connection is not ready: see above")
	}
	return nil
}

// auditCommand runs `audit verify FILE`.
func auditCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "verify" {
		fmt.Fprintln(stderr, "Usage: whmcs-mcp audit verify FILE")
		return errUsage
	}
	n, err := audit.VerifyFile(args[1])
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	fmt.Fprintf(stdout, "%s: %d records, chain intact\n", args[1], n)
	return nil
}

// sandboxCommand serves the sandbox WHMCS API alone.
func sandboxCommand(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("whmcs-mcp sandbox", stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "address to serve the sandbox WHMCS API on")
	db := fs.String("db", "", "SQLite file to keep the sandbox's data in (default: in memory)")
	identifier := fs.String("identifier", sandbox.DefaultIdentifier, "API identifier the sandbox accepts")
	secret := fs.String("secret", sandbox.DefaultSecret, "API secret the sandbox accepts")
	allowIPs := fs.String("allow-ip", "", "comma-separated IP addresses allowed to call the API (WHMCS's API IP allowlist); default: any address, unless --access-key is set")
	accessKey := fs.String("access-key", "", "an API access key (accesskey=...) that lets in a caller whose address is not on --allow-ip")
	now := fs.String("now", "", "fixed clock for reproducible results: YYYY-MM-DD or RFC 3339 (default: the real clock)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := logging.New(stderr, logging.Options{Level: *logLevel, Format: *logFormat})
	if err != nil {
		return err
	}
	opts := sandbox.Options{DBPath: *db, Identifier: *identifier, Secret: *secret, AccessKey: *accessKey, Logger: log}
	for _, ip := range strings.Split(*allowIPs, ",") {
		if ip = strings.TrimSpace(ip); ip != "" {
			opts.AllowIPs = append(opts.AllowIPs, ip)
		}
	}
	if *now != "" {
		t, err := parseNow(*now)
		if err != nil {
			return err
		}
		opts.Now = sandbox.FixedClock(t)
	}
	sb, err := sandbox.Open(opts)
	if err != nil {
		return err
	}
	defer sb.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	log.Warn("SANDBOX: serving a demo WHMCS API with made-up data", "url", "http://"+ln.Addr().String()+"/includes/api.php",
		"identifier", *identifier)
	return serveUntil(ctx, srv, ln, 5*time.Second)
}

// serveUntil serves srv on ln until ctx ends, then shuts it down, giving
// the requests in flight up to grace to finish.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// parseNow reads the sandbox's fixed clock.
func parseNow(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--now %q: want YYYY-MM-DD or RFC 3339", s)
	}
	return t, nil
}
