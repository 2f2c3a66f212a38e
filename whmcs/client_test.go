package whmcs

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEndpoint(t *testing.T) {
	ok := map[string]string{
		"https://billing.example.com/whmcs":                   "https://billing.example.com/whmcs/includes/api.php",
		"https://billing.example.com/whmcs/":                  "https://billing.example.com/whmcs/includes/api.php",
		"https://billing.example.com":                         "https://billing.example.com/includes/api.php",
		"https://billing.example.com/":                        "https://billing.example.com/includes/api.php",
		"http://127.0.0.1:8080":                               "http://127.0.0.1:8080/includes/api.php",
		"https://billing.example.com/whmcs/includes/api.php":  "https://billing.example.com/whmcs/includes/api.php",
		"https://billing.example.com/includes/api.php":        "https://billing.example.com/includes/api.php",
		"  https://billing.example.com/whmcs  ":               "https://billing.example.com/whmcs/includes/api.php",
		"HTTPS://billing.example.com/whmcs":                   "https://billing.example.com/whmcs/includes/api.php",
		"https://billing.example.com:8443/a/b//":              "https://billing.example.com:8443/a/b/includes/api.php",
		"https://billing.example.com/whmcs/includes/api.phpx": "https://billing.example.com/whmcs/includes/api.phpx/includes/api.php",
	}
	for in, want := range ok {
		got, err := Endpoint(in)
		if err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"",
		"ftp://billing.example.com/whmcs",
		"billing.example.com/whmcs",
		"https://",
		"https:///whmcs",
		"https://billing.example.com/whmcs?x=1",
		"https://billing.example.com/whmcs/includes/api.php?action=GetProducts",
		"https://billing.example.com/whmcs#top",
		"https://bad host/",
		"javascript:alert(1)",
	} {
		if got, err := Endpoint(bad); err == nil {
			t.Errorf("Endpoint(%q) = %q, want an error", bad, got)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := New(Config{URL: "https://x.example", Identifier: "i"}); err == nil {
		t.Error("New without a secret succeeded")
	}
	if _, err := New(Config{URL: "https://x.example", Secret: "s"}); err == nil {
		t.Error("New without an identifier succeeded")
	}
	if _, err := New(Config{URL: "ftp://x.example", Identifier: "i", Secret: "s"}); err == nil {
		t.Error("New with a bad URL succeeded")
	}
	c, err := New(Config{URL: "https://x.example/whmcs/", Identifier: "i", Secret: "s"})
	if err != nil || c.URL() != "https://x.example/whmcs/includes/api.php" {
		t.Errorf("New: %v, URL %q", err, c.URL())
	}
}

// reply answers every request with a fixed status, content type and body.
func reply(t *testing.T, status int, ctype, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return newTestClient(t, Config{URL: srv.URL})
}

func TestAPIErrors(t *testing.T) {
	cases := []struct {
		status  int
		message string
		is      error
		ip      string
	}{
		{200, "Service ID Not Found", nil, ""},
		{403, "Authentication Failed", ErrAuthentication, ""},
		{200, "Authentication Failed", ErrAuthentication, ""},
		{403, "Invalid IP 1.2.3.4", ErrIPNotAllowed, "1.2.3.4"},
		{200, "Invalid IP 2001:db8::1", ErrIPNotAllowed, "2001:db8::1"},
		{403, `Invalid Permissions: API action "getclientsproducts" is not allowed`, ErrPermission, ""},
	}
	sentinels := []error{ErrAuthentication, ErrIPNotAllowed, ErrPermission, ErrOutcomeUnknown}
	for _, tc := range cases {
		body := `{"result":"error","message":` + quoteJSON(tc.message) + `}`
		c := reply(t, tc.status, "application/json", body)
		for _, call := range []struct {
			name string
			do   func() error
		}{
			{"read", func() error { _, err := c.GetClientsProducts(ctx(t), GetClientsProductsRequest{}); return err }},
			{"write", func() error {
				_, err := c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
				return err
			}},
		} {
			err := call.do()
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Errorf("%s %q: err = %T %v, want *APIError", call.name, tc.message, err, err)
				continue
			}
			if err.Error() != tc.message || ae.Message != tc.message || ae.HTTPStatus != tc.status {
				t.Errorf("%s: Error() = %q, status %d; want %q, %d", call.name, err.Error(), ae.HTTPStatus, tc.message, tc.status)
			}
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tc.is; got != want {
					t.Errorf("%s %q: errors.Is(err, %v) = %v", call.name, tc.message, s, got)
				}
			}
			if ae.IP() != tc.ip {
				t.Errorf("%q: IP() = %q, want %q", tc.message, ae.IP(), tc.ip)
			}
		}
	}
}

func quoteJSON(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

const maintenancePage = `<!DOCTYPE html>
<html><head><title>Down for Maintenance</title></head>
<body><h1>We are currently performing maintenance</h1></body></html>`

func TestResponseErrors(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		ctype, body string
		reason      string // in Error()
		snippet     string // in Error(), quoted
	}{
		{"HTML maintenance page", 200, "text/html", maintenancePage, "HTML", "<!DOCTYPE html>"},
		{"HTML error page with 500", 500, "text/html", "<html><body>Internal Server Error</body></html>", "HTML", "<html><body>Internal"},
		{"HTML 502 from a proxy", 502, "text/html", "\n\n<HTML><BODY>Bad Gateway</BODY></HTML>", "HTML", "<HTML>"},
		{"empty body", 200, "", "", "empty", ""},
		{"whitespace body", 200, "", " \r\n ", "empty", ""},
		{"truncated JSON", 200, "application/json", `{"result":"success","products":{"product":[{"id":"1"`, "malformed JSON", `{\"result\":\"success\"`},
		{"malformed JSON", 200, "application/json", `{"result":"success",}`, "malformed JSON", `{\"result\"`},
		{"PHP warning then JSON", 200, "text/html", "Warning: something in /var/www/x.php\n{\"result\":\"success\"}", "not JSON", "Warning: something"},
		{"JSON array", 200, "application/json", `[1,2]`, "not JSON", "[1,2]"},
		{"no result", 200, "application/json", `{"message":"hi"}`, "result", ""},
		{"success with 500", 500, "application/json", `{"result":"success"}`, "failing HTTP status", ""},
		{"binary", 200, "application/octet-stream", "\xff\xfe\x00junk", "not JSON", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := reply(t, tc.status, tc.ctype, tc.body)
			_, err := c.GetClientsProducts(ctx(t), GetClientsProductsRequest{})
			var re *ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("err = %T %v, want *ResponseError", err, err)
			}
			if re.HTTPStatus != tc.status || re.Action != "GetClientsProducts" {
				t.Errorf("status %d action %q", re.HTTPStatus, re.Action)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.reason) || !strings.Contains(msg, tc.snippet) {
				t.Errorf("Error() = %q, want it to mention %q and quote %q", msg, tc.reason, tc.snippet)
			}
			if errors.Is(err, ErrOutcomeUnknown) {
				t.Error("a read matches ErrOutcomeUnknown")
			}

			// The same reply to a write: the request reached WHMCS, so the outcome is unknown.
			_, err = c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
			if !errors.As(err, &re) || !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("write: err = %T %v, want a *ResponseError matching ErrOutcomeUnknown", err, err)
			}
		})
	}
}

func TestResponseErrorSnippetIsShort(t *testing.T) {
	body := "<html>" + strings.Repeat("x", 5000) + "</html>"
	c := reply(t, 200, "text/html", body)
	_, err := c.GetPaymentMethods(ctx(t))
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v", err)
	}
	if len(err.Error()) > 400 || !strings.HasPrefix(re.Snippet, "<html>xxx") {
		t.Errorf("Error() is %d bytes, snippet %q", len(err.Error()), re.Snippet)
	}
}

// FuzzDecodeReply checks that no reply makes the client panic, and that every
// failure is one of the typed errors: WHMCS's own error (its message, never
// blank), or a reply that is not WHMCS JSON, whose outcome is unknown exactly
// when it answered a write. Success needs result "success" and a 2xx status.
func FuzzDecodeReply(f *testing.F) {
	for _, seed := range []string{
		docsGetClientsProducts, productsReply, addonsReply, maintenancePage, "", "{", `{"result":"error"}`,
		`{"result":"success","products":{"product":{"id":"1","customfields":{"customfield":{"id":1}}}}}`,
		`{"result":"success","products":{"a":[],"b":[]}}`, `{"result":"success","products":"x"}`,
		`{"result":1,"message":{}}`, "\xef\xbb\xbf{\"result\":\"success\"}",
		`{"result":"success","products":{"product":{"0":{"id":"1"},"1":{"id":"2","customfields":{"customfield":{"5":{"id":"5"}}}}}}}`,
		`{"result":"success","products":{"7":{"id":"7"},"9":{"id":"9"}}}`,
		`{"result":"success","products":{"product":{"0":"text"}}}`,
		`{"result":"success","products":{"product":[null]}}`,
	} {
		f.Add(200, seed, false, uint8(0))
	}
	f.Fuzz(func(t *testing.T, status int, body string, isWrite bool, shape uint8) {
		k := read
		if isWrite {
			k = write
		}
		outs := []any{&GetClientsProductsResponse{}, &GetProductsResponse{}, &GetClientsAddonsResponse{},
			&GetPaymentMethodsResponse{}, &UpgradeProductResponse{}, &UpdateClientProductResponse{}, nil}
		out := outs[int(shape)%len(outs)]
		err := decodeReply("Action", k, status, "application/json", []byte(body), out)
		if err == nil {
			if status < 200 || status > 299 {
				t.Errorf("success with HTTP %d", status)
			}
			return
		}
		if msg := err.Error(); msg == "" || !utf8.ValidString(msg) {
			t.Errorf("error message %q is blank or not UTF-8", msg)
		}
		var ae *APIError
		var re *ResponseError
		switch {
		case errors.As(err, &ae):
			if errors.Is(err, ErrOutcomeUnknown) != (isWrite && ae.EncodingFailure()) {
				t.Errorf("WHMCS error %q: outcome unknown is %v", ae.Message, errors.Is(err, ErrOutcomeUnknown))
			}
		case errors.As(err, &re):
			if errors.Is(err, ErrOutcomeUnknown) != isWrite {
				t.Errorf("%v: outcome unknown is %v for a write: %v", err, errors.Is(err, ErrOutcomeUnknown), isWrite)
			}
		default:
			t.Errorf("err = %T %v", err, err)
		}
	})
}

// countingListener counts accepted connections and closes the first n at
// once; with rst set it closes them with a reset (SO_LINGER 0).
type countingListener struct {
	net.Listener
	n        int64
	rst      bool
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.accepted.Add(1) > l.n {
			return conn, nil
		}
		if tc, ok := conn.(*net.TCPConn); ok && l.rst {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// dropFirst starts a TLS WHMCS whose first n connections are closed before
// the TLS handshake completes: the client fails before any request is written.
func dropFirst(t *testing.T, n int64, retries int) (*Client, *countingListener, *atomic.Int64) {
	t.Helper()
	var served atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		_, _ = w.Write([]byte(`{"result":"success","totalresults":1,"paymentmethods":{"paymentmethod":{"module":"paypal"}},"serviceid":"1"}`))
	}))
	l := &countingListener{Listener: srv.Listener, n: n}
	srv.Listener = l
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return newTestClient(t, Config{URL: srv.URL, HTTPClient: srv.Client(), ReadRetries: retries}), l, &served
}

func TestReadRetriedWhenConnectionFailsBeforeWrite(t *testing.T) {
	c, l, served := dropFirst(t, 2, 0) // ReadRetries 0 means 2
	resp, err := c.GetPaymentMethods(ctx(t))
	if err != nil {
		t.Fatalf("GetPaymentMethods: %v", err)
	}
	if len(resp.PaymentMethods) != 1 || resp.PaymentMethods[0].Module != "paypal" {
		t.Errorf("resp = %+v", resp)
	}
	if got := l.accepted.Load(); got != 3 {
		t.Errorf("accepted %d connections, want 3", got)
	}
	if got := served.Load(); got != 1 {
		t.Errorf("served %d requests, want 1", got)
	}
}

func TestReadRetriesRunOut(t *testing.T) {
	c, l, served := dropFirst(t, 100, 3)
	_, err := c.GetPaymentMethods(ctx(t))
	var te *TransportError
	if !errors.As(err, &te) || te.Sent || te.Write {
		t.Fatalf("err = %T %+v, want an unsent *TransportError", err, err)
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		t.Error("an unsent read matches ErrOutcomeUnknown")
	}
	if got := l.accepted.Load(); got != 4 {
		t.Errorf("accepted %d connections, want 4 (1 + 3 retries)", got)
	}
	if served.Load() != 0 {
		t.Errorf("served %d", served.Load())
	}
}

func TestReadRetriesDisabled(t *testing.T) {
	c, l, _ := dropFirst(t, 1, -1)
	if _, err := c.GetPaymentMethods(ctx(t)); err == nil {
		t.Fatal("no error")
	}
	if got := l.accepted.Load(); got != 1 {
		t.Errorf("accepted %d connections, want 1", got)
	}
}

func TestWriteNotRetriedWhenConnectionFailsBeforeWrite(t *testing.T) {
	c, l, served := dropFirst(t, 1, 5)
	_, err := c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
	var te *TransportError
	if !errors.As(err, &te) || te.Sent || !te.Write {
		t.Fatalf("err = %T %+v, want an unsent write *TransportError", err, err)
	}
	// Nothing left the client: the outcome is known (nothing happened).
	if errors.Is(err, ErrOutcomeUnknown) || strings.Contains(err.Error(), "unknown") {
		t.Errorf("err %q claims an unknown outcome", err)
	}
	if got := l.accepted.Load(); got != 1 {
		t.Errorf("accepted %d connections, want 1", got)
	}
	if served.Load() != 0 {
		t.Errorf("served %d", served.Load())
	}
}

// brokenWriteConn is a connection on which every write fails and nothing is
// written, as on a connection the server has already reset. Its reads block
// until the test ends, so that the failure reaches the client through the
// write alone (otherwise net/http may report the read side's error first and
// lose its mark that nothing was written; the client then does not retry).
type brokenWriteConn struct {
	net.Conn
	done <-chan struct{}
}

func (c brokenWriteConn) Write([]byte) (int, error) { return 0, syscall.EPIPE }

func (c brokenWriteConn) Read([]byte) (int, error) {
	<-c.done
	return 0, net.ErrClosed
}

// TestReadRetriedWhenWriteFails: writing the request fails before a byte of
// it leaves (the first connection is broken). Nothing reached WHMCS, so a read
// is retried, and a write fails without claiming an unknown outcome.
func TestReadRetriedWhenWriteFails(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		_, _ = w.Write([]byte(`{"result":"success","totalresults":0}`))
	}))
	defer srv.Close()

	var dials atomic.Int64
	done := make(chan struct{})
	defer close(done)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil || dials.Add(1) > 1 {
			return conn, err
		}
		return brokenWriteConn{conn, done}, nil
	}}
	defer tr.CloseIdleConnections()
	c := newTestClient(t, Config{URL: srv.URL, HTTPClient: &http.Client{Transport: tr}})
	if _, err := c.GetPaymentMethods(ctx(t)); err != nil {
		t.Fatalf("GetPaymentMethods: %v", err)
	}
	if got := dials.Load(); got != 2 {
		t.Errorf("dialled %d connections, want 2", got)
	}
	if served.Load() != 1 {
		t.Errorf("served %d requests, want 1", served.Load())
	}

	dials.Store(0)
	tr.CloseIdleConnections()
	_, err := c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
	var te *TransportError
	if !errors.As(err, &te) || !te.Write || te.Sent || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("write: err = %T %+v, want an unsent write *TransportError", err, err)
	}
	if got := dials.Load(); got != 1 || served.Load() != 1 {
		t.Errorf("write: dialled %d, served %d; want 1 and still 1", got, served.Load())
	}
}

// hangUp is a WHMCS that reads each request and then drops the connection
// without a reply; requests for action "GetPaymentMethods" are answered.
type hangUp struct {
	mu      sync.Mutex
	actions []string
}

func (h *hangUp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	action := r.PostForm.Get("action")
	h.mu.Lock()
	h.actions = append(h.actions, action)
	h.mu.Unlock()
	if action == "GetPaymentMethods" {
		_, _ = w.Write([]byte(`{"result":"success","totalresults":0}`))
		return
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

func (h *hangUp) count(action string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, a := range h.actions {
		if a == action {
			n++
		}
	}
	return n
}

func TestWriteNeverRetried(t *testing.T) {
	h := &hangUp{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newTestClient(t, Config{URL: srv.URL, ReadRetries: 5})
	// A first call leaves a keep-alive connection for the write to reuse.
	if _, err := c.GetPaymentMethods(ctx(t)); err != nil {
		t.Fatal(err)
	}
	_, err := c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1, Status: ptr("Suspended")})
	if err == nil {
		t.Fatal("no error")
	}
	if got := h.count("UpdateClientProduct"); got != 1 {
		t.Errorf("WHMCS got %d UpdateClientProduct requests, want exactly 1", got)
	}
	var te *TransportError
	if !errors.As(err, &te) || !te.Sent || !te.Write {
		t.Errorf("err = %T %+v, want a sent write *TransportError", err, err)
	}
	if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "outcome is unknown") {
		t.Errorf("err %q does not match ErrOutcomeUnknown or say the outcome is unknown", err)
	}
	for _, s := range []error{ErrAuthentication, ErrIPNotAllowed, ErrPermission} {
		if errors.Is(err, s) {
			t.Errorf("err matches %v", s)
		}
	}

	// A real UpgradeProduct is a write too.
	_, err = c.UpgradeProduct(ctx(t), UpgradeProductRequest{ServiceID: 1, PaymentMethod: "paypal", Type: "product", NewProductID: ptr(3)})
	if !errors.Is(err, ErrOutcomeUnknown) || h.count("UpgradeProduct") != 1 {
		t.Errorf("UpgradeProduct: err %v, %d requests", err, h.count("UpgradeProduct"))
	}
	_, err = c.UpdateClientAddon(ctx(t), UpdateClientAddonRequest{ID: 1, Status: ptr("Active")})
	if !errors.Is(err, ErrOutcomeUnknown) || h.count("UpdateClientAddon") != 1 {
		t.Errorf("UpdateClientAddon: err %v, %d requests", err, h.count("UpdateClientAddon"))
	}
	err = c.AddInvoicePayment(ctx(t), AddInvoicePaymentRequest{InvoiceID: 1, TransID: "t", Gateway: "paypal"})
	if !errors.Is(err, ErrOutcomeUnknown) || h.count("AddInvoicePayment") != 1 {
		t.Errorf("AddInvoicePayment: err %v, %d requests", err, h.count("AddInvoicePayment"))
	}
}

func TestReadAfterSendIsTransportErrorNotRetried(t *testing.T) {
	h := &hangUp{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newTestClient(t, Config{URL: srv.URL, ReadRetries: 3})
	for _, call := range []struct {
		action string
		do     func() error
	}{
		{"GetClientsProducts", func() error { _, err := c.GetClientsProducts(ctx(t), GetClientsProductsRequest{}); return err }},
		{"UpgradeProduct", func() error {
			_, err := c.UpgradeProduct(ctx(t), UpgradeProductRequest{ServiceID: 1, CalcOnly: true, PaymentMethod: "paypal", Type: "product"})
			return err
		}},
	} {
		err := call.do()
		var te *TransportError
		if !errors.As(err, &te) || !te.Sent || te.Write || te.Action != call.action {
			t.Errorf("%s: err = %T %+v, want a sent read *TransportError", call.action, err, err)
		}
		if errors.Is(err, ErrOutcomeUnknown) || strings.Contains(err.Error(), "unknown") {
			t.Errorf("%s: read error %q claims an unknown outcome", call.action, err)
		}
		if got := h.count(call.action); got != 1 {
			t.Errorf("%s: WHMCS got %d requests, want 1 (no retry once sent)", call.action, got)
		}
	}
}

// stall is a WHMCS that never answers until the test ends.
func stall(t *testing.T) (*Client, *atomic.Int64) {
	t.Helper()
	release := make(chan struct{})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return newTestClient(t, Config{URL: srv.URL, Timeout: 50 * time.Millisecond}), &hits
}

func TestTimeout(t *testing.T) {
	// The handler only returns once the test is over, so a call that returns
	// at all was ended by the client's own timeout.
	c, hits := stall(t)
	_, err := c.GetClientsProducts(ctx(t), GetClientsProductsRequest{})
	var te *TransportError
	if !errors.As(err, &te) || te.Write {
		t.Fatalf("read: err = %T %v, want a read *TransportError", err, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read: err %q does not match context.DeadlineExceeded", err)
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("read: err matches ErrOutcomeUnknown")
	}
	_, err = c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
	if !errors.As(err, &te) || !te.Write || !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("write: err = %T %v, want ErrOutcomeUnknown", err, err)
	}
	if got := hits.Load(); got != 2 {
		t.Errorf("WHMCS got %d requests, want 2", got)
	}
}

func TestCallerCancel(t *testing.T) {
	c, _ := stall(t)
	c.timeout = time.Hour
	cctx, cancel := context.WithCancel(ctx(t))
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := c.GetProducts(cctx, GetProductsRequest{})
	var te *TransportError
	if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %T %v, want a *TransportError matching context.Canceled", err, err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now: connection refused
	c := newTestClient(t, Config{URL: "http://" + addr, ReadRetries: -1})
	_, err = c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
	var te *TransportError
	if !errors.As(err, &te) || te.Sent || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("err = %T %+v, want an unsent *TransportError", err, err)
	}
}

func TestParsePrice(t *testing.T) {
	for in, want := range map[string]float64{
		"$-8.67 USD":     -8.67,
		"$12.00 USD":     12,
		"-$8.67":         -8.67,
		"$1,200.50 USD":  1200.5,
		"8,67 €":         8.67,
		"$0.00 USD":      0,
		"£5 GBP":         5,
		"12.95":          12.95,
		"$1,234,567 USD": 1234567,
		"€1.234,56 EUR":  1234.56, // WHMCS currency format 3
		"1.234,56 €":     1234.56,
		"-1.234,56 €":    -1234.56,
		"€-0,50 EUR":     -0.5,
		"1.234.567,89 €": 1234567.89,
	} {
		got, err := ParsePrice(in)
		if err != nil || got != want {
			t.Errorf("ParsePrice(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "USD", "$ USD", "-"} {
		if got, err := ParsePrice(bad); err == nil {
			t.Errorf("ParsePrice(%q) = %v, want an error", bad, got)
		}
	}
}

func TestConcurrentCalls(t *testing.T) {
	c, rec := fakeWHMCS(t, docsGetClientsProducts)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			resp, err := c.GetClientsProducts(ctx(t), GetClientsProductsRequest{ClientID: ptr(i + 1)})
			if err == nil && len(resp.Products) != 2 {
				err = errors.New("wrong product count")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	seen := map[string]bool{}
	for _, f := range rec.requests() {
		seen[f.Get("clientid")] = true
	}
	if len(seen) != 16 {
		t.Errorf("server saw %d distinct client ids, want 16", len(seen))
	}
}

func TestAPIErrorWithoutMessage(t *testing.T) {
	for _, body := range []string{`{"result":"error"}`, `{"result":"error","message":""}`, `{"result":"error","message":null}`} {
		c := reply(t, 200, "application/json", body)
		_, err := c.GetProducts(ctx(t), GetProductsRequest{})
		var ae *APIError
		if !errors.As(err, &ae) || ae.Message != "" {
			t.Fatalf("%s: err = %T %v, want an *APIError without a message", body, err, err)
		}
		if want := "WHMCS GetProducts: error reply without a message"; err.Error() != want {
			t.Errorf("%s: Error() = %q, want %q", body, err.Error(), want)
		}
	}
}
