package tools

// A sandbox WHMCS behind internal/faultwhmcs, which counts every request by
// action, for the tests of the checks and the catalogue: they prove what
// reached WHMCS, and do not depend on the sandbox refusing anything.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/whmcs-mcp/whmcs-mcp/internal/faultwhmcs"
	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// executeGate runs every operation at once, without preview or
// confirmation, so that whatever the checks let through reaches WHMCS; it
// counts the operations handed to it.
type executeGate struct {
	mu     sync.Mutex
	runs   int
	scope  []int
	refuse []string
}

func (g *executeGate) Run(ctx context.Context, op *Operation) (any, error) {
	g.mu.Lock()
	g.runs++
	g.mu.Unlock()
	return op.Execute(ctx)
}

func (g *executeGate) Scope(context.Context) []int { return g.scope }

func (g *executeGate) Refused(_ context.Context, _ string, _ json.RawMessage, reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refuse = append(g.refuse, reason)
}

func (g *executeGate) ran() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.runs
}

// counted is a sandbox WHMCS behind a request counter, and the write tools
// talking to it through an executeGate.
type counted struct {
	sb    *sandbox.Sandbox
	whmcs *faultwhmcs.WHMCS
	gate  *executeGate
	deps  *Deps
	tools map[string]Tool
}

// newCounted serves next (nil: a fresh sandbox) behind a request counter on
// 127.0.0.1.
func newCounted(t testing.TB, next http.Handler) *counted {
	t.Helper()
	sb, err := sandbox.Open(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if next == nil {
		next = sb
	}
	w := &counted{sb: sb, whmcs: faultwhmcs.New(next), gate: &executeGate{}}
	srv := httptest.NewServer(w.whmcs)
	t.Cleanup(func() { w.whmcs.Close(); srv.Close(); sb.Close() })
	w.deps = &Deps{WHMCS: sandboxtest.Client(t, srv.URL), Gate: w.gate}
	w.tools = map[string]Tool{}
	for _, tool := range All(w.deps) {
		w.tools[tool.Name] = tool
	}
	return w
}

// actions returns the actions of the requests that reached WHMCS after the
// first from.
func (w *counted) actions(from int) []string {
	var out []string
	for _, r := range w.whmcs.Requests()[from:] {
		out = append(out, r.Action)
	}
	return out
}

// refused calls tool with args and fails the test unless the tool refused
// it itself: a tool error holding each of wants, the Gate never asked, no
// write sent, and no request but reads among allowed.
func (w *counted) refused(t *testing.T, tool, args string, allowed []string, wants ...string) {
	t.Helper()
	before, runs, writes := len(w.whmcs.Requests()), w.gate.ran(), w.sb.Writes()
	res := callHandler(t, w.tools[tool], args)
	text := resultText(res)
	if !res.IsError {
		t.Errorf("%s %s: want a tool error, got %s", tool, args, text)
	}
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s %s:\n got %s\nwant it to hold %s", tool, args, text, want)
		}
	}
	if w.gate.ran() != runs {
		t.Errorf("%s %s: the call reached the Gate (a preview or a question)", tool, args)
	}
	if w.sb.Writes() != writes {
		t.Errorf("%s %s: WHMCS wrote", tool, args)
	}
	for _, r := range w.whmcs.Requests()[before:] {
		if faultwhmcs.IsWrite(r) || !slices.Contains(allowed, r.Action) {
			t.Errorf("%s %s: %s reached WHMCS (allowed: %v)", tool, args, r.Action, allowed)
		}
	}
}

// sent calls tool with args and fails the test unless its write reached
// WHMCS (whatever WHMCS answered).
func (w *counted) sent(t *testing.T, tool, args, action string) {
	t.Helper()
	before := w.whmcs.Count(action)
	res := callHandler(t, w.tools[tool], args)
	if w.whmcs.Count(action) != before+1 {
		t.Errorf("%s %s: want the write sent to WHMCS, got %s", tool, args, resultText(res))
	}
}

const (
	getPaymentMethods  = "GetPaymentMethods"
	getProducts        = "GetProducts"
	getClientsProducts = "GetClientsProducts"
)
