package whmcs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinels that errors.Is matches against the typed errors below.
var (
	// ErrAuthentication: WHMCS rejected the identifier or secret.
	ErrAuthentication = errors.New("whmcs: authentication failed")
	// ErrIPNotAllowed: WHMCS rejected the caller's IP address ("Invalid IP 1.2.3.4").
	ErrIPNotAllowed = errors.New("whmcs: IP address not allowed")
	// ErrPermission: the API role lacks permission for the action.
	ErrPermission = errors.New("whmcs: missing API permission")
	// ErrOutcomeUnknown: a write's request left but no usable reply came
	// back, so WHMCS may or may not have carried it out.
	ErrOutcomeUnknown = errors.New("whmcs: outcome of the write is unknown")
)

// APIError is WHMCS's own error reply, {"result":"error","message":...}.
// Error returns the message unchanged (e.g. "Service ID Not Found").
type APIError struct {
	Action     string
	Message    string
	HTTPStatus int
	// Write is set for the reply to a write action.
	Write bool
}

func (e *APIError) Error() string {
	if e.Message == "" { // an error message must never be blank
		return fmt.Sprintf("WHMCS %s: error reply without a message", e.Action)
	}
	return e.Message
}

// Is matches ErrAuthentication, ErrIPNotAllowed and ErrPermission by
// message, and ErrOutcomeUnknown for a write whose reply WHMCS could not
// encode (see EncodingFailure).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrOutcomeUnknown:
		return e.Write && e.EncodingFailure()
	case ErrAuthentication:
		return e.Message == "Authentication Failed"
	case ErrIPNotAllowed:
		return strings.HasPrefix(e.Message, "Invalid IP")
	case ErrPermission:
		return strings.HasPrefix(e.Message, "Invalid Permissions")
	}
	return false
}

// phpJSONErrors are the messages of PHP's json_last_error_msg() that WHMCS
// sends as an error reply when json_encode fails on its reply.
var phpJSONErrors = []string{
	"Malformed UTF-8 characters",
	"Malformed UTF-16 characters",
	"Single unpaired UTF-16 surrogate",
	"Inf and NaN cannot be JSON encoded",
	"Type is not supported",
	"Recursion detected",
	"Maximum stack depth exceeded",
}

// EncodingFailure reports whether the error is WHMCS failing to encode its
// reply as JSON (e.g. "Malformed UTF-8 characters, possibly incorrectly
// encoded"), rather than refusing the action. WHMCS encodes the reply after
// the action ran, so for a write the change may have been made.
func (e *APIError) EncodingFailure() bool {
	for _, m := range phpJSONErrors {
		if strings.HasPrefix(e.Message, m) {
			return true
		}
	}
	return false
}

// IP returns the address WHMCS saw, for an "Invalid IP 1.2.3.4" error.
func (e *APIError) IP() string {
	if !e.Is(ErrIPNotAllowed) {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(e.Message, "Invalid IP"))
}

// ResponseError is a reply that is not a usable WHMCS JSON reply: an HTML
// page, malformed or truncated JSON, an unexpected shape.
type ResponseError struct {
	Action      string
	Write       bool
	HTTPStatus  int
	ContentType string
	Reason      string
	Snippet     string // the first bytes of the reply
}

func (e *ResponseError) Error() string {
	msg := fmt.Sprintf("WHMCS %s: %s (HTTP %d", e.Action, e.Reason, e.HTTPStatus)
	if e.ContentType != "" {
		msg += ", " + e.ContentType
	}
	msg += ")"
	if e.Snippet != "" {
		msg += fmt.Sprintf("; reply begins %q", e.Snippet)
	}
	if e.Write {
		msg += "; the request reached WHMCS, so the outcome is unknown"
	}
	return msg
}

// Is reports ErrOutcomeUnknown for writes: the request reached WHMCS, which
// may have acted before it failed to answer properly.
func (e *ResponseError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.Write
}

// TransportError is a request that got no reply: WHMCS unreachable, a TLS
// failure, a timeout, a connection reset.
type TransportError struct {
	Action string
	Write  bool
	// Sent is true when the request was written before the failure.
	Sent bool
	Err  error
}

func (e *TransportError) Error() string {
	if e.Write && e.Sent {
		var te *TimeoutError
		if errors.As(e.Err, &te) {
			return fmt.Sprintf("WHMCS %s: the request was sent but no reply came within %s; the outcome is unknown", e.Action, te.Timeout)
		}
		return fmt.Sprintf("WHMCS %s: the request was sent but no reply came (%v); the outcome is unknown", e.Action, e.Err)
	}
	return fmt.Sprintf("WHMCS %s: %v", e.Action, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// TimeoutError is a request that got no reply within the client's timeout
// (Config.Timeout). It matches context.DeadlineExceeded.
type TimeoutError struct {
	Timeout time.Duration
}

func (e *TimeoutError) Error() string { return fmt.Sprintf("no reply within %s", e.Timeout) }

func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Is reports ErrOutcomeUnknown for a write that was sent.
func (e *TransportError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.Write && e.Sent
}

// RequestError is a request that could not be encoded (a bad date, a value
// that cannot be serialized); nothing was sent.
type RequestError struct {
	Action string
	Err    error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("WHMCS %s: bad argument %v", e.Action, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }
