package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzServeHTTP posts arbitrary bodies, with arbitrary content types, to the
// sandbox, which keeps its data from one input to the next (as a long-lived
// WHMCS does). It must never panic, must always answer WHMCS JSON (an object
// whose result is success or error) as application/json, and must never
// fail internally (HTTP 500): bad input is stored as WHMCS would store it,
// or gets WHMCS's own error message.
func FuzzServeHTTP(f *testing.F) {
	const form = "application/x-www-form-urlencoded"
	const creds = "identifier=" + DefaultIdentifier + "&secret=" + DefaultSecret + "&responsetype=json&"
	for _, body := range []string{
		"action=GetClientsProducts&clientid=1",
		"action=getclientsproducts&serviceid=2&limitstart=0&limitnum=1",
		"action=GetClientsProducts&domain=demodomain.com&username2=x&pid=1",
		"action=GetProducts&pid=1,2&gid=1&module=cpanel",
		"action=GetClientsAddons&serviceid=1&clientid=1&addonid=1",
		"action=GetPaymentMethods",
		"action=UpdateClientProduct&serviceid=2&status=Suspended&nextduedate=2026-12-01&recurringamount=9.95&notes=x&autorecalc=1",
		"action=UpdateClientProduct&serviceid=2&customfields=YToxOntpOjE7czo1OiJZYWhvbyI7fQ%3D%3D&configoptions=YToxOntpOjQ7aToyO30%3D&unset[]=ns1&unset[]=domain",
		"action=UpdateClientProduct&serviceid=2&overideautosuspend=on&overidesuspenduntil=2027-01-01&terminationdate=0000-00-00&pid=2&billingcycle=Annually",
		"action=UpdateClientAddon&id=1&status=Suspended&name=x&setupfee=1&recurring=2.5&billingcycle=monthly&nextduedate=2026-12-24&notes=y",
		"action=UpgradeProduct&serviceid=3&calconly=1&paymentmethod=paypal&type=product&newproductid=2&newproductbillingcycle=monthly",
		"action=UpgradeProduct&serviceid=3&paymentmethod=paypal&type=product&newproductid=2&newproductbillingcycle=monthly&promocode=X",
		"action=UpgradeProduct&serviceid=2&calconly=true&paymentmethod=paypal&type=configoptions&configoptions[1]=2&configoptions[2]=0",
		"action=AddInvoicePayment&invoiceid=1&transid=T1&amount=10&gateway=paypal&date=2026-11-22&fees=0.5&noemail=1",
		"action=NoSuchAction", "action=GetClientsProducts&clientid=-1&limitnum=99999999999999999999",
		"action=GetClientsAddons&serviceid=1,%202,x,-3",
		"action=UpdateClientProduct&serviceid=7&pid=99&serverid=-1&recurringamount=1e400&diskusage=99999999999999999999&nextduedate=2026-02-30&status=x&billingcycle=y&autorecalc=no",
		"action=UpgradeProduct&serviceid=3&paymentmethod=paypal&type=configoptions&configoptions[3]=-99999999999999999999&configoptions[2]=1e30&calconly=false",
		"action=AddInvoicePayment&invoiceid=1&amount=-1e400&fees=x&date=never",
	} {
		f.Add(form, []byte(creds+body))
	}
	f.Add(form, []byte("action=GetPaymentMethods&identifier=wrong&secret=wrong"))
	f.Add(form, []byte("action=GetPaymentMethods&username="+DefaultIdentifier+"&password="+DefaultSecret))
	f.Add(form, []byte("%zz=&;;&action"))
	f.Add("multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nGetPaymentMethods\r\n--X\r\nContent-Disposition: form-data; name=\"identifier\"\r\n\r\n"+DefaultIdentifier+"\r\n--X\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\n"+DefaultSecret+"\r\n--X--\r\n"))
	f.Add("multipart/form-data", []byte("--X\r\n"))
	f.Add("text/plain", []byte("action=GetPaymentMethods"))

	sb, err := Open(Options{Now: FixedClock(docsToday)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { sb.Close() })
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, APIPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var reply struct {
			Result  *string `json:"result"`
			Message string  `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || reply.Result == nil {
			t.Fatalf("HTTP %d, not WHMCS JSON: %v: %.300s", rec.Code, err, rec.Body.Bytes())
		}
		if *reply.Result != "success" && *reply.Result != "error" {
			t.Fatalf("result %q", *reply.Result)
		}
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("internal error for %q (%s): %s", body, contentType, reply.Message)
		}
	})
}
