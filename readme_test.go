package main

// The README is what users run: these tests hold its defaults block and its
// recipes to what the binary does.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
)

// readmeSection returns the README's text from the heading to the next
// heading of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README has no %q", heading)
	}
	rest := text[start+len(heading)+2:]
	level := heading[:strings.IndexByte(heading, ' ')+1]
	if end := strings.Index(rest, "\n"+level); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

func TestReadmeDefaultsAreTheDefaults(t *testing.T) {
	section := readmeSection(t, "## The policy file")
	start := strings.Index(section, "```yaml\n")
	end := strings.Index(section[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in the README's policy file section")
	}
	block := section[start+8 : start+8+end]
	got, err := policy.Parse([]byte(block), "README.md")
	if err != nil {
		t.Fatalf("the README's defaults do not parse: %v", err)
	}
	if want := policy.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("the README's defaults are not the binary's:\nREADME %+v\nbinary %+v", got, want)
	}
}

// quickstartCommands returns the commands of the README's fenced blocks
// marked "sh quickstart", in order, without their comments.
func quickstartCommands(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var commands []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "```sh quickstart":
			in = true
		case in && line == "```":
			in = false
		case in && strings.TrimSpace(line) != "":
			command, _, _ := strings.Cut(line, "  # ") // a comment would swallow the $( ) put around it
			commands = append(commands, strings.TrimSpace(command))
		}
	}
	return commands
}

// TestReadmeQuickStart runs every command of the README's quick start as
// written, in a temporary directory, each one's exit status checked: the
// built binary stands for `go run .`, a free port for 8081, the temporary
// directory for /tmp, and the token the preview printed for "wmc_...".
func TestReadmeQuickStart(t *testing.T) {
	commands := quickstartCommands(t)
	if len(commands) < 9 {
		t.Fatalf("the quick start's commands: %q", commands)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	dir := t.TempDir()
	script := []string{"set -e", "trap 'kill $(jobs -p) 2>/dev/null' EXIT"}
	placeholder := false
	for i, line := range commands {
		line = strings.NewReplacer("go run .", binary, "8081", port, "/tmp/", dir+"/").Replace(line)
		mark := fmt.Sprintf("echo '---[%d]'", i)
		switch {
		case strings.HasSuffix(line, "&"):
			script = append(script, mark, line,
				"for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"+port+") 2>/dev/null && break; sleep 0.1; done")
		case strings.Contains(line, "wmc_..."):
			placeholder = true
			line = strings.Replace(line, "wmc_...", "'\"$TOKEN\"'", 1)
			script = append(script, mark, line, "echo ---again", line+" || echo refused-again")
		case strings.Contains(line, `"status": "Suspended"}'`) && !strings.Contains(line, "--sandbox"):
			script = append(script, mark, "PREVIEW=$("+line+")", `echo "$PREVIEW"`,
				`TOKEN=$(printf '%s' "$PREVIEW" | sed -n 's/.*"confirmation_token": "\(wmc_[^"]*\)".*/\1/p')`)
		default:
			script = append(script, mark, line)
		}
	}
	if !placeholder {
		t.Fatal("the quick start no longer confirms a preview with a second call")
	}
	cmd := exec.Command("bash", "-c", strings.Join(script, "\n"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "WHMCS_MCP_STATE=", "WHMCS_URL=", "WHMCS_MCP_POLICY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("a quick start command failed (the last ---[N] names it): %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{`"id":2,"result"`, `"products"`, `"status": "confirmation_required"`, `"status": "done"`, "already used", "refused-again"} {
		if !strings.Contains(text, want) {
			t.Errorf("the quick start's output lacks %q:\n%s", want, text)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.db")); err != nil {
		t.Errorf("the sandbox's database: %v", err)
	}
}

// TestGoInstall: the README's `go install` path, with the module path, gives
// a binary that runs.
func TestGoInstall(t *testing.T) {
	bin := t.TempDir()
	install := exec.Command("go", "install", "github.com/whmcs-mcp/whmcs-mcp")
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(bin, "whmcs-mcp"), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "whmcs-mcp ") {
		t.Errorf("the installed binary: %v %s", err, out)
	}
}

// TestReadmeApprovalsExample parses the Staff approvals section's policy.
func TestReadmeApprovalsExample(t *testing.T) {
	section := readmeSection(t, "## Staff approvals")
	start := strings.Index(section, "```yaml\n")
	end := strings.Index(section[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in the README's Staff approvals section")
	}
	f, err := policy.Parse([]byte(section[start+8:start+8+end]), "README.md")
	if err != nil {
		t.Fatalf("the README's approvals example does not parse: %v", err)
	}
	r := f.Approvals.Require
	if !f.Approvals.Enabled() || len(r.Statuses) != 1 || r.UpgradePriceAbove == nil || len(f.Approvals.Approvers) != 1 || f.Approvals.NotifyURL == "" {
		t.Errorf("the README's approvals example parsed to %+v", f.Approvals)
	}
}
