package approvalweb_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// card returns the list's entry of request id.
func card(t *testing.T, list, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<a href="/approvals/` + id + `">(.*?)</a>`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("the list has no entry for %s:\n%s", id, list)
	}
	return m[1]
}

// TestDecidedRequestsSayWhatHappened: once decided, a request's page and
// its entry in the list say who decided what. A rejected or used request
// did not expire, whatever its expiry time; a used one was approved by the
// approver (the agent used it); an approval left unused expired.
func TestDecidedRequestsSayWhatHappened(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.mustSignIn(bobToken)

	rejected := s.request("bot", terminate)
	if status, _ := b.decide(rejected, "reject", "Not before the invoice is paid."); status != http.StatusOK {
		t.Fatal(status)
	}
	used := s.request("bot", map[string]any{"serviceid": 2, "status": "Terminated", "notes": "closing"})
	if status, _ := b.decide(used, "approve", ""); status != http.StatusOK {
		t.Fatal(status)
	}
	if out := s.ask("bot", map[string]any{"serviceid": 2, "status": "Terminated", "notes": "closing", "approval_id": used}); out["status"] != "done" {
		t.Fatalf("the agent's retry: %v", out)
	}
	if _, err := s.sb.DB().Exec(`UPDATE tblhosting SET domainstatus = 'Active' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	unused := s.request("bot", map[string]any{"serviceid": 1, "status": "Terminated"})
	if status, _ := b.decide(unused, "approve", ""); status != http.StatusOK {
		t.Fatal(status)
	}
	s.now.Add(int64(11 * time.Minute)) // the approval's time is up

	for _, tc := range []struct {
		id, status, expiry string
		not                []string
	}{
		{rejected, "rejected", "", []string{"Expired at", "Expires", "Usable until"}},
		{used, "used", "", []string{"Expired at", "Expires", "Usable until"}},
		{unused, "expired", "Expired at", nil},
	} {
		_, page, _ := b.get("/approvals/" + tc.id)
		if !strings.Contains(page, `id="status">`+tc.status+`<`) {
			t.Errorf("%s request: the page does not say %s", tc.status, tc.status)
		}
		if tc.expiry != "" && !strings.Contains(page, "<dt>"+tc.expiry+"</dt>") {
			t.Errorf("%s request: the page does not say %q", tc.status, tc.expiry)
		}
		for _, not := range tc.not {
			if strings.Contains(page, "<dt>"+not+"</dt>") {
				t.Errorf("%s request: the page says %q", tc.status, not)
			}
		}
		if !strings.Contains(page, `id="approver-decision">bob, `) {
			t.Errorf("%s request: the page does not say bob decided", tc.status)
		}
	}

	// Deciding again says what happened, in the same words.
	alice := s.browser()
	alice.mustSignIn(aliceToken)
	for id, want := range map[string]string{rejected: "already rejected by bob", used: "already approved by bob and carried out"} {
		if status, body := alice.decide(id, "approve", ""); status != http.StatusConflict || !strings.Contains(body, want) {
			t.Errorf("deciding a decided request again: %d, want a refusal saying %q:\n%s", status, want, body)
		}
	}

	_, list, _ := b.get("/approvals")
	for id, want := range map[string]string{rejected: "rejected by bob", used: "approved by bob", unused: "approved by bob"} {
		entry := card(t, list, id)
		if !strings.Contains(entry, want) {
			t.Errorf("the list's entry says %q, want %q", entry, want)
		}
		if strings.Contains(entry, "used by") || strings.Contains(entry, "expired by") {
			t.Errorf("the list's entry says the approver used or expired it: %q", entry)
		}
	}
}
