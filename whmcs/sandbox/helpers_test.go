package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// docsToday is the fixed "today" of most tests.
var docsToday = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// harness is a sandbox served over real HTTP on 127.0.0.1.
type harness struct {
	t   *testing.T
	sb  *Sandbox
	srv *httptest.Server
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = FixedClock(docsToday)
	}
	sb, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		if err := sb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{t: t, sb: sb, srv: srv}
}

// with returns h reporting to t (for subtests).
func (h *harness) with(t *testing.T) *harness {
	return &harness{t: t, sb: h.sb, srv: h.srv}
}

// reply is a decoded API reply.
type reply struct {
	status int
	raw    []byte
	m      map[string]any
}

func (r reply) str(key string) string {
	s, _ := r.m[key].(string)
	return s
}

// postRaw sends form fields as they are (no credentials added).
func (h *harness) postRaw(form url.Values) reply {
	h.t.Helper()
	resp, err := http.PostForm(h.srv.URL+APIPath, form)
	if err != nil {
		h.t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	r := reply{status: resp.StatusCode, raw: body}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Fatalf("Content-Type = %q, want application/json (body %s)", ct, body)
	}
	if err := json.Unmarshal(body, &r.m); err != nil {
		h.t.Fatalf("reply is not a JSON object: %v: %s", err, body)
	}
	return r
}

// call sends action with the default credentials and responsetype=json.
// kv are name, value pairs.
func (h *harness) call(action string, kv ...string) reply {
	h.t.Helper()
	form := url.Values{
		"action":       {action},
		"identifier":   {DefaultIdentifier},
		"secret":       {DefaultSecret},
		"responsetype": {"json"},
	}
	if len(kv)%2 != 0 {
		h.t.Fatalf("call %s: odd number of key/value arguments", action)
	}
	for i := 0; i < len(kv); i += 2 {
		form.Add(kv[i], kv[i+1])
	}
	return h.postRaw(form)
}

// ok calls action and fails the test unless it succeeds.
func (h *harness) ok(action string, kv ...string) reply {
	h.t.Helper()
	r := h.call(action, kv...)
	if r.status != http.StatusOK || r.str("result") != "success" {
		h.t.Fatalf("%s %v: status %d, reply %s", action, kv, r.status, r.raw)
	}
	return r
}

// fails calls action and fails the test unless WHMCS's error shape comes back
// with HTTP 200 and exactly message.
func (h *harness) fails(message, action string, kv ...string) reply {
	h.t.Helper()
	r := h.call(action, kv...)
	if r.status != http.StatusOK || r.str("result") != "error" || r.str("message") != message {
		h.t.Fatalf("%s %v: got status %d, reply %s; want error %q", action, kv, r.status, r.raw, message)
	}
	if len(r.m) != 2 {
		h.t.Fatalf("%s: error reply has extra keys: %s", action, r.raw)
	}
	return r
}

// service returns GetClientsProducts's object for one service.
func (h *harness) service(id int) map[string]any {
	h.t.Helper()
	r := h.ok("GetClientsProducts", "serviceid", fmt.Sprint(id))
	list := productList(h.t, r)
	if len(list) != 1 {
		h.t.Fatalf("service %d: %d products in %s", id, len(list), r.raw)
	}
	return list[0]
}

func productList(t *testing.T, r reply) []map[string]any {
	t.Helper()
	if r.m["products"] == "" {
		return nil
	}
	prods, ok := r.m["products"].(map[string]any)
	if !ok {
		t.Fatalf("products is %T: %s", r.m["products"], r.raw)
	}
	var out []map[string]any
	for _, p := range prods["product"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

// snapshot dumps every table of the database, for "nothing changed" checks.
func snapshot(t *testing.T, sb *Sandbox) string {
	t.Helper()
	ctx := context.Background()
	db := sb.DB()
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%v", vals))
		}
		rows.Close()
		sort.Strings(lines)
		fmt.Fprintf(&b, "== %s %v\n%s\n", table, cols, strings.Join(lines, "\n"))
	}
	return b.String()
}

// compactJSON compacts JSON keeping key order and values as written.
func compactJSON(t *testing.T, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatalf("compact: %v: %s", err, data)
	}
	return b.String()
}
