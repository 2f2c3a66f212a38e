package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/policy"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// approvalsPolicyFile writes a policy whose terminations need approver
// alice (token aliceToken) and returns its path.
func approvalsPolicyFile(t *testing.T, aliceToken string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	src := `allowed_statuses: [Active, Suspended, Terminated]
approvals:
  require:
    statuses: [Terminated]
  approvers:
    - name: alice
      token_sha256: ` + policy.TokenSHA256(aliceToken) + "\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startApprovals starts `whmcs-mcp approvals --listen 127.0.0.1:0` and
// returns the pages' URL.
func startApprovals(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"approvals", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "serving the approval pages" {
				found <- rec["url"].(string)
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("whmcs-mcp approvals exited before serving:\n%s", log.String())
		}
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("whmcs-mcp approvals did not start")
	}
	return ""
}

// TestApprovalsCommandServesStdioSetups is the stdio recipe: the MCP server
// on stdio and `whmcs-mcp approvals --listen` share the policy and an
// SQLite --state; an approval given on the pages lets the agent's retry
// make the change, once.
func TestApprovalsCommandServesStdioSetups(t *testing.T) {
	sb, whmcsURL := serveSandbox(t, sandbox.Options{})
	aliceToken := strings.Repeat("a", 40)
	dir := t.TempDir()
	env := []string{
		"WHMCS_URL=" + whmcsURL, "WHMCS_IDENTIFIER=" + sandbox.DefaultIdentifier, "WHMCS_SECRET=" + sandbox.DefaultSecret,
		"WHMCS_MCP_POLICY=" + approvalsPolicyFile(t, aliceToken), "WHMCS_MCP_STATE=" + filepath.Join(dir, "state.db"),
	}
	pages := startApprovals(t, env, "--audit-log", filepath.Join(dir, "approvals-audit.jsonl"))
	session := connectStdio(t, whmcsURL, append(env, "WHMCS_MCP_APPROVALS_URL="+pages, "WHMCS_MCP_AUDIT_LOG="+filepath.Join(dir, "audit.jsonl")), nil)

	args := map[string]any{"serviceid": 2, "status": "Terminated"}
	out := resultJSON(t, callTool(t, session, "update_client_product", args))
	id, _ := out["approval_id"].(string)
	if out["status"] != "approval_required" || out["approval_url"] != pages+"/"+id {
		t.Fatalf("want approval_required with a link to %s, got %v", pages, out)
	}

	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar}
	form := func(path string, values url.Values) string {
		t.Helper()
		page := get(t, web, pages+path)
		values.Set("csrf", regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1])
		req, _ := http.NewRequest(http.MethodPost, pages+path, strings.NewReader(values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", strings.TrimSuffix(pages, "/approvals"))
		resp, err := web.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	form("/sign-in", url.Values{"token": {aliceToken}, "next": {"/approvals"}})
	if list := get(t, web, pages); !strings.Contains(list, id) {
		t.Fatalf("the pages do not list the request made over stdio:\n%s", list)
	}
	if page := form("/"+id, url.Values{"decision": {"approve"}}); !strings.Contains(page, "You approved this request.") {
		t.Fatalf("approving:\n%s", page)
	}

	args["approval_id"] = id
	if out := resultJSON(t, callTool(t, session, "update_client_product", args)); out["status"] != "done" {
		t.Fatalf("the agent's retry: %v", out)
	}
	if res := callTool(t, session, "update_client_product", args); !res.IsError || !strings.Contains(text(res), "already used") {
		t.Errorf("a second retry: %s", text(res))
	}
	if sb.Writes() != 1 {
		t.Errorf("%d writes, want 1", sb.Writes())
	}
}

func TestApprovalsCommandNeedsSharedState(t *testing.T) {
	cmd := exec.Command(binary, "approvals", "--listen", "127.0.0.1:0", "--sandbox")
	cmd.Env = append(os.Environ(), "WHMCS_MCP_STATE=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs --state") {
		t.Errorf("approvals without --state: %v\n%s", err, out)
	}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
