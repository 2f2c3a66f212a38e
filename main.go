// Command whmcs-mcp is an MCP server that lets AI agents read and change
// WHMCS client services, with previews and confirmations before status
// changes and upgrades. Run `whmcs-mcp help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=..."; else it
// is the module version `go install` recorded, or "dev".
var version = "dev"

func init() {
	if info, ok := debug.ReadBuildInfo(); ok && version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
}

const usage = `whmcs-mcp: an MCP server for WHMCS.

Usage:
  whmcs-mcp [flags]                 serve MCP on stdio against WHMCS_URL
  whmcs-mcp --sandbox               serve MCP against the embedded sandbox WHMCS (demo data)
  whmcs-mcp --http ADDR             serve MCP over HTTP: streamable HTTP at /mcp, SSE at /sse,
                                    /healthz; every request needs a principal's bearer token
  whmcs-mcp sandbox --listen ADDR [--db FILE] [--identifier ID --secret S] [--now DATE]
                                    serve the sandbox WHMCS API alone
  whmcs-mcp tools                   print every tool with its schemas as JSON
  whmcs-mcp call TOOL 'JSON'        run one tool call and print the result
  whmcs-mcp check                   test the WHMCS connection, credentials and API permissions
  whmcs-mcp audit verify FILE       check the audit log's hash chain
  whmcs-mcp token [NAME]            make a bearer token and its policy file entry
  whmcs-mcp approvals --listen ADDR --state FILE|redis://...
                                    serve the approval pages alone (for MCP on stdio)
  whmcs-mcp version                 print the version

Environment (flags override): WHMCS_URL, WHMCS_IDENTIFIER, WHMCS_SECRET,
WHMCS_ACCESS_KEY, WHMCS_TIMEOUT, WHMCS_MCP_POLICY, WHMCS_MCP_AUDIT_LOG,
WHMCS_MCP_STATE, WHMCS_MCP_INSTANCE, WHMCS_MCP_APPROVALS_URL; over HTTP also WHMCS_MCP_TOKEN, WHMCS_MCP_HTTP,
WHMCS_MCP_ALLOWED_ORIGINS, WHMCS_MCP_TLS_CERT, WHMCS_MCP_TLS_KEY,
WHMCS_MCP_RATE_LIMIT, WHMCS_MCP_RATE_BURST.
Run 'whmcs-mcp COMMAND -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errUsage marks an error already explained by a flag set's usage text.
var errUsage = errors.New("usage")

// run dispatches a command line and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, rest := "", args
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "":
		err = serveCommand(ctx, rest, stdin, stdout, stderr)
	case "sandbox":
		err = sandboxCommand(ctx, rest, stderr)
	case "tools":
		err = toolsCommand(stdout)
	case "call":
		err = callCommand(ctx, rest, stdout, stderr)
	case "check":
		err = checkCommand(ctx, rest, stdout, stderr)
	case "audit":
		err = auditCommand(rest, stdout, stderr)
	case "token":
		err = tokenCommand(rest, stdout, stderr)
	case "approvals":
		err = approvalsCommand(ctx, rest, stderr)
	case "version":
		fmt.Fprintln(stdout, "whmcs-mcp", version)
	case "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "whmcs-mcp: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(stderr, "whmcs-mcp:", err)
	return 1
}
