package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestAuthenticationFailed(t *testing.T) {
	h := newHarness(t, Options{})
	for name, form := range map[string]url.Values{
		"missing":        {"action": {"GetPaymentMethods"}, "responsetype": {"json"}},
		"wrong secret":   {"action": {"GetPaymentMethods"}, "identifier": {DefaultIdentifier}, "secret": {"nope"}},
		"wrong id":       {"action": {"GetPaymentMethods"}, "identifier": {"nope"}, "secret": {DefaultSecret}},
		"wrong password": {"action": {"GetPaymentMethods"}, "username": {DefaultIdentifier}, "password": {"x"}},
	} {
		r := h.postRaw(form)
		if r.status != http.StatusForbidden || string(r.raw) != `{"result":"error","message":"Authentication Failed"}` {
			t.Errorf("%s: status %d, body %s", name, r.status, r.raw)
		}
	}
	// WHMCS's alternative parameter names for the credentials.
	r := h.postRaw(url.Values{"action": {"GetPaymentMethods"}, "username": {DefaultIdentifier},
		"password": {DefaultSecret}, "responsetype": {"json"}})
	if r.status != http.StatusOK || r.str("result") != "success" {
		t.Errorf("username/password: status %d, body %s", r.status, r.raw)
	}
}

func TestCustomCredentials(t *testing.T) {
	h := newHarness(t, Options{Identifier: "id-1", Secret: "s-1"})
	r := h.postRaw(url.Values{"action": {"GetPaymentMethods"}, "identifier": {"id-1"}, "secret": {"s-1"}})
	if r.status != http.StatusOK || r.str("result") != "success" {
		t.Fatalf("custom credentials refused: %d %s", r.status, r.raw)
	}
	if r := h.call("GetPaymentMethods"); r.status != http.StatusForbidden {
		t.Fatalf("default credentials accepted with custom ones configured: %d %s", r.status, r.raw)
	}
}

func TestAccessKey(t *testing.T) {
	h := newHarness(t, Options{AccessKey: "k3y"})
	r := h.call("GetPaymentMethods")
	if r.status != http.StatusForbidden || string(r.raw) != `{"result":"error","message":"Invalid IP 127.0.0.1"}` {
		t.Fatalf("missing accesskey: status %d, body %s", r.status, r.raw)
	}
	r = h.call("GetPaymentMethods", "accesskey", "wrong")
	if r.status != http.StatusForbidden || r.str("message") != "Invalid IP 127.0.0.1" {
		t.Fatalf("wrong accesskey: status %d, body %s", r.status, r.raw)
	}
	h.ok("GetPaymentMethods", "accesskey", "k3y")
}

// TestAccessControl: an address on the allowlist needs no access key; the
// access key lets any other address in; everyone else gets "Invalid IP".
// The tests call from 127.0.0.1.
func TestAccessControl(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		key       string
		admitted  bool
		forbidden string
	}{
		{"no allowlist, no key", Options{}, "", true, ""},
		{"on the allowlist", Options{AllowIPs: []string{"192.0.2.1", "127.0.0.1"}}, "", true, ""},
		{"on the allowlist as mapped IPv6", Options{AllowIPs: []string{"::ffff:127.0.0.1"}}, "", true, ""},
		{"on the allowlist, no key needed", Options{AllowIPs: []string{"127.0.0.1"}, AccessKey: "k"}, "", true, ""},
		{"on the allowlist, a wrong key", Options{AllowIPs: []string{"127.0.0.1"}, AccessKey: "k"}, "nope", true, ""},
		{"not on it, no key configured", Options{AllowIPs: []string{"192.0.2.1"}}, "", false, "Invalid IP 127.0.0.1"},
		{"not on it, without the key", Options{AllowIPs: []string{"192.0.2.1"}, AccessKey: "k"}, "", false, "Invalid IP 127.0.0.1"},
		{"not on it, a wrong key", Options{AllowIPs: []string{"192.0.2.1"}, AccessKey: "k"}, "nope", false, "Invalid IP 127.0.0.1"},
		{"not on it, with the key", Options{AllowIPs: []string{"192.0.2.1"}, AccessKey: "k"}, "k", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts)
			var r reply
			if tc.key == "" {
				r = h.call("GetPaymentMethods")
			} else {
				r = h.call("GetPaymentMethods", "accesskey", tc.key)
			}
			switch {
			case tc.admitted && (r.status != http.StatusOK || r.str("result") != "success"):
				t.Errorf("refused: %d %s", r.status, r.raw)
			case !tc.admitted && (r.status != http.StatusForbidden || r.str("message") != tc.forbidden || len(r.m) != 2):
				t.Errorf("got %d %s, want 403 %q", r.status, r.raw, tc.forbidden)
			}
		})
	}
	if _, err := Open(Options{AllowIPs: []string{"127.0.0.1", "not-an-ip"}}); err == nil {
		t.Error("Open took an allowlist entry that is not an IP address")
	}
}

func TestCommandNotFound(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.fails("Command Not Found", "NoSuchAction")
	if string(r.raw) != `{"result":"error","message":"Command Not Found"}` {
		t.Fatalf("body %s", r.raw)
	}
	h.fails("Command Not Found", "")
}

func TestActionNamesCaseInsensitive(t *testing.T) {
	h := newHarness(t, Options{})
	for _, a := range []string{"getpaymentmethods", "GETPAYMENTMETHODS", "GetPaymentMethods", "getPaymentMethods"} {
		h.ok(a)
	}
}

func TestPathsAndMethods(t *testing.T) {
	h := newHarness(t, Options{})
	resp, err := http.PostForm(h.srv.URL+"/api.php", url.Values{"action": {"GetPaymentMethods"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /api.php: %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get(h.srv.URL + APIPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %d, want 405", APIPath, resp.StatusCode)
	}
}

func TestMultipartForm(t *testing.T) {
	h := newHarness(t, Options{})
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range map[string]string{"action": "GetClientsProducts", "identifier": DefaultIdentifier,
		"secret": DefaultSecret, "responsetype": "json", "serviceid": "2"} {
		w.WriteField(k, v)
	}
	w.Close()
	resp, err := http.Post(h.srv.URL+APIPath, w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m["result"] != "success" || m["serviceid"] != "2" || m["totalresults"] != "1" {
		t.Fatalf("multipart request: %s", raw)
	}
}

func TestJSONWithoutResponseType(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.postRaw(url.Values{"action": {"GetPaymentMethods"}, "identifier": {DefaultIdentifier}, "secret": {DefaultSecret}})
	if r.status != http.StatusOK || r.str("result") != "success" {
		t.Fatalf("no responsetype: %d %s", r.status, r.raw)
	}
}

// TestConcurrentRequests runs reads and writes in parallel (go test -race)
// and checks that every write was counted once and none was lost.
func TestConcurrentRequests(t *testing.T) {
	h := newHarness(t, Options{})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan string, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(3)
		go func(i int) {
			defer wg.Done()
			r := h.call("UpdateClientProduct", "serviceid", "7", "notes", "note")
			if r.str("result") != "success" {
				errs <- string(r.raw)
			}
		}(i)
		go func() {
			defer wg.Done()
			r := h.call("GetClientsProducts", "clientid", "3")
			if r.str("result") != "success" {
				errs <- string(r.raw)
			}
		}()
		go func() {
			defer wg.Done()
			r := h.call("UpgradeProduct", "serviceid", "3", "calconly", "1", "paymentmethod", "paypal",
				"type", "product", "newproductid", "2", "newproductbillingcycle", "monthly")
			if r.str("price") != "$-8.67 USD" {
				errs <- string(r.raw)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := h.sb.Writes(); got != n {
		t.Fatalf("Writes() = %d, want %d", got, n)
	}
}

// TestConcurrentUpgradesOnce sends the same money-due upgrade in parallel:
// exactly one may be accepted, the others must see its unpaid invoice.
func TestConcurrentUpgradesOnce(t *testing.T) {
	h := newHarness(t, Options{})
	const n = 8
	var wg sync.WaitGroup
	results := make(chan reply, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- h.call("UpgradeProduct", "serviceid", "7", "paymentmethod", "paypal", "type", "product",
				"newproductid", "6", "newproductbillingcycle", "monthly")
		}()
	}
	wg.Wait()
	close(results)
	okCount := 0
	for r := range results {
		switch {
		case r.str("result") == "success":
			okCount++
		case r.str("message") != unpaidUpgradeMessage:
			t.Errorf("unexpected reply %s", r.raw)
		}
	}
	if okCount != 1 || h.sb.Writes() != 1 {
		t.Fatalf("%d upgrades accepted, Writes() = %d; want 1 and 1", okCount, h.sb.Writes())
	}
}

func TestDeniedActions(t *testing.T) {
	sb, err := Open(Options{DeniedActions: []string{"UpdateClientProduct"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()
	form := url.Values{"action": {"updateclientproduct"}, "identifier": {DefaultIdentifier}, "secret": {DefaultSecret},
		"serviceid": {"2"}, "notes": {"x"}, "responsetype": {"json"}}
	resp, err := http.PostForm(srv.URL+APIPath, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `Invalid Permissions: API action \"updateclientproduct\" is not allowed`) {
		t.Errorf("denied action: HTTP %d %s", resp.StatusCode, body)
	}
	if sb.Writes() != 0 {
		t.Errorf("a denied action wrote")
	}
	form.Set("action", "GetClientsProducts")
	resp, err = http.PostForm(srv.URL+APIPath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("an allowed action: HTTP %d", resp.StatusCode)
	}
}
