package whmcs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// recorder is a fake WHMCS that answers every request with a fixed reply and
// remembers the forms it received.
type recorder struct {
	mu     sync.Mutex
	forms  []url.Values
	status int
	ctype  string
	reply  string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/includes/api.php" {
		http.Error(w, "wrong method or path: "+req.Method+" "+req.URL.Path, http.StatusNotFound)
		return
	}
	if err := req.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.forms = append(r.forms, req.PostForm)
	status, ctype, reply := r.status, r.ctype, r.reply
	r.mu.Unlock()
	if ctype == "" {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	if status != 0 {
		w.WriteHeader(status)
	}
	_, _ = w.Write([]byte(reply))
}

// requests returns the forms received so far.
func (r *recorder) requests() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]url.Values(nil), r.forms...)
}

// only returns the single form received, failing the test unless exactly one came.
func (r *recorder) only(t *testing.T) url.Values {
	t.Helper()
	forms := r.requests()
	if len(forms) != 1 {
		t.Fatalf("server got %d requests, want 1", len(forms))
	}
	return forms[0]
}

// fakeWHMCS starts a recorder answering reply with HTTP 200 and a client for it.
func fakeWHMCS(t *testing.T, reply string) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{reply: reply}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return newTestClient(t, Config{URL: srv.URL}), rec
}

// newTestClient fills in credentials and a short timeout when cfg leaves them out.
func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Identifier == "" {
		cfg.Identifier = "test-identifier"
	}
	if cfg.Secret == "" {
		cfg.Secret = "test-secret"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

func ctx(t *testing.T) context.Context { return t.Context() }
