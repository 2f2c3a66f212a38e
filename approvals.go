package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/approvalweb"
	"github.com/whmcs-mcp/whmcs-mcp/internal/httpserver"
	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// approvalPages returns the approval pages of a's policy, or nil when the
// policy names no approver. An MCP principal's bearer token never signs in.
// Sessions are kept with the confirmations (--state), so that with a shared
// state an approver signed in on one replica is signed in on all.
func approvalPages(a *app, auth *policy.Authenticator, secure bool) http.Handler {
	if len(a.policy.File().Approvals.Approvers) == 0 {
		return nil
	}
	isMCPToken := func(token string) bool { return auth != nil && auth.Authenticate(token) != nil }
	sessions, _ := a.state.ledger.(policy.SessionStore)
	return approvalweb.New(approvalweb.Options{Approvals: a.policy, IsMCPToken: isMCPToken, Secure: secure, Sessions: sessions, Logger: a.log})
}

// approvalsCommand serves the approval pages alone, for servers on stdio:
// it shares their policy, ledger (--state) and audit log.
func approvalsCommand(ctx context.Context, args []string, stderr io.Writer) error {
	var s settings
	var listen string
	var secure bool
	fs := newFlagSet("whmcs-mcp approvals", stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: whmcs-mcp approvals --listen ADDR --state FILE|redis://... [flags]

Serves the approval pages (/approvals) where approvers decide the changes that
the policy's approvals section holds for them. It must share the MCP server's
policy file and --state (an SQLite file or Redis); give it an audit log of its
own (--audit-log): the MCP server holds a lock on its own.

Flags:
`)
		fs.PrintDefaults()
	}
	s.bind(fs)
	fs.StringVar(&listen, "listen", os.Getenv("WHMCS_MCP_APPROVALS_LISTEN"), "serve the approval pages on ADDR, e.g. 127.0.0.1:8081 (env WHMCS_MCP_APPROVALS_LISTEN)")
	fs.BoolVar(&secure, "secure-cookies", false, "mark the session cookies Secure: set it when a TLS-terminating proxy serves the pages over HTTPS")
	if err := parse(fs, args); err != nil {
		return err
	}
	if listen == "" {
		fs.Usage()
		return errUsage
	}
	if s.statePath == "" {
		return errors.New("approvals --listen needs --state (WHMCS_MCP_STATE): the SQLite file or redis:// URL the MCP server keeps its approval requests in; in memory, this process would see none of them")
	}
	a, err := newApp(&s, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	auth, err := policy.NewAuthenticator(a.policy.File(), os.Getenv("WHMCS_MCP_TOKEN"))
	if err != nil {
		return err
	}
	pages := approvalPages(a, auth, secure)
	if pages == nil {
		return errors.New("the policy file names no approver (approvals.approvers): nobody could sign in")
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: pages, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 32 << 10}
	if !httpserver.IsLoopback(ln.Addr()) && !secure {
		a.log.Warn("serving the approval pages over plain HTTP on a non-loopback address: approver tokens and sessions cross the network in clear text; put a TLS-terminating proxy in front and pass --secure-cookies")
	}
	a.log.Info("serving the approval pages", "url", "http://"+ln.Addr().String()+approvalweb.PathApprovals)
	return serveUntil(ctx, srv, ln, 10*time.Second)
}
