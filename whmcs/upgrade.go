package whmcs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// UpgradeProductRequest upgrades (or, with CalcOnly, quotes an upgrade of) a service.
type UpgradeProductRequest struct {
	ServiceID              int       `json:"serviceid" jsonschema:"required,minimum=1" jsonschema_description:"Id of the service to upgrade."`
	CalcOnly               bool      `json:"calconly,omitempty" jsonschema_description:"Only quote the upgrade; nothing is ordered."`
	PaymentMethod          string    `json:"paymentmethod" jsonschema:"required" jsonschema_description:"Payment gateway module name for the upgrade invoice, e.g. paypal (see get_payment_methods)."`
	Type                   string    `json:"type" jsonschema:"required,enum=product,enum=configoptions" jsonschema_description:"What to upgrade: the product, or configurable options."`
	NewProductID           *int      `json:"newproductid,omitempty" jsonschema:"minimum=1" jsonschema_description:"New product id (type product; see get_products)."`
	NewProductBillingCycle *string   `json:"newproductbillingcycle,omitempty" jsonschema:"enum=free,enum=onetime,enum=monthly,enum=quarterly,enum=semiannually,enum=annually,enum=biennially,enum=triennially" jsonschema_description:"Billing cycle of the new product (type product)."`
	PromoCode              *string   `json:"promocode,omitempty" jsonschema_description:"Promotion code to apply."`
	ConfigOptions          FormArray `json:"configoptions,omitempty" jsonschema_description:"New configurable option values by option id (type configoptions), e.g. {\"4\": 2}."`
}

// UpgradeProductResponse is WHMCS's quote, and for a real upgrade the order.
type UpgradeProductResponse struct {
	OldProductID           Int    `json:"oldproductid,omitzero" jsonschema_description:"Current product id."`
	OldProductName         String `json:"oldproductname,omitzero" jsonschema_description:"Current product name."`
	NewProductID           Int    `json:"newproductid,omitzero" jsonschema_description:"New product id."`
	NewProductName         String `json:"newproductname,omitzero" jsonschema_description:"New product name."`
	DaysUntilRenewal       Int    `json:"daysuntilrenewal" jsonschema_description:"Days left until the service renews."`
	TotalDays              Int    `json:"totaldays" jsonschema_description:"Days in the billing cycle."`
	NewProductBillingCycle String `json:"newproductbillingcycle,omitzero" jsonschema_description:"New billing cycle."`
	Price                  String `json:"price" jsonschema_description:"Prorated price of the upgrade, formatted by WHMCS, e.g. $-8.67 USD."`
	UpgradeInProgress      Bool   `json:"upgradeinprogress,omitzero" jsonschema_description:"An earlier upgrade of this service is still in progress."`
	ID                     Int    `json:"id,omitzero" jsonschema_description:"Upgrade id (real upgrades only)."`
	OrderID                Int    `json:"orderid,omitzero" jsonschema_description:"Order id (real upgrades only)."`
	OrderNumber            String `json:"order_number,omitzero" jsonschema_description:"Order number (real upgrades only)."`
	InvoiceID              Int    `json:"invoiceid,omitzero" jsonschema_description:"Invoice id, when money is due (real upgrades only)."`
}

// Amount returns the numeric value of Price (see ParsePrice).
func (r *UpgradeProductResponse) Amount() (float64, error) {
	return ParsePrice(string(r.Price))
}

// ParsePrice returns the numeric value of a WHMCS formatted price such as
// "$-8.67 USD", "-$8.67" or "$1,200.00 USD": the first run of digits, commas
// and dots, negative when a minus sign comes before it. Commas are taken as
// thousands separators, except that a comma followed by exactly two final
// digits ("8,67 €") is taken as a decimal comma, and so is a comma after the
// last dot ("1.234,56", WHMCS's currency format 3, whose dots group thousands).
func ParsePrice(price string) (float64, error) {
	start := strings.IndexAny(price, "0123456789")
	if start < 0 {
		return 0, fmt.Errorf("price %q has no number", price)
	}
	end := start
	for end < len(price) && strings.IndexByte("0123456789.,", price[end]) >= 0 {
		end++
	}
	digits := strings.TrimRight(price[start:end], ".,")
	comma, dot := strings.LastIndexByte(digits, ','), strings.LastIndexByte(digits, '.')
	switch {
	case comma > dot && dot >= 0: // "1.234,56": dots group thousands, the comma is decimal
		digits = strings.ReplaceAll(digits[:comma], ".", "") + "." + digits[comma+1:]
	case comma >= 0 && dot < 0 && len(digits)-comma == 3: // "8,67"
		digits = digits[:comma] + "." + digits[comma+1:]
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(digits, ",", ""), 64)
	if err != nil {
		return 0, fmt.Errorf("price %q: %v", price, err)
	}
	if strings.Contains(price[:start], "-") {
		v = -v
	}
	return v, nil
}

// UpgradeProduct quotes (CalcOnly) or places an upgrade order. A real upgrade
// is a write: never retried.
func (c *Client) UpgradeProduct(ctx context.Context, req UpgradeProductRequest) (*UpgradeProductResponse, error) {
	k := write
	if req.CalcOnly {
		k = read
	}
	var resp UpgradeProductResponse
	if err := c.send(ctx, "UpgradeProduct", &req, k, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
