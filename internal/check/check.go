// Package check tests a WHMCS connection the way the server will use it:
// it connects, authenticates and tries the WHMCS action behind each tool
// without changing anything, and explains each failure in plain words.
//
// Writes are probed with ids that cannot exist (serviceid 0, addon id 0):
// WHMCS checks the API role's permissions before it looks the record up, so
// "Service ID Not Found" proves the permission without touching a record.
// Upgrades are probed with a calconly quote.
package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/whmcs-mcp/whmcs-mcp/tools"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
)

// Result is the outcome of one probe.
type Result struct {
	Name   string
	OK     bool
	Detail string
}

// Report is the outcome of a check.
type Report struct {
	URL     string
	Results []Result
}

// OK reports whether every probe passed.
func (r *Report) OK() bool {
	for _, res := range r.Results {
		if !res.OK {
			return false
		}
	}
	return len(r.Results) > 0
}

// Write prints the report, one line per probe.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "WHMCS API at %s\n", r.URL)
	for _, res := range r.Results {
		mark := "OK  "
		if !res.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-20s %s\n", mark, res.Name, res.Detail)
	}
}

// Run checks the connection of c: it connects, then runs every tool's
// probe (tools.Spec.Probe), in the order of tools.All.
func Run(ctx context.Context, c *whmcs.Client) *Report {
	r := &Report{URL: c.URL()}
	if _, err := c.GetPaymentMethods(ctx); err != nil && !errors.Is(err, whmcs.ErrPermission) {
		r.add("connection", err, "")
		return r
	}
	r.Results = append(r.Results, Result{Name: "connection", OK: true, Detail: "WHMCS answers and accepts the credentials"})
	for _, t := range tools.All(nil) {
		r.add(t.Action, t.Probe.Run(ctx, c), t.Probe.NotFound)
	}
	return r
}

// add records a probe: OK when err is nil, or when it is the WHMCS error a
// permitted probe of a record that does not exist gets (expected), or any
// other WHMCS error of an action that ran (WHMCS only gets that far with
// the permission).
func (r *Report) add(name string, err error, expected string) {
	res := Result{Name: name, OK: true, Detail: "allowed"}
	var apiErr *whmcs.APIError
	switch {
	case err == nil:
	case errors.As(err, &apiErr) && !isAccessError(err) && name != "connection":
		res.Detail = "allowed (WHMCS answered: " + apiErr.Message + ")"
		if expected != "" && apiErr.Message == expected {
			res.Detail = "allowed (probed without changing anything)"
		}
	default:
		res.OK, res.Detail = false, Explain(name, err)
	}
	r.Results = append(r.Results, res)
}

func isAccessError(err error) bool {
	return errors.Is(err, whmcs.ErrPermission) || errors.Is(err, whmcs.ErrAuthentication) || errors.Is(err, whmcs.ErrIPNotAllowed)
}

// Explain says in plain words why a WHMCS request failed and what to do.
func Explain(action string, err error) string {
	var apiErr *whmcs.APIError
	var respErr *whmcs.ResponseError
	var dnsErr *net.DNSError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var recordHeader tls.RecordHeaderError
	var urlErr *url.Error
	switch {
	case errors.Is(err, whmcs.ErrPermission):
		return fmt.Sprintf("missing API permission: allow %s in the API role of these credentials (Setup > Staff Management > API Roles)", action)
	case errors.Is(err, whmcs.ErrIPNotAllowed):
		ip := ""
		if errors.As(err, &apiErr) {
			ip = apiErr.IP()
		}
		return fmt.Sprintf("WHMCS refused this server's IP address %s: add it under Setup > General Settings > Security > API IP Access Restriction, or set WHMCS_ACCESS_KEY to the $api_access_key of WHMCS's configuration.php", ip)
	case errors.Is(err, whmcs.ErrAuthentication):
		return "WHMCS rejected the API credentials: check WHMCS_IDENTIFIER and WHMCS_SECRET (Setup > Staff Management > Manage API Credentials)"
	case errors.As(err, &apiErr):
		return "WHMCS answered with an error: " + apiErr.Message
	case errors.As(err, &respErr) && respErr.HTTPStatus == 404:
		return "no WHMCS API at this URL (HTTP 404): WHMCS_URL should be the install's base URL, e.g. https://billing.example.com/whmcs"
	case errors.As(err, &respErr):
		return "the URL does not answer like the WHMCS API: " + respErr.Error()
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the host name %s does not resolve: check WHMCS_URL", dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing answers at this address (connection refused): check WHMCS_URL's host and port"
	case errors.As(err, &unknownAuthority), errors.As(err, &certInvalid):
		return "TLS: the server's certificate is not trusted by this machine (" + rootCause(err) + ")"
	case errors.As(err, &hostname):
		return "TLS: the server's certificate is not for this host name (" + rootCause(err) + ")"
	case errors.As(err, &recordHeader), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLS: the server does not speak HTTPS at this address: use http:// or the HTTPS port"
	case errors.Is(err, context.DeadlineExceeded):
		return "no reply within WHMCS_TIMEOUT: WHMCS is slow or unreachable (a firewall dropping packets?)"
	case errors.As(err, &urlErr):
		return rootCause(err)
	}
	return err.Error()
}

func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
