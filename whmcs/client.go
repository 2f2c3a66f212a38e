// Package whmcs is a typed client for the WHMCS API (POST /includes/api.php).
//
// Methods take a context first and a request struct whose fields carry
// WHMCS's own parameter names as json tags, so the WHMCS documentation
// applies unchanged. Replies are decoded leniently: WHMCS sends numbers as
// strings or numbers, booleans as "", "0", "1" or true, and lists as an array,
// "", {} or a single object; the types in types.go accept all of these.
//
// Failures are typed: *APIError for WHMCS's {"result":"error"} replies (with
// ErrAuthentication, ErrIPNotAllowed and ErrPermission told apart),
// *ResponseError for a reply that is not WHMCS JSON (an HTML maintenance page
// sent with HTTP 200, truncated JSON), and *TransportError when no reply came.
// Writes are never retried; a write whose request left without a reply coming
// back matches ErrOutcomeUnknown.
package whmcs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one WHMCS request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxReplyBytes caps how much of a reply is read; WHMCS replies for a page of
// 250 services are far below it.
const maxReplyBytes = 32 << 20

// Config says where WHMCS is and how to authenticate.
type Config struct {
	// URL is the install's base URL (https://billing.example.com/whmcs) or
	// the full URL of includes/api.php.
	URL string
	// Identifier and Secret are the API credentials (Setup > Staff
	// Management > Manage API Credentials).
	Identifier string
	Secret     string
	// AccessKey is the optional $api_access_key of configuration.php, which
	// lets requests through from IP addresses not on the allow list.
	AccessKey string
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// ReadRetries is how many times a read is retried when the connection
	// fails before a request is written; negative disables. Zero means 2.
	ReadRetries int
	// HTTPClient replaces the default keep-alive client (its Timeout is
	// left as it is; Config.Timeout still applies per request).
	HTTPClient *http.Client
	// UserAgent is sent with each request.
	UserAgent string
}

// Client calls the WHMCS API. It is safe for concurrent use.
type Client struct {
	endpoint    string
	identifier  string
	secret      string
	accessKey   string
	timeout     time.Duration
	readRetries int
	userAgent   string
	http        *http.Client
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	endpoint, err := Endpoint(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Identifier == "" || cfg.Secret == "" {
		return nil, errors.New("whmcs: API identifier and secret are required")
	}
	c := &Client{
		endpoint:    endpoint,
		identifier:  cfg.Identifier,
		secret:      cfg.Secret,
		accessKey:   cfg.AccessKey,
		timeout:     cfg.Timeout,
		readRetries: cfg.ReadRetries,
		userAgent:   cfg.UserAgent,
		http:        cfg.HTTPClient,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.readRetries == 0 {
		c.readRetries = 2
	}
	if c.userAgent == "" {
		c.userAgent = "whmcs-mcp"
	}
	if c.http == nil {
		c.http = &http.Client{Transport: newTransport()}
	}
	return c, nil
}

// newTransport is a keep-alive transport with bounded connection set-up.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 0, // bounded by the per-request context instead
	}
}

// Endpoint turns a WHMCS base URL into the URL of its includes/api.php; a URL
// that already ends in /includes/api.php is taken as it is.
func Endpoint(base string) (string, error) {
	base = strings.TrimSpace(base)
	if base == "" {
		return "", errors.New("whmcs: URL is required")
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("whmcs: bad URL %q: %v", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("whmcs: URL %q must start with https:// (or http://) and name a host", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("whmcs: URL %q must not carry a query or fragment", base)
	}
	if !strings.HasSuffix(u.Path, "/includes/api.php") {
		u.Path = strings.TrimRight(u.Path, "/") + "/includes/api.php"
	}
	return u.String(), nil
}

// URL returns the includes/api.php URL the client posts to.
func (c *Client) URL() string { return c.endpoint }

// kind tells reads from writes: only reads may be retried.
type kind bool

const (
	read  kind = false
	write kind = true
)

// call posts action with params and decodes a successful reply into out.
func (c *Client) call(ctx context.Context, action string, params url.Values, k kind, out any) error {
	form := url.Values{}
	for key, vs := range params {
		form[key] = vs
	}
	form.Set("action", action)
	form.Set("identifier", c.identifier)
	form.Set("secret", c.secret)
	if c.accessKey != "" {
		form.Set("accesskey", c.accessKey)
	}
	form.Set("responsetype", "json")
	body := form.Encode()

	attempts := 1
	if k == read && c.readRetries > 0 {
		attempts += c.readRetries
	}
	var err error
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return &TransportError{Action: action, Err: ctx.Err()}
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
		var status int
		var reply *bytes.Buffer
		var header http.Header
		status, header, reply, err = c.post(ctx, action, body, k)
		if err != nil {
			var te *TransportError
			if errors.As(err, &te) && !te.Sent && ctx.Err() == nil {
				continue // nothing reached WHMCS: a read may try again
			}
			return err
		}
		err = decodeReply(action, k, status, header.Get("Content-Type"), reply.Bytes(), out)
		putReplyBuffer(reply) // decodeReply keeps nothing of it
		return err
	}
	return err
}

// replyBuffers hold replies while they are decoded: decodeReply copies what
// it keeps, so a reply's bytes are garbage once decoded.
var replyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putReplyBuffer returns a buffer from post to the pool, unless it grew too
// large to be worth keeping.
func putReplyBuffer(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 {
		b.Reset()
		replyBuffers.Put(b)
	}
}

// post sends one request and reads the reply into a buffer of replyBuffers,
// which the caller returns with putReplyBuffer. A *TransportError says
// whether the request was written before the failure.
func (c *Client) post(parent context.Context, action, body string, k kind) (int, http.Header, *bytes.Buffer, error) {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	// WroteRequest fires once the request has been handed to the
	// connection's buffer (and also when that failed), which is before it is
	// flushed to the network: a request counts as sent once it fired, unless
	// the transport reports that not a byte reached the connection. Atomic:
	// the hook runs on the transport's goroutine.
	var tried atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { tried.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, c.endpoint, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, &TransportError{Action: action, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		sent := tried.Load() && !nothingWritten(err)
		return 0, nil, nil, &TransportError{Action: action, Write: bool(k), Sent: sent, Err: c.transportCause(parent, ctx, err)}
	}
	defer resp.Body.Close()
	reply := replyBuffers.Get().(*bytes.Buffer)
	if n := resp.ContentLength; n > 0 && n <= maxReplyBytes {
		reply.Grow(int(n) + bytes.MinRead) // read whole without growing
	}
	if _, err := reply.ReadFrom(io.LimitReader(resp.Body, maxReplyBytes+1)); err != nil {
		putReplyBuffer(reply)
		return 0, nil, nil, &TransportError{Action: action, Write: bool(k), Sent: true, Err: c.transportCause(parent, ctx, err)}
	}
	if reply.Len() > maxReplyBytes {
		putReplyBuffer(reply)
		return 0, nil, nil, &ResponseError{Action: action, Write: bool(k), HTTPStatus: resp.StatusCode,
			Reason: fmt.Sprintf("reply is larger than %d bytes", maxReplyBytes)}
	}
	return resp.StatusCode, resp.Header, reply, nil
}

// nothingWritten reports whether net/http's transport marked err as a failure
// before any byte of the request was written to the connection. It marks that
// with its unexported nothingWrittenError; there is no exported way to ask, so
// when the type is not found the request is taken as possibly sent.
func nothingWritten(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if t := reflect.TypeOf(err); t.PkgPath() == "net/http" && t.Name() == "nothingWrittenError" {
			return true
		}
	}
	return false
}

// transportCause is the cause of a failed request: a *TimeoutError when the
// client's own timeout ended it (the caller's context still being live), the
// transport's error otherwise.
func (c *Client) transportCause(parent, ctx context.Context, err error) error {
	if parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &TimeoutError{Timeout: c.timeout}
	}
	return unwrapURLError(err)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// envelope is the part every WHMCS reply shares.
type envelope struct {
	Result  String `json:"result"`
	Message String `json:"message"`
}

// decodeReply turns a WHMCS reply into out or a typed error.
func decodeReply(action string, k kind, status int, contentType string, reply []byte, out any) error {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(reply, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 || trimmed[0] != '{' {
		reason := "reply is not JSON"
		if len(trimmed) == 0 {
			reason = "reply is empty"
		} else if looksLikeHTML(trimmed) {
			reason = "reply is an HTML page, not JSON (maintenance mode, a login page or a proxy error?)"
		}
		return &ResponseError{Action: action, Write: bool(k), HTTPStatus: status, ContentType: contentType,
			Reason: reason, Snippet: snippet(trimmed)}
	}
	// One pass decodes the envelope and out together (fastdecode.go); a
	// reply it does not take is validated once, and both decodes below then
	// take the fast path of scan.go, which relies on that.
	var env envelope
	fast := false
	if onePassTakes(out) {
		if fast = decodeOnePass(trimmed, &env, out) == nil; !fast {
			env = envelope{}
			if out != nil {
				reflect.ValueOf(out).Elem().SetZero()
			}
		}
	}
	if !fast {
		if !json.Valid(trimmed) {
			err := json.Unmarshal(trimmed, &env)
			return &ResponseError{Action: action, Write: bool(k), HTTPStatus: status, ContentType: contentType,
				Reason: "reply is malformed JSON: " + err.Error(), Snippet: snippet(trimmed)}
		}
		if err := decodeValid(trimmed, &env); err != nil {
			return &ResponseError{Action: action, Write: bool(k), HTTPStatus: status, ContentType: contentType,
				Reason: "reply is malformed JSON: " + err.Error(), Snippet: snippet(trimmed)}
		}
	}
	if err := checkEnvelope(action, k, status, contentType, trimmed, &env); err != nil {
		if fast && out != nil {
			reflect.ValueOf(out).Elem().SetZero() // as if it had not been decoded
		}
		return err
	}
	if out == nil || fast {
		return nil
	}
	if err := decodeValid(trimmed, out); err != nil {
		return &ResponseError{Action: action, Write: bool(k), HTTPStatus: status, ContentType: contentType,
			Reason: "reply does not have the expected shape: " + err.Error(), Snippet: snippet(trimmed)}
	}
	return nil
}

// checkEnvelope turns a reply whose envelope is not a success into its error.
func checkEnvelope(action string, k kind, status int, contentType string, trimmed []byte, env *envelope) error {
	switch strings.ToLower(string(env.Result)) {
	case "success":
	case "error":
		return &APIError{Action: action, Message: string(env.Message), HTTPStatus: status, Write: bool(k)}
	default:
		return &ResponseError{Action: action, Write: bool(k), HTTPStatus: status, ContentType: contentType,
			Reason: fmt.Sprintf("reply has result %q, want success or error", env.Result), Snippet: snippet(trimmed)}
	}
	if status < 200 || status > 299 {
		return &ResponseError{Action: action, Write: bool(k), HTTPStatus: status, ContentType: contentType,
			Reason: "reply says success with a failing HTTP status", Snippet: snippet(trimmed)}
	}
	return nil
}

func looksLikeHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 512)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.Contains(head, "<html")
}

// snippet quotes the first bytes of a reply for an error message.
func snippet(b []byte) string {
	const n = 120
	s := string(b)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
