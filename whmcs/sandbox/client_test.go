package sandbox_test

// These tests hold the sandbox to WHMCS's documented behaviour (issue 12)
// through the project's WHMCS client, on 127.0.0.1, the way every other
// test of the project meets the sandbox.

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/internal/sandboxtest"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// today is the sandbox clock of these tests: service 3 (client 2, Pro,
// Monthly 29.95) is then due 13 days later.
var today = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// serve starts a sandbox with the fixed clock and returns it with a client.
func serve(t *testing.T, opts sandbox.Options) (*sandbox.Sandbox, *whmcs.Client) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = sandbox.FixedClock(today)
	}
	sb, url := sandboxtest.Serve(t, opts)
	return sb, sandboxtest.Client(t, url)
}

// service reads one service through the client.
func service(t *testing.T, c *whmcs.Client, id int) whmcs.ClientProduct {
	t.Helper()
	resp, err := c.GetClientsProducts(t.Context(), whmcs.GetClientsProductsRequest{ServiceID: ptr(id)})
	if err != nil || len(resp.Products) != 1 {
		t.Fatalf("GetClientsProducts(serviceid %d): %+v, %v", id, resp, err)
	}
	return resp.Products[0]
}

// wantAPIError checks that err is WHMCS's error reply msg.
func wantAPIError(t *testing.T, err error, msg string) {
	t.Helper()
	var ae *whmcs.APIError
	if !errors.As(err, &ae) || ae.Message != msg {
		t.Fatalf("err = %v, want WHMCS's error %q", err, msg)
	}
}

// TestClientUpdateClientProductStoresWhatWHMCSDoesNotRefuse: values WHMCS
// documents no error for are stored, not refused. (The client itself refuses
// a date that is not one; the sandbox's handling of those is tested in
// package sandbox.)
func TestClientUpdateClientProductStoresWhatWHMCSDoesNotRefuse(t *testing.T) {
	sb, c := serve(t, sandbox.Options{})
	_, err := c.UpdateClientProduct(t.Context(), whmcs.UpdateClientProductRequest{ServiceID: 7,
		Status: ptr("Paused"), BillingCycle: ptr("Weekly"), PaymentMethod: ptr("bitcoin"),
		RecurringAmount: ptr(-5.0), ServerID: ptr(99), PromoID: ptr(99), PID: ptr(99),
		OverideAutoSuspend: ptr("maybe"), Unset: []string{"status"},
		CustomFields:  whmcs.PHPArray{"1": "not a field of this product"},
		ConfigOptions: whmcs.PHPArray{"1": 1, "3": 99}})
	if err != nil {
		t.Fatalf("UpdateClientProduct: %v", err)
	}
	s := service(t, c, 7)
	if s.Status != "Paused" || s.BillingCycle != "Weekly" || s.PaymentMethod != "bitcoin" ||
		s.RecurringAmount != -5 || s.ServerID != 99 || s.PromoID != 99 || s.PID != 5 || bool(s.OverideAutoSuspend) {
		t.Errorf("service 7 = %+v", s)
	}
	for _, o := range s.ConfigOptions {
		if o.ID == 3 && o.Value != "99" {
			t.Errorf("quantity option 3 = %q, want 99 as given", o.Value)
		}
	}
	_, err = c.UpdateClientProduct(t.Context(), whmcs.UpdateClientProductRequest{ServiceID: 999, Status: ptr("Active")})
	wantAPIError(t, err, "Service ID Not Found")
	if n := sb.Writes(); n != 1 {
		t.Errorf("Writes() = %d, want 1", n)
	}
}

// TestClientUpdateClientAddonStoresWhatWHMCSDoesNotRefuse: likewise for addons.
func TestClientUpdateClientAddonStoresWhatWHMCSDoesNotRefuse(t *testing.T) {
	_, c := serve(t, sandbox.Options{})
	if _, err := c.UpdateClientAddon(t.Context(), whmcs.UpdateClientAddonRequest{ID: 3, Status: ptr("Sleeping"),
		AddonID: ptr(77)}); err != nil {
		t.Fatalf("UpdateClientAddon: %v", err)
	}
	resp, err := c.GetClientsAddons(t.Context(), whmcs.GetClientsAddonsRequest{ServiceID: ptr(3)})
	if err != nil || len(resp.Addons) != 1 || resp.Addons[0].Status != "Sleeping" || resp.Addons[0].AddonID != 77 {
		t.Fatalf("addon 3: %+v, %v", resp, err)
	}
}

// TestClientUpgradeProductInventsNoErrors: requests WHMCS documents no error
// for are quoted.
func TestClientUpgradeProductInventsNoErrors(t *testing.T) {
	sb, c := serve(t, sandbox.Options{})
	for name, req := range map[string]whmcs.UpgradeProductRequest{
		"unknown product":     {NewProductID: ptr(99)},
		"no upgrade path":     {NewProductID: ptr(8)},
		"cycle not sold":      {NewProductID: ptr(1), NewProductBillingCycle: ptr("triennially")},
		"unknown promotion":   {NewProductID: ptr(2), PromoCode: ptr("NOPE")},
		"option not of plan":  {Type: "configoptions", ConfigOptions: whmcs.FormArray{"2": 4}},
		"no options to quote": {Type: "configoptions"},
	} {
		req.ServiceID, req.CalcOnly, req.PaymentMethod = 3, true, "paypal"
		if req.Type == "" {
			req.Type = "product"
		}
		if _, err := c.UpgradeProduct(t.Context(), req); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := c.UpgradeProduct(t.Context(), whmcs.UpgradeProductRequest{ServiceID: 3, CalcOnly: true,
		PaymentMethod: "paypal", Type: "addon"})
	wantAPIError(t, err, "Invalid Upgrade Type")
	if n := sb.Writes(); n != 0 {
		t.Errorf("quotes wrote: Writes() = %d", n)
	}
}

// TestClientAddInvoicePayment: WHMCS's documented refusal of a Cancelled
// invoice; a Paid one takes the payment.
func TestClientAddInvoicePayment(t *testing.T) {
	sb, c := serve(t, sandbox.Options{})
	if _, err := sb.DB().Exec("UPDATE tblinvoices SET status = 'Cancelled' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	err := c.AddInvoicePayment(t.Context(), whmcs.AddInvoicePaymentRequest{InvoiceID: 1, TransID: "T-1", Gateway: "paypal"})
	wantAPIError(t, err, "It is not possible to add a payment to an invoice that is Cancelled")
	if _, err := sb.DB().Exec("UPDATE tblinvoices SET status = 'Paid' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	// No transid and an unknown gateway: WHMCS documents no error for either.
	if err := c.AddInvoicePayment(t.Context(), whmcs.AddInvoicePaymentRequest{InvoiceID: 1, Gateway: "cash",
		Amount: ptr(10.0)}); err != nil {
		t.Fatalf("payment to a Paid invoice: %v", err)
	}
	var n int
	sb.DB().QueryRow("SELECT COUNT(*) FROM tblaccounts WHERE invoiceid = 1 AND gateway = 'cash' AND amountin = 10").Scan(&n)
	if n != 1 || sb.Writes() != 1 {
		t.Errorf("%d payments recorded, Writes() = %d; want 1 and 1", n, sb.Writes())
	}
	err = c.AddInvoicePayment(t.Context(), whmcs.AddInvoicePaymentRequest{InvoiceID: 99, TransID: "T-2", Gateway: "paypal"})
	wantAPIError(t, err, "Invoice ID Not Found")
}

// TestClientUpgradeFromFreeProduct: from a free product to a paid one the
// next due date becomes one billing cycle after the upgrade (WHMCS's
// upgrades documentation), once the upgrade invoice is paid.
func TestClientUpgradeFromFreeProduct(t *testing.T) {
	for _, tc := range []struct {
		cycle, price, due string
	}{
		{"monthly", "$29.95 USD", "2026-12-22"},
		{"annually", "$323.40 USD", "2027-11-22"},
	} {
		t.Run(tc.cycle, func(t *testing.T) {
			sb, c := serve(t, sandbox.Options{})
			// Service 3 on a free product of its own, with no next due date.
			for _, q := range []string{
				`INSERT INTO tblproducts (id, type, gid, name, paytype, servertype, sortorder)
					VALUES (9, 'hostingaccount', 1, 'Free Trial', 'free', 'cpanel', 9)`,
				`UPDATE tblhosting SET packageid = 9, billingcycle = 'Free Account', amount = 0,
					nextduedate = '0000-00-00', nextinvoicedate = '0000-00-00' WHERE id = 3`,
			} {
				if _, err := sb.DB().Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			done, err := c.UpgradeProduct(t.Context(), whmcs.UpgradeProductRequest{ServiceID: 3, PaymentMethod: "paypal",
				Type: "product", NewProductID: ptr(4), NewProductBillingCycle: ptr(tc.cycle)})
			if err != nil || done.Price != whmcs.String(tc.price) || done.InvoiceID == 0 {
				t.Fatalf("upgrade: %+v, %v", done, err)
			}
			if s := service(t, c, 3); !s.NextDueDate.IsZero() || s.PID != 9 {
				t.Fatalf("before payment: %+v", s)
			}
			if err := c.AddInvoicePayment(t.Context(), whmcs.AddInvoicePaymentRequest{InvoiceID: int(done.InvoiceID),
				TransID: "TX-free", Gateway: "paypal"}); err != nil {
				t.Fatal(err)
			}
			s := service(t, c, 3)
			if s.PID != 4 || s.NextDueDate != whmcs.Date(tc.due) {
				t.Errorf("after payment: pid %d, next due %s; want 4, %s", s.PID, s.NextDueDate, tc.due)
			}
			var nextInvoice string
			sb.DB().QueryRow("SELECT nextinvoicedate FROM tblhosting WHERE id = 3").Scan(&nextInvoice)
			if nextInvoice != tc.due {
				t.Errorf("next invoice date %s, want %s", nextInvoice, tc.due)
			}
		})
	}

	// A paid product's upgrade keeps the next due date (service 7, due in 5 days).
	_, c := serve(t, sandbox.Options{})
	before := service(t, c, 7).NextDueDate
	if _, err := c.UpgradeProduct(t.Context(), whmcs.UpgradeProductRequest{ServiceID: 7, PaymentMethod: "paypal",
		Type: "product", NewProductID: ptr(2), NewProductBillingCycle: ptr("monthly")}); err != nil {
		t.Fatal(err)
	}
	if after := service(t, c, 7); after.PID != 2 || after.NextDueDate != before {
		t.Errorf("a paid service's downgrade: pid %d, next due %s -> %s", after.PID, before, after.NextDueDate)
	}
}

// TestClientGetProducts: the catalog in the reference's shapes (numeric ids,
// type codes) decodes through the client.
func TestClientGetProducts(t *testing.T) {
	_, c := serve(t, sandbox.Options{})
	resp, err := c.GetProducts(t.Context(), whmcs.GetProductsRequest{GID: ptr(2)})
	if err != nil || resp.TotalResults != 3 || len(resp.Products) != 3 {
		t.Fatalf("GetProducts gid 2: %+v, %v", resp, err)
	}
	small := resp.Products[0]
	if small.PID != 5 || small.GID != 2 || small.Name != "VPS Small" || small.Pricing["USD"].Monthly != 19.99 {
		t.Errorf("VPS Small = %+v", small)
	}
	var got []string
	for _, o := range small.ConfigOptions {
		got = append(got, fmt.Sprintf("%d:%s:%d", o.ID, o.Type, len(o.Options)))
	}
	if strings.Join(got, ",") != "2:1:3,3:4:1,4:3:1,5:2:3" {
		t.Errorf("config options id:type:choices = %v", got)
	}
	if mem := small.ConfigOptions[0].Options[2]; mem.ID != 5 || mem.Name != "4 GB" || mem.Pricing["USD"].Monthly != 15 {
		t.Errorf("4 GB choice = %+v", mem)
	}
	if len(small.CustomFields) != 1 || small.CustomFields[0].ID != 2 {
		t.Errorf("custom fields = %+v", small.CustomFields)
	}
}

// TestClientGetClientsAddons: the reference example's shapes (totalresults a
// string, "" for unset filters, qty and paymentmethodname on each addon)
// decode through the client.
func TestClientGetClientsAddons(t *testing.T) {
	_, c := serve(t, sandbox.Options{})
	resp, err := c.GetClientsAddons(t.Context(), whmcs.GetClientsAddonsRequest{ClientID: ptr(4)})
	if err != nil || resp.TotalResults != 3 || len(resp.Addons) != 3 {
		t.Fatalf("client 4: %+v, %v", resp, err)
	}
	if a := resp.Addons[1]; a.ID != 9 || a.ServiceID != 10 || a.Name != "Wildcard SSL" || a.PaymentMethod != "paypal" {
		t.Errorf("addon 9 = %+v", a)
	}
	none, err := c.GetClientsAddons(t.Context(), whmcs.GetClientsAddonsRequest{ServiceID: ptr(12)})
	if err != nil || none.TotalResults != 0 || len(none.Addons) != 0 {
		t.Errorf("service 12: %+v, %v", none, err)
	}
}

// TestClientAccessControl: the client's access key lets it in from an
// address that is not allowed; from an allowed address it needs none.
func TestClientAccessControl(t *testing.T) {
	_, url := sandboxtest.Serve(t, sandbox.Options{AllowIPs: []string{"192.0.2.1"}, AccessKey: "the-access-key"})
	withKey, err := whmcs.New(whmcs.Config{URL: url, Identifier: sandbox.DefaultIdentifier, Secret: sandbox.DefaultSecret,
		AccessKey: "the-access-key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withKey.GetPaymentMethods(t.Context()); err != nil {
		t.Errorf("with the access key: %v", err)
	}
	_, err = sandboxtest.Client(t, url).GetPaymentMethods(t.Context())
	wantAPIError(t, err, "Invalid IP 127.0.0.1")
	if !errors.Is(err, whmcs.ErrIPNotAllowed) {
		t.Errorf("err %v is not ErrIPNotAllowed", err)
	}

	_, url = sandboxtest.Serve(t, sandbox.Options{AllowIPs: []string{"127.0.0.1"}, AccessKey: "the-access-key"})
	if _, err := sandboxtest.Client(t, url).GetPaymentMethods(t.Context()); err != nil {
		t.Errorf("from an allowed address without the key: %v", err)
	}
}
