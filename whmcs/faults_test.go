package whmcs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A timeout says how long the client waited, and still matches
// context.DeadlineExceeded.
func TestTimeoutSaysHowLong(t *testing.T) {
	c, _ := stall(t) // Timeout 50ms
	_, err := c.GetProducts(ctx(t), GetProductsRequest{})
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read: err = %T %v, want a *TimeoutError matching context.DeadlineExceeded", err, err)
	}
	if want := "WHMCS GetProducts: no reply within 50ms"; err.Error() != want {
		t.Errorf("read: %q, want %q", err, want)
	}
	_, err = c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
	if want := "WHMCS UpdateClientProduct: the request was sent but no reply came within 50ms; the outcome is unknown"; err == nil || err.Error() != want {
		t.Errorf("write: %v, want %q", err, want)
	}
}

// The caller's own deadline is not the client's timeout: it is not reported
// as one.
func TestCallerDeadlineIsNotTheClientTimeout(t *testing.T) {
	c, _ := stall(t)
	c.timeout = time.Hour
	cctx, cancel := context.WithTimeout(ctx(t), 20*time.Millisecond)
	defer cancel()
	_, err := c.GetProducts(cctx, GetProductsRequest{})
	var te *TimeoutError
	if errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %T %v, want the caller's context.DeadlineExceeded, not a *TimeoutError", err, err)
	}
}

// A reply that is not WHMCS JSON, to a write, says that the outcome is unknown.
func TestResponseErrorOfAWriteSaysOutcomeUnknown(t *testing.T) {
	c := reply(t, 503, "text/html", "<html><body>Service Unavailable</body></html>")
	_, err := c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
	if !errors.Is(err, ErrOutcomeUnknown) || !strings.HasSuffix(err.Error(), "; the request reached WHMCS, so the outcome is unknown") {
		t.Errorf("write: %v", err)
	}
	_, err = c.GetProducts(ctx(t), GetProductsRequest{})
	if err == nil || errors.Is(err, ErrOutcomeUnknown) || strings.Contains(err.Error(), "outcome") {
		t.Errorf("read: %v", err)
	}
}

// WHMCS encodes its reply after the action ran: when json_encode fails
// ("Malformed UTF-8 characters, possibly incorrectly encoded"), a write may
// have been made, so its outcome is unknown. The message stays WHMCS's own.
func TestEncodingFailureOfAWriteIsOutcomeUnknown(t *testing.T) {
	const msg = "Malformed UTF-8 characters, possibly incorrectly encoded"
	c := reply(t, 200, "application/json", `{"result":"error","message":"`+msg+`"}`)
	_, err := c.UpgradeProduct(ctx(t), UpgradeProductRequest{ServiceID: 1})
	var ae *APIError
	if !errors.As(err, &ae) || err.Error() != msg || !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("write: err = %T %v (outcome unknown: %v)", err, err, errors.Is(err, ErrOutcomeUnknown))
	}
	_, err = c.GetProducts(ctx(t), GetProductsRequest{})
	if err == nil || err.Error() != msg || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("read: err = %v (outcome unknown: %v)", err, errors.Is(err, ErrOutcomeUnknown))
	}
	// WHMCS refusing the action is a known outcome: nothing was done.
	c = reply(t, 200, "application/json", `{"result":"error","message":"Service ID Not Found"}`)
	_, err = c.UpdateClientProduct(ctx(t), UpdateClientProductRequest{ServiceID: 1})
	if err == nil || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("refused write: err = %v matches ErrOutcomeUnknown", err)
	}
}
