package main

// Crash safety: the server is killed (SIGKILL) again and again in the middle
// of a stream of confirmed writes. Afterwards every write that reached WHMCS
// has its intent record in the audit log, the chain verifies, a torn last
// line (which only a power loss can leave: Append writes a record with one
// write call) is reported exactly by `audit verify`, and a restarted server
// continues the chain.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/faultwhmcs"
	"github.com/whmcs-mcp/whmcs-mcp/policy/audit"
)

// call sends a tools/call and returns its result, or nil when the server
// died first.
func (s *rawServer) call(id, tool string, args map[string]any) map[string]any {
	s.t.Helper()
	params, _ := json.Marshal(map[string]any{"name": tool, "arguments": args})
	if _, err := s.stdin.Write([]byte(`{"jsonrpc":"2.0","id":"` + id + `","method":"tools/call","params":` + string(params) + "}\n")); err != nil {
		return nil // killed
	}
	for line := range s.lines {
		var msg struct {
			ID     string `json:"id"`
			Result struct {
				IsError           bool           `json:"isError"`
				StructuredContent map[string]any `json:"structuredContent"`
				Content           []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"result"`
		}
		if json.Unmarshal(line, &msg) != nil || msg.ID != id {
			continue
		}
		if msg.Result.IsError || msg.Result.StructuredContent == nil {
			s.t.Fatalf("%s %v: %s", tool, args, line)
		}
		return msg.Result.StructuredContent
	}
	return nil // stdout closed: killed
}

func (s *rawServer) initialize() {
	s.t.Helper()
	s.send([]byte(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"crash","version":"1"}}}`))
	s.until(`"init"`)
	s.send([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
}

// killed waits for the server and checks that SIGKILL ended it.
func (s *rawServer) killed() {
	s.t.Helper()
	for range s.lines {
	}
	s.cmd.Wait()
	ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		s.t.Fatalf("the server was not killed: %v\nstderr:\n%s", s.cmd.ProcessState, s.stderr.String())
	}
}

// auditRecords reads an audit log's complete lines.
func auditRecords(t *testing.T, path string) []audit.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if !bytes.HasSuffix(line, []byte("\n")) {
			continue // a torn tail
		}
		var r audit.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// auditVerify runs `whmcs-mcp audit verify` and returns its output and
// whether it passed.
func auditVerify(t *testing.T, path string) (string, bool) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(binary, "audit", "verify", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatal(err)
	}
	return stdout.String() + stderr.String(), err == nil
}

func TestCrashSafety(t *testing.T) {
	sb, faults, url := serveFaulty(t)
	dir := t.TempDir()
	auditLog := filepath.Join(dir, "audit.jsonl")
	policyFile := filepath.Join(dir, "policy.yaml")
	// notes is guarded so that every write in the stream is a confirmed one,
	// each with its own value to match requests to records.
	if err := os.WriteFile(policyFile, []byte("confirmation: token\nguarded_fields: [notes]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--audit-log", auditLog, "--policy", policyFile}

	// The server to kill from inside WHMCS, while its write is in flight.
	var mu sync.Mutex
	var victim *rawServer
	killAtWrite := 0 // kill when the n-th write of the round arrives; 0: not from the hook
	writesThisRound := 0
	faults.OnRequest(func(r faultwhmcs.Request) {
		if !faultwhmcs.IsWrite(r) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		writesThisRound++
		if victim != nil && writesThisRound == killAtWrite {
			victim.cmd.Process.Kill() // the request has left; WHMCS carries it out after the death
		}
	})

	rounds := []struct {
		name    string
		atWrite int  // kill as the n-th write reaches WHMCS; 0: at a random moment
		torn    bool // afterwards, leave a torn last line as a power loss would
	}{
		{"at the first write", 1, false},
		{"at a random moment", 0, false},
		{"at the third write", 3, false},
		{"at a random moment", 0, true},
		{"at the second write", 2, false},
		{"at a random moment", 0, false},
		{"at a random moment", 0, false},
		{"at the first write", 1, true},
	}
	written := 0 // confirmed writes answered done, over all rounds
	for round, r := range rounds {
		t.Run(fmt.Sprintf("%d %s", round, r.name), func(t *testing.T) {
			s := startRaw(t, url, nil, args...)
			s.initialize()
			mu.Lock()
			victim, killAtWrite, writesThisRound = s, r.atWrite, 0
			mu.Unlock()
			if r.atWrite == 0 {
				delay := 10*time.Millisecond + rand.N(100*time.Millisecond)
				timer := time.AfterFunc(delay, func() { s.cmd.Process.Kill() })
				defer timer.Stop()
			}
			for i := 0; ; i++ {
				if i == 500 {
					t.Fatal("the server was never killed")
				}
				a := map[string]any{"serviceid": 2, "notes": fmt.Sprintf("round %d write %d", round, i)}
				out := s.call(fmt.Sprintf("p%d", i), "update_client_product", a)
				if out == nil {
					break
				}
				token, _ := out["confirmation_token"].(string)
				if out["status"] != "confirmation_required" || token == "" {
					t.Fatalf("preview: %v", out)
				}
				a["confirmation_token"] = token
				out = s.call(fmt.Sprintf("c%d", i), "update_client_product", a)
				if out == nil {
					break
				}
				if out["status"] != "done" {
					t.Fatalf("confirm: %v", out)
				}
				written++
			}
			s.killed()
			mu.Lock()
			victim = nil
			mu.Unlock()
			faults.Wait() // the write in flight at the kill is carried out
			if round > 0 && rounds[round-1].torn {
				if !strings.Contains(s.stderr.String(), "the audit log ended with a torn record") {
					t.Errorf("the server did not say it removed the torn record:\n%s", s.stderr.String())
				}
			}

			records := auditRecords(t, auditLog)
			t.Logf("killed with %d records in the log, %d writes made by WHMCS, %d answered done", len(records), sb.Writes(), written)
			checkIntents(t, sb.Writes(), faults.Requests(), records, written)
			msg, ok := auditVerify(t, auditLog)
			if !ok || !strings.Contains(msg, "chain intact") {
				t.Fatalf("audit verify after the kill: %s", msg)
			}
			if r.torn {
				tearLastLine(t, auditLog)
			}
		})
		if t.Failed() {
			return
		}
	}

	// A restarted server appends to the log; the chain still verifies.
	before := len(auditRecords(t, auditLog))
	s := startRaw(t, url, nil, args...)
	s.initialize()
	a := map[string]any{"serviceid": 2, "notes": "after the crashes"}
	out := s.call("p", "update_client_product", a)
	a["confirmation_token"] = out["confirmation_token"]
	if out = s.call("c", "update_client_product", a); out == nil || out["status"] != "done" {
		t.Fatalf("after the crashes: %v", out)
	}
	s.stdin.Close()
	for range s.lines {
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("the server did not exit cleanly: %v", err)
	}
	if !strings.Contains(s.stderr.String(), "the audit log ended with a torn record") {
		t.Errorf("the server did not say it removed the torn record:\n%s", s.stderr.String())
	}
	records := auditRecords(t, auditLog)
	if got := len(records) - before; got != 4 {
		t.Errorf("the restarted server appended %d records, want 4 (preview, confirmation, intent, execution)", got)
	}
	checkIntents(t, sb.Writes(), faults.Requests(), records, written+1)
	msg, ok := auditVerify(t, auditLog)
	if want := fmt.Sprintf("%d records, chain intact", len(records)); !ok || !strings.Contains(msg, want) {
		t.Errorf("audit verify at the end: %s, want %s", msg, want)
	}
	var executions int
	for _, r := range records {
		if r.Event == audit.EventExecution {
			executions++
		}
	}
	// A kill can land after a write's execution record and before its reply
	// reaches the client: executions are at least the writes answered done,
	// and at most the writes WHMCS made.
	if executions < written+1 || executions > int(sb.Writes()) {
		t.Errorf("%d execution records, want between %d (writes answered done) and %d (writes WHMCS made)", executions, written+1, sb.Writes())
	}
}

// checkIntents checks that every write that reached WHMCS has an intent
// record for exactly its arguments, before the record of its outcome; that
// no write reached WHMCS twice; and that WHMCS made each one.
func checkIntents(t *testing.T, sandboxWrites int64, requests []faultwhmcs.Request, records []audit.Record, done int) {
	t.Helper()
	intent := map[string]int{} // notes -> index of its intent record
	for i, r := range records {
		notes, _ := r.Arguments["notes"].(string)
		switch r.Event {
		case audit.EventIntent:
			if _, dup := intent[notes]; dup {
				t.Errorf("two intent records for %q", notes)
			}
			intent[notes] = i
		case audit.EventExecution, audit.EventFailure, audit.EventOutcomeUnknown:
			if at, ok := intent[notes]; !ok || at > i {
				t.Errorf("the %s record of %q (line %d) has no intent record before it", r.Event, notes, i+1)
			}
		}
	}
	sent := map[string]bool{}
	for _, r := range requests {
		if !faultwhmcs.IsWrite(r) {
			continue
		}
		notes := r.Form.Get("notes")
		if sent[notes] {
			t.Errorf("the write %q reached WHMCS twice", notes)
		}
		sent[notes] = true
		if _, ok := intent[notes]; !ok {
			t.Errorf("the write %q reached WHMCS without an intent record in the audit log", notes)
		}
	}
	if int64(len(sent)) != sandboxWrites {
		t.Errorf("%d writes reached WHMCS, the sandbox made %d", len(sent), sandboxWrites)
	}
	if len(sent) < done {
		t.Errorf("%d writes reached WHMCS, fewer than the %d answered done", len(sent), done)
	}
}

// tearLastLine leaves what a power loss in the middle of an Append leaves:
// the start of a record without its end and newline. `audit verify` must
// name that line exactly, and the next server start must remove it.
func tearLastLine(t *testing.T, path string) {
	t.Helper()
	lines := len(auditRecords(t, path))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := `{"time":"2026-11-22T10:00:00Z","event":"intent","principal":"local","tool":"update_cli`
	if _, err := f.WriteString(torn); err != nil {
		t.Fatal(err)
	}
	f.Close()
	msg, ok := auditVerify(t, path)
	want := fmt.Sprintf("whmcs-mcp: %s: line %d: torn: the last line is incomplete (no trailing newline), as a crash in the middle of a write leaves it\n", path, lines+1)
	if ok || msg != want {
		t.Errorf("audit verify of a torn log:\n%q\nwant\n%q", msg, want)
	}
}
