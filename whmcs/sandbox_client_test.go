package whmcs_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/whmcs-mcp/whmcs-mcp/whmcs"
	"github.com/whmcs-mcp/whmcs-mcp/whmcs/sandbox"
)

// today is the sandbox's fixed clock in these tests. Service 3 (client 2,
// Pro, Monthly 29.95) is then due 13 days later, on 2026-12-05.
var today = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// env is a sandbox WHMCS served over HTTP on 127.0.0.1 and a client for it.
type env struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
	c   *whmcs.Client
}

func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	if opts.Now == nil {
		opts.Now = sandbox.FixedClock(today)
	}
	sb, err := sandbox.Open(opts)
	if err != nil {
		t.Fatalf("sandbox.Open: %v", err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		if err := sb.Close(); err != nil {
			t.Errorf("sandbox Close: %v", err)
		}
	})
	c, err := whmcs.New(whmcs.Config{URL: srv.URL, Identifier: sandbox.DefaultIdentifier, Secret: sandbox.DefaultSecret,
		AccessKey: opts.AccessKey, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("whmcs.New: %v", err)
	}
	return &env{sb: sb, srv: srv, c: c}
}

func ptr[T any](v T) *T { return &v }

// service reads one service back through the client.
func (e *env) service(t *testing.T, id int) whmcs.ClientProduct {
	t.Helper()
	resp, err := e.c.GetClientsProducts(t.Context(), whmcs.GetClientsProductsRequest{ServiceID: ptr(id)})
	if err != nil {
		t.Fatalf("GetClientsProducts(serviceid %d): %v", id, err)
	}
	if len(resp.Products) != 1 {
		t.Fatalf("GetClientsProducts(serviceid %d) returned %d services", id, len(resp.Products))
	}
	return resp.Products[0]
}

// wantAPIError checks that err is WHMCS's error reply with message msg.
func wantAPIError(t *testing.T, err error, msg string) *whmcs.APIError {
	t.Helper()
	var ae *whmcs.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %T %v, want *whmcs.APIError %q", err, err, msg)
	}
	if err.Error() != msg || ae.Message != msg {
		t.Errorf("error message = %q, want %q", err.Error(), msg)
	}
	return ae
}

func TestSandboxGetClientsProductsIsTheDocsExample(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	got, err := e.c.GetClientsProducts(t.Context(), whmcs.GetClientsProductsRequest{ClientID: ptr(1)})
	if err != nil {
		t.Fatalf("GetClientsProducts: %v", err)
	}
	var want whmcs.GetClientsProductsResponse
	if err := json.Unmarshal([]byte(whmcs.DocsGetClientsProductsReply), &want); err != nil {
		t.Fatal(err)
	}
	if len(got.Products) != 2 {
		t.Fatalf("client 1 has %d services, want 2", len(got.Products))
	}
	if got.TotalResults != want.TotalResults || got.StartNumber != want.StartNumber || got.NumReturned != want.NumReturned {
		t.Errorf("totals %d/%d/%d, want %d/%d/%d", got.TotalResults, got.StartNumber, got.NumReturned,
			want.TotalResults, want.StartNumber, want.NumReturned)
	}
	for i := range want.Products {
		if !reflect.DeepEqual(got.Products[i], want.Products[i]) {
			g, _ := json.Marshal(got.Products[i])
			w, _ := json.Marshal(want.Products[i])
			t.Errorf("service %d:\n got  %s\n want %s", i+1, g, w)
		}
	}
	// The compact encodings agree too (what a model would see).
	g, _ := json.Marshal(got.Products)
	w, _ := json.Marshal(want.Products)
	if string(g) != string(w) {
		t.Errorf("compact encodings differ:\n got  %s\n want %s", g, w)
	}
}

func TestSandboxGetClientsProductsPaging(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	all, err := e.c.GetClientsProducts(t.Context(), whmcs.GetClientsProductsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if all.TotalResults < 12 || int(all.NumReturned) != len(all.Products) {
		t.Fatalf("all services: total %d, returned %d (%d)", all.TotalResults, all.NumReturned, len(all.Products))
	}
	page, err := e.c.GetClientsProducts(t.Context(), whmcs.GetClientsProductsRequest{LimitStart: ptr(2), LimitNum: ptr(3)})
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalResults != all.TotalResults || page.StartNumber != 2 || page.NumReturned != 3 || len(page.Products) != 3 {
		t.Fatalf("page: %+v", page)
	}
	for i, p := range page.Products {
		if p.ID != all.Products[2+i].ID {
			t.Errorf("page item %d is service %d, want %d", i, p.ID, all.Products[2+i].ID)
		}
	}
	none, err := e.c.GetClientsProducts(t.Context(), whmcs.GetClientsProductsRequest{ClientID: ptr(999)})
	if err != nil || len(none.Products) != 0 || none.TotalResults != 0 {
		t.Errorf("unknown client: %+v, %v", none, err)
	}
}

func TestSandboxGetProducts(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	resp, err := e.c.GetProducts(t.Context(), whmcs.GetProductsRequest{})
	if err != nil {
		t.Fatalf("GetProducts: %v", err)
	}
	if resp.TotalResults != 8 || len(resp.Products) != 8 {
		t.Fatalf("got %d (%d) products, want 8", len(resp.Products), resp.TotalResults)
	}
	byID := map[whmcs.Int]whmcs.Product{}
	for _, p := range resp.Products {
		byID[p.PID] = p
	}
	starter := byID[1]
	if starter.Name != "Starter" || starter.GID != 1 || starter.Module != "cpanel" || starter.PayType != "recurring" {
		t.Errorf("Starter = %+v", starter)
	}
	usd, ok := starter.Pricing["USD"]
	if !ok || usd.Prefix != "$" || usd.Suffix != " USD" || usd.Triennially != -1 {
		t.Fatalf("Starter USD pricing = %+v", starter.Pricing)
	}
	wantCycles := []whmcs.CyclePrice{
		{Cycle: "monthly", Price: 12.95}, {Cycle: "quarterly", Price: 36.95}, {Cycle: "semiannually", Price: 69.95},
		{Cycle: "annually", Price: 129.5}, {Cycle: "biennially", Price: 239},
	}
	if got := usd.Cycles(); !reflect.DeepEqual(got, wantCycles) {
		t.Errorf("Starter cycles = %+v, want %+v", got, wantCycles)
	}
	if got := byID[4].Pricing["USD"].Cycles(); len(got) != 4 || got[3].Cycle != "annually" || got[0].Price != 29.95 {
		t.Errorf("Pro cycles = %+v", got)
	}
	plus := byID[3]
	if len(plus.ConfigOptions) != 1 || plus.ConfigOptions[0].Name != "Sample Config Option" || len(plus.ConfigOptions[0].Options) != 2 {
		t.Errorf("Plus config options = %+v", plus.ConfigOptions)
	}
	if len(byID[7].CustomFields) != 2 || byID[7].CustomFields[0].Name != "Hostname" {
		t.Errorf("VPS Large custom fields = %+v", byID[7].CustomFields)
	}

	one, err := e.c.GetProducts(t.Context(), whmcs.GetProductsRequest{PID: ptr(4)})
	if err != nil || len(one.Products) != 1 || one.Products[0].Name != "Pro" {
		t.Errorf("pid 4: %+v, %v", one, err)
	}
	vps, err := e.c.GetProducts(t.Context(), whmcs.GetProductsRequest{GID: ptr(2)})
	if err != nil || len(vps.Products) != 3 {
		t.Errorf("gid 2: %+v, %v", vps, err)
	}
	none, err := e.c.GetProducts(t.Context(), whmcs.GetProductsRequest{PID: ptr(999)})
	if err != nil || len(none.Products) != 0 {
		t.Errorf("pid 999: %+v, %v", none, err)
	}
}

func TestSandboxGetClientsAddons(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	resp, err := e.c.GetClientsAddons(t.Context(), whmcs.GetClientsAddonsRequest{ClientID: ptr(1)})
	if err != nil {
		t.Fatalf("GetClientsAddons: %v", err)
	}
	if len(resp.Addons) != 2 || resp.TotalResults != 2 {
		t.Fatalf("client 1 addons = %+v", resp)
	}
	ssl := resp.Addons[0]
	if ssl.ID != 1 || ssl.ServiceID != 2 || ssl.AddonID != 1 || ssl.Name != "SSL Certificate" || ssl.Recurring != 4.99 ||
		ssl.Status != "Active" || ssl.BillingCycle != "Monthly" || ssl.NextDueDate != "2017-01-20" || ssl.PaymentMethod != "paypal" {
		t.Errorf("addon 1 = %+v", ssl)
	}
	bySvc, err := e.c.GetClientsAddons(t.Context(), whmcs.GetClientsAddonsRequest{ServiceID: ptr(9)})
	if err != nil || len(bySvc.Addons) != 2 {
		t.Fatalf("service 9 addons = %+v, %v", bySvc, err)
	}
	for _, a := range bySvc.Addons {
		if a.ServiceID != 9 || a.UserID != 4 {
			t.Errorf("service 9 addon = %+v", a)
		}
	}
	none, err := e.c.GetClientsAddons(t.Context(), whmcs.GetClientsAddonsRequest{ClientID: ptr(999)})
	if err != nil || len(none.Addons) != 0 {
		t.Errorf("client 999: %+v, %v", none, err)
	}
}

func TestSandboxGetPaymentMethods(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	resp, err := e.c.GetPaymentMethods(t.Context())
	if err != nil {
		t.Fatalf("GetPaymentMethods: %v", err)
	}
	want := whmcs.Wrapped[whmcs.PaymentMethod]{{Module: "paypal", DisplayName: "PayPal"}, {Module: "authorize", DisplayName: "Credit Card"}}
	if resp.TotalResults != 2 || !reflect.DeepEqual(resp.PaymentMethods, want) {
		t.Errorf("got %+v", resp)
	}
}

func TestSandboxUpdateClientProduct(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	before := e.service(t, 3)
	if before.Status != "Active" || before.Domain != "smithwebdesign.example" {
		t.Fatalf("service 3 before = %+v", before)
	}
	resp, err := e.c.UpdateClientProduct(t.Context(), whmcs.UpdateClientProductRequest{
		ServiceID:    3,
		Status:       ptr("Suspended"),
		Notes:        ptr("Suspended on request; call before lifting"),
		NextDueDate:  "2026-12-10",
		CustomFields: whmcs.PHPArray{"1": "Yahoo"},
	})
	if err != nil {
		t.Fatalf("UpdateClientProduct: %v", err)
	}
	if resp.ServiceID != 3 {
		t.Errorf("serviceid = %d", resp.ServiceID)
	}
	if n := e.sb.Writes(); n != 1 {
		t.Errorf("Writes() = %d, want 1", n)
	}
	after := e.service(t, 3)
	if after.Status != "Suspended" || after.Notes != "Suspended on request; call before lifting" || after.NextDueDate != "2026-12-10" {
		t.Errorf("service 3 after = %+v", after)
	}
	if len(after.CustomFields) != 1 || after.CustomFields[0].ID != 1 || after.CustomFields[0].Value != "Yahoo" {
		t.Errorf("custom fields = %+v", after.CustomFields)
	}

	// unset[] clears fields; the others stay.
	if _, err := e.c.UpdateClientProduct(t.Context(), whmcs.UpdateClientProductRequest{ServiceID: 3,
		Unset: []string{"domain", "notes"}}); err != nil {
		t.Fatalf("unset: %v", err)
	}
	after = e.service(t, 3)
	if after.Domain != "" || after.Notes != "" || after.Status != "Suspended" || after.Username != "smithweb" {
		t.Errorf("after unset = %+v", after)
	}

	// configoptions in both documented forms: a choice id, and array(optionid, qty).
	if _, err := e.c.UpdateClientProduct(t.Context(), whmcs.UpdateClientProductRequest{ServiceID: 4,
		ConfigOptions: whmcs.PHPArray{"2": 5, "3": map[string]any{"optionid": 6, "qty": 3}}}); err != nil {
		t.Fatalf("configoptions: %v", err)
	}
	vps := e.service(t, 4)
	values := map[whmcs.Int]whmcs.String{}
	for _, o := range vps.ConfigOptions {
		values[o.ID] = o.Value
	}
	if values[2] != "4 GB" || values[3] != "3" {
		t.Errorf("config options = %+v", vps.ConfigOptions)
	}

	// Numbers in a PHPArray decoded from JSON arguments (float64) work alike.
	var req whmcs.UpdateClientProductRequest
	if err := json.Unmarshal([]byte(`{"serviceid":4,"configoptions":{"3":{"optionid":6,"qty":1}},"diskusage":0}`), &req); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.UpdateClientProduct(t.Context(), req); err != nil {
		t.Fatalf("configoptions from JSON: %v", err)
	}
	vps = e.service(t, 4)
	for _, o := range vps.ConfigOptions {
		if o.ID == 3 && o.Value != "1" {
			t.Errorf("option 3 = %q, want 1", o.Value)
		}
	}
	if vps.DiskUsage != 0 || vps.LastUpdate.IsZero() {
		t.Errorf("diskusage 0 was not applied: %+v", vps)
	}
}

func TestSandboxUpdateClientProductErrors(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	_, err := e.c.UpdateClientProduct(t.Context(), whmcs.UpdateClientProductRequest{ServiceID: 999, Status: ptr("Active")})
	ae := wantAPIError(t, err, "Service ID Not Found")
	if ae.Action != "UpdateClientProduct" || errors.Is(err, whmcs.ErrOutcomeUnknown) {
		t.Errorf("err = %+v", ae)
	}
	if n := e.sb.Writes(); n != 0 {
		t.Errorf("Writes() = %d after errors, want 0", n)
	}
}

func TestSandboxUpdateClientAddon(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	resp, err := e.c.UpdateClientAddon(t.Context(), whmcs.UpdateClientAddonRequest{ID: 3, Status: ptr("Suspended"),
		Notes: ptr("paused"), Recurring: ptr(3.25)})
	if err != nil {
		t.Fatalf("UpdateClientAddon: %v", err)
	}
	if resp.ID != 3 {
		t.Errorf("id = %d", resp.ID)
	}
	got, err := e.c.GetClientsAddons(t.Context(), whmcs.GetClientsAddonsRequest{ServiceID: ptr(3)})
	if err != nil || len(got.Addons) != 1 {
		t.Fatalf("read back: %+v, %v", got, err)
	}
	a := got.Addons[0]
	if a.ID != 3 || a.Status != "Suspended" || a.Notes != "paused" || a.Recurring != 3.25 {
		t.Errorf("addon 3 = %+v", a)
	}
	if n := e.sb.Writes(); n != 1 {
		t.Errorf("Writes() = %d, want 1", n)
	}

	_, err = e.c.UpdateClientAddon(t.Context(), whmcs.UpdateClientAddonRequest{ID: 999, Status: ptr("Active")})
	wantAPIError(t, err, "Addon ID Not Found")
	_, err = e.c.UpdateClientAddon(t.Context(), whmcs.UpdateClientAddonRequest{ID: 3})
	wantAPIError(t, err, "Nothing to Update")
	// autorecalc false is not sent, so it is nothing to update either.
	_, err = e.c.UpdateClientAddon(t.Context(), whmcs.UpdateClientAddonRequest{ID: 3, AutoRecalc: ptr(false)})
	wantAPIError(t, err, "Nothing to Update")
	if n := e.sb.Writes(); n != 1 {
		t.Errorf("Writes() = %d after errors, want still 1", n)
	}
}

// downgrade is the UpgradeProduct example of the WHMCS reference, reproduced
// by the sandbox's service 3: Pro (29.95) to Lite (9.95), 13 of 30 days left.
func downgrade(calconly bool) whmcs.UpgradeProductRequest {
	return whmcs.UpgradeProductRequest{ServiceID: 3, CalcOnly: calconly, PaymentMethod: "paypal", Type: "product",
		NewProductID: ptr(2), NewProductBillingCycle: ptr("monthly")}
}

func TestSandboxUpgradeProductDocsExample(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	quote, err := e.c.UpgradeProduct(t.Context(), downgrade(true))
	if err != nil {
		t.Fatalf("calconly: %v", err)
	}
	if quote.OldProductID != 4 || quote.OldProductName != "Pro" || quote.NewProductID != 2 || quote.NewProductName != "Lite" ||
		quote.DaysUntilRenewal != 13 || quote.TotalDays != 30 || quote.NewProductBillingCycle != "monthly" ||
		quote.Price != "$-8.67 USD" || bool(quote.UpgradeInProgress) {
		t.Errorf("quote = %+v", quote)
	}
	if amount, err := quote.Amount(); err != nil || amount != -8.67 {
		t.Errorf("Amount() = %v, %v", amount, err)
	}
	if quote.ID != 0 || quote.OrderID != 0 {
		t.Errorf("a quote has an order: %+v", quote)
	}
	if n := e.sb.Writes(); n != 0 {
		t.Errorf("calconly wrote: Writes() = %d", n)
	}
	if svc := e.service(t, 3); svc.PID != 4 || svc.RecurringAmount != 29.95 {
		t.Errorf("calconly changed the service: %+v", svc)
	}

	// The real downgrade: nothing is due, so it applies at once without an invoice.
	done, err := e.c.UpgradeProduct(t.Context(), downgrade(false))
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if done.Price != "$-8.67 USD" || done.DaysUntilRenewal != 13 || done.TotalDays != 30 || done.ID == 0 ||
		done.OrderID == 0 || done.OrderNumber == "" || done.InvoiceID != 0 {
		t.Errorf("upgrade = %+v", done)
	}
	if n := e.sb.Writes(); n != 1 {
		t.Errorf("Writes() = %d, want 1", n)
	}
	svc := e.service(t, 3)
	if svc.PID != 2 || svc.Name != "Lite" || svc.RecurringAmount != 9.95 || svc.BillingCycle != "Monthly" {
		t.Errorf("service 3 after the downgrade = %+v", svc)
	}
}

func TestSandboxUpgradeWithInvoiceAndPayment(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	up := whmcs.UpgradeProductRequest{ServiceID: 3, PaymentMethod: "paypal", Type: "product",
		NewProductID: ptr(6), NewProductBillingCycle: ptr("monthly")} // Pro 29.95 -> VPS Medium 39.99
	quote := up
	quote.CalcOnly = true
	q, err := e.c.UpgradeProduct(t.Context(), quote)
	if err != nil {
		t.Fatalf("calconly: %v", err)
	}
	if q.Price != "$4.35 USD" { // (39.99 - 29.95) / 30 x 13 = 4.3507
		t.Errorf("quote price = %q, want $4.35 USD", q.Price)
	}
	done, err := e.c.UpgradeProduct(t.Context(), up)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if done.InvoiceID == 0 || done.Price != "$4.35 USD" {
		t.Fatalf("upgrade = %+v, want an invoice", done)
	}
	// Until the invoice is paid the service is unchanged, a second upgrade
	// is refused and a quote says an upgrade is in progress.
	if svc := e.service(t, 3); svc.PID != 4 {
		t.Errorf("service changed before payment: %+v", svc)
	}
	_, err = e.c.UpgradeProduct(t.Context(), up)
	wantAPIError(t, err, "Unable to accept upgrade order. Previous upgrade invoice for service is still unpaid.")
	q, err = e.c.UpgradeProduct(t.Context(), quote)
	if err != nil || !bool(q.UpgradeInProgress) {
		t.Errorf("quote while unpaid: %+v, %v", q, err)
	}
	writes := e.sb.Writes()

	amount, err := done.Amount()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.AddInvoicePayment(t.Context(), whmcs.AddInvoicePaymentRequest{InvoiceID: int(done.InvoiceID),
		TransID: "TX-1001", Gateway: "paypal", Amount: &amount}); err != nil {
		t.Fatalf("AddInvoicePayment: %v", err)
	}
	if n := e.sb.Writes(); n != writes+1 {
		t.Errorf("Writes() = %d, want %d", n, writes+1)
	}
	svc := e.service(t, 3)
	if svc.PID != 6 || svc.Name != "VPS Medium" || svc.RecurringAmount != 39.99 {
		t.Errorf("service 3 after payment = %+v", svc)
	}
	q, err = e.c.UpgradeProduct(t.Context(), whmcs.UpgradeProductRequest{ServiceID: 3, CalcOnly: true, PaymentMethod: "paypal",
		Type: "product", NewProductID: ptr(7)})
	if err != nil || bool(q.UpgradeInProgress) {
		t.Errorf("quote after payment: %+v, %v", q, err)
	}
}

func TestSandboxUpgradeConfigOptions(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	// Service 7 (VPS Small, Monthly, due in 5 days): Memory 1 GB -> 4 GB (+15.00 a month).
	q, err := e.c.UpgradeProduct(t.Context(), whmcs.UpgradeProductRequest{ServiceID: 7, CalcOnly: true, PaymentMethod: "paypal",
		Type: "configoptions", ConfigOptions: whmcs.FormArray{"2": 5}})
	if err != nil {
		t.Fatalf("calconly: %v", err)
	}
	if q.DaysUntilRenewal != 5 || q.TotalDays != 30 || q.Price != "$2.50 USD" { // 15.00 / 30 x 5
		t.Errorf("quote = %+v", q)
	}
}

func TestSandboxUpgradeProductErrors(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	for _, tc := range []struct {
		name string
		req  whmcs.UpgradeProductRequest
		msg  string
	}{
		{"service", whmcs.UpgradeProductRequest{ServiceID: 999, CalcOnly: true, PaymentMethod: "paypal", Type: "product", NewProductID: ptr(2)},
			"Service ID Not Found"},
		{"type", whmcs.UpgradeProductRequest{ServiceID: 3, CalcOnly: true, PaymentMethod: "paypal", Type: "domain", NewProductID: ptr(2)},
			"Invalid Upgrade Type"},
		{"payment method", whmcs.UpgradeProductRequest{ServiceID: 3, PaymentMethod: "bitcoin", Type: "product", NewProductID: ptr(2)},
			"Invalid Payment Method. Valid options include paypal,authorize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.UpgradeProduct(t.Context(), tc.req)
			ae := wantAPIError(t, err, tc.msg)
			if ae.Action != "UpgradeProduct" || errors.Is(err, whmcs.ErrOutcomeUnknown) {
				t.Errorf("err = %+v", ae)
			}
		})
	}
	if n := e.sb.Writes(); n != 0 {
		t.Errorf("Writes() = %d after errors, want 0", n)
	}
}

func TestSandboxAuthenticationFailed(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	c, err := whmcs.New(whmcs.Config{URL: e.srv.URL, Identifier: sandbox.DefaultIdentifier, Secret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetClientsProducts(t.Context(), whmcs.GetClientsProductsRequest{ClientID: ptr(1)})
	wantAPIError(t, err, "Authentication Failed")
	if !errors.Is(err, whmcs.ErrAuthentication) || errors.Is(err, whmcs.ErrIPNotAllowed) {
		t.Errorf("errors.Is(err, ErrAuthentication) = false for %v", err)
	}
	_, err = c.UpdateClientProduct(t.Context(), whmcs.UpdateClientProductRequest{ServiceID: 1, Status: ptr("Active")})
	if !errors.Is(err, whmcs.ErrAuthentication) || errors.Is(err, whmcs.ErrOutcomeUnknown) {
		t.Errorf("write: %v", err)
	}
	if n := e.sb.Writes(); n != 0 {
		t.Errorf("Writes() = %d", n)
	}
}

func TestSandboxAccessKey(t *testing.T) {
	e := newEnv(t, sandbox.Options{AccessKey: "the-access-key"})
	if _, err := e.c.GetPaymentMethods(t.Context()); err != nil {
		t.Fatalf("with the access key: %v", err)
	}
	c, err := whmcs.New(whmcs.Config{URL: e.srv.URL, Identifier: sandbox.DefaultIdentifier, Secret: sandbox.DefaultSecret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPaymentMethods(t.Context())
	ae := wantAPIError(t, err, "Invalid IP 127.0.0.1")
	if !errors.Is(err, whmcs.ErrIPNotAllowed) || ae.IP() != "127.0.0.1" {
		t.Errorf("err %v: Is(ErrIPNotAllowed) %v, IP %q", err, errors.Is(err, whmcs.ErrIPNotAllowed), ae.IP())
	}
}

func TestSandboxCommandNotFound(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	form := url.Values{"action": {"GetClientsProductz"}, "identifier": {sandbox.DefaultIdentifier},
		"secret": {sandbox.DefaultSecret}, "responsetype": {"json"}}
	resp, err := http.PostForm(e.c.URL(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var reply struct{ Result, Message string }
	if err := json.Unmarshal(body, &reply); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	if reply.Result != "error" || reply.Message != "Command Not Found" {
		t.Errorf("reply = %s", body)
	}
	// Action names are case-insensitive.
	form.Set("action", "getpaymentmethods")
	resp2, err := http.PostForm(e.c.URL(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	body, _ = io.ReadAll(resp2.Body)
	if !strings.Contains(string(body), `"result":"success"`) {
		t.Errorf("lower-case action: %s", body)
	}
}
