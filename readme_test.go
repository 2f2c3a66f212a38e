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

// TestReadmeConfirmAcrossTwoCalls runs the Quick start's recipe as written,
// with the built binary for `go run .`, a free port for 8081 and a
// temporary directory for /tmp.
func TestReadmeConfirmAcrossTwoCalls(t *testing.T) {
	section := readmeSection(t, "## Quick start")
	start := strings.Index(section, "second `call`")
	if start < 0 {
		t.Fatal("the Quick start has no recipe for a second call")
	}
	var lines []string
	for _, line := range strings.Split(section[start:], "\n") {
		if strings.HasPrefix(line, "    ") {
			command, _, _ := strings.Cut(line, "  # ") // a comment would swallow the $( ) around it
			lines = append(lines, strings.TrimSpace(command))
		} else if len(lines) > 0 {
			break
		}
	}
	if len(lines) != 5 {
		t.Fatalf("want the recipe's 5 commands, got %q", lines)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	dir := t.TempDir()
	script := []string{"set -e", "trap 'kill $(jobs -p) 2>/dev/null' EXIT"}
	for i, line := range lines {
		line = strings.NewReplacer("go run .", binary, "8081", port, "/tmp/", dir+"/").Replace(line)
		switch i {
		case 0:
			script = append(script, line, "for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"+port+") 2>/dev/null && break; sleep 0.1; done")
		case 3:
			script = append(script, "PREVIEW=$("+line+")", `echo "$PREVIEW"`,
				`TOKEN=$(printf '%s' "$PREVIEW" | sed -n 's/.*"confirmation_token": "\(wmc_[^"]*\)".*/\1/p')`)
		case 4:
			if !strings.Contains(line, "wmc_...") {
				t.Fatalf("the confirming call has no token placeholder: %s", line)
			}
			line = strings.Replace(line, "wmc_...", "'\"$TOKEN\"'", 1)
			script = append(script, "echo ---confirm", line, "echo ---again", line+" || echo refused-again")
		default:
			script = append(script, line)
		}
	}
	cmd := exec.Command("bash", "-c", strings.Join(script, "\n"))
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the recipe failed: %v\n%s", err, out)
	}
	text := string(out)
	confirm, again, _ := strings.Cut(text[strings.Index(text, "---confirm"):], "---again")
	if !strings.Contains(text, `"status": "confirmation_required"`) || !strings.Contains(confirm, `"status": "done"`) ||
		!strings.Contains(again, "already used") || !strings.Contains(again, "refused-again") {
		t.Errorf("the recipe did not preview, confirm once and refuse the replay:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.db")); err != nil {
		t.Errorf("the sandbox's database: %v", err)
	}
}
