package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Notification defaults.
const (
	// DefaultNotifyTimeout bounds one notification, connection included.
	DefaultNotifyTimeout = 5 * time.Second
	// maxNotifying bounds the notifications on their way at once: more are
	// dropped (and logged) rather than queued, so that a slow endpoint
	// cannot pile up work.
	maxNotifying = 4
)

// notifier posts approval notifications to approvals.notify_url: one JSON
// POST a request, with a bounded timeout, never retried, in the
// background (a failure is logged and never holds up the call).
type notifier struct {
	client *http.Client
	slots  chan struct{} // the notifications on their way
}

func newNotifier() *notifier {
	return &notifier{client: &http.Client{Timeout: DefaultNotifyTimeout}, slots: make(chan struct{}, maxNotifying)}
}

// Notification is the body of a notification: what waits, and where. It
// names no secret: secret arguments are [redacted] in the summary.
type Notification struct {
	Event      string `json:"event"`
	ApprovalID string `json:"approval_id"`
	URL        string `json:"url,omitempty"`
	Tool       string `json:"tool"`
	Principal  string `json:"principal"`
	ClientID   int    `json:"clientid"`
	Record     string `json:"record"`
	Summary    string `json:"summary"`
	Rule       string `json:"rule"`
	ExpiresAt  string `json:"expires_at"`
}

// notify tells notify_url, if set, that request a waits.
func (p *Policy) notify(a *Approval) {
	target := p.file.Approvals.NotifyURL
	if target == "" {
		return
	}
	body, err := json.Marshal(Notification{
		Event: "approval_requested", ApprovalID: a.ID, URL: p.ApprovalURL(a.ID), Tool: a.Tool, Principal: a.Principal,
		ClientID: a.ClientID, Record: a.Label, Summary: a.Preview.Summary, Rule: a.Rule, ExpiresAt: a.Expires.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return
	}
	n := p.notifier
	if !n.acquire() {
		p.log.Warn("approval notification dropped: too many on their way to notify_url", "approval_id", a.ID)
		return
	}
	go func() {
		defer n.release()
		if err := n.post(target, body); err != nil {
			p.log.Warn("approval notification failed (not retried)", "approval_id", a.ID, "err", err)
		}
	}()
}

func (n *notifier) acquire() bool {
	select {
	case n.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (n *notifier) release() { <-n.slots }

// post sends one notification and reads the status.
func (n *notifier) post(target string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultNotifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "whmcs-mcp approvals")
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify_url answered %s", resp.Status)
	}
	return nil
}
