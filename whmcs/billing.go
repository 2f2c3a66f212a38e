package whmcs

import "context"

// GetPaymentMethodsResponse lists the active payment gateways.
type GetPaymentMethodsResponse struct {
	TotalResults   Int                    `json:"totalresults"`
	PaymentMethods Wrapped[PaymentMethod] `json:"paymentmethods"`
}

// PaymentMethod is an active payment gateway.
type PaymentMethod struct {
	Module      String `json:"module" jsonschema_description:"Gateway module name: the value paymentmethod arguments take."`
	DisplayName String `json:"displayname,omitzero" jsonschema_description:"Name shown to clients."`
}

// GetPaymentMethods lists the active payment gateways.
func (c *Client) GetPaymentMethods(ctx context.Context) (*GetPaymentMethodsResponse, error) {
	var resp GetPaymentMethodsResponse
	if err := c.call(ctx, "GetPaymentMethods", nil, read, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// AddInvoicePaymentRequest records a payment against an invoice.
type AddInvoicePaymentRequest struct {
	InvoiceID int      `json:"invoiceid" jsonschema:"required,minimum=1" jsonschema_description:"Invoice id."`
	TransID   string   `json:"transid" jsonschema:"required" jsonschema_description:"Gateway transaction id."`
	Gateway   string   `json:"gateway" jsonschema:"required" jsonschema_description:"Gateway module name."`
	Date      string   `json:"date,omitempty" jsonschema_description:"Payment date and time (Y-m-d H:i:s); default now."`
	Amount    *float64 `json:"amount,omitempty" jsonschema:"minimum=0" jsonschema_description:"Amount paid; default the invoice balance."`
	Fees      *float64 `json:"fees,omitempty" jsonschema:"minimum=0" jsonschema_description:"Gateway fees."`
	NoEmail   bool     `json:"noemail,omitempty" jsonschema_description:"Do not send the payment confirmation email."`
}

// AddInvoicePayment records a payment. It is a write: never retried.
func (c *Client) AddInvoicePayment(ctx context.Context, req AddInvoicePaymentRequest) error {
	return c.send(ctx, "AddInvoicePayment", &req, write, nil)
}
