package sandbox

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// APIPath is the path the sandbox serves, as WHMCS does under its base URL.
const APIPath = "/includes/api.php"

// maxRequestBytes bounds a request body. WHMCS requests are small forms.
const maxRequestBytes = 1 << 20

// apiError is an error WHMCS reports as {"result":"error","message":...}
// with HTTP 200. Its text is WHMCS's message, unchanged.
type apiError string

func (e apiError) Error() string { return string(e) }

// call is one API request being handled: its parameters, its transaction and
// the time it happens at.
type call struct {
	ctx    context.Context
	tx     *sql.Tx
	s      *Sandbox
	p      params
	now    time.Time // the sandbox clock when the request arrived
	today  time.Time // civil(now)
	wrote  bool      // set by handlers that changed data; decides commit and Writes
	remote string
	base   string // the sandbox's own URL as the request reached it, "http://127.0.0.1:8081"
}

// handlerFunc handles one action and returns its successful reply or an
// error (apiError for WHMCS errors, anything else is internal).
type handlerFunc func(*call) (object, error)

// actions maps lower-cased action names to handlers. WHMCS matches action
// names case-insensitively.
var actions = map[string]handlerFunc{
	"getclientsproducts":  getClientsProducts,
	"getproducts":         getProducts,
	"getclientsaddons":    getClientsAddons,
	"getpaymentmethods":   getPaymentMethods,
	"updateclientproduct": updateClientProduct,
	"updateclientaddon":   updateClientAddon,
	"upgradeproduct":      upgradeProduct,
	"addinvoicepayment":   addInvoicePayment,
}

// ServeHTTP serves POST /includes/api.php and answers 404 elsewhere.
//
// Replies are always JSON (Content-Type application/json). WHMCS answers XML
// when responsetype is not json; the sandbox answers JSON anyway, because
// every client of this project sends responsetype=json and XML would only add
// a second, untested encoding of the same data.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != APIPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		// WHMCS reads POST fields; other methods are refused here rather than
		// half-served.
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorReply("Method Not Allowed: use POST"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	form, err := parseForm(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply("Invalid request body: "+err.Error()))
		return
	}
	p := params{form}
	remote := remoteIP(r)

	// WHMCS checks the caller's address, or the access key that stands in
	// for an allowed address, before the credentials.
	if !s.admits(remote, p.get("accesskey")) {
		s.log.Warn("sandbox: request refused: address not allowed and no valid access key", "remote", remote)
		writeJSON(w, http.StatusForbidden, errorReply("Invalid IP "+remote))
		return
	}
	id, secret := p.get("identifier"), p.get("secret")
	if id == "" && secret == "" {
		// WHMCS also takes the credentials as username/password.
		id, secret = p.get("username"), p.get("password")
	}
	idOK := secureEqual(id, s.identifier)
	secretOK := secureEqual(secret, s.secret)
	if !idOK || !secretOK {
		s.log.Warn("sandbox: request refused: authentication failed", "remote", remote)
		writeJSON(w, http.StatusForbidden, errorReply("Authentication Failed"))
		return
	}

	action := strings.ToLower(strings.TrimSpace(p.get("action")))
	h, ok := actions[action]
	if !ok {
		s.log.Info("sandbox: unknown action", "action", p.get("action"))
		writeJSON(w, http.StatusOK, errorReply("Command Not Found"))
		return
	}
	if s.denied[action] {
		// WHMCS checks the API role's permissions before the action runs.
		// Its HTTP status for this error is not documented; 403 is chosen,
		// like the other access errors.
		s.log.Warn("sandbox: request refused: action not allowed by the API role", "action", action)
		writeJSON(w, http.StatusForbidden, errorReply(`Invalid Permissions: API action "`+action+`" is not allowed`))
		return
	}
	reply, err := s.run(r.Context(), h, p, remote, baseURL(r))
	var apiErr apiError
	switch {
	case errors.As(err, &apiErr):
		s.log.Info("sandbox: action failed", "action", action, "message", string(apiErr))
		writeJSON(w, http.StatusOK, errorReply(string(apiErr)))
	case err != nil:
		s.log.Error("sandbox: internal error", "action", action, "error", err)
		writeJSON(w, http.StatusInternalServerError, errorReply("Internal Error: "+err.Error()))
	default:
		s.log.Info("sandbox: action done", "action", action)
		writeJSON(w, http.StatusOK, reply)
	}
}

// run executes h in one transaction. A handler that reports a write has its
// transaction committed and is counted by Writes; everything else (reads,
// errors) is rolled back, so bad input changes nothing.
func (s *Sandbox) run(ctx context.Context, h handlerFunc, p params, remote, base string) (object, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()
	c := &call{ctx: ctx, tx: tx, s: s, p: p, now: now, today: civil(now), remote: remote, base: base}
	reply, err := h(c)
	if err != nil {
		return nil, err
	}
	if c.wrote {
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		s.writes.Add(1)
	}
	return reply, nil
}

// parseForm reads the request's fields from an urlencoded or multipart body
// (and, as PHP's $_REQUEST does, from the query string; body fields first).
func parseForm(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		if err := r.ParseMultipartForm(maxRequestBytes); err != nil {
			return nil, err
		}
	} else if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}

// remoteIP is the IP address part of the request's remote address.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// baseURL is the URL the request reached the sandbox at, without a path:
// WHMCS's System URL, from which it builds product URLs.
func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// admits reports whether WHMCS's API access control lets a request from ip
// carrying accesskey key in: an address on the allowlist needs no key (and
// a wrong one does not matter), any other address needs the access key. With
// neither an allowlist nor an access key every address is let in.
func (s *Sandbox) admits(ip, key string) bool {
	if len(s.allowIPs) == 0 && s.accessKey == "" {
		return true
	}
	if addr, err := netip.ParseAddr(ip); err == nil && s.allowIPs[addr.Unmap().WithZone("")] {
		return true
	}
	return s.accessKey != "" && secureEqual(key, s.accessKey)
}

// secureEqual compares secrets in constant time.
func secureEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// errorReply is WHMCS's error shape.
func errorReply(msg string) object {
	return object{{"result", "error"}, {"message", msg}}
}

// successReply starts a success reply.
func successReply() object {
	return object{{"result", "success"}}
}

func writeJSON(w http.ResponseWriter, status int, v object) {
	body, err := v.MarshalJSON()
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"result":"error","message":"Internal Error: cannot encode reply"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

var _ http.Handler = (*Sandbox)(nil)
