package faultwhmcs

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// ok is a WHMCS that answers every request with success.
var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"result":"success"}`)
})

func post(t *testing.T, url string, form url.Values) (int, string, error) {
	t.Helper()
	resp, err := http.PostForm(url, form)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func TestRulesHitWhatTheySay(t *testing.T) {
	h := New(ok)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	form := func(action string, kv ...string) url.Values {
		f := url.Values{"action": {action}, "identifier": {"id"}, "secret": {"s3cret"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}

	// Only UpgradeProduct without calconly, only once.
	h.Set(Rule{Fault: InvalidIP, Actions: []string{"upgradeproduct"}, Match: IsWrite, Times: 1})
	if code, body, _ := post(t, srv.URL, form("UpgradeProduct", "calconly", "1")); code != 200 || body != `{"result":"success"}` {
		t.Errorf("a quote was hit: %d %s", code, body)
	}
	if code, body, _ := post(t, srv.URL, form("GetProducts")); code != 200 {
		t.Errorf("another action was hit: %d %s", code, body)
	}
	if code, body, _ := post(t, srv.URL, form("UpgradeProduct")); code != 403 || !strings.Contains(body, InvalidIPMessage) {
		t.Errorf("the upgrade was not hit: %d %s", code, body)
	}
	if code, _, _ := post(t, srv.URL, form("UpgradeProduct")); code != 200 {
		t.Errorf("Times: 1 hit a second request: %d", code)
	}

	// A held request gets no reply; Clear lets it go, with its connection closed.
	h.Set(Rule{Fault: Timeout})
	arrived := make(chan struct{})
	h.OnRequest(func(Request) { close(arrived) })
	done := make(chan error, 1)
	go func() { _, _, err := post(t, srv.URL, form("GetPaymentMethods")); done <- err }()
	<-arrived
	h.OnRequest(nil)
	h.Clear()
	if err := <-done; err == nil {
		t.Error("a held request got a reply")
	}
	h.Wait()

	reqs := h.Requests()
	if len(reqs) != 5 || h.Count("upgradeproduct") != 3 {
		t.Fatalf("%d requests recorded, %d upgrades", len(reqs), h.Count("upgradeproduct"))
	}
	for _, r := range reqs {
		if r.Form.Has("identifier") || r.Form.Has("secret") {
			t.Errorf("credentials recorded: %v", r.Form)
		}
	}
	if reqs[2].Fault != InvalidIP || reqs[2].Passed || reqs[3].Fault != None || !reqs[3].Passed || reqs[3].Status != 200 {
		t.Errorf("requests: %+v", reqs)
	}
}

func TestIsWrite(t *testing.T) {
	for action, want := range map[string]bool{
		"UpdateClientProduct": true, "updateclientaddon": true, "AddInvoicePayment": true, "UpgradeProduct": true,
		"UpgradeProduct calconly=1": false, "UpgradeProduct calconly=true": false, "UpgradeProduct calconly=0": true,
		"GetClientsProducts": false, "": false,
	} {
		name, calc, _ := strings.Cut(action, " calconly=")
		r := Request{Action: name, Form: url.Values{}}
		if calc != "" {
			r.Form.Set("calconly", calc)
		}
		if IsWrite(r) != want {
			t.Errorf("IsWrite(%s) = %v", action, !want)
		}
	}
}
