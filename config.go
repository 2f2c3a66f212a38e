package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/logging"
	"github.com/whmcs-mcp/whmcs-mcp/internal/redisstore"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// settings are the options shared by the commands that talk to WHMCS.
type settings struct {
	sandbox    bool
	url        string
	identifier string
	secret     string
	accessKey  string
	timeout    time.Duration
	policyPath string
	auditPath  string
	statePath  string
	instance   string
	logLevel   string
	logFormat  string
	// approvalsURL is the approval pages' address, for approval_url.
	approvalsURL string
}

// bind registers the shared flags on fs, with defaults from the environment.
func (s *settings) bind(fs *flag.FlagSet) {
	fs.BoolVar(&s.sandbox, "sandbox", false, "run against the embedded sandbox WHMCS (demo data) instead of WHMCS_URL")
	fs.StringVar(&s.url, "whmcs-url", os.Getenv("WHMCS_URL"), "WHMCS base URL, e.g. https://billing.example.com/whmcs (env WHMCS_URL)")
	fs.StringVar(&s.identifier, "whmcs-identifier", os.Getenv("WHMCS_IDENTIFIER"), "API credential identifier (env WHMCS_IDENTIFIER)")
	fs.StringVar(&s.secret, "whmcs-secret", os.Getenv("WHMCS_SECRET"), "API credential secret (env WHMCS_SECRET; prefer the variable: flags show in ps)")
	fs.StringVar(&s.accessKey, "whmcs-access-key", os.Getenv("WHMCS_ACCESS_KEY"), "optional API access key (env WHMCS_ACCESS_KEY)")
	fs.DurationVar(&s.timeout, "whmcs-timeout", envDuration("WHMCS_TIMEOUT", whmcs.DefaultTimeout), "bound on each WHMCS request (env WHMCS_TIMEOUT)")
	fs.StringVar(&s.policyPath, "policy", os.Getenv("WHMCS_MCP_POLICY"), "policy file (YAML) (env WHMCS_MCP_POLICY); default: read-write, confirmations for status changes and upgrades")
	fs.StringVar(&s.statePath, "state", os.Getenv("WHMCS_MCP_STATE"), "confirmation ledger: an SQLite file (confirmations survive a restart and work across `call`s), or redis://[:password@]host:port/db (rediss:// for TLS) shared by replicas, with the HTTP rate limits (env WHMCS_MCP_STATE); default: in memory")
	fs.StringVar(&s.instance, "instance", envOr("WHMCS_MCP_INSTANCE", hostname()), "this server's name in the audit log, to tell replicas apart (env WHMCS_MCP_INSTANCE)")
	fs.StringVar(&s.auditPath, "audit-log", os.Getenv("WHMCS_MCP_AUDIT_LOG"), "append-only audit log file, JSON Lines (env WHMCS_MCP_AUDIT_LOG); default: none")
	fs.StringVar(&s.approvalsURL, "approvals-url", os.Getenv("WHMCS_MCP_APPROVALS_URL"), "the approval pages' address as approvers reach them, e.g. https://mcp.example.com/approvals, given to the agent as approval_url (env WHMCS_MCP_APPROVALS_URL); default with --http: this server's own /approvals")
	fs.StringVar(&s.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&s.logFormat, "log-format", "text", "log format on stderr: text or json")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// errNotConfigured explains how to point the server at WHMCS.
var errNotConfigured = errors.New(`WHMCS is not configured.
Set WHMCS_URL (your install's base URL, e.g. https://billing.example.com/whmcs),
WHMCS_IDENTIFIER and WHMCS_SECRET (Setup > Staff Management > Manage API Credentials),
and WHMCS_ACCESS_KEY if your install uses one.
To try the server without WHMCS, run it against the embedded sandbox: whmcs-mcp --sandbox`)

// logger builds the stderr logger.
func (s *settings) logger(stderr io.Writer) (*slog.Logger, error) {
	return logging.New(stderr, logging.Options{Level: s.logLevel, Format: s.logFormat})
}

// connect returns a WHMCS client: to WHMCS_URL, or to a sandbox started on a
// loopback port when --sandbox is set. The returned stop function shuts the
// sandbox down.
func (s *settings) connect(log *slog.Logger) (*whmcs.Client, func(), error) {
	if !s.sandbox {
		if s.url == "" || s.identifier == "" || s.secret == "" {
			return nil, nil, errNotConfigured
		}
		c, err := whmcs.New(whmcs.Config{URL: s.url, Identifier: s.identifier, Secret: s.secret,
			AccessKey: s.accessKey, Timeout: s.timeout, UserAgent: "whmcs-mcp/" + version})
		return c, func() {}, err
	}
	url, stop, err := startSandbox(log)
	if err != nil {
		return nil, nil, err
	}
	c, err := whmcs.New(whmcs.Config{URL: url, Identifier: sandbox.DefaultIdentifier, Secret: sandbox.DefaultSecret,
		Timeout: s.timeout, UserAgent: "whmcs-mcp/" + version})
	if err != nil {
		stop()
		return nil, nil, err
	}
	return c, stop, nil
}

// state is where the confirmations (and, over HTTP, the rate limits) live:
// in memory, in an SQLite file, or in Redis shared by replicas (store set).
type state struct {
	ledger policy.Ledger
	store  *redisstore.Store
	close  func()
}

// openState opens the confirmation ledger --state names: in memory by
// default (confirmations die with the process), an SQLite file, or
// redis:// / rediss://, which must answer now.
func (s *settings) openState(log *slog.Logger) (*state, error) {
	switch {
	case s.statePath == "":
		return &state{ledger: policy.NewMemoryLedger(), close: func() {}}, nil
	case strings.HasPrefix(s.statePath, "redis://") || strings.HasPrefix(s.statePath, "rediss://"):
		store, err := redisstore.Open(context.Background(), redisstore.Options{URL: s.statePath, Logger: log})
		if err != nil {
			return nil, err
		}
		log.Info("confirmations and rate limits are shared through Redis", "redis", store.String())
		return &state{ledger: store.Ledger(), store: store, close: func() { store.Close() }}, nil
	case strings.Contains(s.statePath, "://"):
		return nil, fmt.Errorf("--state %s: want the path of an SQLite file, or a redis:// or rediss:// URL", s.statePath)
	}
	fl, err := policy.OpenFileLedger(s.statePath)
	if err != nil {
		return nil, err
	}
	return &state{ledger: fl, close: func() { fl.Close() }}, nil
}

// policy loads the policy file and opens the audit log; confirmations and
// approval requests go to st's ledger, and approval requests are re-read
// from wc.
func (s *settings) policy(log *slog.Logger, st *state, wc *whmcs.Client) (*policy.Policy, func(), error) {
	file, err := policy.Load(s.policyPath)
	if err != nil {
		return nil, nil, err
	}
	if os.Getenv("WHMCS_MCP_SIGNING_KEY") != "" {
		log.Warn("WHMCS_MCP_SIGNING_KEY is no longer used: confirmation tokens are random ids kept in the confirmation ledger (--state); unset it")
	}
	auditLog := audit.Discard()
	if s.auditPath != "" {
		if auditLog, err = audit.Open(s.auditPath); err != nil {
			return nil, nil, fmt.Errorf("audit log: %w", err)
		}
		if torn := auditLog.TornTail(); torn != "" {
			log.Warn("the audit log ended with a torn record, left by a crash before it was written in full; it was removed (the write it announced was never sent)",
				"file", s.auditPath, "removed", torn)
		}
	} else {
		log.Warn("no audit log configured (--audit-log or WHMCS_MCP_AUDIT_LOG): changes are not recorded")
	}
	p, err := policy.New(file, policy.Options{Ledger: st.ledger, Audit: auditLog, Logger: log, Instance: s.instance,
		ApprovalURL: s.approvalsURL, Operations: tools.Operations(wc)})
	if err != nil {
		auditLog.Close()
		return nil, nil, err
	}
	return p, func() { auditLog.Close() }, nil
}

// startSandbox serves an in-memory sandbox WHMCS on a loopback port and says
// so loudly: nothing the agent does there touches a real billing system.
func startSandbox(log *slog.Logger) (string, func(), error) {
	sb, err := sandbox.Open(sandbox.Options{Logger: log})
	if err != nil {
		return "", nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sb.Close()
		return "", nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String()
	log.Warn("SANDBOX MODE: using the embedded demo WHMCS with made-up data; no real billing system is touched", "url", url+"/includes/api.php")
	return url, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		sb.Close()
	}, nil
}
